package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

func TestReportCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := writeResult(t, dir, "live.json", fixture(t))
	m := fixture(t)
	m.Engine = results.EngineModel
	model := writeResult(t, dir, "model.json", m)
	outDir := filepath.Join(dir, "report")

	out, err := runCmd(t, "report", live, model, "--out", outDir)
	if err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(outDir, "index.html")
	if strings.TrimSpace(out) != index {
		t.Errorf("stdout = %q; want the path of index.html %q", out, index)
	}
	html, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Mixed live and SIMULATED (model) results", "per-ppv-day (synthetic-rush, model,"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(outDir, "plots", "*.png")); len(pngs) == 0 {
		t.Error("no plots written")
	}
}

func TestReportCmdBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"format\": 1,\n  \"engine\": live\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	_, err := runCmd(t, "report", bad, missing, "--out", filepath.Join(dir, "out"))
	if code := exitCode(err); code != 2 {
		t.Fatalf("exit %d (%v); want 2", code, err)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(bad) + `:3:\d+`).MatchString(err.Error()) {
		t.Errorf("error %q does not name %s with line:col", err, bad)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name %s", err, missing)
	}
	if _, err := runCmd(t, "report"); exitCode(err) != 2 {
		t.Errorf("report with no file: %v; want exit 2", err)
	}
}
