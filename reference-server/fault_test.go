package refserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reference-server/storeurl/storeurltest"
)

func parseFaults(t testing.TB, specs ...string) []fault.Spec {
	t.Helper()
	out := make([]fault.Spec, len(specs))
	for i, s := range specs {
		sp, err := fault.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = sp
	}
	return out
}

// june returns the day of June 2021.
func june(day int) models.Date { return models.Date{Year: 2021, Month: time.June, Day: day} }

// TestFaultDown takes one centre-day of per-ppv-day down: its bookings,
// reads and booking reads answer 503 partition_unavailable, the centre's
// other days still book and list (the listing marked partial), and once the
// window ends the centre-day books again.
func TestFaultDown(t *testing.T) {
	t.Parallel()
	clk := &frozenClock{t: time.Date(2021, 5, 26, 12, 0, 0, 0, time.UTC)}
	opens := clk.now()
	ts := startServer(t, "per-ppv-day", models.Limits{}, models.SmallInventory(), "",
		WithNow(clk.now), WithOpensAt(opens), WithFaults(parseFaults(t, "partition=ppv-wtc-kl-2021-06-07,down,start=10s,for=20s")))

	before := ts.book(t, "p-before", "wtc-kl", june(7), "")
	if before.status != http.StatusCreated {
		t.Fatalf("booking before the window = %d %s", before.status, before.body)
	}
	clk.set(opens.Add(10 * time.Second))
	r := ts.book(t, "p-in", "wtc-kl", june(7), "")
	if r.status != http.StatusServiceUnavailable || r.code() != string(CodePartitionUnavailable) || r.header.Get("Retry-After") != "1" {
		t.Errorf("booking the down centre-day = %d %s (Retry-After %q); want 503 partition_unavailable, Retry-After 1", r.status, r.body, r.header.Get("Retry-After"))
	}
	if r := ts.book(t, "p-other", "wtc-kl", june(8), ""); r.status != http.StatusCreated {
		t.Errorf("booking the next day of the same centre = %d %s; want 201 (isolation)", r.status, r.body)
	}
	if r := ts.do(t, http.MethodGet, "/api/v1/bookings/"+before.booking(t).ID, nil, nil); r.status != http.StatusServiceUnavailable || r.code() != string(CodePartitionUnavailable) {
		t.Errorf("reading a booking of the down centre-day = %d %s; want 503 partition_unavailable", r.status, r.body)
	}
	r = ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots", nil, nil)
	var slots []api.Slot
	if err := json.Unmarshal(r.body, &slots); err != nil || r.status != http.StatusOK || len(slots) != 2 || slots[0].Date != june(8) ||
		r.header.Get(PartialHeader) != PartialUnavailable {
		t.Errorf("listing the centre = %d %s, %s: %q; want 200 with 8 and 9 June, %s: %s", r.status, r.body, PartialHeader, r.header.Get(PartialHeader), PartialHeader, PartialUnavailable)
	}
	if r := ts.do(t, http.MethodGet, "/api/v1/ppvs/um/slots", nil, nil); r.status != http.StatusOK || r.header.Get(PartialHeader) != "" {
		t.Errorf("listing another centre = %d, %s: %q; want 200, whole", r.status, PartialHeader, r.header.Get(PartialHeader))
	}
	r = ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots?from=2021-06-07&to=2021-06-07", nil, nil)
	if r.status != http.StatusServiceUnavailable || r.code() != string(CodePartitionUnavailable) {
		t.Errorf("listing only the down day = %d %s; want 503 partition_unavailable", r.status, r.body)
	}
	m := ts.do(t, http.MethodGet, "/metrics", nil, nil)
	if want := `slotrush_partition_faulted_operations_total{mode="down",partition="ppv-wtc-kl-2021-06-07"} 4`; !bytes.Contains(m.body, []byte(want)) {
		t.Errorf("/metrics lacks %s", want)
	}
	for _, p := range ts.Stats().Partitions {
		if want := int64(map[bool]int{true: 4}[p.Key == "ppv-wtc-kl-2021-06-07"]); p.Faulted.Down != want {
			t.Errorf("Stats: partition %s faulted %d down; want %d", p.Key, p.Faulted.Down, want)
		}
	}
	clk.set(opens.Add(30 * time.Second))
	if r := ts.book(t, "p-in", "wtc-kl", june(7), ""); r.status != http.StatusCreated {
		t.Errorf("booking after the window = %d %s; want 201", r.status, r.body)
	}
	if a := ts.audit(t); !a.OK() || a.Bookings != 3 {
		t.Errorf("audit: %+v; want 3 bookings, clean", a)
	}
}

