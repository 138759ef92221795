package sim

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slotrush/slotrush/results"
)

// fakeServer is an http.RoundTripper that answers in virtual time (inside a
// synctest bubble): request n (from 1) takes took(n) and gets answer(n),
// or ends early with the request's context. It is safe for concurrent use.
type fakeServer struct {
	took   func(n int64) time.Duration // nil: instant
	answer func(n int64) int           // status, or 0 for a transport error; nil: 204

	n                      atomic.Int64
	mu                     sync.Mutex // guards inFlight and peak
	inFlight, peak, served int64
}

func (f *fakeServer) RoundTrip(r *http.Request) (*http.Response, error) {
	n := f.n.Add(1)
	f.mu.Lock()
	f.inFlight++
	f.peak = max(f.peak, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.took != nil {
		t := time.NewTimer(f.took(n))
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-t.C:
		}
	}
	f.mu.Lock()
	f.served++
	f.mu.Unlock()
	status := http.StatusNoContent
	if f.answer != nil {
		status = f.answer(n)
	}
	if status == 0 {
		return nil, errors.New("connection reset")
	}
	return &http.Response{StatusCode: status, Body: http.NoBody, Request: r}, nil
}

// attackFake runs Attack against f in virtual time.
func attackFake(t *testing.T, f *fakeServer, o AttackOptions) *AttackResult {
	t.Helper()
	o.URL, o.Transport = "http://fake.test/", f
	res, err := Attack(context.Background(), o)
	if err != nil {
		t.Fatalf("Attack(%+v): %v", o, err)
	}
	sum := res.Transport
	for _, n := range res.ByStatus {
		sum += n
	}
	if sum != res.Sent || res.Latency.TotalCount() != res.Sent {
		t.Errorf("counts disagree: sent %d, by status+transport %d, histogram %d", res.Sent, sum, res.Latency.TotalCount())
	}
	if res.DroppedLate.TotalCount() != res.Dropped {
		t.Errorf("dropped %d, histogram of their lateness %d; want equal", res.Dropped, res.DroppedLate.TotalCount())
	}
	return res
}

func TestAttackHoldsConstantRate(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{}
		res := attackFake(t, f, AttackOptions{Rate: 500, Duration: 2 * time.Second, MaxWorkers: 64})
		if res.Sent != 1000 || f.served != 1000 || res.ByStatus[204] != 1000 {
			t.Errorf("sent %d, served %d, 204s %d; want 1000 each", res.Sent, f.served, res.ByStatus[204])
		}
		if math.Abs(res.Rate-500) > 1e-9 {
			t.Errorf("rate = %v/s; want 500/s", res.Rate)
		}
		// Answers are instant: every latency is clamped up to the floor.
		if res.Late != 0 || res.Latency.Max() != results.HistMinMicros {
			t.Errorf("late %d, max latency %dµs; want 0 and %dµs", res.Late, res.Latency.Max(), results.HistMinMicros)
		}
		// The last request is due at 1.998s and answered at once.
		if res.Elapsed != 1998*time.Millisecond {
			t.Errorf("elapsed = %v; want 1.998s", res.Elapsed)
		}
	})
}

// A server that stalls for 300 ms once must show the stall in p99 even with
// one worker: requests queued behind it are measured from their scheduled
// start, not from when the worker got to them (no coordinated omission).
func TestAttackShowsStallInP99(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{took: func(n int64) time.Duration {
			if n == 50 {
				return 300 * time.Millisecond
			}
			return 0
		}}
		res := attackFake(t, f, AttackOptions{Rate: 200, Duration: 2 * time.Second, MaxWorkers: 1})
		if res.Sent != 400 {
			t.Errorf("sent %d; want 400", res.Sent)
		}
		// Request 50 is due at 245ms and answered at 545ms, 300ms late.
		// Those due at 250ms to 540ms wait behind it and go at 545ms, 5 to
		// 295ms late: 57 of them (due before 535ms) more than 10ms late.
		if res.Late != 57 {
			t.Errorf("late = %d; want 57 (queued behind the stall)", res.Late)
		}
		if got := time.Duration(res.Latency.Max()) * time.Microsecond; got < 299*time.Millisecond || got > 301*time.Millisecond {
			t.Errorf("max latency = %v; want 300ms", got)
		}
		if p99 := time.Duration(res.Latency.ValueAtQuantile(99)) * time.Microsecond; p99 < 250*time.Millisecond {
			t.Errorf("p99 = %v; want >= 250ms (the stall must show)", p99)
		}
	})
}

