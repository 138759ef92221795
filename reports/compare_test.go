package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// scaleLatency multiplies the p50 and p99 of one operation of one design.
func scaleLatency(r *results.Result, design, op string, p50, p99 float64) {
	d, _ := r.Design(design)
	l := d.LatencyMs[op]
	l.P50 *= p50
	l.P99 *= p99
	d.LatencyMs[op] = l
}

// addErrors turns pp percentage points of a design's requests from 200 into
// 503, keeping the counts consistent.
func addErrors(r *results.Result, design string, pp float64) {
	d, _ := r.Design(design)
	n := int64(pp / 100 * float64(d.Requests.Total))
	d.Requests.ByStatus["200"] -= n
	d.Requests.ByStatus["503"] += n
}

func TestCompare(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		change    func(*results.Result)
		opts      func(*CompareOptions)
		wantReg   []string // "design metric" of the regressions
		wantImpr  []string
		wantNoise []string
	}{
		{name: "identical"},
		{name: "p99 doubled", change: func(r *results.Result) { scaleLatency(r, "per-ppv-day", results.OpBook, 1, 2) }, wantReg: []string{"per-ppv-day book p99"}},
		{name: "p50 up 20% within threshold", change: func(r *results.Result) { scaleLatency(r, "per-ppv", results.OpBook, 1.2, 1) }},
		{name: "p50 up 30%", change: func(r *results.Result) { scaleLatency(r, "per-ppv", results.OpListSlots, 1.3, 1) }, wantReg: []string{"per-ppv list_slots p50"}},
		{name: "error rate +5 pp", change: func(r *results.Result) { addErrors(r, "per-ppv-day", 5) }, wantReg: []string{"per-ppv-day error rate"}},
		{name: "error rate +1 pp", change: func(r *results.Result) { addErrors(r, "per-ppv-day", 1) }},
		{name: "booked share -10 pp", change: func(r *results.Result) {
			d, _ := r.Design("per-ppv")
			n := d.Users.Arrived / 10
			d.Users.Booked -= n
			d.Users.GaveUp += n
		}, wantReg: []string{"per-ppv booked share"}},
		{name: "faster is an improvement", change: func(r *results.Result) { scaleLatency(r, "monolithic", results.OpBook, 1, 0.3) }, wantImpr: []string{"monolithic book p99"}},
		{name: "oversold fails whatever the baseline", change: func(r *results.Result) {
			d, _ := r.Design("per-ppv")
			d.Slots.Oversold = 2
		}, wantReg: []string{"per-ppv oversold"}},
		{name: "restricted to one design", change: func(r *results.Result) { scaleLatency(r, "monolithic", results.OpBook, 3, 3) },
			opts: func(o *CompareOptions) { o.Designs = []string{"per-ppv-day"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, cur := fixture(), fixture()
			if tt.change != nil {
				tt.change(cur)
			}
			if errs := cur.Check(); len(errs) > 0 {
				t.Fatalf("test fixture is inconsistent: %v", errs)
			}
			o := DefaultCompareOptions()
			if tt.opts != nil {
				tt.opts(&o)
			}
			c, err := Compare([]*results.Result{base}, []*results.Result{cur}, o)
			if err != nil {
				t.Fatal(err)
			}
			got := map[Status][]string{}
			for _, ch := range c.Checks {
				if len(o.Designs) > 0 && ch.Design != o.Designs[0] {
					t.Errorf("check of %s; want only %v", ch.Design, o.Designs)
				}
				got[ch.Status] = append(got[ch.Status], ch.Design+" "+ch.Metric)
			}
			if g := strings.Join(got[StatusRegression], ", "); g != strings.Join(tt.wantReg, ", ") {
				t.Errorf("regressions = [%s]; want [%s]", g, strings.Join(tt.wantReg, ", "))
			}
			if tt.wantImpr != nil {
				if g := strings.Join(got[StatusImprovement], ", "); g != strings.Join(tt.wantImpr, ", ") {
					t.Errorf("improvements = [%s]; want [%s]", g, strings.Join(tt.wantImpr, ", "))
				}
			}
			err = c.Err()
			if (err != nil) != (len(tt.wantReg) > 0) {
				t.Fatalf("Err() = %v; want error %v", err, len(tt.wantReg) > 0)
			}
			for _, w := range tt.wantReg {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Err() = %q; want it to name %q", err, w)
				}
			}
		})
	}
}

