// Package store is the storage seam of the reference booking server: the
// interfaces a partitioned slot store implements and the values they trade.
//
// The reference server (package refserver) owns the HTTP API, admission
// control and the waiting room's admission rule; a store owns durability and
// the per-slot capacity rule. The embedded default is package sqlitestore
// (one SQLite file per partition, one process): there the server keeps one
// booking per person with an in-process index. Packages pgstore
// (PostgreSQL) and dynamostore (DynamoDB) are SharedStores: they keep that
// rule themselves, so several API servers can share one store. A store that
// can also keep a waiting room's state implements RoomStore (SQLite only).
// Package storeurl opens any of them from a --store URL. This package
// imports only the standard library, models and hdrhistogram, so it builds
// without cgo.
package store

import (
	"context"
	"errors"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/slotrush/slotrush/models"
)

// Errors a Partition returns. Callers test them with errors.Is; stores may
// wrap them with context.
var (
	// ErrSoldOut means the slot had no place left; nothing was written.
	ErrSoldOut = errors.New("slot sold out")
	// ErrNoSlot means the partition stores no slot for that PPV and day.
	ErrNoSlot = errors.New("no such slot in partition")
	// ErrDuplicate means a booking with the same id, or a booking of the same
	// person, already exists in the partition; nothing was written.
	ErrDuplicate = errors.New("duplicate booking")
	// ErrNotFound means no booking has the requested id.
	ErrNotFound = errors.New("booking not found")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrMismatch means a data directory holds the data of another design
	// or inventory.
	ErrMismatch = errors.New("data directory holds another design or inventory")
	// ErrLocked means another process holds the data directory.
	ErrLocked = errors.New("data directory in use by another process")
	// ErrThrottled means the engine refused the operation for lack of
	// capacity (DynamoDB's ProvisionedThroughputExceededException or
	// ThrottlingException, say); nothing was written. Stores wrap it in a
	// *ThrottledError when the engine suggests a delay.
	ErrThrottled = errors.New("throttled by the storage engine")
	// ErrUnavailable means the partition's storage is unavailable (down);
	// nothing was written. The fault injector (package faultstore) returns
	// it for a partition it takes down.
	ErrUnavailable = errors.New("the partition's storage is unavailable; nothing was written")
)

// ThrottledError is an ErrThrottled with the delay after which a retry may
// succeed.
type ThrottledError struct {
	// RetryAfter is the suggested delay; zero when the engine gave none.
	RetryAfter time.Duration
	// Err is the engine's error.
	Err error
}

func (e *ThrottledError) Error() string { return ErrThrottled.Error() + ": " + e.Err.Error() }

// Is makes errors.Is(e, ErrThrottled) hold.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// Unwrap returns the engine's error.
func (e *ThrottledError) Unwrap() error { return e.Err }

// Record is a booking as stored: the booking and the idempotency key it was
// made with (empty when the client sent none).
type Record struct {
	models.Booking
	// IdempotencyKey is the client's Idempotency-Key, scoped to the person.
	IdempotencyKey string
}

// SlotState is the live state of one slot.
type SlotState struct {
	PPV  string
	Date models.Date
	// Capacity is the seeded capacity; Remaining the places left.
	Capacity, Remaining int
}

// SlotAudit is what an audit finds for one slot: its seeded capacity, its
// remaining counter, and the booking rows actually stored for it.
type SlotAudit struct {
	Slot models.SlotKey
	// Capacity is the seeded capacity, Remaining the slot's counter, Booked
	// the number of booking rows stored for the slot.
	Capacity, Remaining, Booked int
}

// PartitionStats are cumulative counters of one partition's writer.
type PartitionStats struct {
	// Committed counts bookings committed.
	Committed int64
	// Rejected counts booking attempts answered ErrSoldOut, ErrNoSlot or
	// ErrDuplicate by the store.
	Rejected int64
	// Failed counts booking attempts that failed with another error.
	Failed int64
	// Batches counts write transactions (group commits) run.
	Batches int64
	// BatchedAttempts counts booking attempts handled in those batches;
	// BatchedAttempts/Batches is the mean batch size.
	BatchedAttempts int64
	// Busy is the time the writer spent running transactions.
	Busy time.Duration
}

