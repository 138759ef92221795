package sim

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// targetFake is a tiny API v1 server for the target reads: two centres
// with two days each, some bookings, a first slot listing throttled once
// (429 with Retry-After-Ms), and GET /api/v1/bookings/{id} answering 200,
// 404, or 500 for ids starting with "broken".
type targetFake struct {
	about     string // body of GET /api/v1/about; "" answers 404
	throttled atomic.Bool
	gets      atomic.Int64

	mu       sync.Mutex // guards bookings
	bookings map[string]models.Booking
}

var (
	tgtDay1 = models.Date{Year: 2021, Month: 6, Day: 7}
	tgtDay2 = models.Date{Year: 2021, Month: 6, Day: 8}
)

func newTargetFake(t *testing.T) (*targetFake, *httptest.Server) {
	t.Helper()
	f := &targetFake{bookings: map[string]models.Booking{
		"b1": {ID: "b1", PersonID: "p1", PPV: "a", Date: tgtDay1},
		"b2": {ID: "b2", PersonID: "p2", PPV: "a", Date: tgtDay1},
		"b3": {ID: "b3", PersonID: "p3", PPV: "b", Date: tgtDay2},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ppvs", func(w http.ResponseWriter, _ *http.Request) {
		tgtJSON(w, 200, []models.PPV{{ID: "a", Name: "A", State: "s"}, {ID: "b", Name: "B", State: "s"}})
	})
	mux.HandleFunc("GET /api/v1/ppvs/{ppv}/slots", func(w http.ResponseWriter, r *http.Request) {
		if f.throttled.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After-Ms", "5")
			tgtJSON(w, 429, map[string]string{"error": "throttled"})
			return
		}
		rem := 10
		if r.PathValue("ppv") == "a" {
			rem = 1 // a/2021-06-07 has one place left
		}
		tgtJSON(w, 200, []api.Slot{{Date: tgtDay1, Capacity: 10, Remaining: rem}, {Date: tgtDay2, Capacity: 10, Remaining: 10}})
	})
	mux.HandleFunc("GET /api/v1/about", func(w http.ResponseWriter, _ *http.Request) {
		if f.about == "" {
			tgtJSON(w, 404, map[string]string{"error": "not_found"})
			return
		}
		_, _ = w.Write([]byte(f.about))
	})
	mux.HandleFunc("GET /api/v1/bookings/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.gets.Add(1)
		id := r.PathValue("id")
		if strings.HasPrefix(id, "broken") {
			tgtJSON(w, 500, map[string]string{"error": "internal"})
			return
		}
		f.mu.Lock()
		b, ok := f.bookings[id]
		f.mu.Unlock()
		if !ok {
			tgtJSON(w, 404, map[string]string{"error": "not_found"})
			return
		}
		tgtJSON(w, 200, b)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return f, ts
}

func tgtJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func tgtClient(t *testing.T, base string) *Client {
	t.Helper()
	tr := NewTransport()
	t.Cleanup(tr.CloseIdleConnections)
	c, err := NewClient(base, tr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestReadInventory(t *testing.T) {
	t.Parallel()
	_, ts := newTargetFake(t)
	inv, err := ReadInventory(context.Background(), tgtClient(t, ts.URL))
	if err != nil {
		t.Fatalf("ReadInventory: %v", err)
	}
	if len(inv.Inventory.PPVs) != 2 || len(inv.Inventory.Slots) != 4 || inv.Inventory.TotalCapacity() != 40 {
		t.Errorf("inventory = %+v; want 2 centres, 4 slots, 40 places", inv.Inventory)
	}
	if got := inv.RemainingPlaces(); got != 31 {
		t.Errorf("RemainingPlaces() = %d; want 31", got)
	}
	crowd := []scenarios.Arrival{{PPVs: []string{"a", "zz"}}, {PPVs: []string{"b", "c", "zz"}}}
	if got := inv.MissingPPVs(crowd); strings.Join(got, ",") != "c,zz" {
		t.Errorf("MissingPPVs = %v; want [c zz]", got)
	}
	if got := inv.MissingPPVs(crowd[:0]); got != nil {
		t.Errorf("MissingPPVs(no crowd) = %v; want none", got)
	}
}

// A target that is down fails at once (no retries on a refused
// connection); one that is not API v1 fails naming the call.
func TestReadInventoryErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = ReadInventory(context.Background(), tgtClient(t, down))
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), "list centres") {
		t.Errorf("ReadInventory(down) = %v; want a refused list of centres", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("ReadInventory(down) took %v; want no retries", d)
	}
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<html>hello</html>"))
	}))
	defer page.Close()
	if _, err := ReadInventory(context.Background(), tgtClient(t, page.URL)); err == nil || !strings.Contains(err.Error(), "body API v1 does not have") {
		t.Errorf("ReadInventory(web page) = %v; want a bad body", err)
	}
}

