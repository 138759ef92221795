package reports

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// CompareOptions are the thresholds of Compare. Start from
// DefaultCompareOptions; the zero value flags every change. A value type,
// safe to copy and share.
type CompareOptions struct {
	// P50 and P99 are the largest relative increase of an operation's p50
	// and p99 latency that is not a regression: 0.25 means +25%.
	P50, P99 float64
	// ErrorRatePP is the largest increase of the error rate (429, 5xx,
	// timeouts and answers outside the API over all requests:
	// results.DesignResult.ErrorRate), in percentage points.
	ErrorRatePP float64
	// BookedSharePP is the largest drop of the booked share (people who got
	// a place over people who arrived), in percentage points.
	BookedSharePP float64
	// MinLatencyMs is the smallest latency change, in milliseconds, that can
	// be a regression or an improvement, so scheduling noise on a shared CI
	// machine (a loopback p99 moving from 2 ms to 3.5 ms between identical
	// runs was seen) never fails a build. Default 5 ms.
	MinLatencyMs float64
	// Designs restricts the comparison to these designs; empty compares
	// every design found on both sides.
	Designs []string
	// AllowDifferentCrowds compares results whose crowds differ
	// (results.Crowd: scale, seed, people, segment) instead of refusing
	// them; the comparison then notes how the crowds differ.
	AllowDifferentCrowds bool
}

// DefaultCompareOptions returns the default thresholds: p50 +25%, p99 +50%,
// error rate +2 pp, booked share −5 pp, latency changes under 5 ms ignored.
func DefaultCompareOptions() CompareOptions {
	return CompareOptions{P50: 0.25, P99: 0.5, ErrorRatePP: 2, BookedSharePP: 5, MinLatencyMs: 5}
}

// Status is the outcome of one check.
type Status string

// The outcomes of a check.
const (
	// StatusOK: within the threshold of the baseline.
	StatusOK Status = "ok"
	// StatusNoise: past the threshold from the baseline median, but inside
	// the spread of the runs widened by the threshold; not significant.
	StatusNoise Status = "noise"
	// StatusImprovement: significantly better.
	StatusImprovement Status = "improvement"
	// StatusRegression: significantly worse, or an invariant broken, or a
	// metric the baseline had is missing from the current runs.
	StatusRegression Status = "regression"
)

// Spread summarises one metric over the runs of one side: the median, the
// range and the number of runs that measured it.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

