package reports

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/slotrush/slotrush/capacity"
)

// DefaultCapacityDrop is the default largest relative drop of a design's
// capacity that is not a regression: 10%.
const DefaultCapacityDrop = 0.10

// CapacityCheck is one design's capacity compared. Plain data.
type CapacityCheck struct {
	Design string `json:"design"`
	// Baseline and Current are the capacities (max_arrival_rate_per_s,
	// people/s); NaN when the design is missing from that side.
	Baseline float64 `json:"baseline"`
	Current  float64 `json:"current"`
	// Change is current over baseline less one (-0.2: 20% less).
	Change float64 `json:"change"`
	// Limit is the smallest current capacity that passes:
	// baseline × (1 − drop).
	Limit  float64 `json:"limit"`
	Status Status  `json:"status"`
	Note   string  `json:"note,omitempty"`
}

// CapacityComparison is the result of CompareCapacity. Plain data; its
// methods only read it and are safe for concurrent use.
type CapacityComparison struct {
	// Drop is the threshold: the largest relative drop that passes.
	Drop   float64
	Checks []CapacityCheck
	// Notes are caveats: designs only in the current file, a threshold
	// finer than the searches' tolerance.
	Notes []string
}

// CompareCapacity compares the capacity of each design of baseline with
// current's: a drop of more than drop (0.1: 10%) is a regression, as are
// a design of the baseline missing from current, a current search that
// was interrupted, and a design that now fails at the smallest scale. A
// rise beyond drop is an improvement. Capacities that both held to the
// largest scale searched pass when current's scale is no smaller. It
// returns an error wrapping ErrIncomparable for files of different
// scenarios, SLOs or engines, or an interrupted baseline, and
// ErrNoCommonDesigns when no design is on both sides.
func CompareCapacity(baseline, current *capacity.File, drop float64) (*CapacityComparison, error) {
	if baseline == nil || current == nil {
		return nil, errors.New("compare capacity: missing file")
	}
	if !(drop >= 0 && drop < 1) {
		return nil, fmt.Errorf("compare capacity: drop %v: want a share in [0, 1)", drop)
	}
	switch {
	case baseline.Scenario != current.Scenario:
		return nil, fmt.Errorf("%w: scenario %s against scenario %s", ErrIncomparable, baseline.Scenario, current.Scenario)
	case baseline.SLO != current.SLO:
		return nil, fmt.Errorf("%w: SLO %s against SLO %s", ErrIncomparable, baseline.SLO, current.SLO)
	case baseline.Engine != current.Engine:
		return nil, fmt.Errorf("%w: engine %s against engine %s", ErrIncomparable, baseline.Engine, current.Engine)
	case baseline.Interrupted:
		return nil, fmt.Errorf("%w: the baseline search was interrupted", ErrIncomparable)
	}
	c := &CapacityComparison{Drop: drop}
	cur := map[string]*capacity.Design{}
	for i := range current.Designs {
		cur[current.Designs[i].Design] = &current.Designs[i]
	}
	common := 0
	for i := range baseline.Designs {
		b := &baseline.Designs[i]
		d, ok := cur[b.Design]
		if ok {
			common++
		}
		c.Checks = append(c.Checks, checkCapacity(b, d, drop, current.Interrupted))
		delete(cur, b.Design)
	}
	if common == 0 {
		return nil, ErrNoCommonDesigns
	}
	for _, d := range current.Designs {
		if _, only := cur[d.Design]; only {
			c.Notes = append(c.Notes, fmt.Sprintf("design %s is only in the current file: not compared", d.Design))
		}
	}
	if tol := math.Max(baseline.Search.Tolerance, current.Search.Tolerance); drop < tol {
		c.Notes = append(c.Notes, fmt.Sprintf("the threshold (%s) is finer than the searches' tolerance (%s): a drop smaller than the tolerance may be the bisection's precision, not a regression",
			pct(drop), pct(tol)))
	}
	return c, nil
}

// checkCapacity compares design b of the baseline with d of the current
// file (nil when missing).
func checkCapacity(b, d *capacity.Design, drop float64, interrupted bool) CapacityCheck {
	ch := CapacityCheck{Design: b.Design, Baseline: b.MaxArrivalRatePerS, Current: math.NaN(), Change: math.NaN(),
		Limit: b.MaxArrivalRatePerS * (1 - drop), Status: StatusOK}
	if d == nil {
		ch.Status, ch.Note = StatusRegression, "missing from the current file"
		if interrupted {
			ch.Note += " (the current search was interrupted)"
		}
		return ch
	}
	ch.Current = d.MaxArrivalRatePerS
	if ch.Baseline > 0 {
		ch.Change = ch.Current/ch.Baseline - 1
	}
	switch {
	case d.Outcome == capacity.OutcomeFailsAtMin && b.Outcome != capacity.OutcomeFailsAtMin:
		ch.Status, ch.Note = StatusRegression, "now fails the SLO at the smallest scale searched"
	case b.Outcome == capacity.OutcomeHoldsAtMax && d.Outcome == capacity.OutcomeHoldsAtMax && d.MaxScale >= b.MaxScale:
		ch.Note = "both held at the largest scale searched: a lower bound each"
	case ch.Current < ch.Limit:
		ch.Status = StatusRegression
		switch {
		case d.Outcome == capacity.OutcomeHoldsAtMax:
			ch.Note = fmt.Sprintf("the current search stopped at its largest scale, %g, where the SLO still held: search higher", d.MaxScale)
		case d.Binding != "":
			ch.Note = "binding: " + d.Binding
		}
	case b.Outcome != capacity.OutcomeHoldsAtMax && ch.Current > b.MaxArrivalRatePerS*(1+drop):
		ch.Status = StatusImprovement
	}
	return ch
}

