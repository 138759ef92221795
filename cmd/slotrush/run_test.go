package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

// checkLiveResult asserts the invariants every live result must hold.
func checkLiveResult(t *testing.T, r *results.Result, audited bool) {
	t.Helper()
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("result fails its checks: %v", errs)
	}
	for _, d := range r.Designs {
		if d.Slots.Oversold != 0 {
			t.Errorf("%s: oversold %d; want 0", d.Design, d.Slots.Oversold)
		}
		if d.Slots.Booked > d.Slots.Capacity {
			t.Errorf("%s: booked %d > capacity %d", d.Design, d.Slots.Booked, d.Slots.Capacity)
		}
		if d.Requests.Total == 0 || d.Users.Arrived == 0 {
			t.Errorf("%s: %d requests from %d users; want some", d.Design, d.Requests.Total, d.Users.Arrived)
		}
		if audited {
			if d.Slots.Missing != 0 || d.Slots.Persisted < d.Slots.Answered201 {
				t.Errorf("%s: %d bookings answered 201, %d persisted, %d missing; want every 201 persisted", d.Design, d.Slots.Answered201, d.Slots.Persisted, d.Slots.Missing)
			}
			if d.Slots.Booked != d.Slots.Persisted {
				t.Errorf("%s: audit booked %d != persisted bookings %d", d.Design, d.Slots.Booked, d.Slots.Persisted)
			}
		}
		// Each booked user got exactly one 201 to a booking (retries replay).
		if d.Users.Booked < d.Slots.Answered201 {
			t.Errorf("%s: %d users booked but %d distinct 201s", d.Design, d.Users.Booked, d.Slots.Answered201)
		}
	}
}

func TestRunInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("live run of ci-smoke takes ~20 s")
	}
	t.Parallel()
	dir := t.TempDir()
	out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--out", dir, "--quiet")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Engine != results.EngineLive || len(r.Designs) != 3 || r.Interrupted {
		t.Fatalf("result: engine %s, %d designs, interrupted %v; want live, 3, false", r.Engine, len(r.Designs), r.Interrupted)
	}
	checkLiveResult(t, r, true)
	for _, d := range r.Designs {
		if d.Users.Arrived != 400 {
			t.Errorf("%s: %d users arrived; want the whole crowd of 400", d.Design, d.Users.Arrived)
		}
		for _, op := range []string{results.OpListPPVs, results.OpListSlots, results.OpBook} {
			if d.LatencyMs[op].Count == 0 {
				t.Errorf("%s: no %s latencies", d.Design, op)
			}
		}
	}
	for _, w := range []string{"monolithic", "per-ppv-day", "result: ", "report: "} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q:\n%s", w, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "index.html")); err != nil {
		t.Errorf("no index.html: %v", err)
	}
}

// Cancelling a run (Ctrl-C) ends it cleanly and still writes what was
// measured, marked interrupted.
func TestRunInterruptedWritesResult(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(1500*time.Millisecond, cancel)
	o := &runOptions{scenario: "ci-smoke", out: dir, quiet: true, noReport: true}
	var stdout, stderr bytes.Buffer
	if err := o.run(ctx, &stdout, &stderr, false); err != nil {
		t.Fatalf("interrupted run: %v\n%s", err, stderr.String())
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted || len(r.Designs) != 1 {
		t.Errorf("interrupted %v with %d designs; want true and only the first design", r.Interrupted, len(r.Designs))
	}
	checkLiveResult(t, r, true)
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr does not say it was interrupted: %q", stderr.String())
	}
}

