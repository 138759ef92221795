package sim

import (
	"context"
	"math"
	"time"

	"github.com/slotrush/slotrush/scenarios"
)

// A schedule says when each event of a run is due: due(n) is the offset from
// the start at which event n (from 0) is due, and stop is true when there is
// no event n (nor any after it). It is a pure function of n, so a schedule is
// tested with a table and no clock, and pace holds it on the real one.
//
// Unlike vegeta's Pacer.Pace(elapsed, hits) (wait, stop), which answers how
// long to wait from now, a schedule gives absolute due times: they are what
// latency is measured from (no coordinated omission), and a pacer that falls
// behind catches up without drifting.
type schedule interface {
	due(n int) (at time.Duration, stop bool)
}

var (
	_ schedule = constantRate{}
	_ schedule = crowdSchedule(nil)
)

// constantRate is Attack's schedule: request n is due n/rate seconds after
// the start, rounded to the nanosecond and computed from n (never by adding
// up a rounded interval), for as long as that is before duration. The run
// sends exactly rate×duration requests when that is a whole number (8/s for
// 500 ms: 4; 3/s for 1 s: 3, the last due at 666.666667 ms), else
// ceil(rate×duration).
type constantRate struct {
	rate     float64
	duration time.Duration
}

// newConstantRate returns the schedule of rate requests/s for duration;
// rate must be > 0.
func newConstantRate(rate float64, duration time.Duration) constantRate {
	return constantRate{rate: rate, duration: duration}
}

func (c constantRate) due(n int) (time.Duration, bool) {
	// Rounded, not truncated: a due time that is exactly the end in
	// decimal (n = rate×duration) can come out of the float division a
	// hair below it, which truncation would turn into one more request.
	at := time.Duration(math.Round(float64(n) * float64(time.Second) / c.rate))
	return at, at >= c.duration
}

// crowdSchedule is the live engine's schedule: arrival n is released at its
// At. The crowd must be sorted by At.
type crowdSchedule []scenarios.Arrival

func (c crowdSchedule) due(n int) (time.Duration, bool) {
	if n >= len(c) {
		return 0, true
	}
	return c[n].At, false
}

// pace calls release(n, due) for each event n of s, in order, once the clock
// reaches its due time start+s.due(n). An event already due is released at
// once, so a pacer held up by release catches up. pace returns when s stops,
// ctx is done, or release returns false, with the number of events released:
// the n of the first event not released (release returned false for it, or
// it was not reached), or the number of events of s when s stopped. The
// events from there on that were due before the run ended are the ones a
// caller counts as dropped.
func pace(ctx context.Context, start time.Time, s schedule, release func(n int, due time.Time) bool) int {
	for n := 0; ; n++ {
		at, stop := s.due(n)
		if stop {
			return n
		}
		due := start.Add(at)
		if !waitUntil(ctx, due) || !release(n, due) {
			return n
		}
	}
}

// unreleased calls f(due) for each event of s from n on due before until
// (start+s.due(k) < until), in order: given the n pace returned, the events
// that were due before the run ended and never released.
func unreleased(start time.Time, s schedule, n int, until time.Time, f func(due time.Time)) {
	for k := n; ; k++ {
		at, stop := s.due(k)
		due := start.Add(at)
		if stop || !due.Before(until) {
			return
		}
		f(due)
	}
}

// waitUntil blocks until the clock reaches due or ctx is done, and reports
// whether it reached due first. A due time already past returns at once:
// true unless ctx is done. Its timer is stopped before it returns.
func waitUntil(ctx context.Context, due time.Time) bool {
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
