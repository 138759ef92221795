package sim

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

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
	centres  bool          // WithCentreRooms
	grace    time.Duration // 0: the journey's request timeout
	faults   *liveFaults   // WithFaults; nil: no blast radius
	// opensAt and openings are the announced openings a return may aim
	// at (WithOpenings).
	opensAt  time.Duration
	openings map[string][]time.Duration

	requests, errors, booked, arrived, late, gateway atomic.Int64
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

// WithCentreRooms makes every journey go through the waiting room of the
// centre it wants (the target has one per centre), and turns the waiting
// room on.
func WithCentreRooms(on bool) LiveOption {
	return func(l *Live) { l.centres, l.room = on, l.room || on }
}

// WithGrace makes a run wait up to d, once its duration is up, for the
// requests then in flight. d <= 0 keeps the default: the journey's request
// timeout (scenarios.JourneySpec.RequestTimeout); when that is 0 too,
// nothing is waited for and a request in flight at the end is a transport
// error.
func WithGrace(d time.Duration) LiveOption { return func(l *Live) { l.grace = max(d, 0) } }

// NewLive returns a live engine that sends through client, following the
// journey settings, and sends nothing after each run's duration (it then
// waits for the requests in flight, up to the grace: see WithGrace). It
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
	// End is when the last journey ended: the grace included.
	End time.Time
	// LateStarts counts arrivals started more than LateStartThreshold late.
	LateStarts int64
	// Dropped counts requests due before the end that were never sent (a
	// user, or an arrival, the engine could not start before the end);
	// they are not in the Recorder. DroppedLate holds how late each was
	// when the run ended (µs from its due time).
	Dropped     int64
	DroppedLate *hdrhistogram.Histogram
	// Interrupted is set when ctx was cancelled before the run ended.
	Interrupted bool
	// GatewayThrottled counts the answers the gateway refused with its
	// own 429 (results.CodeGatewayThrottled).
	GatewayThrottled int64
}

// liveRun is the state one Run shares with its users.
type liveRun struct {
	rec *Recorder
	// stop is done at the end (the duration) or when the caller cancels:
	// no request is sent after it. req, its parent, bounds the requests:
	// done when the grace after the end is over (cause errGraceOver) or
	// when the caller cancels.
	stop, req context.Context
	end       time.Time

	mu       sync.Mutex // guards dropped and ndropped (rare: off the hot path)
	dropped  *hdrhistogram.Histogram
	ndropped int64
}

// ended returns when the run ended: its end, or now when the caller
// cancelled it before.
func (r *liveRun) ended() time.Time {
	if now := time.Now(); now.Before(r.end) {
		return now
	}
	return r.end
}

// drop counts a request due at due that was never sent, with how late it
// was when the run ended.
func (r *liveRun) drop(due time.Time) {
	late := r.ended().Sub(due)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ndropped++
	_ = r.dropped.RecordValue(clampMicros(late))
}

// sendAt waits until due and reports whether the request due then may be
// sent: the run has neither reached its end nor been cancelled. A request
// due before the run ended that may not be sent is counted as dropped.
func (r *liveRun) sendAt(due time.Time) bool {
	if waitUntil(r.stop, due) && time.Now().Before(r.end) {
		return true
	}
	if due.Before(r.ended()) {
		r.drop(due)
	}
	return false
}

// Run replays crowd (sorted by At) against the target. Each user starts at
// its scheduled time whatever the server does (open model): the calling
// goroutine paces the crowd, releasing user n at start+crowd[n].At, each
// user's journey runs in its own goroutine, and latency is measured from
// each request's scheduled start.
//
// When the duration is up no user starts and no request is sent any more:
// a user whose next request is due after the end finishes still waiting,
// and one due before the end that could not be sent is counted as dropped.
// Requests in flight are waited for up to the grace (WithGrace) and
// recorded as usual, one unanswered when the grace ends as a transport
// error; their users then finish still waiting, unless that answer ended
// their journey (a 201: booked). Run returns when every journey has ended.
// When ctx is cancelled the run stops at once: the requests it cut short
// are not counted and their users count as still waiting. Run returns no
// error: a failed request is data. Call it once per Live.
func (l *Live) Run(ctx context.Context, crowd []scenarios.Arrival) *LiveRun {
	start := time.Now()
	r := &liveRun{rec: NewRecorder(start, recorderUsers(crowd)), end: start.Add(l.duration), dropped: results.NewLatencyHistogram()}
	r.rec.faults = l.faults
	grace := l.grace
	if grace == 0 {
		grace = max(l.journey.RequestTimeout, 0)
	}
	var cancelReq, cancelStop context.CancelFunc
	r.req, cancelReq = context.WithDeadlineCause(ctx, r.end.Add(grace), errGraceOver)
	defer cancelReq()
	r.stop, cancelStop = context.WithDeadline(r.req, r.end)
	defer cancelStop()

	var progressDone chan struct{}
	finished := make(chan struct{}) // closed once every journey ended
	if l.progress != nil {
		progressDone = make(chan struct{})
		go l.report(finished, start, progressDone)
	}

	var wg sync.WaitGroup
	s := crowdSchedule(crowd)
	n := pace(r.stop, start, s, func(n int, due time.Time) bool {
		if time.Since(due) > LateStartThreshold {
			l.late.Add(1)
		}
		wg.Go(func() { l.user(r, &crowd[n], due) })
		return true
	})
	unreleased(start, s, n, r.ended(), r.drop)
	wg.Wait()
	run := &LiveRun{Recorder: r.rec, Start: start, End: time.Now(), LateStarts: l.late.Load(),
		Dropped: r.ndropped, DroppedLate: r.dropped, Interrupted: ctx.Err() != nil, GatewayThrottled: l.gateway.Load()}
	close(finished)
	if progressDone != nil {
		<-progressDone
	}
	return run
}

