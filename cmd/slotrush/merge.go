package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/reports"
	"github.com/slotrush/slotrush/results"
)

func init() { addCommand(newMergeCmd) }

// mergeOpts are the flags of merge.
type mergeOpts struct {
	out          string
	noReport     bool
	allowPartial bool
}

func newMergeCmd() *cobra.Command {
	o := &mergeOpts{}
	cmd := &cobra.Command{
		Use:   "merge PART.json... --out DIR [--allow-partial] [--no-report]",
		Short: "Merge the results of the segments of one run into one result",
		Long: `merge reads the result files of the segments of one run (run --segment I/N on
several machines) and writes their exact merge to OUT/result.json, then the
HTML report into OUT unless --no-report. It prints one line per design.
A PART.json holding * ? or [ and naming no file is a pattern that merge
expands itself (quote it), for containers without a shell.

Counts add, HdrHistograms add (percentiles are recomputed from the sum,
never averaged), and per-second intervals and timelines align on absolute
time. Fairness, a rank correlation over the whole crowd, is estimated by
the arrival-weighted mean of the parts' values, and the result says so.

Parts of run --segment I/N must be every segment of one crowd, each once.
With --allow-partial missing segments are accepted: the people of those
segments never arrived, and the merged result says which segments it holds
in the parameter "segments merged" (shown in the report). Parts started
with --start-at also give "segment start skew": how long after --start-at
each part began by its own clock (a part that began late replayed its
people that much late); merge warns when a part began 1 s or more late.

It exits 2 on bad input: no parts, an unreadable or invalid file (named,
with the line and column of a JSON error), parts of different runs
(another scenario, engine, seed, target, design or capacity), segments
missing (without --allow-partial) or given twice, a pattern matching no
file, or no --out. Parts built by different binaries merge with a warning.`,
		Example: `  slotrush merge seg1/result.json seg2/result.json --out out/merged
  slotrush merge 'parts/part-*/result.json' --out parts/merged --allow-partial`,
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
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false, "merge the segments there are when some are missing (the result says which)")
	return cmd
}

