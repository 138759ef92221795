package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/sim/profile"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/faultstore"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reports"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

func init() { addCommand(newRunCmd) }

type runOptions struct {
	scenario  string
	designs   []string
	targets   []string
	reset     string
	store     string
	auditRate float64
	profile   string
	segment   string
	startAt   string
	grace     time.Duration
	out       string
	seed      int64
	quiet     bool
	noReport  bool
	faults    []string // --fault, as given
	noBase    bool     // --no-baseline
	scale     float64  // --scale; 0 without scaleSet is 1 (a runOptions built in Go)
	scaleSet  bool     // --scale was given

	// Seams for tests; their zero values are the real ones.
	limit         fileLimit     // the limit on open files (systemFileLimit)
	openStore     store.Opener  // the in-process server's store (--store)
	progressEvery time.Duration // plain progress lines (progressLineEvery)

	spec *storeurl.Spec // --store, parsed
	// resolved holds, per design name, the faults injected into its
	// in-process server (the scenario's and --fault), partitions by key.
	resolved map[string][]fault.Spec
}

// progressLineEvery is how often a run whose stderr is not a terminal (a
// CI log) prints a progress line.
const progressLineEvery = 5 * time.Second

// runLong is run's help.
const runLong = `run replays the scenario's registration-day crowd over real HTTP.

Without --target it starts the reference server in-process on 127.0.0.1, with a
fresh data directory per design under OUT/data, runs the designs one after another
with the identical seeded crowd, and audits each store afterwards (oversold slots,
bookings answered 201 but not persisted). --store postgres://… or
dynamodb://… puts its partitions on that engine instead of SQLite files: each
design's schema (PostgreSQL) or table (DynamoDB) is dropped and seeded afresh
before the design runs.

--fault SPEC (repeatable, added to the scenario's faults:) injects a storage
fault into one partition of each design's in-process server, at the store seam:
down (answered 503 partition_unavailable; a slot listing leaves that
partition's days out), slow=DURATION, or errors=PERCENT (answered 500), from
start= after the opening of bookings for for=. partition=hottest is each
design's partition with the most first choices in the crowd. run prints which
partition each fault hit in each design and what it did, and lists the faults
among the result's parameters. A --target's faults are its own: --fault with
--target is refused.

With --target NAME=URL (repeatable; a bare URL is named after its host:port) it
drives systems it did not start, which speak the booking API v1; nothing runs
in-process and --design is refused. Each target is a column named NAME. Before
anything runs, every target must answer and list every centre the crowd asks
for. Then, target after target: --reset CMD runs (sh -c, with SLOTRUSH_TARGET_NAME
and SLOTRUSH_TARGET_URL set), its centres and slots are read through the API (the
places remaining then are the column's capacity, so a target already partly
booked is reported as it is), GET /api/v1/about tells what the target states about
itself (its assumptions; nothing is assumed that it did not state), the crowd
runs, and every booking answered 201 is read back through the API at --audit-rate
reads a second: persisted (found), missing (404); bookings the audit could not
read are counted in neither and named on the console; answers lost to a timeout
are unknown outcomes. An interrupted run is not audited.

Before anything is sent, OUT is created and locked (OUT/.slotrush.lock: a second
slotrush with the same --out is refused) and must be writable; each design must
fit the limit on open files (its partitions' SQLite files and its connections;
the soft limit is raised to the hard one when needed). Then what an earlier run
wrote there is removed: result.json, index.html, hlog/, plots/ and the data of
the designs to run; nothing else in OUT is touched.

It writes OUT/result.json as each design (or target) finishes, marked
interrupted until the last is in, so a later failure loses none that finished;
at the end OUT/index.html with its plots, and a summary. A progress bar shows on
a terminal; otherwise (a CI log) a line when each column starts and ends and
every 5 s. Ctrl-C ends the run cleanly and still writes what was measured (exit
0). Exit codes: 0 fine, 1 a failed check, 2 bad input (a bad flag, scenario,
design or --target, an --out that cannot be written or is in use, a design over
the limit on open files, a target that is down or lacks the crowd's centres, a
--reset that failed).`

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --scenario NAME|FILE [--design a,b,c | --target NAME=URL...] [--scale F] [--fault SPEC]... [--out DIR] [--seed N]",
		Short: "Replay a scenario's crowd live against each design (or against target servers)",
		Long:  runLong,
		Example: `  slotrush run --scenario ci-smoke
  slotrush run --scenario demo --fault partition=hottest,down,start=2s,for=15s
  slotrush run --scenario demo --target staging=https://staging.example --target http://127.0.0.1:8080
  slotrush run --scenario demo --target a=http://10.0.0.5:8080 --reset './reset-db.sh "$SLOTRUSH_TARGET_NAME"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return badRunInput(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.scaleSet = cmd.Flags().Changed("scale")
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("seed"))
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs of the in-process server to run, comma separated (default: the scenario's)")
	f.StringArrayVar(&o.targets, "target", nil, "NAME=URL of a server with the booking API v1, repeatable (default: the in-process reference server)")
	f.StringVar(&o.store, "store", "sqlite", "storage engine of the in-process server: "+storeurl.Spellings+"; each design's schema or table is dropped and recreated first")
	f.StringVar(&o.reset, "reset", "", "shell command run (sh -c) before each target's run, e.g. to empty a staging system")
	f.Float64Var(&o.auditRate, "audit-rate", 200, "reads a second of the audit of a target's 201s")
	f.StringVar(&o.segment, "segment", "", "I/N: replay segment I of N of the crowd (with --target; merge the parts with slotrush merge)")
	f.StringVar(&o.startAt, "start-at", "", "RFC 3339 time at which to start, so segments on several machines begin together")
	f.StringVar(&o.profile, "profile", "", "API profile (YAML) mapping the journey onto the targets' API (default: the booking API v1)")
	f.DurationVar(&o.grace, "grace", 0, "how long requests in flight are waited for when the run's time is up (default: the scenario's request timeout)")
	f.StringVar(&o.out, "out", "out/run", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "crowd seed (default: the scenario's)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress line")
	f.BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	f.Float64Var(&o.scale, "scale", 1, scaleFlagUsage+", as simulate does")
	f.BoolVar(&o.noBase, "no-baseline", false, "with faults, skip each design's second run without them (blast_radius.bookings_lost is then not measured)")
	f.StringArrayVar(&o.faults, "fault", nil, "storage fault injected into the in-process server of each design, repeatable, added to the scenario's faults:\n"+faultGrammar)
	return cmd
}

// faultGrammar is the --fault grammar, for the flags' help (package fault).
const faultGrammar = `comma-separated terms: partition=KEY (a partition key: all, ppv-PPV or
ppv-PPV-DATE; or hottest, each design's partition with the most first
choices in the crowd), one mode (down | slow=DURATION | errors=PERCENT),
start=DURATION (from the opening of bookings; default 0s) and for=DURATION,
e.g. partition=hottest,down,start=20s,for=15s`

// runEnv is what every column of a run shares.
type runEnv struct {
	sc       *scenarios.Scenario
	crowd    []scenarios.Arrival
	res      *results.Result
	out      string // --out
	noReport bool   // --no-report
	stdout   io.Writer
	stderr   io.Writer
	// progress is how progress shows on stderr; every is how often a
	// progress line is printed (progressLines).
	progress progressMode
	every    time.Duration
	grace    time.Duration
	// prof is the API profile the targets are driven through; nil is v1.
	prof *profile.Profile
}

// progressMode is how a run shows its progress on stderr.
type progressMode int

const (
	progressNone  progressMode = iota // --quiet
	progressBar                       // a terminal: a bar redrawn in place
	progressLines                     // a log (CI): plain lines
)

// clientOpts are the options of every client of a target: its profile.
func (e *runEnv) clientOpts() []sim.ClientOption {
	if e.prof == nil {
		return nil
	}
	return []sim.ClientOption{sim.WithProfile(e.prof)}
}

// runInputs is what run's flags resolve to: exactly one of targets and
// designs is set.
type runInputs struct {
	sc      *scenarios.Scenario
	targets []target
	designs []models.Design
	prof    *profile.Profile
	seg     *results.SegmentInfo // Index, Of and StartAt; nil for the whole crowd
	store   *storeurl.Spec       // the in-process server's store
	faults  []fault.Spec         // the scenario's faults, then --fault; hottest unresolved
}

// inputs checks the flags and loads what they name. Every error is a bad
// input.
func (o *runOptions) inputs() (*runInputs, error) {
	base, err := scenarios.Load(o.scenario)
	if err != nil {
		return nil, badRunInput(err)
	}
	scale := o.scale
	if scale == 0 && !o.scaleSet {
		scale = 1
	}
	sc, err := scaleScenario(base, scale)
	if err != nil {
		return nil, err
	}
	in := &runInputs{sc: sc}
	if in.targets, err = parseTargets(o.targets); err != nil {
		return nil, badRunInput(err)
	}
	targets := len(in.targets)
	switch {
	case targets > 0 && len(o.designs) > 0:
		return nil, badRunInput(errors.New("--design picks designs of the in-process reference server and cannot be combined with --target: each target is a column of its own (name it with --target NAME=URL)"))
	case targets > 0 && o.auditRate <= 0:
		return nil, badRunInput(fmt.Errorf("--audit-rate %v: want a positive number of reads a second", o.auditRate))
	case o.grace < 0:
		return nil, badRunInput(fmt.Errorf("--grace %v: want a duration of 0 (the request timeout) or more", o.grace))
	case targets == 0 && o.reset != "":
		return nil, badRunInput(errors.New("--reset runs before each target's run: give --target"))
	case targets > 0 && o.store != "" && o.store != storeurl.SQLite:
		return nil, badRunInput(errors.New("--store picks the store of the in-process reference server; a --target runs on its own store"))
	case targets == 0:
		if in.designs, err = sc.BuildDesigns(o.designs); err != nil {
			return nil, badRunInput(err)
		}
	}
	if in.prof, err = o.loadProfile(targets); err != nil {
		return nil, err
	}
	if in.store, err = storeurl.Parse(o.store); err != nil {
		return nil, badRunInput(err)
	}
	if in.seg, err = o.parseSegment(targets); err != nil {
		return nil, badRunInput(err)
	}
	if in.faults, err = o.parseFaults(sc, targets); err != nil {
		return nil, badRunInput(err)
	}
	return in, nil
}

// parseFaults returns the faults to inject into the in-process server:
// the scenario's, then --fault's. A --target's faults are its own, so
// --fault with --target is refused (the scenario's are not injected; run
// says so).
func (o *runOptions) parseFaults(sc *scenarios.Scenario, targets int) ([]fault.Spec, error) {
	if targets > 0 {
		if len(o.faults) > 0 {
			return nil, errors.New("--fault injects faults into the in-process reference server; a --target's faults are its own")
		}
		return nil, nil
	}
	specs, err := sc.FaultSpecs()
	if err != nil {
		return nil, err
	}
	for _, f := range o.faults {
		sp, err := fault.Parse(f)
		if err != nil {
			return nil, fmt.Errorf("--fault %w", err)
		}
		specs = append(specs, sp)
	}
	return specs, nil
}

// resolveFaults resolves the faults of each design to its partitions
// (hottest: from the crowd of seed), into o.resolved. A partition a
// design does not have is a bad input.
func (o *runOptions) resolveFaults(sc *scenarios.Scenario, seed int64, specs []fault.Spec, designs []models.Design, inv *models.Inventory) error {
	r, err := resolveDesignFaults(sc, seed, specs, designs, inv)
	if err != nil {
		return badRunInput(err)
	}
	o.resolved = r
	return nil
}

// resolveDesignFaults resolves specs for each design (by name): hottest
// becomes the partition the crowd of sc with seed wants first most, drawn
// only when a spec asks for it; a key the design lacks is an error.
func resolveDesignFaults(sc *scenarios.Scenario, seed int64, specs []fault.Spec, designs []models.Design, inv *models.Inventory) (map[string][]fault.Spec, error) {
	out := map[string][]fault.Spec{}
	var crowd []scenarios.Arrival
	for _, d := range designs {
		hottest := func() models.PartitionKey {
			if crowd == nil {
				crowd = sc.Arrivals(seed)
			}
			return sc.HottestPartition(d, crowd)
		}
		r, err := fault.Resolve(specs, d, inv, hottest)
		if err != nil {
			return nil, err
		}
		out[d.Name] = r
	}
	return out, nil
}

// faultParameters are the result parameters naming each design's faults:
// "fault" = "design per-ppv-day: ppv-wtc-kl-2021-06-07 down from 2s for
// 15s".
func faultParameters(designs []models.Design, resolved map[string][]fault.Spec) []results.Parameter {
	var out []results.Parameter
	for _, d := range designs {
		for _, sp := range resolved[d.Name] {
			out = append(out, results.Parameter{Name: "fault", Value: "design " + d.Name + ": " + sp.Describe()})
		}
	}
	return out
}

// parseSegment reads --segment I/N and --start-at. Segments drive targets
// only: the in-process server of each would be a store of its own, whose
// results cannot be merged.
func (o *runOptions) parseSegment(targets int) (*results.SegmentInfo, error) {
	seg := &results.SegmentInfo{Index: 1, Of: 1}
	if o.startAt != "" {
		t, err := time.Parse(time.RFC3339, o.startAt)
		if err != nil {
			return nil, fmt.Errorf("--start-at %q: want an RFC 3339 time such as 2021-05-26T12:15:00+08:00", o.startAt)
		}
		seg.StartAt = t.UTC()
	}
	if o.segment == "" {
		if o.startAt == "" {
			return nil, nil
		}
		return seg, nil
	}
	if _, err := fmt.Sscanf(o.segment, "%d/%d", &seg.Index, &seg.Of); err != nil || fmt.Sprintf("%d/%d", seg.Index, seg.Of) != o.segment ||
		seg.Of < 1 || seg.Index < 1 || seg.Index > seg.Of {
		return nil, fmt.Errorf("--segment %q: want I/N with 1 <= I <= N, such as 2/4", o.segment)
	}
	if targets == 0 {
		return nil, errors.New("--segment splits the crowd over machines that drive the same system: give --target")
	}
	if targets > 1 {
		return nil, errors.New("--segment drives one --target: segments begin together at --start-at, which only the first target's run would")
	}
	return seg, nil
}

func (o *runOptions) run(ctx context.Context, stdout, stderr io.Writer, seedSet bool) (err error) {
	in, err := o.inputs()
	if err != nil {
		return err
	}
	sc := in.sc
	seed := sc.Seed
	if seedSet {
		seed = o.seed
	}
	inv := sc.BuildInventory()
	o.spec = in.store
	if err := o.resolveFaults(sc, seed, in.faults, in.designs, &inv); err != nil {
		return err
	}
	if len(in.targets) > 0 && len(sc.Faults) > 0 {
		fmt.Fprintf(stderr, "slotrush run: scenario %s's faults are not injected into --target systems: a target's faults are its own\n", sc.Name)
	}
	if o.spec.Engine == storeurl.SQLite {
		if err := o.checkFiles(in.designs, &inv, sc.Crowd.Size); err != nil {
			return err
		}
	}
	release, err := lockOutDir(o.out)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, release()) }()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	crowd, err := segmentOf(sc.Arrivals(seed), in.seg)
	if err != nil {
		return err
	}
	e := &runEnv{sc: sc, crowd: crowd, out: o.out, noReport: o.noReport, stdout: stdout, stderr: stderr,
		progress: progressNone, every: cmp.Or(o.progressEvery, progressLineEvery), grace: o.grace, prof: in.prof}
	switch {
	case o.quiet:
	case isTerminal(stderr):
		e.progress = progressBar
	default:
		e.progress = progressLines
	}
	e.res = &results.Result{
		Format: results.FormatVersion, Scenario: sc.Name, Engine: results.EngineLive, Seed: seed,
		StartedAt: time.Now().UTC(), Environment: environment(),
	}
	for _, kv := range sc.Parameters() {
		e.res.Parameters = append(e.res.Parameters, results.Parameter{Name: kv[0], Value: kv[1]})
	}
	e.res.Parameters = append(e.res.Parameters, faultParameters(in.designs, o.resolved)...)
	e.res.Observed = sim.ObservedOf(sc)
	if err := startSegment(e.res, in.seg, sc.Arrivals(seed)); err != nil {
		return err
	}
	if len(in.targets) > 0 {
		err = o.runTargets(ctx, e, in.targets)
	} else {
		err = o.runDesigns(ctx, e, in.designs, &inv)
	}
	if err != nil {
		return err
	}
	e.res.FinishedAt = time.Now().UTC()
	return writeOutputs(stdout, e.res, o.out, o.noReport, nil)
}

// checkFiles checks that each in-process design over inv, run with a
// crowd of users, fits the limit on open files (raising the soft limit when
// needed): a bad input when one does not.
func (o *runOptions) checkFiles(designs []models.Design, inv *models.Inventory, users int) error {
	limit := o.limit
	if limit.get == nil {
		limit = systemFileLimit
	}
	needs := make([]fileNeed, len(designs))
	for i, d := range designs {
		needs[i] = designFiles(d, inv, users)
	}
	return limit.check(needs...)
}

// runDesigns runs the crowd against the in-process reference server of
// each design in turn, appending a column to e.res per design.
func (o *runOptions) runDesigns(ctx context.Context, e *runEnv, designs []models.Design, inv *models.Inventory) error {
	names := make([]string, len(designs))
	for i, d := range designs {
		names[i] = d.Name
	}
	if err := clearOutputs(o.out, names); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "slotrush run: scenario %s, %d users, %d places, seed %d, %d design(s)\n",
		e.sc.Name, len(e.crowd), inv.TotalCapacity(), e.res.Seed, len(designs))
	for _, d := range designs {
		for _, sp := range o.resolved[d.Name] {
			fmt.Fprintf(e.stdout, "slotrush run: fault in design %s: %s after the opening of bookings\n", d.Name, sp.Describe())
		}
	}
	return runColumns(ctx, e, "design", names, func(i int) (*results.DesignResult, error) {
		dr, err := o.runDesign(ctx, e, designs[i], inv)
		if err != nil {
			return nil, fmt.Errorf("design %s: %w", designs[i].Name, err)
		}
		return dr, nil
	})
}

// runColumns runs the columns (designs or targets, named names) in turn
// with run, appending each to e.res and writing e.res to OUT/result.json
// as each finishes, marked interrupted until the last is in. When a column
// fails after others finished, it writes the outputs of those, marked
// interrupted, and returns the column's error; when the run is interrupted
// (ctx), it stops and returns nil: the caller writes what was measured.
func runColumns(ctx context.Context, e *runEnv, kind string, names []string, run func(i int) (*results.DesignResult, error)) error {
	for i, name := range names {
		dr, err := run(i)
		switch {
		case err != nil && len(e.res.Designs) == 0:
			return err
		case err != nil && ctx.Err() == nil:
			e.res.Interrupted = true
			e.res.FinishedAt = time.Now().UTC()
			fmt.Fprintf(e.stderr, "slotrush run: %s %s failed; writing the %ss already run\n", kind, name, kind)
			return errors.Join(err, writeOutputs(e.stdout, e.res, e.out, e.noReport, nil))
		case err == nil:
			e.res.Designs = append(e.res.Designs, *dr)
			e.res.FillMilestones()
		}
		if ctx.Err() != nil {
			e.res.Interrupted = true
			fmt.Fprintln(e.stderr, "slotrush run: interrupted; writing what was measured")
			return nil
		}
		if i < len(names)-1 {
			if err := writePartial(e.res, e.out); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePartial writes res, the columns finished so far, to OUT/result.json
// marked interrupted: a later failure (or a crash) loses none of them.
func writePartial(res *results.Result, out string) error {
	r := *res
	r.Interrupted = true
	r.FinishedAt = time.Now().UTC()
	return r.WriteFile(filepath.Join(out, "result.json"))
}

// writeOutputs writes OUT/result.json, prints the summary table (then
// extra, when set) and the result's path, checks the result, and renders the
// HTML report unless noReport. run and simulate end with it.
func writeOutputs(stdout io.Writer, res *results.Result, out string, noReport bool, extra func(io.Writer)) error {
	path := filepath.Join(out, "result.json")
	if err := res.WriteFile(path); err != nil {
		return err
	}
	if err := printSummary(stdout, res); err != nil {
		return err
	}
	if extra != nil {
		extra(stdout)
	}
	fmt.Fprintf(stdout, "result: %s\n", path)
	if errs := res.Check(); len(errs) > 0 {
		return fmt.Errorf("result failed its own checks: %w", errors.Join(errs...))
	}
	if !noReport {
		index, err := reports.Render(out, res)
		if err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		fmt.Fprintf(stdout, "report: %s\n", index)
	}
	return unusable(res)
}

// unusable returns an error with exit code 1, after everything was
// written, when in some column nobody could book because every answer was
// lost or outside the API (results.DesignResult.Unusable).
func unusable(res *results.Result) error {
	var reasons []error
	for i := range res.Designs {
		if bad, why := res.Designs[i].Unusable(); bad {
			reasons = append(reasons, errors.New(why))
		}
	}
	if len(reasons) == 0 {
		return nil
	}
	return &exitError{code: 1, err: fmt.Errorf("the run says nothing of the system under load: %w", errors.Join(reasons...))}
}

// runDesign replays the crowd live against design d on the in-process
// reference server it starts, with the design's faults, and returns the
// design's result with the store's audit and the server's statistics. With
// faults, and unless --no-baseline, it then runs d again without them to
// measure the bookings the faults lost.
func (o *runOptions) runDesign(ctx context.Context, e *runEnv, d models.Design, inv *models.Inventory) (*results.DesignResult, error) {
	faults := o.resolved[d.Name]
	dr, err := o.runServer(ctx, e, d, inv, faults, d.Name)
	if err != nil || len(faults) == 0 || o.noBase || ctx.Err() != nil {
		return dr, err
	}
	fmt.Fprintf(e.stdout, "slotrush run: design %s again without its faults, for the bookings they lost\n", d.Name)
	base, err := o.runServer(ctx, e, d, inv, nil, d.Name+"-baseline")
	if err != nil {
		// The run with the faults stands; only its bookings lost are unknown.
		fmt.Fprintf(e.stderr, "slotrush run: design %s: the run without the faults failed, so the bookings lost are not measured: %v\n", d.Name, err)
		return dr, nil
	}
	if ctx.Err() == nil && dr.BlastRadius != nil {
		lost := base.Slots.Booked - dr.Slots.Booked
		dr.BlastRadius.BookingsLost = &lost
	}
	return dr, nil
}

// runServer replays the crowd live against design d on an in-process
// reference server with faults, its data under OUT/data/DIR, and returns
// the design's result with the store's audit and the server's statistics;
// an error closing its store fails the design.
func (o *runOptions) runServer(ctx context.Context, e *runEnv, d models.Design, inv *models.Inventory, faults []fault.Spec, dir string) (_ *results.DesignResult, err error) {
	ip, err := o.startInProcess(e.sc, d, inv, faults, dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := ip.srv.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()
	dr := &results.DesignResult{
		Design: d.Name,
		Assumptions: results.Assumptions{
			Scheme: d.Scheme, Partitions: len(d.Partitions(inv)), Limits: d.Limits, WaitingRoom: d.WaitingRoom,
			Store: ip.srv.StoreDescription(), Durability: ip.srv.Durability(), Source: results.SourceKnown,
			Engine: ip.srv.Engine().Name, EngineVersion: ip.srv.Engine().Version, LimitsBy: ip.srv.LimitsBy(),
		},
	}
	tr := sim.NewTransport()
	// Bounded, so that the open files a design needs are (designFiles).
	tr.MaxConnsPerHost = inProcessMaxConns
	defer tr.CloseIdleConnections()
	client, err := sim.NewClient(ip.url, tr, e.sc.Journey.RequestTimeout)
	if err != nil {
		return nil, err
	}
	label := "design " + d.Name
	if len(faults) == 0 && len(o.resolved[d.Name]) > 0 {
		label += " (without faults)"
	}
	progress, finish := e.showProgress(label, int64(inv.TotalCapacity()))
	defer finish()
	opts := append([]sim.LiveOption{sim.WithWaitingRoom(d.WaitingRoom), sim.WithCentreRooms(d.CentreRooms), sim.WithGrace(e.grace),
		sim.WithFaults(d, faults, ip.opensAt)}, append(progress, journeyLiveOptions(e.sc)...)...)
	run := sim.NewLive(client, e.sc.Journey, e.sc.Duration, opts...).Run(ctx, e.crowd)
	ids, err := sim.FillLive(run, dr)
	if err != nil {
		return nil, err
	}
	if err := ip.finish(dr, ids); err != nil {
		return nil, err
	}
	if len(faults) > 0 {
		printFaulted(e.stdout, d.Name, ip.srv.Stats())
	}
	return dr, nil
}

// printFaulted says, for each partition of design with a fault, what the
// fault did to its store operations.
func printFaulted(w io.Writer, design string, st refserver.Stats) {
	for _, p := range st.Partitions {
		if f := p.Faulted; f != (faultstore.Counts{}) {
			fmt.Fprintf(w, "slotrush run: design %s: the faults of %s refused %d, delayed %d and failed %d store operations\n",
				design, p.Key, f.Down, f.Slow, f.Errors)
		}
	}
}

// inProcess is the reference server run starts for a design when it has
// no --target, and the HTTP server in front of it.
type inProcess struct {
	srv     *refserver.Server
	hs      *http.Server
	url     string    // base URL of hs
	opensAt time.Time // when bookings open on srv
}

// startInProcess starts the reference server of d over inv in a fresh data
// directory OUT/data/NAME, opening bookings after the scenario's opening
// delay, with faults, behind an HTTP server on a free port of 127.0.0.1.
// The caller closes its srv.
func (o *runOptions) startInProcess(sc *scenarios.Scenario, d models.Design, inv *models.Inventory, faults []fault.Spec, name string) (*inProcess, error) {
	dir := filepath.Join(o.out, "data", name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("fresh data dir: %w", err)
	}
	opener := o.openStore
	if opener == nil && o.spec != nil {
		if err := o.resetStore(d); err != nil {
			return nil, err
		}
		opener = o.spec.Opener()
	}
	if opener == nil {
		opener = sqlitestore.Opener()
	}
	// Open (and seed) the store first, then open bookings: the opening,
	// from which the faults' windows count, is then as close as it can be
	// to the crowd's start, however long seeding took.
	st, err := opener(context.Background(), dir, d, *inv)
	if err != nil {
		return nil, fmt.Errorf("reference server: %w", err)
	}
	taken := false // by New, which closes it when it fails after
	opened := func(context.Context, string, models.Design, models.Inventory) (store.Store, error) {
		taken = true
		return st, nil
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	opensAt := time.Now().Add(sc.Crowd.OpeningDelay)
	srv, err := refserver.New(d, *inv, dir, append([]refserver.Option{refserver.WithStoreOpener(opened),
		refserver.WithOpensAt(opensAt), refserver.WithLogger(logger), refserver.WithFaults(faults)},
		journeyServerOptions(sc, opensAt.Add(-sc.Crowd.OpeningDelay))...)...)
	if err != nil && !taken {
		err = errors.Join(err, st.Close())
	}
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen: %w", err), srv.Close())
	}
	hs := refserver.NewHTTPServer(ln.Addr().String(), srv.Handler())
	go hs.Serve(ln) //nolint:errcheck // ends with Shutdown in finish
	return &inProcess{srv: srv, hs: hs, url: "http://" + ln.Addr().String(), opensAt: opensAt}, nil
}

// resetStore drops what design d left in a PostgreSQL or DynamoDB --store,
// so that its run starts from the seeded inventory as a SQLite run does.
func (o *runOptions) resetStore(d models.Design) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := o.spec.Reset(ctx, d); err != nil {
		return fmt.Errorf("--store %s: start design %s fresh: %w", o.spec, d.Name, err)
	}
	return nil
}

// finish shuts the HTTP server down, has the reference server reconcile
// ids (the bookings answered 201) with its store, and copies the figures
// and the server's statistics into dr.
func (p *inProcess) finish(dr *results.DesignResult, ids []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.hs.Shutdown(ctx); err != nil {
		return fmt.Errorf("shut down server: %w", err)
	}
	rec, err := p.srv.Reconcile(ctx, ids)
	if err != nil {
		return fmt.Errorf("audit store: %w", err)
	}
	dr.Slots = results.Slots{
		Capacity: rec.Capacity, Booked: rec.Booked, Oversold: rec.Oversold,
		Answered201: rec.Answered201, Persisted: rec.Persisted, Missing: rec.Missing,
		Inventory: results.InventoryScenario, Audit: results.AuditStore,
	}
	dr.Server, err = serverStats(p.srv.Stats(), p.srv.CommitTimes())
	return err
}

// showProgress returns the live options that show the progress of column
// label (a design or a target, by name) on e.stderr, as e.progress says,
// and the function to call when the column ends.
func (e *runEnv) showProgress(label string, places int64) ([]sim.LiveOption, func()) {
	switch e.progress {
	case progressBar:
		_, name, _ := strings.Cut(label, " ")
		opt, finish := progressOption(e.stderr, name, e.sc.Duration, places, len(e.crowd))
		return []sim.LiveOption{opt}, finish
	case progressLines:
		opt, finish := progressLine(e.stderr, label, e.every, e.sc.Duration, places, len(e.crowd))
		return []sim.LiveOption{opt}, finish
	}
	return nil, func() {}
}

// progressLine returns the live option that prints the progress of column
// label on w as plain lines, for a log: one now, one every interval while
// the crowd runs, and, from the function it returns, one when the column
// ends.
func progressLine(w io.Writer, label string, every, duration time.Duration, places int64, users int) (sim.LiveOption, func()) {
	start := time.Now()
	fmt.Fprintf(w, "slotrush run: %s: started, %d users over %v\n", label, users, duration)
	// last is written by the progress goroutine and read by the returned
	// function, which is called once the run returned, after that goroutine
	// ended.
	var last sim.Progress
	next := every
	opt := sim.WithProgress(every, func(p sim.Progress) {
		last = p
		if p.Elapsed < next { // the call at the end of the run: the last line says it
			return
		}
		next = (p.Elapsed/every + 1) * every
		fmt.Fprintf(w, "slotrush run: %s: %v of %v: %s\n", label, p.Elapsed.Round(100*time.Millisecond), duration, progressCounts(p, places))
	})
	return opt, func() {
		fmt.Fprintf(w, "slotrush run: %s: ended after %v: %s\n", label, time.Since(start).Round(100*time.Millisecond), progressCounts(last, places))
	}
}

// progressCounts describes progress p of a column of places places.
func progressCounts(p sim.Progress, places int64) string {
	return fmt.Sprintf("%d requests, %d errors, %d/%d booked, %d users arrived", p.Requests, p.Errors, p.Booked, places, p.Arrived)
}

// progressOption returns the live option that draws the progress bar of
// column name on w, and the function that ends the bar.
func progressOption(w io.Writer, name string, duration time.Duration, places int64, users int) (sim.LiveOption, func()) {
	bar := newProgressBar(w, name, duration)
	opt := sim.WithProgress(250*time.Millisecond, func(p sim.Progress) {
		errPct := 0.0
		if p.Requests > 0 {
			errPct = 100 * float64(p.Errors) / float64(p.Requests)
		}
		rate := 0.0
		if s := p.Elapsed.Seconds(); s > 0 {
			rate = float64(p.Requests) / s
		}
		bar.Describe(fmt.Sprintf("%-26s %6.0f req/s  errors %5.1f%%  booked %d/%d  users %d/%d",
			name, rate, errPct, p.Booked, places, p.Arrived, users))
		_ = bar.Set64(p.Elapsed.Milliseconds())
	})
	return opt, func() { _ = bar.Finish(); fmt.Fprintln(w) }
}

// serverStats converts what the in-process server measured on its side
// into the result's form, for the simulator's calibration.
func serverStats(st refserver.Stats, commits *hdrhistogram.Histogram) (*results.ServerStats, error) {
	out := &results.ServerStats{Service: map[string]string{}}
	for op, h := range st.Operations {
		if h.TotalCount() == 0 {
			continue
		}
		enc, err := results.EncodeHistogram(h)
		if err != nil {
			return nil, err
		}
		out.Service[op] = enc
	}
	if commits != nil && commits.TotalCount() > 0 {
		enc, err := results.EncodeHistogram(commits)
		if err != nil {
			return nil, err
		}
		out.Commit = enc
	}
	for _, p := range st.Partitions {
		out.Partitions = append(out.Partitions, results.PartitionStats{
			Key: string(p.Key), Committed: p.Committed, Throttled: p.Throttled + p.ThrottledReads,
			Shed: p.Shed + p.ShedReads, Batches: p.Batches, MeanBatch: p.MeanBatchSize, BusySeconds: p.Busy.Seconds(),
		})
	}
	return out, nil
}

func newProgressBar(w io.Writer, name string, total time.Duration) *progressbar.ProgressBar {
	return progressbar.NewOptions64(total.Milliseconds(),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionClearOnFinish(),
	)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// printSummary writes the console table of a result.
func printSummary(w io.Writer, r *results.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "design\tplaces booked\tof places\tpeople booked\tof people\tgave up\twaiting\trequests\treq/user\tretry amp\t2xx\t409\t429\t503\tother 5xx\ttransport\t201 p50 ms\t201 p99 ms\toversold\tmissing 201s\t")
	for i := range r.Designs {
		d := &r.Designs[i]
		var other5xx int64
		for code, n := range d.Requests.ByStatus {
			if strings.HasPrefix(code, "5") && code != "503" {
				other5xx += n
			}
		}
		var ok2xx int64
		for code, n := range d.Requests.ByStatus {
			if strings.HasPrefix(code, "2") {
				ok2xx += n
			}
		}
		// The bookings that succeeded: refusals are fast and would flatter
		// an overloaded design (an old result has only every answer).
		book, ok := d.LatencyMs[results.OpBookBooked]
		if !ok {
			book = d.LatencyMs[results.OpBook]
		}
		placesShare := 0.0
		if d.Slots.Capacity > 0 {
			placesShare = 100 * float64(d.Slots.Booked) / float64(d.Slots.Capacity)
		}
		missing := fmt.Sprint(d.Slots.Missing)
		if d.Slots.Persisted < 0 {
			missing = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f%%\t%d/%d\t%.1f%%\t%d\t%d\t%d\t%.2f\t%.2f×\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%d\t%s\t\n",
			d.Design, d.Slots.Booked, d.Slots.Capacity, placesShare, d.Users.Booked, d.Users.Arrived, 100*d.BookedShare(), d.Users.GaveUp, d.Users.StillWaiting,
			d.Requests.Total, d.Users.RequestsPerUser, d.Amplification(), ok2xx, d.Requests.ByStatus["409"], d.Requests.ByStatus["429"],
			d.Requests.ByStatus["503"], other5xx, d.Requests.TransportErrors, book.P50, book.P99, d.Slots.Oversold, missing)
	}
	return tw.Flush()
}

// loadProfile loads --profile, which only targets use; nil without it (the
// booking API v1). Its errors are bad input.
func (o *runOptions) loadProfile(targets int) (*profile.Profile, error) {
	switch {
	case o.profile == "":
		return nil, nil
	case targets == 0:
		return nil, badRunInput(errors.New("--profile maps the journey onto a target's API: give --target (the in-process server speaks the booking API v1)"))
	}
	p, err := profile.Load(o.profile)
	if err != nil {
		return nil, badRunInput(err)
	}
	return p, nil
}

// segmentOf returns seg's share of crowd (all of it without a segment).
func segmentOf(crowd []scenarios.Arrival, seg *results.SegmentInfo) ([]scenarios.Arrival, error) {
	if seg == nil {
		return crowd, nil
	}
	part, err := scenarios.Segment(crowd, seg.Index, seg.Of)
	if err != nil {
		return nil, badRunInput(err)
	}
	return part, nil
}

// startSegment records in res which segment of which crowd this run
// replays.
func startSegment(res *results.Result, seg *results.SegmentInfo, crowd []scenarios.Arrival) error {
	if seg == nil {
		return nil
	}
	info := *seg
	info.CrowdHash = scenarios.CrowdHash(crowd)
	res.Segment = &info
	return nil
}

// waitStart waits, with --start-at, until then and starts the result
// there, once the target's places were read: the segments on several
// machines read the same inventory, then begin together. A start already
// past starts at once.
func waitStart(ctx context.Context, res *results.Result) error {
	seg := res.Segment
	if seg == nil || seg.StartAt.IsZero() {
		return nil
	}
	if wait := time.Until(seg.StartAt); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return fmt.Errorf("interrupted before --start-at %s", seg.StartAt.Format(time.RFC3339))
		case <-t.C:
		}
	}
	// Also when --start-at had passed: the merge reads a late part's lag
	// from when it really began.
	res.StartedAt = time.Now().UTC()
	return nil
}
