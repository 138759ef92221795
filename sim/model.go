package sim

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

// ModelEpoch is the wall-clock time of the model's virtual t=0, the
// announced opening: the Unix epoch, so a model result's timeline has
// t_unix equal to t_s, the same in every run.
var ModelEpoch = time.Unix(0, 0).UTC()

// ModelParams are the parameters of the model of a design (see the package
// documentation). Build them with DefaultModelParams or CalibrateModel and
// adjust fields as needed. A ModelParams is a value; do not modify one that
// a running simulation uses.
type ModelParams struct {
	// RTT is the network round trip between a user and the server, drawn
	// for each request: half of it on the way in, half on the way out.
	RTT Dist
	// Extra adds, per operation ("list_slots", "book", "queue"), a constant
	// to each request's way back: time a live client spends on that
	// operation outside the server beyond the round trip (bigger bodies,
	// token checks, contention for the machine's cores). Nil: none.
	Extra map[string]time.Duration
	// Front is the server's time for an answer that touches no store:
	// list_ppvs and every refusal decided in memory.
	Front Dist
	// Read is the time to read one partition's slots of a PPV.
	Read Dist
	// A group commit of n bookings lasts CommitBase + n·CommitPerBooking,
	// times a draw of CommitShape divided by CommitShape's mean: the shape
	// (spread and tail) of commit times, whatever its scale. A zero
	// CommitShape is no noise.
	CommitBase       time.Duration
	CommitPerBooking time.Duration
	CommitShape      Dist
	// MaxBatch bounds the bookings of one group commit.
	MaxBatch int
	// Calibration records each parameter's value and provenance; model
	// results carry it.
	Calibration []results.CalibratedParameter
}

// Defaults of the model, all assumed (see DefaultModelParams).
const (
	DefaultModelRTT              = 200 * time.Microsecond
	DefaultModelFrontMedian      = 30 * time.Microsecond
	DefaultModelFrontSigma       = 0.5
	DefaultModelReadMedian       = 75 * time.Microsecond
	DefaultModelReadSigma        = 0.4
	DefaultModelCommitBase       = 275 * time.Microsecond
	DefaultModelCommitPerBooking = 58 * time.Microsecond
	DefaultModelCommitSigma      = 0.25 // of the lognormal CommitShape
	DefaultModelMaxBatch         = 512
)

// DefaultModelParams returns the assumed parameters, each marked not
// measured in Calibration:
//
//   - RTT: a constant 200 µs, an HTTP/1.1 keep-alive round trip over
//     loopback on a 2-core machine, so that the model mimics a live run on
//     one machine; set it to tens of milliseconds for users on the Internet.
//   - Front: lognormal, median 30 µs, σ 0.5 (an in-memory answer).
//   - Read: lognormal, median 75 µs, σ 0.4 (DESIGN.md: a read takes
//     about 50-100 µs).
//   - Group commit: 275 µs + 58 µs per booking, lognormal shape of σ 0.25
//     (assumed). Derived from
//     DESIGN.md: one booking per transaction at synchronous=FULL tops out
//     near 3k tx/s (333 µs each), and a writer committing in batches
//     reached 16k tx/s (62.5 µs each at batches of ~64).
//   - MaxBatch 512, the reference server's default.
func DefaultModelParams() ModelParams {
	p := ModelParams{
		RTT:              ConstantDist(DefaultModelRTT),
		Front:            LogNormalDist(DefaultModelFrontMedian, DefaultModelFrontSigma),
		Read:             LogNormalDist(DefaultModelReadMedian, DefaultModelReadSigma),
		CommitBase:       DefaultModelCommitBase,
		CommitPerBooking: DefaultModelCommitPerBooking,
		CommitShape:      LogNormalDist(time.Millisecond, DefaultModelCommitSigma),
		MaxBatch:         DefaultModelMaxBatch,
	}
	assumed := func(name string, v float64, unit, why string) {
		p.Calibration = append(p.Calibration, results.CalibratedParameter{Name: name, Value: v, Unit: unit, Source: "assumed default: " + why})
	}
	assumed(ParamRTT, ms(p.RTT.MeanDuration()), "ms", "constant 200µs: an HTTP/1.1 keep-alive round trip over loopback on a 2-core machine")
	assumed(ParamFront, ms(p.Front.MeanDuration()), "ms", "lognormal, median 30µs, σ 0.5: an answer from memory")
	assumed(ParamRead, ms(p.Read.MeanDuration()), "ms", "lognormal, median 75µs, σ 0.4: DESIGN.md, a SQLite read takes about 50-100µs")
	assumed(ParamCommitBase, ms(p.CommitBase), "ms", "DESIGN.md: one booking per transaction at synchronous=FULL tops out near 3k tx/s, group commit reached 16k tx/s (derived)")
	assumed(ParamCommitPer, ms(p.CommitPerBooking), "ms", "DESIGN.md: group commit reached 16k tx/s (derived with the base above)")
	assumed(ParamCommitShape, shapeRatio(p.CommitShape), "p90/p50", "lognormal, σ 0.25: the spread of a group commit's duration")
	assumed(ParamMaxBatch, float64(p.MaxBatch), "bookings", "the reference server's default (sqlitestore.WithMaxBatch)")
	return p
}

