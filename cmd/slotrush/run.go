package main

import (
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

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
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
	auditRate float64
	profile   string
	grace     time.Duration
	out       string
	seed      int64
	quiet     bool
	noReport  bool
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --scenario NAME|FILE [--design a,b,c | --target NAME=URL...] [--out DIR] [--seed N]",
		Short: "Replay a scenario's crowd live against each design (or against target servers)",
		Long: `run replays the scenario's registration-day crowd over real HTTP.

Without --target it starts the reference server in-process on 127.0.0.1, with a
fresh data directory per design under OUT/data, runs the designs one after another
with the identical seeded crowd, and audits each store afterwards (oversold slots,
bookings answered 201 but not persisted).

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

It writes OUT/result.json, OUT/index.html with its plots, and prints a summary.
Ctrl-C ends the run cleanly and still writes what was measured. Exit codes: 0
fine, 1 a failed check, 2 bad input (a bad scenario, design or --target, a target
that is down or lacks the crowd's centres, a --reset that failed).`,
		Example: `  slotrush run --scenario ci-smoke
  slotrush run --scenario demo --target staging=https://staging.example --target http://127.0.0.1:8080
  slotrush run --scenario demo --target a=http://10.0.0.5:8080 --reset './reset-db.sh "$SLOTRUSH_TARGET_NAME"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := cobra.NoArgs(cmd, args); err != nil {
				return badRunInput(err)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("seed"))
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs of the in-process server to run, comma separated (default: the scenario's)")
	f.StringArrayVar(&o.targets, "target", nil, "NAME=URL of a server with the booking API v1, repeatable (default: the in-process reference server)")
	f.StringVar(&o.reset, "reset", "", "shell command run (sh -c) before each target's run, e.g. to empty a staging system")
	f.Float64Var(&o.auditRate, "audit-rate", 200, "reads a second of the audit of a target's 201s")
	f.StringVar(&o.profile, "profile", "", "API profile (YAML) mapping the journey onto the targets' API (default: the booking API v1)")
	f.DurationVar(&o.grace, "grace", 0, "how long requests in flight are waited for when the run's time is up (default: the scenario's request timeout)")
	f.StringVar(&o.out, "out", "out/run", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "crowd seed (default: the scenario's)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress line")
	f.BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	return cmd
}

// runEnv is what every column of a run shares.
type runEnv struct {
	sc       *scenarios.Scenario
	crowd    []scenarios.Arrival
	res      *results.Result
	stdout   io.Writer
	stderr   io.Writer
	progress bool
	grace    time.Duration
	// prof is the API profile the targets are driven through; nil is v1.
	prof *profile.Profile
}

// clientOpts are the options of every client of a target: its profile.
func (e *runEnv) clientOpts() []sim.ClientOption {
	if e.prof == nil {
		return nil
	}
	return []sim.ClientOption{sim.WithProfile(e.prof)}
}

func (o *runOptions) run(ctx context.Context, stdout, stderr io.Writer, seedSet bool) error {
	sc, err := scenarios.Load(o.scenario)
	if err != nil {
		return badRunInput(err)
	}
	targets, err := parseTargets(o.targets)
	if err != nil {
		return badRunInput(err)
	}
	var designs []models.Design
	switch {
	case len(targets) > 0 && len(o.designs) > 0:
		return badRunInput(errors.New("--design picks designs of the in-process reference server and cannot be combined with --target: each target is a column of its own (name it with --target NAME=URL)"))
	case len(targets) > 0 && o.auditRate <= 0:
		return badRunInput(fmt.Errorf("--audit-rate %v: want a positive number of reads a second", o.auditRate))
	case o.grace < 0:
		return badRunInput(fmt.Errorf("--grace %v: want a duration of 0 (the request timeout) or more", o.grace))
	case len(targets) == 0 && o.reset != "":
		return badRunInput(errors.New("--reset runs before each target's run: give --target"))
	case len(targets) == 0:
		if designs, err = sc.BuildDesigns(o.designs); err != nil {
			return badRunInput(err)
		}
	}
	prof, err := o.loadProfile(len(targets))
	if err != nil {
		return err
	}
	seed := sc.Seed
	if seedSet {
		seed = o.seed
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	e := &runEnv{sc: sc, crowd: sc.Arrivals(seed), stdout: stdout, stderr: stderr, progress: !o.quiet && isTerminal(stderr), grace: o.grace, prof: prof}
	e.res = &results.Result{
		Format: results.FormatVersion, Scenario: sc.Name, Engine: results.EngineLive, Seed: seed,
		StartedAt: time.Now().UTC(), Environment: environment(),
	}
	for _, kv := range sc.Parameters() {
		e.res.Parameters = append(e.res.Parameters, results.Parameter{Name: kv[0], Value: kv[1]})
	}
	if len(targets) > 0 {
		err = o.runTargets(ctx, e, targets)
	} else {
		err = o.runDesigns(ctx, e, designs)
	}
	if err != nil {
		return err
	}
	e.res.FinishedAt = time.Now().UTC()
	return writeOutputs(stdout, e.res, o.out, o.noReport, nil)
}

// runDesigns runs the crowd against the in-process reference server of
// each design in turn, appending a column to e.res per design.
func (o *runOptions) runDesigns(ctx context.Context, e *runEnv, designs []models.Design) error {
	inv := e.sc.BuildInventory()
	fmt.Fprintf(e.stdout, "slotrush run: scenario %s, %d users, %d places, seed %d, %d design(s)\n",
		e.sc.Name, len(e.crowd), inv.TotalCapacity(), e.res.Seed, len(designs))
	for _, d := range designs {
		dr, err := o.runDesign(ctx, e, d, &inv)
		if err != nil {
			return fmt.Errorf("design %s: %w", d.Name, err)
		}
		e.res.Designs = append(e.res.Designs, *dr)
		if ctx.Err() != nil {
			e.res.Interrupted = true
			fmt.Fprintln(e.stderr, "slotrush run: interrupted; writing what was measured")
			break
		}
	}
	return nil
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
	if noReport {
		return nil
	}
	index, err := reports.Render(out, res)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s\n", index)
	return nil
}

// runDesign replays the crowd live against design d on the in-process
// reference server it starts, and returns the design's result with the
// store's audit and the server's statistics; an error closing its store
// fails the design.
func (o *runOptions) runDesign(ctx context.Context, e *runEnv, d models.Design, inv *models.Inventory) (_ *results.DesignResult, err error) {
	ip, err := o.startInProcess(e.sc, d, inv)
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
			Store: ip.srv.StoreDescription(), Durability: refserver.Durability, Source: results.SourceKnown,
		},
	}
	tr := sim.NewTransport()
	defer tr.CloseIdleConnections()
	client, err := sim.NewClient(ip.url, tr, e.sc.Journey.RequestTimeout)
	if err != nil {
		return nil, err
	}
	opts := []sim.LiveOption{sim.WithWaitingRoom(d.WaitingRoom), sim.WithGrace(e.grace)}
	if e.progress {
		opt, finish := progressOption(e.stderr, d.Name, e.sc.Duration, int64(inv.TotalCapacity()), len(e.crowd))
		defer finish()
		opts = append(opts, opt)
	}
	run := sim.NewLive(client, e.sc.Journey, e.sc.Duration, opts...).Run(ctx, e.crowd)
	ids, err := sim.FillLive(run, dr)
	if err != nil {
		return nil, err
	}
	if err := ip.finish(dr, ids); err != nil {
		return nil, err
	}
	return dr, nil
}

// inProcess is the reference server run starts for a design when it has
// no --target, and the HTTP server in front of it.
type inProcess struct {
	srv *refserver.Server
	hs  *http.Server
	url string // base URL of hs
}

// startInProcess starts the reference server of d over inv in a fresh data
// directory OUT/data/DESIGN, opening bookings after the scenario's opening
// delay, behind an HTTP server on a free port of 127.0.0.1. The caller
// closes its srv.
func (o *runOptions) startInProcess(sc *scenarios.Scenario, d models.Design, inv *models.Inventory) (*inProcess, error) {
	dir := filepath.Join(o.out, "data", d.Name)
	if err := os.RemoveAll(dir); err != nil {
		return nil, fmt.Errorf("fresh data dir: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := refserver.New(d, *inv, dir, refserver.WithOpensAt(time.Now().Add(sc.Crowd.OpeningDelay)), refserver.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen: %w", err), srv.Close())
	}
	hs := refserver.NewHTTPServer(ln.Addr().String(), srv.Handler())
	go hs.Serve(ln) //nolint:errcheck // ends with Shutdown in finish
	return &inProcess{srv: srv, hs: hs, url: "http://" + ln.Addr().String()}, nil
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
	fmt.Fprintln(tw, "design\tbooked\tshare\tgave up\twaiting\trequests\treq/user\tretry amp\t2xx\t409\t429\t503\tother 5xx\ttransport\tbook p50 ms\tbook p99 ms\toversold\tmissing 201s\t")
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
		book := d.LatencyMs[results.OpBook]
		missing := fmt.Sprint(d.Slots.Missing)
		if d.Slots.Persisted < 0 {
			missing = "n/a"
		}
		fmt.Fprintf(tw, "%s\t%d/%d\t%.1f%%\t%d\t%d\t%d\t%.2f\t%.2f×\t%d\t%d\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%d\t%s\t\n",
			d.Design, d.Slots.Booked, d.Slots.Capacity, 100*d.BookedShare(), d.Users.GaveUp, d.Users.StillWaiting,
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
