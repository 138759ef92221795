package pgstore

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// BenchmarkBook is the engine's own rate for the booking transaction,
// without HTTP: Book called directly by 32 goroutines (parallelism 16 per
// core on 2 cores) over one server, per scheme. The inventory is
// sqlitestore's benchmark inventory (10 PPVs over 30 days, a million
// places each), so nothing sells out; every booking is a new person.
func BenchmarkBook(b *testing.B) {
	url := testURL(b)
	inv := models.UniformInventory(10, 30, 1_000_000)
	for _, name := range []string{"monolithic", "per-ppv", "per-ppv-day"} {
		d := design(b, name)
		cfg := Config{URLs: []string{url}, Schema: uniqueName("b")}
		s, err := Open(context.Background(), cfg, d, inv)
		if err != nil {
			b.Fatal(err)
		}
		parts := make([]store.Partition, len(inv.Slots)) // slot index -> partition
		for i, sl := range inv.Slots {
			parts[i] = partitionOf(b, s, sl)
		}
		var seq atomic.Int64
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(16)
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
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "bookings/s")
		})
		if err := s.Close(); err != nil {
			b.Error(err)
		}
		if err := Drop(context.Background(), cfg, d); err != nil {
			b.Error(err)
		}
	}
}
