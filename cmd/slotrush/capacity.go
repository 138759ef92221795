package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/capacity"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reports"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

func init() { addCommand(newCapacityCmd) }

// capacityOptions are the flags of capacity.
type capacityOptions struct {
	scenario    string
	designs     []string
	slo         string
	engine      string
	confirm     string
	calibrate   string
	tolerance   string
	noiseMargin string
	reruns      int
	startScale  float64
	minScale    float64
	maxScale    float64
	parallel    int
	out         string
	seed        int64
	seedSet     bool
	startSet    bool // --start-scale was given; else it is clamped into [--min-scale, --max-scale]
	quiet       bool
	noReport    bool
}

const capacityLong = `capacity answers "how big a crowd can this design take before people suffer?".

What varies is the crowd's size: the scenario's crowd at scale S (as simulate
--scale: people, places and piecewise rates times S, the arrival curve's shape
and the ratio of people to places kept, per-partition limits unchanged). The
answer is, per design, the largest scale at which every SLO term holds and the
crowd's peak arrival rate there (people/s).

The SLO (--slo) is comma-separated terms:
  book.p99<=500ms          any operation (book, list_slots, list_ppvs, queue), any percentile
  errors<=1%               429, 5xx and timeouts (and answers outside the API), of all requests
  booked_share>=95%        people who got a place, of min(people, places)
  retry_amplification<=1.5 requests the API received per request people meant
  time_to_book.p90<=60s    arrival to booking, of the people who booked
A bad term exits 2 naming the term and its column.

The search, per design: run --start-scale; double while the SLO holds (halve
while it fails) within [--min-scale, --max-scale]; then bisect until the
failing scale is within --tolerance of the passing one. Every step is a full
run of --engine: the model (default, calibrated with --calibrate RESULT.json
as simulate does) or live (the in-process reference server, as run does; for
small scenarios). Each step's seed derives from the scenario's seed and the
scale, so a search is deterministic. A step with a term within --noise-margin
of its limit is rerun --reruns more times with other seeds and the majority
decides; the step says so. --max-scale is lowered, with a note, to what the
scenario's bounds and the memory allow.

--confirm live (with --engine model) checks each boundary live: just below
it must pass and just above it must fail; where one does not, one bisection
step further out is tried. The verdicts go beside the model's; a boundary the
live runs disagree with even one step out exits 1.

Per design the Universal Scalability Law X(N) = λN/(1+σ(N−1)+κN(N−1)) is
fitted to the bookings/s at the crowd's peak (X) against the offered load (N, people/s) of
the steps: σ, κ, λ, the predicted peak and the fit's error; or why the steps
cannot support a fit.

It writes OUT/capacity.json (format slotrush-capacity/1), OUT/index.html
with the verdict in words and a plot of throughput and the binding metric
against offered load (unless --no-report). An SLO that fails already at
--min-scale, or still holds at --max-scale, is an answer (exit 0) said as
such. Exit codes: 0 an answer, 1 a live confirmation that disagrees or a
failure while running, 2 bad input.`

