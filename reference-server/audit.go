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
			if persons[rec.PersonID]++; persons[rec.PersonID] == 2 {
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
