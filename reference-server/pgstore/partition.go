package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// maxRetries bounds the retries of a booking transaction that PostgreSQL
// aborted for a serialization failure or a deadlock.
const maxRetries = 3

// Open-ended bounds of Slots.
var (
	minDate = models.Date{Year: 1, Month: time.January, Day: 1}
	maxDate = models.Date{Year: 9999, Month: time.December, Day: 31}
)

// errOutcomeUnknown marks a booking whose COMMIT was sent but whose outcome
// could not be learnt (the server went away and did not come back in time).
var errOutcomeUnknown = errors.New("commit outcome unknown")

// Partition is one partition of the design: its rows in the namespace's
// slots and bookings tables (one LIST partition of each, or the whole
// tables for monolithic) on its shard. It is safe for concurrent use. Its
// meter counts a batch per booking transaction (a retried transaction
// counts again) and an attempt per Book taken up.
type Partition struct {
	store.Meter

	s     *Store
	key   models.PartitionKey
	shard *shard
	slots map[models.SlotKey]bool // the partition's slots

}

func newPartition(s *Store, i int, p models.Partition) *Partition {
	pt := &Partition{s: s, key: p.Key, shard: s.shards[s.lay.shardOf(i)],
		slots: make(map[models.SlotKey]bool, len(p.Slots))}
	for _, sl := range p.Slots {
		pt.slots[sl.Key()] = true
	}
	return pt
}

// Key returns the partition's key.
func (p *Partition) Key() models.PartitionKey { return p.key }

// Book stores rec durably if its slot has a place left and the person holds
// no booking in any partition, and returns the places left in the slot.
// See store.Partition.Book and store.SharedStore for the contract, and the
// package doc for the transaction. Waiting for a connection counts as not
// yet taken up: ctx's end then returns its error with nothing written. From
// the first statement on, Book runs to its outcome whatever ctx does,
// bounded by Config.BookTimeout.
func (p *Partition) Book(ctx context.Context, rec store.Record) (int, error) {
	if !p.slots[models.SlotKey{PPV: rec.PPV, Date: rec.Date}] {
		return 0, fmt.Errorf("book %s/%s in %s: %w", rec.PPV, rec.Date, p.key, store.ErrNoSlot)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := p.s.register(); err != nil {
		return 0, err
	}
	defer p.s.inflight.Done()
	if len(p.s.shards) > 1 {
		return p.bookClaimed(ctx, rec)
	}
	c, err := p.shard.acquire(ctx)
	if err != nil {
		return 0, p.notTakenUp(ctx, err)
	}
	defer c.Release()
	bctx, cancel := p.s.detach(ctx)
	defer cancel()
	left, err := p.run(bctx, c.Conn(), rec, false)
	p.Count(err)
	return left, err
}

// notTakenUp returns the error of a Book that got no connection: ctx's
// error (nothing counted) or a failure.
func (p *Partition) notTakenUp(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, store.ErrClosed) {
		return err
	}
	p.Count(err)
	return fmt.Errorf("partition %s: %w", p.key, err)
}

// detach returns a context that ignores ctx's end but lasts at most
// Config.BookTimeout: a booking taken up runs to its outcome.
func (s *Store) detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.cfg.BookTimeout)
}

// run runs the booking transaction on c, retrying it when PostgreSQL
// aborted it for a serialization failure or a deadlock. claimed says the
// person's claim is on another shard (the transaction then registers the
// booking id in booking_ids instead of inserting the person).
func (p *Partition) run(ctx context.Context, c *pgx.Conn, rec store.Record, claimed bool) (int, error) {
	p.Attempts(1)
	for attempt := 0; ; attempt++ {
		left, err := p.bookTx(ctx, c, rec, claimed)
		var pgErr *pgconn.PgError
		if attempt < maxRetries && !c.IsClosed() && errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01") {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		return left, err
	}
}

