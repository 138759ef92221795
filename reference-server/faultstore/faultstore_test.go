package faultstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/faultstore"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/reference-server/store"
)

// opensAt is the opening of bookings in these tests.
var opensAt = time.Date(2021, 5, 26, 12, 0, 0, 0, time.UTC)

// clock is a fake clock: the time since opensAt, set by the test.
type clock struct{ since atomic.Int64 }

func (c *clock) set(d time.Duration)       { c.since.Store(int64(d)) }
func (c *clock) now() time.Time            { return opensAt.Add(time.Duration(c.since.Load())) }
func (c *clock) at(d time.Duration) *clock { c.set(d); return c }

// slot is the first slot of wtc-kl in models.SmallInventory.
var slot = models.Slot{PPV: "wtc-kl", Date: models.Date{Year: 2021, Month: time.June, Day: 7}, Capacity: 100}

// open opens a per-ppv-day SQLite store over the small inventory and
// returns it with the partition holding slot.
func open(t *testing.T) (*sqlitestore.Store, store.Partition) {
	t.Helper()
	d, err := models.ParseDesign("per-ppv-day", models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlitestore.Open(context.Background(), t.TempDir(), d, models.SmallInventory())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	for _, p := range st.Partitions() {
		if p.Key() == d.Key(slot.Key()) {
			return st, p
		}
	}
	t.Fatalf("no partition holds %s", slot.Key())
	return nil, nil
}

func spec(t *testing.T, s string) fault.Spec {
	t.Helper()
	sp, err := fault.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func record(n int) store.Record {
	id := fmt.Sprintf("b-%04d", n)
	return store.Record{Booking: models.Booking{ID: id, PersonID: fmt.Sprintf("p%04d", n), PPV: slot.PPV, Date: slot.Date,
		CreatedAt: opensAt}, IdempotencyKey: "k-" + id}
}

// booked returns the booking rows the audit finds in p, the truth.
func booked(t *testing.T, p store.Partition) int {
	t.Helper()
	slots, err := p.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range slots {
		n += s.Booked
		if s.Capacity-s.Remaining != s.Booked {
			t.Errorf("slot %s: capacity %d, remaining %d, %d rows", s.Slot, s.Capacity, s.Remaining, s.Booked)
		}
	}
	return n
}

func TestWrapOthersUntouched(t *testing.T) {
	t.Parallel()
	_, p := open(t)
	if got := faultstore.Wrap(p, []fault.Spec{spec(t, "partition=all,down,for=1s")}, opensAt, nil); got != p {
		t.Errorf("Wrap with no spec for %s = %T; want the partition itself", p.Key(), got)
	}
	w := faultstore.Wrap(p, []fault.Spec{spec(t, "partition="+string(p.Key())+",down,for=1s")}, opensAt, nil)
	if _, ok := w.(store.CommitTimer); !ok {
		t.Errorf("Wrap of a store.CommitTimer = %T; want a CommitTimer", w)
	}
	if w.Key() != p.Key() {
		t.Errorf("Key() = %s; want %s", w.Key(), p.Key())
	}
}

func TestDown(t *testing.T) {
	t.Parallel()
	_, p := open(t)
	var c clock
	w := faultstore.Wrap(p, []fault.Spec{spec(t, "partition="+string(p.Key())+",down,start=10s,for=5s")}, opensAt, c.now)
	ctx := context.Background()
	if _, err := w.Book(ctx, record(1)); err != nil {
		t.Fatalf("Book before the window: %v", err)
	}
	c.set(10 * time.Second)
	if _, err := w.Book(ctx, record(2)); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Book in the window: %v; want ErrUnavailable", err)
	}
	if _, err := w.Slots(ctx, slot.PPV, models.Date{}, models.Date{}); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Slots in the window: %v; want ErrUnavailable", err)
	}
	if _, err := w.Booking(ctx, record(1).ID); !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("Booking in the window: %v; want ErrUnavailable", err)
	}
	// The audit reads the truth during the fault: one booking, the
	// refused one not written.
	if n := booked(t, w); n != 1 {
		t.Errorf("audit in the window: %d bookings; want 1", n)
	}
	if st := w.Stats(); st.Committed != 1 {
		t.Errorf("Stats().Committed = %d; want 1", st.Committed)
	}
	c.set(15 * time.Second)
	if _, err := w.Book(ctx, record(2)); err != nil {
		t.Errorf("Book after the window: %v", err)
	}
	if got := w.(faultstore.Counter).Faulted(); got != (faultstore.Counts{Down: 3}) {
		t.Errorf("Faulted() = %+v; want 3 down", got)
	}
}

func TestSlow(t *testing.T) {
	t.Parallel()
	_, p := open(t)
	const delay = 50 * time.Millisecond
	w := faultstore.Wrap(p, []fault.Spec{spec(t, "partition="+string(p.Key())+",slow=50ms,for=1m")}, opensAt, new(clock).at(time.Second).now)
	start := time.Now()
	if _, err := w.Book(context.Background(), record(1)); err != nil {
		t.Fatalf("Book: %v", err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("Book took %v; want at least the fault's %v", d, delay)
	}
	if _, err := w.Slots(context.Background(), slot.PPV, models.Date{}, models.Date{}); err != nil {
		t.Errorf("Slots: %v", err)
	}
	// A request that gives up while delayed writes nothing.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := w.Book(ctx, record(2)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Book with a 5ms deadline: %v; want context.DeadlineExceeded", err)
	}
	if n := booked(t, w); n != 1 {
		t.Errorf("audit: %d bookings; want 1", n)
	}
	if got := w.(faultstore.Counter).Faulted(); got != (faultstore.Counts{Slow: 3}) {
		t.Errorf("Faulted() = %+v; want 3 slow", got)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const attempts = 60
	run := func() []bool {
		_, p := open(t)
		w := faultstore.Wrap(p, []fault.Spec{spec(t, "partition="+string(p.Key())+",errors=30%,for=1m")}, opensAt, new(clock).at(0).now)
		var failed []bool
		ok := 0
		for i := range attempts {
			_, err := w.Book(context.Background(), record(i))
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, fault.ErrInjected):
				t.Fatalf("Book %d: %v; want nil or fault.ErrInjected", i, err)
			}
			failed = append(failed, err != nil)
		}
		if n := booked(t, w); n != ok {
			t.Errorf("audit: %d bookings; %d were answered", n, ok)
		}
		if got := w.(faultstore.Counter).Faulted(); got != (faultstore.Counts{Errors: int64(attempts - ok)}) {
			t.Errorf("Faulted() = %+v; want %d errors", got, attempts-ok)
		}
		if fails := attempts - ok; fails < attempts/10 || fails > attempts/2 {
			t.Errorf("%d of %d attempts failed; want about 30%%", fails, attempts)
		}
		return failed
	}
	first, again := run(), run()
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("attempt %d: failed %v, then %v on a fresh store; want the same draws", i, first[i], again[i])
		}
	}
}

func TestErrorsAll(t *testing.T) {
	t.Parallel()
	_, p := open(t)
	w := faultstore.Wrap(p, []fault.Spec{spec(t, "partition="+string(p.Key())+",errors=100%,for=1m")}, opensAt, new(clock).at(0).now)
	for i := range 20 {
		if _, err := w.Booking(context.Background(), record(i).ID); !errors.Is(err, fault.ErrInjected) {
			t.Fatalf("Booking %d: %v; want fault.ErrInjected", i, err)
		}
	}
}