func TestReadAbout(t *testing.T) {
	t.Parallel()
	f, ts := newTargetFake(t)
	a, why := ReadAbout(context.Background(), NewTransport(), ts.URL, time.Second)
	if a != nil || why == nil || !strings.Contains(why.Error(), "404") {
		t.Errorf("ReadAbout(no about) = %+v, %v; want nil and a 404", a, why)
	}
	if got := StatedAssumptions(nil); got != (results.Assumptions{Source: results.SourceUnstated}) {
		t.Errorf("StatedAssumptions(nil) = %+v; want empty, not stated", got)
	}
	for _, body := range []string{"{}", "<html></html>", `{"partitions":"many"}`} {
		f.about = body
		if a, why := ReadAbout(context.Background(), NewTransport(), ts.URL, time.Second); a != nil || why == nil {
			t.Errorf("ReadAbout(%s) = %+v, %v; want nil and why", body, a, why)
		}
	}
	f.about = `{"scheme":"per-ppv","partitions":2,"waiting_room":true,"store":{"engine":"postgres","version":"16"},"future_field":1}`
	a, why = ReadAbout(context.Background(), NewTransport(), ts.URL, time.Second)
	if a == nil {
		t.Fatalf("ReadAbout = nil, %v; want a statement", why)
	}
	want := results.Assumptions{Scheme: models.PerPPV, Partitions: 2, WaitingRoom: true, Store: "postgres 16", Source: results.SourceStated}
	if got := StatedAssumptions(a); got != want {
		t.Errorf("StatedAssumptions = %+v; want %+v (no limits nor durability: not stated)", got, want)
	}
}

// The audit finds, misses and fails to read bookings, each counted once;
// found bookings beyond their slot's remaining places are oversold.
func TestAuditBookings(t *testing.T) {
	t.Parallel()
	f, ts := newTargetFake(t)
	c := tgtClient(t, ts.URL)
	inv, err := ReadInventory(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"b1", "b2", "b3", "gone", "broken1"}
	a := AuditBookings(context.Background(), c, ids, 1000, 3)
	if a.Answered201 != 5 || a.Found != 3 || a.Missing != 1 || a.Unread != 1 || !strings.Contains(a.FirstUnread, "broken1") || !strings.Contains(a.FirstUnread, "500") {
		t.Errorf("audit = %+v; want 5 = 3 found + 1 missing + 1 unread (broken1, 500)", a)
	}
	// A 500 is not worth retrying: one GET per booking.
	if got, want := f.gets.Load(), int64(5); got != want {
		t.Errorf("%d GETs; want %d", got, want)
	}
	if got := a.Oversold(inv); got != 1 {
		t.Errorf("Oversold = %d; want 1 (two bookings of a/2021-06-07, which had one place left)", got)
	}
	d := &results.DesignResult{LatencyMs: map[string]results.LatencySummary{}, Histograms: map[string]string{}}
	if err := FillTargetSlots(d, inv, ids, a, []int{7, 9}); err != nil {
		t.Fatal(err)
	}
	want := results.Slots{Capacity: 31, Booked: 5, Oversold: 1, Answered201: 5, Persisted: 3, Missing: 1, UnknownOutcome: 2,
		Inventory: results.InventoryAPI, Audit: results.AuditAPI}
	if d.Slots != want {
		t.Errorf("slots = %+v; want %+v", d.Slots, want)
	}
	if n := d.LatencyMs[results.OpGetBooking].Count; n != 5 {
		t.Errorf("get_booking latencies: %d; want one per answered read, 5", n)
	}
	if err := FillTargetSlots(d, inv, ids, nil, nil); err != nil || d.Slots.Persisted != -1 || d.Slots.Audit != results.AuditNone {
		t.Errorf("FillTargetSlots(no audit) = %v, %+v; want persisted -1, audit none", err, d.Slots)
	}
}

// The audit holds its rate: 20 reads at 50/s take about 0.4 s, never much
// less; and a cancelled audit counts what it did not read as unread.
func TestAuditBookingsRateAndCancel(t *testing.T) {
	t.Parallel()
	_, ts := newTargetFake(t)
	c := tgtClient(t, ts.URL)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = "b1"
	}
	start := time.Now()
	a := AuditBookings(context.Background(), c, ids, 50, 4)
	if d := time.Since(start); d < 300*time.Millisecond || a.Found != 20 {
		t.Errorf("20 reads at 50/s: %v, %d found; want >= 0.3 s and 20 found", d, a.Found)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a = AuditBookings(ctx, c, ids, 50, 4)
	if a.Answered201 != 20 || a.Unread != 20 {
		t.Errorf("cancelled audit = %+v; want 20 unread", a)
	}
}
