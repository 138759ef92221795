package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/results"
)

// faultScenario is ci-smoke without limits, so that a 503 can only be
// the fault's, with places for everyone, so that the hottest slot does not
// sell out before the fault, and more patience, with the hottest partition
// of each design down from 1 s to 3 s. Under per-ppv-day only people who
// listed its slots before 1 s try to book them (later lists leave a down
// partition's days out): a think time of 300 ms makes them a few dozen.
const faultScenario = `name: fault-smoke
seed: 42
duration: 8s
inventory:
  days: 2
  daily_capacity: 500
  ppvs:
    - {id: wtc-kl, state: kuala-lumpur}
    - {id: idcc-shah-alam, state: selangor}
    - {id: um, state: kuala-lumpur}
crowd: {size: 400, arrival: {shape: constant, over: 2s}}
preferences: {hot_skew: 1.2, early_date_bias: 0.8, same_state: true}
journey:
  think_time: 300ms
  request_timeout: 2s
  patience: 4s
  alternatives: 2
  retry: {backoff: 50ms, max_backoff: 500ms, jitter: 0.5, honour_retry_after: true}
designs:
  - name: monolithic
  - name: per-ppv-day
faults:
  - partition=hottest,down,start=1s,for=2s
`

// TestRunFaults runs a scenario carrying a fault, plus one --fault, on two
// designs: each design's hottest partition answers 503, nothing is
// oversold, no 201 is lost, and the console and the result name the
// partition each fault hit.
func TestRunFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("live run of two designs takes ~20 s")
	}
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "fault-smoke.yaml")
	if err := os.WriteFile(file, []byte(faultScenario), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	stdout, err := runCmd(t, "run", "--scenario", file, "--design", "per-ppv-day,monolithic", "-q", "--no-report", "--out", out,
		"--fault", "partition=hottest,errors=10%,start=3s,for=1s")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stdout)
	}
	for _, want := range []string{
		"fault in design per-ppv-day: ppv-wtc-kl-2021-06-07 down from 1s for 2s after the opening of bookings",
		"fault in design per-ppv-day: ppv-wtc-kl-2021-06-07 failing 10% of operations from 3s for 1s",
		"fault in design monolithic: all down from 1s for 2s",
		"fault in design monolithic: all failing 10% of operations from 3s for 1s",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("console lacks %q:\n%s", want, stdout)
		}
	}
	if !regexp.MustCompile(`design monolithic: the faults of all refused [1-9]\d*, `).MatchString(stdout) {
		t.Errorf("console does not say what the fault did in monolithic:\n%s", stdout)
	}
	r, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	checkLiveResult(t, r, true)
	// Everyone asks monolithic's one partition, so its fault is seen; under
	// per-ppv-day only people booking the hottest centre-day during the
	// window meet it, and on a loaded machine they may be none.
	for _, d := range r.Designs {
		if d.Design == "monolithic" && d.Requests.ByStatus["503"] == 0 {
			t.Errorf("%s: answers %v; want 503s from the down partition", d.Design, d.Requests.ByStatus)
		}
		t.Logf("%s: answers %v", d.Design, d.Requests.ByStatus)
	}
	checkLiveBlast(t, r)
	var faults []string
	for _, p := range r.Parameters {
		if p.Name == "fault" {
			faults = append(faults, p.Value)
		}
	}
	if want := []string{
		"design per-ppv-day: ppv-wtc-kl-2021-06-07 down from 1s for 2s",
		"design per-ppv-day: ppv-wtc-kl-2021-06-07 failing 10% of operations from 3s for 1s",
		"design monolithic: all down from 1s for 2s",
		"design monolithic: all failing 10% of operations from 3s for 1s",
	}; strings.Join(faults, "\n") != strings.Join(want, "\n") {
		t.Errorf("result's fault parameters:\n%s\nwant\n%s", strings.Join(faults, "\n"), strings.Join(want, "\n"))
	}
}

// TestScenariosPartitionOutage: the preset validates, shows, and is listed.
func TestScenariosPartitionOutage(t *testing.T) {
	t.Parallel()
	out, err := runCmd(t, "scenarios", "validate", "partition-outage")
	if err != nil || out != "partition-outage: ok\n" {
		t.Errorf("scenarios validate partition-outage = %q, %v", out, err)
	}
	out, err = runCmd(t, "scenarios", "show", "partition-outage")
	if err != nil || !strings.Contains(out, "faults:\n  - partition=hottest,down,start=2s,for=15s\n") {
		t.Errorf("scenarios show partition-outage = %v:\n%s", err, out)
	}
	out, err = runCmd(t, "scenarios", "list")
	if err != nil || !strings.Contains(out, "partition-outage") {
		t.Errorf("scenarios list = %v:\n%s", err, out)
	}
}