// Names of the model parameters in Calibration.
const (
	ParamRTT         = "network round trip (mean)"
	ParamFront       = "in-memory answer service time (mean)"
	ParamRead        = "partition read service time (mean)"
	ParamCommitBase  = "group commit base time"
	ParamCommitPer   = "group commit time per booking"
	ParamCommitShape = "group commit time spread"
	ParamMaxBatch    = "group commit max batch"
	ParamMeanBatch   = "live mean batch size"
	// ParamExtraPrefix prefixes the parameter of each operation's Extra.
	ParamExtraPrefix = "client-side time beyond the round trip: "
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// shapeRatio returns d's 90th percentile over its median (1 for no spread).
func shapeRatio(d Dist) float64 {
	if m := d.Quantile(0.5); m > 0 {
		return float64(d.Quantile(0.9)) / float64(m)
	}
	return 1
}

// PartitionModelStats counts what one partition of a model did.
type PartitionModelStats struct {
	Key      string
	Capacity int64
	// Committed counts bookings committed; SoldOut the attempts answered
	// sold_out (by the flag or at commit).
	Committed, SoldOut int64
	// Throttled and ThrottledReads count writes and reads answered 429;
	// a listing refused for another partition's bucket is not counted here.
	Throttled, ThrottledReads int64
	// Shed and ShedReads count writes and reads answered 503 overloaded.
	Shed, ShedReads int64
	// Reads counts partition reads charged.
	Reads int64
	// Batches counts group commits and Attempts the bookings in them.
	Batches, Attempts int64
	// BusyNanos is the writer's time inside group commits.
	BusyNanos int64
	// Faulted counts the store operations an injected fault acted on:
	// bookings refused (down) or failed (errors), group commits delayed
	// (slow).
	Faulted int64
}

// ModelStats is what one model run cost and counted.
type ModelStats struct {
	Design string
	// Events counts the events processed: users' arrivals, requests
	// reaching the server, ends of reads and group commits, timeouts. Inline
	// counts those of them handled without the event queue (bookings
	// answered not_open before the opening, in a loop per user). Requests
	// counts the requests recorded.
	Events, Inline uint64
	Requests       int64
	// Virtual is the simulated time; Wall the real time it took.
	Virtual, Wall time.Duration
	Partitions    []PartitionModelStats
}

// EventsPerSecond returns the events processed per second of real time.
func (s ModelStats) EventsPerSecond() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Events) / s.Wall.Seconds()
}

// SimulateDesign runs the model of design d under scenario sc (valid, with
// defaults) for crowd (sc.Arrivals(seed)), and returns the design's result
// and what the run cost. seed also seeds the model's service times. It
// returns an error for invalid parameters or when ctx ends first. It is safe
// for concurrent use with other calls: crowd is only read.
func SimulateDesign(ctx context.Context, sc *scenarios.Scenario, d models.Design, inv *models.Inventory, crowd []scenarios.Arrival, seed int64, p ModelParams) (*results.DesignResult, ModelStats, error) {
	return SimulateDesignFaults(ctx, sc, d, inv, crowd, seed, p, nil)
}

