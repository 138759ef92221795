// Package faultstore injects storage faults (package fault) at the store
// seam: Wrap puts a fault in front of one store.Partition, so every engine
// behind the seam (SQLite, PostgreSQL, DynamoDB) fails the same way.
//
// Faults act on the request path only: Book, Slots and Booking. Scan,
// Audit and Stats reach the partition untouched, so the audit after a run
// and the server's start-up read the truth. During a fault's window:
//
//   - down: the operation returns store.ErrUnavailable at once, without
//     reaching the partition (nothing is written);
//   - slow=D: the operation waits D, then reaches the partition; when its
//     context ends first it returns the context's error (nothing written);
//   - errors=P: a share P of operations returns an error wrapping
//     fault.ErrInjected without reaching the partition (nothing written).
//     Which ones is deterministic: operation n of the window fails when
//     splitmix64(seed + n), with the seed drawn from the partition's key,
//     falls below P.
//
// When several faults of a partition are on at once they act in the order
// given: a down one ends the operation, slow ones add their delays, and an
// errors one may fail it. The package imports the standard library,
// models, fault and store.
package faultstore

import (
	"context"
	"fmt"
	"hash/fnv"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Counts are the operations a wrapped partition's faults acted on, by
// mode: refused (Down), delayed (Slow), failed (Errors).
type Counts struct {
	Down, Slow, Errors int64
}

// Counter is implemented by the partitions Wrap returns.
type Counter interface {
	// Faulted returns the operations the partition's faults acted on so
	// far. It is safe for concurrent use.
	Faulted() Counts
	// Down reports whether a down fault is on now.
	Down() bool
	// Refuse returns the error of a down fault on now, counting the
	// operation it refuses, or nil. A server asks before charging the
	// partition's limits: storage that is down answers at once, whatever
	// its throughput budget (the model does the same).
	Refuse() error
}

// Partition is a store.Partition with faults in front of it. It is safe for
// concurrent use.
type Partition struct {
	inner   store.Partition
	specs   []fault.Spec
	opensAt time.Time
	now     func() time.Time
	seed    uint64

	ops                atomic.Uint64 // operations an errors fault drew for
	down, slow, failed atomic.Int64
}

// timedPartition is a Partition over one that measures its commits.
type timedPartition struct {
	*Partition
	ct store.CommitTimer
}

// Compile-time checks.
var (
	_ store.Partition   = (*Partition)(nil)
	_ Counter           = (*Partition)(nil)
	_ store.CommitTimer = (*timedPartition)(nil)
)

// Wrap returns p with the faults of specs that name p's key injected into
// its request path, their windows measured from opensAt by the clock now
// (time.Now when nil). Specs must name partitions by key (fault.Resolve
// replaces fault.Hottest); the others are ignored. When no spec names p,
// Wrap returns p itself. The partition returned implements Counter, and
// store.CommitTimer when p does.
func Wrap(p store.Partition, specs []fault.Spec, opensAt time.Time, now func() time.Time) store.Partition {
	key := p.Key()
	var mine []fault.Spec
	for _, s := range specs {
		if s.Partition == string(key) {
			mine = append(mine, s)
		}
	}
	if len(mine) == 0 {
		return p
	}
	if now == nil {
		now = time.Now
	}
	fp := &Partition{inner: p, specs: mine, opensAt: opensAt, now: now, seed: seedOf(key)}
	if ct, ok := p.(store.CommitTimer); ok {
		return &timedPartition{Partition: fp, ct: ct}
	}
	return fp
}

// seedOf draws the seed of the errors drawn in partition key from the key,
// so that a run repeats its failures.
func seedOf(key models.PartitionKey) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key)) // cannot fail
	return h.Sum64()
}

// Key returns the partition's key.
func (p *Partition) Key() models.PartitionKey { return p.inner.Key() }

// Book books rec in the partition unless a fault refuses, delays past ctx
// or fails it first. See store.Partition.Book and the package doc.
func (p *Partition) Book(ctx context.Context, rec store.Record) (int, error) {
	if err := p.inject(ctx); err != nil {
		return 0, err
	}
	return p.inner.Book(ctx, rec)
}

// Slots reads the slots of ppv unless a fault refuses, delays past ctx or
// fails the read first.
func (p *Partition) Slots(ctx context.Context, ppv string, from, to models.Date) ([]store.SlotState, error) {
	if err := p.inject(ctx); err != nil {
		return nil, err
	}
	return p.inner.Slots(ctx, ppv, from, to)
}

// Booking reads the booking id unless a fault refuses, delays past ctx or
// fails the read first.
func (p *Partition) Booking(ctx context.Context, id string) (store.Record, error) {
	if err := p.inject(ctx); err != nil {
		return store.Record{}, err
	}
	return p.inner.Booking(ctx, id)
}

// Scan scans the partition, never faulted.
func (p *Partition) Scan(ctx context.Context, fn func(store.Record) error) error {
	return p.inner.Scan(ctx, fn)
}

// Audit audits the partition, never faulted.
func (p *Partition) Audit(ctx context.Context) ([]store.SlotAudit, error) {
	return p.inner.Audit(ctx)
}

// Stats returns the partition's writer counters, never faulted.
func (p *Partition) Stats() store.PartitionStats { return p.inner.Stats() }

// Faulted returns the operations the partition's faults acted on.
func (p *Partition) Faulted() Counts {
	return Counts{Down: p.down.Load(), Slow: p.slow.Load(), Errors: p.failed.Load()}
}

// Down reports whether a down fault of the partition is on now.
func (p *Partition) Down() bool {
	since := p.now().Sub(p.opensAt)
	for _, s := range p.specs {
		if s.Mode == fault.Down && s.Active(since) {
			return true
		}
	}
	return false
}

// Refuse returns store.ErrUnavailable (wrapped), counting a refused
// operation, when a down fault of the partition is on now; nil otherwise.
func (p *Partition) Refuse() error {
	if !p.Down() {
		return nil
	}
	p.down.Add(1)
	return fmt.Errorf("partition %s: %w", p.inner.Key(), store.ErrUnavailable)
}

// MergeCommitTimes forwards to the wrapped partition.
func (p *timedPartition) MergeCommitTimes(into *hdrhistogram.Histogram) { p.ct.MergeCommitTimes(into) }

// inject applies the faults on now, in order, and returns the error the
// operation must end with, or nil to let it reach the partition.
func (p *Partition) inject(ctx context.Context) error {
	since := p.now().Sub(p.opensAt)
	for _, s := range p.specs {
		if !s.Active(since) {
			continue
		}
		switch s.Mode {
		case fault.Down:
			p.down.Add(1)
			return fmt.Errorf("partition %s: %w", p.inner.Key(), store.ErrUnavailable)
		case fault.Slow:
			p.slow.Add(1)
			if err := store.Sleep(ctx, s.Delay); err != nil {
				return err
			}
		case fault.Errors:
			if unit(splitmix64(p.seed+p.ops.Add(1))) < s.Share {
				p.failed.Add(1)
				return fmt.Errorf("partition %s: %w", p.inner.Key(), fault.ErrInjected)
			}
		}
	}
	return nil
}

// splitmix64 is the SplitMix64 finaliser, applied to x plus its increment.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps u to [0, 1).
func unit(u uint64) float64 { return float64(u>>11) * 0x1p-53 }
