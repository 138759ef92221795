package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/slotrush/slotrush/models"
)

// TestAuditReconcile: the 201s a client reports are checked one by one
// against the stored ids, beside the audit's own figures.
func TestAuditReconcile(t *testing.T) {
	t.Parallel()
	a := &Audit{Capacity: 300, Booked: 3, Oversold: 1, Bookings: 3, CounterMismatches: 2, DuplicatePersons: 1,
		ids: map[string]struct{}{"b0-a": {}, "b0-b": {}, "b1-c": {}}}
	for _, tt := range []struct {
		name                 string
		answered             []string
		answered201, missing int64
	}{
		{"none answered", nil, 0, 0},
		{"all stored", []string{"b0-a", "b0-b", "b1-c"}, 3, 0},
		{"some stored", []string{"b0-a", "b1-c"}, 2, 0},
		{"one missing", []string{"b0-a", "b9-lost"}, 2, 1},
		{"all missing", []string{"x", "y"}, 2, 2},
		{"missing twice counts twice", []string{"x", "x", "b0-b"}, 3, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			want := Reconciliation{Capacity: 300, Booked: 3, Oversold: 1, Persisted: 3, CounterMismatches: 2, DuplicatePersons: 1,
				Answered201: tt.answered201, Missing: tt.missing}
			if got := a.Reconcile(tt.answered); got != want {
				t.Errorf("Reconcile(%q) = %+v; want %+v", tt.answered, got, want)
			}
		})
	}
	var empty Audit
	if got, want := empty.Reconcile([]string{"a"}), (Reconciliation{Answered201: 1, Missing: 1}); got != want {
		t.Errorf("zero Audit: Reconcile([a]) = %+v; want %+v", got, want)
	}
}

// TestServerReconcile books over HTTP into real SQLite stores and
// reconciles the 201s with each store: every one is there, an id never
// answered is missing, and the figures are the audit's.
func TestServerReconcile(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	inv.Slots[0].Capacity = 2
	for _, name := range designs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := startServer(t, name, models.Limits{}, inv, "")
			ctx := context.Background()
			got, err := ts.Reconcile(ctx, nil)
			if want := (Reconciliation{Capacity: int64(inv.TotalCapacity())}); err != nil || got != want {
				t.Errorf("Reconcile of a new store = %+v, %v; want %+v", got, err, want)
			}
			var ids []string
			for i, s := range []models.Slot{inv.Slots[0], inv.Slots[0], inv.Slots[0], inv.Slots[5]} {
				r := ts.book(t, fmt.Sprint("p", i), s.PPV, s.Date, "")
				if r.status == http.StatusCreated {
					ids = append(ids, r.booking(t).ID)
				}
			}
			if len(ids) != 3 {
				t.Fatalf("%d bookings answered 201; want 3 (the third on a slot of 2 sold out)", len(ids))
			}
			for _, tt := range []struct {
				name     string
				answered []string
				want     Reconciliation
			}{
				{"every 201", ids, Reconciliation{Answered201: 3}},
				{"one never stored", append(ids[:2:2], "b0-never-stored"), Reconciliation{Answered201: 3, Missing: 1}},
				{"none", nil, Reconciliation{}},
			} {
				tt.want.Capacity, tt.want.Booked, tt.want.Persisted = int64(inv.TotalCapacity()), 3, 3
				if got, err := ts.Reconcile(ctx, tt.answered); err != nil || got != tt.want {
					t.Errorf("%s: Reconcile = %+v, %v; want %+v", tt.name, got, err, tt.want)
				}
			}
		})
	}
}

// TestServerReconcileConcurrent reconciles while bookings are being served
// (run with -race): each partition is read at one instant, so no figure
// goes beyond what was booked, and at the end every 201 is stored.
func TestServerReconcileConcurrent(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	ts := startServer(t, "per-ppv-day", models.Limits{}, inv, "")
	const people = 60
	ctx := context.Background()
	replies := make([]reply, people)
	done := make(chan struct{})
	go func() {
		defer close(done)
		parallel(people, func(i int) {
			s := inv.Slots[i%len(inv.Slots)]
			replies[i] = ts.book(t, fmt.Sprint("p", i), s.PPV, s.Date, "")
		})
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		got, err := ts.Reconcile(ctx, nil)
		if err != nil {
			t.Fatalf("Reconcile while serving: %v", err)
		}
		if got.Booked > people || got.Persisted > people || got.Oversold != 0 || got.DuplicatePersons != 0 {
			t.Errorf("Reconcile while serving = %+v; want at most %d bookings, none oversold or duplicate", got, people)
		}
	}
	var ids []string
	for i, r := range replies {
		if r.status != http.StatusCreated {
			t.Fatalf("booking %d: %d %s; want 201", i, r.status, r.body)
		}
		ids = append(ids, r.booking(t).ID)
	}
	got, err := ts.Reconcile(ctx, ids)
	want := Reconciliation{Capacity: int64(inv.TotalCapacity()), Booked: people, Persisted: people, Answered201: people}
	if err != nil || got != want {
		t.Errorf("Reconcile after the bookings = %+v, %v; want %+v", got, err, want)
	}
}

// TestServerReconcileErrors: a cancelled context is returned, wrapped.
func TestServerReconcileErrors(t *testing.T) {
	t.Parallel()
	ts := startServer(t, "per-ppv", models.Limits{}, models.SmallInventory(), "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := ts.Reconcile(ctx, []string{"b0-x"}); !errors.Is(err, context.Canceled) || got != (Reconciliation{}) {
		t.Errorf("Reconcile(cancelled) = %+v, %v; want zero and context.Canceled", got, err)
	}
}