func (o *mergeOpts) run(stdout, stderr io.Writer, args []string) error {
	if o.out == "" {
		return &exitError{code: 2, err: errors.New("merge: --out DIR is required")}
	}
	paths, err := expandParts(args)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	parts, err := loadResults(paths)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	if err := checkSegments(parts, o.allowPartial); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("merge: %w", err)}
	}
	merged, err := results.Merge(parts...)
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("%w (parts %v)", err, paths)}
	}
	merged.Segment = nil // the merged result is the whole crowd, or says which segments it lacks
	segs := describeSegments(parts)
	merged.Parameters = append(merged.Parameters, segs.params()...)
	for _, w := range append(results.MergeWarnings(parts...), segs.warnings()...) {
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
	if segs.of > 0 {
		fmt.Fprintf(stdout, "segments merged: %s\n", segs.merged())
	}
	if segs.started {
		fmt.Fprintf(stdout, "segment start skew: %s\n", segs.skew())
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

// expandParts returns the part files args name, in order: an argument is
// a file, or, when it holds a glob metacharacter and names no file, a
// pattern (filepath.Match syntax) replaced by the files it matches, in
// lexical order. A bad pattern or one matching nothing is an error.
func expandParts(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		if _, err := os.Stat(a); err == nil {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		switch {
		case err != nil:
			return nil, fmt.Errorf("pattern %q: %w", a, err)
		case len(m) == 0:
			return nil, fmt.Errorf("pattern %q matches no file", a)
		}
		out = append(out, m...)
	}
	return out, nil
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
// one crowd exactly once (missing ones allowed when allowPartial). Parts
// without segments merge as they are.
func checkSegments(parts []*results.Result, allowPartial bool) error {
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
	if err := results.CheckSegments(segs, true); err != nil {
		return err
	}
	if err := results.CheckSegments(segs, false); err != nil && !allowPartial {
		return fmt.Errorf("%w: merge the others with --allow-partial", err)
	}
	return nil
}

// Parameters a merged result of segments carries (results.Parameter, shown
// in the report beside the verdict).
const (
	// paramSegmentsMerged lists the segments merged, and the missing ones
	// of a partial merge: "1-2 of 3 (partial: 3 missing)".
	paramSegmentsMerged = "segments merged"
	// paramStartSkew says how long after --start-at the parts began.
	paramStartSkew = "segment start skew"
)

// lateStartWarning is how late after --start-at a part may begin before
// merge warns: the merged timeline counts whole seconds.
const lateStartWarning = time.Second

// segmentStarts is what the parts of a segmented run say about which
// segments they are and when they began. Its zero value says nothing (parts
// without segments).
type segmentStarts struct {
	of      int   // N of I/N; 0 when the parts are no segments
	have    []int // the segments merged, ascending
	missing []int // the segments of 1..of not merged, ascending

	started bool            // the parts were started with --start-at
	startAt time.Time       // --start-at
	late    int             // 1-based part that began last
	minLag  time.Duration   // the earliest part's lag
	maxLag  time.Duration   // the latest part's lag
	lags    []time.Duration // per part: StartedAt − startAt
	index   []int           // per part: its segment I
}

// describeSegments reads the segments of parts, which checkSegments
// accepted.
func describeSegments(parts []*results.Result) segmentStarts {
	var s segmentStarts
	if len(parts) == 0 || parts[0].Segment == nil {
		return s
	}
	first := parts[0].Segment
	s.of, s.startAt, s.started = first.Of, first.StartAt, !first.StartAt.IsZero()
	seen := map[int]bool{}
	for k, p := range parts {
		seen[p.Segment.Index] = true
		s.have = append(s.have, p.Segment.Index)
		s.index = append(s.index, p.Segment.Index)
		if !s.started {
			continue
		}
		lag := p.StartedAt.Sub(s.startAt)
		s.lags = append(s.lags, lag)
		if k == 0 || lag < s.minLag {
			s.minLag = lag
		}
		if k == 0 || lag > s.maxLag {
			s.maxLag, s.late = lag, k+1
		}
	}
	sort.Ints(s.have)
	for i := 1; i <= s.of; i++ {
		if !seen[i] {
			s.missing = append(s.missing, i)
		}
	}
	return s
}

// merged is the value of paramSegmentsMerged: "1-4 of 4", or
// "1-2, 4 of 4 (partial: 3 missing)".
func (s segmentStarts) merged() string {
	v := fmt.Sprintf("%s of %d", spans(s.have), s.of)
	if len(s.missing) > 0 {
		v += fmt.Sprintf(" (partial: %s missing)", spans(s.missing))
	}
	return v
}

// skew is the value of paramStartSkew: "parts began 12ms to 1.403s after
// --start-at 2026-11-30T12:00:00Z (spread 1.391s; latest part 3)".
func (s segmentStarts) skew() string {
	return fmt.Sprintf("parts began %s to %s after --start-at %s, by their own clocks (spread %s; latest part %d)",
		s.minLag.Round(time.Millisecond), s.maxLag.Round(time.Millisecond), s.startAt.UTC().Format(time.RFC3339),
		(s.maxLag - s.minLag).Round(time.Millisecond), s.late)
}

// params returns the parameters the merged result carries: none for
// parts that are no segments.
func (s segmentStarts) params() []results.Parameter {
	var out []results.Parameter
	if s.of > 0 {
		out = append(out, results.Parameter{Name: paramSegmentsMerged, Value: s.merged()})
	}
	if s.started {
		out = append(out, results.Parameter{Name: paramStartSkew, Value: s.skew()})
	}
	return out
}

// warnings says what a reader of a partial merge or a late start should
// know.
func (s segmentStarts) warnings() []string {
	var w []string
	if len(s.missing) > 0 {
		w = append(w, fmt.Sprintf("partial merge: segments %s of %d missing; their people never arrived, so the result holds about %d%% of the crowd",
			spans(s.missing), s.of, 100*len(s.have)/s.of))
	}
	for k, lag := range s.lags {
		if lag >= lateStartWarning {
			w = append(w, fmt.Sprintf("part %d (segment %d/%d) began %s after --start-at: its people arrived that much later than the scenario says",
				k+1, s.index[k], s.of, lag.Round(time.Millisecond)))
		}
	}
	return w
}

// spans writes ascending numbers as ranges: [1 2 3 5] is "1-3, 5".
func spans(ns []int) string {
	var b strings.Builder
	for i := 0; i < len(ns); {
		j := i
		for j+1 < len(ns) && ns[j+1] == ns[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ns[i], ns[j])
		} else {
			fmt.Fprintf(&b, "%d", ns[i])
		}
		i = j + 1
	}
	return b.String()
}