func newCapacityCmd() *cobra.Command {
	o := &capacityOptions{}
	def := capacity.DefaultOptions()
	cmd := &cobra.Command{
		Use:   "capacity --scenario NAME|FILE --slo TERMS [--design a,b] [--engine model|live] [--confirm live] [--out DIR]",
		Short: "Find the biggest rush each design takes within an SLO (people/s)",
		Long:  capacityLong,
		Example: `  slotrush capacity --scenario demo --design monolithic,per-ppv-day --slo 'book.p99<=500ms,errors<=1%'
  slotrush capacity --scenario ci-smoke --slo 'errors<=5%' --confirm live --calibrate out/live/result.json
  slotrush compare out/base/capacity.json out/capacity/capacity.json --capacity-drop 10%`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.seedSet = cmd.Flags().Changed("seed")
			o.startSet = cmd.Flags().Changed("start-scale")
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs to search, comma separated (default: the scenario's)")
	f.StringVar(&o.slo, "slo", "", "the objective, comma-separated terms such as book.p99<=500ms,errors<=1% (required)")
	f.StringVar(&o.engine, "engine", capacity.EngineModel, "engine of every step: model or live")
	f.StringVar(&o.confirm, "confirm", "", "check each boundary on this engine too: live (with --engine model)")
	f.StringVar(&o.calibrate, "calibrate", "", "live result to measure the model's parameters from (as simulate)")
	f.StringVar(&o.tolerance, "tolerance", "5%", "stop bisecting when the failing scale is within this of the passing one")
	f.StringVar(&o.noiseMargin, "noise-margin", "10%", "rerun a step whose term lies within this of its limit (0 never reruns)")
	f.IntVar(&o.reruns, "reruns", def.Reruns, "extra runs of a step noise could flip (the majority decides)")
	f.Float64Var(&o.startScale, "start-scale", def.Start, "first scale tried")
	f.Float64Var(&o.minScale, "min-scale", def.Min, "smallest scale tried")
	f.Float64Var(&o.maxScale, "max-scale", def.Max, "largest scale tried")
	f.IntVar(&o.parallel, "parallel", 0, "designs searched at once on the model (default: the number of CPUs; live: 1)")
	f.StringVar(&o.out, "out", "out/capacity", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "the seed steps derive theirs from (default: the scenario's)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no line per step")
	f.BoolVar(&o.noReport, "no-report", false, "write capacity.json only, no HTML page")
	return cmd
}

// capacityPlan is what capacity's flags resolve to.
type capacityPlan struct {
	base    *scenarios.Scenario
	designs []models.Design
	opts    capacity.Options
	params  func(string) sim.ModelParams // the model's, per design
	notes   []string                     // assumptions the flags add
}

// plan checks the flags and loads what they name. Every error is a bad
// input.
func (o *capacityOptions) plan() (*capacityPlan, error) {
	if o.slo == "" {
		return nil, badInput("--slo is required: the objective every step must meet, such as --slo 'book.p99<=500ms,errors<=1%%'")
	}
	slo, err := capacity.ParseSLO(o.slo)
	if err != nil {
		return nil, badInput("--slo: %w", err)
	}
	p := &capacityPlan{opts: capacity.DefaultOptions()}
	p.opts.SLO = slo
	if p.opts.Tolerance, err = capacity.ParseShare(o.tolerance); err != nil || p.opts.Tolerance <= 0 || p.opts.Tolerance >= 1 {
		return nil, badInput("--tolerance %q: want a share between 0 and 100%% (exclusive), such as 5%%", o.tolerance)
	}
	if p.opts.NoiseMargin, err = capacity.ParseShare(o.noiseMargin); err != nil || p.opts.NoiseMargin >= 1 {
		return nil, badInput("--noise-margin %q: want a share from 0 to under 100%%, such as 10%%", o.noiseMargin)
	}
	if err := o.checkEngines(); err != nil {
		return nil, err
	}
	p.opts.Reruns, p.opts.Start, p.opts.Min, p.opts.Max = o.reruns, o.startScale, o.minScale, o.maxScale
	if !o.startSet && o.minScale <= o.maxScale {
		p.opts.Start = math.Min(math.Max(p.opts.Start, o.minScale), o.maxScale)
	}
	so := &simulateOptions{scenario: o.scenario, designs: o.designs, scale: 1, calibrate: o.calibrate}
	if p.base, p.designs, err = so.load(); err != nil {
		return nil, err
	}
	p.opts.Seed = p.base.Seed
	if o.seedSet {
		p.opts.Seed = o.seed
	}
	if p.params, err = so.modelParams(p.designs); err != nil {
		return nil, err
	}
	base := p.base
	p.opts.Rate = func(f float64) float64 { return base.Scaled(f).PeakRate() }
	if errs := p.opts.Validate(); len(errs) > 0 {
		return nil, badInput("capacity: %w (--start-scale, --min-scale, --max-scale, --reruns)", errors.Join(errs...))
	}
	if note := o.lowerMax(p); note != "" {
		p.notes = append(p.notes, note)
	}
	return p, nil
}

// checkEngines checks --engine, --confirm, --calibrate and --parallel
// together.
func (o *capacityOptions) checkEngines() error {
	switch {
	case o.engine != capacity.EngineModel && o.engine != capacity.EngineLive:
		return badInput("--engine %q: want model or live", o.engine)
	case o.confirm != "" && o.confirm != capacity.EngineLive:
		return badInput("--confirm %q: want live", o.confirm)
	case o.confirm != "" && o.engine == capacity.EngineLive:
		return badInput("--confirm live checks a model search live: the search is live already (drop --confirm or use --engine model)")
	case o.calibrate != "" && o.engine == capacity.EngineLive:
		return badInput("--calibrate sets the model's parameters: it has no meaning with --engine live")
	case o.parallel < 0:
		return badInput("--parallel %d: want at least 1 design at a time", o.parallel)
	case o.reruns < 0:
		return badInput("--reruns %d: want 0 or more", o.reruns)
	}
	return nil
}

// lowerMax lowers the search's largest scale to what the scenario's bounds
// (and, on the model, the memory of the designs searched at once) allow,
// and returns a note saying so, or "".
func (o *capacityOptions) lowerMax(p *capacityPlan) string {
	par := o.designsAtOnce(len(p.designs))
	budget, source, known := memoryBudget()
	fits := func(f float64) bool {
		if p.base.CheckScale(f) != nil || checkScale(p.base, f) != nil {
			return false
		}
		if o.engine != capacity.EngineModel || !known {
			return true
		}
		return sim.EstimateModelMemory(p.base.Scaled(f), p.designs).Need(par) <= budget
	}
	if fits(p.opts.Max) {
		return ""
	}
	lo, hi := 0.0, p.opts.Max
	for range 60 {
		if mid := (lo + hi) / 2; fits(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	was := p.opts.Max
	p.opts.Max = math.Max(lo, p.opts.Min)
	p.opts.Start = math.Min(p.opts.Start, p.opts.Max)
	why := "the scenario's bounds (crowd.size, places)"
	if known && p.base.CheckScale(hi) == nil && checkScale(p.base, hi) == nil {
		why = fmt.Sprintf("the memory available (%s, %s, %d design(s) at once)", bytesString(budget), source, par)
	}
	return fmt.Sprintf("--max-scale lowered from %g to %.4g: the largest that %s allow", was, p.opts.Max, why)
}

// designsAtOnce returns how many designs are searched at once: one live,
// else --parallel (default the CPUs), at most n.
func (o *capacityOptions) designsAtOnce(n int) int {
	if o.engine == capacity.EngineLive {
		return 1
	}
	p := o.parallel
	if p < 1 {
		p = runtime.GOMAXPROCS(0)
	}
	return max(1, min(p, n))
}

func (o *capacityOptions) run(ctx context.Context, stdout, stderr io.Writer) (err error) {
	stderr = &lockedWriter{w: stderr}
	p, err := o.plan()
	if err != nil {
		return err
	}
	release, err := lockOutDir(o.out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, release()) }()
	if err := clearOutputs(o.out, nil); err != nil {
		return fmt.Errorf("clear old outputs: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, n := range p.notes {
		fmt.Fprintf(stderr, "slotrush capacity: %s\n", n)
	}
	file := o.newFile(p)
	fmt.Fprintf(stdout, "slotrush capacity: scenario %s, %d design(s), engine %s, SLO %s, scales %g to %g (start %g), tolerance %s\n",
		p.base.Name, len(p.designs), o.engine, p.opts.SLO, p.opts.Min, p.opts.Max, p.opts.Start, capacity.FormatValue(capacity.UnitShare, p.opts.Tolerance))
	start := time.Now()
	designs, serr := o.searchAll(ctx, stderr, p)
	file.Designs = designs
	if serr == nil && o.confirm != "" {
		serr = o.confirmAll(ctx, stderr, p, file)
	}
	_ = os.Remove(filepath.Join(o.out, "live")) // the live steps' folder, when empty
	file.FinishedAt = time.Now().UTC()
	if serr != nil {
		if ctx.Err() == nil || len(file.Designs) == 0 {
			return serr
		}
		file.Interrupted = true
		fmt.Fprintf(stderr, "slotrush capacity: interrupted; writing the %d design(s) that finished\n", len(file.Designs))
	}
	return o.writeCapacity(stdout, file, time.Since(start))
}

// confirmAll checks each design's boundary live (capacity.Confirm), one
// design at a time, with the search's SLO, seeds and noise rule.
func (o *capacityOptions) confirmAll(ctx context.Context, stderr io.Writer, p *capacityPlan, f *capacity.File) error {
	for i := range f.Designs {
		d := &f.Designs[i]
		run := o.stepFunc(capacity.EngineLive, p, d.Design, stderr)
		c, err := capacity.Confirm(ctx, p.opts, capacity.EngineLive, run, d)
		if err != nil {
			var ee *exitError
			if errors.As(err, &ee) {
				return err
			}
			return &exitError{code: 1, err: fmt.Errorf("design %s: live confirmation: %w", d.Design, err)}
		}
		d.Confirmation = c
	}
	return nil
}

// newFile returns the capacity file of plan p, without designs.
func (o *capacityOptions) newFile(p *capacityPlan) *capacity.File {
	s := p.opts
	return &capacity.File{
		Format: capacity.FormatString(capacity.FormatVersion), Scenario: p.base.Name, Engine: o.engine, Confirm: o.confirm,
		Seed: s.Seed, SLO: s.SLO.String(), Terms: s.SLO,
		Search: capacity.SearchSettings{StartScale: s.Start, MinScale: s.Min, MaxScale: s.Max, Tolerance: s.Tolerance,
			NoiseMargin: s.NoiseMargin, Reruns: s.Reruns},
		BaseArrivalRatePerS: p.base.PeakRate(), BasePeople: int64(p.base.Crowd.Size), BasePlaces: int64(p.base.TotalCapacity()),
		Assumptions: o.assumptions(p), StartedAt: time.Now().UTC(), Environment: environment(),
	}
}

// assumptions are the facts a capacity answer rests on, in words.
func (o *capacityOptions) assumptions(p *capacityPlan) []string {
	engine := "the model (discrete-event, virtual clock) with its documented default parameters (assumed, not measured)"
	if o.calibrate != "" {
		engine = "the model (discrete-event, virtual clock) calibrated from the live result " + o.calibrate
	}
	if o.engine == capacity.EngineLive {
		engine = "live: the in-process reference server on this machine (SQLite), as slotrush run"
	}
	out := []string{
		fmt.Sprintf("What varies is the crowd's size: scenario %s's crowd (%s people, %s places, peak %s people/s at scale 1) times the scale, with its arrival curve's shape and its ratio of people to places kept; every partition's limits stay as the scenario sets them.",
			p.base.Name, thousands(float64(p.base.Crowd.Size)), thousands(float64(p.base.TotalCapacity())), capacity.Rate(p.base.PeakRate())),
		"The offered load is the crowd's peak arrival rate (people/s); a design's capacity is that rate at the largest scale where every SLO term held.",
		"Every step is a full run of " + engine + ".",
		fmt.Sprintf("Each step's seed derives from seed %d and the scale (capacity.StepSeed), so the search is deterministic; a step with a term within %s of its limit is run %d more time(s) and the majority decides.",
			p.opts.Seed, capacity.FormatValue(capacity.UnitShare, p.opts.NoiseMargin), p.opts.Reruns),
		"errors counts 429s, 5xx and timeouts (and answers outside the API) over all requests; booked_share is the people who booked over min(people, places); time_to_book is over the people who booked.",
		"Throughput (for the Universal Scalability Law) is each step's bookings/s while the crowd was at its peak: over the seconds with at least half the busiest second's arrivals.",
	}
	if o.confirm != "" {
		out = append(out, "Each boundary was checked live on this machine (the in-process reference server), one design at a time.")
	}
	return append(out, p.notes...)
}

// searchAll searches every design of p, designsAtOnce at a time, and
// returns their capacities (with the USL fit) in p's order.
func (o *capacityOptions) searchAll(ctx context.Context, stderr io.Writer, p *capacityPlan) ([]capacity.Design, error) {
	out := make([]*capacity.Design, len(p.designs))
	errs := make([]error, len(p.designs))
	sem := make(chan struct{}, o.designsAtOnce(len(p.designs)))
	var wg sync.WaitGroup
	for i, d := range p.designs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			run := o.stepFunc(o.engine, p, d.Name, stderr)
			cd, err := capacity.Search(ctx, d.Name, p.opts, run)
			if err != nil {
				errs[i] = fmt.Errorf("design %s: %w", d.Name, err)
				return
			}
			capacity.FitDesign(cd)
			out[i] = cd
			if !o.quiet {
				fmt.Fprintf(stderr, "  %s\n", cd.Sentence())
			}
		})
	}
	wg.Wait()
	var done []capacity.Design
	for _, d := range out {
		if d != nil {
			done = append(done, *d)
		}
	}
	if err := errors.Join(errs...); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			return done, err
		}
		return done, &exitError{code: 1, err: err}
	}
	return done, nil
}

