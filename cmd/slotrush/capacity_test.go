package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/capacity"
	"github.com/slotrush/slotrush/results"
)

// onePartition is the scenario whose capacity is worked out by hand in
// its comments.
const onePartition = "../../capacity/testdata/one-partition.yaml"

// capacityRun runs `slotrush capacity args...` into a fresh --out and
// returns the capacity file, stdout and the error.
func capacityRun(t *testing.T, args ...string) (*capacity.File, string, error) {
	t.Helper()
	dir := t.TempDir()
	out, err := runCmd(t, append([]string{"capacity", "--out", dir, "-q"}, args...)...)
	if err != nil {
		return nil, out, err
	}
	f, lerr := capacity.Load(filepath.Join(dir, "capacity.json"))
	if lerr != nil {
		t.Fatal(lerr)
	}
	return f, out, nil
}

func TestCapacityHandWorked(t *testing.T) {
	t.Parallel()
	// The hand figure (capacity/testdata/one-partition.yaml): one
	// partition with a token bucket of W = 100 bookings/s and depth B =
	// 100, people arriving evenly for T = 60 s, three requests each and no
	// retries. At R people/s above W, R·T − (W·T + B) bookings are refused
	// with 429, of 3·R·T requests; errors <= 1% holds while
	// R <= (W·T + B) / ((1 − 3·0.01)·T).
	const w, b, T, limit = 100.0, 100.0, 60.0, 0.01
	hand := (w*T + b) / ((1 - 3*limit) * T) // 104.81 people/s
	f, out, err := capacityRun(t, "--scenario", onePartition, "--slo", "errors<=1%", "--tolerance", "5%")
	if err != nil {
		t.Fatal(err)
	}
	d := f.Designs[0]
	tol := f.Search.Tolerance
	if d.Outcome != capacity.OutcomeFound || d.Binding != "errors<=1%" {
		t.Fatalf("outcome %s binding %q; want found, errors<=1%%", d.Outcome, d.Binding)
	}
	// The search brackets the hand figure and stops within its tolerance
	// of it (1% of slack for the bucket's timing at the window's ends).
	if d.MaxArrivalRatePerS > hand*1.01 || d.FailArrivalRatePerS < hand*0.99 || (hand-d.MaxArrivalRatePerS)/hand > tol {
		t.Errorf("found %.2f people/s (fails at %.2f); the hand figure is %.2f: want found <= hand <= fails, found within %v of it",
			d.MaxArrivalRatePerS, d.FailArrivalRatePerS, hand, tol)
	}
	if !strings.Contains(out, "monolithic holds a rush of") {
		t.Errorf("output lacks the verdict:\n%s", out)
	}
}

// stripTimes zeroes the timestamps of a capacity file's JSON.
func stripTimes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := capacity.Read(path, data)
	if err != nil {
		t.Fatal(err)
	}
	f.StartedAt, f.FinishedAt = time.Time{}, time.Time{}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestCapacityDeterministic(t *testing.T) {
	t.Parallel()
	var files [][]byte
	for range 2 {
		dir := t.TempDir()
		if _, err := runCmd(t, "capacity", "--scenario", "ci-smoke", "--design", "monolithic,per-ppv-day", "--slo", "errors<=5%,book.p99<=50ms",
			"--out", dir, "-q", "--no-report"); err != nil {
			t.Fatal(err)
		}
		files = append(files, stripTimes(t, filepath.Join(dir, "capacity.json")))
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Errorf("two searches with the same inputs wrote different capacity.json (timestamps aside):\n%s\n%s", files[0], files[1])
	}
}