func spreadOf(vs []float64) Spread {
	if len(vs) == 0 {
		return Spread{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Spread{Median: m, Min: s[0], Max: s[len(s)-1], Runs: len(s)}
}

// Metric kinds decide the direction and the unit of a check.
const (
	kindLatency   = "latency"   // ms, higher is worse, relative threshold
	kindRate      = "rate"      // %, higher is worse, threshold in pp
	kindShare     = "share"     // %, lower is worse, threshold in pp
	kindInvariant = "invariant" // count, any current value above 0 fails
	kindRun       = "run"       // the current runs themselves: complete, with every design; always a regression
)

// Check is one metric of one design compared. It is plain data.
type Check struct {
	Design string `json:"design"`
	// Metric names what was compared: "book p99", "error rate", "booked
	// share", "oversold", "missing 201s".
	Metric string `json:"metric"`
	// Kind is "latency" (ms, higher is worse, relative threshold), "rate"
	// (%, higher is worse, pp), "share" (%, lower is worse, pp),
	// "invariant" (a count that must be 0) or "run" (a current run that was
	// interrupted, Design empty, or a design of the baseline missing from
	// the current runs: always a regression, said in Note).
	Kind     string `json:"kind"`
	Baseline Spread `json:"baseline"`
	Current  Spread `json:"current"`
	// Change is current median minus baseline median: relative (0.5 =
	// +50%) for latency, in percentage points for rates and shares, a count
	// for invariants.
	Change float64 `json:"change"`
	// Threshold is the option that applies.
	Threshold float64 `json:"threshold"`
	// Limit is the worst current median that passes: the baseline's range
	// widened by the threshold.
	Limit       float64 `json:"limit"`
	Status      Status  `json:"status"`
	Significant bool    `json:"significant"`
	Note        string  `json:"note,omitempty"`
}

// Comparison is the result of Compare. It is plain data; its methods only
// read it and are safe for concurrent use. The Write methods return the
// first error of the writer.
type Comparison struct {
	Options      CompareOptions
	BaselineRuns int
	CurrentRuns  int
	Checks       []Check
	// Notes are caveats: designs only in the current results.
	Notes []string
}

// ErrNoCommonDesigns is returned (wrapped) by Compare when no design is on
// both sides.
var ErrNoCommonDesigns = errors.New("no design in both baseline and current")

// ErrIncomparable is returned (wrapped) by Compare when the two sides
// cannot be compared at all: results of different scenarios or engines,
// or an interrupted baseline. Its message starts "cannot compare".
var ErrIncomparable = errors.New("cannot compare")

// Compare compares the designs of the baseline runs with those of the
// current runs, per design: booked share, error rate, p50 and p99 of every
// operation (from LatencySummary), oversold places and missing 201s. A
// target (an external system) is matched by its name, which is its design
// name.
//
// The noise rule: a metric regresses when the median of the current runs
// is beyond the range [min, max] of the baseline runs widened by the
// threshold (latency: max × (1+threshold), and at least MinLatencyMs more;
// error rate: max + pp; booked share: min − pp). With one run per side that
// is the plain threshold. A change past the threshold from the baseline
// median but inside the widened range is StatusNoise, not significant.
// Oversold places and missing 201s fail whenever a current run has any; a
// run whose audit could check neither (Slots.Audit none: no store audit,
// nothing read back through the API) is left out of those checks, which say
// "not audited" when no current run could, but an oversold count above 0
// fails audited or not. Unknown outcomes (Slots.UnknownOutcome) are not a
// check: a lost answer is a timeout or a reset, which the error rate
// already counts, and the audit's failure to resolve it breaks no
// invariant of the system (the report warns about them).
//
// The gate passes only whole runs: a current run that was interrupted
// (Result.Interrupted) is a regression ("run interrupted: …"), and so is
// each design of the baseline that a current run lacks, unless
// Options.Designs restricts the comparison (a design it names must be on
// both sides). Designs only in the current results are noted.
//
// Results of different crowds (results.Crowd: another scale, seed, crowd
// size or segment) are refused unless Options.AllowDifferentCrowds: their
// figures differ by the crowd, not by the code. When allowed, the
// comparison notes how the crowds differ, the size first.
//
// Errors: no results on a side; ErrIncomparable when the results are of
// different scenarios, engines or (unless allowed) crowds, on either side
// or between them, or a baseline run was interrupted; a design named in
// Designs missing from a side; ErrNoCommonDesigns.
func Compare(baseline, current []*results.Result, opts CompareOptions) (*Comparison, error) {
	baseline, current = nonNil(baseline), nonNil(current)
	if len(baseline) == 0 {
		return nil, errors.New("compare: no baseline results")
	}
	if len(current) == 0 {
		return nil, errors.New("compare: no current results")
	}
	if err := checkComparable(baseline, current); err != nil {
		return nil, err
	}
	c := &Comparison{Options: opts, BaselineRuns: len(baseline), CurrentRuns: len(current)}
	note, err := checkCrowds(baseline, current, opts.AllowDifferentCrowds)
	if err != nil {
		return nil, err
	}
	if note != "" {
		c.Notes = append(c.Notes, note)
	}
	bNames, cNames := designNames(baseline), designNames(current)
	names, err := c.designsCompared(bNames, cNames, opts.Designs)
	if err != nil {
		return nil, err
	}
	c.Checks = append(c.Checks, interruptedChecks(current)...)
	if len(opts.Designs) == 0 {
		c.Checks = append(c.Checks, missingChecks(bNames, current)...)
	}
	for _, name := range names {
		c.Checks = append(c.Checks, compareDesign(name, runsOf(baseline, name), runsOf(current, name), opts)...)
	}
	return c, nil
}

// checkComparable returns an ErrIncomparable error when baseline and current
// hold results of different scenarios or engines, or an interrupted
// baseline run.
func checkComparable(baseline, current []*results.Result) error {
	scenario := func(r *results.Result) string { return r.Scenario }
	engine := func(r *results.Result) string { return r.Engine }
	for _, side := range []struct {
		name string
		rs   []*results.Result
	}{{"baseline", baseline}, {"current", current}} {
		if ss := valuesOf(side.rs, scenario); len(ss) > 1 {
			return fmt.Errorf("%w: the %s runs are of different scenarios (%s)", ErrIncomparable, side.name, strings.Join(ss, ", "))
		}
		if es := valuesOf(side.rs, engine); len(es) > 1 {
			return fmt.Errorf("%w: the %s runs come from different engines (%s)", ErrIncomparable, side.name, strings.Join(es, ", "))
		}
	}
	if s1, s2 := baseline[0].Scenario, current[0].Scenario; s1 != s2 {
		return fmt.Errorf("%w: scenario %s against scenario %s", ErrIncomparable, s1, s2)
	}
	if e1, e2 := baseline[0].Engine, current[0].Engine; e1 != e2 {
		return fmt.Errorf("%w: engine %s against engine %s (measured and simulated figures differ by nature)", ErrIncomparable, e1, e2)
	}
	for _, r := range baseline {
		if r.Interrupted {
			return fmt.Errorf("%w: the baseline run (%s) was interrupted, so its figures cover only part of the scenario; take a complete run as the baseline", ErrIncomparable, resultLabel(r))
		}
	}
	return nil
}

// ErrDifferentCrowds is returned (wrapped, with ErrIncomparable) by Compare
// when the results faced different crowds and CompareOptions does not
// allow it.
var ErrDifferentCrowds = errors.New("the results faced different crowds")

// checkCrowds returns an ErrIncomparable and ErrDifferentCrowds error
// naming both crowds and how they differ when the runs faced different
// crowds (within a side or between the sides), unless allow; allowed, it
// returns that as a note ("" when the crowds are the same).
func checkCrowds(baseline, current []*results.Result, allow bool) (string, error) {
	type pair struct {
		what string
		a, b *results.Result
	}
	var pairs []pair
	for _, side := range []struct {
		name string
		rs   []*results.Result
	}{{"baseline", baseline}, {"current", current}} {
		for _, r := range side.rs[1:] {
			pairs = append(pairs, pair{"the " + side.name + " runs", side.rs[0], r})
		}
	}
	pairs = append(pairs, pair{"the baseline and the current runs", baseline[0], current[0]})
	for _, p := range pairs {
		ca, cb := p.a.Crowd(), p.b.Crowd()
		diff := ca.Diff(cb)
		if len(diff) == 0 {
			continue
		}
		msg := fmt.Sprintf("%s faced different crowds, %s and %s: %s", p.what, ca, cb, strings.Join(diff, "; "))
		if allow {
			return "compared although " + msg + "; places booked, latency and errors change with the crowd, so a difference here may come from the crowd, not the code", nil
		}
		return "", fmt.Errorf("%w: %w: %s; compare results of one crowd, or allow different crowds to compare them anyway", ErrIncomparable, ErrDifferentCrowds, msg)
	}
	return "", nil
}

// valuesOf returns the distinct values of f over rs, sorted.
func valuesOf(rs []*results.Result, f func(*results.Result) string) []string {
	m := map[string]bool{}
	for _, r := range rs {
		m[f(r)] = true
	}
	return sortedKeys(m)
}

// designsCompared returns the designs to compare, in report order: those
// of restrict, which must be on both sides, or else every design on both;
// it notes the designs only in the current results.
func (c *Comparison) designsCompared(bNames, cNames map[string]bool, restrict []string) ([]string, error) {
	var names []string
	if len(restrict) > 0 {
		for _, d := range restrict {
			switch {
			case !bNames[d]:
				return nil, fmt.Errorf("compare: design %q is not in the baseline (it has %s)", d, strings.Join(sortedKeys(bNames), ", "))
			case !cNames[d]:
				return nil, fmt.Errorf("compare: design %q is not in the current results (they have %s)", d, strings.Join(sortedKeys(cNames), ", "))
			}
			names = append(names, d)
		}
	} else {
		for d := range bNames {
			if cNames[d] {
				names = append(names, d)
			}
		}
		for d := range cNames {
			if !bNames[d] {
				c.Notes = append(c.Notes, fmt.Sprintf("design %s is only in the current results; not compared", d))
			}
		}
	}
	sort.Strings(c.Notes)
	if len(names) == 0 {
		return nil, fmt.Errorf("compare: %w (baseline: %s; current: %s)", ErrNoCommonDesigns,
			strings.Join(sortedKeys(bNames), ", "), strings.Join(sortedKeys(cNames), ", "))
	}
	sortDesigns(names)
	return names, nil
}

// sortDesigns sorts design names in report order.
func sortDesigns(names []string) {
	sort.SliceStable(names, func(i, j int) bool {
		if a, b := designRank(names[i]), designRank(names[j]); a != b {
			return a < b
		}
		return names[i] < names[j]
	})
}

// runCheck returns a failed check of the runs themselves.
func runCheck(design, metric, note string) Check {
	return Check{Design: design, Metric: metric, Kind: kindRun, Baseline: spreadOf(nil), Current: spreadOf(nil),
		Status: StatusRegression, Significant: true, Note: note}
}

// interruptedChecks fail each current run that was interrupted.
func interruptedChecks(current []*results.Result) []Check {
	var out []Check
	for _, r := range current {
		if r.Interrupted {
			out = append(out, runCheck("", "run interrupted",
				fmt.Sprintf("the current run (%s) stopped before the end of the scenario, so its figures cover only part of it", resultLabel(r))))
		}
	}
	return out
}

// missingChecks fail each design of the baseline (bNames) that some
// current runs lack, in report order.
func missingChecks(bNames map[string]bool, current []*results.Result) []Check {
	names := sortedKeys(bNames)
	sortDesigns(names)
	var out []Check
	for _, name := range names {
		lacking := len(current) - len(runsOf(current, name))
		switch {
		case lacking == 0:
			continue
		case len(current) == 1:
			out = append(out, runCheck(name, "missing", "in the baseline but not in the current run"))
		default:
			out = append(out, runCheck(name, "missing", fmt.Sprintf("in the baseline but not in %d of the %d current runs", lacking, len(current))))
		}
	}
	return out
}

func nonNil(rs []*results.Result) []*results.Result {
	var out []*results.Result
	for _, r := range rs {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

func designNames(rs []*results.Result) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		for _, d := range r.Designs {
			m[columnName(&d)] = true
		}
	}
	return m
}

func runsOf(rs []*results.Result, design string) []*results.DesignResult {
	var out []*results.DesignResult
	for _, r := range rs {
		for i := range r.Designs {
			if columnName(&r.Designs[i]) == design {
				out = append(out, &r.Designs[i])
				break
			}
		}
	}
	return out
}

func compareDesign(name string, base, cur []*results.DesignResult, o CompareOptions) []Check {
	var checks []Check
	collectVals := func(ds []*results.DesignResult, f func(*results.DesignResult) (float64, bool)) []float64 {
		var vs []float64
		for _, d := range ds {
			if v, ok := f(d); ok && !math.IsNaN(v) && !math.IsInf(v, 0) {
				vs = append(vs, v)
			}
		}
		return vs
	}
	add := func(metric, kind string, threshold float64, f func(*results.DesignResult) (float64, bool)) {
		b, c := collectVals(base, f), collectVals(cur, f)
		if len(b) == 0 && kind != kindInvariant {
			return // nothing to compare against
		}
		checks = append(checks, judgeMetric(name, metric, kind, threshold, o.MinLatencyMs, b, c))
	}
	add("booked share", kindShare, o.BookedSharePP, func(d *results.DesignResult) (float64, bool) {
		return 100 * d.BookedShare(), d.Users.Arrived > 0
	})
	add("error rate", kindRate, o.ErrorRatePP, func(d *results.DesignResult) (float64, bool) {
		return 100 * d.ErrorRate(), d.Requests.Total > 0
	})
	seen := map[string]bool{}
	var ops []string
	for _, d := range base {
		for op, l := range d.LatencyMs {
			if l.Count > 0 && !seen[op] {
				seen[op] = true
				ops = append(ops, op)
			}
		}
	}
	sortOps(ops)
	for _, op := range ops {
		add(op+" p50", kindLatency, o.P50, func(d *results.DesignResult) (float64, bool) {
			l, ok := d.LatencyMs[op]
			return l.P50, ok && l.Count > 0
		})
		add(op+" p99", kindLatency, o.P99, func(d *results.DesignResult) (float64, bool) {
			l, ok := d.LatencyMs[op]
			return l.P99, ok && l.Count > 0
		})
	}
	add("oversold", kindInvariant, 0, func(d *results.DesignResult) (float64, bool) {
		return float64(d.Slots.Oversold), checkedOversold(d)
	})
	add("missing 201s", kindInvariant, 0, func(d *results.DesignResult) (float64, bool) {
		return float64(d.Slots.Missing), audited201s(d)
	})
	return checks
}

// judgeMetric applies the noise rule to one metric.
func judgeMetric(design, metric, kind string, threshold, minMs float64, b, c []float64) Check {
	ch := Check{Design: design, Metric: metric, Kind: kind, Threshold: threshold,
		Baseline: spreadOf(b), Current: spreadOf(c), Status: StatusOK}
	if len(c) == 0 {
		if kind == kindInvariant {
			ch.Note = "not audited"
			return ch
		}
		ch.Status = StatusRegression
		ch.Significant = true
		ch.Note = "not measured in the current runs"
		return ch
	}
	bs, cs := ch.Baseline, ch.Current
	switch kind {
	case kindLatency:
		ch.Change = relChange(bs.Median, cs.Median)
		ch.Limit = math.Max(bs.Max*(1+threshold), bs.Max+minMs)
		lower := math.Min(bs.Min/(1+threshold), bs.Min-minMs)
		switch {
		case cs.Median > ch.Limit:
			ch.Status = StatusRegression
		case cs.Median < lower:
			ch.Status = StatusImprovement
		case cs.Median > bs.Median*(1+threshold) && cs.Median-bs.Median >= minMs,
			cs.Median < bs.Median/(1+threshold) && bs.Median-cs.Median >= minMs:
			ch.Status = StatusNoise
		}
	case kindRate:
		ch.Change = cs.Median - bs.Median
		ch.Limit = bs.Max + threshold
		switch {
		case cs.Median > ch.Limit:
			ch.Status = StatusRegression
		case cs.Median < bs.Min-threshold:
			ch.Status = StatusImprovement
		case math.Abs(ch.Change) > threshold:
			ch.Status = StatusNoise
		}
	case kindShare:
		ch.Change = cs.Median - bs.Median
		ch.Limit = bs.Min - threshold
		switch {
		case cs.Median < ch.Limit:
			ch.Status = StatusRegression
		case cs.Median > bs.Max+threshold:
			ch.Status = StatusImprovement
		case math.Abs(ch.Change) > threshold:
			ch.Status = StatusNoise
		}
	case kindInvariant:
		ch.Limit = 0
		if len(b) > 0 {
			ch.Change = cs.Max - bs.Max
		} else {
			ch.Change = cs.Max
		}
		if cs.Max > 0 {
			ch.Status = StatusRegression
			ch.Note = "must be 0 in every run"
		}
	}
	ch.Significant = ch.Status == StatusRegression || ch.Status == StatusImprovement
	return ch
}

func relChange(base, cur float64) float64 {
	if base == cur {
		return 0
	}
	if base == 0 {
		return math.Inf(1)
	}
	return (cur - base) / base
}

// Regressions returns the checks that failed.
func (c *Comparison) Regressions() []Check {
	var out []Check
	for _, ch := range c.Checks {
		if ch.Status == StatusRegression {
			out = append(out, ch)
		}
	}
	return out
}

// Err returns nil when nothing regressed, else an error naming each
// regression: design, metric, baseline and current values and the limit.
func (c *Comparison) Err() error {
	reg := c.Regressions()
	if len(reg) == 0 {
		return nil
	}
	parts := make([]string, len(reg))
	for i, ch := range reg {
		parts[i] = ch.Sentence()
	}
	noun := "regression"
	if len(reg) > 1 {
		noun = "regressions"
	}
	return fmt.Errorf("%d %s: %s", len(reg), noun, strings.Join(parts, "; "))
}

// Sentence describes the check in one line: "per-ppv-day book p99: 78 ms →
// 156 ms (+100%), limit 117 ms".
func (ch Check) Sentence() string {
	if ch.Kind == kindRun {
		if ch.Design == "" {
			return ch.Metric + ": " + ch.Note
		}
		return fmt.Sprintf("%s %s: %s", ch.Design, ch.Metric, ch.Note)
	}
	s := fmt.Sprintf("%s %s: %s → %s", ch.Design, ch.Metric, ch.value(ch.Baseline.Median), ch.value(ch.Current.Median))
	if ch.Kind == kindInvariant {
		s = fmt.Sprintf("%s %s: %s in the current runs (must be 0)", ch.Design, ch.Metric, ch.value(ch.Current.Max))
		if math.IsNaN(ch.Current.Max) {
			s = fmt.Sprintf("%s %s: %s", ch.Design, ch.Metric, ch.Note)
		}
		return s
	}
	if ch.Current.Runs == 0 {
		return fmt.Sprintf("%s %s: %s in the baseline, %s", ch.Design, ch.Metric, ch.value(ch.Baseline.Median), ch.Note)
	}
	return s + fmt.Sprintf(" (%s), limit %s", ch.changeText(), ch.limitText())
}

// value formats a metric with the three significant digits a comparison
// needs ("156 ms", "2.05 s", "43.1%"), more than the report's rounding.
func (ch Check) value(v float64) string {
	switch {
	case math.IsNaN(v):
		return "n/a"
	case ch.Kind == kindLatency:
		return preciseMs(v)
	case ch.Kind == kindInvariant:
		return commas(int64(v))
	}
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0%"
	case a >= 10:
		return fmt.Sprintf("%.1f%%", v)
	case a >= 0.01:
		return fmt.Sprintf("%.2f%%", v)
	}
	return fmt.Sprintf("%.2g%%", v)
}

func preciseMs(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100000:
		return fmt.Sprintf("%.0f s", v/1000)
	case a >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case a >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case a >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case a >= 10:
		return fmt.Sprintf("%.1f ms", v)
	case a >= 1:
		return fmt.Sprintf("%.2f ms", v)
	}
	return fmt.Sprintf("%.3f ms", v)
}

