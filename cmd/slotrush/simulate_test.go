package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

// simulateCmd runs `slotrush simulate args...` and returns stdout.
func simulateCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(append([]string{"simulate"}, args...))
	err := root.Execute()
	return out.String(), err
}

func TestSimulateCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := simulateCmd(t, "--scenario", "ci-smoke", "--out", dir, "--no-report", "--seed", "7", "-q")
	if err != nil {
		t.Fatal(err)
	}
	res, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Engine != results.EngineModel || res.Seed != 7 || len(res.Designs) != 3 {
		t.Errorf("engine %q seed %d designs %d; want model, 7, 3", res.Engine, res.Seed, len(res.Designs))
	}
	if res.Environment.GoVersion == "" {
		t.Error("no environment")
	}
	for _, w := range []string{"per-ppv-day", "events/s", "requests/s", "result: "} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("--no-report wrote index.html (%v)", err)
	}
}

func TestSimulateCmdReportAndCalibrate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A model result stands in for a live one: it has client latencies
	// but no server statistics, so only the round trip is measured.
	first := filepath.Join(dir, "first")
	if _, err := simulateCmd(t, "--scenario", "ci-smoke", "--design", "per-ppv", "--out", first, "--no-report", "-q"); err != nil {
		t.Fatal(err)
	}
	live, err := results.LoadResult(filepath.Join(first, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	live.Engine = results.EngineLive
	livePath := filepath.Join(dir, "live.json")
	if err := live.WriteFile(livePath); err != nil {
		t.Fatal(err)
	}
	second := filepath.Join(dir, "second")
	out, err := simulateCmd(t, "--scenario", "ci-smoke", "--design", "per-ppv,monolithic", "--scale", "2",
		"--calibrate", livePath, "--out", second, "-q")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "report: ") {
		t.Errorf("no report path in output:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(second, "index.html")); err != nil {
		t.Error(err)
	}
	res, err := results.LoadResult(filepath.Join(second, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Designs[0].Users.Arrived != 800 {
		t.Errorf("arrived %d at --scale 2; want 800", res.Designs[0].Users.Arrived)
	}
	var rtt *results.CalibratedParameter
	for i, c := range res.Designs[1].Calibration {
		if c.Name == "network round trip (mean)" {
			rtt = &res.Designs[1].Calibration[i]
		}
	}
	if rtt == nil || !rtt.Measured || !strings.Contains(rtt.Source, livePath) {
		t.Errorf("round trip = %+v; want measured from %s", rtt, livePath)
	}
}

// writeScenario writes a scenario file made of ci-smoke with the
// replacements of old by new applied, and returns its path.
func writeScenario(t *testing.T, dir, name string, oldNew ...string) string {
	t.Helper()
	data, err := scenarios.Preset("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	for i := 0; i+1 < len(oldNew); i += 2 {
		if !strings.Contains(s, oldNew[i]) {
			t.Fatalf("ci-smoke has no %q", oldNew[i])
		}
		s = strings.Replace(s, oldNew[i], oldNew[i+1], 1)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Every bad input exits 2 with a message that says what is wrong, never a
// stack trace.
func TestSimulateCmdBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	invalid := writeScenario(t, dir, "invalid.yaml", "size: 400", "size: 0")
	garbled := filepath.Join(dir, "garbled.yaml")
	if err := os.WriteFile(garbled, []byte("name: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bigCapacity := writeScenario(t, dir, "big-capacity.yaml", "daily_capacity: 50 #", "daily_capacity: 1000000 #")
	steep := writeScenario(t, dir, "steep.yaml", "shape: constant\n    over: 2s", "shape: piecewise\n    pieces: [{at: 0s, rate: 1e8}]")
	out := filepath.Join(dir, "out")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--scenario", "no-such-preset"}, `unknown scenario "no-such-preset"`},
		{[]string{"--scenario", filepath.Join(dir, "missing.yaml")}, "load scenario: open"},
		{[]string{"--scenario", invalid}, "crowd.size: must be between 1 and 50,000,000, got 0"},
		{[]string{"--scenario", garbled}, "garbled.yaml:1:"},
		{[]string{"--scenario", "ci-smoke", "--design", "sharded"}, `design "sharded" is not in scenario "ci-smoke"`},
		{[]string{"--scenario", "ci-smoke", "--scale", "0"}, "--scale 0: want a positive finite number"},
		{[]string{"--scenario", "ci-smoke", "--scale", "-1"}, "--scale -1: want a positive finite number"},
		{[]string{"--scenario", "ci-smoke", "--scale", "NaN"}, "--scale NaN: want a positive finite number"},
		{[]string{"--scenario", "ci-smoke", "--scale", "Inf"}, "--scale +Inf: want a positive finite number"},
		{[]string{"--scenario", "ci-smoke", "--scale", "1e9"},
			"--scale 1e+09: the crowd of ci-smoke would be 400,000,000,000 users, over the limit of 50,000,000 (crowd.size); use --scale 120000 or less"},
		{[]string{"--scenario", bigCapacity, "--scale", "5000"},
			"--scale 5000: inventory.daily_capacity of ci-smoke would be 5,000,000,000 places a day, over the limit of 2,147,483,647; use --scale 2100 or less"},
		{[]string{"--scenario", steep, "--scale", "20"}, "scenario ci-smoke at --scale 20: crowd.arrival.pieces[0].rate: "},
		{[]string{"--scenario", "ci-smoke", "--parallel", "0"}, "--parallel 0: want at least 1 design at a time"},
		{[]string{"--scenario", "ci-smoke", "--parallel", "-2"}, "--parallel -2: want at least 1 design at a time"},
		{[]string{"--scenario", "ci-smoke", "--calibrate", filepath.Join(dir, "missing.json")}, "--calibrate: "},
		{[]string{"--scenario", "ci-smoke", "--bogus-flag"}, "unknown flag: --bogus-flag"},
	} {
		args := append(slices.Clone(c.args), "--out", out, "--no-report", "-q")
		_, stderr, err := simulateCmdCtx(t, context.Background(), args...)
		if code := exitCode(err); code != 2 || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("simulate %v: exit %d, %v; want exit 2 and %q", c.args, code, err, c.want)
			continue
		}
		for _, trace := range []string{"goroutine ", "panic", ".go:"} {
			if strings.Contains(err.Error()+stderr, trace) {
				t.Errorf("simulate %v: %q in the message: %v\n%s", c.args, trace, err, stderr)
			}
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a bad input created the output directory (%v)", err)
	}
}

// simulateCmdCtx runs `slotrush simulate args...` with ctx and returns
// stdout, stderr and the error.
func simulateCmdCtx(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out bytes.Buffer
	errOut := &watchWriter{}
	root.SetOut(&out)
	root.SetErr(errOut)
	root.SetArgs(append([]string{"simulate"}, args...))
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// watchWriter keeps what is written and calls onWrite with all of it
// after each write.
type watchWriter struct {
	mu      sync.Mutex // guards b
	b       strings.Builder
	onWrite func(string)
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.b.Write(p)
	s := w.b.String()
	w.mu.Unlock()
	if w.onWrite != nil {
		w.onWrite(s)
	}
	return len(p), nil
}

func (w *watchWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Ctrl-C during simulate keeps the designs that finished: result.json is
// written with them, marked interrupted, stderr says so, and the exit code
// is run's for an interrupted run (0, the result written).
func TestSimulateCmdInterrupted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	var out bytes.Buffer
	// One design at a time; the first one's progress line cancels, as
	// Ctrl-C would once it finished.
	errOut := &watchWriter{onWrite: func(s string) {
		if strings.Contains(s, "done in") {
			cancel()
		}
	}}
	root.SetOut(&out)
	root.SetErr(errOut)
	root.SetArgs([]string{"simulate", "--scenario", "ci-smoke", "--parallel", "1", "--out", dir, "--no-report"})
	err := root.ExecuteContext(ctx)
	if code := exitCode(err); code != 0 {
		t.Fatalf("interrupted simulate: exit %d, %v; want 0 as run\n%s", code, err, errOut.String())
	}
	res, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || len(res.Designs) != 1 || res.Designs[0].Design != "monolithic" {
		t.Errorf("result: interrupted %v, %d designs; want interrupted with monolithic alone", res.Interrupted, len(res.Designs))
	}
	if res.Environment.GoVersion == "" {
		t.Error("no environment")
	}
	if s := errOut.String(); !strings.Contains(s, "slotrush simulate: interrupted; writing the 1 of 3 design(s) that finished") {
		t.Errorf("stderr does not say it was interrupted:\n%s", s)
	}
	if !strings.Contains(out.String(), "result: ") {
		t.Errorf("no result path in output:\n%s", out.String())
	}

	// Interrupted before any design finished: nothing to write, exit 1.
	dir = t.TempDir()
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	_, _, err = simulateCmdCtx(t, ctx, "--scenario", "ci-smoke", "--out", dir, "--no-report", "-q")
	if code := exitCode(err); code != 1 || err == nil || !strings.Contains(err.Error(), "interrupted before any design finished, nothing written") {
		t.Errorf("simulate cancelled at once: exit %d, %v; want 1, interrupted before any design finished", code, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "result.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("simulate cancelled at once wrote result.json (%v)", err)
	}
}

// A simulation the memory cannot hold is refused before anything is
// allocated: demo at --scale 5000 is a crowd of 50,000,000 (the validator's
// limit), tens of gigabytes. Not parallel: it sets the memory budget and
// counts the bytes allocated.
func TestSimulateCmdRefusesWhatMemoryCannotHold(t *testing.T) {
	defer func(f func() (int64, string, bool)) { memoryBudget = f }(memoryBudget)
	memoryBudget = func() (int64, string, bool) { return 8 << 30, "test budget", true }
	dir := t.TempDir()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := simulateCmdCtx(t, context.Background(), "--scenario", "demo", "--scale", "5000", "--out", dir, "--no-report", "-q")
	runtime.ReadMemStats(&after)
	if code := exitCode(err); code != 2 || err == nil {
		t.Fatalf("simulate demo --scale 5000 with 8 GiB: exit %d, %v; want exit 2", code, err)
	}
	for _, want := range []string{
		"not enough memory to simulate scenario demo at --scale 5000: 50,000,000 users need about ",
		" even one design at a time (crowd ", "and 8.0 GiB is available (test budget): lower --scale to ",
		"(the designs already run one at a time: --parallel 1 or fewer designs would not help)",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal lacks %q:\n%v", want, err)
		}
	}
	// The scale it suggests fits.
	_, after0, _ := strings.Cut(err.Error(), "lower --scale to ")
	suggested, perr := strconv.ParseFloat(strings.Fields(after0)[0], 64)
	if perr != nil {
		t.Fatal(perr)
	}
	demo, lerr := scenarios.Load("demo")
	if lerr != nil {
		t.Fatal(lerr)
	}
	designs, _ := demo.BuildDesigns(nil)
	if need := sim.EstimateModelMemory(demo.Scaled(suggested), designs).Need(1); need > 8<<30 {
		t.Errorf("at the suggested --scale %g the estimate is %d B, over the budget", suggested, need)
	}
	// The crowd alone would be 50,000,000 Arrivals of over 100 bytes.
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<20 {
		t.Errorf("refusing allocated %d MiB; want it to refuse before building anything", d>>20)
	}
	if _, err := os.Stat(filepath.Join(dir, "result.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused simulation wrote result.json (%v)", err)
	}
}

// When the designs do not all fit in memory at once but one does, they run
// fewer at a time, which simulate says, with the same result.
func TestSimulateCmdFewerAtOnce(t *testing.T) {
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	designs, err := sc.BuildDesigns(nil)
	if err != nil {
		t.Fatal(err)
	}
	est := sim.EstimateModelMemory(sc, designs)
	defer func(f func() (int64, string, bool)) { memoryBudget = f }(memoryBudget)
	memoryBudget = func() (int64, string, bool) { return est.Need(1), "test budget", true }
	dir := t.TempDir()
	_, stderr, err := simulateCmdCtx(t, context.Background(), "--scenario", "ci-smoke", "--parallel", "3", "--out", dir, "--no-report", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if want := "slotrush simulate: 3 designs at once would need about"; !strings.Contains(stderr, want) || !strings.Contains(stderr, "simulating 1 at a time") {
		t.Errorf("stderr = %q; want %q ... simulating 1 at a time", stderr, want)
	}
	res, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Designs) != 3 || res.Interrupted {
		t.Errorf("%d designs, interrupted %v; want 3, false", len(res.Designs), res.Interrupted)
	}
}
