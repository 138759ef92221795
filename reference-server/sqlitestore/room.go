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
	roomDBName  = "room.db"
	roomKeyName = "room.key"
	roomKeyLen  = 32
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

const (
	sqlUpsertTicket = `INSERT INTO tickets (id, person_id, seq, queue_rank, joined_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, queue_rank = excluded.queue_rank, joined_at = excluded.joined_at`
	sqlPutAdmission = `INSERT OR REPLACE INTO admissions (first, until, at, expires) VALUES (?, ?, ?, ?)`
	sqlPutMeta      = `INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)`
)

// Room is the SQLite state of a waiting room: DIR/room.db (WAL,
// synchronous=FULL, one connection) and the signing key DIR/room.key (32
// random bytes, mode 0600). It is safe for concurrent use; Commit calls are
// serialized.
type Room struct {
	path string
	key  []byte
	db   *sql.DB

	mu     sync.Mutex // serializes Commit and Close; guards closed
	closed bool
}

var (
	_ store.Room      = (*Room)(nil)
	_ store.RoomStore = (*Store)(nil)
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
	r, err := openRoom(ctx, s.dir)
	if err != nil {
		return nil, fmt.Errorf("open waiting room in %s: %w", s.dir, err)
	}
	s.room = r
	return r, nil
}

func openRoom(ctx context.Context, dir string) (_ *Room, err error) {
	key, err := loadOrCreateKey(filepath.Join(dir, roomKeyName))
	if err != nil {
		return nil, err
	}
	r := &Room{path: filepath.Join(dir, roomDBName), key: key}
	if r.db, err = openWriter(ctx, r.path); err != nil {
		return nil, fmt.Errorf("%s: %w", r.path, err)
	}
	if _, err := r.db.ExecContext(ctx, roomSchema); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: create schema: %w", r.path, err), r.db.Close())
	}
	return r, nil
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
	r.mu.Lock()
	defer r.mu.Unlock()
	var st store.RoomState
	if r.closed {
		return st, store.ErrClosed
	}
	tx, err := r.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return st, fmt.Errorf("load room: %w", err)
	}
	defer tx.Rollback()

	meta := map[string]string{}
	rows, err := tx.QueryContext(ctx, `SELECT k, v FROM meta`)
	if err != nil {
		return st, fmt.Errorf("load room meta: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return st, fmt.Errorf("load room meta: %w", err)
		}
		meta[k] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("load room meta: %w", err)
	}
	if v, ok := meta["opened_at"]; ok {
		o := &store.Opening{Order: meta["order"]}
		at, err1 := strconv.ParseInt(v, 10, 64)
		seed, err2 := strconv.ParseUint(meta["seed"], 10, 64)
		crowd, err3 := strconv.ParseInt(meta["crowd"], 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			return st, fmt.Errorf("load room opening: %w", err)
		}
		o.At, o.Seed, o.Crowd = time.Unix(0, at).UTC(), seed, crowd
		st.Opening = o
	}

	rows, err = tx.QueryContext(ctx, `SELECT id, person_id, seq, queue_rank, joined_at FROM tickets ORDER BY seq`)
	if err != nil {
		return st, fmt.Errorf("load tickets: %w", err)
	}
	for rows.Next() {
		var t store.Ticket
		var joined int64
		if err := rows.Scan(&t.ID, &t.PersonID, &t.Seq, &t.Rank, &joined); err != nil {
			rows.Close()
			return st, fmt.Errorf("load tickets: %w", err)
		}
		t.JoinedAt = time.Unix(0, joined).UTC()
		st.Tickets = append(st.Tickets, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("load tickets: %w", err)
	}

	rows, err = tx.QueryContext(ctx, `SELECT first, until, at, expires FROM admissions ORDER BY first`)
	if err != nil {
		return st, fmt.Errorf("load admissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a store.Admission
		var at, exp int64
		if err := rows.Scan(&a.From, &a.To, &at, &exp); err != nil {
			return st, fmt.Errorf("load admissions: %w", err)
		}
		a.At, a.Expires = time.Unix(0, at).UTC(), time.Unix(0, exp).UTC()
		st.Admissions = append(st.Admissions, a)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("load admissions: %w", err)
	}
	return st, nil
}

// Commit writes c in one transaction with one fsync (WAL, synchronous=FULL).
func (r *Room) Commit(ctx context.Context, c store.RoomChange) (err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return store.ErrClosed
	}
	if c.Empty() {
		return nil
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("commit room: begin: %w", err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	if o := c.Opening; o != nil {
		for _, kv := range [][2]string{
			{"opened_at", strconv.FormatInt(o.At.UnixNano(), 10)},
			{"order", o.Order},
			{"seed", strconv.FormatUint(o.Seed, 10)},
			{"crowd", strconv.FormatInt(o.Crowd, 10)},
		} {
			if _, err := tx.ExecContext(ctx, sqlPutMeta, kv[0], kv[1]); err != nil {
				return fmt.Errorf("commit room: opening: %w", err)
			}
		}
	}
	if len(c.Tickets) > 0 {
		st, err := tx.PrepareContext(ctx, sqlUpsertTicket)
		if err != nil {
			return fmt.Errorf("commit room: %w", err)
		}
		defer st.Close()
		for _, t := range c.Tickets {
			if _, err := st.ExecContext(ctx, t.ID, t.PersonID, t.Seq, t.Rank, t.JoinedAt.UnixNano()); err != nil {
				return fmt.Errorf("commit room: ticket %s: %w", t.ID, err)
			}
		}
	}
	if len(c.Admissions) > 0 {
		st, err := tx.PrepareContext(ctx, sqlPutAdmission)
		if err != nil {
			return fmt.Errorf("commit room: %w", err)
		}
		defer st.Close()
		for _, a := range c.Admissions {
			if _, err := st.ExecContext(ctx, a.From, a.To, a.At.UnixNano(), a.Expires.UnixNano()); err != nil {
				return fmt.Errorf("commit room: admission [%d, %d): %w", a.From, a.To, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit room: %w", err)
	}
	return nil
}

// close closes the database; later calls return store.ErrClosed.
func (r *Room) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if err := r.db.Close(); err != nil {
		return fmt.Errorf("close room: %w", err)
	}
	return nil
}
