package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

func init() { addCommand(newSimulateCmd) }

// simulateMemoryLimit is the soft memory limit simulate sets unless
// GOMEMLIMIT does. The 26 May 2021 preset's three designs, two at a time,
// keep about 1.25 GiB live; without a limit the collector lets the heap
// grow to 1.8 GB; with this one the process stays near 1.4-1.65 GB (one
// pair of runs: 39 s without, 45 s with, within the machine's noise).
const simulateMemoryLimit = 1408 << 20

// simulateOptions are the flags of simulate.
type simulateOptions struct {
	scenario  string
	designs   []string
	scale     float64
	out       string
	seed      int64
	calibrate string
	parallel  int
	// parallelSet is set when --parallel was given: 0 then is a bad input,
	// not the default.
	parallelSet bool
	noReport    bool
	quiet       bool
	faults      []string // --fault, as given
}

func newSimulateCmd() *cobra.Command {
	o := &simulateOptions{}
	cmd := &cobra.Command{
		Use:   "simulate --scenario NAME|FILE [--design a,b,c] [--scale F] [--out DIR] [--seed N] [--calibrate RESULT.json] [--fault SPEC]...",
		Short: "Simulate a scenario's crowd against a model of each design (discrete-event, virtual clock)",
		Long: `simulate replays the scenario's crowd, the same seeded crowd and user journeys as
run, against a model of each design on a virtual clock: every partition a queue
with its own token buckets, in-flight bound, queue bounds and single writer with
group commit, by the reference server's rules. It runs national-scale crowds that
no single machine could replay live.

--scale multiplies the crowd, the daily capacities and piecewise arrival rates;
per-partition limits stay as they are. Without --calibrate the model's service
times and round trip are documented defaults; with --calibrate they are measured
from a live result of 'slotrush run' (its server statistics and client
latencies). Each design's result lists every parameter, measured or assumed.

It writes OUT/result.json (engine "model"), OUT/index.html with its plots unless
--no-report, and prints a summary with the events simulated per second. A run
costs in proportion to the requests the crowd makes (a few hundred nanoseconds of
CPU each, designs in parallel): the 26 May 2021 preset at full scale makes 122
million over monolithic, per-ppv and per-ppv-day. Unless GOMEMLIMIT is set, a
soft memory limit of 1.4 GiB makes the garbage collector work harder rather than
let the heap grow (the full preset peaks at about 1.65 GB resident).

Before building anything, simulate estimates the memory the run will keep (the
users' records with their journeys, the crowd, the event calendar, a latency
histogram per second of the duration, the partitions) and compares it with the
memory available (MemAvailable, the cgroup's limit, GOMEMLIMIT when set): it
simulates fewer designs at once when that many would not fit, and refuses (exit 2)
with the estimate and a --scale that fits when even one would not.

--fault SPEC (repeatable, added to the scenario's faults:) injects a storage
fault into one partition of each model, as run does live (partition=hottest is
resolved per design the same way): a down partition answers bookings 503 at once
and its days leave the listings, slow adds its delay to reads and commits, errors
fails that share of bookings with 500. With faults each design is also simulated
without them (same seed) to count the bookings they cost; each design's result
carries its blast_radius. A bad --fault exits 2.

OUT/result.json is rewritten as each design finishes, marked interrupted until
the last: Ctrl-C (or a crash) loses no design that finished. Interrupted, it
writes the designs that finished, marked interrupted, and exits 0 as run does
(1 when none had finished). Bad input (scenario, design, --scale, --parallel,
--calibrate, --fault, memory) exits 2.`,
		Example: `  slotrush simulate --scenario jkjav-az-2021-05-26 --design per-ppv-day --scale 0.1
  slotrush run --scenario demo --out out/live
  slotrush simulate --scenario demo --calibrate out/live/result.json --out out/model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.parallelSet = cmd.Flags().Changed("parallel")
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("seed"))
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs to simulate, comma separated (default: the scenario's)")
	f.Float64Var(&o.scale, "scale", 1, scaleFlagUsage)
	f.StringVar(&o.out, "out", "out/simulate", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "crowd seed (default: the scenario's)")
	f.StringVar(&o.calibrate, "calibrate", "", "live result to measure the model's parameters from")
	f.IntVar(&o.parallel, "parallel", 0, "designs simulated at once (default: the number of CPUs)")
	f.BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no per-design progress lines")
	f.StringArrayVar(&o.faults, "fault", nil, "storage fault injected into the model of each design, repeatable, added to the scenario's faults:\n"+faultGrammar)
	return cmd
}

func (o *simulateOptions) run(ctx context.Context, stdout, stderr io.Writer, seedSet bool) error {
	stderr = &lockedWriter{w: stderr}
	sc, designs, err := o.load()
	if err != nil {
		return err
	}
	seed := sc.Seed
	if seedSet {
		seed = o.seed
	}
	faults, err := o.resolveFaults(sc, seed, designs)
	if err != nil {
		return err
	}
	params, err := o.modelParams(designs)
	if err != nil {
		return err
	}
	parallel, err := o.plan(stderr, sc, designs)
	if err != nil {
		return err
	}
	release, err := lockOutDir(o.out)
	if err != nil {
		return err
	}
	defer func() { _ = release() }() // the lock goes with the process anyway
	if err := clearOutputs(o.out, nil); err != nil {
		return fmt.Errorf("clear old outputs: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if os.Getenv("GOMEMLIMIT") == "" {
		// A national crowd keeps a million journeys alive per design: let
		// the garbage collector work harder rather than grow the heap to
		// twice what is live.
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(simulateMemoryLimit))
	}

	fmt.Fprintf(stdout, "slotrush simulate: scenario %s (scale %g), %d users, %d places, seed %d, %d design(s)\n",
		sc.Name, o.scale, sc.Crowd.Size, sc.TotalCapacity(), seed, len(designs))
	env := environment()
	path := filepath.Join(o.out, "result.json")
	var once sync.Once
	opts := []sim.ModelOption{sim.WithModelParams(params), sim.WithParallelism(parallel),
		sim.WithModelFaults(func(design string) []fault.Spec { return faults[design] }),
		// Each design is written down as it finishes: a crash or Ctrl-C
		// loses none that finished.
		sim.WithModelPartial(func(r *results.Result) {
			r.Environment = env
			if err := r.WriteFile(path); err != nil {
				once.Do(func() { fmt.Fprintf(stderr, "slotrush simulate: %v\n", err) })
			}
		})}
	if !o.quiet {
		opts = append(opts, sim.WithModelProgress(func(st sim.ModelStats) {
			fmt.Fprintf(stderr, "  %s: done in %v\n", st.Design, st.Wall.Round(time.Millisecond))
		}))
	}
	start := time.Now()
	res, stats, err := sim.Simulate(ctx, sc, designs, seed, opts...)
	if err != nil {
		if res == nil || ctx.Err() == nil {
			return err
		}
		if len(res.Designs) == 0 {
			return fmt.Errorf("interrupted before any design finished, nothing written: %w", ctx.Err())
		}
		fmt.Fprintf(stderr, "slotrush simulate: interrupted; writing the %d of %d design(s) that finished\n", len(res.Designs), len(designs))
	}
	if len(faults) > 0 && ctx.Err() == nil {
		if err := bookingsLost(ctx, sc, designs, seed, params, parallel, res); err != nil {
			return err
		}
	}
	wall := time.Since(start)
	res.Environment = env
	return writeOutputs(stdout, res, o.out, o.noReport, func(w io.Writer) { printModelStats(w, stats, wall) })
}

// bookingsLost runs designs again without faults (the same crowd and
// seed) and sets each faulted design's BlastRadius.BookingsLost in res: the
// places booked without the faults less those booked with them.
func bookingsLost(ctx context.Context, sc *scenarios.Scenario, designs []models.Design, seed int64, params func(string) sim.ModelParams, parallel int, res *results.Result) error {
	base, _, err := sim.Simulate(ctx, sc, designs, seed, sim.WithModelParams(params), sim.WithParallelism(parallel))
	if err != nil {
		return fmt.Errorf("simulate without the faults: %w", err)
	}
	for i := range res.Designs {
		d := &res.Designs[i]
		if b, ok := base.Design(d.Design); ok && d.BlastRadius != nil {
			lost := b.Slots.Booked - d.Slots.Booked
			d.BlastRadius.BookingsLost = &lost
		}
	}
	return nil
}

// resolveFaults returns the faults injected into the model of each design:
// the scenario's, then --fault's, resolved to the design's partitions
// (hottest: from the crowd of seed) as run does. Every error is a bad input.
func (o *simulateOptions) resolveFaults(sc *scenarios.Scenario, seed int64, designs []models.Design) (map[string][]fault.Spec, error) {
	specs, err := sc.FaultSpecs()
	if err != nil {
		return nil, badInput("scenario %s: %w", sc.Name, err)
	}
	for _, f := range o.faults {
		sp, err := fault.Parse(f)
		if err != nil {
			return nil, badInput("--fault %w", err)
		}
		specs = append(specs, sp)
	}
	if len(specs) == 0 {
		return nil, nil
	}
	inv := sc.BuildInventory()
	out, err := resolveDesignFaults(sc, seed, specs, designs, &inv)
	if err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return out, nil
}

// badInput returns the error of a bad input: it makes slotrush exit 2.
func badInput(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}

// load returns the scenario at --scale and the designs to simulate. Every
// error is a bad input.
func (o *simulateOptions) load() (*scenarios.Scenario, []models.Design, error) {
	if o.parallelSet && o.parallel < 1 {
		return nil, nil, badInput("--parallel %d: want at least 1 design at a time", o.parallel)
	}
	if math.IsNaN(o.scale) || math.IsInf(o.scale, 0) || o.scale <= 0 {
		return nil, nil, badInput("--scale %v: want a positive finite number", o.scale)
	}
	base, err := scenarios.Load(o.scenario)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	sc, err := scaleScenario(base, o.scale)
	if err != nil {
		return nil, nil, err
	}
	designs, err := sc.BuildDesigns(o.designs)
	if err != nil {
		return nil, nil, &exitError{code: 2, err: err}
	}
	return sc, designs, nil
}

// checkScale refuses a scale under which the crowd of sc would be bigger
// than the validator allows (scenarios.MaxCrowd) or a daily capacity would
// not fit the model's 32-bit counts of places (the validator bounds
// neither after scaling: Scaled clamps instead).
func checkScale(sc *scenarios.Scenario, f float64) error {
	if n := math.Round(float64(sc.Crowd.Size) * f); n > scenarios.MaxCrowd {
		return badInput("--scale %g: the crowd of %s would be %s users, over the limit of %s (crowd.size); use --scale %s or less",
			f, sc.Name, thousands(n), thousands(scenarios.MaxCrowd), roundDown(scenarios.MaxCrowd/float64(sc.Crowd.Size)))
	}
	check := func(field string, c int) error {
		if n := math.Round(float64(c) * f); n > math.MaxInt32 {
			return badInput("--scale %g: %s of %s would be %s places a day, over the limit of %s; use --scale %s or less",
				f, field, sc.Name, thousands(n), thousands(math.MaxInt32), roundDown(math.MaxInt32/float64(c)))
		}
		return nil
	}
	if err := check("inventory.daily_capacity", sc.Inventory.DailyCapacity); err != nil {
		return err
	}
	for i, p := range sc.Inventory.PPVs {
		if err := check(fmt.Sprintf("inventory.ppvs[%d].daily_capacity", i), p.DailyCapacity); err != nil {
			return err
		}
	}
	return nil
}

// modelParams returns the model's parameters of each design: the defaults,
// or measured from --calibrate. Every error is a bad input.
func (o *simulateOptions) modelParams(designs []models.Design) (func(string) sim.ModelParams, error) {
	if o.calibrate == "" {
		return func(string) sim.ModelParams { return sim.DefaultModelParams() }, nil
	}
	live, err := results.LoadResult(o.calibrate)
	if err != nil {
		return nil, badInput("--calibrate: %w", err)
	}
	fitted := map[string]sim.ModelParams{}
	for _, d := range designs {
		p, err := sim.CalibrateModel(live, o.calibrate, d.Name)
		if err != nil {
			return nil, badInput("--calibrate: %w", err)
		}
		fitted[d.Name] = p
	}
	return func(name string) sim.ModelParams { return fitted[name] }, nil
}

// printModelStats writes what each design's simulation cost.
func printModelStats(w io.Writer, stats []sim.ModelStats, wall time.Duration) {
	var events uint64
	var requests int64
	for _, st := range stats {
		events += st.Events
		requests += st.Requests
		fmt.Fprintf(w, "model %s: %s virtual in %v: %d events (%.2fM events/s), %d requests (%.2fM requests/s)\n",
			st.Design, st.Virtual.Round(time.Second), st.Wall.Round(time.Millisecond), st.Events, st.EventsPerSecond()/1e6,
			st.Requests, perSecond(float64(st.Requests), st.Wall)/1e6)
	}
	fmt.Fprintf(w, "simulated in %v: %d events (%.2fM events/s), %d requests (%.2fM requests/s)\n",
		wall.Round(time.Millisecond), events, perSecond(float64(events), wall)/1e6, requests, perSecond(float64(requests), wall)/1e6)
}

func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// memoryBudget returns the memory simulate may use, in bytes, and where the
// figure comes from; ok is false when it is unknown. A variable so that
// tests can set the machine's memory.
var memoryBudget = systemMemoryBudget

// systemMemoryBudget returns the memory available to simulate: /proc/meminfo's
// MemAvailable, lowered to the cgroup's memory limit and to GOMEMLIMIT when
// either is lower. ok is false when none is known (not Linux, no GOMEMLIMIT).
func systemMemoryBudget() (budget int64, source string, ok bool) {
	lower := func(b int64, s string) {
		if b > 0 && (!ok || b < budget) {
			budget, source, ok = b, s, true
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if v, found := strings.CutPrefix(line, "MemAvailable:"); found {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				lower(kb<<10, "MemAvailable in /proc/meminfo")
			}
		}
	}
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if b, err := os.ReadFile(f); err == nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n < 1<<60 {
				lower(n, "the cgroup limit in "+f)
			}
		}
	}
	if os.Getenv("GOMEMLIMIT") != "" {
		if n := debug.SetMemoryLimit(-1); n < math.MaxInt64 {
			lower(n, "GOMEMLIMIT")
		}
	}
	return budget, source, ok
}

// plan returns how many designs to simulate at once: --parallel (default:
// the number of CPUs), fewer when the memory that many would need is more
// than the budget, which it says on stderr. When even one design at a time
// would not fit, it refuses before anything is allocated (a bad input),
// with the estimate, the budget and the --scale that would fit.
func (o *simulateOptions) plan(stderr io.Writer, sc *scenarios.Scenario, designs []models.Design) (int, error) {
	want := o.parallel
	if want < 1 {
		want = runtime.GOMAXPROCS(0)
	}
	want = min(want, len(designs))
	budget, source, ok := memoryBudget()
	if !ok {
		return want, nil
	}
	est := sim.EstimateModelMemory(sc, designs)
	p := est.Parallelism(want, budget)
	if p == 0 {
		return 0, o.tooBig(sc, designs, est, budget, source)
	}
	if p < want {
		fmt.Fprintf(stderr, "slotrush simulate: %d designs at once would need about %s of memory, more than the %s available (%s); simulating %d at a time\n",
			want, bytesString(est.Need(want)), bytesString(budget), source, p)
	}
	return p, nil
}

// tooBig returns the refusal of a simulation whose estimate est does not fit
// budget even one design at a time.
func (o *simulateOptions) tooBig(sc *scenarios.Scenario, designs []models.Design, est sim.ModelMemory, budget int64, source string) error {
	fix := "lower --scale"
	// The estimate grows with the scale: find the largest that fits.
	if base, err := scenarios.Load(o.scenario); err == nil {
		fits := func(f float64) bool { return sim.EstimateModelMemory(base.Scaled(f), designs).Need(1) <= budget }
		lo, hi := 0.0, o.scale
		for range 50 {
			if mid := (lo + hi) / 2; fits(mid) {
				lo = mid
			} else {
				hi = mid
			}
		}
		if lo*float64(base.Crowd.Size) >= 1 {
			fix = "lower --scale to " + roundDown(lo) + " or less"
		} else {
			fix = "shorten the scenario's duration or use fewer PPVs or days"
		}
	}
	also := " (the designs already run one at a time: --parallel 1 or fewer designs would not help)"
	if len(designs) == 1 {
		also = ""
	}
	return badInput("not enough memory to simulate scenario %s at --scale %g: %s users need about %s even one design at a time (crowd %s, biggest design %s), and %s is available (%s): %s%s",
		sc.Name, o.scale, thousands(float64(sc.Crowd.Size)), bytesString(est.Need(1)), bytesString(est.Shared),
		bytesString(est.Need(1)-est.Shared), bytesString(budget), source, fix, also)
}

// lockedWriter serializes writes to w: designs report from the goroutines
// that run them.
type lockedWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// thousands formats the whole number n with commas: 50,000,000.
func thousands(n float64) string {
	if math.Abs(n) >= 9e18 || math.IsNaN(n) {
		return strconv.FormatFloat(n, 'g', 4, 64) // beyond int64: no commas
	}
	return results.Commas(int64(math.Round(n)))
}

// roundDown formats x > 0 rounded down to two significant digits, in
// plain decimal.
func roundDown(x float64) string {
	if !(x > 0) || math.IsInf(x, 0) {
		return "0"
	}
	e := int(math.Floor(math.Log10(x))) - 1
	p := math.Pow10(e)
	v := math.Floor(x / p * (1 + 1e-12))
	if e >= 0 {
		return strconv.FormatFloat(v*p, 'f', 0, 64)
	}
	return strconv.FormatFloat(v*p, 'f', -e, 64)
}

// bytesString formats n bytes in MiB or GiB.
func bytesString(n int64) string {
	if n < 1<<30 {
		return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
