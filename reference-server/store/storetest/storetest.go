// Package storetest is the conformance suite of the store seam: every
// implementation of store.Store (SQLite today, PostgreSQL or DynamoDB-API
// tomorrow) runs Run from its own tests against real storage.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Run checks open against the store contract. Each subtest opens stores in
// its own t.TempDir(). It is safe to call from parallel tests.
func Run(t *testing.T, open store.Opener) {
	t.Run("BookUntilSoldOut", func(t *testing.T) { t.Parallel(); testBookUntilSoldOut(t, open) })
	t.Run("Duplicates", func(t *testing.T) { t.Parallel(); testDuplicates(t, open) })
	t.Run("ReopenAndMismatch", func(t *testing.T) { t.Parallel(); testReopen(t, open) })
	t.Run("OnePersonAcrossPartitions", func(t *testing.T) { t.Parallel(); testOnePerson(t, open) })
}

func design(t *testing.T, name string) models.Design {
	t.Helper()
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func record(id, person string, s models.Slot) store.Record {
	return store.Record{Booking: models.Booking{ID: id, PersonID: person, PPV: s.PPV, Date: s.Date,
		CreatedAt: time.Date(2021, 5, 26, 10, 0, 0, 123456000, time.UTC)}, IdempotencyKey: "k-" + id}
}

// partitionOf returns the store partition holding slot s under d.
func partitionOf(t *testing.T, st store.Store, d models.Design, inv *models.Inventory, s models.Slot) store.Partition {
	t.Helper()
	defs := d.Partitions(inv)
	if len(defs) != len(st.Partitions()) {
		t.Fatalf("store has %d partitions; design %s has %d", len(st.Partitions()), d.Name, len(defs))
	}
	for i, p := range defs {
		if got := st.Partitions()[i].Key(); got != p.Key {
			t.Fatalf("partition %d is %q; want %q", i, got, p.Key)
		}
		if p.Key == d.Key(s.Key()) {
			return st.Partitions()[i]
		}
	}
	t.Fatalf("no partition holds %s", s.Key())
	return nil
}

func testBookUntilSoldOut(t *testing.T, open store.Opener) {
	const capacity, crowd = 20, 100
	inv := models.SmallInventory()
	inv.Slots[0].Capacity = capacity
	slot := inv.Slots[0]
	for _, scheme := range models.Schemes {
		t.Run(string(scheme), func(t *testing.T) {
			t.Parallel()
			d := design(t, string(scheme))
			st, err := open(context.Background(), t.TempDir(), d, inv)
			if err != nil {
				t.Fatal(err)
			}
			defer closeStore(t, st)
			part := partitionOf(t, st, d, &inv, slot)
			counts, lows := bookCrowd(part, slot, crowd)
			if counts["ok"] != capacity || counts["sold_out"] != crowd-capacity || len(counts) != 2 {
				t.Errorf("outcomes = %v; want %d ok, %d sold_out", counts, capacity, crowd-capacity)
			}
			for left := range capacity { // each success saw a distinct remaining count
				if !lows[left] {
					t.Errorf("no booking left %d places; remaining counts seen %v", left, lows)
				}
			}
			audit, err := part.Audit(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range audit {
				if a.Slot == slot.Key() && (a.Booked != capacity || a.Remaining != 0 || a.Capacity != capacity) {
					t.Errorf("audit %s = %+v; want %d booked, 0 remaining", slot.Key(), a, capacity)
				}
				if a.Capacity-a.Remaining != a.Booked {
					t.Errorf("audit %+v: counter disagrees with rows", a)
				}
			}
			n := 0
			if err := part.Scan(context.Background(), func(store.Record) error { n++; return nil }); err != nil || n != capacity {
				t.Errorf("Scan found %d bookings (%v); want %d", n, err, capacity)
			}
			if st := part.Stats(); st.Committed != capacity || st.Rejected != crowd-capacity || st.Batches < 1 {
				t.Errorf("Stats = %+v; want %d committed, %d rejected", st, capacity, crowd-capacity)
			} else if ct, ok := part.(store.CommitTimer); ok {
				h := hdrhistogram.New(1, time.Hour.Microseconds(), 3)
				ct.MergeCommitTimes(h)
				if h.TotalCount() != st.Batches {
					t.Errorf("MergeCommitTimes: %d recorded for %d batches; want one per batch", h.TotalCount(), st.Batches)
				}
			}
		})
	}
}

// bookCrowd books slot for crowd distinct people at once. It returns how
// many bookings ended in each outcome ("ok", "sold_out" or the error's
// text) and the remaining counts the successful ones saw.
func bookCrowd(part store.Partition, slot models.Slot, crowd int) (counts map[string]int, lows map[int]bool) {
	var mu sync.Mutex // guards counts and lows
	counts = map[string]int{}
	lows = map[int]bool{}
	var wg sync.WaitGroup
	for i := range crowd {
		wg.Add(1)
		go func() {
			defer wg.Done()
			left, err := part.Book(context.Background(), record(fmt.Sprint("b", i), fmt.Sprint("p", i), slot))
			k := "ok"
			switch {
			case errors.Is(err, store.ErrSoldOut):
				k = "sold_out"
			case err != nil:
				k = err.Error()
			}
			mu.Lock()
			counts[k]++
			if err == nil {
				lows[left] = true
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return counts, lows
}

// closeStore closes st and fails the test if Close fails.
func closeStore(t *testing.T, st store.Store) {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func testDuplicates(t *testing.T, open store.Opener) {
	inv := models.SmallInventory()
	d := design(t, "monolithic")
	st, err := open(context.Background(), t.TempDir(), d, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(t, st)
	p := st.Partitions()[0]
	ctx := context.Background()
	first := record("a", "ali", inv.Slots[0])
	if _, err := p.Book(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Book(ctx, record("b", "ali", inv.Slots[1])); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("second booking of the same person: err = %v; want ErrDuplicate", err)
	}
	if _, err := p.Book(ctx, record("a", "bob", inv.Slots[1])); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("booking with a used id: err = %v; want ErrDuplicate", err)
	}
	states, err := p.Slots(ctx, inv.Slots[1].PPV, inv.Slots[1].Date, inv.Slots[1].Date)
	if err != nil || len(states) != 1 || states[0].Remaining != states[0].Capacity {
		t.Errorf("slot after refused bookings = %+v (%v); want all places left", states, err)
	}
	if _, err := p.Book(ctx, record("c", "bob", models.Slot{PPV: "nowhere", Date: inv.Slots[0].Date})); !errors.Is(err, store.ErrNoSlot) {
		t.Errorf("unknown slot: err = %v; want ErrNoSlot", err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.Book(canceled, record("d", "cat", inv.Slots[0])); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: err = %v; want context.Canceled", err)
	}
	got, err := p.Booking(ctx, "a")
	if err != nil || got != first {
		t.Errorf("Booking(a) = %+v, %v; want %+v", got, err, first)
	}
	if _, err := p.Booking(ctx, "zz"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Booking(zz) err = %v; want ErrNotFound", err)
	}
}

func testReopen(t *testing.T, open store.Opener) {
	inv := models.SmallInventory()
	dir := t.TempDir()
	d := design(t, "per-ppv")
	ctx := context.Background()
	st, err := open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	checkSecondOpen(t, st, open, dir, d, inv)
	s := inv.Slots[3]
	p := partitionOf(t, st, d, &inv, s)
	if _, err := p.Book(ctx, record("x", "ali", s)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := p.Book(ctx, record("y", "bob", s)); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Book after Close: err = %v; want ErrClosed", err)
	}

	st, err = open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	states, _ := partitionOf(t, st, d, &inv, s).Slots(ctx, s.PPV, s.Date, s.Date)
	if len(states) != 1 || states[0].Remaining != s.Capacity-1 {
		t.Errorf("after reopen slots = %+v; want one with %d remaining (not reseeded)", states, s.Capacity-1)
	}
	closeStore(t, st)

	if _, err := open(ctx, dir, design(t, "monolithic"), inv); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Open with another design: err = %v; want ErrMismatch", err)
	}
	inv2 := models.SmallInventory()
	inv2.Slots[3].Capacity++
	if _, err := open(ctx, dir, d, inv2); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Open with another inventory: err = %v; want ErrMismatch", err)
	}
	d2, _ := models.ParseDesign("per-ppv+waiting-room", models.Limits{WriteRate: 5})
	st, err = open(ctx, dir, d2, inv)
	if err != nil {
		t.Fatalf("Open with other limits and a waiting room: %v", err)
	}
	closeStore(t, st)
}

// RunRoom checks the waiting-room side of a store (store.RoomStore): key,
// atomic commits, reopening. It skips stores that cannot keep a room. It is
// safe to call from parallel tests.
func RunRoom(t *testing.T, open store.Opener) {
	inv := models.SmallInventory()
	dir := t.TempDir()
	d := design(t, "per-ppv")
	ctx := context.Background()
	st, err := open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	room := roomOf(t, st)
	key := append([]byte(nil), room.Key()...)
	if got, err := room.Load(ctx); err != nil || got.Opening != nil || len(got.Tickets) != 0 || len(got.Admissions) != 0 {
		t.Errorf("Load of a new room = %+v, %v; want empty", got, err)
	}
	steps, want := roomSteps()
	for i, c := range steps {
		if err := room.Commit(ctx, c); err != nil {
			t.Fatalf("Commit %d: %v", i, err)
		}
	}
	checkRoom(t, "after commits", room, want)
	// A commit that fails (a second ticket for ali) writes nothing.
	bad := store.RoomChange{Tickets: []store.Ticket{roomTicket("td", "dee", 3, 3), roomTicket("te", "ali", 4, 4)}}
	if err := room.Commit(ctx, bad); err == nil {
		t.Error("Commit of a second ticket for a person succeeded; want an error")
	}
	checkRoom(t, "after a failed commit", room, want)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := room.Commit(ctx, steps[0]); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Close: err = %v; want ErrClosed", err)
	}

	st, err = open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(t, st)
	room = roomOf(t, st)
	if string(room.Key()) != string(key) {
		t.Error("the room's key changed across a reopen; tokens issued before would not verify")
	}
	checkRoom(t, "after reopen", room, want)
}

// roomOf returns the waiting room of st, checking that a second call
// returns the same room and that its key has at least 32 bytes. It closes
// st and skips the test when st cannot keep a room.
func roomOf(t *testing.T, st store.Store) store.Room {
	t.Helper()
	rs, ok := st.(store.RoomStore)
	if !ok {
		closeStore(t, st)
		t.Skip("the store cannot keep a waiting room")
	}
	ctx := context.Background()
	room, err := rs.Room(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := rs.Room(ctx); err != nil || again != room {
		t.Errorf("second Room() = %v, %v; want the same room", again, err)
	}
	if n := len(room.Key()); n < 32 {
		t.Errorf("Key() has %d bytes; want at least 32", n)
	}
	return room
}

// roomAt is the instant RunRoom's tickets and rounds are dated from; its
// nanoseconds check that a store keeps them.
var roomAt = time.Date(2021, 5, 26, 12, 0, 0, 123456789, time.UTC)

// roomTicket returns a ticket of person that joined seq milliseconds after
// roomAt with place rank (-1 before opening).
func roomTicket(id, person string, seq, rank int64) store.Ticket {
	return store.Ticket{ID: id, PersonID: person, Seq: seq, Rank: rank, JoinedAt: roomAt.Add(time.Duration(seq) * time.Millisecond)}
}

// roomSteps returns RunRoom's commits, in order: two people join before
// opening; the opening ranks them, a third joins and is re-ranked within
// the same change (the last row wins), and a first round is admitted; an
// empty change. It also returns the state they leave.
func roomSteps() ([]store.RoomChange, store.RoomState) {
	tk := roomTicket
	steps := []store.RoomChange{
		{Tickets: []store.Ticket{tk("ta", "ali", 0, -1), tk("tb", "bob", 1, -1)}},
		{
			Opening:    &store.Opening{At: roomAt.Add(time.Second), Order: "random", Seed: 1<<63 + 5, Crowd: 2},
			Tickets:    []store.Ticket{tk("tb", "bob", 1, 0), tk("ta", "ali", 0, 1), tk("tc", "cy", 2, 5), tk("tc", "cy", 2, 2)},
			Admissions: []store.Admission{{From: 0, To: 2, At: roomAt.Add(time.Second), Expires: roomAt.Add(time.Minute)}},
		},
		{},
	}
	want := store.RoomState{
		Opening:    steps[1].Opening,
		Tickets:    []store.Ticket{tk("ta", "ali", 0, 1), tk("tb", "bob", 1, 0), tk("tc", "cy", 2, 2)},
		Admissions: steps[1].Admissions,
	}
	return steps, want
}

// checkRoom fails the test unless room loads want; when says at which step.
func checkRoom(t *testing.T, when string, room store.Room, want store.RoomState) {
	t.Helper()
	got, err := room.Load(context.Background())
	if err != nil {
		t.Fatalf("%s: Load: %v", when, err)
	}
	if !equalOpening(got.Opening, want.Opening) || !equalTickets(got.Tickets, want.Tickets) || !equalAdmissions(got.Admissions, want.Admissions) {
		t.Errorf("%s: Load = %+v (opening %+v); want %+v (opening %+v)", when, got, got.Opening, want, want.Opening)
	}
}

// equalOpening compares openings by instant, not by time.Time's ==: a
// store may return the same instant in another Location.
func equalOpening(a, b *store.Opening) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.At.Equal(b.At) && a.Order == b.Order && a.Seed == b.Seed && a.Crowd == b.Crowd
}

func equalTickets(a, b []store.Ticket) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ID != y.ID || x.PersonID != y.PersonID || x.Seq != y.Seq || x.Rank != y.Rank || !x.JoinedAt.Equal(y.JoinedAt) {
			return false
		}
	}
	return true
}

func equalAdmissions(a, b []store.Admission) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.From != y.From || x.To != y.To || !x.At.Equal(y.At) || !x.Expires.Equal(y.Expires) {
			return false
		}
	}
	return true
}

