package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/reports"
	"github.com/slotrush/slotrush/results"
)

func init() { addCommand(newMergeCmd) }

// mergeOpts are the flags of merge.
type mergeOpts struct {
	out      string
	noReport bool
}

func newMergeCmd() *cobra.Command {
	o := &mergeOpts{}
	cmd := &cobra.Command{
		Use:   "merge PART.json... --out DIR [--no-report]",
		Short: "Merge the results of the segments of one run into one result",
		Long: `merge reads the result files of the segments of one run (run --segment I/N on
several machines) and writes their exact merge to OUT/result.json, then the
HTML report into OUT unless --no-report. It prints one line per design.

Counts add, HdrHistograms add (percentiles are recomputed from the sum,
never averaged), and per-second intervals and timelines align on absolute
time. Fairness, a rank correlation over the whole crowd, is estimated by
the arrival-weighted mean of the parts' values, and the result says so.

It exits 2 on bad input: no parts, an unreadable or invalid file (named,
with the line and column of a JSON error), parts of different runs
(another scenario, engine, seed, target, design or capacity), or no
--out. Parts built by different binaries merge with a warning.`,
		Example: `  slotrush merge seg1/result.json seg2/result.json --out out/merged`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: 2, err: errors.New("merge: give at least one PART.json")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "directory for result.json and the report (required)")
	cmd.Flags().BoolVar(&o.noReport, "no-report", false, "write result.json only, no HTML report")
	return cmd
}

func (o *mergeOpts) run(stdout, stderr io.Writer, paths []string) error {
	if o.out == "" {
		return &exitError{code: 2, err: errors.New("merge: --out DIR is required")}
	}
	parts, err := loadResults(paths)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	if err := checkSegments(parts); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	merged, err := results.Merge(parts...)
	if err == nil {
		merged.Segment = nil // the merged result is the whole crowd
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%w (parts %v)", err, paths)}
	}
	for _, w := range results.MergeWarnings(parts...) {
		fmt.Fprintf(stderr, "slotrush: merge: warning: %s\n", w)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	path := filepath.Join(o.out, "result.json")
	if err := merged.WriteFile(path); err != nil {
		return err
	}
	for i := range merged.Designs {
		fmt.Fprintln(stdout, mergeSummary(&merged.Designs[i]))
	}
	fmt.Fprintf(stdout, "merged %d parts: %s\n", len(parts), path)
	if o.noReport {
		return nil
	}
	index, err := reports.Render(o.out, merged)
	if err != nil {
		return fmt.Errorf("render report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s\n", index)
	return nil
}

// mergeSummary is one line about a merged design: "per-ppv-day: 5812 of
// 15000 people booked (38.7%), 46500 requests, 0.4% errors, book p99 41.0
// ms, oversold 0".
func mergeSummary(d *results.DesignResult) string {
	return fmt.Sprintf("%s: %d of %d people booked (%.1f%%), %d requests, %.1f%% errors, book p99 %.1f ms, oversold %d",
		d.Design, d.Users.Booked, d.Users.Arrived, 100*d.BookedShare(), d.Requests.Total,
		100*d.ErrorRate(), d.LatencyMs[results.OpBook].P99, d.Slots.Oversold)
}

// checkSegments refuses parts of which some say which crowd segment they
// replayed and others do not, and segments that are not each segment of
// one crowd exactly once. Parts without segments merge as they are.
func checkSegments(parts []*results.Result) error {
	var segs []results.SegmentInfo
	for i, p := range parts {
		switch {
		case p.Segment != nil:
			segs = append(segs, *p.Segment)
		case len(segs) > 0 || i > 0 && parts[0].Segment != nil:
			return fmt.Errorf("part %d says no segment while others do", i+1)
		}
	}
	if len(segs) == 0 {
		return nil
	}
	if len(segs) != len(parts) {
		return errors.New("some parts say which segment they replayed and others do not")
	}
	return results.CheckSegments(segs, false)
}
