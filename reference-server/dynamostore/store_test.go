package dynamostore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/store/storetest"
)

// testEndpoint returns the DynamoDB endpoint of SLOTRUSH_TEST_DYNAMODB
// (dynamodb://HOST:PORT) as an http:// URL. It skips the test when the
// variable is unset, and fails it instead under CI=true.
func testEndpoint(t testing.TB) string {
	t.Helper()
	v := os.Getenv("SLOTRUSH_TEST_DYNAMODB")
	if v == "" {
		const msg = "set SLOTRUSH_TEST_DYNAMODB=dynamodb://127.0.0.1:54330 (scripts/start-dynamodb.sh starts DynamoDB Local)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	hostport, ok := strings.CutPrefix(v, "dynamodb://")
	if !ok || hostport == "" {
		t.Fatalf("SLOTRUSH_TEST_DYNAMODB=%q: want dynamodb://HOST:PORT", v)
	}
	return "http://" + strings.TrimRight(hostport, "/")
}

// testConfig returns a Config over the test endpoint with a table prefix
// of its own derived from seed, and drops the prefix's tables when tb ends.
func testConfig(tb testing.TB, seed string) Config {
	tb.Helper()
	sum := sha256.Sum256([]byte(seed))
	cfg := Config{Endpoint: testEndpoint(tb), Table: "t" + hex.EncodeToString(sum[:])[:12]}
	tb.Cleanup(func() { dropAll(tb, cfg) })
	return cfg
}

// uniqueConfig is testConfig with a prefix of its own for tb.
func uniqueConfig(tb testing.TB) Config {
	tb.Helper()
	return testConfig(tb, fmt.Sprintf("%s %d %d", tb.Name(), time.Now().UnixNano(), rand.Uint64()))
}

// dropAll drops the tables of every scheme under cfg's prefix.
func dropAll(tb testing.TB, cfg Config) {
	for _, s := range models.Schemes {
		if err := Drop(context.Background(), cfg, models.Design{Scheme: s}); err != nil {
			tb.Errorf("drop %s: %v", cfg.table(s), err)
		}
	}
}

func design(tb testing.TB, name string) models.Design {
	tb.Helper()
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

func open(tb testing.TB, cfg Config, d models.Design, inv models.Inventory) *Store {
	tb.Helper()
	s, err := Open(context.Background(), cfg, d, inv)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func record(id, person string, s models.Slot) store.Record {
	return store.Record{Booking: models.Booking{ID: id, PersonID: person, PPV: s.PPV, Date: s.Date,
		CreatedAt: time.Date(2021, 5, 26, 10, 0, 0, 123456789, time.UTC)}, IdempotencyKey: "k-" + id}
}

// partitionOf returns the partition of st holding slot s.
func partitionOf(st *Store, d models.Design, s models.Slot) *Partition {
	for _, p := range st.parts {
		if p.Key() == d.Key(s.Key()) {
			return p
		}
	}
	return nil
}

// TestConformance runs the store contract's suite; each data directory
// gets a table of its own (Config.TableName), as a SQLite directory holds
// one design.
func TestConformance(t *testing.T) {
	t.Parallel()
	endpoint := testEndpoint(t)
	var mu sync.Mutex // guards prefixes
	prefixes := map[string]bool{}
	t.Cleanup(func() {
		for p := range prefixes {
			if err := Drop(context.Background(), Config{Endpoint: endpoint, TableName: p}, models.Design{}); err != nil {
				t.Errorf("drop %s: %v", p, err)
			}
		}
	})
	opener := func(ctx context.Context, dir string, d models.Design, inv models.Inventory) (store.Store, error) {
		sum := sha256.Sum256([]byte(dir))
		cfg := Config{Endpoint: endpoint, TableName: "c" + hex.EncodeToString(sum[:])[:12]}
		mu.Lock()
		prefixes[cfg.TableName] = true
		mu.Unlock()
		return Opener(cfg)(ctx, dir, d, inv)
	}
	storetest.Run(t, opener)
}

// bookAll books rec(i) for i in [0, n) at once and returns the outcome of
// each ("ok", "sold_out", "duplicate" or the error) and the remaining
// counts of the successes.
func bookAll(n int, book func(i int) (int, error)) (counts map[string]int, lows []int) {
	var mu sync.Mutex // guards counts and lows
	counts = map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			left, err := book(i)
			k := "ok"
			switch {
			case errors.Is(err, store.ErrSoldOut):
				k = "sold_out"
			case errors.Is(err, store.ErrDuplicate):
				k = "duplicate"
			case err != nil:
				k = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			counts[k]++
			if err == nil {
				lows = append(lows, left)
			}
		})
	}
	wg.Wait()
	return counts, lows
}

// checkLows fails the test unless lows are capacity-1 ... 0, each once.
func checkLows(t *testing.T, lows []int, capacity int) {
	t.Helper()
	seen := map[int]int{}
	for _, l := range lows {
		seen[l]++
	}
	for left := range capacity {
		if seen[left] != 1 {
			t.Errorf("remaining %d returned %d times; want once (all: %v)", left, seen[left], lows)
		}
	}
}

// TestLastPlaces: many people at once for the last places of a slot, in
// every scheme; exactly the places are sold, each success learns a distinct
// count, and the audit agrees.
func TestLastPlaces(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	const capacity, crowd = 5, 60
	inv := models.SmallInventory()
	inv.Slots[4].Capacity = capacity
	slot := inv.Slots[4]
	for _, scheme := range models.Schemes {
		t.Run(string(scheme), func(t *testing.T) {
			t.Parallel()
			d := design(t, string(scheme))
			st := open(t, cfg, d, inv)
			part := partitionOf(st, d, slot)
			counts, lows := bookAll(crowd, func(i int) (int, error) {
				return part.Book(context.Background(), record(fmt.Sprint("b", i), fmt.Sprint("p", i), slot))
			})
			if counts["ok"] != capacity || counts["sold_out"] != crowd-capacity || len(counts) != 2 {
				t.Errorf("outcomes = %v; want %d ok, %d sold_out", counts, capacity, crowd-capacity)
			}
			checkLows(t, lows, capacity)
			checkAudit(t, part, slot.Key(), capacity)
		})
	}
}

// checkAudit fails the test unless the audit of part finds slot with booked
// bookings and every slot's counter agreeing with its booking items.
func checkAudit(t *testing.T, part store.Partition, slot models.SlotKey, booked int) {
	t.Helper()
	audit, err := part.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range audit {
		if a.Slot == slot {
			found = true
			if a.Booked != booked {
				t.Errorf("audit %s = %+v; want %d booked", slot, a, booked)
			}
		}
		if a.Capacity-a.Remaining != a.Booked {
			t.Errorf("audit %+v: counter disagrees with booking items", a)
		}
	}
	if !found {
		t.Errorf("audit %v misses slot %s", audit, slot)
	}
}

// TestPersonAcrossPartitions: one person booking every slot at once, each
// in its own partition (per-ppv-day), gets exactly one booking, and
// PersonBooking returns it.
func TestPersonAcrossPartitions(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	inv := models.SmallInventory()
	d := design(t, "per-ppv-day")
	st := open(t, cfg, d, inv)
	counts, _ := bookAll(len(inv.Slots), func(i int) (int, error) {
		s := inv.Slots[i]
		return partitionOf(st, d, s).Book(context.Background(), record(fmt.Sprint("b", i), "ali", s))
	})
	if counts["ok"] != 1 || counts["duplicate"] != len(inv.Slots)-1 {
		t.Fatalf("outcomes = %v; want 1 ok, %d duplicate", counts, len(inv.Slots)-1)
	}
	rec, err := st.PersonBooking(context.Background(), "ali")
	if err != nil {
		t.Fatal(err)
	}
	got, err := partitionOf(st, d, models.Slot{PPV: rec.PPV, Date: rec.Date}).Booking(context.Background(), rec.ID)
	if err != nil || got != rec {
		t.Errorf("Booking(%s) = %+v, %v; want %+v", rec.ID, got, err, rec)
	}
	if _, err := st.PersonBooking(context.Background(), "bob"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonBooking(bob) err = %v; want ErrNotFound", err)
	}
	total := 0
	for _, s := range inv.Slots {
		states, err := partitionOf(st, d, s).Slots(context.Background(), s.PPV, s.Date, s.Date)
		if err != nil || len(states) != 1 {
			t.Fatalf("Slots(%s) = %v, %v", s.Key(), states, err)
		}
		total += states[0].Capacity - states[0].Remaining
	}
	if total != 1 {
		t.Errorf("%d places taken in all; want 1", total)
	}
}

// TestTwoStores: two Stores over one table (two servers) share the places
// and the one-booking-per-person rule.
func TestTwoStores(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	const capacity, crowd = 7, 40
	inv := models.SmallInventory()
	inv.Slots[0].Capacity = capacity
	slot := inv.Slots[0]
	d := design(t, "per-ppv")
	stores := []*Store{open(t, cfg, d, inv), open(t, cfg, d, inv)}
	counts, lows := bookAll(crowd, func(i int) (int, error) {
		part := partitionOf(stores[i%2], d, slot)
		// Every person twice, once through each store.
		return part.Book(context.Background(), record(fmt.Sprint("b", i), fmt.Sprint("p", i/2), slot))
	})
	if counts["ok"] != capacity || counts["ok"]+counts["sold_out"]+counts["duplicate"] != crowd {
		t.Errorf("outcomes = %v; want %d ok, the others sold_out or duplicate", counts, capacity)
	}
	checkLows(t, lows, capacity)
	checkAudit(t, partitionOf(stores[1], d, slot), slot.Key(), capacity)
	for i := range crowd / 2 {
		p := fmt.Sprint("p", i)
		rec0, err0 := stores[0].PersonBooking(context.Background(), p)
		rec1, err1 := stores[1].PersonBooking(context.Background(), p)
		if rec0 != rec1 || (err0 == nil) != (err1 == nil) {
			t.Errorf("PersonBooking(%s) = %v, %v and %v, %v; want the same from both stores", p, rec0, err0, rec1, err1)
		}
	}
}

// TestConcurrentOpens: stores opened at once over a new table seed it once.
func TestConcurrentOpens(t *testing.T) {
	t.Parallel()
	cfg := uniqueConfig(t)
	inv := models.SmallInventory()
	d := design(t, "per-ppv-day")
	stores := make([]*Store, 4)
	errs := make([]error, len(stores))
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), cfg, d, inv) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		t.Cleanup(func() { _ = stores[i].Close() })
	}
	s := inv.Slots[2]
	if _, err := partitionOf(stores[0], d, s).Book(context.Background(), record("x", "ali", s)); err != nil {
		t.Fatal(err)
	}
	// A store opened later does not reseed the slot.
	late := open(t, cfg, d, inv)
	for _, st := range []*Store{stores[3], late} {
		states, err := partitionOf(st, d, s).Slots(context.Background(), s.PPV, models.Date{}, models.Date{})
		if err != nil || len(states) != 1 || states[0].Date != s.Date || states[0].Remaining != s.Capacity-1 {
			t.Errorf("Slots(%s) = %+v, %v; want one slot with %d places left", s.PPV, states, err, s.Capacity-1)
		}
	}
	per := design(t, "per-ppv")
	states, err := partitionOf(open(t, cfg, per, inv), per, s).Slots(context.Background(), s.PPV, models.Date{}, models.Date{})
	if err != nil || len(states) != 3 || !states[0].Date.Before(states[1].Date) || !states[1].Date.Before(states[2].Date) {
		t.Errorf("per-ppv Slots(%s) = %+v, %v; want its 3 days in order", s.PPV, states, err)
	}
}
