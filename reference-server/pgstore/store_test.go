package pgstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/store/storetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, testOpener(t, testURL(t)))
}

// TestConformanceTwoShards runs the suite over two databases: partitions
// and persons spread over both, the claim protocol on every booking.
func TestConformanceTwoShards(t *testing.T) {
	t.Parallel()
	storetest.Run(t, testOpener(t, twoDatabases(t)...))
}

// shardings are the shard counts the concurrency tests run with.
var shardings = []struct {
	name   string
	shards int
}{{"one-server", 1}, {"two-shards", 2}}

// urlsFor returns the URLs of a store with n shards.
func urlsFor(t *testing.T, n int) []string {
	t.Helper()
	if n == 1 {
		return []string{testURL(t)}
	}
	return twoDatabases(t)
}

// TestLastPlacesAcrossPartitions: crowds race for the last places of
// slots in several partitions at once, through two stores (two API
// servers) over one namespace: every slot sells exactly its places.
func TestLastPlacesAcrossPartitions(t *testing.T) {
	t.Parallel()
	for _, tt := range shardings {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const places, crowd = 3, 25
			inv := models.SmallInventory()
			for i := range inv.Slots {
				inv.Slots[i].Capacity = places
			}
			a, cfg := openTest(t, "per-ppv-day", inv, urlsFor(t, tt.shards)...)
			b := openCfg(t, cfg, "per-ppv-day", inv)
			slots := slotsInDistinctPartitions(t, "per-ppv-day", inv, 5)
			var mu sync.Mutex // guards counts
			counts := map[string]int{}
			var wg sync.WaitGroup
			for j, s := range slots {
				for i := range crowd {
					st := []*Store{a, b}[i%2]
					wg.Go(func() {
						_, err := partitionOf(t, st, s).Book(context.Background(), record(fmt.Sprintf("b%d-%d", j, i), fmt.Sprintf("p%d-%d", j, i), s))
						mu.Lock()
						counts[outcome(err)]++
						mu.Unlock()
					})
				}
			}
			wg.Wait()
			n := len(slots)
			if counts["ok"] != n*places || counts["sold_out"] != n*(crowd-places) || len(counts) != 2 {
				t.Errorf("outcomes = %v; want %d ok and %d sold_out", counts, n*places, n*(crowd-places))
			}
			for _, s := range slots {
				audit, err := partitionOf(t, a, s).Audit(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, au := range audit {
					if au.Slot == s.Key() && (au.Booked != places || au.Remaining != 0) {
						t.Errorf("audit %s = %+v; want %d booked, 0 remaining", s.Key(), au, places)
					}
				}
			}
		})
	}
}

// TestOnePersonManyPartitions: one person books slots in several
// partitions at once, through two stores: exactly one booking succeeds,
// the others are duplicates, and PersonBooking finds the winner.
func TestOnePersonManyPartitions(t *testing.T) {
	t.Parallel()
	for _, tt := range shardings {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inv := models.SmallInventory()
			a, cfg := openTest(t, "per-ppv-day", inv, urlsFor(t, tt.shards)...)
			b := openCfg(t, cfg, "per-ppv-day", inv)
			slots := slotsInDistinctPartitions(t, "per-ppv-day", inv, 6)
			for round := range 5 {
				person := fmt.Sprint("solo-", round)
				var mu sync.Mutex // guards won and counts
				var won []string
				counts := map[string]int{}
				var wg sync.WaitGroup
				for j, s := range slots {
					st := []*Store{a, b}[j%2]
					id := fmt.Sprintf("r%d-%d", round, j)
					wg.Go(func() {
						_, err := partitionOf(t, st, s).Book(context.Background(), record(id, person, s))
						mu.Lock()
						defer mu.Unlock()
						counts[outcome(err)]++
						if err == nil {
							won = append(won, id)
						}
					})
				}
				wg.Wait()
				if counts["ok"] != 1 || counts["duplicate"] != len(slots)-1 {
					t.Fatalf("round %d: outcomes = %v; want 1 ok, %d duplicate", round, counts, len(slots)-1)
				}
				for _, st := range []*Store{a, b} {
					if got, err := st.PersonBooking(context.Background(), person); err != nil || got.ID != won[0] {
						t.Errorf("PersonBooking(%s) = %+v, %v; want booking %s", person, got, err, won[0])
					}
				}
			}
		})
	}
}

