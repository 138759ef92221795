package pgstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// envURL names the environment variable holding the test cluster's URL.
const envURL = "SLOTRUSH_TEST_POSTGRES"

// skipOrFail skips the test with msg, or fails it under CI=true, where
// nothing may be skipped for lack of a tool.
func skipOrFail(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: required)")
	}
	t.Skip(msg)
}

// testURL returns the URL of the test cluster, or skips the test when
// SLOTRUSH_TEST_POSTGRES is unset (fails it under CI=true).
func testURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(envURL)
	if u == "" {
		skipOrFail(t, "set "+envURL+"=postgres://... (scripts/start-postgres.sh starts a throw-away cluster)")
	}
	return u
}

// uniqueName returns a fresh lower-case SQL name starting with prefix.
func uniqueName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // never fails
	return prefix + hex.EncodeToString(b)
}

// schemaFor returns the test schema of a data directory: "t" and a short
// hash of it, so that parallel subtests never share one.
func schemaFor(dir string) string {
	sum := sha256.Sum256([]byte(dir))
	return "t" + hex.EncodeToString(sum[:6])
}

// testOpener returns an opener over urls that gives each data directory its
// own schema (Config.Schema) and drops every schema it made when t ends.
func testOpener(t *testing.T, urls ...string) store.Opener {
	var mu sync.Mutex // guards made
	made := map[string]bool{}
	t.Cleanup(func() {
		for schema := range made {
			if err := Drop(context.Background(), Config{URLs: urls, Schema: schema}, models.Design{}); err != nil {
				t.Errorf("drop %s: %v", schema, err)
			}
		}
	})
	return func(ctx context.Context, dir string, d models.Design, inv models.Inventory) (store.Store, error) {
		cfg := Config{URLs: urls, Schema: schemaFor(dir), MaxConns: 8}
		mu.Lock()
		made[cfg.Schema] = true
		mu.Unlock()
		s, err := Open(ctx, cfg, d, inv)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// openTest opens a store of the named design over inv in a fresh schema
// over urls, closed and dropped when t ends.
func openTest(t *testing.T, name string, inv models.Inventory, urls ...string) (*Store, Config) {
	t.Helper()
	cfg := Config{URLs: urls, Schema: uniqueName("t"), MaxConns: 8}
	s := openCfg(t, cfg, name, inv)
	t.Cleanup(func() {
		if err := Drop(context.Background(), cfg, models.Design{}); err != nil {
			t.Errorf("drop %s: %v", cfg.Schema, err)
		}
	})
	return s, cfg
}

// openCfg opens a store of the named design over inv with cfg, closed when
// t ends.
func openCfg(t *testing.T, cfg Config, name string, inv models.Inventory) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg, design(t, name), inv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func design(t testing.TB, name string) models.Design {
	t.Helper()
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// withDatabase returns base with its database replaced by db.
func withDatabase(t testing.TB, base, db string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", envURL, err)
	}
	u.Path = "/" + db
	return u.String()
}

// admin runs sql on the database at u.
func admin(t testing.TB, u, sql string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(c)
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// twoDatabases creates two databases on the test cluster for a two-shard
// store and returns their URLs; they are dropped when t ends.
func twoDatabases(t *testing.T) []string {
	t.Helper()
	base := testURL(t)
	var urls []string
	for range 2 {
		db := uniqueName("slotrush_test_")
		admin(t, base, "CREATE DATABASE "+db)
		t.Cleanup(func() { admin(t, base, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") })
		urls = append(urls, withDatabase(t, base, db))
	}
	return urls
}

// record returns a booking of person in slot s.
func record(id, person string, s models.Slot) store.Record {
	return store.Record{Booking: models.Booking{ID: id, PersonID: person, PPV: s.PPV, Date: s.Date,
		CreatedAt: time.Date(2021, 5, 26, 10, 0, 0, 123456000, time.UTC)}, IdempotencyKey: "k-" + id}
}

// partitionOf returns the partition of st holding slot s.
func partitionOf(t testing.TB, st *Store, s models.Slot) *Partition {
	t.Helper()
	for i := range st.Partitions() {
		p := st.Partition(i)
		if p.slots[s.Key()] {
			return p
		}
	}
	t.Fatalf("no partition holds %s", s.Key())
	return nil
}

// slotsInDistinctPartitions returns n slots of inv, each in another
// partition of design name.
func slotsInDistinctPartitions(t testing.TB, name string, inv models.Inventory, n int) []models.Slot {
	t.Helper()
	d := design(t, name)
	seen := map[models.PartitionKey]bool{}
	var out []models.Slot
	for _, s := range inv.Slots {
		if k := d.Key(s.Key()); !seen[k] && len(out) < n {
			seen[k] = true
			out = append(out, s)
		}
	}
	if len(out) < n {
		t.Fatalf("only %d partitions", len(out))
	}
	return out
}

// outcome names a Book error for tallies.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrSoldOut):
		return "sold_out"
	case errors.Is(err, store.ErrDuplicate):
		return "duplicate"
	}
	return fmt.Sprint("error: ", err)
}
