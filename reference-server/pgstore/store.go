package pgstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Store is the PostgreSQL store of one design over one inventory: one
// namespace (schema) on each shard, a connection pool per shard. It is safe
// for concurrent use; several Stores, in one process or many, may share a
// namespace.
type Store struct {
	cfg    Config
	lay    *layout
	q      queries
	shards []*shard
	parts  []*Partition
	iface  []store.Partition // parts as interfaces, built once
	byKey  map[models.PartitionKey]*Partition
	engine store.Engine

	mu       sync.RWMutex // guards closed; held shared while a Book registers in inflight
	closed   bool
	inflight sync.WaitGroup // Books taken up, waited for by Close

	closeOnce sync.Once
}

// Compile-time checks that the PostgreSQL types implement the seam.
var (
	_ store.SharedStore = (*Store)(nil)
	_ store.EngineStore = (*Store)(nil)
	_ store.Partition   = (*Partition)(nil)
	_ store.CommitTimer = (*Partition)(nil)
)

// shard is one server holding part of the store.
type shard struct {
	index  int
	srv    server
	pool   *pgxpool.Pool
	closed atomic.Bool // set before pool.Close: its errors then mean store.ErrClosed
}

// acquire returns a connection of the shard's pool, to be released. It
// returns ctx's error when ctx ends first, store.ErrClosed once the store
// is closed, or an explained connection failure.
func (sh *shard) acquire(ctx context.Context) (*pgxpool.Conn, error) {
	if sh.closed.Load() {
		return nil, store.ErrClosed
	}
	c, err := sh.pool.Acquire(ctx)
	switch {
	case err == nil:
		return c, nil
	case sh.closed.Load():
		return nil, store.ErrClosed
	case ctx.Err() != nil:
		return nil, ctx.Err()
	}
	return nil, explainConnect(sh.srv, err)
}

// with runs fn with a connection of the shard's pool. A connection fn
// leaves broken, busy or inside a transaction is closed, not reused.
func (sh *shard) with(ctx context.Context, fn func(*pgx.Conn) error) error {
	c, err := sh.acquire(ctx)
	if err != nil {
		return err
	}
	defer c.Release()
	return fn(c.Conn())
}

// Open opens the store of design d over inv: it connects to every shard
// (failing within Config.ConnectTimeout, with an error naming the address
// and what to check, when a server cannot be reached), creates and seeds
// the namespace when it does not exist, and checks it when it does. It
// returns an error wrapping store.ErrMismatch when the namespace holds
// another scheme, inventory or number of shards. With several shards it
// also settles stale pending claims (see the package doc).
func Open(ctx context.Context, cfg Config, d models.Design, inv models.Inventory) (*Store, error) {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return nil, fmt.Errorf("open postgresql store: %w", err)
	}
	if errs := inv.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("open postgresql store: invalid inventory: %w", errors.Join(errs...))
	}
	ns, err := cfg.namespace(d)
	if err != nil {
		return nil, fmt.Errorf("open postgresql store: %w", err)
	}
	lay := &layout{ns: ns, scheme: d.Scheme, design: d.Name, parts: d.Partitions(&inv),
		shards: len(cfg.URLs), partitioned: d.Scheme != models.Monolithic}
	s := &Store{cfg: cfg, lay: lay, q: newQueries(lay), byKey: map[models.PartitionKey]*Partition{}}
	for i, url := range cfg.URLs {
		srv, err := parseURL(i, url, cfg)
		if err != nil {
			s.closePools()
			return nil, fmt.Errorf("open postgresql store: %w", err)
		}
		if lay.partitioned {
			// Plan every execution, pruning to the partition named by
			// part_key: a cached generic plan would lock every partition.
			srv.conn().RuntimeParams["plan_cache_mode"] = "force_custom_plan"
		}
		// The pool dials on demand: the first Acquire (setup) connects.
		pool, err := pgxpool.NewWithConfig(ctx, srv.pool)
		if err != nil {
			s.closePools()
			return nil, fmt.Errorf("open postgresql store: postgresql at %s: %w", srv.addr, err)
		}
		s.shards = append(s.shards, &shard{index: i, srv: srv, pool: pool})
	}
	fsync := make([]string, len(s.shards))
	for i, sh := range s.shards {
		if fsync[i], err = s.setup(ctx, sh, &inv); err != nil {
			s.closePools()
			return nil, fmt.Errorf("open postgresql store %s: %w", ns, err)
		}
	}
	s.engine.Name = "postgresql"
	s.engine.Durability = "synchronous_commit=on, fsync=" + worstFsync(fsync)
	for i, p := range lay.parts {
		pt := newPartition(s, i, p)
		s.parts = append(s.parts, pt)
		s.iface = append(s.iface, pt)
		s.byKey[p.Key] = pt
	}
	if len(s.shards) > 1 {
		if err := s.settleStale(ctx); err != nil {
			s.closePools()
			return nil, fmt.Errorf("open postgresql store %s: %w", ns, err)
		}
	}
	return s, nil
}

