package refserver

import (
	"context"
	"fmt"

	"github.com/slotrush/slotrush/reference-server/store"
)

// Audit is what the store holds, counted from its booking rows: the
// invariants a run must not break, checked after the fact.
type Audit struct {
	// Capacity is the sum of the slots' seeded capacities.
	Capacity int64
	// Booked is the sum over slots of the booking rows stored for them.
	Booked int64
	// Oversold is the sum over slots of the booking rows beyond the slot's
	// seeded capacity (computed from rows, not from the remaining counter).
	Oversold int64
	// Bookings is the number of bookings found by scanning the partitions;
	// it equals Booked in a sound store.
	Bookings int64
	// CounterMismatches counts slots whose remaining counter disagrees with
	// their booking rows (capacity - remaining != rows).
	CounterMismatches int64
	// DuplicatePersons counts people holding more than one booking.
	DuplicatePersons int64

	ids map[string]struct{}
}

// HasBooking reports whether a booking with id is stored.
func (a *Audit) HasBooking(id string) bool {
	_, ok := a.ids[id]
	return ok
}

// OK reports whether the audit found no broken invariant.
func (a *Audit) OK() bool {
	return a.Oversold == 0 && a.CounterMismatches == 0 && a.DuplicatePersons == 0 && a.Bookings == a.Booked
}

// Audit counts what the store holds, partition by partition, through the
// read connections; it may run while the server serves, each partition then
// being read at one instant. It returns the store's read errors.
func (s *Server) Audit(ctx context.Context) (*Audit, error) {
	a := &Audit{ids: map[string]struct{}{}}
	persons := map[string]int{}
	for _, p := range s.parts {
		slots, err := p.st.Audit(ctx)
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
		for _, sl := range slots {
			a.Capacity += int64(sl.Capacity)
			a.Booked += int64(sl.Booked)
			a.Oversold += int64(max(0, sl.Booked-sl.Capacity))
			if sl.Capacity-sl.Remaining != sl.Booked {
				a.CounterMismatches++
			}
		}
		err = p.st.Scan(ctx, func(rec store.Record) error {
			a.ids[rec.ID] = struct{}{}
			persons[rec.PersonID]++
			if persons[rec.PersonID] == 2 {
				a.DuplicatePersons++
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	a.Bookings = int64(len(a.ids))
	return a, nil
}

// Reconciliation is a store audit set against the bookings a load
// generator was answered 201 for: the figures a run reports about the
// store, as plain data.
type Reconciliation struct {
	// Capacity, Booked and Oversold are the audit's (see Audit): seeded
	// places, booking rows stored for slots, rows beyond a slot's capacity.
	Capacity, Booked, Oversold int64
	// Persisted is the number of bookings found by scanning the partitions
	// (Audit.Bookings).
	Persisted int64
	// CounterMismatches and DuplicatePersons are the audit's (see Audit).
	CounterMismatches, DuplicatePersons int64
	// Answered201 is the number of booking ids the client reported as
	// answered 201.
	Answered201 int64
	// Missing counts those ids the store does not hold: 201s that were not
	// durable. An id listed twice and missing counts twice.
	Missing int64
}

// Reconcile checks the booking ids answered201, which a client was
// answered 201 for, against the audit: how many of them the store does not
// hold, beside the audit's own figures.
func (a *Audit) Reconcile(answered201 []string) Reconciliation {
	r := Reconciliation{
		Capacity: a.Capacity, Booked: a.Booked, Oversold: a.Oversold, Persisted: a.Bookings,
		CounterMismatches: a.CounterMismatches, DuplicatePersons: a.DuplicatePersons,
		Answered201: int64(len(answered201)),
	}
	for _, id := range answered201 {
		if !a.HasBooking(id) {
			r.Missing++
		}
	}
	return r
}

// Reconcile audits the store (see Server.Audit) and checks against it the
// booking ids answered201 that a client was answered 201 for (see
// Audit.Reconcile). Run after the HTTP server has shut down, it gives the
// final figures of a run; it may also run while the server serves, like
// Audit, and is safe for concurrent use. It returns the store's read
// errors, wrapped, and the context's error.
func (s *Server) Reconcile(ctx context.Context, answered201 []string) (Reconciliation, error) {
	a, err := s.Audit(ctx)
	if err != nil {
		return Reconciliation{}, err
	}
	return a.Reconcile(answered201), nil
}