// --target with a bare URL drives any server with the API: one column
// named after the host, audited through the API, its places read through
// the API, its assumptions the ones it states.
func TestRunAgainstTarget(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	srv, url := startTarget(t, sc, "per-ppv-day", sc.BuildInventory(), nil)
	dir := t.TempDir()
	if out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--target", url, "--out", dir, "--quiet", "--no-report"); err != nil {
		t.Fatalf("run --target: %v\n%s", err, out)
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkLiveResult(t, r, true)
	host := strings.TrimPrefix(url, "http://")
	d := r.Designs[0]
	if len(r.Designs) != 1 || d.Design != host || d.Target == nil || *d.Target != (results.Target{Name: host, URL: url, Profile: "v1"}) || r.Target != url {
		t.Fatalf("columns %d, design %q, target %+v, result target %q; want one column named %q for %s", len(r.Designs), d.Design, d.Target, r.Target, host, url)
	}
	if d.Slots.Audit != results.AuditAPI || d.Slots.Inventory != results.InventoryAPI || d.Slots.Capacity != 300 {
		t.Errorf("slots = %+v; want audited through the API, 300 places read through the API", d.Slots)
	}
	if a := d.Assumptions; a.Source != results.SourceStated || a.Scheme != models.PerPPVDay || a.Partitions != 6 || a.Limits != sc.Designs[2].Limits {
		t.Errorf("assumptions = %+v; want per-ppv-day's, 6 partitions, stated by the target", a)
	}
	a, err := srv.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Every 201 the client saw is stored; a booking stored without the
	// client seeing its 201 had its answer lost to a client timeout (on a
	// loaded machine), each counted as a transport error.
	if got := d.Slots.Answered201; got > a.Bookings || a.Bookings-got > d.Requests.TransportErrors {
		t.Errorf("client saw %d bookings answered 201 and %d transport errors; server stored %d", got, d.Requests.TransportErrors, a.Bookings)
	}
	if d.Slots.UnknownOutcome > d.Requests.TransportErrors {
		t.Errorf("%d unknown outcomes > %d transport errors", d.Slots.UnknownOutcome, d.Requests.TransportErrors)
	}
}

// The in-process server's end of a design copies the server's
// reconciliation of the client's 201s into the result unchanged: a 201 the
// store does not hold is counted missing.
func TestInProcessFinishCopiesReconciliation(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := sc.BuildDesigns([]string{"per-ppv"})
	if err != nil {
		t.Fatal(err)
	}
	inv := sc.BuildInventory()
	o := &runOptions{out: t.TempDir()}
	ip, err := o.startInProcess(sc, ds[0], &inv, nil, ds[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	closeAtCleanup(t, ip.srv)
	dr := &results.DesignResult{Design: ds[0].Name}
	if err := ip.finish(dr, []string{"b0-never-stored"}); err != nil {
		t.Fatalf("finish: %v", err)
	}
	want := results.Slots{Capacity: int64(inv.TotalCapacity()), Answered201: 1, Persisted: 0, Missing: 1,
		Inventory: results.InventoryScenario, Audit: results.AuditStore}
	if dr.Slots != want {
		t.Errorf("slots = %+v; want %+v", dr.Slots, want)
	}
	if dr.Server == nil {
		t.Error("no server statistics")
	}
}

func TestRunBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("crowd:\n  size: -5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--scenario", "no-such-preset"}, "no-such-preset"},
		{[]string{"run", "--scenario", bad}, "bad.yaml:2:"},
		{[]string{"run", "--scenario", "ci-smoke", "--design", "sharded"}, `design "sharded" is not in scenario`},
		{[]string{"run", "--scenario", "ci-smoke", "--target", "ftp://x"}, "--target"},
		{[]string{"run", "--scenario", "ci-smoke", "--seed", "abc"}, "invalid argument"},
		{[]string{"run", "stray"}, "unknown command"},
		{[]string{"run", "--scenario", "ci-smoke", "--grace", "-1s"}, "--grace -1s"},
	}
	for _, tt := range tests {
		_, err := runCmd(t, append(tt.args, "--out", dir)...)
		if err == nil || !strings.Contains(err.Error(), tt.want) || exitCode(err) != 2 {
			t.Errorf("slotrush %v: err = %v (exit %d); want exit 2 mentioning %q", tt.args, err, exitCode(err), tt.want)
		}
	}
}

// The CI gate's committed baseline must stay readable and consistent with
// itself: the same runs on both sides never regress.
func TestCommittedBaselineComparesClean(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../testdata/baseline/ci-smoke-*.json")
	if err != nil || len(files) < 2 {
		t.Fatalf("baseline files: %v (%v)", files, err)
	}
	var args []string
	for _, f := range files {
		r, err := results.LoadResult(f)
		if err != nil {
			t.Fatal(err)
		}
		checkLiveResult(t, r, true)
		args = append(args, "--baseline", f, "--current", f)
	}
	if out, err := runCmd(t, append([]string{"compare"}, args...)...); err != nil {
		t.Errorf("compare baseline with itself: %v\n%s", err, out)
	}
}

