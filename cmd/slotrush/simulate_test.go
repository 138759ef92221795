package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
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

func TestSimulateCmdBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--scenario", "no-such-preset", "--out", dir},
		{"--scenario", "ci-smoke", "--design", "sharded", "--out", dir},
		{"--scenario", "ci-smoke", "--scale", "0", "--out", dir},
		{"--scenario", "ci-smoke", "--calibrate", filepath.Join(dir, "missing.json"), "--out", dir},
		{"--scenario", "ci-smoke", "--bogus-flag"},
	} {
		if _, err := simulateCmd(t, args...); err == nil {
			t.Errorf("simulate %v succeeded; want an error", args)
		}
	}
}
