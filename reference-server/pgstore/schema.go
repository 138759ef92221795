package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// schemaFormat is the version of the layout below, recorded in meta.
const schemaFormat = "1"

// layout is what a namespace holds on one shard: the design's partitions
// and which of them the shard stores.
type layout struct {
	ns          string
	scheme      models.Scheme
	design      string
	parts       []models.Partition
	shards      int
	partitioned bool // LIST partitions (per-ppv, per-ppv-day); monolithic is one plain table
}

// table returns the quoted, schema-qualified name of table name.
func (l *layout) table(name string) string { return pgx.Identifier{l.ns, name}.Sanitize() }

// shardOf returns the shard of the i-th partition.
func (l *layout) shardOf(i int) int { return i % l.shards }

// quoteLiteral returns s as an SQL string literal (standard_conforming_strings).
func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ddl returns the statements creating the namespace on shard: the tables
// and, when partitioned, one LIST partition of slots and of bookings per
// partition of the design stored on the shard.
func (l *layout) ddl(shard int) []string {
	partBy, fill := "", " WITH (fillfactor = 50)" // room for HOT updates of remaining
	if l.partitioned {
		partBy, fill = " PARTITION BY LIST (part_key)", ""
	}
	out := []string{
		`CREATE SCHEMA ` + pgx.Identifier{l.ns}.Sanitize(),
		`CREATE TABLE ` + l.table("meta") + ` (k text PRIMARY KEY, v text NOT NULL)`,
		`CREATE TABLE ` + l.table("slots") + ` (
			part_key  text NOT NULL,
			ppv       text NOT NULL,
			date      date NOT NULL,
			capacity  integer NOT NULL CHECK (capacity >= 0),
			remaining integer NOT NULL CHECK (remaining >= 0 AND remaining <= capacity),
			PRIMARY KEY (part_key, ppv, date))` + partBy + fill,
		`CREATE TABLE ` + l.table("bookings") + ` (
			part_key   text NOT NULL,
			id         text NOT NULL,
			person_id  text NOT NULL,
			ppv        text NOT NULL,
			date       date NOT NULL,
			created_at bigint NOT NULL,
			idem_key   text NOT NULL DEFAULT '',
			PRIMARY KEY (part_key, id))` + partBy,
		`CREATE TABLE ` + l.table("persons") + ` (
			person_id  text PRIMARY KEY,
			booking_id text NOT NULL UNIQUE,
			part_key   text NOT NULL,
			state      text NOT NULL CHECK (state IN ('pending', 'booked')),
			claimed_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE INDEX ON ` + l.table("persons") + ` (claimed_at) WHERE state = 'pending'`,
		`CREATE TABLE ` + l.table("booking_ids") + ` (
			booking_id text PRIMARY KEY,
			void       boolean NOT NULL DEFAULT false)`,
	}
	if !l.partitioned {
		return out
	}
	for i, p := range l.parts {
		if l.shardOf(i) != shard {
			continue
		}
		in := ` FOR VALUES IN (` + quoteLiteral(string(p.Key)) + `)`
		out = append(out,
			`CREATE TABLE `+l.table("slots_p"+strconv.Itoa(i))+` PARTITION OF `+l.table("slots")+in+` WITH (fillfactor = 50)`,
			`CREATE TABLE `+l.table("bookings_p"+strconv.Itoa(i))+` PARTITION OF `+l.table("bookings")+in)
	}
	return out
}

// meta returns what the namespace's meta table records on shard.
func (l *layout) meta(inv *models.Inventory, shard int) map[string]string {
	return map[string]string{
		"format":     schemaFormat,
		"store":      "pgstore",
		"scheme":     string(l.scheme),
		"design":     l.design,
		"inventory":  InventoryHash(inv),
		"slots":      strconv.Itoa(len(inv.Slots)),
		"capacity":   strconv.Itoa(inv.TotalCapacity()),
		"partitions": strconv.Itoa(len(l.parts)),
		"shard":      strconv.Itoa(shard),
		"shards":     strconv.Itoa(l.shards),
		"created_at": time.Now().UTC().Format(time.RFC3339),
	}
}