// user runs the journey of a, arriving at arrival, until it ends or the
// run does; see Run for what happens at the end.
func (l *Live) user(r *liveRun, a *scenarios.Arrival, arrival time.Time) {
	r.rec.Arrived(a.Index, arrival)
	l.arrived.Add(1)
	p := PolicyFor(a.Behaviour, l.journey)
	p.WaitingRoom = l.room
	p.CentreRooms = l.centres
	WithJourneyExtras(&p, l.journey, l.opensAt, l.openings)
	j := NewJourney(a, p)
	act := j.Start()
	due := arrival
	for {
		if act.Done {
			// A person who gave up may come back, before the run ends.
			if act.Outcome != GaveUp {
				break
			}
			w, ok := j.Return(due.Sub(arrival))
			if !ok || !due.Add(w).Before(r.end) {
				break
			}
			j.Revisit(due.Add(w).Sub(arrival))
			act = j.Start()
			act.Wait += w
			continue
		}
		due = due.Add(act.Wait)
		if !r.sendAt(due) {
			r.rec.Finished(a.Index, StillWaiting, j, false, 0)
			return
		}
		resp := l.client.Do(r.req, act.Req)
		done := time.Now()
		if resp.Err != nil && cancelledByCaller(r.req) {
			// The caller cancelled the run under this request: it did not
			// complete, and is not counted.
			r.rec.Finished(a.Index, StillWaiting, j, false, 0)
			return
		}
		r.rec.RecordRequest(a.Index, &act.Req, resp, due, done)
		l.requests.Add(1)
		if resp.Code == results.CodeGatewayThrottled {
			l.gateway.Add(1)
		}
		switch resp.Classify() {
		case KindTransport, KindThrottled, KindOverloaded, KindServerError, KindUnexpected:
			l.errors.Add(1)
		}
		// The next step is scheduled from when this answer came.
		due = done
		act = j.Next(resp, done.Sub(arrival))
	}
	if act.Outcome == Booked {
		l.booked.Add(1)
	}
	r.rec.Finished(a.Index, act.Outcome, j, true, time.Since(arrival))
}

// report calls the progress function every l.every, and once more when
// finished is closed; then it closes done.
func (l *Live) report(finished <-chan struct{}, start time.Time, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	snap := func() Progress {
		return Progress{Elapsed: time.Since(start), Total: l.duration, Requests: l.requests.Load(),
			Errors: l.errors.Load(), Booked: l.booked.Load(), Arrived: l.arrived.Load()}
	}
	for {
		select {
		case <-finished:
			l.progress(snap())
			return
		case <-t.C:
			l.progress(snap())
		}
	}
}

// FillLive writes a live run's measurements into d and returns the ids of
// bookings answered 201, for the store audit. Set d.Assumptions first:
// the bookings are attributed to partitions by the scheme they name (see
// Recorder.Fill). It returns Recorder.Fill's errors (a histogram merge
// that dropped values, one that cannot be encoded), leaving d partly
// filled. It is not safe for concurrent use on the same run or d.
func FillLive(run *LiveRun, d *results.DesignResult) ([]string, error) {
	ids, err := run.Recorder.Fill(d)
	if err != nil {
		return nil, err
	}
	d.DurationS = run.End.Sub(run.Start).Seconds()
	d.BlastRadius = run.Recorder.blastRadius(d)
	d.Users.LateStarts = run.LateStarts
	d.Requests.Dropped = run.Dropped
	d.Requests.GatewayThrottled = run.GatewayThrottled
	d.Requests.DroppedLate = nil
	if run.Dropped > 0 && run.DroppedLate != nil {
		s := results.Summarize(run.DroppedLate)
		d.Requests.DroppedLate = &s
	}
	return ids, nil
}

// recorderUsers is the number of user records a crowd needs: one more than
// its highest Index, which is larger than its length for a segment of a
// crowd (scenarios.Segment keeps each person's index in the whole crowd).
func recorderUsers(crowd []scenarios.Arrival) int {
	n := len(crowd)
	for i := range crowd {
		n = max(n, crowd[i].Index+1)
	}
	return n
}
