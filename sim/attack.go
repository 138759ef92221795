package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// AttackOptions configures Attack: GET URL at Rate requests/s for Duration,
// with at most MaxWorkers requests in flight. Rate 0 means as fast as
// MaxWorkers closed-loop workers can go (vegeta's -rate=0). A nil Transport
// means NewTransport(); Timeout 0 means no per-request timeout. Grace is how
// long requests still in flight when Duration is up are waited for; 0 means
// Timeout (so with both 0 nothing is waited for: a request in flight at the
// end is a transport error). It is plain data: Attack only reads it.
type AttackOptions struct {
	URL        string
	Rate       float64
	Duration   time.Duration
	MaxWorkers int
	Transport  http.RoundTripper
	Timeout    time.Duration
	Grace      time.Duration
}

// grace returns the grace period o asks for.
func (o AttackOptions) grace() time.Duration {
	if o.Grace == 0 {
		return o.Timeout
	}
	return o.Grace
}

// AttackResult is what an attack measured. Latency is from each request's
// scheduled start, so a stalled server shows in the high percentiles. Every
// request due before the end is counted once: as sent (then answered, in
// ByStatus, or failed, in Transport, a request unanswered when the grace
// ended included) or as dropped. Only when the caller cancels the attack
// are the requests it cut short left out. It is plain data; not safe for
// concurrent mutation.
type AttackResult struct {
	// Sent counts requests sent: Sent = sum(ByStatus) + Transport.
	Sent      int64
	ByStatus  map[int]int64
	Transport int64
	// Late counts requests that left more than LateStartThreshold after
	// their scheduled time because every worker was busy.
	Late int64
	// Dropped counts requests due before the end that were never sent
	// (all MaxWorkers workers busy until the end, or the pacer itself held
	// up past it). DroppedLate holds how late each was when the attack
	// ended (µs from its due time).
	Dropped     int64
	DroppedLate *hdrhistogram.Histogram
	// Rate is the achieved send rate: requests sent / span of send times.
	Rate    float64
	Latency *hdrhistogram.Histogram
	// Elapsed is from the start until the last request ended: Duration,
	// plus the part of the grace the requests in flight took.
	Elapsed time.Duration
}

// attackWorker is one worker's records, written only by its goroutine and
// read by collect after every worker returned: no lock on the hot path.
type attackWorker struct {
	hist     *hdrhistogram.Histogram
	byStatus map[int]int64
	trans    int64
	late     int64
	sent     int64
	first    time.Time
	last     time.Time
	// dropped holds the lateness of the due times this worker received
	// too late to send; nil until one comes.
	dropped *hdrhistogram.Histogram
}

// errGraceOver is the cause of an attack's or a live run's request context
// when the grace after the end ran out, as opposed to a caller's cancel.
var errGraceOver = errors.New("grace period over")

// Attack runs a constant-rate (open model) or maximum-rate (closed loop)
// load against one URL. At a constant rate the calling goroutine is the
// pacer: it decides when each request is due (request n at n/Rate seconds
// from the start, for as long as that is before Duration) and hands it to an
// idle worker, starting a new worker when all are busy, up to MaxWorkers
// (vegeta's design). Latency is measured from each request's due time. Each
// worker records into its own histogram; they are merged at the end, so
// there is no lock on the hot path.
//
// When Duration is up no request is sent any more, and the requests in
// flight are waited for up to the grace (o.Grace, or o.Timeout): one still
// unanswered then is a transport error, its latency measured up to that
// moment. A request due before the end that no worker was free to send is
// counted as dropped. When ctx is done first (the caller cancelled it, or
// its own deadline passed) the attack stops at once and the requests it cut
// short are not counted (an interrupted run).
//
// Attack is safe for concurrent use when o.Transport is. It returns an
// error for bad options (MaxWorkers <= 0, Rate < 0, Duration <= 0,
// Timeout < 0, Grace < 0, a URL that does not parse) and when merging the
// histograms drops values; a failed request is data, not an error.
func Attack(ctx context.Context, o AttackOptions) (*AttackResult, error) {
	hc, req, err := o.prepare()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	end := start.Add(o.Duration)
	reqCtx, cancelReq := context.WithDeadlineCause(ctx, end.Add(o.grace()), errGraceOver)
	defer cancelReq()
	stop, cancelStop := context.WithDeadline(reqCtx, end)
	defer cancelStop()
	p := &attackPool{stop: stop, req: reqCtx, end: end, hc: hc, proto: req, max: o.MaxWorkers,
		dropped: results.NewLatencyHistogram()}
	if o.Rate == 0 {
		p.closedLoop()
	} else {
		p.paced(start, newConstantRate(o.Rate, o.Duration))
	}
	return p.collect(time.Since(start))
}

