package refserver

import (
	"context"
	"math"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/slotrush/slotrush/models"
)

// newLimiter returns the token bucket of rate r and depth burst, or nil for
// unlimited (r == 0). A zero burst means one second's worth of tokens (at
// least 1).
func newLimiter(r float64, burst int) *rate.Limiter {
	if r <= 0 {
		return nil
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(r)))
	}
	return rate.NewLimiter(rate.Limit(r), burst)
}

// allow takes one token from lim at now. When none is left it takes nothing
// and returns how long until one will be.
func allow(lim *rate.Limiter, now time.Time) (wait time.Duration, ok bool) {
	if lim == nil || lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	return time.Duration(math.Ceil(missing / float64(lim.Limit()) * float64(time.Second))), false
}

// gate bounds the requests a partition works on at once (MaxInFlight), the
// requests waiting for a turn (MaxQueue) and how long they wait (MaxWait).
// A nil *gate admits everything. Entering costs one channel operation when
// there is room, so it is cheap on the hot path; there is no lock shared
// between partitions. It is safe for concurrent use.
type gate struct {
	turns    chan struct{} // holds a token per request in flight
	waiting  atomic.Int64
	maxQueue int64         // 0: unbounded
	maxWait  time.Duration // 0: unbounded
}

func newGate(l models.Limits) *gate {
	if l.MaxInFlight <= 0 {
		return nil
	}
	return &gate{turns: make(chan struct{}, l.MaxInFlight), maxQueue: int64(l.MaxQueue), maxWait: l.MaxWait}
}

// shedReason says why a gate refused a request.
type shedReason int

const (
	admitted shedReason = iota
	queueFull
	waitedTooLong
	gaveUp // the request's context ended
)

// enter waits for a turn. When it returns admitted the caller must call
// leave exactly once.
func (g *gate) enter(ctx context.Context) shedReason {
	if g == nil {
		return admitted
	}
	select {
	case g.turns <- struct{}{}:
		return admitted
	default:
	}
	if n := g.waiting.Add(1); g.maxQueue > 0 && n > g.maxQueue {
		g.waiting.Add(-1)
		return queueFull
	}
	defer g.waiting.Add(-1)
	var timeout <-chan time.Time
	if g.maxWait > 0 {
		t := time.NewTimer(g.maxWait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case g.turns <- struct{}{}:
		return admitted
	case <-timeout:
		return waitedTooLong
	case <-ctx.Done():
		return gaveUp
	}
}

// leave ends a turn taken by enter.
func (g *gate) leave() {
	if g != nil {
		<-g.turns
	}
}

// retryAfter is the delay a shed request is told to wait: the queue's
// maximum wait, at least one second.
func (g *gate) retryAfter() time.Duration {
	if g == nil || g.maxWait < time.Second {
		return time.Second
	}
	return g.maxWait
}
