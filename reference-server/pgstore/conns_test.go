package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// withAppName returns base with application_name set to name, so that a
// test finds its store's sessions in pg_stat_activity.
func withAppName(t testing.TB, base, name string) string {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s is not a URL: %v", envURL, err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// sessions returns the number of sessions named app on the cluster at u
// and, when state is not empty, in that state running query.
func sessions(t *testing.T, u, app, state, query string) int {
	t.Helper()
	sql := `SELECT count(*)::text FROM pg_stat_activity WHERE application_name = $1`
	args := []any{app}
	if state != "" {
		sql += ` AND state = $2 AND query = $3`
		args = append(args, state, query)
	}
	n, _ := strconv.Atoi(query1(t, u, sql, args...))
	return n
}

// query1 returns the first column of the first row of sql.
func query1(t *testing.T, u, sql string, args ...any) string {
	t.Helper()
	out := query(t, u, sql, args...)
	if len(out) == 0 {
		t.Fatalf("%s: no row", sql)
	}
	return out[0]
}

// TestClosed: after Close, Book and the reads fail with store.ErrClosed.
func TestClosed(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	for _, tt := range []struct {
		name string
		urls func(*testing.T) []string
	}{
		{"one shard", func(t *testing.T) []string { return []string{testURL(t)} }},
		{"two shards", twoDatabases},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			st, _ := openTest(t, "per-ppv", inv, tt.urls(t)...)
			s := inv.Slots[0]
			p := partitionOf(t, st, s)
			ctx := context.Background()
			if _, err := p.Book(ctx, record("b1", "ann", s)); err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := p.Book(ctx, record("b2", "bob", s)); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Book after Close: err = %v; want ErrClosed", err)
			}
			if _, err := p.Slots(ctx, s.PPV, s.Date, s.Date); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Slots after Close: err = %v; want ErrClosed", err)
			}
			if _, err := p.Booking(ctx, "b1"); !errors.Is(err, store.ErrClosed) {
				t.Errorf("Booking after Close: err = %v; want ErrClosed", err)
			}
			if _, err := st.PersonBooking(ctx, "ann"); !errors.Is(err, store.ErrClosed) {
				t.Errorf("PersonBooking after Close: err = %v; want ErrClosed", err)
			}
			if err := st.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
		})
	}
}

// TestMaxConns: a shard never holds more than Config.MaxConns sessions,
// however many Books wait, and they all finish once the slot is free.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	base := testURL(t)
	app := uniqueName("slotrush_t_")
	cfg := Config{URLs: []string{withAppName(t, base, app)}, Schema: uniqueName("t"), MaxConns: 3}
	st := openCfg(t, cfg, "monolithic", inv)
	t.Cleanup(func() { _ = Drop(context.Background(), cfg, models.Design{}) })
	s := inv.Slots[0]
	p := partitionOf(t, st, s)

	ctx := context.Background()
	locker, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(locker)
	tx, err := locker.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `SELECT 1 FROM `+st.lay.table("slots")+` WHERE ppv = $1 AND date = $2 FOR UPDATE`, s.PPV, s.Date.Time()); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { _, errs[i] = p.Book(ctx, record(fmt.Sprint("m", i), fmt.Sprint("p", i), s)) })
	}
	waitFor(t, func() bool { return p.Stats().BatchedAttempts == int64(cfg.MaxConns) }) // every connection waits for the lock
	if got := sessions(t, base, app, "", ""); got != cfg.MaxConns {
		t.Errorf("%d sessions with %d Books waiting; want MaxConns = %d", got, n, cfg.MaxConns)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Book %d: %v", i, err)
		}
	}
	if got := sessions(t, base, app, "", ""); got > cfg.MaxConns {
		t.Errorf("%d sessions after the Books; want at most %d", got, cfg.MaxConns)
	}
}

// TestCommitConnectionLost: when the connection breaks during COMMIT, Book
// waits for the old server process to end and looks the booking up; here
// the process was terminated before committing, so Book reports the
// booking not stored (not an unknown outcome) and nothing is written.
func TestCommitConnectionLost(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	base := testURL(t)
	app := uniqueName("slotrush_t_")
	cfg := Config{URLs: []string{withAppName(t, base, app)}, Schema: uniqueName("t"), MaxConns: 2}
	st := openCfg(t, cfg, "monolithic", inv)
	t.Cleanup(func() { _ = Drop(context.Background(), cfg, models.Design{}) })
	// A deferred constraint trigger makes COMMIT sleep: the window in
	// which the test kills the session.
	fn := pgx.Identifier{st.Namespace(), "slow_commit"}.Sanitize()
	admin(t, base, `CREATE FUNCTION `+fn+`() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN PERFORM pg_sleep(30); RETURN NULL; END$$`)
	admin(t, base, `CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON `+st.lay.table("bookings")+
		` DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION `+fn+`()`)
	s := inv.Slots[0]
	p := partitionOf(t, st, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Book(ctx, record("lost", "ann", s))
		done <- err
	}()
	waitFor(t, func() bool { return sessions(t, base, app, "active", "COMMIT") == 1 })
	cancel() // taken up: the caller's context no longer matters
	query(t, base, `SELECT pg_terminate_backend(pid)::text FROM pg_stat_activity
		WHERE application_name = $1 AND state = 'active' AND query = 'COMMIT'`, app)
	err := <-done
	if err == nil || errors.Is(err, errOutcomeUnknown) || !strings.Contains(err.Error(), "the booking is not stored") {
		t.Errorf("Book whose session died in COMMIT: err = %v; want the booking reported not stored", err)
	}
	admin(t, base, `DROP TRIGGER slow_commit ON `+st.lay.table("bookings"))
	if _, err := p.Booking(context.Background(), "lost"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Booking(lost) err = %v; want ErrNotFound", err)
	}
	if got := p.Stats(); got.Committed != 0 || got.Failed != 1 {
		t.Errorf("Stats = %+v; want 1 failed, none committed", got)
	}
	if _, err := p.Book(context.Background(), record("again", "ann", s)); err != nil {
		t.Errorf("Book after the lost connection: %v", err)
	}
}
