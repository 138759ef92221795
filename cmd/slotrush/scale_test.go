package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// run --scale scales the crowd and the capacities as simulate does, and
// the result says so; a bad scale is a bad input.
func TestRunScale(t *testing.T) {
	if testing.Short() {
		t.Skip("a live run of ci-smoke at half scale takes ~6 s")
	}
	t.Parallel()
	dir := t.TempDir()
	for _, c := range []struct{ scale, want string }{
		{"0", "--scale 0: want a positive finite number"},
		{"NaN", "--scale NaN: want a positive finite number"},
		{"1e9", "over the limit of 50,000,000 (crowd.size)"},
	} {
		_, err := runCmd(t, "run", "--scenario", "ci-smoke", "--scale", c.scale, "--out", filepath.Join(dir, "bad"), "-q")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run --scale %s: exit %d, %v; want exit 2 and %q", c.scale, exitCode(err), err, c.want)
		}
	}
	out := filepath.Join(dir, "half")
	if stdout, err := runCmd(t, "run", "--scenario", "ci-smoke", "--scale", "0.5", "--design", "per-ppv-day", "--out", out, "-q", "--no-report"); err != nil {
		t.Fatalf("run --scale 0.5: %v\n%s", err, stdout)
	}
	r, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{}
	for _, p := range r.Parameters {
		params[p.Name] = p.Value
	}
	if params["crowd"] != "200 users" || !strings.HasPrefix(params["scale"], "0.5× ") {
		t.Errorf("parameters crowd %q, scale %q; want 200 users at 0.5×", params["crowd"], params["scale"])
	}
	d := r.Designs[0]
	// ci-smoke: 3 PPVs x 2 days x 50 places, 25 a day at half scale.
	if d.Users.Arrived > 200 || d.Slots.Capacity != 150 {
		t.Errorf("arrived %d, capacity %d; want at most 200 people and 150 places", d.Users.Arrived, d.Slots.Capacity)
	}
}
