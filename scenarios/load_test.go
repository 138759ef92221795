package scenarios

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// positioned matches one line of an ErrorList: file:line:col: ...
var positioned = regexp.MustCompile(`^testdata/[a-z_]+\.yaml:[1-9]\d*:[1-9]\d*: \S`)

// TestParseGolden parses every file under testdata/ and compares what Parse
// says with testdata/NAME.golden: the errors, one per line, or "ok" and the
// scenario's parameters. Regenerate with: go test ./scenarios -run Golden -update
func TestParseGolden(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			got := describeParse(t, file, data)
			golden := strings.TrimSuffix(file, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Parse(%s) =\n%s\nwant (%s)\n%s", file, got, golden, want)
			}
		})
	}
}

func describeParse(t *testing.T, file string, data []byte) string {
	t.Helper()
	s, err := Parse(file, data)
	if err == nil {
		var b strings.Builder
		b.WriteString("ok\n")
		for _, p := range s.Parameters() {
			fmt.Fprintf(&b, "%s: %s\n", p[0], p[1])
		}
		return b.String()
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Parse(%s) error %T is not an ErrorList: %v", file, err, err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !positioned.MatchString(line) {
			t.Errorf("Parse(%s): line %q does not start with file:line:col", file, line)
		}
	}
	return err.Error() + "\n"
}

func TestParseNamesScenarioAfterFile(t *testing.T) {
	t.Parallel()
	s, err := Parse("dir/my-rush.yml", []byte("inventory: {daily_capacity: 1, states: [x]}\ncrowd: {size: 1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "my-rush" {
		t.Errorf("Name = %q; want my-rush", s.Name)
	}
}

func TestValidateNeverMutates(t *testing.T) {
	t.Parallel()
	s, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Crowd.Size = -1 // make it invalid too
	before := fmt.Sprintf("%#v", *s)
	if errs := s.Validate(); len(errs) == 0 {
		t.Fatal("Validate() = nil for a negative crowd")
	}
	if after := fmt.Sprintf("%#v", *s); after != before {
		t.Errorf("Validate mutated the scenario:\n%s\n%s", before, after)
	}
}

func TestValidateReportsFieldErrors(t *testing.T) {
	t.Parallel()
	var s Scenario // nothing set, no defaults
	errs := s.Validate()
	if len(errs) < 5 {
		t.Fatalf("Validate() on a zero Scenario = %v; want many problems", errs)
	}
	for _, err := range errs {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field == "" {
			t.Errorf("error %q is not a *FieldError with a field", err)
		}
	}
}

func TestEnsureDefaultsIdempotent(t *testing.T) {
	t.Parallel()
	s, err := Parse("testdata/minimal.yaml", []byte("inventory: {daily_capacity: 1, states: [x]}\ncrowd: {size: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	before := fmt.Sprintf("%#v", *s)
	s.EnsureDefaults()
	if after := fmt.Sprintf("%#v", *s); after != before {
		t.Errorf("second EnsureDefaults changed the scenario:\n%s\n%s", before, after)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	if _, err := Load("testdata/minimal.yaml"); err != nil {
		t.Errorf("Load(file): %v", err)
	}
	if _, err := Load("no-such-preset"); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Errorf("Load(unknown) = %v; want an error listing the presets", err)
	}
	if _, err := Load("testdata/missing.yaml"); err == nil {
		t.Error("Load(missing file) succeeded")
	}
	_, err := Load("testdata/several.yaml")
	var list ErrorList
	if !errors.As(err, &list) || len(list) < 10 {
		t.Errorf("Load(several.yaml) = %v; want an ErrorList of many", err)
	}
}