// The pacer starts a worker only when all are busy, up to the cap: at
// 100/s with answers taking 95ms, 10 requests are in flight at most, and a
// cap of 4 holds them to 4 (the rest wait for a worker and start late).
func TestAttackGrowsWorkersToTheLoad(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		max      int
		wantPeak int64
		late     bool
	}{
		{64, 10, false},
		{4, 4, true},
		{1, 1, true},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeServer{took: func(int64) time.Duration { return 95 * time.Millisecond }}
			res := attackFake(t, f, AttackOptions{Rate: 100, Duration: time.Second, MaxWorkers: c.max})
			if f.peak != c.wantPeak {
				t.Errorf("max workers %d: peak in flight = %d; want %d", c.max, f.peak, c.wantPeak)
			}
			if (res.Late > 0) != c.late {
				t.Errorf("max workers %d: late = %d; want late starts %v", c.max, res.Late, c.late)
			}
		})
	}
}

func TestAttackCountsStatusesAndTransportErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{answer: func(n int64) int { return []int{200, 503, 0}[n%3] }}
		res := attackFake(t, f, AttackOptions{Rate: 100, Duration: 100 * time.Millisecond, MaxWorkers: 8})
		// Requests 1 to 10: n%3 = 1, 2, 0, 1, 2, 0, ...
		if res.Sent != 10 || res.ByStatus[503] != 4 || res.Transport != 3 || res.ByStatus[200] != 3 {
			t.Errorf("sent %d, by status %v, transport %d; want 10, map[200:3 503:4], 3", res.Sent, res.ByStatus, res.Transport)
		}
	})
}

// With Rate 0, MaxWorkers workers each send as soon as their previous
// answer came. Answers take 3ms: in 100ms each of 4 workers sends 34
// requests (the last at 99ms), and the last, in flight at the end, is
// waited for (answered at 102ms, within the grace) and counted.
func TestAttackClosedLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{took: func(int64) time.Duration { return 3 * time.Millisecond }}
		res := attackFake(t, f, AttackOptions{Rate: 0, Duration: 100 * time.Millisecond, MaxWorkers: 4, Timeout: time.Second})
		if res.Sent != 136 || f.served != 136 || f.peak != 4 || res.Late != 0 || res.Dropped != 0 {
			t.Errorf("sent %d, served %d, peak in flight %d, late %d, dropped %d; want 136, 136, 4, 0, 0", res.Sent, f.served, f.peak, res.Late, res.Dropped)
		}
		if res.Elapsed != 102*time.Millisecond {
			t.Errorf("elapsed = %v; want 102ms (the last answers waited for)", res.Elapsed)
		}
	})
}

// frozenFrom returns a took function for a fakeServer: answers are instant,
// except that a request arriving from start+from until start+thaw is
// answered at start+thaw (a target stopped with SIGSTOP, then continued).
func frozenFrom(start time.Time, from, thaw time.Duration) func(int64) time.Duration {
	return func(int64) time.Duration {
		if now := time.Since(start); now >= from && now < thaw {
			return thaw - now
		}
		return 0
	}
}

