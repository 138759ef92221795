package capacity

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// Outcomes of a design's search (Design.Outcome).
const (
	// OutcomeFound: the SLO holds at MaxScale and fails at FailScale, at
	// most the tolerance above it.
	OutcomeFound = "found"
	// OutcomeFailsAtMin: the SLO fails already at the smallest scale
	// searched; MaxScale is 0.
	OutcomeFailsAtMin = "fails_at_min_scale"
	// OutcomeHoldsAtMax: the SLO still holds at the largest scale searched,
	// MaxScale; the capacity is at least that.
	OutcomeHoldsAtMax = "holds_at_max_scale"
)

// Phases of a step (Step.Phase).
const (
	PhaseStart  = "start"
	PhaseDouble = "double"
	PhaseHalve  = "halve"
	PhaseBisect = "bisect"
	// PhaseConfirm is a step of a confirmation on another engine.
	PhaseConfirm = "confirm"
)

// StepRun is one run the search asks for: the crowd at Scale, drawn with
// Seed (derived from the scenario's seed, the scale and Attempt by
// StepSeed). Attempt is 0, or 1, 2, ... for the reruns of a step noise could
// flip.
type StepRun struct {
	Scale   float64
	Seed    int64
	Attempt int
}

// StepFunc runs one step on an engine and returns the design's result.
// An error ends the search with that error.
type StepFunc func(ctx context.Context, run StepRun) (*results.DesignResult, error)

// Options configure Search. Start from DefaultOptions. A value type.
type Options struct {
	// SLO must hold at a step for it to pass.
	SLO SLO
	// Seed is the scenario's seed; each step's seed derives from it.
	Seed int64
	// Start is the first scale tried; the search doubles from there while
	// the SLO holds, halves while it fails, down to Min and up to Max.
	Start, Min, Max float64
	// Tolerance is how close, relative, the passing and failing scales
	// must be when bisection stops: 0.05 stops when the failing scale is
	// at most 5% above the passing one.
	Tolerance float64
	// NoiseMargin: a step where some term lies within this share of its
	// limit (either side) is rerun Reruns more times with other seeds, and
	// the majority decides. 0 never reruns.
	NoiseMargin float64
	Reruns      int
	// Rate returns the crowd's peak arrival rate (people/s) at a scale.
	Rate func(scale float64) float64
	// MaxSteps bounds the steps of one search (reruns not counted).
	MaxSteps int
}

// DefaultOptions returns the defaults: start at scale 1, search from
// 1/64 to 64, stop within 5%, rerun twice (a majority of three) a step
// within 10% of a limit, at most 40 steps.
func DefaultOptions() Options {
	return Options{Start: 1, Min: 1.0 / 64, Max: 64, Tolerance: 0.05, NoiseMargin: 0.10, Reruns: 2, MaxSteps: 40}
}

// Validate returns every problem of o.
func (o Options) Validate() []error {
	var errs []error
	bad := func(x float64) bool { return math.IsNaN(x) || math.IsInf(x, 0) || x <= 0 }
	if len(o.SLO) == 0 {
		errs = append(errs, errors.New("no SLO terms"))
	}
	if bad(o.Min) || bad(o.Max) || bad(o.Start) {
		errs = append(errs, fmt.Errorf("scales %v, %v, %v: want positive finite numbers", o.Min, o.Start, o.Max))
	} else if o.Min > o.Start || o.Start > o.Max {
		errs = append(errs, fmt.Errorf("start scale %v: want it between the min scale %v and the max scale %v", o.Start, o.Min, o.Max))
	}
	if !(o.Tolerance > 0 && o.Tolerance < 1) {
		errs = append(errs, fmt.Errorf("tolerance %v: want a share between 0 and 1 (exclusive), such as 5%%", o.Tolerance))
	}
	if !(o.NoiseMargin >= 0 && o.NoiseMargin < 1) || o.Reruns < 0 {
		errs = append(errs, fmt.Errorf("noise margin %v and reruns %d: want a share in [0, 1) and a count of 0 or more", o.NoiseMargin, o.Reruns))
	}
	if o.Rate == nil {
		errs = append(errs, errors.New("no arrival rate function"))
	}
	if o.MaxSteps < 1 {
		errs = append(errs, fmt.Errorf("max steps %d: want at least 1", o.MaxSteps))
	}
	return errs
}

