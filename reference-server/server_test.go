package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// TestServerNoOversell: many people rush one slot of capacity C: exactly C get
// it, whatever the design.
func TestServerNoOversell(t *testing.T) {
	t.Parallel()
	const capacity, crowd = 50, 300
	for _, name := range designs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inv := models.SmallInventory()
			inv.Slots[0].Capacity = capacity
			hot := inv.Slots[0]
			ts := startServer(t, name, models.Limits{}, inv, "")
			var got tally
			parallel(crowd, func(i int) {
				got.add(ts.book(t, fmt.Sprint("rush-", i), hot.PPV, hot.Date, ""))
			})
			if got.get("201") != capacity || got.get("409 sold_out") != crowd-capacity {
				t.Errorf("outcomes = %v; want %d × 201 and %d × 409 sold_out", &got, capacity, crowd-capacity)
			}
			q := "?from=" + hot.Date.String() + "&to=" + hot.Date.String()
			if s := ts.getSlots(t, hot.PPV, q); len(s) != 1 || s[0].Remaining != 0 || s[0].Capacity != capacity {
				t.Errorf("slots%s = %+v; want one with capacity %d, 0 remaining", q, s, capacity)
			}
			a := ts.audit(t)
			if a.Oversold != 0 || a.Booked != capacity || a.Bookings != capacity || !a.OK() {
				t.Errorf("audit = %+v; want %d booked, none oversold", a, capacity)
			}
		})
	}
}

// TestServerOneBookingPerPerson: a person trying every slot at once, across
// partitions, gets exactly one.
func TestServerOneBookingPerPerson(t *testing.T) {
	t.Parallel()
	const people = 15
	for _, name := range designs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			inv := models.SmallInventory()
			ts := startServer(t, name, models.Limits{}, inv, "")
			tallies := make([]tally, people)
			parallel(people*len(inv.Slots), func(i int) {
				person, s := i%people, inv.Slots[i/people]
				tallies[person].add(ts.book(t, fmt.Sprint("greedy-", person), s.PPV, s.Date, ""))
			})
			for p := range tallies {
				if tallies[p].get("201") != 1 || tallies[p].get("409 already_booked") != len(inv.Slots)-1 {
					t.Errorf("person %d: outcomes = %v; want one 201 and %d × 409 already_booked", p, &tallies[p], len(inv.Slots)-1)
				}
			}
			a := ts.audit(t)
			if a.Booked != people || a.DuplicatePersons != 0 || !a.OK() {
				t.Errorf("audit = %+v; want %d bookings, no duplicate person", a, people)
			}
		})
	}
}