func (ch Check) spreadText(s Spread) string {
	if s.Runs == 0 {
		return "n/a"
	}
	if s.Runs == 1 || s.Min == s.Max {
		if s.Runs > 1 {
			return fmt.Sprintf("%s (%d runs)", ch.value(s.Median), s.Runs)
		}
		return ch.value(s.Median)
	}
	return fmt.Sprintf("%s (%s–%s, %d runs)", ch.value(s.Median), ch.value(s.Min), ch.value(s.Max), s.Runs)
}

func (ch Check) changeText() string {
	if ch.Current.Runs == 0 || ch.Baseline.Runs == 0 || ch.Kind == kindRun {
		return "n/a"
	}
	switch ch.Kind {
	case kindLatency:
		if math.IsInf(ch.Change, 0) {
			return "new"
		}
		return fmt.Sprintf("%+.0f%%", 100*ch.Change)
	case kindInvariant:
		return fmt.Sprintf("%+d", int64(ch.Change))
	}
	return fmt.Sprintf("%+.1f pp", ch.Change)
}

func (ch Check) limitText() string {
	switch ch.Kind {
	case kindShare:
		return "≥ " + ch.value(ch.Limit)
	case kindInvariant:
		return "0"
	case kindRun:
		return "complete"
	}
	return "≤ " + ch.value(ch.Limit)
}

