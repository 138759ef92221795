package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/scenarios"
)

// fakeLimit is a process limit on open files of soft and hard; raises
// records the soft limits asked for, refuse makes raising fail.
type fakeLimit struct {
	soft, hard uint64
	raises     []uint64
	refuse     func(n uint64) bool
}

func (f *fakeLimit) limit() fileLimit {
	return fileLimit{
		get: func() (uint64, uint64, error) { return f.soft, f.hard, nil },
		raise: func(n uint64) error {
			f.raises = append(f.raises, n)
			if f.refuse != nil && f.refuse(n) {
				return errors.New("refused")
			}
			f.soft = n
			return nil
		},
	}
}

func TestFileLimitCheck(t *testing.T) {
	t.Parallel()
	need := fileNeed{design: "per-ppv-day", scheme: models.PerPPVDay, partitions: 1000, store: 5001, conns: 400}
	total := uint64(need.total()) // 5001 + 800 + 64
	tests := []struct {
		name       string
		soft, hard uint64
		refuse     func(uint64) bool
		wantRaises []uint64
		wantSoft   uint64
		wantErr    bool
	}{
		{"fits", total, total, nil, nil, total, false},
		{"raised to the hard limit", 1024, 1 << 20, nil, []uint64{1 << 20}, 1 << 20, false},
		{"raised to the need when the hard limit is refused", 1024, 1 << 62, func(n uint64) bool { return n > 1<<20 }, []uint64{1 << 62, total}, total, false},
		{"over the hard limit", 1024, total - 1, nil, nil, 1024, true},
		{"cannot raise", 1024, 1 << 20, func(uint64) bool { return true }, []uint64{1 << 20, total}, 1024, true},
	}
	for _, tt := range tests {
		f := &fakeLimit{soft: tt.soft, hard: tt.hard, refuse: tt.refuse}
		err := f.limit().check(fileNeed{design: "small", partitions: 1, store: 7}, need)
		if (err != nil) != tt.wantErr || (err != nil && (exitCode(err) != 2 || !strings.Contains(err.Error(), "ulimit -n"))) {
			t.Errorf("%s: check = %v (exit %d); want an error %v, exit 2", tt.name, err, exitCode(err), tt.wantErr)
		}
		if f.soft != tt.wantSoft || !equalUints(f.raises, tt.wantRaises) {
			t.Errorf("%s: soft limit %d after raises %v; want %d after %v", tt.name, f.soft, f.raises, tt.wantSoft, tt.wantRaises)
		}
	}
	none := fileLimit{get: func() (uint64, uint64, error) { return 0, 0, errNoFileLimit }}
	if err := none.check(need); err != nil {
		t.Errorf("check without a limit to read = %v; want nil", err)
	}
}

func equalUints(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// designFiles counts the store's files (sqlitestore.OpenFiles), the read
// connections requests can open and the connections the crowd can hold.
func TestDesignFiles(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	inv := sc.BuildInventory()
	ds, err := sc.BuildDesigns(nil)
	if err != nil {
		t.Fatal(err)
	}
	perPPVDay := ds[2]
	n := designFiles(perPPVDay, &inv, 400)
	atOpen, most := sqlitestore.OpenFiles(6, false)
	if n.partitions != 6 || n.conns != 400 || n.store != most || most <= atOpen {
		t.Errorf("per-ppv-day of ci-smoke, 400 users: %+v; want 6 partitions, 400 connections, store %d (every read connection)", n, most)
	}
	if got, want := n.total(), most+800+otherFiles; got != want {
		t.Errorf("total = %d; want %d", got, want)
	}
	if len(n.coarser) != 2 || n.coarser[0].design != "per-ppv" || n.coarser[0].partitions != 3 || n.coarser[1].partitions != 1 {
		t.Errorf("coarser = %+v; want per-ppv (3 partitions) and monolithic (1)", n.coarser)
	}
	// Read connections beyond the first are opened by requests: no more of
	// them than requests in flight.
	if n := designFiles(perPPVDay, &inv, 1); n.store != atOpen+2 || n.conns != 1 {
		t.Errorf("one user: store %d, %d connections; want %d (one more read connection), 1", n.store, n.conns, atOpen+2)
	}
	if n := designFiles(perPPVDay, &inv, 1_000_000); n.conns != inProcessMaxConns {
		t.Errorf("a million users: %d connections; want the transport's cap %d", n.conns, inProcessMaxConns)
	}
}

// A design of 10,000 partitions over the limit on open files is refused
// before anything is created, saying how many it needs, the limit and what
// to do.
func TestRunRefusesDesignOverFileLimit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "many.yaml")
	many := `name: many
inventory:
  days: 2
  daily_capacity: 5
  states: [s-a, s-b, s-c, s-d, s-e, s-f, s-g, s-h, s-i, s-j]
  ppvs_per_state: 500
crowd: {size: 2000}
designs:
  - name: per-ppv-day
`
	if err := os.WriteFile(path, []byte(many), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &fakeLimit{soft: 1024, hard: 4096}
	out := filepath.Join(dir, "out")
	o := &runOptions{scenario: path, out: out, quiet: true, limit: f.limit()}
	var stdout, stderr bytes.Buffer
	err := o.run(context.Background(), &stdout, &stderr, false)
	if exitCode(err) != 2 {
		t.Fatalf("run: exit %d, %v; want exit 2", exitCode(err), err)
	}
	for _, want := range []string{
		"design per-ppv-day needs about ", "10,000 partitions", "limit 1,024, hard limit 4,096",
		"'ulimit -n ", "coarser design", "per-ppv needs about ", "monolithic needs about ",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if len(f.raises) != 0 {
		t.Errorf("raised the limit to %v; want it left alone when even the hard limit is too low", f.raises)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("--out: %v; want nothing created", err)
	}
}