// StepSeed returns the seed of a run at scale (attempt 0, or a rerun's
// number) derived from the scenario's seed base: the same inputs always
// give the same seed, so a search is deterministic; it is non-negative.
func StepSeed(base int64, scale float64, attempt int) int64 {
	x := splitmix64(uint64(base) ^ 0x5107_4a55_c0de_0000)
	x = splitmix64(x ^ math.Float64bits(scale))
	x = splitmix64(x ^ uint64(attempt))
	return int64(x & math.MaxInt64)
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// searcher is the state of one design's search.
type searcher struct {
	o     Options
	run   StepFunc
	steps []Step
	seen  map[float64]int // scale → index in steps
}

// Search finds, for one design, the largest scale of the crowd at which
// every term of o.SLO holds: it runs o.Start, doubles while the SLO holds
// (halves while it fails), then bisects between the last scale that held
// and the first that failed until they are within o.Tolerance. Every step
// is one call of run; a step that noise could flip (a term within
// o.NoiseMargin of its limit) is run o.Reruns more times with other seeds,
// and the majority decides (the step says so). It returns the design's
// capacity with every step, in the order they ran, without the USL fit
// (FitDesign adds it). It returns an error for invalid options, an error
// of run, or ctx's.
func Search(ctx context.Context, design string, o Options, run StepFunc) (*Design, error) {
	if errs := o.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("capacity search: %w", errors.Join(errs...))
	}
	s := &searcher{o: o, run: run, seen: map[float64]int{}}
	out := &Design{Design: design}
	lo, hi, err := s.bracket(ctx)
	if err != nil {
		return nil, err
	}
	switch {
	case hi == 0:
		out.Outcome, out.MaxScale = OutcomeHoldsAtMax, lo
	case lo == 0:
		out.Outcome, out.FailScale = OutcomeFailsAtMin, hi
	default:
		if lo, hi, err = s.bisect(ctx, lo, hi); err != nil {
			return nil, err
		}
		out.Outcome, out.MaxScale, out.FailScale = OutcomeFound, lo, hi
	}
	out.Steps = s.steps
	if out.MaxScale > 0 {
		out.MaxArrivalRatePerS = o.Rate(out.MaxScale)
	}
	if out.FailScale > 0 {
		out.FailArrivalRatePerS = o.Rate(out.FailScale)
		out.Binding = s.steps[s.seen[out.FailScale]].Binding
	}
	return out, nil
}

// bracket returns the largest passing scale lo and the smallest failing
// scale hi seen while doubling or halving from Start: hi 0 when the SLO
// held up to Max, lo 0 when it failed down to Min.
func (s *searcher) bracket(ctx context.Context) (lo, hi float64, err error) {
	scale := s.o.Start
	pass, err := s.step(ctx, scale, PhaseStart)
	if err != nil {
		return 0, 0, err
	}
	for pass {
		if scale >= s.o.Max {
			return scale, 0, nil
		}
		lo, scale = scale, math.Min(2*scale, s.o.Max)
		if pass, err = s.step(ctx, scale, PhaseDouble); err != nil {
			return 0, 0, err
		}
		if !pass {
			return lo, scale, nil
		}
	}
	for !pass {
		if scale <= s.o.Min {
			return 0, scale, nil
		}
		hi, scale = scale, math.Max(scale/2, s.o.Min)
		if pass, err = s.step(ctx, scale, PhaseHalve); err != nil {
			return 0, 0, err
		}
	}
	return scale, hi, nil
}