// Issue 9: a target frozen for the last part of an attack. At 50/s for
// 3s, a target frozen from 2s to 3.5s answers the requests it got meanwhile
// at 3.5s: they are waited for (the grace is 1s) and show the full stall
// (1.5s for the one due at 2s). With enough workers all 150 are sent; with
// 10, the 10 due from 2s hold every worker until after the end, and the 40
// due from 2.2s are dropped, each late by the end (3s) less its due time.
// Either way sent + dropped = rate×duration: nothing is lost.
func TestAttackFrozenTargetAtTheEnd(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		max                    int
		sent, dropped          int64
		droppedMin, droppedMax time.Duration
	}{
		{100, 150, 0, 0, 0},
		{10, 110, 40, 20 * time.Millisecond, 800 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeServer{took: frozenFrom(time.Now(), 2*time.Second, 3500*time.Millisecond)}
			res := attackFake(t, f, AttackOptions{Rate: 50, Duration: 3 * time.Second, MaxWorkers: c.max, Grace: time.Second})
			if res.Sent != c.sent || f.served != c.sent || res.ByStatus[204] != c.sent || res.Dropped != c.dropped {
				t.Errorf("max workers %d: sent %d, served %d, 204s %d, dropped %d; want %d sent, served and 204, %d dropped",
					c.max, res.Sent, f.served, res.ByStatus[204], res.Dropped, c.sent, c.dropped)
			}
			if res.Sent+res.Dropped != 150 {
				t.Errorf("max workers %d: sent %d + dropped %d; want 150 (rate×duration)", c.max, res.Sent, res.Dropped)
			}
			if got := micros(res.Latency.Max()); !near(got, 1500*time.Millisecond) {
				t.Errorf("max workers %d: max latency = %v; want 1.5s (the whole freeze)", c.max, got)
			}
			// At least the top 1% waited 1.31s or more.
			if p99 := micros(results.ValueAtQuantile(res.Latency, 99)); p99 < 1300*time.Millisecond {
				t.Errorf("max workers %d: p99 = %v; want >= 1.3s (the freeze must show)", c.max, p99)
			}
			if lo, hi := micros(res.DroppedLate.Min()), micros(res.DroppedLate.Max()); !near(lo, c.droppedMin) || !near(hi, c.droppedMax) {
				t.Errorf("max workers %d: dropped late %v to %v; want %v to %v", c.max, lo, hi, c.droppedMin, c.droppedMax)
			}
			if res.Elapsed != 3500*time.Millisecond {
				t.Errorf("max workers %d: elapsed = %v; want 3.5s (the answers at the thaw waited for)", c.max, res.Elapsed)
			}
		})
	}
}

// micros converts a histogram value (µs) to a duration.
func micros(v int64) time.Duration { return time.Duration(v) * time.Microsecond }

// near reports whether got, read from a latency histogram, is want within
// the histogram's resolution (3 significant digits).
func near(got, want time.Duration) bool {
	d := got - want
	return max(d, -d) <= want/1000+time.Microsecond
}

// The grace bounds the wait for the requests in flight at the end. At 10/s
// for 1s, a target that stops answering at 0.9s holds the last request:
// when the grace (or, with Grace 0, the timeout) runs out it is a transport
// error with its latency up to then, never dropped nor lost. Only when the
// caller cancels the attack is the request cut short left out.
func TestAttackGrace(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name           string
		grace, timeout time.Duration
		cancelAt       time.Duration // 0: never
		sent, trans    int64
		maxLatency     time.Duration
		elapsed        time.Duration
	}{
		{"grace", 200 * time.Millisecond, 0, 0, 10, 1, 300 * time.Millisecond, 1200 * time.Millisecond},
		{"grace shorter than timeout", 100 * time.Millisecond, 300 * time.Millisecond, 0, 10, 1, 200 * time.Millisecond, 1100 * time.Millisecond},
		{"grace 0 is the timeout", 0, 300 * time.Millisecond, 0, 10, 1, 300 * time.Millisecond, 1200 * time.Millisecond},
		{"no grace, no timeout", 0, 0, 0, 10, 1, 100 * time.Millisecond, time.Second},
		{"caller cancels", 200 * time.Millisecond, 0, 950 * time.Millisecond, 9, 0, results.HistMinMicros * time.Microsecond, 950 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			f := &fakeServer{took: frozenFrom(time.Now(), 900*time.Millisecond, time.Hour)}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			res, err := Attack(ctx, AttackOptions{URL: "http://fake.test/", Transport: f, Rate: 10, Duration: time.Second,
				MaxWorkers: 4, Grace: c.grace, Timeout: c.timeout})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if res.Sent != c.sent || res.Transport != c.trans || res.ByStatus[204] != 9 || res.Dropped != 0 {
				t.Errorf("%s: sent %d, transport %d, 204s %d, dropped %d; want %d, %d, 9, 0", c.name, res.Sent, res.Transport, res.ByStatus[204], res.Dropped, c.sent, c.trans)
			}
			if got := micros(res.Latency.Max()); !near(got, c.maxLatency) || res.Latency.TotalCount() != res.Sent {
				t.Errorf("%s: max latency %v over %d values; want %v over %d", c.name, got, res.Latency.TotalCount(), c.maxLatency, res.Sent)
			}
			if res.Elapsed != c.elapsed {
				t.Errorf("%s: elapsed = %v; want %v", c.name, res.Elapsed, c.elapsed)
			}
		})
	}
}