// ensure creates and seeds the namespace on shard when it does not exist,
// or checks that it holds this design's scheme, inventory and sharding.
// An advisory lock held for the transaction makes concurrent opens (other
// processes) wait for the one creating it. It reports whether it created
// the namespace.
func (l *layout) ensure(ctx context.Context, c *pgx.Conn, inv *models.Inventory, shard int) (created bool, err error) {
	err = pgx.BeginFunc(ctx, c, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey(l.ns)); err != nil {
			return fmt.Errorf("lock namespace: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, l.ns).Scan(&exists); err != nil {
			return fmt.Errorf("look for schema: %w", err)
		}
		want := l.meta(inv, shard)
		if exists {
			return l.check(ctx, tx, want)
		}
		created = true
		return l.create(ctx, tx, want, shard)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "53200" {
		err = fmt.Errorf("%w (creating %d partitions takes a lock on each of their tables in one transaction: raise the server's max_locks_per_transaction)",
			err, len(l.parts))
	}
	return created, err
}

// create runs the DDL of shard, seeds its slots with their capacity and
// writes want into meta, inside tx.
func (l *layout) create(ctx context.Context, tx pgx.Tx, want map[string]string, shard int) error {
	for _, q := range l.ddl(shard) {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("create schema: %w", err)
		}
	}
	var rows [][]any
	for i, p := range l.parts {
		if l.shardOf(i) != shard {
			continue
		}
		for _, s := range p.Slots {
			rows = append(rows, []any{string(p.Key), s.PPV, s.Date.Time(), s.Capacity, s.Capacity})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{l.ns, "slots"},
		[]string{"part_key", "ppv", "date", "capacity", "remaining"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("seed slots: %w", err)
	}
	for k, v := range want {
		if _, err := tx.Exec(ctx, `INSERT INTO `+l.table("meta")+` (k, v) VALUES ($1, $2)`, k, v); err != nil {
			return fmt.Errorf("write meta: %w", err)
		}
	}
	return nil
}

// check compares the existing namespace's meta with want.
func (l *layout) check(ctx context.Context, tx pgx.Tx, want map[string]string) error {
	var reg *string
	if err := tx.QueryRow(ctx, `SELECT to_regclass($1)::text`, l.table("meta")).Scan(&reg); err != nil {
		return fmt.Errorf("look for meta: %w", err)
	}
	if reg == nil {
		return fmt.Errorf("schema %s exists but holds no slotrush store; drop it or choose another prefix: %w", l.ns, store.ErrMismatch)
	}
	rows, err := tx.Query(ctx, `SELECT k, v FROM `+l.table("meta"))
	if err != nil {
		return fmt.Errorf("read meta: %w", err)
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var kv [2]string
		err := r.Scan(&kv[0], &kv[1])
		return kv, err
	})
	if err != nil {
		return fmt.Errorf("read meta: %w", err)
	}
	have := map[string]string{}
	for _, kv := range got {
		have[kv[0]] = kv[1]
	}
	for _, k := range []string{"format", "store", "scheme", "inventory", "shards", "shard"} {
		if have[k] != want[k] {
			return fmt.Errorf("schema %s holds design %q (scheme %s, %s slots, inventory %.12s, shard %s of %s, format %s); "+
				"asked for design %q (scheme %s, %s slots, inventory %.12s, shard %s of %s, format %s); "+
				"drop it (slotrush run does) or choose another prefix: %w",
				l.ns, have["design"], have["scheme"], have["slots"], have["inventory"], have["shard"], have["shards"], have["format"],
				want["design"], want["scheme"], want["slots"], want["inventory"], want["shard"], want["shards"], want["format"],
				store.ErrMismatch)
		}
	}
	return nil
}

// InventoryHash returns the SHA-256 (hex) of the slot inventory of inv:
// every slot's PPV, day and capacity, in a canonical order. PPV names and
// states do not enter it, since they are not stored. It equals
// sqlitestore.InventoryHash.
func InventoryHash(inv *models.Inventory) string {
	slots := append([]models.Slot(nil), inv.Slots...)
	sort.Slice(slots, func(i, j int) bool {
		if slots[i].PPV != slots[j].PPV {
			return slots[i].PPV < slots[j].PPV
		}
		return slots[i].Date.Before(slots[j].Date)
	})
	h := sha256.New()
	for _, s := range slots {
		fmt.Fprintf(h, "%q %s %d\n", s.PPV, s.Date, s.Capacity)
	}
	return hex.EncodeToString(h.Sum(nil))
}