func TestCompareMessageNamesValues(t *testing.T) {
	t.Parallel()
	base, cur := fixture(), fixture()
	scaleLatency(cur, "per-ppv-day", results.OpBook, 1, 2)
	c, err := Compare([]*results.Result{base}, []*results.Result{cur}, DefaultCompareOptions())
	if err != nil {
		t.Fatal(err)
	}
	d, _ := base.Design("per-ppv-day")
	b := preciseMs(d.LatencyMs[results.OpBook].P99)
	n := preciseMs(2 * d.LatencyMs[results.OpBook].P99)
	msg := c.Err().Error()
	for _, w := range []string{"per-ppv-day", "book p99", b, n, "+100%", "limit"} {
		if !strings.Contains(msg, w) {
			t.Errorf("Err() = %q; want %q in it", msg, w)
		}
	}
}

// jitter returns n copies of the fixture with p50 and p99 of every
// operation scaled by a random factor in [1-j, 1+j].
func jitter(rng *rand.Rand, n int, j float64, change func(*results.Result)) []*results.Result {
	var out []*results.Result
	for range n {
		r := fixture()
		for i := range r.Designs {
			for op, l := range r.Designs[i].LatencyMs {
				l.P50 *= 1 + j*(2*rng.Float64()-1)
				l.P99 *= 1 + j*(2*rng.Float64()-1)
				r.Designs[i].LatencyMs[op] = l
			}
		}
		if change != nil {
			change(r)
		}
		out = append(out, r)
	}
	return out
}

func TestCompareNoisyRuns(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		base, cur := jitter(rng, 5, 0.15, nil), jitter(rng, 5, 0.15, nil)
		c, err := Compare(base, cur, DefaultCompareOptions())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Err(); err != nil {
			t.Errorf("seed %d: ±15%% jitter, no real change: %v", seed, err)
		}
		// A real slowdown is still caught through the noise.
		slow := jitter(rng, 5, 0.15, func(r *results.Result) { scaleLatency(r, "per-ppv-day", results.OpBook, 1, 2.5) })
		c, err = Compare(base, slow, DefaultCompareOptions())
		if err != nil {
			t.Fatal(err)
		}
		reg := c.Regressions()
		if len(reg) != 1 || reg[0].Metric != "book p99" || reg[0].Design != "per-ppv-day" {
			t.Errorf("seed %d: p99 ×2.5 under ±15%% jitter: regressions %v; want per-ppv-day book p99", seed, reg)
		}
	}
}

