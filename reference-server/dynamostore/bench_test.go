package dynamostore

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

// BenchmarkBook is the booking rate of the store itself (Partition.Book,
// the one TransactWriteItems, without the reference server's HTTP), called
// by as many goroutines as the SQLite store's BenchmarkSQLiteCommit uses,
// each booking spread over every slot. It needs SLOTRUSH_TEST_DYNAMODB.
func BenchmarkBook(b *testing.B) {
	inv := benchInventory()
	cfg := uniqueConfig(b)
	for _, name := range []string{"monolithic", "per-ppv", "per-ppv-day"} {
		d := design(b, name)
		s := open(b, cfg, d, inv)
		parts := make([]store.Partition, len(inv.Slots)) // slot index -> partition
		for i, sl := range inv.Slots {
			parts[i] = partitionOf(s, d, sl)
		}
		var seq atomic.Int64
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
			var tx0 int64
			for _, p := range s.Partitions() {
				tx0 += p.Stats().Batches
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
			var tx int64
			for _, p := range s.Partitions() {
				tx += p.Stats().Batches
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bookings/s")
			if b.N > 0 {
				b.ReportMetric(float64(tx-tx0)/float64(b.N), "tx/booking")
			}
		})
	}
}
