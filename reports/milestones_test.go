package reports

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

func i64(n int64) *int64     { return &n }
func f64(x float64) *float64 { return &x }

// TestMilestoneClause: how far a design is from one milestone, in words.
func TestMilestoneClause(t *testing.T) {
	t.Parallel()
	const src = "astroawani.com"
	m := func(at float64, n int64, sim *int64, reached *float64, after bool) results.Milestone {
		return results.Milestone{AtS: at, Counts: results.CountsPlaces, Observed: n, Simulated: sim, ReachedAtS: reached, AfterEnd: after}
	}
	for _, tt := range []struct {
		name   string
		m      results.Milestone
		source string
		runS   float64
		want   string
	}{
		{"sooner", m(3360, 300000, i64(512000), f64(1860), false), src, 7200,
			"booked 300,000 places by 31 min, 25 min before the record (56 min, astroawani.com), and 512,000 by 56 min"},
		{"later", m(3360, 300000, i64(200000), f64(4800), false), src, 7200,
			"booked 300,000 places by 80 min, 24 min after the record (56 min, astroawani.com)"},
		{"as the record", m(3360, 300000, i64(300000), f64(3380), false), "", 7200,
			"booked 300,000 places by 56 min, as the record did (56 min)"},
		{"seconds apart", m(10, 1000, i64(1200), f64(9), false), "", 60,
			"booked 1,000 places by 9 s, 1 s before the record (10 s), and 1,200 by 10 s"},
		{"people", results.Milestone{AtS: 7500, Counts: results.CountsPeople, Observed: 160000, Simulated: i64(160500), ReachedAtS: f64(90)}, "", 14400,
			"booked 160,000 people by 90 s, 124 min before the record (125 min), and 160,500 by 125 min"},
		{"never", m(5220, 956609, i64(730467), nil, false), src, 7200,
			"had booked 730,467 places by 87 min, where the record (astroawani.com) has 956,609 places (76% of it), and never reached it"},
		{"after the end, settled", m(9000, 956609, i64(900000), nil, true), src, 7200,
			"booked 900,000 places in all, where the record (astroawani.com) has 956,609 places by 150 min (94% of it)"},
		{"after the end", m(9000, 956609, nil, nil, true), "", 7200,
			"its run ended at 120 min, before the record counts 956,609 places at 150 min: not compared"},
	} {
		if got := milestoneClause(tt.m, tt.source, tt.runS); got != tt.want {
			t.Errorf("%s: milestoneClause =\n  %s\nwant\n  %s", tt.name, got, tt.want)
		}
	}
}

// withRecord returns the fixture with a record of two milestones, its
// milestones filled.
func withRecord() *results.Result {
	r := fixture()
	r.Observed = []results.Observation{
		{AtS: 10, Counts: results.CountsPlaces, Booked: 1000, Source: "a newspaper, 2021/05/26"},
		{AtS: 30, Counts: results.CountsPlaces, Booked: 5000, Source: "a minister's tweet"},
	}
	r.FillMilestones()
	return r
}

// TestRecordPlot: the booked-over-time plot marks the record, one legend
// entry per source.
func TestRecordPlot(t *testing.T) {
	t.Parallel()
	ss := collect([]*results.Result{withRecord()})
	f := newFigure("t", "t", "x", "y")
	top, labels := addRecord(f, ss)
	if want := []string{"the record (a newspaper, 2021/05/26)", "the record (a minister's tweet)"}; strings.Join(labels, "|") != strings.Join(want, "|") || top != 5000 {
		t.Errorf("addRecord = %v, %v; want %v, 5000", top, labels, want)
	}
	fig := bookedOverTime(ss)
	var buf bytes.Buffer
	if err := fig.render(&buf, "svg", cheapDPI); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"the record (a newspaper, 2021/05/26)", "the record (a minister&#39;s tweet)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("booked-over-time.svg lacks %q", want)
		}
	}
	if _, labels := addRecord(newFigure("t", "t", "x", "y"), collect([]*results.Result{fixture()})); labels != nil {
		t.Errorf("addRecord without a record = %v; want nothing", labels)
	}
	if got := shorten("https://www.astroawani.com/berita-malaysia/astrazeneca-vaccination-slots-snapped-90-minutes-299956", 30); got != "https://www.astroawani.com/be…" {
		t.Errorf("shorten = %q", got)
	}
}

// TestVerdictRecord: the verdict says, per design, how far it is from the
// record; a result without one says nothing of it.
func TestVerdictRecord(t *testing.T) {
	t.Parallel()
	r := withRecord()
	v := Judge(r)
	if len(v.Record) != len(r.Designs) {
		t.Fatalf("Record = %q; want one sentence per design", v.Record)
	}
	for i, s := range collect([]*results.Result{r}) {
		if !strings.HasPrefix(v.Record[i], s.Label+" against the record (times from the start of the run): ") || !strings.Contains(v.String(), v.Record[i]) {
			t.Errorf("Record[%d] = %q; want %s's, in String()", i, v.Record[i], s.Label)
		}
	}
	if !strings.Contains(strings.Join(v.Record, " "), "(10 s, a newspaper, 2021/05/26)") {
		t.Errorf("Record = %q; want the record's time and source", v.Record)
	}
	if v := Judge(fixture()); v.Record != nil {
		t.Errorf("Record without observations = %q; want nil", v.Record)
	}
}

// TestRenderRecord: the page shows the record's sentences in the verdict.
func TestRenderRecord(t *testing.T) {
	t.Parallel()
	r := withRecord()
	dir := t.TempDir()
	index, err := render(dir, cheapDPI, []*results.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	v := Judge(r)
	for _, want := range append([]string{`">Against the record</h3>`}, v.Record...) {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if _, err := filepath.Glob(filepath.Join(dir, "plots", "booked-over-time.*")); err != nil {
		t.Error(err)
	}
}