// TestServerIdempotency: the same key replayed concurrently books once and
// answers the same body; the key is scoped per person; it survives a
// restart.
func TestServerIdempotency(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	s0, s1 := inv.Slots[0], inv.Slots[4]
	ts := startServer(t, "per-ppv-day", models.Limits{}, inv, "")
	const replays = 30
	bodies := make([]reply, replays)
	parallel(replays, func(i int) { bodies[i] = ts.book(t, "ali", s0.PPV, s0.Date, "key-1") })
	replayed := 0
	for i, r := range bodies {
		if r.status != http.StatusCreated {
			t.Fatalf("replay %d: %d %s; want 201", i, r.status, r.body)
		}
		if string(r.body) != string(bodies[0].body) {
			t.Errorf("replay %d body %s; want %s", i, r.body, bodies[0].body)
		}
		if r.header.Get("Idempotent-Replayed") == "true" {
			replayed++
		}
	}
	if replayed != replays-1 {
		t.Errorf("%d answers marked Idempotent-Replayed; want %d", replayed, replays-1)
	}
	first := bodies[0].booking(t)
	if a := ts.audit(t); a.Bookings != 1 || !a.HasBooking(first.ID) {
		t.Errorf("audit = %+v; want exactly booking %s", a, first.ID)
	}

	for _, tt := range []struct {
		name, person, key string
		slot              models.Slot
		status            int
		code              string
	}{
		{"same key, other body", "ali", "key-1", s1, 422, "idempotency_mismatch"},
		{"other key", "ali", "key-2", s0, 409, "already_booked"},
		{"no key", "ali", "", s0, 409, "already_booked"},
		{"same key, other person", "bob", "key-1", s0, 201, ""},
	} {
		r := ts.book(t, tt.person, tt.slot.PPV, tt.slot.Date, tt.key)
		if r.status != tt.status || r.code() != tt.code {
			t.Errorf("%s: %d %q; want %d %q", tt.name, r.status, r.code(), tt.status, tt.code)
		}
	}

	// After a restart the replay still answers the same body.
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	d, _ := models.ParseDesign("per-ppv-day", models.Limits{})
	s2, err := New(d, inv, ts.dir, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ts2 := &testServer{Server: s2, url: startHTTP(t, s2), c: http.DefaultClient}
	if r := ts2.book(t, "ali", s0.PPV, s0.Date, "key-1"); r.status != 201 || string(r.body) != string(bodies[0].body) {
		t.Errorf("replay after restart: %d %s; want 201 %s", r.status, r.body, bodies[0].body)
	}
	if r := ts2.book(t, "ali", s1.PPV, s1.Date, ""); r.status != 409 || r.code() != "already_booked" {
		t.Errorf("second booking after restart: %d %s; want 409 already_booked", r.status, r.body)
	}
}

// startHTTP serves s on an httptest server closed (with s) at cleanup.
func startHTTP(t *testing.T, s *Server) string {
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return hs.URL
}

// TestServerIsolation: with a small write rate per partition, a flood on one
// PPV-day throttles only the partitions it shares. The clock is frozen, so
// token counts, not timings, decide.
func TestServerIsolation(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	hot := inv.Slots[0]      // wtc-kl, day 1
	sameDay2 := inv.Slots[1] // wtc-kl, day 2
	otherPPV := inv.Slots[4] // idcc-shah-alam, day 2
	limits := models.Limits{WriteRate: 5, WriteBurst: 5}
	const flood, stream = 100, 5
	for _, tt := range []struct {
		design                 string
		sameDay2Ok, otherPPVOk int
	}{
		{"per-ppv-day", stream, stream},
		{"per-ppv", 0, stream},
		{"monolithic", 0, 0},
	} {
		t.Run(tt.design, func(t *testing.T) {
			t.Parallel()
			clock := &frozenClock{t: time.Date(2021, 5, 26, 10, 0, 0, 0, time.UTC)}
			ts := startServer(t, tt.design, limits, inv, "", WithNow(clock.now))
			var hotT tally
			parallel(flood, func(i int) { hotT.add(ts.book(t, fmt.Sprint("flood-", i), hot.PPV, hot.Date, "")) })
			if hotT.get("201") != limits.WriteBurst || hotT.get("429 throttled") != flood-limits.WriteBurst {
				t.Errorf("hot slot outcomes = %v; want %d × 201, the rest 429", &hotT, limits.WriteBurst)
			}
			for _, x := range []struct {
				slot models.Slot
				ok   int
			}{{sameDay2, tt.sameDay2Ok}, {otherPPV, tt.otherPPVOk}} {
				var got tally
				parallel(stream, func(i int) {
					got.add(ts.book(t, fmt.Sprintf("calm-%s-%d", x.slot.Key(), i), x.slot.PPV, x.slot.Date, ""))
				})
				if got.get("201") != x.ok || got.get("429 throttled") != stream-x.ok {
					t.Errorf("%s outcomes = %v; want %d × 201, %d × 429", x.slot.Key(), &got, x.ok, stream-x.ok)
				}
			}
		})
	}
}

// TestServerRetryAfter: every 429 and 503 says when to come back.
func TestServerRetryAfter(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	s0 := inv.Slots[0]
	clock := &frozenClock{t: time.Date(2021, 5, 26, 10, 0, 0, 0, time.UTC)}

	t.Run("throttled", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, "per-ppv-day", models.Limits{WriteRate: 4, WriteBurst: 1, ReadRate: 2, ReadBurst: 1}, inv, "", WithNow(clock.now))
		if r := ts.book(t, "a", s0.PPV, s0.Date, ""); r.status != 201 {
			t.Fatalf("first booking: %d %s", r.status, r.body)
		}
		r := ts.book(t, "b", s0.PPV, s0.Date, "")
		if r.status != 429 || r.code() != "throttled" || r.header.Get("Retry-After") != "1" || r.header.Get("Retry-After-Ms") != "250" {
			t.Errorf("second booking: %d %s Retry-After %q Retry-After-Ms %q; want 429 throttled, 1, 250",
				r.status, r.body, r.header.Get("Retry-After"), r.header.Get("Retry-After-Ms"))
		}
		q := "?from=" + s0.Date.String() + "&to=" + s0.Date.String()
		ts.getSlots(t, s0.PPV, q)
		r = ts.do(t, "GET", "/api/v1/ppvs/"+s0.PPV+"/slots"+q, nil, nil)
		if r.status != 429 || r.header.Get("Retry-After") != "1" || r.header.Get("Retry-After-Ms") != "500" {
			t.Errorf("second read: %d %s Retry-After %q; want 429 with 1 s", r.status, r.body, r.header.Get("Retry-After"))
		}
		// A listing of all days is all or nothing: day 1 is out of tokens,
		// so days 2 and 3 must not be charged.
		if r := ts.do(t, "GET", "/api/v1/ppvs/"+s0.PPV+"/slots", nil, nil); r.status != 429 {
			t.Errorf("listing all days: %d; want 429", r.status)
		}
		q2 := "?from=" + inv.Slots[1].Date.String()
		if s := ts.getSlots(t, s0.PPV, q2); len(s) != 2 {
			t.Errorf("slots%s = %+v; want 2 days", q2, s)
		}
		st := ts.Stats().Partitions[ts.slots[s0.Key()].part.idx]
		if st.Throttled != 1 || st.ThrottledReads != 2 {
			t.Errorf("stats of %s = %+v; want 1 throttled write, 2 throttled reads", st.Key, st)
		}
	})

	t.Run("overloaded", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, "per-ppv-day", models.Limits{MaxInFlight: 1, MaxQueue: 1, MaxWait: 20 * time.Millisecond}, inv, "")
		p := ts.slots[s0.Key()].part
		if p.gate.enter(context.Background()) != admitted { // hold the only turn
			t.Fatal("cannot take the partition's turn")
		}
		r := ts.book(t, "c", s0.PPV, s0.Date, "")
		p.gate.leave()
		if r.status != 503 || r.code() != "overloaded" || r.header.Get("Retry-After") != "1" {
			t.Errorf("booking into a busy partition: %d %s Retry-After %q; want 503 overloaded, 1", r.status, r.body, r.header.Get("Retry-After"))
		}
		if r := ts.book(t, "c", s0.PPV, s0.Date, ""); r.status != 201 {
			t.Errorf("booking after the partition freed: %d %s; want 201", r.status, r.body)
		}
		if st := ts.Stats().Partitions[p.idx]; st.Shed != 1 || st.Committed != 1 {
			t.Errorf("stats = %+v; want 1 shed, 1 committed", st)
		}
	})

	t.Run("not open", func(t *testing.T) {
		t.Parallel()
		ts := startServer(t, "per-ppv", models.Limits{}, inv, "", WithNow(clock.now), WithOpensAt(clock.t.Add(90*time.Second)))
		r := ts.book(t, "d", s0.PPV, s0.Date, "")
		if r.status != 503 || r.code() != "not_open" || r.header.Get("Retry-After") != "90" {
			t.Errorf("booking before opening: %d %s Retry-After %q; want 503 not_open, 90", r.status, r.body, r.header.Get("Retry-After"))
		}
		if len(ts.getSlots(t, s0.PPV, "")) != 3 {
			t.Error("reads must work before opening")
		}
	})
}