// TestScenariosValidateFaults: a bad fault is placed at its file, line
// and the column of the bad term.
func TestScenariosValidateFaults(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "bad.yaml")
	data := strings.Replace(faultScenario, "partition=hottest,down,start=1s,for=2s", "partition=hottest,dwn,start=1s,for=2s", 1)
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	err := validateScenarios(&stdout, &stderr, []string{file})
	if want := file + `:23:23: faults[0]: unknown term "dwn": want down, slow=DURATION or errors=PERCENT`; exitCode(err) != 2 || strings.TrimSpace(stderr.String()) != want {
		t.Errorf("validate: exit %d, stderr %q; want exit 2 and %q", exitCode(err), stderr.String(), want)
	}
}

// lockedBuffer is a bytes.Buffer safe for a command writing while the
// test reads.
type lockedBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeFault serves per-ppv-day with its hottest partition down: its
// bookings answer 503 partition_unavailable and its centre's listing
// leaves that day out.
func TestServeFault(t *testing.T) {
	t.Parallel()
	o := &serveOptions{design: "per-ppv-day", scenario: "ci-smoke", data: t.TempDir(), store: "sqlite", addr: "127.0.0.1:0",
		shutdown: 5 * time.Second, faults: []string{"partition=hottest,down,for=1h"}}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- o.run(ctx, &stdout, &stderr) }()
	addr := regexp.MustCompile(`listening on (http://\S+)`)
	var base string
	for deadline := time.Now().Add(30 * time.Second); base == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := addr.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if base == "" {
		cancel()
		t.Fatalf("serve did not start: %v\n%s%s", <-done, stdout.String(), stderr.String())
	}
	if want := "slotrush serve: fault: ppv-wtc-kl-2021-06-07 down from 0s for 1h0m0s after the opening of bookings"; !strings.Contains(stdout.String(), want) {
		t.Errorf("serve's console lacks %q:\n%s", want, stdout.String())
	}
	resp, err := http.Post(base+"/api/v1/bookings", "application/json", strings.NewReader(`{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body.String(), `"partition_unavailable"`) {
		t.Errorf("booking the down centre-day = %d %s; want 503 partition_unavailable", resp.StatusCode, body.String())
	}
	resp, err = http.Get(base + "/api/v1/ppvs/wtc-kl/slots")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get(refserver.PartialHeader) != refserver.PartialUnavailable {
		t.Errorf("listing wtc-kl = %d, %s: %q; want 200, partial", resp.StatusCode, refserver.PartialHeader, resp.Header.Get(refserver.PartialHeader))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve: %v", err)
	}
}

// checkLiveBlast checks the blast radii of a live run of per-ppv-day and
// monolithic with the same faults: both measured, with the bookings lost
// from the run without the faults; monolithic's down partition refuses
// every listing, so its share hit is at least per-ppv-day's.
func checkLiveBlast(t *testing.T, r *results.Result) {
	t.Helper()
	share := map[string]float64{}
	for _, d := range r.Designs {
		b := d.BlastRadius
		if b == nil {
			t.Errorf("%s: no blast radius", d.Design)
			continue
		}
		t.Logf("%s: blast radius %d hit (%.1f%%), %d in the window, lost %v", d.Design, b.PeopleHit, 100*b.PeopleHitShare, b.PeopleInWindow, b.BookingsLost)
		if len(b.Faults) != 2 || b.BookingsLost == nil || b.PeopleHit > d.Users.Arrived || b.PeopleInWindow > d.Users.Arrived {
			t.Errorf("%s: blast radius %+v of %d arrived", d.Design, b, d.Users.Arrived)
		}
		share[d.Design] = b.PeopleHitShare
	}
	if share["monolithic"] == 0 || share["monolithic"] < share["per-ppv-day"] {
		t.Errorf("people hit: monolithic %.3f, per-ppv-day %.3f; want monolithic > 0 and at least per-ppv-day", share["monolithic"], share["per-ppv-day"])
	}
}