// CommitTimer is implemented by partitions that measure their write
// transactions. Stats stays cheap for every scrape of /metrics; the
// histogram is read only when asked for.
type CommitTimer interface {
	// MergeCommitTimes adds the histogram of the write transactions'
	// durations in microseconds (one value per batch, from its first
	// statement to its durable commit: the commit cost without the time
	// attempts waited for the writer) to into.
	MergeCommitTimes(into *hdrhistogram.Histogram)
}

// Partition is one independent partition of a design: its own durable
// storage, its own writer. All methods are safe for concurrent use.
type Partition interface {
	// Key returns the partition's key.
	Key() models.PartitionKey
	// Book durably stores rec if its slot has a place left and returns the
	// places left in the slot afterwards. A nil error means the booking is
	// durable. It returns ErrNoSlot, ErrSoldOut or ErrDuplicate (nothing
	// written), ErrClosed, the context's error when ctx ends before the
	// booking was taken up (nothing written), or another error for a storage
	// fault (nothing written). Once a booking was taken up by the writer, Book
	// waits for its outcome even if ctx ends, so the caller always learns it.
	Book(ctx context.Context, rec Record) (remaining int, err error)
	// Slots returns the state of the partition's slots of ppv whose date is
	// within [from, to], ordered by date; a zero from or to leaves that end
	// open.
	Slots(ctx context.Context, ppv string, from, to models.Date) ([]SlotState, error)
	// Booking returns the booking with the given id or ErrNotFound.
	Booking(ctx context.Context, id string) (Record, error)
	// Scan calls fn for every stored booking, stopping at the first error.
	Scan(ctx context.Context, fn func(Record) error) error
	// Audit returns, for every slot of the partition, its seeded capacity,
	// remaining counter and the number of booking rows stored for it.
	Audit(ctx context.Context) ([]SlotAudit, error)
	// Stats returns the writer's cumulative counters.
	Stats() PartitionStats
}

// Store is the set of partitions of one design over one inventory. It is safe
// for concurrent use.
type Store interface {
	// Partitions returns the partitions in the order of
	// models.Design.Partitions. The slice must not be modified.
	Partitions() []Partition
	// Describe returns a one-line description of the store and its
	// durability level, for result assumptions and logs.
	Describe() string
	// Close stops the writers after they finish the bookings they have taken
	// up and releases every resource. It is idempotent.
	Close() error
}

// Engine names what a store runs on, for result assumptions and
// GET /api/v1/about.
type Engine struct {
	// Name is the engine: "sqlite", "postgresql" or "dynamodb".
	Name string
	// Version is the engine's version as the engine reports it ("15.18",
	// "3.46.1"), or what is known of it ("DynamoDB Local 2.x", "AWS").
	Version string
	// Durability is the durability setting bookings are committed with, in
	// the engine's own terms ("synchronous=FULL, WAL", "synchronous_commit=on").
	Durability string
	// LimitsEnforced reports whether the engine itself limits a partition's
	// throughput (DynamoDB on AWS does; DynamoDB Local, PostgreSQL and
	// SQLite do not).
	LimitsEnforced bool
}

// EngineStore is a Store that says what engine it runs on.
type EngineStore interface {
	Store
	// Engine describes the engine. It does not block.
	Engine() Engine
}

// SharedStore is a Store that several processes may open at once: a
// database server rather than files. It keeps the one-booking-per-person
// rule itself, across its partitions and across the processes sharing it,
// so that API servers over it keep no booking state of their own.
//
// On a SharedStore, Partition.Book returns ErrDuplicate when the person
// already holds a booking in any partition, and a booking id is unique
// across the store. Opening it while another process has it open succeeds
// (no ErrLocked).
type SharedStore interface {
	Store
	// PersonBooking returns the booking the person holds in any partition,
	// read consistently (a booking whose Book returned nil is seen), or
	// ErrNotFound.
	PersonBooking(ctx context.Context, personID string) (Record, error)
}

