package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// A live run writes one interval a second per operation: the interval
// logs have a line for each second the result lists, the seconds of all
// operations add up to the timeline's requests of that second, and an
// independent HdrHistogram implementation (hdr-histogram-js, through
// scripts/hlogcheck) reads the same percentiles as result.json.
func TestRunIntervalLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("live run")
	}
	t.Parallel()
	dir := t.TempDir()
	out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--design", "per-ppv", "--out", dir, "--quiet")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := &r.Designs[0]
	perSecond := make([]int64, len(d.Timeline))
	for _, op := range []string{results.OpListPPVs, results.OpListSlots, results.OpBook} {
		hs, err := d.IntervalHistograms(op)
		if err != nil || len(hs) == 0 {
			t.Fatalf("%s: %d intervals, %v; want some", op, len(hs), err)
		}
		for i, h := range hs {
			ts := d.Intervals[op][i].TS
			if ts >= len(perSecond) {
				t.Fatalf("%s interval t_s %d beyond the timeline's %d seconds", op, ts, len(perSecond))
			}
			perSecond[ts] += h.TotalCount()
		}
		if n := countIntervalLines(t, filepath.Join(dir, "hlog", "per-ppv."+op+".hlog")); n != len(hs) {
			t.Errorf("%s log: %d interval lines; result lists %d seconds", op, n, len(hs))
		}
	}
	for i, p := range d.Timeline {
		if perSecond[i] != int64(p.RPS) {
			t.Errorf("second %d: intervals hold %d requests; timeline %v", i, perSecond[i], p.RPS)
		}
	}
	checkWithHdrJS(t, filepath.Join(dir, "result.json"), filepath.Join(dir, "hlog"))
}

func countIntervalLines(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for l := range strings.Lines(string(b)) {
		if l = strings.TrimRight(l, "\r\n"); l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, `"`) {
			n++
		}
	}
	return n
}

// checkWithHdrJS runs scripts/hlogcheck on the logs. It skips when Node.js
// or the script's modules are missing, except in CI (.ci/run installs them).
func checkWithHdrJS(t *testing.T, result, dir string) {
	t.Helper()
	script, err := filepath.Abs("../../scripts/hlogcheck/check.mjs")
	if err != nil {
		t.Fatal(err)
	}
	_, noModules := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "hdr-histogram-js"))
	node, noNode := exec.LookPath("node")
	if noNode != nil || noModules != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI lacks node or scripts/hlogcheck/node_modules (%v, %v)", noNode, noModules)
		}
		t.Skip("no node or no scripts/hlogcheck/node_modules (npm ci --prefix scripts/hlogcheck)")
	}
	out, err := exec.Command(node, script, result, dir).CombinedOutput()
	if err != nil {
		t.Errorf("hdr-histogram-js disagrees with result.json: %v\n%s", err, out)
	}
	t.Logf("hdr-histogram-js:\n%s", out)
}