// stepFunc returns the function that runs one step of design on engine,
// printing a line per run on stderr unless --quiet.
func (o *capacityOptions) stepFunc(engine string, p *capacityPlan, design string, stderr io.Writer) capacity.StepFunc {
	var n atomic.Int64
	return func(ctx context.Context, r capacity.StepRun) (*results.DesignResult, error) {
		so := &simulateOptions{scenario: o.scenario, designs: []string{design}, scale: r.Scale}
		sc, ds, err := so.load()
		if err != nil {
			return nil, err
		}
		var d *results.DesignResult
		if engine == capacity.EngineLive {
			dir := filepath.Join(o.out, "live", design+"-"+strconv.FormatInt(n.Add(1), 10))
			d, err = liveStep(ctx, sc, ds[0], r.Seed, dir)
		} else {
			d, err = modelStep(ctx, sc, ds[0], r.Seed, p.params)
		}
		if err != nil {
			return nil, err
		}
		if !o.quiet {
			m := p.opts.SLO.Measure(d)
			fmt.Fprintf(stderr, "  %s %s: scale %.4g (%s people/s, %s people): %s%s\n", engine, design, r.Scale,
				capacity.Rate(sc.PeakRate()), thousands(float64(sc.Crowd.Size)), passWord(m.Pass), termsLine(m.Terms))
		}
		return d, nil
	}
}

