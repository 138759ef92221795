package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/reports"
)

func init() { addCommand(newCompareCmd) }

// compareOpts are the flags of compare.
type compareOpts struct {
	baseline, current []string
	format            string
	output            string
	thresholds        reports.CompareOptions
	capacityDrop      string // --capacity-drop, for capacity files (capacity.go)
}

func newCompareCmd() *cobra.Command {
	o := &compareOpts{thresholds: reports.DefaultCompareOptions()}
	cmd := &cobra.Command{
		Use:   "compare BASELINE.json CURRENT.json | --baseline FILE... --current FILE...",
		Short: "Compare results with a baseline and fail on a regression (the CI gate)",
		Long: `compare checks, per design, the booked share, the error rate, the p50 and p99
of every operation, oversold places and missing 201s of the current results
against the baseline, and exits 0 within the thresholds, 1 on a regression
(the message names design, metric, baseline and current values) and 2 on bad
input (a missing, truncated or foreign file, no design in common, results of
different scenarios or engines, or an interrupted baseline).

Results of different crowds (another --scale, seed, crowd size or
segment) are refused with exit 2, naming both crowds: a ×10 simulation is
not a regression of a ×1 one. --allow-different-crowds compares them
anyway and says how the crowds differ.

Only whole runs pass: an interrupted current run ("run interrupted: …") and a
design of the baseline missing from a current run are regressions, unless
--design restricts the comparison to designs on both sides.

Give one file per side, or repeat --baseline and --current to compare several
runs per side. Noise rule: a metric regresses only when the median of the
current runs is beyond the baseline runs' [min, max] widened by the threshold
(latency: max × (1 + threshold) and at least --min-latency-ms slower; error
rate: max + pp; booked share: min − pp). With one run per side that is the
plain threshold. The output says for every metric whether the change is
significant.

Two capacity files (capacity.json of slotrush capacity, told apart by their
format field) are compared per design instead: a capacity (people/s) that
dropped by more than --capacity-drop is a regression.`,
		Example: `  slotrush compare testdata/baseline/ci-smoke.json out/ci/result.json
  slotrush compare --baseline b1.json --baseline b2.json --current c1.json --current c2.json --format markdown
  slotrush compare base.json cur.json --p99 0.3 --design per-ppv-day --format junit --output compare.xml`,
		Args: func(cmd *cobra.Command, args []string) error {
			flags := len(o.baseline) > 0 || len(o.current) > 0
			switch {
			case flags && len(args) > 0:
				return &exitError{code: 2, err: errors.New("compare: give BASELINE.json CURRENT.json, or --baseline and --current, not both")}
			case flags && (len(o.baseline) == 0 || len(o.current) == 0):
				return &exitError{code: 2, err: errors.New("compare: --baseline and --current each need at least one file")}
			case !flags && len(args) != 2:
				return &exitError{code: 2, err: fmt.Errorf("compare: want BASELINE.json CURRENT.json, got %d files", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				o.baseline, o.current = args[:1], args[1:]
			}
			return o.run(cmd.OutOrStdout())
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	f := cmd.Flags()
	f.StringArrayVar(&o.baseline, "baseline", nil, "a baseline result file (repeat for several runs)")
	f.StringArrayVar(&o.current, "current", nil, "a current result file (repeat for several runs)")
	t := &o.thresholds
	f.Float64Var(&t.P50, "p50", t.P50, "largest relative increase of p50 latency (0.25 = +25%)")
	f.Float64Var(&t.P99, "p99", t.P99, "largest relative increase of p99 latency")
	f.Float64Var(&t.ErrorRatePP, "error-rate-pp", t.ErrorRatePP, "largest increase of the error rate, in percentage points")
	f.Float64Var(&t.BookedSharePP, "booked-share-pp", t.BookedSharePP, "largest drop of the booked share, in percentage points")
	f.Float64Var(&t.MinLatencyMs, "min-latency-ms", t.MinLatencyMs, "latency changes smaller than this (ms) never count")
	f.StringSliceVar(&t.Designs, "design", nil, "compare only these designs (repeat or comma-separate)")
	f.StringVar(&o.format, "format", "text", "output format: text, markdown or junit")
	f.StringVarP(&o.output, "output", "o", "", "write the report to this file instead of stdout")
	f.BoolVar(&t.AllowDifferentCrowds, "allow-different-crowds", false, "compare results of different crowds (scale, seed, size), saying how they differ")
	f.StringVar(&o.capacityDrop, "capacity-drop", "10%", "capacity files: largest drop of a design's capacity (people/s) that is not a regression")
	return cmd
}

func (o *compareOpts) run(stdout io.Writer) error {
	if isCapacityCompare(o.baseline, o.current) {
		return o.runCapacity(stdout)
	}
	t := o.thresholds
	for name, v := range map[string]float64{"--p50": t.P50, "--p99": t.P99, "--error-rate-pp": t.ErrorRatePP, "--booked-share-pp": t.BookedSharePP, "--min-latency-ms": t.MinLatencyMs} {
		if v < 0 {
			return &exitError{code: 2, err: fmt.Errorf("compare: %s %v is negative", name, v)}
		}
	}
	var write func(*reports.Comparison, io.Writer) error
	switch o.format {
	case "text":
		write = (*reports.Comparison).WriteText
	case "markdown", "md":
		write = (*reports.Comparison).WriteMarkdown
	case "junit", "xml":
		write = (*reports.Comparison).WriteJUnit
	default:
		return &exitError{code: 2, err: fmt.Errorf("compare: --format %q: want text, markdown or junit", o.format)}
	}
	base, err := loadResults(o.baseline)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("baseline: %w", err)}
	}
	cur, err := loadResults(o.current)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("current: %w", err)}
	}
	c, err := reports.Compare(base, cur, t)
	if err != nil {
		hint := ""
		if errors.Is(err, reports.ErrDifferentCrowds) {
			hint = " (pass --allow-different-crowds to compare them anyway)"
		}
		return &exitError{code: 2, err: fmt.Errorf("%w%s (baseline %s; current %s)", err, hint, strings.Join(o.baseline, ", "), strings.Join(o.current, ", "))}
	}
	out := stdout
	var file *os.File
	if o.output != "" {
		if file, err = os.Create(o.output); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("compare: %w", err)}
		}
		out = file
	}
	werr := write(c, out)
	if file != nil {
		if cerr := file.Close(); werr == nil {
			werr = cerr
		}
	}
	if werr != nil {
		return &exitError{code: 2, err: fmt.Errorf("compare: write report: %w", werr)}
	}
	if err := c.Err(); err != nil {
		return &exitError{code: 1, err: err}
	}
	return nil
}
