package sim

import (
	"context"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Live releases each user at start+At on the virtual clock (no late
// starts), ends at its duration or when ctx is cancelled, and never releases
// a user due after the end. Every request is answered 400, so each user
// sends one request (list the PPVs of its state) when released and gives up.
func TestLiveReleasesCrowdOnSchedule(t *testing.T) {
	t.Parallel()
	ats := []time.Duration{0, 30 * time.Millisecond, 30 * time.Millisecond, 700 * time.Millisecond, 1500 * time.Millisecond}
	crowd := make([]scenarios.Arrival, len(ats))
	for i, at := range ats {
		crowd[i] = scenarios.Arrival{Index: i, PersonID: fmt.Sprint("p", i), At: at, State: fmt.Sprint("s", i), Seed: uint64(i)}
	}
	for _, c := range []struct {
		name        string
		cancelAt    time.Duration // 0: never
		want        map[string]time.Duration
		end         time.Duration
		interrupted bool
	}{
		{"to the end", 0, map[string]time.Duration{"s0": 0, "s1": ats[1], "s2": ats[2], "s3": ats[3]}, time.Second, false},
		{"cancelled", 100 * time.Millisecond, map[string]time.Duration{"s0": 0, "s1": ats[1], "s2": ats[2]}, 100 * time.Millisecond, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			var mu sync.Mutex // guards first
			first := map[string]time.Duration{}
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				mu.Lock()
				defer mu.Unlock()
				s := r.URL.Query().Get("state")
				if _, seen := first[s]; !seen {
					first[s] = time.Since(start)
				}
				return &http.Response{StatusCode: http.StatusBadRequest, Body: http.NoBody, Request: r}, nil
			})
			client, err := NewClient("http://fake.test", rt, 0)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			var last Progress
			live := NewLive(client, scenarios.JourneySpec{}, time.Second, WithProgress(time.Hour, func(p Progress) { last = p }))
			run := live.Run(ctx, crowd)
			if !maps.Equal(first, c.want) {
				t.Errorf("%s: first requests at %v; want %v", c.name, first, c.want)
			}
			if got := run.End.Sub(run.Start); got != c.end || run.LateStarts != 0 || run.Interrupted != c.interrupted {
				t.Errorf("%s: run took %v with %d late starts, interrupted %v; want %v, 0, %v", c.name, got, run.LateStarts, run.Interrupted, c.end, c.interrupted)
			}
			if n := int64(len(c.want)); last.Arrived != n || last.Requests != n {
				t.Errorf("%s: last progress %+v; want %d arrived and %d requests", c.name, last, n, n)
			}
		})
	}
}

// apiFake is a booking API in virtual time (inside a synctest bubble): it
// lists no centres, one open slot for any centre, and books every booking
// (201). A request arriving at t takes took(t) from the start, or ends early
// with its context. It counts the requests it saw. Safe for concurrent use.
type apiFake struct {
	start time.Time
	took  func(at time.Duration) time.Duration
	seen  atomic.Int64
}

