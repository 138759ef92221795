package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Store is the DynamoDB store of one design over one inventory: one table,
// one Partition per partition of the design. Several Stores, in one process
// or in several, may share the table. It is safe for concurrent use.
type Store struct {
	cfg   Config
	table string
	db    *clients
	parts []*Partition
	iface []store.Partition // parts as interfaces, built once

	mu       sync.RWMutex // guards closed; held shared while a Book registers in inflight
	closed   bool
	inflight sync.WaitGroup // Book calls past the closed check

	closeOnce sync.Once
}

// Compile-time checks that the DynamoDB types implement the seam.
var (
	_ store.SharedStore = (*Store)(nil)
	_ store.EngineStore = (*Store)(nil)
	_ store.Partition   = (*Partition)(nil)
	_ store.CommitTimer = (*Partition)(nil)
	_ store.Opener      = Opener(Config{})
)

// Opener returns a store.Opener that opens DynamoDB stores with cfg. It
// ignores the data directory: the tables are named by cfg.Table.
func Opener(cfg Config) store.Opener {
	return func(ctx context.Context, _ string, d models.Design, inv models.Inventory) (store.Store, error) {
		s, err := Open(ctx, cfg, d, inv)
		if err != nil {
			return nil, err
		}
		return s, nil
	}
}

// Open opens the store of design d over inv in the table "<cfg.Table>-<scheme>",
// creating the table and seeding its slots when absent and reopening it,
// without reseeding, when present. Other processes may open the same table
// at the same time. It fails within about 5 s, with an error naming the
// endpoint and what to check, when the engine does not answer, and returns
// store.ErrMismatch when the table holds another scheme or inventory.
func Open(ctx context.Context, cfg Config, d models.Design, inv models.Inventory) (*Store, error) {
	cfg = cfg.withDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("open dynamodb store: %w", errors.Join(errs...))
	}
	if errs := inv.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("open dynamodb store: invalid inventory: %w", errors.Join(errs...))
	}
	db, err := newClients(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := ping(ctx, cfg, db.strict); err != nil {
		db.transport.CloseIdleConnections()
		return nil, err
	}
	s := &Store{cfg: cfg, table: cfg.table(d.Scheme), db: db}
	defs := d.Partitions(&inv)
	if err := s.setUp(ctx, d, &inv, defs); err != nil {
		db.transport.CloseIdleConnections()
		return nil, fmt.Errorf("open dynamodb store (%s, table %s): %w", cfg.where(), s.table, err)
	}
	s.parts = make([]*Partition, len(defs))
	s.iface = make([]store.Partition, len(defs))
	for i, p := range defs {
		s.parts[i] = newPartition(s, p)
		s.iface[i] = s.parts[i]
	}
	return s, nil
}

// setUp creates the table if needed, checks or writes its meta item and
// seeds the slots.
func (s *Store) setUp(ctx context.Context, d models.Design, inv *models.Inventory, defs []models.Partition) error {
	for _, p := range defs {
		if len(partitionPK(p.Key)) > 2048 {
			return fmt.Errorf("partition key %.40q... is longer than DynamoDB's 2048 bytes", p.Key)
		}
	}
	if err := ensureTable(ctx, s.db.patient, s.cfg, s.table); err != nil {
		return err
	}
	seeded, err := claimMeta(ctx, s.db.patient, s.table, newMeta(d, inv, len(defs)))
	if err != nil || seeded {
		return err
	}
	return seed(ctx, s.db.patient, s.table, defs)
}

// Partitions returns the partitions in the order of models.Design.Partitions.
// The slice must not be modified.
func (s *Store) Partitions() []store.Partition { return s.iface }

// Partition returns the i-th partition, for callers that want the concrete
// type (benchmarks, tools).
func (s *Store) Partition(i int) *Partition { return s.parts[i] }

// Table returns the name of the store's table.
func (s *Store) Table() string { return s.table }

// Describe returns the store, its table and its durability level.
func (s *Store) Describe() string {
	capacity := s.cfg.Capacity
	return fmt.Sprintf("dynamodb (aws-sdk-go-v2) %s, table %s (%s if created here), one TransactWriteItems per booking "+
		"(slot counter, person item, booking item), consistent reads; %s",
		s.cfg.place(), s.table, capacity, s.Engine().Durability)
}

// Engine describes the engine: DynamoDB Local (its version is not exposed
// by its API) for a custom endpoint, DynamoDB on AWS otherwise.
func (s *Store) Engine() store.Engine {
	if s.cfg.Endpoint != "" {
		return store.Engine{Name: "dynamodb", Version: "DynamoDB Local",
			Durability: "each booking one transaction, answered once committed to DynamoDB Local's SQLite store " +
				"(in memory with -inMemory, lost when it stops; a file with -dbPath)"}
	}
	return store.Engine{Name: "dynamodb", Version: "AWS " + s.cfg.Region,
		Durability:     "each booking one transaction, answered once DynamoDB committed it (replicated across availability zones)",
		LimitsEnforced: true}
}

// PersonBooking returns the booking the person holds in any partition, read
// consistently, or store.ErrNotFound.
func (s *Store) PersonBooking(ctx context.Context, personID string) (store.Record, error) {
	if s.isClosed() {
		return store.Record{}, store.ErrClosed
	}
	out, err := s.db.strict.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(personPK(personID), skPerson), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Record{}, readErr(fmt.Sprintf("read booking of person %q", personID), err)
	}
	if len(out.Item) == 0 {
		return store.Record{}, fmt.Errorf("booking of person %q: %w", personID, store.ErrNotFound)
	}
	return decodeRecord(out.Item)
}

// enter registers a Book call, or reports false once the store is closed.
func (s *Store) enter() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return false
	}
	s.inflight.Add(1)
	return true
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// Close refuses new bookings, waits for those under way to learn their
// outcome and releases the HTTP connections. It is idempotent and returns
// nil: a DynamoDB store holds nothing else.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.inflight.Wait()
		s.db.transport.CloseIdleConnections()
	})
	return nil
}

// readErr wraps err of a read: a throttled read is a *store.ThrottledError.
func readErr(what string, err error) error {
	if o := classify(err, ""); o.kind == kindThrottled {
		return fmt.Errorf("%s: %w", what, &store.ThrottledError{RetryAfter: o.retryAfter, Err: err})
	}
	return fmt.Errorf("%s: %w", what, err)
}
