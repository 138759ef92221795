package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

// mergeParts writes two parts of one run into dir: the synthetic fixture
// and a copy started 2 s later, over a capacity both fit in.
func mergeParts(t *testing.T, dir string) (string, string) {
	t.Helper()
	a, b := fixture(t), fixture(t)
	b.StartedAt = b.StartedAt.Add(2 * time.Second)
	b.FinishedAt = b.FinishedAt.Add(2 * time.Second)
	for _, r := range []*results.Result{a, b} {
		for i := range r.Designs {
			r.Designs[i].Slots.Capacity = 20000
		}
	}
	for i := range b.Designs {
		for j := range b.Designs[i].Timeline {
			b.Designs[i].Timeline[j].TUnix += 2
		}
	}
	return writeResult(t, dir, "a.json", a), writeResult(t, dir, "b.json", b)
}

func TestMergeCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pa, pb := mergeParts(t, dir)
	out := filepath.Join(dir, "merged")
	stdout, err := runCmd(t, "merge", pa, pb, "--out", out, "--no-report")
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	a, errA := results.LoadResult(pa)
	b, errB := results.LoadResult(pb)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	want, err := results.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := want.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("result.json differs from results.Merge of the parts")
	}
	m, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatalf("merged result.json: %v", err)
	}
	d, sa := m.Designs[0], a.Designs[0]
	if d.Requests.Total != 2*sa.Requests.Total || d.Users.Arrived != 2*sa.Users.Arrived || len(d.Timeline) != len(sa.Timeline)+2 {
		t.Errorf("merged %s: %d requests, %d arrived, %d seconds; want %d, %d, %d",
			d.Design, d.Requests.Total, d.Users.Arrived, len(d.Timeline), 2*sa.Requests.Total, 2*sa.Users.Arrived, len(sa.Timeline)+2)
	}
	if n := strings.Count(stdout, "people booked"); n != len(m.Designs) {
		t.Errorf("stdout has %d design lines; want %d:\n%s", n, len(m.Designs), stdout)
	}
}

func TestMergeCommandRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pa, pb := mergeParts(t, dir)
	other := fixture(t)
	other.Scenario = "ci-smoke"
	po := writeResult(t, dir, "other.json", other)
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\"format\": 1,\n  \"engine\": live}"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no parts", []string{"merge", "--out", out}, "at least one PART.json"},
		{"no out", []string{"merge", pa, pb}, "--out DIR is required"},
		{"other scenario", []string{"merge", pa, po, "--out", out}, "scenario ci-smoke; part 1 synthetic-rush"},
		{"unreadable", []string{"merge", pa, filepath.Join(dir, "missing.json"), "--out", out}, "missing.json"},
		{"bad json", []string{"merge", pa, bad, "--out", out}, "bad.json:2:"},
	} {
		_, err := runCmd(t, tc.args...)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: exit %d, %v; want exit 2 and %q", tc.name, exitCode(err), err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Errorf("a refused merge wrote %s", filepath.Join(out, "result.json"))
	}
}
