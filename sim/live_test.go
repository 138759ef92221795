package sim

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
