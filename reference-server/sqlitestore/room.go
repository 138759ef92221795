package sqlitestore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/slotrush/slotrush/reference-server/store"
)

const (
	roomDBName    = "room.db"
	centreDBName  = "centre-rooms.db"
	roomKeyName   = "room.key"
	roomKeyLen    = 32
	maxCentreRoom = 4096 // bytes of a PPV id a centre room accepts
)

const roomSchema = `
CREATE TABLE IF NOT EXISTS meta (
	k TEXT PRIMARY KEY,
	v TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tickets (
	id         TEXT PRIMARY KEY,
	person_id  TEXT NOT NULL UNIQUE,
	seq        INTEGER NOT NULL,
	queue_rank INTEGER NOT NULL CHECK (queue_rank >= -1),
	joined_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS admissions (
	first   INTEGER PRIMARY KEY,
	until   INTEGER NOT NULL CHECK (until > first),
	at      INTEGER NOT NULL,
	expires INTEGER NOT NULL
);
`

// The rooms per centre share DIR/centre-rooms.db: the same tables with the
// centre's PPV id first in every key.
const centreSchema = `
CREATE TABLE IF NOT EXISTS centre_meta (
	ppv TEXT NOT NULL,
	k   TEXT NOT NULL,
	v   TEXT NOT NULL,
	PRIMARY KEY (ppv, k)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS centre_tickets (
	ppv        TEXT NOT NULL,
	id         TEXT NOT NULL,
	person_id  TEXT NOT NULL,
	seq        INTEGER NOT NULL,
	queue_rank INTEGER NOT NULL CHECK (queue_rank >= -1),
	joined_at  INTEGER NOT NULL,
	PRIMARY KEY (ppv, id),
	UNIQUE (ppv, person_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS centre_admissions (
	ppv     TEXT NOT NULL,
	first   INTEGER NOT NULL,
	until   INTEGER NOT NULL CHECK (until > first),
	at      INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	PRIMARY KEY (ppv, first)
) WITHOUT ROWID;
`

// roomSQL is the statements of one kind of room; every statement of a
// centre's room takes the PPV id as its first argument.
type roomSQL struct {
	meta, tickets, admissions           string
	upsertTicket, putAdmission, putMeta string
}

var singleRoomSQL = roomSQL{
	meta:       `SELECT k, v FROM meta`,
	tickets:    `SELECT id, person_id, seq, queue_rank, joined_at FROM tickets ORDER BY seq`,
	admissions: `SELECT first, until, at, expires FROM admissions ORDER BY first`,
	upsertTicket: `INSERT INTO tickets (id, person_id, seq, queue_rank, joined_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, queue_rank = excluded.queue_rank, joined_at = excluded.joined_at`,
	putAdmission: `INSERT OR REPLACE INTO admissions (first, until, at, expires) VALUES (?, ?, ?, ?)`,
	putMeta:      `INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)`,
}

var centreRoomSQL = roomSQL{
	meta:       `SELECT k, v FROM centre_meta WHERE ppv = ?`,
	tickets:    `SELECT id, person_id, seq, queue_rank, joined_at FROM centre_tickets WHERE ppv = ? ORDER BY seq`,
	admissions: `SELECT first, until, at, expires FROM centre_admissions WHERE ppv = ? ORDER BY first`,
	upsertTicket: `INSERT INTO centre_tickets (ppv, id, person_id, seq, queue_rank, joined_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (ppv, id) DO UPDATE SET seq = excluded.seq, queue_rank = excluded.queue_rank, joined_at = excluded.joined_at`,
	putAdmission: `INSERT OR REPLACE INTO centre_admissions (ppv, first, until, at, expires) VALUES (?, ?, ?, ?, ?)`,
	putMeta:      `INSERT OR REPLACE INTO centre_meta (ppv, k, v) VALUES (?, ?, ?)`,
}

