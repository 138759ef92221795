package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

const schema = `
CREATE TABLE IF NOT EXISTS meta (
	k TEXT PRIMARY KEY,
	v TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS slots (
	ppv       TEXT NOT NULL,
	date      TEXT NOT NULL,
	capacity  INTEGER NOT NULL CHECK (capacity >= 0),
	remaining INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= capacity),
	PRIMARY KEY (ppv, date)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bookings (
	id         TEXT PRIMARY KEY,
	person_id  TEXT NOT NULL UNIQUE,
	ppv        TEXT NOT NULL,
	date       TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	idem_key   TEXT NOT NULL DEFAULT ''
);
`

const (
	sqlTake     = `UPDATE slots SET remaining = remaining - 1 WHERE ppv = ? AND date = ? AND remaining > 0 RETURNING remaining`
	sqlInsert   = `INSERT INTO bookings (id, person_id, ppv, date, created_at, idem_key) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	sqlGiveBack = `UPDATE slots SET remaining = remaining + 1 WHERE ppv = ? AND date = ?`
	sqlSlots    = `SELECT date, capacity, remaining FROM slots WHERE ppv = ? AND date >= ? AND date <= ? ORDER BY date`
	sqlBooking  = `SELECT person_id, ppv, date, created_at, idem_key FROM bookings WHERE id = ?`
	sqlScan     = `SELECT id, person_id, ppv, date, created_at, idem_key FROM bookings ORDER BY rowid`
	sqlCounts   = `SELECT ppv, date, COUNT(*) FROM bookings GROUP BY ppv, date`
	sqlAudit    = `SELECT ppv, date, capacity, remaining FROM slots ORDER BY ppv, date`
)

// Partition is one partition: one SQLite file, one writer goroutine with the
// only write connection, and a pool of query-only read connections. It is
// safe for concurrent use.
type Partition struct {
	key   models.PartitionKey
	path  string
	slots map[models.SlotKey]string // slot -> date text, the partition's slots

	wdb      *sql.DB // the writer's single connection; used only by run
	rdb      *sql.DB // query-only pool
	take     *sql.Stmt
	insert   *sql.Stmt
	giveBack *sql.Stmt
	qSlots   *sql.Stmt
	qBooking *sql.Stmt

	queue    chan *bookReq
	maxBatch int
	stop     chan struct{} // closed by close to ask the writer to drain and exit
	stopped  chan struct{} // closed by the writer when it exits

	started bool // set before the writer starts, read by close

	mu     sync.RWMutex // guards closed; held shared while sending to queue
	closed bool

	store.Meter // a batch per group commit
}

// bookReq is one booking attempt waiting for the writer.
type bookReq struct {
	ctx  context.Context
	rec  store.Record
	date string
	done chan bookRes // buffered 1; the writer sends exactly once
}

type bookRes struct {
	remaining int
	err       error
}

var reqPool = sync.Pool{New: func() any { return &bookReq{done: make(chan bookRes, 1)} }}

// dsn returns a mattn/go-sqlite3 DSN for path with params. Characters that
// would end the file part of a URI are escaped.
func dsn(path string, params string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path) + "?" + params
}

func openPartition(ctx context.Context, path string, scheme models.Scheme, p models.Partition, cfg config) (_ *Partition, err error) {
	pt := &Partition{
		key: p.Key, path: path, slots: make(map[models.SlotKey]string, len(p.Slots)),
		queue: make(chan *bookReq, cfg.queueLen), maxBatch: cfg.maxBatch,
		stop: make(chan struct{}), stopped: make(chan struct{}),
	}
	for _, s := range p.Slots {
		pt.slots[s.Key()] = s.Date.String()
	}
	defer func() {
		if err != nil {
			err = fmt.Errorf("partition %s: %w", p.Key, errors.Join(err, pt.closeDBs()))
		}
	}()
	if pt.wdb, err = openWriter(ctx, path); err != nil {
		return nil, err
	}
	if err := pt.seed(ctx, scheme, p); err != nil {
		return nil, err
	}
	pt.rdb, err = sql.Open("sqlite3", dsn(path, "_query_only=1&_busy_timeout=10000"))
	if err != nil {
		return nil, fmt.Errorf("open readers: %w", err)
	}
	pt.rdb.SetMaxOpenConns(cfg.readConns)
	pt.rdb.SetMaxIdleConns(cfg.readConns)
	pt.rdb.SetConnMaxIdleTime(time.Minute)

	for _, st := range []struct {
		db  *sql.DB
		q   string
		dst **sql.Stmt
	}{
		{pt.wdb, sqlTake, &pt.take}, {pt.wdb, sqlInsert, &pt.insert}, {pt.wdb, sqlGiveBack, &pt.giveBack},
		{pt.rdb, sqlSlots, &pt.qSlots}, {pt.rdb, sqlBooking, &pt.qBooking},
	} {
		if *st.dst, err = st.db.PrepareContext(ctx, st.q); err != nil {
			return nil, fmt.Errorf("prepare %q: %w", st.q, err)
		}
	}
	pt.started = true
	go pt.run()
	return pt, nil
}

// openWriter opens the single writer connection of the database at path
// (WAL, synchronous=FULL, immediate transactions) and verifies that it
// really runs in WAL mode with synchronous=FULL, on which every durability
// claim rests.
func openWriter(ctx context.Context, path string) (_ *sql.DB, err error) {
	db, err := sql.Open("sqlite3", dsn(path, "_journal_mode=WAL&_synchronous=FULL&_txlock=immediate&_busy_timeout=10000"))
	if err != nil {
		return nil, fmt.Errorf("open writer: %w", err)
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, db.Close())
		}
	}()
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	var mode string
	var syncMode int
	if err := db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return nil, fmt.Errorf("read journal_mode: %w", err)
	}
	if err := db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncMode); err != nil {
		return nil, fmt.Errorf("read synchronous: %w", err)
	}
	if !strings.EqualFold(mode, "wal") || syncMode != 2 {
		return nil, fmt.Errorf("writer runs journal_mode=%s synchronous=%d; want wal and 2 (FULL)", mode, syncMode)
	}
	return db, nil
}

// seed creates the schema and the partition's slots in one transaction when
// the file is new, or checks that an existing file holds this partition.
func (p *Partition) seed(ctx context.Context, scheme models.Scheme, part models.Partition) error {
	tx, err := p.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create schema: %w", err)
	}
	var key string
	err = tx.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'partition'`).Scan(&key)
	switch {
	case err == nil:
		if key != string(part.Key) {
			return fmt.Errorf("file %s holds partition %q: %w", p.path, key, store.ErrMismatch)
		}
		var n, capacity int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(capacity), 0) FROM slots`).Scan(&n, &capacity); err != nil {
			return fmt.Errorf("check slots: %w", err)
		}
		if n != len(part.Slots) || capacity != part.Capacity() {
			return fmt.Errorf("file %s holds %d slots of %d places; want %d of %d: %w",
				p.path, n, capacity, len(part.Slots), part.Capacity(), store.ErrMismatch)
		}
		return nil // reopened, not reseeded
	case errors.Is(err, sql.ErrNoRows):
	default:
		return fmt.Errorf("read meta: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO slots (ppv, date, capacity, remaining) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	defer ins.Close()
	for _, s := range part.Slots {
		if _, err := ins.ExecContext(ctx, s.PPV, s.Date.String(), s.Capacity, s.Capacity); err != nil {
			return fmt.Errorf("seed slot %s: %w", s.Key(), err)
		}
	}
	for k, v := range map[string]string{
		"partition": string(part.Key), "scheme": string(scheme), "schema": "1",
		"seeded_at": time.Now().UTC().Format(time.RFC3339),
	} {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES (?, ?)`, k, v); err != nil {
			return fmt.Errorf("seed meta: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed commit: %w", err)
	}
	return nil
}