// TestFaultDownBeforeLimits: a down partition refuses bookings and
// listings with 503 partition_unavailable even when its budget is spent
// (storage that is down has no throughput to ration); after the window the
// budget rations again.
func TestFaultDownBeforeLimits(t *testing.T) {
	t.Parallel()
	clk := &frozenClock{t: time.Date(2021, 5, 26, 12, 0, 0, 0, time.UTC)}
	opens := clk.now()
	lim := models.Limits{WriteRate: 1, WriteBurst: 1, ReadRate: 1, ReadBurst: 1}
	ts := startServer(t, "monolithic", lim, models.SmallInventory(), "",
		WithNow(clk.now), WithOpensAt(opens), WithFaults(parseFaults(t, "partition=all,down,start=10s,for=20s")))
	if r := ts.book(t, "p-0", "wtc-kl", june(7), ""); r.status != http.StatusCreated {
		t.Fatalf("booking before the window = %d %s", r.status, r.body)
	}
	if r := ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots", nil, nil); r.status != http.StatusOK {
		t.Fatalf("listing before the window = %d %s", r.status, r.body)
	}
	clk.set(opens.Add(10 * time.Second)) // the frozen clock refills no token
	for i := range 2 {
		if r := ts.book(t, fmt.Sprint("p-in-", i), "wtc-kl", june(7), ""); r.status != http.StatusServiceUnavailable || r.code() != string(CodePartitionUnavailable) {
			t.Errorf("booking in the window = %d %s; want 503 partition_unavailable", r.status, r.body)
		}
		if r := ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots", nil, nil); r.status != http.StatusServiceUnavailable || r.code() != string(CodePartitionUnavailable) {
			t.Errorf("listing in the window = %d %s; want 503 partition_unavailable", r.status, r.body)
		}
	}
	if got := ts.Stats().Partitions[0].Faulted.Down; got != 4 {
		t.Errorf("faulted down %d; want 4", got)
	}
	clk.set(opens.Add(30 * time.Second)) // 20 s refill a burst of 1
	if r := ts.book(t, "p-after", "wtc-kl", june(7), ""); r.status != http.StatusCreated {
		t.Errorf("booking after the window = %d %s; want 201", r.status, r.body)
	}
	if r := ts.book(t, "p-after-2", "wtc-kl", june(7), ""); r.status != http.StatusTooManyRequests {
		t.Errorf("booking after the window with the budget spent = %d %s; want 429", r.status, r.body)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's logger.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestFaultErrors fails every operation of the monolithic partition: 500
// internal, logged as a warning rather than an error.
func TestFaultErrors(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	d, err := models.ParseDesign("monolithic", models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s, err := New(d, models.SmallInventory(), dir, WithFaults(parseFaults(t, "partition=all,errors=100%,for=1h")),
		WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	ts := serve(t, s, dir)
	if r := ts.book(t, "p1", "wtc-kl", june(7), ""); r.status != http.StatusInternalServerError || r.code() != string(CodeInternal) {
		t.Errorf("booking = %d %s; want 500 internal", r.status, r.body)
	}
	if r := ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots", nil, nil); r.status != http.StatusInternalServerError {
		t.Errorf("listing = %d %s; want 500 internal", r.status, r.body)
	}
	if out := logs.String(); !strings.Contains(out, "level=WARN msg=\"injected fault\"") || strings.Contains(out, "level=ERROR") {
		t.Errorf("logs:\n%s\nwant the injected faults as warnings, no error", out)
	}
	if a := ts.audit(t); !a.OK() || a.Bookings != 0 {
		t.Errorf("audit: %+v; want nothing booked", a)
	}
}

// TestFaultBadSpecs: New refuses an unresolved hottest and a partition
// the design does not have.
func TestFaultBadSpecs(t *testing.T) {
	t.Parallel()
	d, err := models.ParseDesign("per-ppv", models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ spec, want string }{
		{"partition=hottest,down,for=1s", `reference server: fault "partition=hottest,down,for=1s": design per-ppv has no partition "hottest" (its 3 partitions include ppv-idcc-shah-alam, ppv-um, ppv-wtc-kl)`},
		{"partition=all,down,for=1s", `reference server: fault "partition=all,down,for=1s": design per-ppv has no partition "all" (its 3 partitions include ppv-idcc-shah-alam, ppv-um, ppv-wtc-kl)`},
	} {
		_, err := New(d, models.SmallInventory(), t.TempDir(), WithFaults(parseFaults(t, tt.spec)), WithLogger(testLogger(t)))
		if err == nil || err.Error() != tt.want {
			t.Errorf("New with %s = %v;\nwant %s", tt.spec, err, tt.want)
		}
	}
}

// TestFaultInvariants books a crowd concurrently on the hottest slot while
// a fault of each mode hits its partition, on every engine and design:
// nothing is oversold, every 201 is stored, and the audit is clean.
func TestFaultInvariants(t *testing.T) {
	t.Parallel()
	for _, engine := range storeurltest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			spec, err := storeurl.Parse(storeurltest.URL(t, engine))
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range designs {
				for _, mode := range []string{"down", "slow=20ms", "errors=50%"} {
					t.Run(name+"/"+mode, func(t *testing.T) {
						checkFaultInvariants(t, spec, name, mode)
					})
				}
			}
		})
	}
}