// checkSecondOpen opens dir again while st has it open: a SharedStore
// opens (another API server over the same store), any other store answers
// ErrLocked.
func checkSecondOpen(t *testing.T, st store.Store, open store.Opener, dir string, d models.Design, inv models.Inventory) {
	t.Helper()
	again, err := open(context.Background(), dir, d, inv)
	if _, shared := st.(store.SharedStore); !shared {
		if !errors.Is(err, store.ErrLocked) {
			t.Errorf("second Open while open: err = %v; want ErrLocked", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("second Open of a shared store while open: %v", err)
	}
	closeStore(t, again)
}

// testOnePerson checks that a store keeps one booking per person across
// its partitions: for a store.SharedStore, also across two opens of the
// same store (two API servers), and under concurrency. Stores that are not
// shared leave the rule to the reference server; the test skips them.
func testOnePerson(t *testing.T, open store.Opener) {
	inv := models.SmallInventory()
	dir := t.TempDir()
	d := design(t, "per-ppv-day")
	ctx := context.Background()
	a, err := open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(t, a)
	if _, ok := a.(store.SharedStore); !ok {
		t.Skip("the store is not shared: the reference server keeps one booking per person")
	}
	b, err := open(ctx, dir, d, inv)
	if err != nil {
		t.Fatal(err)
	}
	defer closeStore(t, b)
	const people = 20
	// Every person tries a slot in each of several partitions, half through
	// each open store, all at once.
	var mu sync.Mutex // guards won and bad
	won := map[string]store.Record{}
	var bad []error
	var wg sync.WaitGroup
	slots := distinctPartitionSlots(d, inv, 4)
	parts := [2][]store.Partition{}
	for k, st := range []store.Store{a, b} {
		for _, s := range slots {
			parts[k] = append(parts[k], partitionOf(t, st, d, &inv, s))
		}
	}
	for i := range people {
		for j, s := range slots {
			part := parts[(i+j)%2][j]
			wg.Add(1)
			go func() {
				defer wg.Done()
				rec := record(fmt.Sprintf("b%d-%d", i, j), fmt.Sprint("p", i), s)
				_, err := part.Book(ctx, rec)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					if prev, dup := won[rec.PersonID]; dup {
						bad = append(bad, fmt.Errorf("person %s booked twice: %s and %s", rec.PersonID, prev.ID, rec.ID))
					}
					won[rec.PersonID] = rec
				case !errors.Is(err, store.ErrDuplicate):
					bad = append(bad, err)
				}
			}()
		}
	}
	wg.Wait()
	for _, err := range bad {
		t.Error(err)
	}
	if len(won) != people {
		t.Errorf("%d people booked; want all %d, once each", len(won), people)
	}
	checkPersonBookings(t, []store.Store{a, b}, won)
	checkAuditRows(t, a, people)
}

// distinctPartitionSlots returns n slots of inv, each in another partition
// of d.
func distinctPartitionSlots(d models.Design, inv models.Inventory, n int) []models.Slot {
	seen := map[models.PartitionKey]bool{}
	var out []models.Slot
	for _, s := range inv.Slots {
		if k := d.Key(s.Key()); !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, s)
		}
	}
	return out
}