// With one worker and answers taking 350ms, 10/s for 1s sends the requests
// due at 0, 0.1s (at 0.35s) and 0.2s (at 0.7s); the one due at 0.3s waits
// for the worker, busy until 1.05s, past the end: it and the six after it
// are dropped, late by 700ms down to 100ms when the attack ends. The
// request in flight at the end is waited for and counted.
func TestAttackCountsDropped(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := &fakeServer{took: func(int64) time.Duration { return 350 * time.Millisecond }}
		res := attackFake(t, f, AttackOptions{Rate: 10, Duration: time.Second, MaxWorkers: 1, Grace: time.Second})
		if res.Sent != 3 || res.ByStatus[204] != 3 || res.Late != 2 || res.Dropped != 7 {
			t.Errorf("sent %d, 204s %d, late %d, dropped %d; want 3, 3, 2, 7", res.Sent, res.ByStatus[204], res.Late, res.Dropped)
		}
		if lo, hi := micros(res.DroppedLate.Min()), micros(res.DroppedLate.Max()); !near(lo, 100*time.Millisecond) || !near(hi, 700*time.Millisecond) {
			t.Errorf("dropped late %v to %v; want 100ms to 700ms", lo, hi)
		}
		if mean := time.Duration(res.DroppedLate.Mean()) * time.Microsecond; !near(mean, 400*time.Millisecond) {
			t.Errorf("dropped late on average %v; want 400ms", mean)
		}
		// Latencies from the due times: 350ms, 600ms, 850ms.
		if got := micros(res.Latency.Max()); !near(got, 850*time.Millisecond) || res.Elapsed != 1050*time.Millisecond {
			t.Errorf("max latency %v, elapsed %v; want 850ms, 1.05s", got, res.Elapsed)
		}
	})
}

// Over real HTTP, on a shared machine: no timing assertions beyond the
// server seeing the first request within 300ms, only that every request
// sent was answered 204 (the ones in flight at the end are waited for),
// recorded once, and seen by the server.
func TestAttackOverHTTP(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	for _, o := range []AttackOptions{
		{URL: srv.URL, Rate: 20, Duration: 300 * time.Millisecond, MaxWorkers: 8, Timeout: 10 * time.Second},
		{URL: srv.URL, Rate: 0, Duration: 300 * time.Millisecond, MaxWorkers: 4, Timeout: 10 * time.Second},
	} {
		before := hits.Load()
		res, err := Attack(context.Background(), o)
		if err != nil {
			t.Fatalf("Attack(rate %v): %v", o.Rate, err)
		}
		seen := hits.Load() - before
		if seen == 0 || res.ByStatus[204] != res.Sent || res.Transport != 0 || res.Latency.TotalCount() != res.Sent || seen < res.Sent {
			t.Errorf("Attack(rate %v): sent %d, by status %v, transport %d, histogram %d, server saw %d; want some seen, all sent answered 204 and seen",
				o.Rate, res.Sent, res.ByStatus, res.Transport, res.Latency.TotalCount(), seen)
		}
		if o.Rate > 0 && res.Sent+res.Dropped != 6 {
			t.Errorf("Attack(rate 20 for 300ms): sent %d + dropped %d; want 6", res.Sent, res.Dropped)
		}
	}
}

func TestAttackRejectsBadOptions(t *testing.T) {
	t.Parallel()
	for _, o := range []AttackOptions{
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Rate: -1, Duration: time.Second, MaxWorkers: 1},
		{URL: "http://127.0.0.1:1", Rate: 1, MaxWorkers: 1},
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: -time.Second, MaxWorkers: 1},
		{URL: "http://[::1", Rate: 1, Duration: time.Second, MaxWorkers: 1},
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, MaxWorkers: 1, Grace: -time.Second},
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second, MaxWorkers: 1, Timeout: -time.Second},
	} {
		if res, err := Attack(context.Background(), o); err == nil {
			t.Errorf("Attack(%+v) = %+v, nil; want an error", o, res)
		}
	}
}
