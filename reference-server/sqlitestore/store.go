package sqlitestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Store is the SQLite store of one design over one inventory: one database
// file per partition, each with its own writer goroutine. It is safe for
// concurrent use.
type Store struct {
	dir   string
	parts []*Partition
	iface []store.Partition // parts as interfaces, built once
	lock  *os.File

	roomMu      sync.Mutex // guards room, centreDB, centreRooms and roomClosed
	room        *Room      // opened by Room, nil until then
	centreDB    *roomDB    // opened by the first CentreRoom, nil until then
	centreRooms map[string]*Room
	roomClosed  bool

	closeOnce sync.Once
	closeErr  error
}

// Compile-time checks that the SQLite types implement the seam.
var (
	_ store.Store       = (*Store)(nil)
	_ store.EngineStore = (*Store)(nil)
	_ store.Partition   = (*Partition)(nil)
	_ store.Opener      = Opener()
)

// config holds the tunables set by Options.
type config struct {
	maxBatch  int
	readConns int
	queueLen  int
}

// Option tunes a Store.
type Option func(*config)

// WithMaxBatch bounds the booking attempts one group commit takes (default
// 512). 1 disables group commit, for measurements.
func WithMaxBatch(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBatch = n
		}
	}
}

// WithReadConns sets the size of each partition's read connection pool
// (default max(2, GOMAXPROCS)).
func WithReadConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readConns = n
		}
	}
}

// Opener returns a store.Opener that opens SQLite stores with opts.
func Opener(opts ...Option) store.Opener {
	return func(ctx context.Context, dir string, d models.Design, inv models.Inventory) (store.Store, error) {
		s, err := Open(ctx, dir, d, inv, opts...)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// safeKey matches partition keys usable as file names.
var safeKey = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Open opens the store of design d over inv in dir, creating dir, the
// manifest and the partition databases (seeded with their slots' capacity)
// when they do not exist, and reopening them, without reseeding, when they
// do. It returns an error wrapping store.ErrLocked when another process (or
// another Store of this process) holds dir, and store.ErrMismatch when dir
// holds another partitioning scheme or slot inventory.
func Open(ctx context.Context, dir string, d models.Design, inv models.Inventory, opts ...Option) (*Store, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if dir == "" {
		return nil, errors.New("open sqlite store: empty data directory")
	}
	if errs := inv.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("open sqlite store: invalid inventory: %w", errors.Join(errs...))
	}
	parts := d.Partitions(&inv)
	for _, p := range parts {
		if !safeKey.MatchString(string(p.Key)) || len(p.Key) > 200 {
			return nil, fmt.Errorf("open sqlite store: partition key %q is not a safe file name", p.Key)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", dir, err)
	}
	s := &Store{dir: dir, lock: lock}
	want := manifest{
		Format: manifestFormat, Store: "sqlite", Scheme: d.Scheme, Design: d.Name,
		Inventory: InventoryHash(&inv), Slots: len(inv.Slots), Capacity: inv.TotalCapacity(),
		Partitions: len(parts), CreatedAt: time.Now().UTC().Truncate(time.Second),
	}
	if err := checkOrWriteManifest(dir, want); err != nil {
		return nil, fmt.Errorf("open sqlite store: %w", errors.Join(err, lock.Close()))
	}

	// Open the partitions a few at a time: seeding is fsync-bound.
	s.parts = make([]*Partition, len(parts))
	errs := make([]error, len(parts))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, p := range parts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			path := filepath.Join(dir, string(p.Key)+partitionExt)
			s.parts[i], errs[i] = openPartition(ctx, path, d.Scheme, p, cfg)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("open sqlite store %s: %w", dir, errors.Join(err, s.Close()))
	}
	s.iface = make([]store.Partition, len(s.parts))
	for i, p := range s.parts {
		s.iface[i] = p
	}
	return s, nil
}

// Partitions returns the partitions in the order of models.Design.Partitions.
// The slice must not be modified.
func (s *Store) Partitions() []store.Partition { return s.iface }

// Partition returns the i-th partition, for callers that want the concrete
// type (benchmarks, tools).
func (s *Store) Partition(i int) *Partition { return s.parts[i] }

// Describe returns the store and its durability level.
func (s *Store) Describe() string {
	return "sqlite (mattn/go-sqlite3), one file per partition, WAL, synchronous=FULL, one writer per partition with group commit"
}

// Engine says the store runs on SQLite, its library version, and that it
// commits with synchronous=FULL in WAL mode. SQLite enforces no partition
// limits.
func (s *Store) Engine() store.Engine {
	v, _, _ := sqlite3.Version()
	return store.Engine{Name: "sqlite", Version: v, Durability: "synchronous=FULL, WAL"}
}

// Close closes the waiting room (if opened), stops every partition's writer
// after it commits what it has taken up, closes the databases and releases
// the directory lock. It is
// idempotent and returns the first errors met.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		var errs []error
		s.roomMu.Lock()
		s.roomClosed = true
		if s.room != nil {
			errs = append(errs, s.room.db.close())
		}
		if s.centreDB != nil {
			errs = append(errs, s.centreDB.close())
		}
		s.roomMu.Unlock()
		var wg sync.WaitGroup
		perr := make([]error, len(s.parts))
		for i, p := range s.parts {
			if p == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				perr[i] = p.close()
			}()
		}
		wg.Wait()
		errs = append(errs, perr...)
		if err := s.lock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("release lock: %w", err))
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