// checkFaultInvariants runs 60 people at a slot of 30 places of design
// name on spec's engine, with a fault of mode on the slot's partition from
// 50 ms to 250 ms after opening and errors on a quarter of its operations
// throughout, each person retrying 5xx answers with the same
// Idempotency-Key.
func checkFaultInvariants(t *testing.T, spec *storeurl.Spec, name, mode string) {
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv := models.UniformInventory(3, 2, 30)
	hot := inv.Slots[0]
	key := string(d.Key(hot.Key()))
	if err := spec.Reset(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})) // not the injected faults' warnings
	ts := startDesign(t, d, inv, "", WithStoreOpener(spec.Opener()), WithOpensAt(time.Now()), WithLogger(quiet),
		WithFaults(parseFaults(t, "partition="+key+","+mode+",start=50ms,for=200ms", "partition="+key+",errors=25%,for=1h")))
	var mu sync.Mutex // guards ok, outcomes
	var ok []string
	outcomes := map[int]int{}
	parallel(60, func(i int) {
		person := fmt.Sprintf("p%02d", i)
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			r := ts.book(t, person, hot.PPV, hot.Date, "k-"+person)
			mu.Lock()
			outcomes[r.status]++
			if r.status == http.StatusCreated {
				ok = append(ok, r.booking(t).ID)
			}
			mu.Unlock()
			if r.status < 500 {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Errorf("%s: no final answer in 20 s", person)
	})
	a := ts.audit(t)
	rec := a.Reconcile(ok)
	if !a.OK() || rec.Missing != 0 || a.Booked != int64(hot.Capacity) || rec.Answered201 < int64(hot.Capacity) {
		t.Errorf("answers %v; audit %+v, reconciliation %+v: want %d booked, none oversold or missing", outcomes, a, rec, hot.Capacity)
	}
	if outcomes[http.StatusCreated] < hot.Capacity || outcomes[http.StatusInternalServerError] == 0 {
		t.Errorf("answers %v: want at least %d 201s and some injected 500s", outcomes, hot.Capacity)
	}
}
