package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// queries are the store's statements, qualified with its schema. Those on
// slots and bookings go through the parent tables: with LIST partitions,
// sessions plan them with plan_cache_mode=force_custom_plan, so the planner
// prunes to the one partition named by part_key.
type queries struct {
	// The single-shard booking transaction.
	insertPerson, insertBooking, take string
	// Claims (several shards).
	claim, claimOf, markBooked, dropClaim, stalePending string
	bookingID, voidID, idVoid                           string
	// Reads.
	slots, booking, scan, audit string
}

// bookingColumns are the columns scanRecord reads, in order.
const bookingColumns = `id, person_id, ppv, date, created_at, idem_key`

func newQueries(l *layout) queries {
	slots, bookings, persons, ids := l.table("slots"), l.table("bookings"), l.table("persons"), l.table("booking_ids")
	return queries{
		insertPerson: `INSERT INTO ` + persons + ` (person_id, booking_id, part_key, state) VALUES ($1, $2, $3, 'booked')`,
		insertBooking: `INSERT INTO ` + bookings + ` (part_key, id, person_id, ppv, date, created_at, idem_key)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		take: `UPDATE ` + slots + ` SET remaining = remaining - 1
			WHERE part_key = $1 AND ppv = $2 AND date = $3 AND remaining > 0 RETURNING remaining`,

		claim: `INSERT INTO ` + persons + ` (person_id, booking_id, part_key, state, claimed_at)
			VALUES ($1, $2, $3, 'pending', now()) ON CONFLICT DO NOTHING`,
		claimOf: `SELECT booking_id, part_key, state, claimed_at < now() - make_interval(secs => $2) FROM ` + persons +
			` WHERE person_id = $1`,
		markBooked: `UPDATE ` + persons + ` SET state = 'booked' WHERE person_id = $1 AND booking_id = $2 AND state = 'pending'`,
		dropClaim:  `DELETE FROM ` + persons + ` WHERE person_id = $1 AND booking_id = $2 AND state = 'pending'`,
		stalePending: `SELECT person_id, booking_id, part_key FROM ` + persons +
			` WHERE state = 'pending' AND claimed_at < now() - make_interval(secs => $1) ORDER BY claimed_at LIMIT 10000`,
		bookingID: `INSERT INTO ` + ids + ` (booking_id) VALUES ($1)`,
		voidID:    `INSERT INTO ` + ids + ` (booking_id, void) VALUES ($1, true) ON CONFLICT DO NOTHING`,
		idVoid:    `SELECT void FROM ` + ids + ` WHERE booking_id = $1`,

		slots: `SELECT date, capacity, remaining FROM ` + slots +
			` WHERE part_key = $1 AND ppv = $2 AND date BETWEEN $3 AND $4 ORDER BY date`,
		booking: `SELECT ` + bookingColumns + ` FROM ` + bookings + ` WHERE part_key = $1 AND id = $2`,
		scan:    `SELECT ` + bookingColumns + ` FROM ` + bookings + ` WHERE part_key = $1 ORDER BY created_at, id`,
		audit: `SELECT COALESCE(s.ppv, c.ppv), COALESCE(s.date, c.date), COALESCE(s.capacity, 0), COALESCE(s.remaining, 0), COALESCE(c.n, 0)
			FROM (SELECT ppv, date, capacity, remaining FROM ` + slots + ` WHERE part_key = $1) s
			FULL JOIN (SELECT ppv, date, count(*) AS n FROM ` + bookings + ` WHERE part_key = $1 GROUP BY ppv, date) c
			ON c.ppv = s.ppv AND c.date = s.date
			ORDER BY 1, 2`,
	}
}

// scanRecord scans a row of bookingColumns into rec.
func scanRecord(row pgx.Row, rec *store.Record) error {
	var date time.Time
	var created int64
	if err := row.Scan(&rec.ID, &rec.PersonID, &rec.PPV, &date, &created, &rec.IdempotencyKey); err != nil {
		return err
	}
	rec.Date = models.DateOf(date)
	rec.CreatedAt = time.UnixMicro(created).UTC()
	return nil
}

// Slots returns the state of the partition's slots of ppv whose date is
// within [from, to], ordered by date; a zero from or to leaves that end
// open.
func (p *Partition) Slots(ctx context.Context, ppv string, from, to models.Date) ([]store.SlotState, error) {
	if from.IsZero() {
		from = minDate
	}
	if to.IsZero() {
		to = maxDate
	}
	var out []store.SlotState
	err := p.shard.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, p.s.q.slots, string(p.key), ppv, from.Time(), to.Time())
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SlotState, error) {
			st := store.SlotState{PPV: ppv}
			var date time.Time
			err := r.Scan(&date, &st.Capacity, &st.Remaining)
			st.Date = models.DateOf(date)
			return st, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("partition %s: read slots: %w", p.key, err)
	}
	return out, nil
}

// Booking returns the booking with the given id or store.ErrNotFound.
func (p *Partition) Booking(ctx context.Context, id string) (store.Record, error) {
	var rec store.Record
	err := p.shard.with(ctx, func(c *pgx.Conn) error {
		return scanRecord(c.QueryRow(ctx, p.s.q.booking, string(p.key), id), &rec)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return store.Record{}, fmt.Errorf("booking %q in %s: %w", id, p.key, store.ErrNotFound)
	case err != nil:
		return store.Record{}, fmt.Errorf("partition %s: read booking: %w", p.key, err)
	}
	return rec, nil
}

// Scan calls fn for every stored booking of the partition, ordered by
// creation time, stopping at the first error. It holds a connection while
// fn runs.
func (p *Partition) Scan(ctx context.Context, fn func(store.Record) error) error {
	var fnErr error
	err := p.shard.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, p.s.q.scan, string(p.key))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var rec store.Record
			if err := scanRecord(rows, &rec); err != nil {
				return err
			}
			if fnErr = fn(rec); fnErr != nil {
				return nil
			}
		}
		return rows.Err()
	})
	if err != nil {
		return fmt.Errorf("partition %s: scan: %w", p.key, err)
	}
	return fnErr
}

// Audit returns, for every slot of the partition, its seeded capacity,
// remaining counter and the number of booking rows stored for it, read in
// one statement (one snapshot), ordered by PPV and date. Bookings of a
// slot the partition does not hold (all oversold) appear with capacity 0.
func (p *Partition) Audit(ctx context.Context) ([]store.SlotAudit, error) {
	var out []store.SlotAudit
	err := p.shard.with(ctx, func(c *pgx.Conn) error {
		rows, err := c.Query(ctx, p.s.q.audit, string(p.key))
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SlotAudit, error) {
			var a store.SlotAudit
			var date time.Time
			err := r.Scan(&a.Slot.PPV, &date, &a.Capacity, &a.Remaining, &a.Booked)
			a.Slot.Date = models.DateOf(date)
			return a, err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	return out, nil
}