// TestServerReopen: a restart keeps bookings and remaining places; another design
// or a second server on the same directory is refused.
func TestServerReopen(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	s0 := inv.Slots[0]
	dir := t.TempDir()
	d, _ := models.ParseDesign("per-ppv", models.Limits{})
	s, err := New(d, inv, dir, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(d, inv, dir, WithLogger(testLogger(t))); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second server on the same directory: err = %v; want ErrLocked", err)
	}
	ts := &testServer{Server: s, url: startHTTP(t, s), c: http.DefaultClient}
	b := ts.book(t, "ali", s0.PPV, s0.Date, "").booking(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if r := ts.book(t, "bob", s0.PPV, s0.Date, ""); r.status != 503 || r.code() != "unavailable" {
		t.Errorf("booking after Close: %d %s; want 503 unavailable", r.status, r.body)
	}

	mono, _ := models.ParseDesign("monolithic", models.Limits{})
	if _, err := New(mono, inv, dir, WithLogger(testLogger(t))); !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "per-ppv") {
		t.Errorf("reopen with another design: err = %v; want ErrMismatch naming per-ppv", err)
	}
	s, err = New(d, inv, dir, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ts = &testServer{Server: s, url: startHTTP(t, s), c: http.DefaultClient}
	r := ts.do(t, "GET", "/api/v1/bookings/"+b.ID, nil, nil)
	if r.status != 200 || r.booking(t) != b {
		t.Errorf("GET booking after restart: %d %s; want %+v", r.status, r.body, b)
	}
	if sl := ts.getSlots(t, s0.PPV, "?from="+s0.Date.String()+"&to="+s0.Date.String()); sl[0].Remaining != s0.Capacity-1 {
		t.Errorf("remaining after restart = %d; want %d (not reseeded)", sl[0].Remaining, s0.Capacity-1)
	}
}

// TestServerReadAPI: PPVs, slots, bookings, health and metrics.
func TestServerReadAPI(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	ts := startServer(t, "per-ppv-day", models.Limits{}, inv, "")
	s0 := inv.Slots[0]
	b := ts.book(t, "ali", s0.PPV, s0.Date, "").booking(t)
	if b.PersonID != "ali" || b.PPV != s0.PPV || b.Date != s0.Date || b.CreatedAt.IsZero() || b.ID == "" {
		t.Errorf("booking = %+v", b)
	}
	for _, tt := range []struct {
		path   string
		status int
		want   string
	}{
		{"/healthz", 200, `{"status":"ok"}`},
		{"/api/v1/ppvs", 200, `"id":"wtc-kl"`},
		{"/api/v1/ppvs?state=selangor", 200, `[{"id":"idcc-shah-alam","name":"IDCC Shah Alam","state":"selangor"}]`},
		{"/api/v1/ppvs?state=atlantis", 200, `[]`},
		{"/api/v1/ppvs/wtc-kl/slots", 200, `[{"date":"2021-06-07","capacity":100,"remaining":99},{"date":"2021-06-08","capacity":100,"remaining":100},{"date":"2021-06-09","capacity":100,"remaining":100}]`},
		{"/api/v1/ppvs/wtc-kl/slots?from=2021-06-08", 200, `[{"date":"2021-06-08","capacity":100,"remaining":100},{"date":"2021-06-09","capacity":100,"remaining":100}]`},
		{"/api/v1/ppvs/wtc-kl/slots?from=2021-07-01", 200, `[]`},
		{"/api/v1/bookings/" + b.ID, 200, `"person_id":"ali"`},
		{"/metrics", 200, `slotrush_partition_committed_total{partition="ppv-wtc-kl-2021-06-07"} 1`},
	} {
		r := ts.do(t, "GET", tt.path, nil, nil)
		if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
			t.Errorf("GET %s = %d %s; want %d containing %s", tt.path, r.status, r.body, tt.status, tt.want)
		}
	}
	st := ts.Stats()
	if n := st.Operations[OpBook].TotalCount(); n != 1 {
		t.Errorf("Stats book count = %d; want 1", n)
	}
	if n := st.Operations[OpListSlots].TotalCount(); n != 3 {
		t.Errorf("Stats list_slots count = %d; want 3", n)
	}
	if p := st.Partitions[ts.slots[s0.Key()].part.idx]; p.Committed != 1 || p.Batches != 1 || p.MeanBatchSize != 1 || p.Busy <= 0 {
		t.Errorf("Stats partition = %+v; want 1 committed in 1 batch", p)
	}
}