func TestCapacityMonotone(t *testing.T) {
	t.Parallel()
	// A looser SLO never finds less, design by design.
	slos := []string{"errors<=1%", "errors<=5%", "errors<=20%"}
	prev := map[string]float64{}
	for _, slo := range slos {
		f, _, err := capacityRun(t, "--scenario", "ci-smoke", "--slo", slo, "--no-report")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Designs {
			if p, ok := prev[d.Design]; ok && d.MaxArrivalRatePerS < p {
				t.Errorf("%s: %s finds %.1f people/s, less than %.1f under a stricter SLO", d.Design, slo, d.MaxArrivalRatePerS, p)
			}
			prev[d.Design] = d.MaxArrivalRatePerS
		}
	}
	if len(prev) != 3 {
		t.Errorf("%d designs searched; want ci-smoke's 3", len(prev))
	}
}

func TestCapacityEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		outcome string
		says    string
	}{
		{"fails at the smallest scale", []string{"--slo", "book.p99<=10us", "--min-scale", "0.25"}, capacity.OutcomeFailsAtMin,
			"fails the SLO already at the smallest scale searched, 0.25"},
		{"holds at the largest scale", []string{"--slo", "errors<=90%", "--max-scale", "2"}, capacity.OutcomeHoldsAtMax,
			"search higher (--max-scale)"},
	}
	for _, tt := range tests {
		f, out, err := capacityRun(t, append([]string{"--scenario", "ci-smoke", "--design", "per-ppv", "--no-report"}, tt.args...)...)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d := f.Designs[0]; d.Outcome != tt.outcome || len(d.Steps) > 4 {
			t.Errorf("%s: outcome %s after %d steps; want %s within 4", tt.name, d.Outcome, len(d.Steps), tt.outcome)
		}
		if !strings.Contains(out, tt.says) {
			t.Errorf("%s: output lacks %q:\n%s", tt.name, tt.says, out)
		}
	}
}

func TestCapacityBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		says []string
	}{
		{[]string{"--slo", "errors<=1%,book.p99<=5xx"}, []string{`"book.p99<=5xx"`, "column 12"}},
		{[]string{"--slo", "bok.p99<=1s"}, []string{`"bok.p99<=1s"`, "column 1", "unknown operation"}},
		{[]string{}, []string{"--slo is required"}},
		{[]string{"--slo", "errors<=1%", "--tolerance", "0"}, []string{"--tolerance"}},
		{[]string{"--slo", "errors<=1%", "--tolerance", "150%"}, []string{"--tolerance"}},
		{[]string{"--slo", "errors<=1%", "--engine", "guess"}, []string{"--engine"}},
		{[]string{"--slo", "errors<=1%", "--engine", "live", "--confirm", "live"}, []string{"--confirm"}},
		{[]string{"--slo", "errors<=1%", "--engine", "live", "--calibrate", "x.json"}, []string{"--calibrate"}},
		{[]string{"--slo", "errors<=1%", "--calibrate", "/nonexistent.json"}, []string{"--calibrate"}},
		{[]string{"--slo", "errors<=1%", "--min-scale", "4", "--max-scale", "2"}, []string{"scale"}},
		{[]string{"--slo", "errors<=1%", "--design", "sharded"}, []string{"sharded"}},
		{[]string{"--slo", "errors<=1%", "--scenario", "nope"}, []string{"nope"}},
		{[]string{"--slo", "errors<=1%", "stray"}, []string{"stray"}},
	}
	for _, tt := range tests {
		// A later --scenario overrides this one.
		args := append([]string{"capacity", "--scenario", "ci-smoke", "--out", t.TempDir()}, tt.args...)
		_, err := runCmd(t, args...)
		if code := exitCode(err); code != 2 {
			t.Errorf("capacity %v: exit %d (%v); want 2", tt.args, code, err)
			continue
		}
		for _, w := range tt.says {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("capacity %v: %q lacks %q", tt.args, err, w)
			}
		}
	}
}

