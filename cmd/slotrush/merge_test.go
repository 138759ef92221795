package main

import (
	"bytes"
	"fmt"
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

// segmentParts writes into dir the parts of segments idx of a crowd cut in
// of, all started with --start-at at the fixture's start, part k beginning
// lags[k] after it, and returns their paths.
func segmentParts(t *testing.T, dir string, of int, idx []int, lags []time.Duration) []string {
	t.Helper()
	var paths []string
	for k, i := range idx {
		r := fixture(t)
		startAt := r.StartedAt
		began := startAt.Add(lags[k])
		shift := began.Unix() - startAt.Unix()
		r.StartedAt, r.FinishedAt = began, r.FinishedAt.Add(lags[k])
		r.Segment = &results.SegmentInfo{Index: i, Of: of, CrowdHash: "crowd", StartAt: startAt}
		for d := range r.Designs {
			r.Designs[d].Slots.Capacity = 50000
			for j := range r.Designs[d].Timeline {
				r.Designs[d].Timeline[j].TUnix += shift
			}
		}
		paths = append(paths, writeResult(t, dir, fmt.Sprintf("part-%d.json", i), r))
	}
	return paths
}

// paramValue returns the value of r's parameter name, "" when absent.
func paramValue(r *results.Result, name string) string {
	for _, p := range r.Parameters {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// A missing segment is refused unless --allow-partial; a partial merge
// says which segments it holds, in the result and on the console, and
// every merge of --start-at parts says how far apart they began.
func TestMergeAllowPartial(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	paths := segmentParts(t, dir, 3, []int{1, 2}, []time.Duration{20 * time.Millisecond, 2020 * time.Millisecond})
	out := filepath.Join(dir, "merged")
	args := append([]string{"merge", "--out", out, "--no-report"}, paths...)
	_, err := runCmd(t, args...)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "segments 3/3 missing") || !strings.Contains(err.Error(), "--allow-partial") {
		t.Errorf("merge of 2 of 3 segments: exit %d, %v; want exit 2 naming 3/3 and --allow-partial", exitCode(err), err)
	}
	if _, err := os.Stat(filepath.Join(out, "result.json")); err == nil {
		t.Fatal("a refused merge wrote result.json")
	}
	stdout, stderr, err := runMisuse(t, append(args, "--allow-partial")...)
	if err != nil {
		t.Fatalf("merge --allow-partial: %v", err)
	}
	m, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	const wantMerged = "1-2 of 3 (partial: 3 missing)"
	if got := paramValue(m, paramSegmentsMerged); got != wantMerged {
		t.Errorf("parameter %q = %q; want %q", paramSegmentsMerged, got, wantMerged)
	}
	skew := paramValue(m, paramStartSkew)
	if !strings.Contains(skew, "parts began 20ms to 2.02s after --start-at") || !strings.Contains(skew, "spread 2s; latest part 2") {
		t.Errorf("parameter %q = %q; want 20ms to 2.02s, spread 2s, latest part 2", paramStartSkew, skew)
	}
	if m.Segment != nil {
		t.Errorf("merged segment = %+v; want none", m.Segment)
	}
	if !strings.Contains(stdout, "segments merged: "+wantMerged) || !strings.Contains(stdout, "segment start skew: parts began 20ms") {
		t.Errorf("stdout lacks the segments and the skew:\n%s", stdout)
	}
	for _, want := range []string{
		"warning: partial merge: segments 3 of 3 missing; their people never arrived, so the result holds about 66% of the crowd",
		"warning: part 2 (segment 2/3) began 2.02s after --start-at",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "part 1 (segment 1/3) began") {
		t.Errorf("stderr warns of part 1, 20 ms late:\n%s", stderr)
	}
}

// Every segment merged: no partial warning; a quoted pattern is expanded
// by merge itself.
func TestMergeAllSegmentsByPattern(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	segmentParts(t, dir, 3, []int{3, 1, 2}, []time.Duration{0, time.Millisecond, 2 * time.Millisecond})
	out := filepath.Join(dir, "merged")
	stdout, stderr, err := runMisuse(t, "merge", filepath.Join(dir, "part-*.json"), "--out", out, "--no-report")
	if err != nil {
		t.Fatalf("merge: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "segments merged: 1-3 of 3\n") || !strings.Contains(stdout, "merged 3 parts") {
		t.Errorf("stdout:\n%s\nwant segments merged: 1-3 of 3 and 3 parts", stdout)
	}
	if strings.Contains(stderr, "partial") || strings.Contains(stderr, "began") {
		t.Errorf("stderr warns of a complete merge started together:\n%s", stderr)
	}
	for _, tc := range []struct{ pattern, want string }{
		{filepath.Join(dir, "nothing-*.json"), "matches no file"},
		{filepath.Join(dir, "[-.json"), "syntax error in pattern"},
	} {
		_, err := runCmd(t, "merge", tc.pattern, "--out", out)
		if exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("merge %s: exit %d, %v; want exit 2 and %q", tc.pattern, exitCode(err), err, tc.want)
		}
	}
}

func TestMergeSpans(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{3}, "3"}, {[]int{1, 2, 3}, "1-3"}, {[]int{1, 2, 4, 6, 7, 8}, "1-2, 4, 6-8"},
	} {
		if got := spans(tc.in); got != tc.want {
			t.Errorf("spans(%v) = %q; want %q", tc.in, got, tc.want)
		}
	}
}