// bisect narrows [lo, hi] until hi is within the tolerance above lo.
func (s *searcher) bisect(ctx context.Context, lo, hi float64) (float64, float64, error) {
	for hi-lo > s.o.Tolerance*lo {
		mid := (lo + hi) / 2
		if mid <= lo || mid >= hi {
			break // the floats cannot be split further
		}
		pass, err := s.step(ctx, mid, PhaseBisect)
		if err != nil {
			return 0, 0, err
		}
		if pass {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo, hi, nil
}

// step runs scale (once, however often the search asks) and returns
// whether the SLO held there.
func (s *searcher) step(ctx context.Context, scale float64, phase string) (bool, error) {
	if i, ok := s.seen[scale]; ok {
		return s.steps[i].Pass, nil
	}
	if len(s.steps) >= s.o.MaxSteps {
		return false, fmt.Errorf("capacity search: more than %d steps without converging (tolerance %v)", s.o.MaxSteps, s.o.Tolerance)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	st, err := RunStep(ctx, s.o, s.run, scale, phase)
	if err != nil {
		return false, err
	}
	s.seen[scale] = len(s.steps)
	s.steps = append(s.steps, st)
	return st.Pass, nil
}

// RunStep runs one step at scale with o's SLO, seeds and noise rule (the
// reruns of a step near a limit) and returns it, labelled phase. Search
// uses it for every step, a confirmation on another engine for its own.
func RunStep(ctx context.Context, o Options, run StepFunc, scale float64, phase string) (Step, error) {
	first, err := measureRun(ctx, o, run, scale, 0)
	if err != nil {
		return Step{}, err
	}
	st := newStep(o, scale, phase, first)
	term, near := nearLimit(first.m.Terms, o.SLO, o.NoiseMargin)
	if !near || o.Reruns == 0 {
		return st, nil
	}
	runs := []measured{first}
	votes := 0
	if first.m.Pass {
		votes++
	}
	for a := 1; a <= o.Reruns; a++ {
		r, err := measureRun(ctx, o, run, scale, a)
		if err != nil {
			return Step{}, err
		}
		runs = append(runs, r)
		if r.m.Pass {
			votes++
		}
	}
	pass := 2*votes > len(runs)
	verdicts := make([]string, len(runs))
	for i, r := range runs {
		verdicts[i] = verdictWord(r.m.Pass)
		st.Verdicts = append(st.Verdicts, r.m.Pass)
	}
	for _, r := range runs {
		if r.m.Pass == pass { // the first run that agrees with the majority speaks for the step
			kept := newStep(o, scale, phase, r)
			kept.Verdicts = st.Verdicts
			st = kept
			break
		}
	}
	st.Runs = len(runs)
	st.Note = fmt.Sprintf("run %d times: %s was within %s of its limit; verdicts %s: %s by majority",
		len(runs), term, FormatValue(UnitShare, o.NoiseMargin), strings.Join(verdicts, ", "), verdictWord(pass))
	return st, nil
}

// measured is one run's measurement and the seed it ran with.
type measured struct {
	m    Measurement
	seed int64
}

func measureRun(ctx context.Context, o Options, run StepFunc, scale float64, attempt int) (measured, error) {
	seed := StepSeed(o.Seed, scale, attempt)
	d, err := run(ctx, StepRun{Scale: scale, Seed: seed, Attempt: attempt})
	if err != nil {
		return measured{}, fmt.Errorf("step at scale %g: %w", scale, err)
	}
	if d == nil {
		return measured{}, fmt.Errorf("step at scale %g: the engine returned no result", scale)
	}
	return measured{m: o.SLO.Measure(d), seed: seed}, nil
}

func newStep(o Options, scale float64, phase string, r measured) Step {
	return Step{
		Scale: scale, Phase: phase, Seed: r.seed, People: r.m.People, Booked: r.m.Booked,
		ArrivalRatePerS: o.Rate(scale), ThroughputPerS: r.m.Throughput,
		Terms: r.m.Terms, Pass: r.m.Pass, Binding: binding(r.m.Terms, o.SLO), Runs: 1,
	}
}

func verdictWord(pass bool) string {
	if pass {
		return "pass"
	}
	return "fail"
}
