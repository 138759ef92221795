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
// MaxWorkers closed-loop workers can go (vegeta's -rate=0).
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

type tick struct{ due time.Time }

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
// load against one URL. The pacer is a single goroutine that decides when
// each request is due and hands it to an idle worker, starting a new worker
// when all are busy, up to MaxWorkers (vegeta's design). Each worker records
// into its own histogram; they are merged at the end, so there is no lock on
// the hot path. It returns an error only for bad options.
func Attack(ctx context.Context, o AttackOptions) (*AttackResult, error) {
	if o.MaxWorkers <= 0 {
		return nil, fmt.Errorf("max workers %d: want > 0", o.MaxWorkers)
	}
	if o.Rate < 0 || o.Duration <= 0 {
		return nil, fmt.Errorf("rate %v and duration %v: want rate >= 0 and duration > 0", o.Rate, o.Duration)
	}
	if o.Transport == nil {
		o.Transport = NewTransport()
	}
	hc := &http.Client{Transport: o.Transport, Timeout: o.Timeout}
	req, err := http.NewRequest(http.MethodGet, o.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("bad url %q: %w", o.URL, err)
	}
	ctx, cancel := context.WithTimeout(ctx, o.Duration)
	defer cancel()

	var (
		mu      sync.Mutex // guards workers
		workers []*attackWorker
		wg      sync.WaitGroup
	)
	ticks := make(chan tick)
	spawn := func() {
		w := &attackWorker{hist: results.NewLatencyHistogram(), byStatus: map[int]int64{}}
		mu.Lock()
		workers = append(workers, w)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o.Rate == 0 {
				for ctx.Err() == nil {
					w.hit(ctx, hc, req, time.Now())
				}
				return
			}
			for t := range ticks {
				w.hit(ctx, hc, req, t.due)
			}
		}()
	}

	start := time.Now()
	if o.Rate == 0 {
		for range o.MaxWorkers {
			spawn()
		}
		wg.Wait()
	} else {
		spawn()
		interval := time.Duration(float64(time.Second) / o.Rate)
		timer := time.NewTimer(0)
		<-timer.C
	pace:
		for n := 0; ; n++ {
			due := start.Add(time.Duration(n) * interval)
			if due.Sub(start) >= o.Duration {
				break
			}
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-ctx.Done():
					break pace
				case <-timer.C:
				}
			}
			select {
			case ticks <- tick{due}:
				continue
			default:
			}
			mu.Lock()
			n := len(workers)
			mu.Unlock()
			if n < o.MaxWorkers {
				spawn()
			}
			select {
			case ticks <- tick{due}:
			case <-ctx.Done():
				break pace
			}
		}
		timer.Stop()
		close(ticks)
		wg.Wait()
	}
	res := &AttackResult{ByStatus: map[int]int64{}, Latency: results.NewLatencyHistogram(), Elapsed: time.Since(start)}
	var first, last time.Time
	for _, w := range workers {
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
