package sim

import (
	"context"
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
// means NewTransport(); Timeout 0 means no per-request timeout. It is plain
// data: Attack only reads it.
type AttackOptions struct {
	URL        string
	Rate       float64
	Duration   time.Duration
	MaxWorkers int
	Transport  http.RoundTripper
	Timeout    time.Duration
}

// AttackResult is what an attack measured. Latency is from each request's
// scheduled start, so a stalled server shows in the high percentiles.
// Requests cut short by the end of the attack are not counted. It is plain
// data; not safe for concurrent mutation.
type AttackResult struct {
	Sent      int64
	ByStatus  map[int]int64
	Transport int64
	// Late counts requests that left more than LateStartThreshold after
	// their scheduled time because every worker was busy.
	Late int64
	// Rate is the achieved send rate: requests sent / span of send times.
	Rate    float64
	Latency *hdrhistogram.Histogram
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
}

// Attack runs a constant-rate (open model) or maximum-rate (closed loop)
// load against one URL. At a constant rate the calling goroutine is the
// pacer: it decides when each request is due (request n at n/Rate seconds
// from the start, for as long as that is before Duration) and hands it to an
// idle worker, starting a new worker when all are busy, up to MaxWorkers
// (vegeta's design). Latency is measured from each request's due time. Each
// worker records into its own histogram; they are merged at the end, so
// there is no lock on the hot path. Every worker ends with the attack's
// context: after Duration, or sooner when ctx is cancelled. Attack is safe
// for concurrent use when o.Transport is. It returns an error for bad
// options (MaxWorkers <= 0, Rate < 0, Duration <= 0, a URL that does not
// parse) and when merging the histograms drops values; a failed request is
// data, not an error.
func Attack(ctx context.Context, o AttackOptions) (*AttackResult, error) {
	hc, req, err := o.prepare()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()
	p := &attackPool{ctx: ctx, hc: hc, req: req, max: o.MaxWorkers}
	start := time.Now()
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
// goroutine that called Attack (the pacer) touches workers; each worker
// writes only its own attackWorker.
type attackPool struct {
	ctx     context.Context // the attack's: done after Duration or when the caller cancels
	hc      *http.Client
	req     *http.Request
	max     int
	ticks   chan time.Time // due times, from the pacer to an idle worker
	wg      sync.WaitGroup // the running workers
	workers []*attackWorker
}

// start starts one worker running loop with its own records.
func (p *attackPool) start(loop func(*attackWorker)) {
	w := &attackWorker{hist: results.NewLatencyHistogram(), byStatus: map[int]int64{}}
	p.workers = append(p.workers, w)
	p.wg.Go(func() { loop(w) })
}

// closedLoop runs max workers that each send as soon as their previous
// answer came, until the attack ends, and waits for them.
func (p *attackPool) closedLoop() {
	for range p.max {
		p.start(func(w *attackWorker) {
			for p.ctx.Err() == nil {
				w.hit(p.ctx, p.hc, p.req, time.Now())
			}
		})
	}
	p.wg.Wait()
}

// paced runs the open model: the calling goroutine paces s from start and
// dispatches each due time. Shutdown order: the pacer stops (s ended or the
// attack's context is done), ticks is closed so idle workers return, then
// the workers are waited for.
func (p *attackPool) paced(start time.Time, s schedule) {
	p.ticks = make(chan time.Time)
	p.start(p.serve)
	pace(p.ctx, start, s, p.dispatch)
	close(p.ticks)
	p.wg.Wait()
}

// serve is a paced worker: it sends one request per due time it receives.
func (p *attackPool) serve(w *attackWorker) {
	for due := range p.ticks {
		w.hit(p.ctx, p.hc, p.req, due)
	}
}

// dispatch hands due to an idle worker, first starting one when all are
// busy and there are fewer than max. It waits for a worker to be free when
// there are max, and reports false when the attack ended first.
func (p *attackPool) dispatch(_ int, due time.Time) bool {
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
	case <-p.ctx.Done():
		return false
	}
}

// collect merges the workers' records into a result; call it once every
// worker has returned. Errors: a histogram merge that dropped values.
func (p *attackPool) collect(elapsed time.Duration) (*AttackResult, error) {
	res := &AttackResult{ByStatus: map[int]int64{}, Latency: results.NewLatencyHistogram(), Elapsed: elapsed}
	var first, last time.Time
	for _, w := range p.workers {
		if dropped := res.Latency.Merge(w.hist); dropped != 0 {
			return nil, fmt.Errorf("merge histograms: %d values dropped", dropped)
		}
		for st, n := range w.byStatus {
			res.ByStatus[st] += n
		}
		res.Transport += w.trans
		res.Late += w.late
		res.Sent += w.sent
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

// hit sends one request due at due and records its answer, measured from
// due. A request cut short by the end of the attack is not counted.
func (w *attackWorker) hit(ctx context.Context, hc *http.Client, proto *http.Request, due time.Time) {
	now := time.Now()
	if now.Sub(due) > LateStartThreshold {
		w.late++
	}
	if w.sent == 0 {
		w.first = now
	}
	w.last = now
	w.sent++
	res, err := hc.Do(proto.Clone(ctx))
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	if err != nil && ctx.Err() != nil {
		// Cut short by the end of the attack: not an answer, not counted.
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
