package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
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

var updatePlan = flag.Bool("update", false, "rewrite the golden files under testdata/")

// TestScenariosPlanGolden prints the plan of every preset and compares it
// with testdata/plan/NAME.txt. Regenerate with:
// go test ./cmd/slotrush -run ScenariosPlanGolden -update
func TestScenariosPlanGolden(t *testing.T) {
	t.Parallel()
	for _, name := range scenarios.Presets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, errOut, err := runScenarios(t, "plan", name)
			if err != nil || errOut != "" {
				t.Fatalf("plan %s: %v, stderr %q", name, err, errOut)
			}
			if strings.Contains(out, "e+") || regexp.MustCompile(`\.\d{5,}`).MatchString(out) {
				t.Errorf("plan %s prints unrounded numbers:\n%s", name, out)
			}
			golden := filepath.Join("testdata", "plan", name+".txt")
			if *updatePlan {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if out != string(want) {
				t.Errorf("plan %s =\n%s\nwant (%s)\n%s", name, out, golden, want)
			}
		})
	}
}

func TestScenariosPlan(t *testing.T) {
	t.Parallel()
	out, _, err := runScenarios(t, "plan", "demo", "--format", "json", "--scale", "0.5", "--seed", "9")
	if err != nil {
		t.Fatal(err)
	}
	var p scenarios.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan --format json: %v\n%s", err, out)
	}
	if p.Scenario != "demo" || p.Scale != 0.5 || p.Seed != 9 || p.People != 5000 || len(p.Designs) != 3 {
		t.Errorf("plan demo --scale 0.5 --seed 9 = %+v; want demo, 5,000 people, seed 9, 3 designs", p)
	}

	file := "../../scenarios/testdata/plan/room_past_end.yaml"
	out, _, err = runScenarios(t, "plan", file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"WAITING ROOM", "per-ppv+waiting-room", "room_past_end: ", "duration_short: "} {
		if !strings.Contains(out, want) {
			t.Errorf("plan %s lacks %q:\n%s", file, want, out)
		}
	}

	bad := "../../scenarios/testdata/several.yaml"
	tests := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"plan"}, "want one preset NAME or scenario FILE"},
		{[]string{"plan", "demo", "ci-smoke"}, "want one preset NAME or scenario FILE"},
		{[]string{"plan", "no-such-preset"}, "not a preset"},
		{[]string{"plan", "missing.yaml"}, "missing.yaml"},
		{[]string{"plan", bad}, bad + ":5:15: inventory.first_date: bad date"},
		{[]string{"plan", "demo", "--scale", "0"}, "scale 0: want a positive finite number"},
		{[]string{"plan", "demo", "--scale", "1e9"}, "the largest scale that fits"},
		{[]string{"plan", "demo", "--format", "xml"}, `--format "xml": want text or json`},
	}
	for _, tt := range tests {
		_, _, err := runScenarios(t, tt.args...)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != 2 || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("scenarios %v: %v; want exit code 2 and %q", tt.args, err, tt.want)
		}
	}
}

func TestScenariosShowFile(t *testing.T) {
	t.Parallel()
	file := "../../scenarios/testdata/plan/zero_demand.yaml"
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	out, errOut, err := runScenarios(t, "show", file)
	if err != nil || out != string(want) {
		t.Errorf("show %s = %q, %v; want the file as written", file, out, err)
	}
	if !strings.HasPrefix(errOut, file+":9:37: warning: inventory.ppvs[2].popularity: is 0") {
		t.Errorf("show %s: stderr %q; want the popularity 0 warning at its place", file, errOut)
	}

	if _, _, err := runScenarios(t, "show", "missing.yaml"); err == nil || !strings.Contains(err.Error(), "nor a scenario file") {
		t.Errorf("show missing.yaml: %v; want neither a preset nor a file", err)
	}
	bad := "../../scenarios/testdata/several.yaml"
	_, _, err = runScenarios(t, "show", bad)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != 2 || !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(bad)+`:\d+:\d+: `).MatchString(err.Error()) {
		t.Errorf("show %s: %v; want exit code 2 and file:line:col", bad, err)
	}
}

func TestScenariosValidateWarnings(t *testing.T) {
	t.Parallel()
	file := "../../scenarios/testdata/plan/zero_demand.yaml"
	out, errOut, err := runScenarios(t, "validate", file)
	if err != nil || out != file+": ok\n" {
		t.Errorf("validate %s = %q, %v; want ok (warnings do not fail)", file, out, err)
	}
	if want := file + ":9:37: warning: inventory.ppvs[2].popularity: is 0: nobody chooses c first"; !strings.HasPrefix(errOut, want) {
		t.Errorf("validate %s: stderr %q; want %q", file, errOut, want)
	}
}

func TestPlanNumbers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x    float64
		want string
	}{
		{0, "0"}, {844.8, "845"}, {2534.4, "2,534"}, {0.4209, "0.421"}, {5.632, "5.63"}, {2.003, "2"},
		{1.2000000000000002, "1.2"}, {99.96, "100"}, {999.6, "1,000"}, {0.0008557, "0.000856"}, {1e-9, "0"}, {-3.14159, "-3.14"},
	}
	for _, tt := range tests {
		if got := num(tt.x); got != tt.want {
			t.Errorf("num(%v) = %q; want %q", tt.x, got, tt.want)
		}
	}
	if got := percent(0.35571); got != "35.6%" {
		t.Errorf("percent(0.35571) = %q; want 35.6%%", got)
	}
	if got, want := times(0)+" "+limit(0)+" "+times(2.371)+" "+limit(1000), "- unlimited 2.37x 1,000/s"; got != want {
		t.Errorf("times and limits = %q; want %q", got, want)
	}
}