// setup takes the first connection of sh's pool (so that an unreachable
// server fails Open), checks that the pool's sessions commit with
// synchronous_commit=on and ensures the namespace. It returns the server's
// fsync setting.
func (s *Store) setup(ctx context.Context, sh *shard, inv *models.Inventory) (fsync string, err error) {
	pc, err := sh.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer pc.Release()
	c := pc.Conn()
	var version, syncCommit string
	for _, v := range []struct {
		name string
		dst  *string
	}{{"server_version", &version}, {"fsync", &fsync}, {"synchronous_commit", &syncCommit}} {
		if err := c.QueryRow(ctx, "SHOW "+v.name).Scan(v.dst); err != nil {
			return "", fmt.Errorf("postgresql at %s: show %s: %w", sh.srv.addr, v.name, err)
		}
	}
	if syncCommit != "on" {
		return "", fmt.Errorf("postgresql at %s: sessions run synchronous_commit=%s; want on", sh.srv.addr, syncCommit)
	}
	if sh.index == 0 {
		s.engine.Version, _, _ = strings.Cut(version, " ")
	}
	if _, err := s.lay.ensure(ctx, c, inv, sh.index); err != nil {
		return "", fmt.Errorf("postgresql at %s: %w", sh.srv.addr, err)
	}
	return fsync, nil
}

// worstFsync returns "off" when any shard runs fsync=off, else the common
// value.
func worstFsync(vals []string) string {
	for _, v := range vals {
		if v != "on" {
			return v
		}
	}
	return "on"
}

// personShard returns the shard holding the person's row: FNV-1a (64 bit)
// of the person id modulo the number of shards.
func (s *Store) personShard(personID string) *shard {
	return s.shards[personShardIndex(personID, len(s.shards))]
}

// personShardIndex is personShard's rule.
func personShardIndex(personID string, shards int) int {
	h := fnv.New64a()
	h.Write([]byte(personID))
	return int(h.Sum64() % uint64(shards))
}

// Partitions returns the partitions in the order of models.Design.Partitions.
// The slice must not be modified.
func (s *Store) Partitions() []store.Partition { return s.iface }

// Partition returns the i-th partition, for callers that want the concrete
// type (benchmarks, tools).
func (s *Store) Partition(i int) *Partition { return s.parts[i] }

// Namespace returns the store's schema.
func (s *Store) Namespace() string { return s.lay.ns }

// Engine describes the engine: PostgreSQL, the version of the first shard,
// synchronous_commit=on and the servers' fsync setting. It does not block.
func (s *Store) Engine() store.Engine { return s.engine }

// Describe returns the store, its layout and durability level.
func (s *Store) Describe() string {
	layout := "one slots table"
	if s.lay.partitioned {
		layout = fmt.Sprintf("%d list partitions", len(s.parts))
	}
	desc := fmt.Sprintf("PostgreSQL %s, schema %s, %s, %s", s.engine.Version, s.lay.ns, layout, s.engine.Durability)
	if n := len(s.shards); n > 1 {
		desc += fmt.Sprintf(", %d shards (partition i on shard i mod %d, a person on shard FNV-1a(person id) mod %d, claims across shards)", n, n, n)
	}
	return desc
}

// register records a Book taken up, or returns store.ErrClosed.
func (s *Store) register() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	s.inflight.Add(1)
	return nil
}

// Close refuses new bookings, waits for the bookings taken up to finish
// and closes every connection, waiting for reads that hold one (a Scan
// whose fn is running) to return it. Calls after Close fail with
// store.ErrClosed. It is idempotent and always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.inflight.Wait()
		s.closePools()
	})
	return nil
}

// closePools makes the shards' acquires fail with store.ErrClosed and
// closes their pools.
func (s *Store) closePools() {
	for _, sh := range s.shards {
		sh.closed.Store(true)
		sh.pool.Close()
	}
}

// PersonBooking returns the booking the person holds in any partition, or
// store.ErrNotFound. It reads the person's row, then the booking in the
// partition the row names, each lookup pruned to one partition; the row is
// committed with its booking (with several shards, a pending claim met on
// the way is settled first), so a booking whose Book returned nil is always
// seen.
func (s *Store) PersonBooking(ctx context.Context, personID string) (store.Record, error) {
	rec, err := s.claimedBooking(ctx, personID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.Record{}, fmt.Errorf("postgresql store %s: %w", s.lay.ns, err)
	}
	return rec, err
}