func passWord(pass bool) string {
	if pass {
		return "pass"
	}
	return "FAIL"
}

// termsLine writes each term's value: " [book.p99<=500ms: 3.1 ms, errors<=1%: 0.40%]".
func termsLine(tvs []capacity.TermValue) string {
	s := " ["
	for i, tv := range tvs {
		if i > 0 {
			s += ", "
		}
		s += tv.Term + ": " + tv.ValueWords()
	}
	return s + "]"
}

// modelStep runs design d of sc (already at its scale) on the model with
// seed, as simulate does (one design, the model's parameters of params).
func modelStep(ctx context.Context, sc *scenarios.Scenario, d models.Design, seed int64, params func(string) sim.ModelParams) (*results.DesignResult, error) {
	res, _, err := sim.Simulate(ctx, sc, []models.Design{d}, seed, sim.WithModelParams(params), sim.WithParallelism(1))
	if err != nil {
		return nil, err
	}
	if len(res.Designs) != 1 {
		return nil, fmt.Errorf("model of %s: %d designs in the result", d.Name, len(res.Designs))
	}
	return &res.Designs[0], nil
}

// liveStep runs the crowd of sc (at its scale) drawn with seed live against
// the in-process reference server of design d, as run does (run.go's
// runDesign), in the fresh data directory dir, removed afterwards.
func liveStep(ctx context.Context, sc *scenarios.Scenario, d models.Design, seed int64, dir string) (*results.DesignResult, error) {
	inv := sc.BuildInventory()
	ro := &runOptions{out: dir, quiet: true, noReport: true}
	if err := ro.checkFiles([]models.Design{d}, &inv, sc.Crowd.Size); err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // the step's store; only its result matters
	e := &runEnv{sc: sc, crowd: sc.Arrivals(seed), out: dir, noReport: true, stdout: io.Discard, stderr: io.Discard,
		progress: progressNone}
	dr, err := ro.runDesign(ctx, e, d, &inv)
	if err != nil {
		return nil, fmt.Errorf("live run of %s: %w", d.Name, err)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return dr, nil
}

// writeCapacity writes OUT/capacity.json and the page, prints the verdict
// and returns exit 1 when a live confirmation disagreed.
func (o *capacityOptions) writeCapacity(stdout io.Writer, f *capacity.File, wall time.Duration) error {
	path := filepath.Join(o.out, "capacity.json")
	if err := f.WriteFile(path); err != nil {
		return err
	}
	for i := range f.Designs {
		d := &f.Designs[i]
		fmt.Fprintf(stdout, "%s\n", d.Sentence())
		fmt.Fprintf(stdout, "  %d steps; USL: %s\n", len(d.Steps), d.USL.Words())
		if c := d.Confirmation; c != nil {
			fmt.Fprintf(stdout, "  live confirmation: %s (%s)\n", c.Agreement, c.Note)
		}
	}
	fmt.Fprintf(stdout, "verdict: %s\n", f.Verdict())
	fmt.Fprintf(stdout, "searched in %v\ncapacity: %s\n", wall.Round(time.Millisecond), path)
	if errs := f.Check(); len(errs) > 0 {
		return fmt.Errorf("capacity file failed its own checks: %w", errors.Join(errs...))
	}
	if !o.noReport {
		index, err := reports.RenderCapacity(o.out, f)
		if err != nil {
			return fmt.Errorf("render capacity page: %w", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", index)
	}
	var bad []string
	for _, d := range f.Designs {
		if c := d.Confirmation; c != nil && c.Agreement == capacity.AgreeNot {
			bad = append(bad, d.Design)
		}
	}
	if len(bad) > 0 {
		return &exitError{code: 1, err: fmt.Errorf("the live runs disagree with the model's boundary of %v even one bisection step out", bad)}
	}
	return nil
}

// isCapacityCompare reports whether compare was given capacity files: the
// first baseline file is one (capacity.IsFile). An unreadable file is left
// to the result path, which names the problem.
func isCapacityCompare(baseline, current []string) bool {
	for _, files := range [][]string{baseline, current} {
		if len(files) == 0 {
			continue
		}
		data, err := os.ReadFile(files[0])
		if err == nil && capacity.IsFile(data) {
			return true
		}
	}
	return false
}

// runCapacity is compare for capacity files: one per side, each design's
// capacity compared with --capacity-drop (reports.CompareCapacity). Exit 1
// on a regression, 2 on bad input.
func (o *compareOpts) runCapacity(stdout io.Writer) error {
	if len(o.baseline) != 1 || len(o.current) != 1 {
		return badInput("compare: capacity files are compared one per side, got %d baseline and %d current", len(o.baseline), len(o.current))
	}
	drop, err := capacity.ParseShare(o.capacityDrop)
	if err != nil || drop >= 1 {
		return badInput("compare: --capacity-drop %q: want a share under 100%%, such as 10%%", o.capacityDrop)
	}
	var files [2]*capacity.File
	keep := func(f *capacity.File) {
		if len(o.thresholds.Designs) == 0 {
			return
		}
		var ds []capacity.Design
		for _, d := range f.Designs {
			if slices.Contains(o.thresholds.Designs, d.Design) {
				ds = append(ds, d)
			}
		}
		f.Designs = ds
	}
	for i, side := range []struct{ name, path string }{{"baseline", o.baseline[0]}, {"current", o.current[0]}} {
		data, err := os.ReadFile(side.path)
		if err != nil {
			return badInput("compare: %s: %w", side.name, err)
		}
		if !capacity.IsFile(data) {
			return badInput("compare: %s %s is not a capacity file, and the other side is: compare capacity files with capacity files", side.name, side.path)
		}
		if files[i], err = capacity.Read(side.path, data); err != nil {
			return badInput("compare: %s: %w", side.name, err)
		}
		keep(files[i])
	}
	c, err := reports.CompareCapacity(files[0], files[1], drop)
	if err != nil {
		return badInput("%w (baseline %s; current %s)", err, o.baseline[0], o.current[0])
	}
	write := map[string]func(io.Writer) error{"text": c.WriteText, "markdown": c.WriteMarkdown, "md": c.WriteMarkdown,
		"junit": c.WriteJUnit, "xml": c.WriteJUnit}[o.format]
	if write == nil {
		return badInput("compare: --format %q: want text, markdown or junit", o.format)
	}
	out := stdout
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			return badInput("compare: %w", err)
		}
		defer func() { _ = f.Close() }()
		out = f
	}
	if err := write(out); err != nil {
		return badInput("compare: write report: %w", err)
	}
	if err := c.Err(); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}
