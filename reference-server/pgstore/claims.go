package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// The states of a claim after settle.
const (
	claimPending = "pending" // young, its booking not (yet) committed: left alone
	claimBooked  = "booked"  // its booking is committed
	claimVoid    = "void"    // no booking can commit under it any more: deleted
)

// claimRow is a person's row on the person's shard.
type claimRow struct {
	person, bookingID string
	partKey           models.PartitionKey
	state             string
	stale             bool // older than Config.ClaimTimeout
}

// bookClaimed is Book with several shards: claim the person on the
// person's shard, book on the slot's shard, then mark the claim booked or
// delete it. It holds one connection at a time, so shards sharing a
// server and small pools cannot deadlock.
func (p *Partition) bookClaimed(ctx context.Context, rec store.Record) (int, error) {
	s := p.s
	ps := s.personShard(rec.PersonID)
	c, err := ps.acquire(ctx)
	if err != nil {
		return 0, p.notTakenUp(ctx, err)
	}
	bctx, cancel := s.detach(ctx)
	defer cancel()
	tag, err := c.Exec(bctx, s.q.claim, rec.PersonID, rec.ID, string(p.key))
	c.Release()
	switch {
	case err != nil:
		err = fmt.Errorf("partition %s: claim person %q on shard %d: %w", p.key, rec.PersonID, ps.index, err)
	case tag.RowsAffected() == 0:
		err = s.claimConflict(bctx, rec, p.key)
	}
	if err != nil {
		p.Count(err)
		return 0, err
	}
	var left int
	err = p.shard.with(bctx, func(c *pgx.Conn) error {
		var err error
		left, err = p.run(bctx, c, rec, true)
		return err
	})
	s.finishClaim(bctx, ps, rec, err)
	p.Count(err)
	return left, err
}

// claimConflict handles a claim that met an existing row: the person's
// claim when it is stale and void is deleted and the claim made again;
// otherwise the person (or the booking id) is taken: store.ErrDuplicate.
func (s *Store) claimConflict(ctx context.Context, rec store.Record, key models.PartitionKey) error {
	dup := fmt.Errorf("book %s for person %q: the person holds a claim or the id is taken: %w", rec.ID, rec.PersonID, store.ErrDuplicate)
	cl, found, err := s.claimOf(ctx, rec.PersonID)
	switch {
	case err != nil:
		return err
	case !found || cl.state != claimPending || !cl.stale:
		return dup
	}
	state, err := s.settle(ctx, cl)
	switch {
	case err != nil:
		return err
	case state != claimVoid:
		return dup
	}
	ps := s.personShard(rec.PersonID)
	return ps.with(ctx, func(c *pgx.Conn) error {
		tag, err := c.Exec(ctx, s.q.claim, rec.PersonID, rec.ID, string(key))
		if err == nil && tag.RowsAffected() == 0 {
			return dup
		}
		return err
	})
}

// finishClaim marks the claim of rec booked when the booking committed
// (err nil), deletes it when nothing was written, and leaves it pending
// when the commit's outcome is unknown. A failure here leaves the claim
// pending for settle.
func (s *Store) finishClaim(ctx context.Context, ps *shard, rec store.Record, err error) {
	q := s.q.dropClaim
	switch {
	case err == nil:
		q = s.q.markBooked
	case errors.Is(err, errOutcomeUnknown):
		return
	}
	_ = ps.with(ctx, func(c *pgx.Conn) error { // on failure settle finishes the work
		return execAsync(ctx, c, q, rec.PersonID, rec.ID)
	})
}

// execAsync runs q in a transaction committed with synchronous_commit=off:
// for the claim's last step, which settle redoes if a crash loses it.
func execAsync(ctx context.Context, c *pgx.Conn, q string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit = off")
	b.Queue(q, args...)
	b.Queue("COMMIT")
	err := c.SendBatch(ctx, b).Close()
	if err != nil {
		rollback(ctx, c)
	}
	return err
}