func (ch Check) significantText() string {
	if ch.Significant {
		return "yes"
	}
	return "no"
}

// Rule describes the noise rule with the options' thresholds.
func (c *Comparison) Rule() []string {
	o := c.Options
	return []string{
		"A metric regresses when the median of the current runs is beyond the range [min, max] of the baseline runs widened by its threshold:",
		fmt.Sprintf("  p50 latency: current > max(baseline) × %s and at least %s ms slower", trimZero(fmt.Sprintf("%.2f", 1+o.P50)), trimZero(fmt.Sprintf("%.2f", o.MinLatencyMs))),
		fmt.Sprintf("  p99 latency: current > max(baseline) × %s and at least %s ms slower", trimZero(fmt.Sprintf("%.2f", 1+o.P99)), trimZero(fmt.Sprintf("%.2f", o.MinLatencyMs))),
		fmt.Sprintf("  error rate:   current > max(baseline) + %s pp", trimZero(fmt.Sprintf("%.2f", o.ErrorRatePP))),
		fmt.Sprintf("  booked share: current < min(baseline) − %s pp", trimZero(fmt.Sprintf("%.2f", o.BookedSharePP))),
		"  oversold places, missing 201s: any current run above 0",
		"  an interrupted current run, a design of the baseline missing from a current run: always",
		"With one run per side this is the plain threshold. A change past the threshold from the baseline median that stays inside the widened range is noise: not significant.",
	}
}