// prepare checks o and returns the client and the request to clone.
func (o AttackOptions) prepare() (*http.Client, *http.Request, error) {
	if o.MaxWorkers <= 0 {
		return nil, nil, fmt.Errorf("max workers %d: want > 0", o.MaxWorkers)
	}
	if o.Rate < 0 || o.Duration <= 0 {
		return nil, nil, fmt.Errorf("rate %v and duration %v: want rate >= 0 and duration > 0", o.Rate, o.Duration)
	}
	if o.Timeout < 0 || o.Grace < 0 {
		return nil, nil, fmt.Errorf("timeout %v and grace %v: want >= 0", o.Timeout, o.Grace)
	}
	rt := o.Transport
	if rt == nil {
		rt = NewTransport()
	}
	req, err := http.NewRequest(http.MethodGet, o.URL, http.NoBody)
	if err != nil {
		return nil, nil, fmt.Errorf("bad url %q: %w", o.URL, err)
	}
	return &http.Client{Transport: rt, Timeout: o.Timeout}, req, nil
}

// attackPool is the workers of one attack. While it runs, only the
// goroutine that called Attack (the pacer) touches workers and dropped;
// each worker writes only its own attackWorker.
type attackPool struct {
	// stop is done at the end (Duration) or when the caller cancels: no
	// request is sent after it. req, its parent, bounds the requests: done
	// when the grace after the end is over (cause errGraceOver) or when the
	// caller cancels.
	stop, req context.Context
	end       time.Time // start + Duration
	hc        *http.Client
	proto     *http.Request
	max       int
	ticks     chan time.Time // due times, from the pacer to an idle worker
	wg        sync.WaitGroup // the running workers
	workers   []*attackWorker
	// dropped and ndropped are the pacer's count of the requests it never
	// released.
	dropped  *hdrhistogram.Histogram
	ndropped int64
}

// start starts one worker running loop with its own records.
func (p *attackPool) start(loop func(*attackWorker)) {
	w := &attackWorker{hist: results.NewLatencyHistogram(), byStatus: map[int]int64{}}
	p.workers = append(p.workers, w)
	p.wg.Go(func() { loop(w) })
}

// sending reports whether a request may still be sent: the end has not
// come, by the clock or by the caller.
func (p *attackPool) sending() bool {
	return p.stop.Err() == nil && time.Now().Before(p.end)
}

// closedLoop runs max workers that each send as soon as their previous
// answer came, until the attack ends, and waits for them.
func (p *attackPool) closedLoop() {
	for range p.max {
		p.start(func(w *attackWorker) {
			for p.sending() {
				p.hit(w, time.Now())
			}
		})
	}
	p.wg.Wait()
}

// paced runs the open model: the calling goroutine paces s from start and
// dispatches each due time. Shutdown order: the pacer stops (s ended or the
// attack's end came), the events it never released that were due before the
// end are counted as dropped, ticks is closed so idle workers return, then
// the workers are waited for (their requests in flight, up to the grace).
func (p *attackPool) paced(start time.Time, s schedule) {
	p.ticks = make(chan time.Time)
	p.start(p.serve)
	n := pace(p.stop, start, s, p.dispatch)
	until := p.end
	if now := time.Now(); now.Before(until) {
		until = now // the caller cancelled: later events were not due yet
	}
	unreleased(start, s, n, until, func(due time.Time) {
		p.ndropped++
		_ = p.dropped.RecordValue(clampMicros(until.Sub(due)))
	})
	close(p.ticks)
	p.wg.Wait()
}

