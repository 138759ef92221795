package reports

import (
	"errors"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// answered makes d a run in which every request got one of the answers
// outside the API in by ("404 not_found": n, ...) or, for "transport", no
// answer: nobody booked and nothing was ever sold out, throttled or shed.
func answered(d *results.DesignResult, by map[string]int64) {
	d.Requests = results.Requests{ByStatus: map[string]int64{}}
	for key, n := range by {
		d.Requests.Total += n
		if key == "transport" {
			d.Requests.TransportErrors += n
			continue
		}
		st, kind, _ := strings.Cut(key, " ")
		d.Requests.ByStatus[st] += n
		if kind != "ok" {
			if d.Requests.UnexpectedByAnswer == nil {
				d.Requests.UnexpectedByAnswer = map[string]int64{}
			}
			d.Requests.UnexpectedByAnswer[key] += n
			d.Requests.Unexpected += n
		}
	}
	d.Users.GaveUp += d.Users.Booked + d.Users.StillWaiting
	d.Users.Booked, d.Users.StillWaiting = 0, 0
	d.Slots.Booked, d.Slots.Answered201, d.Slots.Persisted, d.Slots.Missing, d.Slots.Oversold = 0, 0, 0, 0, 0
	d.Timeline = []results.TimelinePoint{{TS: 0, TUnix: d.Timeline[0].TUnix, RPS: float64(d.Requests.Total),
		Unexpected: d.Requests.Unexpected, Transport: d.Requests.TransportErrors, Errors: d.Requests.TransportErrors}}
}

// The verdict says what a column answered outside the API and what that
// means, counts them as errors, and says when nobody could book because of
// them; the table has a row for them.
func TestJudgeUnexpectedAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		target       bool
		by           map[string]int64
		wantHeadline string
		want         []string
		not          []string
		row          string
	}{
		{
			name: "target, wrong path", target: true, by: map[string]int64{"404 not_found": 400},
			wantHeadline: "acme booked 0 of 6,000 places (0%) with 100% errors.",
			want: []string{
				"acme answered 400 requests with 404 (not found): the API or the profile (v1) does not match this target, so check its URL and the profile's paths; these answers count as errors.",
				"nobody could book with acme: its requests got no answer (0) or one outside the API (400), and none of the answers a booking API gives under load (409, 429, 503), so this run says nothing of the target under load.",
			},
			row: "400 (100%)",
		},
		{
			name: "target, HTML pages", target: true, by: map[string]int64{"200 ok": 400, "200 unreadable": 400, "302 unexpected": 5},
			want: []string{
				"acme answered 400 requests with 200 whose body could not be read (not the API's JSON: an HTML page?) and 5 with 302 (a status the API does not define): the API or the profile (v1) does not match this target",
				"nobody could book with acme",
			},
			row: "405 (50%)",
		},
		{
			name: "target, closed port", target: true, by: map[string]int64{"transport": 1200},
			wantHeadline: "acme booked 0 of 6,000 places (0%) with 100% errors.",
			want:         []string{"nobody could book with acme: its requests got no answer (1,200) or one outside the API (0)"},
			not:          []string{"acme answered"},
			row:          "0 (0%)",
		},
		{
			name: "design, the room's 403s", by: map[string]int64{"200 ok": 900, "409 ok": 50, "403 not_admitted": 50},
			want: []string{"per-ppv-day answered 50 requests with 403 (not admitted): refusals for want of a valid waiting-room admission token (or of credentials slotrush does not hold); they count as errors."},
			not:  []string{"nobody could book", "does not match"},
			row:  "50 (5%)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			keepDesigns(r, "per-ppv-day")
			d := &r.Designs[0]
			if tt.target {
				d = asTarget(r, "per-ppv-day", "acme", "https://acme.example", results.SourceUnstated)
			}
			answered(d, tt.by)
			if tt.by["409 ok"] > 0 {
				d.Timeline[0].Conflict = tt.by["409 ok"]
			}
			if errs := r.Check(); len(errs) > 0 {
				t.Fatalf("test result is inconsistent: %v", errs)
			}
			v := Judge(r)
			if tt.wantHeadline != "" && v.Headline != tt.wantHeadline {
				t.Errorf("Headline = %q; want %q", v.Headline, tt.wantHeadline)
			}
			if strings.Contains(v.Headline, "no errors") {
				t.Errorf("Headline = %q; answers outside the API are errors", v.Headline)
			}
			for _, w := range tt.want {
				if !containsAny(v.Warnings, w) {
					t.Errorf("Warnings lack %q:\n%s", w, strings.Join(v.Warnings, "\n"))
				}
			}
			for _, w := range tt.not {
				if containsAny(v.Warnings, w) {
					t.Errorf("Warnings say %q:\n%s", w, strings.Join(v.Warnings, "\n"))
				}
			}
			for _, rw := range comparisonTable(statsOfAll(collect([]*results.Result{r}))) {
				if rw.Name == "Answers outside the API" {
					if c := rw.Cells[0]; c.Text != tt.row || c.Bad != (d.Requests.Unexpected > 0) {
						t.Errorf("row %q = %+v; want %q, bad when above 0", rw.Name, c, tt.row)
					}
					return
				}
			}
			t.Error("the table has no row for answers outside the API")
		})
	}
}