// Opener opens (creating and seeding when absent) the store of design d over
// inv under dir. It returns ErrMismatch when dir holds another design or
// inventory and ErrLocked when dir is in use.
type Opener func(ctx context.Context, dir string, d models.Design, inv models.Inventory) (Store, error)

// Ticket is a person's place in a waiting room, as stored. A room holds at
// most one ticket per person.
type Ticket struct {
	// ID is the ticket's id, unique in the room.
	ID string
	// PersonID is the person holding the ticket.
	PersonID string
	// Seq is the join sequence (0, 1, ...) of the ticket's current entry
	// into the queue. A person who re-enters after an expired admission
	// keeps the ticket and gets a new Seq.
	Seq int64
	// Rank is the entry's place in the admission order, or -1 for an entry
	// made before the room opened (ranks are drawn at opening).
	Rank int64
	// JoinedAt is when the current entry was made.
	JoinedAt time.Time
}

// Admission is one admission round: the entries ranked From up to (not
// including) To were admitted At; their admission tokens expire at Expires.
type Admission struct {
	From, To    int64
	At, Expires time.Time
}

// Opening records when a waiting room opened and how it ordered the people
// present: Crowd entries were present, ranked in Order ("fifo" or "random",
// drawn from Seed).
type Opening struct {
	At    time.Time
	Order string
	Seed  uint64
	Crowd int64
}

// RoomState is everything a waiting room holds.
type RoomState struct {
	// Opening is nil until the room opened.
	Opening *Opening
	// Tickets are ordered by Seq.
	Tickets []Ticket
	// Admissions are ordered by From.
	Admissions []Admission
}

// RoomChange is what one Room.Commit writes: Tickets are upserted by ID in
// order (a later entry for the same ID wins), Admissions are added (an
// admission with the From of a stored one replaces it), and Opening, when
// set, is recorded.
type RoomChange struct {
	Opening    *Opening
	Tickets    []Ticket
	Admissions []Admission
}

// Empty reports whether c writes nothing.
func (c *RoomChange) Empty() bool {
	return c.Opening == nil && len(c.Tickets) == 0 && len(c.Admissions) == 0
}

// Room is the durable state of a waiting room. Its methods are safe for
// concurrent use.
type Room interface {
	// Key returns the room's secret key for signing admission tokens: at
	// least 32 random bytes generated when the room was created and kept
	// across restarts, so that tokens issued before a restart still
	// verify. The caller must not modify it.
	Key() []byte
	// Load returns everything the room holds.
	Load(ctx context.Context) (RoomState, error)
	// Commit durably writes c in one transaction: a nil error means all of
	// it survives a crash; an error means none of it was written. Callers
	// batch their changes (group commit) and call Commit from one
	// goroutine at a time, in order.
	Commit(ctx context.Context, c RoomChange) error
}

// RoomStore is a Store that can also keep a waiting room's state beside
// the partitions. The reference server needs it only for designs with a
// waiting room.
type RoomStore interface {
	Store
	// Room opens (creating when absent) the waiting room's state. Calling
	// it again returns the same Room. The store's Close closes it.
	Room(ctx context.Context) (Room, error)
}

// CentreRoomStore is a RoomStore that can also keep one waiting room per
// centre (designs with rooms per centre, models.Design.CentreRooms).
type CentreRoomStore interface {
	RoomStore
	// CentreRoom opens (creating when absent) the state of the waiting
	// room of centre ppv, apart from the single room's and every other
	// centre's; all of them share one key (Room.Key). Calling it again with
	// the same ppv returns the same Room. The store's Close closes them.
	CentreRoom(ctx context.Context, ppv string) (Room, error)
}

// Sleep waits d, or returns ctx's error when ctx ends first. Stores and
// their wrappers wait with it (a backoff, an injected delay).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
