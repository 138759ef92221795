package sqlitestore

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// benchInventory is refserver's benchmark inventory: 10 PPVs over 30 days,
// a million places each, so nothing sells out.
func benchInventory() models.Inventory { return models.UniformInventory(10, 30, 1_000_000) }

// BenchmarkSQLiteCommit is the raw commit rate of the booking transaction:
// the same group-commit writer path the server uses, called directly by as
// many goroutines as refserver's BenchmarkBookHTTP uses clients.
func BenchmarkSQLiteCommit(b *testing.B) {
	inv := benchInventory()
	for _, name := range []string{"monolithic", "per-ppv", "per-ppv-day"} {
		d := design(b, name)
		s, err := Open(context.Background(), b.TempDir(), d, inv)
		if err != nil {
			b.Fatal(err)
		}
		parts := make([]store.Partition, len(inv.Slots)) // slot index -> partition
		index := map[models.PartitionKey]int{}
		for i, p := range d.Partitions(&inv) {
			index[p.Key] = i
		}
		for i, sl := range inv.Slots {
			parts[i] = s.Partitions()[index[d.Key(sl.Key())]]
		}
		var seq atomic.Int64
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			var batches0, attempts0 int64
			for _, p := range s.Partitions() {
				st := p.Stats()
				batches0 += st.Batches
				attempts0 += st.BatchedAttempts
			}
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					i := int(n) % len(inv.Slots)
					id := strconv.FormatInt(n, 36)
					rec := store.Record{Booking: models.Booking{ID: "b" + id, PersonID: "bench-" + id,
						PPV: inv.Slots[i].PPV, Date: inv.Slots[i].Date, CreatedAt: time.Now()}}
					if _, err := parts[i].Book(context.Background(), rec); err != nil {
						b.Error(err)
						return
					}
				}
			})
			elapsed := time.Since(start)
			var batches, attempts int64
			for _, p := range s.Partitions() {
				st := p.Stats()
				batches += st.Batches
				attempts += st.BatchedAttempts
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bookings/s")
			if batches > batches0 {
				b.ReportMetric(float64(attempts-attempts0)/float64(batches-batches0), "bookings/batch")
			}
		})
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}
}