// checkPersonBookings checks that each store answers PersonBooking with
// the booking each person won, and ErrNotFound for someone who booked
// nothing.
func checkPersonBookings(t *testing.T, stores []store.Store, won map[string]store.Record) {
	t.Helper()
	ctx := context.Background()
	for i, st := range stores {
		sh := st.(store.SharedStore)
		for person, want := range won {
			got, err := sh.PersonBooking(ctx, person)
			if err != nil || got.ID != want.ID || got.IdempotencyKey != want.IdempotencyKey || !got.CreatedAt.Equal(want.CreatedAt) {
				t.Errorf("store %d: PersonBooking(%s) = %+v, %v; want %+v", i, person, got, err, want)
			}
		}
		if _, err := sh.PersonBooking(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("store %d: PersonBooking(nobody) err = %v; want ErrNotFound", i, err)
		}
	}
}

// checkAuditRows checks that st's audit finds want booking rows in all,
// and that every slot's counter agrees with its rows.
func checkAuditRows(t *testing.T, st store.Store, want int) {
	t.Helper()
	rows := 0
	for _, p := range st.Partitions() {
		audit, err := p.Audit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range audit {
			rows += a.Booked
			if a.Capacity-a.Remaining != a.Booked {
				t.Errorf("audit %+v: counter disagrees with rows", a)
			}
		}
	}
	if rows != want {
		t.Errorf("audit found %d booking rows; want %d", rows, want)
	}
}