func TestCapacityReportAndCompare(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, cur := filepath.Join(dir, "base"), filepath.Join(dir, "cur")
	if _, err := runCmd(t, "capacity", "--scenario", "ci-smoke", "--design", "per-ppv-day", "--slo", "errors<=5%", "--out", base, "-q"); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(filepath.Join(base, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"per-ppv-day holds a rush of", "data:image/png;base64,", "Every step", "What this answer assumes"} {
		if !bytes.Contains(html, []byte(w)) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	// The same search compares clean; a lower ceiling is a regression.
	bp := filepath.Join(base, "capacity.json")
	if _, err := runCmd(t, "compare", bp, bp); err != nil {
		t.Errorf("compare of a capacity file with itself = %v; want exit 0", err)
	}
	if _, err := runCmd(t, "capacity", "--scenario", "ci-smoke", "--design", "per-ppv-day", "--slo", "errors<=5%", "--out", cur, "-q",
		"--no-report", "--max-scale", "0.5"); err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(cur, "capacity.json")
	out, err := runCmd(t, "compare", bp, cp, "--capacity-drop", "10%")
	if code := exitCode(err); code != 1 || !strings.Contains(err.Error(), "per-ppv-day capacity") || !strings.Contains(out, "REGRESSION") {
		t.Errorf("compare with a capacity drop: exit %d (%v)\n%s; want 1 naming per-ppv-day", code, err, out)
	}
	if _, err := runCmd(t, "compare", bp, cp, "--capacity-drop", "99%"); err != nil {
		t.Errorf("compare with --capacity-drop 99%% = %v; want exit 0", err)
	}
	// A capacity file against a result, or a bad threshold, is bad input.
	res := filepath.Join(dir, "result.json")
	r := &results.Result{Format: results.FormatVersion, Scenario: "ci-smoke", Engine: results.EngineModel}
	if err := r.WriteFile(res); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"compare", bp, res}, {"compare", bp, cp, "--capacity-drop", "x"}, {"compare", "--baseline", bp, "--baseline", bp, "--current", cp}} {
		if _, err := runCmd(t, args...); exitCode(err) != 2 {
			t.Errorf("%v: %v; want exit 2", args, err)
		}
	}
}

func TestCapacityConfirmLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the live engine for about 20 s")
	}
	t.Parallel()
	// Invariants only: on a loaded machine the live verdicts may move by a
	// step, which the confirmation reports; it must run both sides of the
	// boundary, live, with the model's seeds.
	dir := t.TempDir()
	_, err := runCmd(t, "capacity", "--scenario", "ci-smoke", "--design", "per-ppv-day", "--slo", "errors<=5%",
		"--confirm", "live", "--reruns", "0", "--out", dir, "-q", "--no-report")
	if code := exitCode(err); code != 0 && code != 1 {
		t.Fatalf("capacity --confirm live: exit %d (%v); want 0 or 1 (a disagreement)", code, err)
	}
	f, lerr := capacity.Load(filepath.Join(dir, "capacity.json"))
	if lerr != nil {
		t.Fatal(lerr)
	}
	d := f.Designs[0]
	c := d.Confirmation
	if c == nil || c.Engine != capacity.EngineLive || len(c.Steps) < 2 || len(c.Steps) > 4 {
		t.Fatalf("confirmation %+v; want live, 2 to 4 steps", c)
	}
	if c.Steps[0].Scale != d.MaxScale || c.Steps[1].Scale != d.FailScale || c.Steps[0].Seed != capacity.StepSeed(f.Seed, d.MaxScale, 0) {
		t.Errorf("confirming steps at %v and %v (seed %d); want %v and %v with the model's seed", c.Steps[0].Scale, c.Steps[1].Scale, c.Steps[0].Seed, d.MaxScale, d.FailScale)
	}
	if (err != nil) != (c.Agreement == capacity.AgreeNot) {
		t.Errorf("agreement %q with exit error %v: exit 1 exactly when the live runs disagree", c.Agreement, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "live")); err == nil {
		entries, _ := os.ReadDir(filepath.Join(dir, "live"))
		if len(entries) > 0 {
			t.Errorf("the live steps' stores were left behind: %v", entries)
		}
	}
}