// SimulateDesignFaults is SimulateDesign with the faults specs injected
// into the design's partitions, resolved (each names a partition key of d,
// as fault.Resolve returns them): a down partition answers bookings 503
// partition_unavailable at once, without taking from its write budget, and
// its days are left out of listings; a slow one adds the delay to its reads
// and group commits; an errors one fails that share of booking attempts
// with 500, drawn from the model's seeded random source. The design's
// result carries the faults' blast radius.
func SimulateDesignFaults(ctx context.Context, sc *scenarios.Scenario, d models.Design, inv *models.Inventory, crowd []scenarios.Arrival, seed int64, p ModelParams, faults []fault.Spec) (*results.DesignResult, ModelStats, error) {
	start := time.Now()
	m, err := newModelRun(sc, d, inv, crowd, seed, p)
	if err != nil {
		return nil, ModelStats{}, err
	}
	m.setFaults(faults)
	if err := m.run(ctx); err != nil {
		return nil, ModelStats{}, fmt.Errorf("model of %s: %w", d.Name, err)
	}
	dr := &results.DesignResult{
		Design: d.Name,
		Assumptions: results.Assumptions{
			Scheme: d.Scheme, Partitions: len(m.parts), Limits: d.Limits, WaitingRoom: d.WaitingRoom,
			Store: fmt.Sprintf("model: one store per partition, one writer with group commit (%v + %v a booking, at most %d), reads %v",
				p.CommitBase, p.CommitPerBooking, p.MaxBatch, p.Read),
			Durability: "model: a 201 is answered when its group commit ends (the reference server's WAL, synchronous=FULL)",
		},
		Calibration: append([]results.CalibratedParameter(nil), p.Calibration...),
	}
	for u := range m.users {
		// Still trying when the run ended: its last request unanswered.
		if us := &m.users[u]; us.phase == phaseSent {
			m.rec.Finished(u, StillWaiting, &us.j, false, 0)
		}
	}
	if err := m.tally.mergeInto(m.rec); err != nil {
		return nil, ModelStats{}, fmt.Errorf("model of %s: %w", d.Name, err)
	}
	ids, err := m.rec.Fill(dr)
	if err != nil {
		return nil, ModelStats{}, fmt.Errorf("model of %s: %w", d.Name, err)
	}
	dr.Requests.GatewayThrottled = m.gatewayRefused()
	virtual := m.end
	if m.q.pending() == 0 {
		virtual = min(m.end, m.lastEvent)
	}
	dr.DurationS = time.Duration(virtual).Seconds()
	dr.BlastRadius = m.blastRadius(dr)
	var booked int64
	for i := range m.slots {
		booked += int64(m.slots[i].capacity - m.slots[i].remaining)
	}
	dr.Slots = results.Slots{
		Capacity: int64(inv.TotalCapacity()), Booked: booked, Answered201: int64(len(ids)),
		Persisted: booked,
	}
	for i := range m.slots {
		if m.slots[i].remaining < 0 {
			dr.Slots.Oversold -= int64(m.slots[i].remaining)
		}
	}
	st := ModelStats{
		Design: d.Name, Events: m.q.popped + uint64(m.arrivals()) + m.inline, Inline: m.inline, Requests: m.requests,
		Virtual: time.Duration(virtual), Wall: time.Since(start),
	}
	for i := range m.parts {
		st.Partitions = append(st.Partitions, m.parts[i].stats)
	}
	return dr, st, nil
}

// arrivals returns how many users arrived.
func (m *modelRun) arrivals() int {
	n := 0
	for i := range m.users {
		if m.users[i].phase != phaseIdle {
			n++
		}
	}
	return n
}

// ModelOption configures Simulate.
type ModelOption func(*modelConfig)

type modelConfig struct {
	params   func(design string) ModelParams
	parallel int
	progress func(ModelStats)
	partial  func(*results.Result)
	faults   func(design string) []fault.Spec
}

// WithModelFaults sets the faults injected into each design, resolved to
// its partitions (fault.Resolve); default none. See SimulateDesignFaults.
func WithModelFaults(f func(design string) []fault.Spec) ModelOption {
	return func(c *modelConfig) { c.faults = f }
}

// WithModelParams sets the parameters of each design (default:
// DefaultModelParams for every design).
func WithModelParams(f func(design string) ModelParams) ModelOption {
	return func(c *modelConfig) {
		if f != nil {
			c.params = f
		}
	}
}

// WithParallelism sets how many designs are simulated at once (default
// GOMAXPROCS). Each design is independent; results do not depend on it.
func WithParallelism(n int) ModelOption {
	return func(c *modelConfig) {
		if n > 0 {
			c.parallel = n
		}
	}
}

// WithModelProgress calls f with each design's statistics when its run ends,
// from the goroutine that ran it (calls may be concurrent).
func WithModelProgress(f func(ModelStats)) ModelOption {
	return func(c *modelConfig) { c.progress = f }
}

// WithModelPartial calls f each time a design's run ends with the result so
// far: the designs finished, in the order of the designs given, finished_at
// now, and marked interrupted until every design has finished (a run that
// stops there did not complete), so that a caller can write each design
// down as soon as it is done. Calls are one at a time, from the goroutines
// running the designs. f may keep and modify the *Result it gets, but not
// the maps inside its designs, which later calls share.
func WithModelPartial(f func(*results.Result)) ModelOption {
	return func(c *modelConfig) { c.partial = f }
}