// Key returns the partition's key.
func (p *Partition) Key() models.PartitionKey { return p.key }

// Book queues rec for the writer and waits for its group commit. See
// store.Partition.Book for the contract.
func (p *Partition) Book(ctx context.Context, rec store.Record) (int, error) {
	date, ok := p.slots[models.SlotKey{PPV: rec.PPV, Date: rec.Date}]
	if !ok {
		return 0, fmt.Errorf("book %s/%s in %s: %w", rec.PPV, rec.Date, p.key, store.ErrNoSlot)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := reqPool.Get().(*bookReq)
	r.ctx, r.rec, r.date = ctx, rec, date
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		r.ctx = nil
		reqPool.Put(r)
		return 0, store.ErrClosed
	}
	select {
	case p.queue <- r:
		p.mu.RUnlock()
	case <-ctx.Done():
		p.mu.RUnlock()
		r.ctx = nil
		reqPool.Put(r)
		return 0, ctx.Err()
	}
	res := <-r.done // the writer always answers
	r.ctx, r.rec = nil, store.Record{}
	reqPool.Put(r)
	return res.remaining, res.err
}

// run is the partition's writer: it takes everything queued, commits it in
// one transaction and answers each attempt, until close asks it to stop; it
// then commits what is still queued and exits.
func (p *Partition) run() {
	defer close(p.stopped)
	batch := make([]*bookReq, 0, p.maxBatch)
	for {
		select {
		case r := <-p.queue:
			// Let the goroutines ready on this P run before the batch's cgo
			// calls hold it: more attempts join the batch, and requests
			// already parsed reach their own partitions sooner.
			runtime.Gosched()
			batch = p.fill(append(batch[:0], r))
			p.commit(batch)
		case <-p.stop:
			// close set closed under the write lock, so nobody is sending
			// any more: commit what was queued before, then exit.
			for {
				if batch = p.fill(batch[:0]); len(batch) == 0 {
					return
				}
				p.commit(batch)
			}
		}
	}
}

