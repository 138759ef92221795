package sim

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/scenarios"
)

// LateStartThreshold is how late an arrival (or an attack request) may
// start before it is counted as a late start.
const LateStartThreshold = 10 * time.Millisecond

// Live drives a crowd against a target over real HTTP on the real clock.
// Build it with NewLive; Run it once. A Live is not safe for concurrent use:
// its counters belong to the one run.
type Live struct {
	client   *Client
	journey  scenarios.JourneySpec
	duration time.Duration
	progress func(Progress)
	every    time.Duration
	room     bool

	requests, errors, booked, arrived, late atomic.Int64
}

// Progress is a snapshot of a live run for a progress line. It is a plain
// value, safe to read from any goroutine once received.
type Progress struct {
	Elapsed, Total time.Duration
	Requests       int64
	Errors         int64
	Booked         int64
	Arrived        int64
}

// LiveOption configures a Live engine in NewLive; options are independent
// of order.
type LiveOption func(*Live)

// WithProgress calls f every interval with a snapshot, from one goroutine,
// and once more when the run ends; f need not be safe for concurrent use.
// every must be > 0.
func WithProgress(every time.Duration, f func(Progress)) LiveOption {
	return func(l *Live) { l.progress, l.every = f, every }
}

// WithWaitingRoom makes every journey go through the target's waiting room.
func WithWaitingRoom(on bool) LiveOption { return func(l *Live) { l.room = on } }

// NewLive returns a live engine that sends through client, following the
// journey settings, and ends each run after duration at the latest. It
// cannot fail.
func NewLive(client *Client, journey scenarios.JourneySpec, duration time.Duration, opts ...LiveOption) *Live {
	l := &Live{client: client, journey: journey, duration: duration}
	for _, o := range opts {
		o(l)
	}
	return l
}

// LiveRun is what a live run measured. It is plain data once Run returned;
// not safe for concurrent mutation.
type LiveRun struct {
	Recorder *Recorder
	Start    time.Time
	End      time.Time
	// LateStarts counts arrivals started more than LateStartThreshold late.
	LateStarts int64
	// Interrupted is set when ctx was cancelled before the run ended.
	Interrupted bool
}

// Run replays crowd (sorted by At) against the target. Each user starts at
// its scheduled time whatever the server does (open model): the calling
// goroutine paces the crowd, releasing user n at start+crowd[n].At, each
// user's journey runs in its own goroutine, and latency is measured from
// each request's scheduled start. Run returns when every journey has ended,
// the duration has passed, or ctx is cancelled; requests cut short by the
// end are not counted and their users count as still waiting. Run returns
// no error: a failed request is data. Call it once per Live.
func (l *Live) Run(ctx context.Context, crowd []scenarios.Arrival) *LiveRun {
	start := time.Now()
	rec := NewRecorder(start, len(crowd))
	parent := ctx
	ctx, cancel := context.WithDeadline(ctx, start.Add(l.duration))
	defer cancel()

	var progressDone chan struct{}
	if l.progress != nil {
		progressDone = make(chan struct{})
		go l.report(ctx, start, progressDone)
	}

	var wg sync.WaitGroup
	pace(ctx, start, crowdSchedule(crowd), func(n int, due time.Time) bool {
		if time.Since(due) > LateStartThreshold {
			l.late.Add(1)
		}
		wg.Add(1)
		go func(a *scenarios.Arrival) {
			defer wg.Done()
			l.user(ctx, rec, a, due)
		}(&crowd[n])
		return true
	})
	wg.Wait()
	run := &LiveRun{Recorder: rec, Start: start, End: time.Now(), LateStarts: l.late.Load()}
	run.Interrupted = parent.Err() != nil
	cancel()
	if progressDone != nil {
		<-progressDone
	}
	return run
}

func (l *Live) user(ctx context.Context, rec *Recorder, a *scenarios.Arrival, arrival time.Time) {
	rec.Arrived(a.Index, arrival)
	l.arrived.Add(1)
	p := PolicyFor(a.Behaviour, l.journey)
	p.WaitingRoom = l.room
	j := NewJourney(a, p)
	act := j.Start()
	due := arrival
	for !act.Done {
		due = due.Add(act.Wait)
		if !waitUntil(ctx, due) {
			rec.Finished(a.Index, StillWaiting, j, false, 0)
			return
		}
		resp := l.client.Do(ctx, act.Req)
		done := time.Now()
		if ctx.Err() != nil {
			// The run ended under this request: it did not complete.
			rec.Finished(a.Index, StillWaiting, j, false, 0)
			return
		}
		rec.Record(a.Index, act.Req.Op, resp, due, done)
		l.requests.Add(1)
		if resp.Status == 0 || resp.Status == 429 || resp.Status >= 500 {
			l.errors.Add(1)
		}
		// The next step is scheduled from when this answer came.
		due = done
		act = j.Next(resp, done.Sub(arrival))
	}
	if act.Outcome == Booked {
		l.booked.Add(1)
	}
	rec.Finished(a.Index, act.Outcome, j, true, time.Since(arrival))
}

func (l *Live) report(ctx context.Context, start time.Time, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	snap := func() Progress {
		return Progress{Elapsed: time.Since(start), Total: l.duration, Requests: l.requests.Load(),
			Errors: l.errors.Load(), Booked: l.booked.Load(), Arrived: l.arrived.Load()}
	}
	for {
		select {
		case <-ctx.Done():
			l.progress(snap())
			return
		case <-t.C:
			l.progress(snap())
		}
	}
}

// FillLive writes a live run's measurements into d and returns the ids of
// bookings answered 201, for the store audit. It returns Recorder.Fill's
// errors (a histogram merge that dropped values, one that cannot be
// encoded), leaving d partly filled. It is not safe for
// concurrent use on the same run or d.
func FillLive(run *LiveRun, d *results.DesignResult) ([]string, error) {
	ids, err := run.Recorder.Fill(d)
	if err != nil {
		return nil, err
	}
	d.DurationS = run.End.Sub(run.Start).Seconds()
	d.Users.LateStarts = run.LateStarts
	return ids, nil
}