// claimOf reads the person's row on the person's shard.
func (s *Store) claimOf(ctx context.Context, person string) (cl claimRow, found bool, err error) {
	ps := s.personShard(person)
	cl.person = person
	err = ps.with(ctx, func(c *pgx.Conn) error {
		var key string
		err := c.QueryRow(ctx, s.q.claimOf, person, s.cfg.ClaimTimeout.Seconds()).Scan(&cl.bookingID, &key, &cl.state, &cl.stale)
		cl.partKey = models.PartitionKey(key)
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return cl, false, nil
	case err != nil:
		return cl, false, fmt.Errorf("read claim of person %q on shard %d: %w", person, ps.index, err)
	}
	return cl, true, nil
}

// settle decides a pending claim on the slot's shard through booking_ids,
// where the booking transaction registers its id: a registered id means
// booked (the claim is marked so); a stale claim with no registered id is
// voided there, which makes a late booking transaction fail, and deleted.
// A young claim with no registered id stays pending.
func (s *Store) settle(ctx context.Context, cl claimRow) (string, error) {
	pt := s.byKey[cl.partKey]
	if pt == nil {
		return "", fmt.Errorf("claim of person %q names partition %q, which the design does not have", cl.person, cl.partKey)
	}
	state := claimPending
	err := pt.shard.with(ctx, func(c *pgx.Conn) error {
		if cl.stale {
			tag, err := c.Exec(ctx, s.q.voidID, cl.bookingID)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				state = claimVoid
				return nil
			}
		}
		var void bool
		switch err := c.QueryRow(ctx, s.q.idVoid, cl.bookingID).Scan(&void); {
		case errors.Is(err, pgx.ErrNoRows):
			return nil
		case err != nil:
			return err
		case void:
			state = claimVoid
		default:
			state = claimBooked
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("settle claim of person %q on shard %d: %w", cl.person, pt.shard.index, err)
	}
	q := s.q.markBooked
	switch state {
	case claimPending:
		return state, nil
	case claimVoid:
		q = s.q.dropClaim
	}
	ps := s.personShard(cl.person)
	err = ps.with(ctx, func(c *pgx.Conn) error {
		_, err := c.Exec(ctx, q, cl.person, cl.bookingID)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("settle claim of person %q on shard %d: %w", cl.person, ps.index, err)
	}
	return state, nil
}

// claimedBooking is PersonBooking: the person's row (a claim, settled when
// pending), then the booking on the slot's shard.
func (s *Store) claimedBooking(ctx context.Context, person string) (store.Record, error) {
	notFound := fmt.Errorf("booking of person %q: %w", person, store.ErrNotFound)
	cl, found, err := s.claimOf(ctx, person)
	if err != nil {
		return store.Record{}, err
	}
	if !found {
		return store.Record{}, notFound
	}
	if cl.state == claimPending {
		state, err := s.settle(ctx, cl)
		if err != nil {
			return store.Record{}, err
		}
		if state != claimBooked {
			return store.Record{}, notFound
		}
	}
	pt := s.byKey[cl.partKey]
	if pt == nil {
		return store.Record{}, fmt.Errorf("person %q: booking %s names partition %q, which the design does not have",
			person, cl.bookingID, cl.partKey)
	}
	rec, err := pt.Booking(ctx, cl.bookingID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Record{}, fmt.Errorf("person %q: claim booked as %s in %s but no such booking: %w",
			person, cl.bookingID, cl.partKey, err)
	}
	return rec, err
}

// settleStale settles the stale pending claims of every shard (left by a
// process that died between its steps).
func (s *Store) settleStale(ctx context.Context) error {
	for _, sh := range s.shards {
		var stale []claimRow
		err := sh.with(ctx, func(c *pgx.Conn) error {
			rows, err := c.Query(ctx, s.q.stalePending, s.cfg.ClaimTimeout.Seconds())
			if err != nil {
				return err
			}
			stale, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimRow, error) {
				cl := claimRow{state: claimPending, stale: true}
				var key string
				err := r.Scan(&cl.person, &cl.bookingID, &key)
				cl.partKey = models.PartitionKey(key)
				return cl, err
			})
			return err
		})
		if err != nil {
			return fmt.Errorf("postgresql at %s: read stale claims: %w", sh.srv.addr, err)
		}
		for _, cl := range stale {
			if _, err := s.settle(ctx, cl); err != nil {
				return err
			}
		}
	}
	return nil
}
