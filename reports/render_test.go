package reports

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// readIndex returns index.html with its character references decoded, so
// tests can look for text as a reader sees it ("+", "<", not "&#43;").
func readIndex(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return html.UnescapeString(string(b))
}

// external matches anything a browser would fetch from elsewhere.
var external = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//)|url\(|@import|<script|<link[^>]+stylesheet`)

func TestRender(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	index, err := render(dir, cheapDPI, []*results.Result{fixture()})
	if err != nil {
		t.Fatal(err)
	}
	if index != filepath.Join(dir, "index.html") {
		t.Errorf("Render = %s; want %s", index, filepath.Join(dir, "index.html"))
	}
	page := readIndex(t, index)
	if m := external.FindString(page); m != "" {
		t.Errorf("index.html refers outside itself: %q", m)
	}
	for _, w := range []string{
		`<meta name="viewport" content="width=device-width, initial-scale=1">`,
		"@media print",
		"per-ppv-day+waiting-room booked 5,950 of 6,000 places (99%) with <0.01% errors; monolithic booked 1,204 (20%)",
		"What the people lived through",
		"the booking API received 3.8× the requests people made",
		"(a retry storm)",
		"served people almost strictly in arrival order",
		`class="warn">Warning: monolithic: the booking API received 3.8× the requests`,
		"Time to know, median / p99",
		"Time to a booking, median / p99",
		"Requests per person",
		`<td class="bad">11.5 (3.8×)</td>`,
		"0.80 of 0.85",
		`<td class="bad">2,316 (15%)</td>`,
		`id="fig-goodput"`,
		`id="fig-requests-per-person"`,
		`id="fig-fairness"`,
		`id="fig-time-to-outcome"`,
		"a retry storm",
		"0 is a lottery",
		"What these figures assume",
		"Durability of a 201",
		"synchronous=FULL",
		"Side by side",
		"book p50 / p99",
		"Missing 201s",
		"crowd",                       // a scenario parameter
		"synthetic fixture",           // the CPU
		"2021-05-23 04:00:00 UTC",     // the date
		"hlog/per-ppv-day.book.hlog",  // the interval logs
		`src="data:image/png;base64,`, // embedded plots
		`href="plots/booked-over-time.svg"`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if strings.Contains(page, "SIMULATED") {
		t.Error("a live result is marked SIMULATED")
	}
	figs := figures(collect([]*results.Result{fixture()}))
	if n := strings.Count(page, `src="data:image/png;base64,`); n != len(figs) {
		t.Errorf("index.html embeds %d images; want %d", n, len(figs))
	}
	for _, f := range figs {
		for _, ext := range []string{".png", ".svg"} {
			if fi, err := os.Stat(filepath.Join(dir, "plots", f.Name+ext)); err != nil || fi.Size() == 0 {
				t.Errorf("plot file %s%s: %v", f.Name, ext, err)
			}
		}
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "hlog", "*.hlog"))
	if len(logs) != 13 {
		t.Errorf("%d interval logs; want 13 (4 designs × 3 operations, and the waiting room's queue)", len(logs))
	}
}

