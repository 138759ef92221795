package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/sim/profile/profiletest"
)

// A target whose API is shaped unlike API v1 is driven through the example
// profile: its inventory read, its 410s taken as sold out, its throttling
// honoured, its reservations audited through its own API.
func TestRunTargetThroughProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("live run of ci-smoke")
	}
	t.Parallel()
	srv := profiletest.NewServer(profiletest.Config{
		Centres: []profiletest.Centre{
			{Code: "wtc-kl", Title: "World Trade Centre KL", Region: "kuala-lumpur"},
			{Code: "idcc-shah-alam", Title: "IDCC Shah Alam", Region: "selangor"},
			{Code: "um", Title: "Universiti Malaya", Region: "kuala-lumpur"},
		},
		Days:          []string{"2021-06-07", "2021-06-08"},
		Capacity:      50,
		ThrottleEvery: 9,
		RetryInMs:     50,
	})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	profile, err := filepath.Abs("../../examples/profiles/other-shape.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := runResult(t, "--target", "centres="+ts.URL, "--profile", profile)
	if len(r.Designs) != 1 {
		t.Fatalf("%d columns; want 1", len(r.Designs))
	}
	d := r.Designs[0]
	if d.Target == nil || d.Target.Profile != "other-shape" || d.Design != "centres" {
		t.Errorf("column %q target %+v; want centres through other-shape", d.Design, d.Target)
	}
	// Under load some answers time out; find_booking resolves them, so
	// every reservation the server holds is accounted for, as booked or
	// (if even the look-up failed) as an unknown outcome.
	held := int64(len(srv.Reservations()))
	s := d.Slots
	if s.Capacity != 300 || s.Inventory != results.InventoryAPI || s.Audit != results.AuditAPI {
		t.Errorf("slots %+v; want capacity 300 read through the API, audited through it", s)
	}
	if held == 0 || s.Booked > held || s.Booked+s.UnknownOutcome < held || s.Persisted != s.Answered201 || s.Missing != 0 || s.Oversold != 0 {
		t.Errorf("slots %+v; the server holds %d reservations: want them all booked (answered or found) but for unknown outcomes, every 201 read back, none missing", s, held)
	}
	for st := range d.Requests.ByStatus {
		if st != "200" && st != "410" && st != "422" && st != "503" {
			t.Errorf("by status %v: %s is not an answer this server gives", d.Requests.ByStatus, st)
		}
	}
	if d.Assumptions.Source != results.SourceUnstated {
		t.Errorf("assumptions %+v; want nothing stated", d.Assumptions)
	}
}

// A bad profile, or a profile without a target, is bad input: exit 2 with
// the file's line and column, before any request.
func TestRunBadProfile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\noperations:\n  book:\n    method: FETCH\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--target", "http://127.0.0.1:1", "--profile", bad}, "bad.yaml:4:"},
		{[]string{"--target", "http://127.0.0.1:1", "--profile", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{[]string{"--profile", bad}, "--profile maps the journey onto a target's API"},
	}
	for _, tc := range tests {
		_, err := runCmd(t, append([]string{"run", "--scenario", "ci-smoke", "--out", dir}, tc.args...)...)
		if err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("run %v: %v (exit %d); want exit 2 mentioning %q", tc.args, err, exitCode(err), tc.want)
		}
	}
}
