package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/spf13/cobra"

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
	noReport  bool
	quiet     bool
}

func newSimulateCmd() *cobra.Command {
	o := &simulateOptions{}
	cmd := &cobra.Command{
		Use:   "simulate --scenario NAME|FILE [--design a,b,c] [--scale F] [--out DIR] [--seed N] [--calibrate RESULT.json]",
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
let the heap grow (the full preset peaks at about 1.65 GB resident).`,
		Example: `  slotrush simulate --scenario jkjav-az-2021-05-26 --design per-ppv-day --scale 0.1
  slotrush run --scenario demo --out out/live
  slotrush simulate --scenario demo --calibrate out/live/result.json --out out/model`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed("seed"))
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringVar(&o.scenario, "scenario", "demo", "preset name or scenario file")
	f.StringSliceVar(&o.designs, "design", nil, "designs to simulate, comma separated (default: the scenario's)")
	f.Float64Var(&o.scale, "scale", 1, "multiply the crowd and the capacities (not the limits) by F")
	f.StringVar(&o.out, "out", "out/simulate", "output directory")
	f.Int64Var(&o.seed, "seed", 0, "crowd seed (default: the scenario's)")
	f.StringVar(&o.calibrate, "calibrate", "", "live result to measure the model's parameters from")
	f.IntVar(&o.parallel, "parallel", 0, "designs simulated at once (default: the number of CPUs)")
	f.BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no per-design progress lines")
	return cmd
}

func (o *simulateOptions) run(ctx context.Context, stdout, stderr io.Writer, seedSet bool) error {
	if !(o.scale > 0) || o.scale > 1e6 {
		return &exitError{code: 2, err: fmt.Errorf("--scale %v: want a positive number", o.scale)}
	}
	sc, err := scenarios.Load(o.scenario)
	if err != nil {
		return err
	}
	if o.scale != 1 {
		sc = sc.Scaled(o.scale)
		if errs := sc.Validate(); len(errs) > 0 {
			return fmt.Errorf("scenario %s at --scale %v: %w", sc.Name, o.scale, errors.Join(errs...))
		}
	}
	designs, err := sc.BuildDesigns(o.designs)
	if err != nil {
		return err
	}
	seed := sc.Seed
	if seedSet {
		seed = o.seed
	}
	params := func(string) sim.ModelParams { return sim.DefaultModelParams() }
	if o.calibrate != "" {
		live, err := results.LoadResult(o.calibrate)
		if err != nil {
			return fmt.Errorf("--calibrate: %w", err)
		}
		fitted := map[string]sim.ModelParams{}
		for _, d := range designs {
			p, err := sim.CalibrateModel(live, o.calibrate, d.Name)
			if err != nil {
				return fmt.Errorf("--calibrate: %w", err)
			}
			fitted[d.Name] = p
		}
		params = func(name string) sim.ModelParams { return fitted[name] }
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
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
	opts := []sim.ModelOption{sim.WithModelParams(params), sim.WithParallelism(o.parallel)}
	if !o.quiet {
		opts = append(opts, sim.WithModelProgress(func(st sim.ModelStats) {
			fmt.Fprintf(stderr, "  %s: done in %v\n", st.Design, st.Wall.Round(time.Millisecond))
		}))
	}
	start := time.Now()
	res, stats, err := sim.Simulate(ctx, sc, designs, seed, opts...)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	res.Environment = environment()
	return writeOutputs(stdout, res, o.out, o.noReport, func(w io.Writer) { printModelStats(w, stats, wall) })
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
