package pgstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// personOn returns a person id, starting with prefix, whose row lives on
// shard want of n.
func personOn(prefix string, want, n int) string {
	for i := 0; ; i++ {
		if p := prefix + strconv.Itoa(i); personShardIndex(p, n) == want {
			return p
		}
	}
}

// query runs sql on the database at u and returns the first column of its
// rows as text.
func query(t *testing.T, u, sql string, args ...any) []string {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer closeConn(c)
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return out
}

// TestShardPlacement: partition i lives on shard i mod 2 (its LIST
// partitions and its seeded slots), nothing else does.
func TestShardPlacement(t *testing.T) {
	t.Parallel()
	urls := twoDatabases(t)
	st, _ := openTest(t, "per-ppv-day", models.SmallInventory(), urls...)
	for sh, u := range urls {
		var want []string
		for i, p := range st.lay.parts {
			if i%2 == sh {
				want = append(want, string(p.Key))
			}
		}
		got := query(t, u, `SELECT DISTINCT part_key FROM `+st.lay.table("slots")+` ORDER BY 1`)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("shard %d holds slots of %v; want %v", sh, got, want)
		}
		leaves := query(t, u, `SELECT count(*)::text FROM pg_tables WHERE schemaname = $1 AND tablename LIKE 'slots\_p%'`, st.Namespace())
		if leaves[0] != strconv.Itoa(len(want)) {
			t.Errorf("shard %d has %s slots partitions; want %d", sh, leaves[0], len(want))
		}
	}
}

// TestClaims walks the claim protocol of a two-shard store through the
// states a crash can leave: stale and young pending claims without a
// booking, a pending claim whose booking committed, a stale claim settled
// at Open, and a booking transaction that comes after its claim was
// voided.
func TestClaims(t *testing.T) {
	t.Parallel()
	urls := twoDatabases(t)
	inv := models.SmallInventory()
	st, cfg := openTest(t, "per-ppv", inv, urls...)
	ctx := context.Background()
	var s0, s1 models.Slot // slots in partitions on shards 0 and 1
	for _, s := range inv.Slots {
		if partitionOf(t, st, s).shard.index == 0 {
			s0 = s
		} else {
			s1 = s
		}
	}
	p0, p1 := partitionOf(t, st, s0), partitionOf(t, st, s1)
	if p0.shard.index != 0 || p1.shard.index != 1 {
		t.Fatal("want slots on both shards")
	}
	persons := st.lay.table("persons")
	claimOn := func(person, id string, key models.PartitionKey, age string) {
		t.Helper()
		admin(t, urls[personShardIndex(person, 2)], `INSERT INTO `+persons+
			` (person_id, booking_id, part_key, state, claimed_at) VALUES ($1, $2, $3, 'pending', now() - $4::interval)`,
			person, id, string(key), age)
	}
	stateOf := func(person string) string {
		t.Helper()
		got := query(t, urls[personShardIndex(person, 2)], `SELECT state FROM `+persons+` WHERE person_id = $1`, person)
		if len(got) == 0 {
			return "none"
		}
		return got[0]
	}

	// A stale claim with no booking (the process died after step 1): void.
	ghost := personOn("ghost", 0, 2)
	claimOn(ghost, "g1", p1.key, "10 minutes")
	if _, err := st.PersonBooking(ctx, ghost); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonBooking over a stale claim: err = %v; want ErrNotFound", err)
	}
	if got := stateOf(ghost); got != "none" {
		t.Errorf("stale claim after PersonBooking: %s; want deleted", got)
	}
	if _, err := p0.Book(ctx, record("g2", ghost, s0)); err != nil {
		t.Errorf("Book after the stale claim was settled: %v", err)
	}

	// A young claim with no booking (another request in flight): it holds
	// the person; PersonBooking sees no booking and leaves it.
	young := personOn("young", 1, 2)
	claimOn(young, "y1", p0.key, "1 second")
	if _, err := p1.Book(ctx, record("y2", young, s1)); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("Book under a young claim: err = %v; want ErrDuplicate", err)
	}
	if _, err := st.PersonBooking(ctx, young); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonBooking over a young claim: err = %v; want ErrNotFound", err)
	}
	if got := stateOf(young); got != "pending" {
		t.Errorf("young claim: %s; want pending", got)
	}

	// A stale claim over a new one: Book settles it and books.
	late := personOn("late", 0, 2)
	claimOn(late, "l1", p1.key, "5 minutes")
	if _, err := p1.Book(ctx, record("l2", late, s1)); err != nil {
		t.Errorf("Book over a stale claim: %v; want booked", err)
	}

	// A booking committed whose claim stayed pending (died before step 3).
	done := personOn("done", 1, 2)
	if _, err := p0.Book(ctx, record("d1", done, s0)); err != nil {
		t.Fatal(err)
	}
	admin(t, urls[1], `UPDATE `+persons+` SET state = 'pending', claimed_at = now() - interval '1 hour' WHERE person_id = $1`, done)
	if got, err := st.PersonBooking(ctx, done); err != nil || got.ID != "d1" {
		t.Errorf("PersonBooking over a committed pending claim = %+v, %v; want d1", got, err)
	}
	if got := stateOf(done); got != "booked" {
		t.Errorf("committed claim after PersonBooking: %s; want booked", got)
	}

	// A stale claim settled by Open.
	sleeper := personOn("sleeper", 1, 2)
	claimOn(sleeper, "z1", p0.key, "3 minutes")
	openCfg(t, cfg, "per-ppv", inv)
	if got := stateOf(sleeper); got != "none" {
		t.Errorf("stale claim after Open: %s; want deleted", got)
	}

	// The booking transaction of a claim voided meanwhile fails, and
	// stores nothing.
	slow := personOn("slow", 0, 2)
	claimOn(slow, "s1", p1.key, "10 minutes")
	state, err := st.settle(ctx, claimRow{person: slow, bookingID: "s1", partKey: p1.key, state: claimPending, stale: true})
	if err != nil || state != claimVoid {
		t.Fatalf("settle = %s, %v; want void", state, err)
	}
	err = p1.shard.with(ctx, func(c *pgx.Conn) error {
		_, err := p1.run(ctx, c, record("s1", slow, s1), true)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "claim expired") {
		t.Errorf("booking under a voided claim: err = %v; want the claim expired", err)
	}
	if _, err := p1.Booking(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Booking(s1) err = %v; want ErrNotFound", err)
	}
}
