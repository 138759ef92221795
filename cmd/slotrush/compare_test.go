package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

var (
	fixtureOnce sync.Once
	fixtureJSON []byte
)

// fixture returns a fresh copy of resultstest.SyntheticResult(1), built once.
func fixture(t *testing.T) *results.Result {
	t.Helper()
	fixtureOnce.Do(func() {
		var buf bytes.Buffer
		if err := resultstest.SyntheticResult(1).Write(&buf); err != nil {
			panic(err)
		}
		fixtureJSON = buf.Bytes()
	})
	r, err := results.ReadResult("fixture", fixtureJSON)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// writeResult writes r into dir/name and returns the path.
func writeResult(t *testing.T, dir, name string, r *results.Result) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := r.WriteFile(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// runCmd runs `slotrush args...` and returns stdout and the error.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// exitCode returns the code main would exit with.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

func scale(r *results.Result, design, op string, p50, p99 float64) *results.Result {
	d, _ := r.Design(design)
	l := d.LatencyMs[op]
	l.P50 *= p50
	l.P99 *= p99
	d.LatencyMs[op] = l
	return r
}

func TestCompareCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := writeResult(t, dir, "base.json", fixture(t))
	same := writeResult(t, dir, "same.json", fixture(t))
	slow := writeResult(t, dir, "slow.json", scale(fixture(t), "per-ppv-day", results.OpBook, 1, 2))
	errs := fixture(t)
	d, _ := errs.Design("per-ppv-day")
	n := d.Requests.Total * 5 / 100
	d.Requests.ByStatus["200"] -= n
	d.Requests.ByStatus["503"] += n
	moreErrors := writeResult(t, dir, "errors.json", errs)

	full, err := os.ReadFile(base)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.json")
	if err := os.WriteFile(truncated, full[:len(full)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "package.json")
	if err := os.WriteFile(foreign, []byte(`{"name": "left-pad", "version": "1.3.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	other := fixture(t)
	for i := range other.Designs {
		other.Designs[i].Design = "hashed-" + other.Designs[i].Design
	}
	noCommon := writeResult(t, dir, "other.json", other)
	missing := filepath.Join(dir, "missing.json")
	tenfold := fixture(t)
	tenfold.Parameters = append(tenfold.Parameters, results.Parameter{Name: "scale", Value: "10× the scenario as written"})
	for i, p := range tenfold.Parameters {
		if p.Name == "crowd" {
			tenfold.Parameters[i].Value = "150,000 people"
		}
	}
	x10 := writeResult(t, dir, "x10.json", tenfold)

	tests := []struct {
		name     string
		args     []string
		code     int
		wantOut  []string
		wantErr  []string
		checkOut func(t *testing.T, out string)
	}{
		{name: "identical", args: []string{base, same}, code: 0, wantOut: []string{"no regression", "SIGNIFICANT"}},
		{name: "p99 doubled", args: []string{base, slow}, code: 1, wantOut: []string{"REGRESSION"},
			wantErr: []string{"per-ppv-day book p99", "→", "+100%"}},
		{name: "error rate +5 pp", args: []string{base, moreErrors}, code: 1, wantErr: []string{"per-ppv-day error rate", "+5.0 pp"}},
		{name: "threshold raised", args: []string{base, slow, "--p99", "1.5"}, code: 0},
		{name: "other design only", args: []string{base, slow, "--design", "monolithic,per-ppv"}, code: 0},
		{name: "truncated", args: []string{base, truncated}, code: 2, wantErr: []string{truncated, "truncated"}},
		{name: "foreign", args: []string{foreign, same}, code: 2, wantErr: []string{foreign, "not a slotrush result"}},
		{name: "missing file", args: []string{base, missing}, code: 2, wantErr: []string{missing}},
		{name: "no common designs", args: []string{base, noCommon}, code: 2, wantErr: []string{"no design in both", base, noCommon}},
		{name: "one file", args: []string{base}, code: 2, wantErr: []string{"BASELINE.json CURRENT.json"}},
		{name: "crowds ×1 and ×10", args: []string{base, x10}, code: 2, wantErr: []string{"different crowds",
			"synthetic-rush (15,000 people, seed 1) and synthetic-rush ×10 (150,000 people, seed 1)",
			"the second crowd is 10× the size of the first", "--allow-different-crowds"}},
		{name: "crowds ×1 and ×10 allowed", args: []string{base, x10, "--allow-different-crowds"}, code: 0,
			wantOut: []string{"compared although the baseline and the current runs faced different crowds", "the second crowd is 10× the size of the first (150,000 against 15,000 people)"}},
		{name: "both forms", args: []string{base, same, "--baseline", base}, code: 2},
		{name: "bad format", args: []string{base, same, "--format", "pdf"}, code: 2, wantErr: []string{"pdf"}},
		{name: "bad flag", args: []string{base, same, "--p99", "lots"}, code: 2},
		{name: "negative threshold", args: []string{base, same, "--p50", "-1"}, code: 2},
		{name: "unknown design", args: []string{base, same, "--design", "hashed-8"}, code: 2, wantErr: []string{"hashed-8"}},
		{name: "markdown", args: []string{base, slow, "--format", "markdown"}, code: 1, checkOut: func(t *testing.T, out string) {
			if !strings.HasPrefix(out, "### ❌ slotrush compare: 1 regression") {
				t.Errorf("markdown starts %q", firstLine(out))
			}
			if !strings.Contains(out, "| per-ppv-day | book p99 |") || !strings.Contains(out, "**regression**") {
				t.Errorf("markdown table lacks the regression row:\n%s", out)
			}
		}},
		{name: "junit", args: []string{base, slow, "--format", "junit"}, code: 1, checkOut: func(t *testing.T, out string) {
			var doc struct {
				Tests    int `xml:"tests,attr"`
				Failures int `xml:"failures,attr"`
				Suites   []struct {
					Cases []struct {
						ClassName string `xml:"classname,attr"`
						Name      string `xml:"name,attr"`
						Failure   *struct {
							Message string `xml:"message,attr"`
						} `xml:"failure"`
					} `xml:"testcase"`
				} `xml:"testsuite"`
			}
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("junit does not parse: %v", err)
			}
			if doc.Failures != 1 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != doc.Tests {
				t.Fatalf("junit: %d tests, %d failures, %d suites", doc.Tests, doc.Failures, len(doc.Suites))
			}
			for _, c := range doc.Suites[0].Cases {
				if (c.Failure != nil) != (c.ClassName == "slotrush.compare.per-ppv-day" && c.Name == "book p99") {
					t.Errorf("testcase %s %s: failure %v", c.ClassName, c.Name, c.Failure)
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := runCmd(t, append([]string{"compare"}, tt.args...)...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d (err %v); want %d\n%s", got, err, tt.code, out)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v; want it to contain %q", err, w)
				}
			}
			if tt.checkOut != nil {
				tt.checkOut(t, out)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// TestCompareCmdRepeatedRuns: five runs per side with ±15% jitter on every
// p50 and p99 and no real change pass; a real doubling still fails.
func TestCompareCmdRepeatedRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 7))
	runs := func(side string, change func(*results.Result)) []string {
		var args []string
		for i := range 5 {
			r := fixture(t)
			for j := range r.Designs {
				for op, l := range r.Designs[j].LatencyMs {
					l.P50 *= 1 + 0.15*(2*rng.Float64()-1)
					l.P99 *= 1 + 0.15*(2*rng.Float64()-1)
					r.Designs[j].LatencyMs[op] = l
				}
			}
			if change != nil {
				change(r)
			}
			args = append(args, "--"+side, writeResult(t, dir, side+string(rune('a'+i))+".json", r))
		}
		return args
	}
	base := runs("baseline", nil)
	cur := runs("current", nil)
	out, err := runCmd(t, append(append([]string{"compare"}, base...), cur...)...)
	if code := exitCode(err); code != 0 {
		t.Fatalf("noisy runs, no change: exit %d: %v\n%s", code, err, out)
	}
	if !strings.Contains(out, "5 runs") || !strings.Contains(out, "max(baseline)") {
		t.Errorf("output does not show the spread and the rule:\n%s", out)
	}
	slow := runs("current", func(r *results.Result) { scale(r, "per-ppv", results.OpListSlots, 1, 2) })
	_, err = runCmd(t, append(append([]string{"compare"}, base...), slow...)...)
	if code := exitCode(err); code != 1 || !strings.Contains(err.Error(), "per-ppv list_slots p99") {
		t.Errorf("noisy runs, p99 doubled: exit %d, %v; want 1 naming per-ppv list_slots p99", code, err)
	}
}

func TestCompareCmdOutputFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := writeResult(t, dir, "base.json", fixture(t))
	xmlPath := filepath.Join(dir, "compare.xml")
	out, err := runCmd(t, "compare", base, base, "--format", "junit", "--output", xmlPath)
	if err != nil || out != "" {
		t.Fatalf("compare --output: %q, %v", out, err)
	}
	data, err := os.ReadFile(xmlPath)
	if err != nil || !bytes.HasPrefix(data, []byte("<?xml")) {
		t.Errorf("compare.xml = %.40q, %v", data, err)
	}
}

// asTargetColumn keeps only design of r and makes it the external target
// acme, driven through API v1 and audited through it.
func asTargetColumn(r *results.Result, design string) *results.DesignResult {
	d, ok := r.Design(design)
	if !ok {
		panic("no design " + design)
	}
	r.Designs = []results.DesignResult{*d}
	d = &r.Designs[0]
	d.Design = "acme"
	d.Target = &results.Target{Name: "acme", URL: "http://127.0.0.1:9", Profile: results.ProfileV1}
	d.Assumptions = results.Assumptions{Source: results.SourceUnstated}
	d.Slots.Inventory, d.Slots.Audit = results.InventoryAPI, results.AuditAPI
	return d
}

// oversoldResult is a run against a target that answered 201 to every
// booking of 400 people with 300 places, as recorded: 100 oversold.
func oversoldResult(t *testing.T, recorded bool) *results.Result {
	t.Helper()
	r := fixture(t)
	d := asTargetColumn(r, "per-ppv-day")
	d.Slots = results.Slots{Capacity: 300, Booked: 400, Answered201: 400, Persisted: 400,
		Inventory: results.InventoryAPI, Audit: results.AuditAPI}
	if recorded {
		d.Slots.Oversold = 100
	}
	return r
}

// wrongPathResult is a run against a target that answered 404 to every
// request: nobody booked, nothing sold out.
func wrongPathResult(t *testing.T) *results.Result {
	t.Helper()
	r := fixture(t)
	d := asTargetColumn(r, "per-ppv-day")
	d.Requests = results.Requests{Total: 400, ByStatus: map[string]int64{"404": 400},
		Unexpected: 400, UnexpectedByAnswer: map[string]int64{"404 not_found": 400}}
	d.Users = results.Users{Arrived: 400, GaveUp: 400}
	d.Slots = results.Slots{Capacity: 300, Inventory: results.InventoryAPI, Audit: results.AuditAPI}
	d.Timeline = []results.TimelinePoint{{TUnix: r.StartedAt.Unix(), RPS: 400, Unexpected: 400}}
	return r
}

// The gate passes only whole, honest runs of one scenario and engine:
// an interrupted current run, a design missing from it, oversold places
// and answers outside the API fail it (exit 1); an interrupted baseline,
// results of different scenarios or engines, and a result that hides
// places sold beyond its capacity are bad input (exit 2).
func TestCompareCmdWholeRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, change func(*results.Result)) string {
		r := fixture(t)
		change(r)
		return writeResult(t, dir, name, r)
	}
	base := write("base.json", func(*results.Result) {})
	interrupted := write("interrupted.json", func(r *results.Result) { r.Interrupted = true })
	partial := write("partial.json", func(r *results.Result) { r.Designs = r.Designs[:2] })
	demo := write("demo.json", func(r *results.Result) { r.Scenario = "demo" })
	model := write("model.json", func(r *results.Result) { r.Engine = results.EngineModel })
	oversold := writeResult(t, dir, "oversold.json", oversoldResult(t, true))
	hidden := writeResult(t, dir, "hidden.json", oversoldResult(t, false))
	acme := write("acme.json", func(r *results.Result) { asTargetColumn(r, "per-ppv-day") })
	wrongPath := writeResult(t, dir, "wrong-path.json", wrongPathResult(t))

	tests := []struct {
		name    string
		args    []string
		code    int
		wantErr []string
		wantOut []string
	}{
		{"current interrupted", []string{base, interrupted}, 1,
			[]string{"1 regression: run interrupted: the current run (synthetic-rush, live, 2021-05-23 04:00 UTC) stopped before the end of the scenario"},
			[]string{"(run)", "run interrupted", "REGRESSION"}},
		{"baseline interrupted", []string{interrupted, base}, 2,
			[]string{"cannot compare: the baseline run (synthetic-rush, live, 2021-05-23 04:00 UTC) was interrupted", interrupted}, nil},
		{"design missing", []string{base, partial}, 1,
			[]string{"2 regressions: per-ppv-day missing: in the baseline but not in the current run; per-ppv-day+waiting-room missing"}, nil},
		{"design missing, restricted to others", []string{base, partial, "--design", "monolithic,per-ppv"}, 0, nil, nil},
		{"different scenarios", []string{base, demo}, 2, []string{"cannot compare: scenario synthetic-rush against scenario demo", base, demo}, nil},
		{"different engines", []string{base, model}, 2, []string{"cannot compare: engine live against engine model"}, nil},
		{"oversold", []string{oversold, oversold}, 1, []string{"acme oversold: 100 in the current runs (must be 0)"}, nil},
		{"oversold hidden", []string{base, hidden}, 2, []string{hidden, "design acme: booked 400 > capacity 300 + oversold 0"}, nil},
		{"wrong path", []string{acme, wrongPath}, 1, []string{"acme booked share", "acme error rate: 0.45% → 100.0%"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := runCmd(t, append([]string{"compare"}, tt.args...)...)
			if got := exitCode(err); got != tt.code {
				t.Fatalf("exit code %d (err %v); want %d\n%s", got, err, tt.code, out)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v; want it to contain %q", err, w)
				}
			}
			if err != nil && (strings.Contains(err.Error(), "goroutine") || strings.Contains(err.Error(), "panic")) {
				t.Errorf("error %v: want a message, not a stack trace", err)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