func (f *apiFake) RoundTrip(r *http.Request) (*http.Response, error) {
	n := f.seen.Add(1)
	t := time.NewTimer(f.took(time.Since(f.start)))
	defer t.Stop()
	select {
	case <-r.Context().Done():
		return nil, r.Context().Err()
	case <-t.C:
	}
	status, body := http.StatusOK, "[]"
	switch {
	case r.Method == http.MethodPost:
		status, body = http.StatusCreated, fmt.Sprintf(`{"id":"b%d"}`, n)
	case strings.HasSuffix(r.URL.Path, "/slots"):
		body = `[{"date":"2021-06-07","capacity":1000,"remaining":1000}]`
	}
	return &http.Response{StatusCode: status, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// Issue 9 for the live engine: a target that freezes near the end of a
// run. 100 users arrive every 10ms from 0 for a 1s run; each lists the
// centres, their slots and books, each answer taking 5ms, until the target
// freezes at 700ms: a request arriving from then on is answered at 1.5s
// (the thaw). The users arrived by 680ms book (3 requests each); the one
// arrived at 690ms sends its booking at 700ms, answered 201 at the thaw:
// booked after the end. The 30 arrived from 700ms wait on their first
// request (800ms for the first of them), answered after the end: they end
// still waiting, their next request due after the end. With a 1s grace
// every request the target saw is recorded with its full latency; with a
// 200ms grace (given, or by default the journey's request timeout), the 31
// still unanswered at 1.2s are transport errors.
func TestLiveFrozenTargetAtTheEnd(t *testing.T) {
	t.Parallel()
	crowd := make([]scenarios.Arrival, 100)
	for i := range crowd {
		crowd[i] = scenarios.Arrival{Index: i, PersonID: fmt.Sprint("p", i), At: time.Duration(i) * 10 * time.Millisecond,
			State: "s", PPVs: []string{"a"}, WantsEarliest: true, Seed: uint64(i)}
	}
	for _, c := range []struct {
		grace, reqTimeout     time.Duration // reqTimeout: the journey's, the default grace
		trans                 int64
		booked, still         int64
		maxLatency, bookedMax time.Duration
		end                   time.Duration
	}{
		{time.Second, 0, 0, 70, 30, 800 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond},
		{200 * time.Millisecond, 0, 31, 69, 31, 500 * time.Millisecond, 500 * time.Millisecond, 1200 * time.Millisecond},
		{0, 200 * time.Millisecond, 31, 69, 31, 500 * time.Millisecond, 500 * time.Millisecond, 1200 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := &apiFake{start: time.Now(), took: func(at time.Duration) time.Duration {
				if at >= 700*time.Millisecond && at < 1500*time.Millisecond {
					return 1500*time.Millisecond - at
				}
				return 5 * time.Millisecond
			}}
			client, err := NewClient("http://fake.test", f, 0)
			if err != nil {
				t.Fatal(err)
			}
			journey := scenarios.JourneySpec{Patience: time.Minute, RequestTimeout: c.reqTimeout}
			run := NewLive(client, journey, time.Second, WithGrace(c.grace)).Run(context.Background(), crowd)
			var d results.DesignResult
			if _, err := FillLive(run, &d); err != nil {
				t.Fatal(err)
			}
			if seen := f.seen.Load(); d.Requests.Total != seen || seen != 240 || d.Requests.TransportErrors != c.trans || d.Requests.Dropped != 0 {
				t.Errorf("grace %v: recorded %d requests (%d transport errors, %d dropped), target saw %d; want 240 seen and recorded, %d transport errors, none dropped",
					c.grace, d.Requests.Total, d.Requests.TransportErrors, d.Requests.Dropped, seen, c.trans)
			}
			if u := d.Users; u.Arrived != 100 || u.Booked != c.booked || u.StillWaiting != c.still || u.GaveUp != 0 {
				t.Errorf("grace %v: users %d arrived, %d booked, %d still waiting, %d gave up; want 100, %d, %d, 0",
					c.grace, u.Arrived, u.Booked, u.StillWaiting, u.GaveUp, c.booked, c.still)
			}
			if got := time.Duration(d.LatencyMs[results.OpListPPVs].Max * float64(time.Millisecond)); !near(got, c.maxLatency) {
				t.Errorf("grace %v: list_ppvs max latency %v; want %v (the freeze, from the scheduled start)", c.grace, got, c.maxLatency)
			}
			if got := time.Duration(d.LatencyMs[results.OpBook].Max * float64(time.Millisecond)); !near(got, c.bookedMax) {
				t.Errorf("grace %v: book max latency %v; want %v", c.grace, got, c.bookedMax)
			}
			if got := run.End.Sub(run.Start); got != c.end || run.Interrupted {
				t.Errorf("grace %v: run took %v, interrupted %v; want %v, false", c.grace, got, run.Interrupted, c.end)
			}
		})
	}
}

// sendAt lets a request go only before the end (and the caller's cancel),
// and counts one due before the end that could not go then (its user woke
// too late) as dropped, late by the end less its due time. One due after
// the end, or not yet due when the caller cancelled, is not dropped: it was
// never due.
func TestLiveSendAt(t *testing.T) {
	t.Parallel()
	const end = 100 * time.Millisecond
	for _, c := range []struct {
		name     string
		wake     time.Duration // when the user gets to it
		due      time.Duration
		cancelAt time.Duration // 0: never
		send     bool
		late     time.Duration // -1: not dropped
	}{
		{"on time", 0, 50 * time.Millisecond, 0, true, -1},
		{"late before the end", 70 * time.Millisecond, 50 * time.Millisecond, 0, true, -1},
		{"woke after the end", 150 * time.Millisecond, 50 * time.Millisecond, 0, false, 50 * time.Millisecond},
		{"due at the end", 0, end, 0, false, -1},
		{"due after the end", 0, 120 * time.Millisecond, 0, false, -1},
		{"cancelled before due", 0, 80 * time.Millisecond, 60 * time.Millisecond, false, -1},
		// Interrupted: late until the user found the run cancelled.
		{"cancelled after due", 70 * time.Millisecond, 50 * time.Millisecond, 60 * time.Millisecond, false, 20 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			start := time.Now()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			r := &liveRun{end: start.Add(end), dropped: results.NewLatencyHistogram()}
			var cancelStop context.CancelFunc
			r.stop, cancelStop = context.WithDeadline(ctx, r.end)
			defer cancelStop()
			time.Sleep(c.wake)
			send := r.sendAt(start.Add(c.due))
			late := time.Duration(-1)
			if r.ndropped == 1 {
				late = micros(r.dropped.Max())
			}
			if send != c.send || r.ndropped > 1 || !near(late, c.late) {
				t.Errorf("%s: sendAt = %v, dropped %d late %v; want %v, late %v (-1: none)", c.name, send, r.ndropped, late, c.send, c.late)
			}
		})
	}
}

// FillLive writes the dropped requests into the result: their count and
// how late they were, or no summary when none was dropped.
func TestFillLiveDropped(t *testing.T) {
	t.Parallel()
	for _, lates := range [][]time.Duration{nil, {10 * time.Millisecond, 30 * time.Millisecond}} {
		h := results.NewLatencyHistogram()
		for _, l := range lates {
			_ = h.RecordValue(l.Microseconds())
		}
		start := time.Now()
		run := &LiveRun{Recorder: NewRecorder(start, 0), Start: start, End: start.Add(time.Second), Dropped: int64(len(lates)), DroppedLate: h}
		var d results.DesignResult
		if _, err := FillLive(run, &d); err != nil {
			t.Fatal(err)
		}
		if d.Requests.Dropped != int64(len(lates)) || (d.Requests.DroppedLate != nil) != (lates != nil) {
			t.Fatalf("FillLive(%v dropped): dropped %d, late %+v; want %d and a summary iff any", lates, d.Requests.Dropped, d.Requests.DroppedLate, len(lates))
		}
		if s := d.Requests.DroppedLate; s != nil && (s.Count != 2 || math.Abs(s.Max-30) > 0.03 || math.Abs(s.P50-10) > 0.01) {
			t.Errorf("FillLive: dropped late %+v; want 2 values, p50 10ms, max 30ms", s)
		}
	}
}
