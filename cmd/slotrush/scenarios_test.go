package main

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/scenarios"
)

// runScenarios runs `slotrush scenarios args...` and returns its output.
func runScenarios(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := newScenariosCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err = cmd.Execute()
	return out.String(), errOut.String(), err
}

func TestScenariosList(t *testing.T) {
	t.Parallel()
	out, _, err := runScenarios(t, "list")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(scenarios.Presets())+1 || !strings.HasPrefix(lines[0], "NAME") {
		t.Fatalf("list =\n%s", out)
	}
	for i, name := range scenarios.Presets() {
		if !strings.HasPrefix(lines[i+1], name+" ") {
			t.Errorf("line %d = %q; want preset %s", i+1, lines[i+1], name)
		}
	}
	if !regexp.MustCompile(`(?m)^demo\s+10000\s+8\s+5\s+6000\s+monolithic,per-ppv,per-ppv-day\s+\S`).MatchString(out) {
		t.Errorf("list has no demo row with 10000 users, 8 PPVs, 5 days, 6000 places:\n%s", out)
	}
}

func TestScenariosShow(t *testing.T) {
	t.Parallel()
	out, _, err := runScenarios(t, "show", "demo")
	want, _ := scenarios.Preset("demo")
	if err != nil || out != string(want) {
		t.Errorf("show demo = %.40q, %v; want the embedded YAML", out, err)
	}
	if _, _, err := runScenarios(t, "show", "nope"); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Errorf("show nope: %v; want an error listing the presets", err)
	}
}

func TestScenariosValidate(t *testing.T) {
	t.Parallel()
	good := "../../scenarios/testdata/minimal.yaml"
	out, errOut, err := runScenarios(t, "validate", good, "ci-smoke")
	if err != nil || out != good+": ok\nci-smoke: ok\n" || errOut != "" {
		t.Errorf("validate good = %q, %q, %v", out, errOut, err)
	}

	bad := "../../scenarios/testdata/several.yaml"
	out, errOut, err = runScenarios(t, "validate", good, bad, "no-such-file.yaml")
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 {
		t.Fatalf("validate bad: err = %v; want exit code 2 (bad input)", err)
	}
	if out != good+": ok\n" {
		t.Errorf("stdout = %q", out)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) < 10 {
		t.Fatalf("stderr =\n%s\nwant every problem of several.yaml", errOut)
	}
	pos := regexp.MustCompile(`^` + regexp.QuoteMeta(bad) + `:\d+:\d+: `)
	for _, l := range lines[:len(lines)-1] {
		if !pos.MatchString(l) {
			t.Errorf("line %q has no file:line:col", l)
		}
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "no-such-file.yaml: ") {
		t.Errorf("last line %q; want the missing file's error", last)
	}
	if !strings.Contains(err.Error(), "2 of 3") {
		t.Errorf("error %q; want a count of invalid files", err)
	}
}
