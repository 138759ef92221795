package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// startTarget starts the reference server of sc's design named design over
// inv, as an external target behind an httptest server (its handler
// wrapped by wrap when set), and returns the server and its URL; both are
// closed at the end of the test.
func startTarget(t *testing.T, sc *scenarios.Scenario, design string, inv models.Inventory, wrap func(http.Handler) http.Handler) (*refserver.Server, string) {
	t.Helper()
	ds, err := sc.BuildDesigns([]string{design})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.New(ds[0], inv, t.TempDir(), refserver.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatal(err)
	}
	closeAtCleanup(t, srv) // after ts.Close, as cleanups run last in, first out
	h := srv.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return srv, ts.URL
}

// roomyInventory is sc's inventory with ten times the places, so that a
// crowd cannot sell it out and a second run has places left.
func roomyInventory(sc *scenarios.Scenario) models.Inventory {
	inv := sc.BuildInventory()
	for i := range inv.Slots {
		inv.Slots[i].Capacity *= 10
	}
	return inv
}

func loadCISmoke(t *testing.T) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func runResult(t *testing.T, args ...string) *results.Result {
	t.Helper()
	dir := t.TempDir()
	out, err := runCmd(t, append([]string{"run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dir}, args...)...)
	if err != nil {
		t.Fatalf("slotrush run %v: %v\n%s", args, err, out)
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Two named targets of different designs are two columns, named, each
// audited through the API with the assumptions it states and the places
// it lists; a second run against one of them reports the places the first
// left.
func TestRunTwoNamedTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("three live runs of ci-smoke take ~20 s")
	}
	t.Parallel()
	sc := loadCISmoke(t)
	srvA, urlA := startTarget(t, sc, "monolithic", roomyInventory(sc), nil)
	_, urlB := startTarget(t, sc, "per-ppv", sc.BuildInventory(), nil)
	resets := filepath.Join(t.TempDir(), "resets")
	r := runResult(t, "--target", "a="+urlA, "--target", "b="+urlB,
		"--reset", `echo "$SLOTRUSH_TARGET_NAME $SLOTRUSH_TARGET_URL" >> `+resets)
	checkLiveResult(t, r, true)
	if len(r.Designs) != 2 || r.Target != "" {
		t.Fatalf("%d columns, result target %q; want 2 and none (several targets)", len(r.Designs), r.Target)
	}
	if b, err := os.ReadFile(resets); err != nil || string(b) != "a "+urlA+"\nb "+urlB+"\n" {
		t.Errorf("--reset ran with %q (%v); want once per target, in order, with its name and URL", b, err)
	}
	for i, want := range []struct {
		name, url  string
		scheme     models.Scheme
		partitions int
		places     int64
	}{{"a", urlA, models.Monolithic, 1, 3000}, {"b", urlB, models.PerPPV, 3, 300}} {
		d := r.Designs[i]
		if d.Design != want.name || d.Target == nil || *d.Target != (results.Target{Name: want.name, URL: want.url, Profile: "v1"}) {
			t.Errorf("column %d: design %q target %+v; want %s at %s", i, d.Design, d.Target, want.name, want.url)
		}
		a := d.Assumptions
		if a.Source != results.SourceStated || a.Scheme != want.scheme || a.Partitions != want.partitions || a.Limits != sc.Designs[0].Limits ||
			a.WaitingRoom || !strings.Contains(a.Store, "sqlite") || a.Durability != refserver.Durability {
			t.Errorf("%s: assumptions %+v; want what the target states: %s, %d partition(s), ci-smoke's limits, sqlite", d.Design, a, want.scheme, want.partitions)
		}
		s := d.Slots
		if s.Capacity != want.places || s.Inventory != results.InventoryAPI || s.Audit != results.AuditAPI || s.Answered201 == 0 || s.Booked != s.Answered201 {
			t.Errorf("%s: slots %+v; want %d places read through the API, audited through it", d.Design, s, want.places)
		}
		if d.LatencyMs[results.OpGetBooking].Count < s.Answered201 {
			t.Errorf("%s: %d get_booking latencies for %d bookings audited", d.Design, d.LatencyMs[results.OpGetBooking].Count, s.Answered201)
		}
	}
	stored, err := srvA.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	again := runResult(t, "--target", "a="+urlA)
	checkLiveResult(t, again, true)
	if got, want := again.Designs[0].Slots.Capacity, 3000-stored.Booked; got != want || got > 3000-r.Designs[0].Slots.Answered201 {
		t.Errorf("second run: capacity %d; want the %d places the first left (3000 - %d stored)", got, want, stored.Booked)
	}
	if again.Target != urlA {
		t.Errorf("result target %q; want %s (one target)", again.Target, urlA)
	}
}

// dropOne wraps an API v1 handler: it answers the first booking request
// 201 with a booking it never stores, and GET /api/v1/about 404 (a server
// that states nothing about itself).
func dropOne(next http.Handler) http.Handler {
	var dropped atomic.Bool
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/v1/about":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not_found","message":"no such path"}`))
		case r.Method == http.MethodPost && r.URL.Path == "/api/v1/bookings" && dropped.CompareAndSwap(false, true):
			var req api.BookingRequest
			_ = json.NewDecoder(r.Body).Decode(&req)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_ = json.NewEncoder(w).Encode(models.Booking{ID: "b0-never-stored", PersonID: req.PersonID, PPV: req.PPV, Date: req.Date, CreatedAt: time.Now()})
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// The audit through the API finds a booking answered 201 that the target
// silently dropped; a target that states nothing gets no assumption.
func TestRunAuditFindsDroppedBooking(t *testing.T) {
	if testing.Short() {
		t.Skip("a live run of ci-smoke takes ~6 s")
	}
	t.Parallel()
	sc := loadCISmoke(t)
	srv, url := startTarget(t, sc, "per-ppv-day", roomyInventory(sc), dropOne)
	r := runResult(t, "--target", "lossy="+url)
	d := r.Designs[0]
	s := d.Slots
	if s.Missing != 1 || s.Persisted != s.Answered201-1 || s.Audit != results.AuditAPI {
		t.Errorf("slots %+v; want exactly the dropped booking missing", s)
	}
	if d.Assumptions != (results.Assumptions{Source: results.SourceUnstated}) {
		t.Errorf("assumptions %+v; want nothing but %q", d.Assumptions, results.SourceUnstated)
	}
	stored, err := srv.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stored.HasBooking("b0-never-stored") || stored.Bookings < s.Persisted {
		t.Errorf("server stored %d bookings (the dropped one: %v); the audit found %d", stored.Bookings, stored.HasBooking("b0-never-stored"), s.Persisted)
	}
}

// Bad targets stop the run before any load with exit code 2 and one
// clear line naming the problem, and write no result.
func TestRunTargetBadInput(t *testing.T) {
	t.Parallel()
	sc := loadCISmoke(t)
	_, up := startTarget(t, sc, "per-ppv", sc.BuildInventory(), nil)
	full := sc.BuildInventory()
	one := models.Inventory{PPVs: full.PPVs[:1], Slots: full.SlotsOf(full.PPVs[0].ID)}
	_, partial := startTarget(t, sc, "per-ppv", one, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"lacks centres", []string{"--target", "small=" + partial}, []string{"target small", partial, "lacks 2 centre(s)", "idcc-shah-alam, um"}},
		{"down", []string{"--target", "a=" + up, "--target", "gone=" + down}, []string{"target gone", down, "connection refused"}},
		{"duplicate name", []string{"--target", "a=" + up, "--target", "a=" + partial}, []string{`name "a" given twice`}},
		{"bare URLs, same host", []string{"--target", up, "--target", up + "/"}, []string{"given twice"}},
		{"bad URL", []string{"--target", "a=ftp://x"}, []string{`bad URL "ftp://x"`}},
		{"no host", []string{"--target", "http://"}, []string{"bad URL"}},
		{"bad name", []string{"--target", "a b=" + up}, []string{`name "a b"`}},
		{"design and target", []string{"--design", "per-ppv", "--target", up}, []string{"--design", "cannot be combined with --target"}},
		{"reset fails", []string{"--target", "a=" + up, "--reset", "exit 3"}, []string{"target a", `--reset "exit 3" failed`, "exit status 3"}},
		{"reset without target", []string{"--reset", "true"}, []string{"--reset", "give --target"}},
		{"audit rate", []string{"--target", up, "--audit-rate", "0"}, []string{"--audit-rate 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			_, err := runCmd(t, append([]string{"run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dir}, tt.args...)...)
			if exitCode(err) != 2 {
				t.Fatalf("err = %v (exit %d); want exit 2", err, exitCode(err))
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") || strings.Contains(msg, "goroutine") {
				t.Errorf("message %q: want one line", msg)
			}
			if _, err := os.Stat(filepath.Join(dir, "result.json")); err == nil {
				t.Error("a result was written")
			}
		})
	}
}

// A target that fails after others ran (here its --reset) stops the run
// with exit code 2, after writing the columns already run, marked
// interrupted.
func TestRunTargetFailsAfterOthersRan(t *testing.T) {
	if testing.Short() {
		t.Skip("a live run of ci-smoke takes ~6 s")
	}
	t.Parallel()
	sc := loadCISmoke(t)
	_, url := startTarget(t, sc, "per-ppv", roomyInventory(sc), nil)
	dir := t.TempDir()
	out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dir,
		"--target", "a="+url, "--target", "b="+url, "--reset", `test "$SLOTRUSH_TARGET_NAME" = a`)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "target b: --reset") {
		t.Fatalf("err = %v (exit %d); want exit 2 naming b's reset\n%s", err, exitCode(err), out)
	}
	r, err := results.LoadResult(filepath.Join(dir, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Designs) != 1 || r.Designs[0].Design != "a" || !r.Interrupted {
		t.Errorf("%d columns (first %q), interrupted %v; want a alone, interrupted", len(r.Designs), r.Designs[0].Design, r.Interrupted)
	}
	checkLiveResult(t, r, true)
}