func TestCompareSingleRunNoiseIsThreshold(t *testing.T) {
	t.Parallel()
	// With one run per side the spread is a point: the rule is the plain
	// threshold, and a change just inside it passes, just outside fails.
	for _, tc := range []struct {
		factor float64
		want   Status
	}{{1.49, StatusOK}, {1.51, StatusRegression}} {
		base, cur := fixture(), fixture()
		scaleLatency(cur, "per-ppv", results.OpBook, 1, tc.factor)
		c, err := Compare([]*results.Result{base}, []*results.Result{cur}, DefaultCompareOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Checks {
			if ch.Design == "per-ppv" && ch.Metric == "book p99" && ch.Status != tc.want {
				t.Errorf("p99 ×%v: status %s; want %s", tc.factor, ch.Status, tc.want)
			}
		}
	}
}

func TestCompareIgnoresSubMillisecondChanges(t *testing.T) {
	t.Parallel()
	base, cur := fixture(), fixture()
	for _, r := range []*results.Result{base, cur} {
		d, _ := r.Design("per-ppv-day")
		l := d.LatencyMs[results.OpListPPVs]
		l.P50 = 0.3
		if r == cur {
			l.P50 = 0.9 // three times slower, but 0.6 ms
		}
		d.LatencyMs[results.OpListPPVs] = l
	}
	c, err := Compare([]*results.Result{base}, []*results.Result{cur}, DefaultCompareOptions())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Err(); err != nil {
		t.Errorf("0.3 ms → 0.9 ms: %v; want no regression (MinLatencyMs 5)", err)
	}
}

func TestCompareErrors(t *testing.T) {
	t.Parallel()
	a := fixture()
	b := fixture()
	for i := range b.Designs {
		b.Designs[i].Design += "-other"
	}
	if _, err := Compare([]*results.Result{a}, []*results.Result{b}, DefaultCompareOptions()); !errors.Is(err, ErrNoCommonDesigns) {
		t.Errorf("Compare(no common designs) = %v; want ErrNoCommonDesigns", err)
	}
	if _, err := Compare(nil, []*results.Result{a}, DefaultCompareOptions()); err == nil {
		t.Error("Compare(no baseline) = nil error")
	}
	o := DefaultCompareOptions()
	o.Designs = []string{"hashed-8"}
	if _, err := Compare([]*results.Result{a}, []*results.Result{a}, o); err == nil || !strings.Contains(err.Error(), "hashed-8") {
		t.Errorf("Compare(--design hashed-8) = %v; want an error naming it", err)
	}
}

// Results of different crowds are refused, within a side or between the
// sides, unless allowed; allowed, the comparison says how they differ.
func TestCompareCrowds(t *testing.T) {
	t.Parallel()
	seeded := func(seed int64) *results.Result {
		r := fixture()
		r.Seed = seed
		return r
	}
	scaled := fixture()
	scaled.Parameters = append(scaled.Parameters, results.Parameter{Name: "scale", Value: "0.5× the scenario as written"})
	scaled.Parameters[1].Value = "7,500 people"
	tests := []struct {
		name      string
		base, cur []*results.Result
		want      string // in the error, and in the note when allowed; "" for the same crowd
	}{
		{"same crowd", []*results.Result{fixture(), fixture()}, []*results.Result{fixture()}, ""},
		{"half the crowd", []*results.Result{fixture()}, []*results.Result{scaled},
			"the baseline and the current runs faced different crowds, synthetic-rush (15,000 people, seed 1) and synthetic-rush ×0.5 (7,500 people, seed 1): the first crowd is 2× the size of the second (15,000 against 7,500 people); scale ×1 against ×0.5"},
		{"another seed in the baseline", []*results.Result{fixture(), seeded(2)}, []*results.Result{fixture()},
			"the baseline runs faced different crowds, synthetic-rush (15,000 people, seed 1) and synthetic-rush (15,000 people, seed 2): seed 1 against 2"},
	}
	for _, tc := range tests {
		_, err := Compare(tc.base, tc.cur, DefaultCompareOptions())
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: Compare = %v; want no error", tc.name, err)
		case tc.want != "" && (!errors.Is(err, ErrIncomparable) || !errors.Is(err, ErrDifferentCrowds) || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: Compare = %v; want ErrIncomparable, ErrDifferentCrowds and %q", tc.name, err, tc.want)
		}
		o := DefaultCompareOptions()
		o.AllowDifferentCrowds = true
		c, err := Compare(tc.base, tc.cur, o)
		if err != nil {
			t.Fatalf("%s: allowed: %v", tc.name, err)
		}
		if noted := containsAny(c.Notes, tc.want); tc.want != "" && !noted {
			t.Errorf("%s: allowed: Notes = %q; want %q", tc.name, c.Notes, tc.want)
		}
		if tc.want == "" && len(c.Notes) > 0 {
			t.Errorf("%s: Notes = %q; want none", tc.name, c.Notes)
		}
	}
}

func TestCompareFormats(t *testing.T) {
	t.Parallel()
	base, cur := fixture(), fixture()
	scaleLatency(cur, "per-ppv-day", results.OpBook, 1, 2)
	c, err := Compare([]*results.Result{base}, []*results.Result{cur}, DefaultCompareOptions())
	if err != nil {
		t.Fatal(err)
	}

	var text bytes.Buffer
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"1 regression", "REGRESSION", "max(baseline) × 1.5", "SIGNIFICANT"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text output lacks %q:\n%s", w, text.String())
		}
	}

	var md bytes.Buffer
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	var rows int
	for _, line := range strings.Split(md.String(), "\n") {
		if !strings.HasPrefix(line, "|") {
			continue
		}
		rows++
		if cells := strings.Count(strings.ReplaceAll(line, `\|`, ""), "|"); cells != 9 {
			t.Errorf("markdown row has %d pipes; want 9: %s", cells, line)
		}
	}
	if rows != len(c.Checks)+2 {
		t.Errorf("markdown table has %d rows; want %d (header, rule, one per check)", rows, len(c.Checks)+2)
	}
	if !strings.Contains(md.String(), "**regression**") || !strings.HasPrefix(md.String(), "### ❌") {
		t.Errorf("markdown does not flag the regression:\n%s", md.String())
	}

	var junit bytes.Buffer
	if err := c.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit output does not parse: %v\n%s", err, junit.String())
	}
	if doc.Tests != len(c.Checks) || doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != len(c.Checks) {
		t.Fatalf("JUnit: tests=%d failures=%d suites=%d; want %d tests, 1 failure, 1 suite", doc.Tests, doc.Failures, len(doc.Suites), len(c.Checks))
	}
	var failed []string
	for _, tc := range doc.Suites[0].Cases {
		if tc.Failure != nil {
			failed = append(failed, tc.ClassName+" / "+tc.Name)
			if !strings.Contains(tc.Failure.Message, "book p99") {
				t.Errorf("failure message %q does not name the metric", tc.Failure.Message)
			}
		}
	}
	if len(failed) != 1 || failed[0] != "slotrush.compare.per-ppv-day / book p99" {
		t.Errorf("failed testcases = %v; want [slotrush.compare.per-ppv-day / book p99]", failed)
	}
}

func TestSpreadOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []float64
		want Spread
	}{
		{[]float64{3}, Spread{3, 3, 3, 1}},
		{[]float64{5, 1, 3}, Spread{3, 1, 5, 3}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4, 4}},
	} {
		if got := spreadOf(tt.in); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

func TestCompareNoiseStatus(t *testing.T) {
	t.Parallel()
	// Baseline p50 of per-ppv book over three runs: 100, 120, 140 ms. A
	// current 155 ms is past the threshold from the median (150) but inside
	// the widened range (140 × 1.25 = 175): noise, not significant.
	set := func(r *results.Result, v float64) *results.Result {
		d, _ := r.Design("per-ppv")
		l := d.LatencyMs[results.OpBook]
		l.P50 = v
		d.LatencyMs[results.OpBook] = l
		return r
	}
	base := []*results.Result{set(fixture(), 100), set(fixture(), 120), set(fixture(), 140)}
	for _, tc := range []struct {
		cur  float64
		want Status
	}{{130, StatusOK}, {155, StatusNoise}, {176, StatusRegression}, {70, StatusImprovement}} {
		c, err := Compare(base, []*results.Result{set(fixture(), tc.cur)}, DefaultCompareOptions())
		if err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Checks {
			if ch.Design == "per-ppv" && ch.Metric == "book p50" {
				if ch.Status != tc.want {
					t.Errorf("current %v ms: status %s; want %s", tc.cur, ch.Status, tc.want)
				}
				if ch.Limit != 175 {
					t.Errorf("limit = %v; want 175", ch.Limit)
				}
				if ch.Significant != (tc.want == StatusRegression || tc.want == StatusImprovement) {
					t.Errorf("current %v ms: significant = %v", tc.cur, ch.Significant)
				}
			}
		}
	}
}