// A column that sold more places than it had shows it in red: places
// booked beyond the capacity and the oversold count.
func TestTableShowsOversoldInRed(t *testing.T) {
	t.Parallel()
	r := fixture()
	keepDesigns(r, "per-ppv-day")
	d := asTarget(r, "per-ppv-day", "acme", "https://acme.example", results.SourceUnstated)
	d.Slots = results.Slots{Capacity: 300, Booked: 400, Answered201: 400, Oversold: 100, Persisted: -1,
		Inventory: results.InventoryAPI, Audit: results.AuditNone}
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("test result is inconsistent: %v", errs)
	}
	got := map[string]cell{}
	for _, rw := range comparisonTable(statsOfAll(collect([]*results.Result{r}))) {
		got[rw.Name] = rw.Cells[0]
	}
	if c := got["Places booked"]; c.Text != "400 of 300 (133%)" || !c.Bad {
		t.Errorf("Places booked = %+v; want 400 of 300 (133%%), in red", c)
	}
	if c := got["Oversold places"]; c.Text != "100" || !c.Bad {
		t.Errorf("Oversold places = %+v; want 100, in red", c)
	}
	if v := Judge(r); !containsAny(v.Warnings, "acme sold 100 places beyond capacity (oversold)") {
		t.Errorf("Warnings lack the oversold places:\n%s", strings.Join(v.Warnings, "\n"))
	}
}

// Only whole runs of the same scenario and engine pass the gate.
func TestCompareWholeRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		base     func(*results.Result)
		cur      func(*results.Result)
		designs  []string
		wantErr  string // "" when Compare succeeds
		wantRegs []string
		notes    []string
	}{
		{name: "identical"},
		{name: "current interrupted", cur: func(r *results.Result) { r.Interrupted = true },
			wantRegs: []string{"run interrupted: the current run (synthetic-rush, live, 2021-05-23 04:00 UTC) stopped before the end of the scenario, so its figures cover only part of it"}},
		{name: "baseline interrupted", base: func(r *results.Result) { r.Interrupted = true },
			wantErr: "cannot compare: the baseline run (synthetic-rush, live, 2021-05-23 04:00 UTC) was interrupted"},
		{name: "design missing", cur: func(r *results.Result) { keepDesigns(r, "monolithic", "per-ppv-day") },
			wantRegs: []string{"per-ppv missing: in the baseline but not in the current run", "per-ppv-day+waiting-room missing: in the baseline but not in the current run"}},
		{name: "design missing, comparison restricted", cur: func(r *results.Result) { keepDesigns(r, "monolithic", "per-ppv-day") },
			designs: []string{"per-ppv-day"}},
		{name: "design only in the current run", base: func(r *results.Result) { keepDesigns(r, "monolithic", "per-ppv-day") },
			notes: []string{"design per-ppv is only in the current results; not compared", "design per-ppv-day+waiting-room is only in the current results; not compared"}},
		{name: "other scenario", cur: func(r *results.Result) { r.Scenario = "demo" },
			wantErr: "cannot compare: scenario synthetic-rush against scenario demo"},
		{name: "other engine", cur: func(r *results.Result) { r.Engine = results.EngineModel },
			wantErr: "cannot compare: engine live against engine model"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base, cur := fixture(), fixture()
			if tt.base != nil {
				tt.base(base)
			}
			if tt.cur != nil {
				tt.cur(cur)
			}
			o := DefaultCompareOptions()
			o.Designs = tt.designs
			c, err := Compare([]*results.Result{base}, []*results.Result{cur}, o)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrIncomparable) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Compare() = %v; want ErrIncomparable with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var regs []string
			for _, ch := range c.Regressions() {
				regs = append(regs, ch.Sentence())
			}
			if strings.Join(regs, "\n") != strings.Join(tt.wantRegs, "\n") {
				t.Errorf("regressions:\n%s\nwant:\n%s", strings.Join(regs, "\n"), strings.Join(tt.wantRegs, "\n"))
			}
			if strings.Join(c.Notes, "\n") != strings.Join(tt.notes, "\n") {
				t.Errorf("notes %q; want %q", c.Notes, tt.notes)
			}
		})
	}
}

// Several runs per side: a design missing from some of the current runs,
// and a side that mixes scenarios.
func TestCompareWholeRunsSeveral(t *testing.T) {
	t.Parallel()
	partial := fixture()
	keepDesigns(partial, "monolithic", "per-ppv", "per-ppv-day")
	c, err := Compare([]*results.Result{fixture(), fixture()}, []*results.Result{fixture(), partial, fixture()}, DefaultCompareOptions())
	if err != nil {
		t.Fatal(err)
	}
	reg := c.Regressions()
	if len(reg) != 1 || reg[0].Sentence() != "per-ppv-day+waiting-room missing: in the baseline but not in 1 of the 3 current runs" {
		t.Errorf("regressions %v; want per-ppv-day+waiting-room missing from 1 of 3", reg)
	}
	other := fixture()
	other.Scenario = "demo"
	if _, err := Compare([]*results.Result{fixture(), other}, []*results.Result{fixture()}, DefaultCompareOptions()); !errors.Is(err, ErrIncomparable) ||
		!strings.Contains(err.Error(), "the baseline runs are of different scenarios (demo, synthetic-rush)") {
		t.Errorf("Compare(mixed baseline) = %v; want ErrIncomparable naming both scenarios", err)
	}
}

// A check of a run as a whole reads in every format.
func TestCompareRunCheckFormats(t *testing.T) {
	t.Parallel()
	cur := fixture()
	cur.Interrupted = true
	c, err := Compare([]*results.Result{fixture()}, []*results.Result{cur}, DefaultCompareOptions())
	if err != nil {
		t.Fatal(err)
	}
	var text, md, junit strings.Builder
	if err := c.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		"text":     {"1 regression", "(run)", "run interrupted", "complete", "REGRESSION (the current run"},
		"markdown": {"| (run) | run interrupted |", "**regression**"},
		"junit":    {`classname="slotrush.compare" name="run interrupted"`, `type="regression"`},
	} {
		out := map[string]string{"text": text.String(), "markdown": md.String(), "junit": junit.String()}[name]
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s output lacks %q:\n%s", name, w, out)
			}
		}
	}
}