// TestServerCloseUnderLoad: closing while bookings and reads are in flight
// answers 503 unavailable, never 500, and loses no 201.
func TestServerCloseUnderLoad(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	dir := t.TempDir()
	ts := startServer(t, "per-ppv-day", models.Limits{}, inv, dir)
	var got tally
	var mu sync.Mutex // guards ids
	var ids []string
	closed := make(chan struct{})
	parallel(24, func(w int) {
		for n := 0; ; n++ {
			s := inv.Slots[(w+n)%len(inv.Slots)]
			r := ts.book(t, fmt.Sprintf("close-%d-%d", w, n), s.PPV, s.Date, "")
			got.add(r)
			if r.status == http.StatusCreated {
				mu.Lock()
				ids = append(ids, r.booking(t).ID)
				mu.Unlock()
			}
			got.add(ts.do(t, "GET", "/api/v1/ppvs/"+s.PPV+"/slots", nil, nil))
			if w == 0 && n == 20 {
				if err := ts.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				close(closed)
			}
			select {
			case <-closed:
				if r.status == http.StatusServiceUnavailable {
					return
				}
			default:
			}
		}
	})
	for k := range got.n {
		if !strings.HasPrefix(k, "200") && !strings.HasPrefix(k, "201") && k != "503 unavailable" {
			t.Errorf("answer %q during close; want only 200, 201 and 503 unavailable (all: %v)", k, &got)
		}
	}
	d, _ := models.ParseDesign("per-ppv-day", models.Limits{})
	s, err := New(d, inv, dir, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	a, err := s.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if !a.HasBooking(id) {
			t.Errorf("booking %s answered 201 is missing after close", id)
		}
	}
	if !a.OK() || a.Bookings != int64(len(ids)) {
		t.Errorf("audit = %+v; want sound with the %d bookings answered 201", a, len(ids))
	}
}
