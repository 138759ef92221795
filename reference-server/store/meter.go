package store

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The range and precision of a Meter's commit-time histogram: 1 µs to
// 60 s, two significant digits.
const (
	commitMinMicros = 1
	commitMaxMicros = 60_000_000
	commitSigFigs   = 2
)

// Meter keeps a partition's cumulative counters (Stats) and the histogram
// of its write transactions' durations (MergeCommitTimes, CommitTimer).
// Stores embed it in their partitions. The zero value is ready; its
// methods are safe for concurrent use.
type Meter struct {
	committed, rejected, failed, batches, attempts, busy atomic.Int64

	mu    sync.Mutex              // guards times
	times *hdrhistogram.Histogram // µs per write transaction; nil until the first
}

// Count adds a booking attempt's outcome: nil is committed; ErrSoldOut,
// ErrDuplicate and ErrNoSlot are rejected; any other error failed.
func (m *Meter) Count(err error) {
	switch {
	case err == nil:
		m.committed.Add(1)
	case errors.Is(err, ErrSoldOut), errors.Is(err, ErrDuplicate), errors.Is(err, ErrNoSlot):
		m.rejected.Add(1)
	default:
		m.failed.Add(1)
	}
}

// Attempts adds n booking attempts handled by write transactions.
func (m *Meter) Attempts(n int) { m.attempts.Add(int64(n)) }

// Batch adds one write transaction that took d.
func (m *Meter) Batch(d time.Duration) {
	m.batches.Add(1)
	us := min(max(d.Microseconds(), commitMinMicros), commitMaxMicros)
	m.mu.Lock()
	if m.times == nil {
		m.times = hdrhistogram.New(commitMinMicros, commitMaxMicros, commitSigFigs)
	}
	_ = m.times.RecordValue(us) // clamped into range: cannot fail
	m.mu.Unlock()
}

// Busy adds d to the time the partition's writer spent working.
func (m *Meter) Busy(d time.Duration) { m.busy.Add(int64(d)) }

// MergeCommitTimes adds the histogram of the write transactions' durations
// in microseconds, one value per Batch, to into (CommitTimer).
func (m *Meter) MergeCommitTimes(into *hdrhistogram.Histogram) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.times != nil {
		into.Merge(m.times)
	}
}

// Stats returns the cumulative counters.
func (m *Meter) Stats() PartitionStats {
	return PartitionStats{
		Committed:       m.committed.Load(),
		Rejected:        m.rejected.Load(),
		Failed:          m.failed.Load(),
		Batches:         m.batches.Load(),
		BatchedAttempts: m.attempts.Load(),
		Busy:            time.Duration(m.busy.Load()),
	}
}