// fill appends to batch whatever is queued, without waiting, up to maxBatch.
func (p *Partition) fill(batch []*bookReq) []*bookReq {
	for len(batch) < p.maxBatch {
		select {
		case r := <-p.queue:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// commit runs one group commit for batch and answers every attempt in it.
func (p *Partition) commit(batch []*bookReq) {
	start := time.Now()
	res := make([]bookRes, len(batch))
	live := 0
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			res[i].err = err // abandoned before the writer took it up
			continue
		}
		live++
	}
	if live > 0 {
		err := p.runTx(batch, res)
		p.Batch(time.Since(start))
		p.Attempts(live)
		for i := range res {
			switch {
			case err != nil:
				if res[i].err == nil || isDecision(res[i].err) {
					res[i] = bookRes{err: err} // nothing of the batch was committed
					p.Count(err)
				}
			case res[i].err == nil, isDecision(res[i].err):
				p.Count(res[i].err)
			}
		}
	}
	for i, r := range batch {
		r.done <- res[i]
		batch[i] = nil
	}
	p.Busy(time.Since(start))
	// The answers just readied the waiting goroutines on this P. Yield it
	// before the next batch's cgo calls, which hold the P while they block
	// in fsync until the scheduler's monitor takes it back: without this,
	// the answered requests wait that long to write their responses.
	runtime.Gosched()
}

func isDecision(err error) bool {
	return errors.Is(err, store.ErrSoldOut) || errors.Is(err, store.ErrDuplicate)
}

// runTx runs the transaction of a batch, filling res for each live attempt.
// A non-nil error means nothing of the batch was committed.
func (p *Partition) runTx(batch []*bookReq, res []bookRes) (err error) {
	ctx := context.Background() // a batch is never abandoned half way
	tx, err := p.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("partition %s: begin: %w", p.key, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	take, insert, giveBack := tx.StmtContext(ctx, p.take), tx.StmtContext(ctx, p.insert), tx.StmtContext(ctx, p.giveBack)
	for i, r := range batch {
		if res[i].err != nil {
			continue
		}
		var remaining int
		switch err := take.QueryRowContext(ctx, r.rec.PPV, r.date).Scan(&remaining); {
		case errors.Is(err, sql.ErrNoRows):
			res[i].err = fmt.Errorf("book %s/%s: %w", r.rec.PPV, r.date, store.ErrSoldOut)
			continue
		case err != nil:
			return fmt.Errorf("partition %s: take place: %w", p.key, err)
		}
		rec := r.rec
		out, err := insert.ExecContext(ctx, rec.ID, rec.PersonID, rec.PPV, r.date, rec.CreatedAt.UnixNano(), rec.IdempotencyKey)
		if err != nil {
			return fmt.Errorf("partition %s: insert booking: %w", p.key, err)
		}
		if n, err := out.RowsAffected(); err != nil {
			return fmt.Errorf("partition %s: insert booking: %w", p.key, err)
		} else if n == 0 {
			if _, err := giveBack.ExecContext(ctx, rec.PPV, r.date); err != nil {
				return fmt.Errorf("partition %s: give back place: %w", p.key, err)
			}
			res[i].err = fmt.Errorf("book %s for person %q: %w", rec.ID, rec.PersonID, store.ErrDuplicate)
			continue
		}
		res[i].remaining = remaining
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("partition %s: commit: %w", p.key, err)
	}
	return nil
}

// Slots returns the state of the partition's slots of ppv within [from, to].
func (p *Partition) Slots(ctx context.Context, ppv string, from, to models.Date) ([]store.SlotState, error) {
	lo, hi := "0000-00-00", "9999-99-99"
	if !from.IsZero() {
		lo = from.String()
	}
	if !to.IsZero() {
		hi = to.String()
	}
	rows, err := p.qSlots.QueryContext(ctx, ppv, lo, hi)
	if err != nil {
		return nil, fmt.Errorf("partition %s: read slots: %w", p.key, err)
	}
	defer rows.Close()
	var out []store.SlotState
	for rows.Next() {
		var date string
		s := store.SlotState{PPV: ppv}
		if err := rows.Scan(&date, &s.Capacity, &s.Remaining); err != nil {
			return nil, fmt.Errorf("partition %s: read slots: %w", p.key, err)
		}
		if s.Date, err = models.ParseDate(date); err != nil {
			return nil, fmt.Errorf("partition %s: read slots: %w", p.key, err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partition %s: read slots: %w", p.key, err)
	}
	return out, nil
}

// Booking returns the booking with the given id or store.ErrNotFound.
func (p *Partition) Booking(ctx context.Context, id string) (store.Record, error) {
	rec := store.Record{Booking: models.Booking{ID: id}}
	var date string
	var created int64
	err := p.qBooking.QueryRowContext(ctx, id).Scan(&rec.PersonID, &rec.PPV, &date, &created, &rec.IdempotencyKey)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.Record{}, fmt.Errorf("booking %q in %s: %w", id, p.key, store.ErrNotFound)
	case err != nil:
		return store.Record{}, fmt.Errorf("partition %s: read booking: %w", p.key, err)
	}
	if rec.Date, err = models.ParseDate(date); err != nil {
		return store.Record{}, fmt.Errorf("partition %s: read booking %q: %w", p.key, id, err)
	}
	rec.CreatedAt = time.Unix(0, created).UTC()
	return rec, nil
}

// Scan calls fn for every stored booking in insertion order.
func (p *Partition) Scan(ctx context.Context, fn func(store.Record) error) error {
	rows, err := p.rdb.QueryContext(ctx, sqlScan)
	if err != nil {
		return fmt.Errorf("partition %s: scan: %w", p.key, err)
	}
	defer rows.Close()
	for rows.Next() {
		var rec store.Record
		var date string
		var created int64
		if err := rows.Scan(&rec.ID, &rec.PersonID, &rec.PPV, &date, &created, &rec.IdempotencyKey); err != nil {
			return fmt.Errorf("partition %s: scan: %w", p.key, err)
		}
		if rec.Date, err = models.ParseDate(date); err != nil {
			return fmt.Errorf("partition %s: scan booking %q: %w", p.key, rec.ID, err)
		}
		rec.CreatedAt = time.Unix(0, created).UTC()
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("partition %s: scan: %w", p.key, err)
	}
	return nil
}

// Audit returns every slot's seeded capacity, remaining counter and the
// number of booking rows stored for it, read in one read transaction.
func (p *Partition) Audit(ctx context.Context) ([]store.SlotAudit, error) {
	tx, err := p.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	defer tx.Rollback()
	var out []store.SlotAudit
	index := map[[2]string]int{}
	rows, err := tx.QueryContext(ctx, sqlAudit)
	if err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	for rows.Next() {
		var ppv, date string
		var a store.SlotAudit
		if err := rows.Scan(&ppv, &date, &a.Capacity, &a.Remaining); err != nil {
			rows.Close()
			return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
		}
		d, err := models.ParseDate(date)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
		}
		a.Slot = models.SlotKey{PPV: ppv, Date: d}
		index[[2]string{ppv, date}] = len(out)
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	rows, err = tx.QueryContext(ctx, sqlCounts)
	if err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	defer rows.Close()
	for rows.Next() {
		var ppv, date string
		var n int
		if err := rows.Scan(&ppv, &date, &n); err != nil {
			return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
		}
		i, ok := index[[2]string{ppv, date}]
		if !ok { // bookings of a slot the partition does not hold: all oversold
			d, _ := models.ParseDate(date)
			i = len(out)
			out = append(out, store.SlotAudit{Slot: models.SlotKey{PPV: ppv, Date: d}})
		}
		out[i].Booked = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("partition %s: audit: %w", p.key, err)
	}
	return out, nil
}

// close refuses new attempts, lets the writer commit what it has taken up
// and closes the databases.
func (p *Partition) close() error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		close(p.stop)
	}
	if p.started {
		<-p.stopped
	}
	return p.closeDBs()
}

func (p *Partition) closeDBs() error {
	var errs []error
	for _, st := range []*sql.Stmt{p.take, p.insert, p.giveBack, p.qSlots, p.qBooking} {
		if st != nil {
			st.Close()
		}
	}
	if p.rdb != nil {
		if err := p.rdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("partition %s: close readers: %w", p.key, err))
		}
	}
	if p.wdb != nil {
		if err := p.wdb.Close(); err != nil {
			errs = append(errs, fmt.Errorf("partition %s: close writer: %w", p.key, err))
		}
	}
	return errors.Join(errs...)
}