func TestRenderSimulated(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Engine = results.EngineModel
	r.Designs[0].Calibration = []results.CalibratedParameter{{Name: "lock hold time", Value: 2.5, Unit: "ms", Measured: false, Source: "assumed"}}
	index, err := render(t.TempDir(), cheapDPI, []*results.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{
		"<title>SIMULATED (model) results",
		"<h1>SIMULATED (model) results: ",
		`<p class="headline">SIMULATED (model) results: per-ppv-day+waiting-room booked`,
		"Model parameters", "lock hold time", "assumed",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
}

func TestRenderSeveralResults(t *testing.T) {
	t.Parallel()
	live := fixture()
	model := fixture()
	model.Engine = results.EngineModel
	model.Scenario = "national"
	model.StartedAt = model.StartedAt.Add(24 * 3600e9)
	dir := t.TempDir()
	index, err := render(dir, cheapDPI, []*results.Result{live, model})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{
		"per-ppv-day (synthetic-rush, live)",
		"per-ppv-day (national, model)",
		"<title>Live and SIMULATED (model) results — slotrush report: synthetic-rush, national</title>",
		"<h1>Live and SIMULATED (model) results: ",
		`<h2 class="grouph" id="group-h">Live run: synthetic-rush (15,000 people, seed 1)</h2>`,
		`<h2 class="grouph" id="group-h-2">SIMULATED (model): national (15,000 people, seed 1)</h2>`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	for _, sub := range []string{"1-synthetic-rush-live", "2-national-model"} {
		if logs, _ := filepath.Glob(filepath.Join(dir, "hlog", sub, "*.hlog")); len(logs) != 13 {
			t.Errorf("hlog/%s has %d logs; want 13", sub, len(logs))
		}
	}
}

// A live run and simulations of the same scenario at two scales: a group
// per crowd and engine, each with its own verdict that ranks only its own
// designs, plots named apart, a title that says the results are both live
// and simulated, and labels that tell the scales apart without a time.
func TestRenderMixedScales(t *testing.T) {
	t.Parallel()
	live := fixture()
	x1 := fixture()
	x1.Engine = results.EngineModel
	x10 := fixture()
	x10.Engine = results.EngineModel
	x10.Parameters = append(x10.Parameters, results.Parameter{Name: "scale", Value: "10× the scenario as written"})
	x10.Parameters[1].Value = "150,000 people"
	keepDesigns(x10, "monolithic")
	// At ×10 monolithic books the most places of all: it must not be
	// ranked above the designs that faced a tenth of the people.
	x10.Designs[0].Slots.Capacity, x10.Designs[0].Slots.Booked = 60000, 12040
	dir := t.TempDir()
	index, err := render(dir, cheapDPI, []*results.Result{live, x1, x10})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{
		"<title>Live and SIMULATED (model) results — slotrush report: synthetic-rush</title>",
		"SIMULATED (model): synthetic-rush ×10 (150,000 people, seed 1)",
		"SIMULATED (model): synthetic-rush (15,000 people, seed 1)",
		"monolithic (synthetic-rush ×10, model)",
		`<p class="headline">SIMULATED (model) results: monolithic (synthetic-rush ×10, model) booked 12,040 of 60,000 places (20%)`,
		`<p class="headline">per-ppv-day+waiting-room (synthetic-rush, live) booked 5,950 of 6,000 places (99%)`,
		`id="fig-synthetic-rush-10-model-booked-over-time"`,
		`id="fig-synthetic-rush-live-booked-over-time"`,
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if n := strings.Count(page, `<section class="verdict"`); n != 3 {
		t.Errorf("index.html has %d verdicts; want one per group, 3", n)
	}
	if strings.Contains(page, "against 12,040") || strings.Contains(page, "2021-05-23 04:00)") {
		t.Error("index.html ranks across crowds or tells them apart by time")
	}
}

func TestRenderOddData(t *testing.T) {
	t.Parallel()
	r := fixture()
	r.Designs = append(r.Designs, results.DesignResult{Design: "hashed-8"})
	r.Designs[0].Histograms["book"] = "not a histogram"
	r.StartedAt = r.StartedAt.AddDate(-3000, 0, 0)
	index, err := render(t.TempDir(), cheapDPI, []*results.Result{r})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	if !strings.Contains(page, "hashed-8") {
		t.Error("index.html lacks the design without data")
	}
	if !strings.Contains(page, "Left out:") {
		t.Error("index.html does not say the bad histogram log was left out")
	}
}

func TestRenderNothing(t *testing.T) {
	t.Parallel()
	if _, err := Render(t.TempDir()); err == nil {
		t.Error("Render() = nil error; want one")
	}
	if _, err := render(t.TempDir(), cheapDPI, []*results.Result{nil, &results.Result{Format: 1, Engine: results.EngineLive}}); err == nil {
		t.Error("Render(no designs) = nil error; want one")
	}
}

// TestOtherParameters: the scenario's name and seed, printed at the top of
// the report's scenario list from the result, are not repeated from the
// parameters of older results, even when those say something else (the
// scenario's seed where the run used --seed).
func TestOtherParameters(t *testing.T) {
	t.Parallel()
	r := &results.Result{Scenario: "demo", Seed: 7, Parameters: []results.Parameter{
		{Name: "scenario", Value: "demo"}, {Name: "crowd", Value: "10 users"}, {Name: "seed", Value: "7"}, {Name: "scenario", Value: "other"}, {Name: "seed", Value: "8"},
	}}
	got := otherParameters(r)
	want := []results.Parameter{{Name: "crowd", Value: "10 users"}}
	if !slices.Equal(got, want) {
		t.Errorf("otherParameters = %v; want %v", got, want)
	}
}