// roomDB is one room database (WAL, synchronous=FULL, one connection). It
// is safe for concurrent use.
type roomDB struct {
	path string
	db   *sql.DB

	mu     sync.Mutex // serializes Load, the commits and close; guards closed
	closed bool

	gmu     sync.Mutex    // guards queued and leading
	queued  []*roomCommit // changes for the next commit
	leading bool          // a caller is committing the queued changes
}

// Room is the SQLite state of a waiting room: the single room's in
// DIR/room.db, a centre's in DIR/centre-rooms.db (rows keyed by its PPV
// id), and the signing key all share, DIR/room.key (32 random bytes, mode
// 0600). It is safe for concurrent use; Commit calls are serialized.
type Room struct {
	key   []byte
	db    *roomDB
	q     *roomSQL
	scope []any // the arguments naming the room: none, or the centre's PPV id
}

var (
	_ store.Room            = (*Room)(nil)
	_ store.CentreRoomStore = (*Store)(nil)
)

// Room opens the store's waiting room (DIR/room.db and DIR/room.key),
// creating it when absent; later calls return the same Room. Close of the
// store closes it. It returns store.ErrClosed after Close, and an error when
// the key file is unreadable, of the wrong size, or readable by group or
// others.
func (s *Store) Room(ctx context.Context) (store.Room, error) {
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	if s.roomClosed {
		return nil, store.ErrClosed
	}
	if s.room != nil {
		return s.room, nil
	}
	key, err := loadOrCreateKey(filepath.Join(s.dir, roomKeyName))
	if err != nil {
		return nil, fmt.Errorf("open waiting room in %s: %w", s.dir, err)
	}
	db, err := openRoomDB(ctx, filepath.Join(s.dir, roomDBName), roomSchema)
	if err != nil {
		return nil, fmt.Errorf("open waiting room in %s: %w", s.dir, err)
	}
	s.room = &Room{key: key, db: db, q: &singleRoomSQL}
	return s.room, nil
}

// CentreRoom opens the waiting room of centre ppv (its rows of
// DIR/centre-rooms.db, and DIR/room.key), creating it when absent; later
// calls with the same ppv return the same Room. Close of the store closes
// it. It returns store.ErrClosed after Close, an error for an empty or
// over-long ppv, and the errors of Room's key.
func (s *Store) CentreRoom(ctx context.Context, ppv string) (store.Room, error) {
	if ppv == "" || len(ppv) > maxCentreRoom {
		return nil, fmt.Errorf("centre room: PPV id of %d bytes: want 1 to %d", len(ppv), maxCentreRoom)
	}
	s.roomMu.Lock()
	defer s.roomMu.Unlock()
	if s.roomClosed {
		return nil, store.ErrClosed
	}
	if r := s.centreRooms[ppv]; r != nil {
		return r, nil
	}
	key, err := loadOrCreateKey(filepath.Join(s.dir, roomKeyName))
	if err != nil {
		return nil, fmt.Errorf("open centre room %q in %s: %w", ppv, s.dir, err)
	}
	if s.centreDB == nil {
		if s.centreDB, err = openRoomDB(ctx, filepath.Join(s.dir, centreDBName), centreSchema); err != nil {
			return nil, fmt.Errorf("open centre rooms in %s: %w", s.dir, err)
		}
		s.centreRooms = map[string]*Room{}
	}
	r := &Room{key: key, db: s.centreDB, q: &centreRoomSQL, scope: []any{ppv}}
	s.centreRooms[ppv] = r
	return r, nil
}

// openRoomDB opens (creating) the room database at path with schema.
func openRoomDB(ctx context.Context, path, schema string) (*roomDB, error) {
	db, err := openWriter(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: create schema: %w", path, err), db.Close())
	}
	return &roomDB{path: path, db: db}, nil
}

// args returns the room's scope followed by rest.
func (r *Room) args(rest ...any) []any {
	if len(r.scope) == 0 {
		return rest
	}
	return append(append(make([]any, 0, len(r.scope)+len(rest)), r.scope...), rest...)
}