// Regressions returns the checks that failed.
func (c *CapacityComparison) Regressions() []CapacityCheck {
	var out []CapacityCheck
	for _, ch := range c.Checks {
		if ch.Status == StatusRegression {
			out = append(out, ch)
		}
	}
	return out
}

// Err returns nil when no capacity dropped beyond the threshold, else an
// error naming each design with both capacities and the limit.
func (c *CapacityComparison) Err() error {
	reg := c.Regressions()
	if len(reg) == 0 {
		return nil
	}
	parts := make([]string, len(reg))
	for i, ch := range reg {
		parts[i] = ch.Sentence()
	}
	return fmt.Errorf("%d capacity regression(s): %s", len(reg), strings.Join(parts, "; "))
}

// Sentence describes the check: "per-ppv-day capacity: 4,130 → 3,500
// people/s (-15%), limit 3,720 people/s".
func (ch CapacityCheck) Sentence() string {
	if math.IsNaN(ch.Current) {
		return fmt.Sprintf("%s capacity: %s people/s in the baseline, %s", ch.Design, capacity.Rate(ch.Baseline), ch.Note)
	}
	s := fmt.Sprintf("%s capacity: %s → %s people/s (%s), limit %s people/s", ch.Design, capacity.Rate(ch.Baseline),
		capacity.Rate(ch.Current), ch.changeText(), capacity.Rate(ch.Limit))
	if ch.Note != "" {
		s += "; " + ch.Note
	}
	return s
}

func (ch CapacityCheck) changeText() string {
	if math.IsNaN(ch.Change) || math.IsInf(ch.Change, 0) {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*ch.Change)
}

func (ch CapacityCheck) valueText(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return capacity.Rate(v)
}

func (c *CapacityComparison) headline() string {
	verdict := "no capacity regression"
	if n := len(c.Regressions()); n > 0 {
		verdict = fmt.Sprintf("%d capacity regression(s)", n)
	}
	return fmt.Sprintf("slotrush compare: %s in %d designs (a drop of more than %s of people/s fails)", verdict, len(c.Checks), pct(c.Drop))
}

// WriteText writes the comparison as an aligned table for a terminal.
func (c *CapacityComparison) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, c.headline())
	for _, n := range c.Notes {
		fmt.Fprintln(ew, "note:", n)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESIGN\tBASELINE people/s\tCURRENT people/s\tCHANGE\tLIMIT\tSTATUS")
	for _, ch := range c.Checks {
		st := string(ch.Status)
		if ch.Status == StatusRegression {
			st = "REGRESSION"
		}
		if ch.Note != "" {
			st += " (" + ch.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t≥ %s\t%s\n", ch.Design, ch.valueText(ch.Baseline), ch.valueText(ch.Current), ch.changeText(), ch.valueText(ch.Limit), st)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return ew.err
}

// WriteMarkdown writes the comparison as a Markdown table.
func (c *CapacityComparison) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	mark := "✅"
	if len(c.Regressions()) > 0 {
		mark = "❌"
	}
	fmt.Fprintf(ew, "### %s %s\n\n", mark, mdEscape(c.headline()))
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "> %s\n\n", mdEscape(n))
	}
	fmt.Fprintln(ew, "| design | baseline people/s | current people/s | change | limit | status |")
	fmt.Fprintln(ew, "| --- | ---: | ---: | ---: | ---: | --- |")
	for _, ch := range c.Checks {
		st := string(ch.Status)
		if ch.Status == StatusRegression {
			st = "**regression**"
		}
		if ch.Note != "" {
			st += " (" + mdEscape(ch.Note) + ")"
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | ≥ %s | %s |\n", mdEscape(ch.Design), ch.valueText(ch.Baseline), ch.valueText(ch.Current), ch.changeText(), ch.valueText(ch.Limit), st)
	}
	return ew.err
}

// WriteJUnit writes the comparison as JUnit XML: one testcase per design,
// with a <failure> for each regression.
func (c *CapacityComparison) WriteJUnit(w io.Writer) error {
	suite := junitSuite{Name: "slotrush compare capacity", Tests: len(c.Checks), SystemOut: strings.Join(c.Notes, "\n"),
		Properties: []junitProperty{{"capacity-drop", fmt.Sprint(c.Drop)}}}
	for _, ch := range c.Checks {
		tc := junitCase{ClassName: "slotrush.capacity." + ch.Design, Name: "capacity", SystemOut: ch.Sentence() + "; status " + string(ch.Status)}
		if ch.Status == StatusRegression {
			suite.Failures++
			tc.Failure = &junitFailure{Message: ch.Sentence(), Type: "regression", Text: tc.SystemOut}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return writeJUnitSuite(w, suite)
}