// TestBookOnceTakenUp: a Book waiting for a locked slot finishes even
// when its context ends; a Book waiting for a connection returns its
// context's error with nothing written.
func TestBookOnceTakenUp(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	url := testURL(t)
	cfg := Config{URLs: []string{url}, Schema: uniqueName("t"), MaxConns: 1}
	st := openCfg(t, cfg, "monolithic", inv)
	t.Cleanup(func() { _ = Drop(context.Background(), cfg, models.Design{}) })
	s := inv.Slots[0]
	p := partitionOf(t, st, s)

	ctx := context.Background()
	locker, err := pgx.Connect(ctx, url)
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
	first, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := p.Book(first, record("held", "ann", s))
		done <- err
	}()
	waitFor(t, func() bool { return p.Stats().BatchedAttempts == 1 }) // taken up, waiting for the lock
	cancel()
	short, cancel2 := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel2()
	if _, err := p.Book(short, record("queued", "bob", s)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Book waiting for the only connection: err = %v; want context.DeadlineExceeded", err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Errorf("Book taken up before its context ended: err = %v; want nil (booked)", err)
	}
	if _, err := p.Booking(ctx, "queued"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Booking(queued) err = %v; want ErrNotFound", err)
	}
	if got := p.Stats(); got.Committed != 1 || got.Rejected != 0 || got.Failed != 0 || got.Batches != 1 {
		t.Errorf("Stats = %+v; want 1 committed in 1 transaction, nothing else", got)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEngineAndDescribe: the engine and the description name PostgreSQL,
// its version, the schema, the layout and the durability.
func TestEngineAndDescribe(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	tests := []struct {
		design, layout string
	}{
		{"monolithic", "one slots table"},
		{"per-ppv", "3 list partitions"},
		{"per-ppv-day", "9 list partitions"},
	}
	for _, tt := range tests {
		t.Run(tt.design, func(t *testing.T) {
			t.Parallel()
			st, _ := openTest(t, tt.design, models.SmallInventory(), url)
			e := st.Engine()
			if e.Name != "postgresql" || e.Version == "" || strings.Contains(e.Version, " ") || e.LimitsEnforced ||
				!strings.HasPrefix(e.Durability, "synchronous_commit=on, fsync=") {
				t.Errorf("Engine() = %+v; want postgresql, a bare version, synchronous_commit=on and fsync", e)
			}
			want := fmt.Sprintf("PostgreSQL %s, schema %s, %s, synchronous_commit=on", e.Version, st.Namespace(), tt.layout)
			if got := st.Describe(); !strings.HasPrefix(got, want) {
				t.Errorf("Describe() = %q; want it to start with %q", got, want)
			}
		})
	}
}

// TestNamespaces: the default namespace is <prefix>_<scheme>; designs of
// one scheme share it, other schemes get their own, and Drop removes one.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	inv := models.SmallInventory()
	cfg := Config{URLs: []string{url}, Prefix: uniqueName("t"), MaxConns: 2}
	ctx := context.Background()
	tests := []struct{ design, schema string }{
		{"per-ppv-day", cfg.Prefix + "_per_ppv_day"},
		{"per-ppv-day+waiting-room", cfg.Prefix + "_per_ppv_day"},
		{"monolithic", cfg.Prefix + "_monolithic"},
	}
	for _, tt := range tests {
		st := openCfg(t, cfg, tt.design, inv)
		if st.Namespace() != tt.schema {
			t.Errorf("%s: namespace %s; want %s", tt.design, st.Namespace(), tt.schema)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"per-ppv-day", "monolithic"} {
		if err := Drop(ctx, cfg, design(t, name)); err != nil {
			t.Fatal(err)
		}
		if err := Drop(ctx, cfg, design(t, name)); err != nil {
			t.Errorf("second Drop of %s: %v; want nil", name, err)
		}
	}
	if n := countSchemas(t, url, cfg.Prefix+"%"); n != 0 {
		t.Errorf("%d schemas left after Drop; want 0", n)
	}
}

// countSchemas returns the number of schemas whose name is LIKE pattern.
func countSchemas(t *testing.T, url, pattern string) int {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(c)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_namespace WHERE nspname LIKE $1`, pattern).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestMismatch: a schema that holds no store, or a store with another
// number of shards, is refused with ErrMismatch. (Another scheme or
// inventory: storetest's ReopenAndMismatch.)
func TestMismatch(t *testing.T) {
	t.Parallel()
	urls := twoDatabases(t)
	inv := models.SmallInventory()
	ctx := context.Background()

	foreign := uniqueName("t")
	admin(t, urls[0], "CREATE SCHEMA "+foreign)
	_, err := Open(ctx, Config{URLs: urls[:1], Schema: foreign}, design(t, "per-ppv"), inv)
	if !errors.Is(err, store.ErrMismatch) || !strings.Contains(err.Error(), "holds no slotrush store") {
		t.Errorf("Open over a foreign schema: err = %v; want ErrMismatch saying so", err)
	}

	st, cfg := openTest(t, "per-ppv", inv, urls...)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	one := cfg
	one.URLs = urls[:1]
	if _, err := Open(ctx, one, design(t, "per-ppv"), inv); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Open of a two-shard store with one URL: err = %v; want ErrMismatch", err)
	}
	swapped := cfg
	swapped.URLs = []string{urls[1], urls[0]}
	if _, err := Open(ctx, swapped, design(t, "per-ppv"), inv); !errors.Is(err, store.ErrMismatch) {
		t.Errorf("Open with the shards swapped: err = %v; want ErrMismatch", err)
	}
}

// TestConcurrentOpens: processes creating one namespace at once all
// succeed and seed it once.
func TestConcurrentOpens(t *testing.T) {
	t.Parallel()
	url := testURL(t)
	inv := models.SmallInventory()
	cfg := Config{URLs: []string{url}, Schema: uniqueName("t"), MaxConns: 2}
	t.Cleanup(func() { _ = Drop(context.Background(), cfg, models.Design{}) })
	var wg sync.WaitGroup
	stores := make([]*Store, 6)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = Open(context.Background(), cfg, design(t, "per-ppv-day"), inv) })
	}
	wg.Wait()
	t.Cleanup(func() {
		for _, st := range stores {
			if st != nil {
				_ = st.Close()
			}
		}
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
	}
	s := inv.Slots[4]
	if _, err := partitionOf(t, stores[0], s).Book(context.Background(), record("x", "ann", s)); err != nil {
		t.Fatal(err)
	}
	states, err := partitionOf(t, stores[5], s).Slots(context.Background(), s.PPV, models.Date{}, models.Date{})
	if err != nil || len(states) != 1 || states[0].Remaining != s.Capacity-1 {
		t.Errorf("Slots from another store = %+v, %v; want one slot with %d left", states, err, s.Capacity-1)
	}
}

// freePort returns a loopback TCP port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// TestOpenUnreachable: Open and Drop against a closed port fail fast with
// an error naming postgresql, the address and what to check, never the
// password. It needs no server.
func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	port := freePort(t)
	url := fmt.Sprintf("postgres://slotrush:s3cret-pw@127.0.0.1:%d/slotrush?sslmode=disable", port)
	cfg := Config{URLs: []string{url}}
	want := fmt.Sprintf("postgresql at 127.0.0.1:%d/slotrush: connection refused: is the server running and is the URL right?", port)
	start := time.Now()
	_, err := Open(context.Background(), cfg, design(t, "per-ppv"), models.SmallInventory())
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open: err = %v; want it to contain %q and no password", err, want)
	}
	if took := time.Since(start); took > DefaultConnectTimeout {
		t.Errorf("Open took %s; want a fast failure", took)
	}
	if err := Drop(context.Background(), cfg, design(t, "per-ppv")); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Drop: err = %v; want it to contain %q", err, want)
	}
}

// TestOpenBadConfig: configurations Open refuses before connecting.
func TestOpenBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no URL", Config{}, "no PostgreSQL URL"},
		{"bad prefix", Config{URLs: []string{"postgres://127.0.0.1:1/x"}, Prefix: "Slot-Rush"}, `schema name "Slot-Rush_per_ppv"`},
		{"bad URL", Config{URLs: []string{"postgres://u:pw@127.0.0.1:notaport/x"}}, "postgresql URL 1"},
		{"claim timeout", Config{URLs: []string{"postgres://127.0.0.1:1/x"}, ClaimTimeout: time.Second}, "claim timeout"},
	}
	for _, tt := range tests {
		_, err := Open(context.Background(), tt.cfg, design(t, "per-ppv"), models.SmallInventory())
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("%s: Open err = %v; want it to contain %q (and no password)", tt.name, err, tt.want)
		}
	}
}

// TestOpenMissingDatabase: a URL naming no database says so.
func TestOpenMissingDatabase(t *testing.T) {
	t.Parallel()
	url := withDatabase(t, testURL(t), "slotrush_no_such_db")
	_, err := Open(context.Background(), Config{URLs: []string{url}}, design(t, "per-ppv"), models.SmallInventory())
	if err == nil || !strings.Contains(err.Error(), `database "slotrush_no_such_db" does not exist`) {
		t.Errorf("Open: err = %v; want it to say the database does not exist", err)
	}
}