// bookTx runs one booking transaction on c and records its duration. The
// statements are pipelined in one round trip, in lock order: the person
// (or the booking id), the booking row, then the slot, so that the slot's
// row lock, the contended one, is held only from its UPDATE to COMMIT.
func (p *Partition) bookTx(ctx context.Context, c *pgx.Conn, rec store.Record, claimed bool) (left int, err error) {
	start := time.Now()
	defer func() { p.recordTx(time.Since(start)) }()
	q, key, date := &p.s.q, string(p.key), rec.Date.Time()
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	if claimed {
		b.Queue(q.bookingID, rec.ID)
	} else {
		b.Queue(q.insertPerson, rec.PersonID, rec.ID, key)
	}
	b.Queue(q.insertBooking, key, rec.ID, rec.PersonID, rec.PPV, date, rec.CreatedAt.UnixMicro(), rec.IdempotencyKey)
	b.Queue(q.take, key, rec.PPV, date)
	br := c.SendBatch(ctx, b)
	_, err1 := br.Exec()
	_, err2 := br.Exec()
	_, err3 := br.Exec()
	err4 := br.QueryRow().Scan(&left)
	soldOut := errors.Is(err4, pgx.ErrNoRows)
	if soldOut {
		err4 = nil
	}
	err = firstError(err1, err2, err3, err4, br.Close())
	soldOut = soldOut && err == nil
	if err != nil || soldOut {
		rollback(ctx, c)
	}
	switch {
	case soldOut:
		return 0, fmt.Errorf("book %s/%s: %w", rec.PPV, rec.Date, store.ErrSoldOut)
	case err != nil:
		return 0, p.explainBookError(ctx, c, rec, err)
	}
	if err := p.commit(ctx, c, rec); err != nil {
		return 0, err
	}
	return left, nil
}

// firstError returns the first non-nil error.
func firstError(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// rollback ends c's transaction, if any; a connection left inside one is
// closed by the pool on release.
func rollback(ctx context.Context, c *pgx.Conn) {
	if !c.IsClosed() && c.PgConn().TxStatus() != 'I' {
		_, _ = c.Exec(ctx, "ROLLBACK") // on failure the pool drops c
	}
}

// explainBookError maps the error of a failed booking transaction: a
// unique violation is store.ErrDuplicate (the person, or the booking id,
// is taken), unless the booking id was voided by a claim's settlement.
func (p *Partition) explainBookError(ctx context.Context, c *pgx.Conn, rec store.Record, err error) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return fmt.Errorf("partition %s: book %s: %w", p.key, rec.ID, err)
	}
	if pgErr.TableName == "booking_ids" && !c.IsClosed() {
		var void bool
		if c.QueryRow(ctx, p.s.q.idVoid, rec.ID).Scan(&void) == nil && void {
			return fmt.Errorf("partition %s: book %s: the person's claim expired before the booking (after %s); nothing stored",
				p.key, rec.ID, p.s.cfg.ClaimTimeout)
		}
	}
	return fmt.Errorf("book %s for person %q: %s: %w", rec.ID, rec.PersonID, pgErr.ConstraintName, store.ErrDuplicate)
}

// commit sends COMMIT and learns its outcome. When the connection broke
// meanwhile, it waits on another connection for the old server process to
// end, then looks for the booking: found means committed.
func (p *Partition) commit(ctx context.Context, c *pgx.Conn, rec store.Record) error {
	_, err := c.Exec(ctx, "COMMIT")
	if err == nil {
		return nil
	}
	if !c.IsClosed() {
		return fmt.Errorf("partition %s: commit %s: %w", p.key, rec.ID, err) // the server answered: rolled back
	}
	pid := c.PgConn().PID()
	rctx, cancel := context.WithTimeout(context.Background(), p.s.cfg.BookTimeout)
	defer cancel()
	found, qerr := p.committedAfterAll(rctx, pid, rec.ID)
	switch {
	case qerr != nil:
		return fmt.Errorf("partition %s: commit %s: %w: %w", p.key, rec.ID, errOutcomeUnknown, errors.Join(err, qerr))
	case found:
		return nil
	}
	return fmt.Errorf("partition %s: commit %s: %w (the booking is not stored)", p.key, rec.ID, err)
}

// committedAfterAll waits until the server process pid is gone, then
// reports whether booking id is stored.
func (p *Partition) committedAfterAll(ctx context.Context, pid uint32, id string) (found bool, err error) {
	err = p.shard.with(ctx, func(c *pgx.Conn) error {
		for {
			var alive bool
			if err := c.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, int64(pid)).Scan(&alive); err != nil {
				return err
			}
			if !alive {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
		var n int
		err := c.QueryRow(ctx, `SELECT count(*) FROM `+p.s.lay.table("bookings")+` WHERE part_key = $1 AND id = $2`,
			string(p.key), id).Scan(&n)
		found = n > 0
		return err
	})
	return found, err
}

// recordTx adds one booking transaction that took d to the meter.
func (p *Partition) recordTx(d time.Duration) {
	p.Batch(d)
	p.Busy(d)
}