// Agreement with live: ci-smoke run live against the in-process server,
// then simulated with the model calibrated from that run. Tolerances are
// wider than the demo's (5 pp, 25%) because ci-smoke is tiny (400 users,
// 5 s) and CI machines are noisy: booked share within 10 pp, book p50
// within a factor of 2. The README records the demo's agreement table.
//
// It runs only with SLOTRUSH_AGREEMENT=1, which `make agreement` (part of
// `make test`) sets to run it alone, without -race. Inside the parallel
// `go test -race ./...` the live run shares two cores with the browser and
// every other package: it then measures CPU starvation (book p50 30 to
// 200 ms instead of 2 to 10 ms), which the model reproduces as service time
// and queueing rather than as the stall it is, and the two diverge (we saw
// monolithic's booked share 20 to 50 pp apart).
func TestSimulateAgreesWithLive(t *testing.T) {
	if os.Getenv("SLOTRUSH_AGREEMENT") == "" {
		t.Skip("run alone by `make agreement` (part of `make test`): set SLOTRUSH_AGREEMENT=1")
	}
	dir := t.TempDir()
	liveDir, modelDir := filepath.Join(dir, "live"), filepath.Join(dir, "model")
	if out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--out", liveDir, "--quiet", "--no-report"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	livePath := filepath.Join(liveDir, "result.json")
	if out, err := runCmd(t, "simulate", "--scenario", "ci-smoke", "--calibrate", livePath, "--out", modelDir, "--no-report", "-q"); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	live, err := results.LoadResult(livePath)
	if err != nil {
		t.Fatal(err)
	}
	model, err := results.LoadResult(filepath.Join(modelDir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	rows := sim.CompareAgreement(live, model)
	if len(rows) != 3 {
		t.Fatalf("%d agreement rows; want 3", len(rows))
	}
	for _, r := range rows {
		t.Logf("%-12s booked share live %.1f%% model %.1f%% (%+.1f pp); book p50 live %.2f ms model %.2f ms (x%.2f)",
			r.Design, 100*r.LiveBookedShare, 100*r.ModelBookedShare, r.BookedShareDiffPP, r.LiveBookP50Ms, r.ModelBookP50Ms, r.BookP50Ratio)
		if math.Abs(r.BookedShareDiffPP) > 10 {
			t.Errorf("%s: booked share differs by %.1f pp; want within 10", r.Design, r.BookedShareDiffPP)
		}
		if r.BookP50Ratio < 0.5 || r.BookP50Ratio > 2 {
			t.Errorf("%s: model/live book p50 = %.2f; want within [0.5, 2]", r.Design, r.BookP50Ratio)
		}
	}
	checkBlastAgreement(t, dir, livePath)
}

// checkBlastAgreement runs ci-smoke live with its hottest partition down
// for 2 s, simulates it with the model calibrated from calibration, and
// checks that the shares of people hit agree within 10 pp (ci-smoke is
// tiny: 400 users; the README records the demo-sized partition-outage).
func checkBlastAgreement(t *testing.T, dir, calibration string) {
	t.Helper()
	const spec = "partition=hottest,down,start=1s,for=2s"
	liveDir, modelDir := filepath.Join(dir, "live-fault"), filepath.Join(dir, "model-fault")
	if out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--fault", spec, "--no-baseline", "--out", liveDir, "--quiet", "--no-report"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if out, err := runCmd(t, "simulate", "--scenario", "ci-smoke", "--fault", spec, "--calibrate", calibration, "--out", modelDir, "--no-report", "-q"); err != nil {
		t.Fatalf("simulate: %v\n%s", err, out)
	}
	live, err := results.LoadResult(filepath.Join(liveDir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	model, err := results.LoadResult(filepath.Join(modelDir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sim.CompareAgreement(live, model) {
		t.Logf("%-12s people hit live %.1f%% model %.1f%% (%+.1f pp)", r.Design, 100*r.LiveHitShare, 100*r.ModelHitShare, r.HitShareDiffPP)
		if !r.Blast {
			t.Errorf("%s: a blast radius is missing (live %v, model %v)", r.Design, r.InLive, r.InModel)
		} else if math.Abs(r.HitShareDiffPP) > 10 {
			t.Errorf("%s: people hit differ by %.1f pp; want within 10", r.Design, r.HitShareDiffPP)
		}
	}
}

// closeAtCleanup closes srv when the test ends and fails the test if its
// store does not close cleanly.
func closeAtCleanup(t *testing.T, srv *refserver.Server) {
	t.Helper()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Error(err)
		}
	})
}