// loadOrCreateKey reads the room's signing key at path, or creates it
// (random, 0600, written atomically and fsynced) when absent.
func loadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	switch {
	case err == nil:
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("room key: %w", err)
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return nil, fmt.Errorf("room key %s is readable by others (mode %#o): chmod 600 it", path, perm)
		}
		if len(key) != roomKeyLen {
			return nil, fmt.Errorf("room key %s holds %d bytes; want %d (delete it to make a new one, which voids issued tokens)", path, len(key), roomKeyLen)
		}
		return key, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("room key: %w", err)
	}
	key = make([]byte, roomKeyLen)
	rand.Read(key) // never fails (crypto/rand since Go 1.24)
	if err := writeBytesSync(path, key, 0o600); err != nil {
		return nil, fmt.Errorf("room key: %w", err)
	}
	return key, nil
}

// Key returns the room's signing key. The caller must not modify it.
func (r *Room) Key() []byte { return r.key }

// Load reads the whole room in one read transaction.
func (r *Room) Load(ctx context.Context) (store.RoomState, error) {
	r.db.mu.Lock()
	defer r.db.mu.Unlock()
	var st store.RoomState
	if r.db.closed {
		return st, store.ErrClosed
	}
	tx, err := r.db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("load room: %w", err)
	}
	defer tx.Rollback()
	if st.Opening, err = r.loadOpening(ctx, tx); err != nil {
		return st, err
	}
	if st.Tickets, err = r.loadTickets(ctx, tx); err != nil {
		return st, err
	}
	if st.Admissions, err = r.loadAdmissions(ctx, tx); err != nil {
		return st, err
	}
	return st, nil
}

// loadOpening reads the room's opening, nil when it has not opened.
func (r *Room) loadOpening(ctx context.Context, tx *sql.Tx) (*store.Opening, error) {
	meta := map[string]string{}
	rows, err := tx.QueryContext(ctx, r.q.meta, r.args()...)
	if err != nil {
		return nil, fmt.Errorf("load room meta: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("load room meta: %w", err)
		}
		meta[k] = v
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load room meta: %w", err)
	}
	v, ok := meta["opened_at"]
	if !ok {
		return nil, nil
	}
	o := &store.Opening{Order: meta["order"]}
	at, err1 := strconv.ParseInt(v, 10, 64)
	seed, err2 := strconv.ParseUint(meta["seed"], 10, 64)
	crowd, err3 := strconv.ParseInt(meta["crowd"], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("load room opening: %w", err)
	}
	o.At, o.Seed, o.Crowd = time.Unix(0, at).UTC(), seed, crowd
	return o, nil
}

// loadTickets reads the room's tickets in join order.
func (r *Room) loadTickets(ctx context.Context, tx *sql.Tx) ([]store.Ticket, error) {
	rows, err := tx.QueryContext(ctx, r.q.tickets, r.args()...)
	if err != nil {
		return nil, fmt.Errorf("load tickets: %w", err)
	}
	defer rows.Close()
	var out []store.Ticket
	for rows.Next() {
		var t store.Ticket
		var joined int64
		if err := rows.Scan(&t.ID, &t.PersonID, &t.Seq, &t.Rank, &joined); err != nil {
			return nil, fmt.Errorf("load tickets: %w", err)
		}
		t.JoinedAt = time.Unix(0, joined).UTC()
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load tickets: %w", err)
	}
	return out, nil
}

// loadAdmissions reads the room's admission rounds in rank order.
func (r *Room) loadAdmissions(ctx context.Context, tx *sql.Tx) ([]store.Admission, error) {
	rows, err := tx.QueryContext(ctx, r.q.admissions, r.args()...)
	if err != nil {
		return nil, fmt.Errorf("load admissions: %w", err)
	}
	defer rows.Close()
	var out []store.Admission
	for rows.Next() {
		var a store.Admission
		var at, exp int64
		if err := rows.Scan(&a.From, &a.To, &at, &exp); err != nil {
			return nil, fmt.Errorf("load admissions: %w", err)
		}
		a.At, a.Expires = time.Unix(0, at).UTC(), time.Unix(0, exp).UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load admissions: %w", err)
	}
	return out, nil
}

