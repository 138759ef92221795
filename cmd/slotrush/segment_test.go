package main

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

// Two segments of one crowd, started together against one target, merge
// into the whole crowd: every person arrived once, every 201 audited.
func TestRunSegmentsMergeIntoTheCrowd(t *testing.T) {
	if testing.Short() {
		t.Skip("two live segments of ci-smoke")
	}
	t.Parallel()
	sc := loadCISmoke(t)
	_, url := startTarget(t, sc, "per-ppv", sc.BuildInventory(), nil)
	start := time.Now().Add(3 * time.Second).UTC().Format(time.RFC3339)
	dirs := []string{t.TempDir(), t.TempDir()}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, seg := range []string{"1/2", "2/2"} {
		wg.Go(func() {
			_, errs[i] = runCmd(t, "run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dirs[i],
				"--target", "a="+url, "--segment", seg, "--start-at", start)
		})
	}
	wg.Wait()
	var paths []string
	for i, err := range errs {
		if err != nil {
			t.Fatalf("segment %d: %v", i+1, err)
		}
		paths = append(paths, filepath.Join(dirs[i], "result.json"))
		r, err := results.LoadResult(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		if s := r.Segment; s == nil || s.Index != i+1 || s.Of != 2 || s.CrowdHash == "" {
			t.Errorf("segment %d says %+v", i+1, s)
		}
	}
	out := t.TempDir()
	if msg, err := runCmd(t, append([]string{"merge", "--out", out, "--no-report"}, paths...)...); err != nil {
		t.Fatalf("merge: %v\n%s", err, msg)
	}
	m, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := m.Designs[0]
	if m.Segment != nil || d.Users.Arrived != 400 || d.Slots.Capacity != 300 || d.Slots.Missing != 0 ||
		d.Slots.Answered201 != d.Slots.Persisted || d.Slots.Answered201 == 0 {
		t.Errorf("merged: segment %+v, arrived %d, slots %+v; want the whole crowd of 400, 300 places, every 201 persisted",
			m.Segment, d.Users.Arrived, d.Slots)
	}
}

func TestRunBadSegment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://127.0.0.1:1", "--segment", "3/2"}, "--segment \"3/2\": want I/N"},
		{[]string{"--target", "http://127.0.0.1:1", "--segment", "1/2x"}, "want I/N"},
		{[]string{"--segment", "1/2"}, "give --target"},
		{[]string{"--target", "http://127.0.0.1:1", "--start-at", "noon"}, "want an RFC 3339 time"},
	} {
		_, err := runCmd(t, append([]string{"run", "--scenario", "ci-smoke", "--out", dir}, tc.args...)...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %v: %v (exit %d); want exit 2 mentioning %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}