// serve is a paced worker: it sends one request per due time it receives,
// unless the attack's end came meanwhile (then it counts it as dropped).
func (p *attackPool) serve(w *attackWorker) {
	for due := range p.ticks {
		if !p.sending() {
			w.drop(p.end, due)
			continue
		}
		p.hit(w, due)
	}
}

// dispatch hands due to an idle worker, first starting one when all are
// busy and there are fewer than max. It waits for a worker to be free when
// there are max, and reports false, due not handed over, when the attack
// ended first.
func (p *attackPool) dispatch(_ int, due time.Time) bool {
	if !p.sending() {
		return false
	}
	select {
	case p.ticks <- due:
		return true
	default:
	}
	if len(p.workers) < p.max {
		p.start(p.serve)
	}
	select {
	case p.ticks <- due:
		return true
	case <-p.stop.Done():
		return false
	}
}

// collect merges the workers' records into a result; call it once every
// worker has returned. Errors: a histogram merge that dropped values.
func (p *attackPool) collect(elapsed time.Duration) (*AttackResult, error) {
	res := &AttackResult{ByStatus: map[int]int64{}, Latency: results.NewLatencyHistogram(), Elapsed: elapsed,
		Dropped: p.ndropped, DroppedLate: p.dropped}
	var first, last time.Time
	for _, w := range p.workers {
		if err := mergeInto(res.Latency, w.hist); err != nil {
			return nil, err
		}
		if err := mergeInto(res.DroppedLate, w.dropped); err != nil {
			return nil, err
		}
		for st, n := range w.byStatus {
			res.ByStatus[st] += n
		}
		res.Transport += w.trans
		res.Late += w.late
		res.Sent += w.sent
		if w.dropped != nil {
			res.Dropped += w.dropped.TotalCount()
		}
		if w.sent > 0 {
			if first.IsZero() || w.first.Before(first) {
				first = w.first
			}
			if w.last.After(last) {
				last = w.last
			}
		}
	}
	if span := last.Sub(first); res.Sent > 1 && span > 0 {
		res.Rate = float64(res.Sent-1) / span.Seconds()
	}
	return res, nil
}

// mergeInto adds h (nil: nothing) to into. Errors: values dropped.
func mergeInto(into, h *hdrhistogram.Histogram) error {
	if h == nil {
		return nil
	}
	if dropped := into.Merge(h); dropped != 0 {
		return fmt.Errorf("merge histograms: %d values dropped", dropped)
	}
	return nil
}

// drop counts due, received too late to be sent, as dropped with how late
// it was at end (or now, when the caller cancelled before the end).
func (w *attackWorker) drop(end, due time.Time) {
	if w.dropped == nil {
		w.dropped = results.NewLatencyHistogram()
	}
	if now := time.Now(); now.Before(end) {
		end = now
	}
	_ = w.dropped.RecordValue(clampMicros(end.Sub(due)))
}

// hit sends one request due at due for worker w and records its answer,
// measured from due. A request unanswered when the grace ends is a
// transport error; one cut short by the caller's cancel is not counted.
func (p *attackPool) hit(w *attackWorker, due time.Time) {
	now := time.Now()
	if now.Sub(due) > LateStartThreshold {
		w.late++
	}
	if w.sent == 0 {
		w.first = now
	}
	w.last = now
	w.sent++
	res, err := p.hc.Do(p.proto.Clone(p.req))
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if err != nil && cancelledByCaller(p.req) {
		// Cut short by the caller (an interrupted run): not counted.
		w.sent--
		return
	}
	_ = w.hist.RecordValue(clampMicros(time.Since(due)))
	if err != nil {
		w.trans++
		return
	}
	w.byStatus[res.StatusCode]++
}

// cancelledByCaller reports whether ctx, a request context made with
// deadline cause errGraceOver, is done for another reason: its parent, the
// caller's context, was cancelled (or expired) first.
func cancelledByCaller(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), errGraceOver)
}