// Simulate runs the model of each design for the scenario's crowd of seed
// and returns the result (engine "model"; started_at and finished_at are
// wall-clock times, environment is left for the caller) and each design's
// statistics, in the order of designs. sc must be valid with defaults
// filled (as scenarios.Load returns it). Designs run concurrently (see
// WithParallelism); the result does not depend on how. A design's error
// (invalid parameters) ends Simulate with it and no result. When ctx ends
// first, Simulate starts no more designs and returns, with an error
// wrapping ctx's, the result of the designs that finished (possibly none)
// marked interrupted, and their statistics.
func Simulate(ctx context.Context, sc *scenarios.Scenario, designs []models.Design, seed int64, opts ...ModelOption) (*results.Result, []ModelStats, error) {
	cfg := modelConfig{params: func(string) ModelParams { return DefaultModelParams() }, parallel: runtime.GOMAXPROCS(0)}
	for _, o := range opts {
		o(&cfg)
	}
	if len(designs) == 0 {
		return nil, nil, errors.New("simulate: no designs")
	}
	res := &results.Result{
		Format: results.FormatVersion, Scenario: sc.Name, Engine: results.EngineModel, Seed: seed,
		StartedAt: time.Now().UTC(),
	}
	for _, kv := range sc.Parameters() {
		res.Parameters = append(res.Parameters, results.Parameter{Name: kv[0], Value: kv[1]})
	}
	res.Observed = ObservedOf(sc)
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(seed)
	if crowd == nil && sc.Crowd.Size > 0 {
		return nil, nil, fmt.Errorf("simulate: scenario %q yields no crowd (invalid arrival spec?)", sc.Name)
	}
	runs := &designRuns{res: res, designs: designs, partial: cfg.partial,
		out: make([]*results.DesignResult, len(designs)), stats: make([]ModelStats, len(designs)), errs: make([]error, len(designs))}
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.parallel, len(designs)) {
		wg.Go(func() {
			for i := range work {
				var faults []fault.Spec
				if cfg.faults != nil {
					faults = cfg.faults(designs[i].Name)
				}
				dr, st, err := SimulateDesignFaults(ctx, sc, designs[i], &inv, crowd, seed, cfg.params(designs[i].Name), faults)
				if err == nil && cfg.progress != nil {
					cfg.progress(st)
				}
				runs.finish(i, dr, st, err)
			}
		})
	}
dispatch:
	for _, i := range dispatchOrder(designs, cfg.parallel) {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- i:
		case <-ctx.Done():
			break dispatch
		}
	}
	close(work)
	wg.Wait()
	return runs.result(ctx)
}

// dispatchOrder returns the order in which Simulate starts the designs,
// parallel at a time. One at a time, the order given, so that they finish
// in it. Several at a time, those behind a waiting room first, whose people
// poll the room until admitted and so make the most events, then the
// others, each group in the order given: starting the longest runs first
// keeps the workers busy to the end instead of leaving one long run alone
// at the end. The result does not depend on the order.
func dispatchOrder(designs []models.Design, parallel int) []int {
	order := make([]int, 0, len(designs))
	if parallel <= 1 {
		for i := range designs {
			order = append(order, i)
		}
		return order
	}
	for _, room := range []bool{true, false} {
		for i := range designs {
			if designs[i].WaitingRoom == room {
				order = append(order, i)
			}
		}
	}
	return order
}

// designRuns collects the designs' runs of one Simulate as they end.
type designRuns struct {
	res     *results.Result // the header; its designs are filled by result
	designs []models.Design
	partial func(*results.Result)

	mu    sync.Mutex // guards out, stats and errs, and serializes the calls of partial
	out   []*results.DesignResult
	stats []ModelStats
	errs  []error
}

// finish records the end of design i's run and, when it succeeded, hands
// the result so far to partial.
func (r *designRuns) finish(i int, dr *results.DesignResult, st ModelStats, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.out[i], r.stats[i], r.errs[i] = dr, st, err
	if err != nil || r.partial == nil {
		return
	}
	snap, _ := r.collect()
	snap.Interrupted = len(snap.Designs) < len(r.designs)
	r.partial(snap)
}

// collect returns a copy of the result with the designs finished so far,
// finished now, and their statistics. Call with mu held.
func (r *designRuns) collect() (*results.Result, []ModelStats) {
	snap := *r.res
	snap.Designs = nil
	var stats []ModelStats
	for i, dr := range r.out {
		if dr != nil {
			snap.Designs = append(snap.Designs, *dr)
			stats = append(stats, r.stats[i])
		}
	}
	snap.FinishedAt = time.Now().UTC()
	snap.FillMilestones()
	return &snap, stats
}

// result returns Simulate's answer once every run has ended: the first
// design's error other than ctx's, else the result (interrupted when ctx
// ended before every design finished).
func (r *designRuns) result(ctx context.Context) (*results.Result, []ModelStats, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, err := range r.errs {
		if err != nil && (ctx.Err() == nil || !errors.Is(err, ctx.Err())) {
			return nil, nil, fmt.Errorf("simulate design %s: %w", r.designs[i].Name, err)
		}
	}
	res, stats := r.collect()
	if len(res.Designs) < len(r.designs) {
		res.Interrupted = true
		return res, stats, fmt.Errorf("simulate: %d of %d designs finished: %w", len(res.Designs), len(r.designs), ctx.Err())
	}
	return res, stats, nil
}
