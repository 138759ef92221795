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
	scenario string
	designs  []string
	target   string
	out      string
	seed     int64
	quiet    bool
	noReport bool
}

func newRunCmd() *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run --scenario NAME|FILE [--design a,b,c] [--target URL] [--out DIR] [--seed N]",
		Short: "Replay a scenario's crowd live against each design (or a target server)",
		Long: `run replays the scenario's registration-day crowd over real HTTP.

Without --target it starts the reference server in-process on 127.0.0.1, with a
fresh data directory per design under OUT/data, runs the designs one after another
with the identical seeded crowd, and audits each store afterwards (oversold slots,
bookings answered 201 but not persisted). With --target it drives any server that
speaks the booking API v1 (no audit is possible then).

It writes OUT/result.json, OUT/index.html with its plots, and prints a summary.
Ctrl-C ends the run cleanly and still writes what was measured.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("seed"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs to run, comma separated (default: the scenario's)")
	f.StringVar(&o.target, "target", "", "base URL of a server with the booking API (default: in-process reference server)")
	f.StringVar(&o.out, "out", "out/run", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "crowd seed (default: the scenario's)")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress line")
	f.BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	return cmd
}

func (o *runOptions) run(ctx context.Context, stdout, stderr io.Writer, seedSet bool) error {
	sc, err := scenarios.Load(o.scenario)
	if err != nil {
		return err
	}
	designs, err := sc.BuildDesigns(o.designs)
	if err != nil {
		return err
	}
	if o.target != "" {
		if _, err := sim.NewClient(o.target, nil, 0); err != nil {
			return fmt.Errorf("--target: %w", err)
		}
	}
	seed := sc.Seed
	if seedSet {
		seed = o.seed
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(seed)

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	res := &results.Result{
		Format: results.FormatVersion, Scenario: sc.Name, Engine: results.EngineLive, Seed: seed,
		StartedAt: time.Now().UTC(), Target: o.target, Environment: environment(),
	}
	for _, kv := range sc.Parameters() {
		res.Parameters = append(res.Parameters, results.Parameter{Name: kv[0], Value: kv[1]})
	}
	showProgress := !o.quiet && isTerminal(stderr)
	fmt.Fprintf(stdout, "slotrush run: scenario %s, %d users, %d places, seed %d, %d design(s)\n",
		sc.Name, len(crowd), inv.TotalCapacity(), seed, len(designs))
	for _, d := range designs {
		dr, err := o.runDesign(ctx, sc, d, &inv, crowd, stderr, showProgress)
		if err != nil {
			return fmt.Errorf("design %s: %w", d.Name, err)
		}
		res.Designs = append(res.Designs, *dr)
		if ctx.Err() != nil {
			res.Interrupted = true
			fmt.Fprintln(stderr, "slotrush run: interrupted; writing what was measured")
			break
		}
	}
	res.FinishedAt = time.Now().UTC()
	return writeOutputs(stdout, res, o.out, o.noReport, nil)
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

// runDesign replays crowd live against design d, on the in-process
// reference server it starts (or on --target), and returns the design's
// result; for the in-process server the result carries the store's audit
// and the server's statistics, and an error closing its store fails the
// design.
func (o *runOptions) runDesign(ctx context.Context, sc *scenarios.Scenario, d models.Design, inv *models.Inventory,
	crowd []scenarios.Arrival, stderr io.Writer, showProgress bool) (_ *results.DesignResult, err error) {
	dr := &results.DesignResult{
		Design: d.Name,
		Assumptions: results.Assumptions{
			Scheme: d.Scheme, Partitions: len(d.Partitions(inv)), Limits: d.Limits, WaitingRoom: d.WaitingRoom,
			Store: "external target", Durability: "unknown (external target)",
		},
	}
	base := o.target
	var ip *inProcess
	if base == "" {
		if ip, err = o.startInProcess(sc, d, inv); err != nil {
			return nil, err
		}
		defer func() {
			if cerr := ip.srv.Close(); cerr != nil {
				err = errors.Join(err, cerr)
			}
		}()
		base = ip.url
		dr.Assumptions.Store = ip.srv.StoreDescription()
		dr.Assumptions.Durability = "a 201 survives kill -9 and power loss (fsync before the answer)"
	}
	tr := sim.NewTransport()
	defer tr.CloseIdleConnections()
	client, err := sim.NewClient(base, tr, sc.Journey.RequestTimeout)
	if err != nil {
		return nil, err
	}
	opts := []sim.LiveOption{sim.WithWaitingRoom(d.WaitingRoom)}
	if showProgress {
		opt, finish := progressOption(stderr, sc, d, inv, len(crowd))
		defer finish()
		opts = append(opts, opt)
	}
	run := sim.NewLive(client, sc.Journey, sc.Duration, opts...).Run(ctx, crowd)
	ids, err := sim.FillLive(run, dr)
	if err != nil {
		return nil, err
	}
	dr.Slots = results.Slots{Capacity: int64(inv.TotalCapacity()), Answered201: int64(len(ids)), Booked: int64(len(ids)), Persisted: -1}
	if ip == nil {
		return dr, nil
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
	}
	dr.Server, err = serverStats(p.srv.Stats(), p.srv.CommitTimes())
	return err
}

// progressOption returns the live option that draws design d's progress
// bar on w, and the function that ends the bar.
func progressOption(w io.Writer, sc *scenarios.Scenario, d models.Design, inv *models.Inventory, users int) (sim.LiveOption, func()) {
	bar := newProgressBar(w, d.Name, sc.Duration)
	total := int64(inv.TotalCapacity())
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
			d.Name, rate, errPct, p.Booked, total, p.Arrived, users))
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