// Commit writes c in one transaction with one fsync (WAL, synchronous=FULL).
// The rooms per centre share a database and commit together: the changes
// of the rooms that call Commit while a commit runs go in the next
// transaction, one for all of them (group commit); if it fails, none of
// them is written and each caller gets the error.
func (r *Room) Commit(ctx context.Context, c store.RoomChange) error {
	if c.Empty() {
		r.db.mu.Lock()
		defer r.db.mu.Unlock()
		if r.db.closed {
			return store.ErrClosed
		}
		return nil
	}
	return r.db.commit(ctx, &roomCommit{r: r, c: c, done: make(chan struct{})})
}

// roomCommit is one room's change waiting for the database's next commit.
type roomCommit struct {
	r    *Room
	c    store.RoomChange
	err  error
	done chan struct{} // closed once err is set
}

// commit queues rc and waits for it: the first caller leads, committing
// what is queued, batch after batch, until nothing is left.
func (d *roomDB) commit(ctx context.Context, rc *roomCommit) error {
	d.gmu.Lock()
	d.queued = append(d.queued, rc)
	if d.leading {
		d.gmu.Unlock()
		<-rc.done
		return rc.err
	}
	d.leading = true
	for len(d.queued) > 0 {
		batch := d.queued
		d.queued = nil
		d.gmu.Unlock()
		err := d.commitBatch(ctx, batch)
		for _, b := range batch {
			b.err = err
			close(b.done)
		}
		d.gmu.Lock()
	}
	d.leading = false
	d.gmu.Unlock()
	return rc.err
}

// commitBatch writes the changes of batch in one transaction.
func (d *roomDB) commitBatch(ctx context.Context, batch []*roomCommit) (err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return store.ErrClosed
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit room: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	for _, b := range batch {
		if err := b.r.write(ctx, tx, b.c); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit room: %w", err)
	}
	return nil
}

// write writes c of room r in tx.
func (r *Room) write(ctx context.Context, tx *sql.Tx, c store.RoomChange) error {
	if err := r.commitOpening(ctx, tx, c.Opening); err != nil {
		return err
	}
	if len(c.Tickets) > 0 {
		st, err := tx.PrepareContext(ctx, r.q.upsertTicket)
		if err != nil {
			return fmt.Errorf("commit room: %w", err)
		}
		defer st.Close()
		for _, t := range c.Tickets {
			if _, err := st.ExecContext(ctx, r.args(t.ID, t.PersonID, t.Seq, t.Rank, t.JoinedAt.UnixNano())...); err != nil {
				return fmt.Errorf("commit room: ticket %s: %w", t.ID, err)
			}
		}
	}
	if len(c.Admissions) > 0 {
		st, err := tx.PrepareContext(ctx, r.q.putAdmission)
		if err != nil {
			return fmt.Errorf("commit room: %w", err)
		}
		defer st.Close()
		for _, a := range c.Admissions {
			if _, err := st.ExecContext(ctx, r.args(a.From, a.To, a.At.UnixNano(), a.Expires.UnixNano())...); err != nil {
				return fmt.Errorf("commit room: admission [%d, %d): %w", a.From, a.To, err)
			}
		}
	}
	return nil
}

// commitOpening records o (nil: nothing) in tx.
func (r *Room) commitOpening(ctx context.Context, tx *sql.Tx, o *store.Opening) error {
	if o == nil {
		return nil
	}
	for _, kv := range [][2]string{
		{"opened_at", strconv.FormatInt(o.At.UnixNano(), 10)},
		{"order", o.Order},
		{"seed", strconv.FormatUint(o.Seed, 10)},
		{"crowd", strconv.FormatInt(o.Crowd, 10)},
	} {
		if _, err := tx.ExecContext(ctx, r.q.putMeta, r.args(kv[0], kv[1])...); err != nil {
			return fmt.Errorf("commit room: opening: %w", err)
		}
	}
	return nil
}

// close closes the database; later calls return store.ErrClosed.
func (d *roomDB) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	if err := d.db.Close(); err != nil {
		return fmt.Errorf("close room %s: %w", d.path, err)
	}
	return nil
}
