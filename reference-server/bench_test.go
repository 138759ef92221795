package refserver

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

// benchInventory is large enough that nothing sells out during a benchmark:
// 10 PPVs over 30 days (300 partitions per-ppv-day), a million places each.
func benchInventory() models.Inventory {
	var inv models.Inventory
	first := models.Date{Year: 2021, Month: time.June, Day: 7}
	for i := range 10 {
		id := fmt.Sprintf("ppv-%02d", i)
		inv.PPVs = append(inv.PPVs, models.PPV{ID: id, Name: id, State: "selangor"})
		for d := range 30 {
			inv.Slots = append(inv.Slots, models.Slot{PPV: id, Date: first.AddDays(d), Capacity: 1_000_000})
		}
	}
	return inv
}

// benchParallelism makes RunParallel use 16 goroutines per GOMAXPROCS, a
// crowd of concurrent clients rather than one per core.
const benchParallelism = 16

// BenchmarkBookHTTP books distinct people over real HTTP on loopback with
// unlimited limits; compare with sqlitestore's BenchmarkSQLiteCommit (the
// same group-commit writer called directly) for the server's overhead.
func BenchmarkBookHTTP(b *testing.B) {
	inv := benchInventory()
	bodies := make([]string, len(inv.Slots))
	for i, s := range inv.Slots {
		bodies[i] = fmt.Sprintf(`","ppv":%q,"date":%q}`, s.PPV, s.Date)
	}
	for _, name := range designs {
		d, _ := models.ParseDesign(name, models.Limits{})
		s, err := New(d, inv, b.TempDir(), WithLogger(testLogger(b)))
		if err != nil {
			b.Fatal(err)
		}
		hs := httptest.NewServer(s.Handler())
		tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
		client := &http.Client{Transport: tr}
		var seq atomic.Int64
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(benchParallelism)
			before := s.Stats()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := seq.Add(1)
					body := `{"person_id":"bench-` + fmt.Sprint(n) + bodies[int(n)%len(bodies)]
					req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/v1/bookings", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						b.Errorf("POST = %d", resp.StatusCode)
						return
					}
				}
			})
			elapsed := time.Since(start)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "bookings/s")
			b.ReportMetric(batchSize(before, s.Stats()), "bookings/batch")
		})
		tr.CloseIdleConnections()
		hs.Close()
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}
}

// batchSize returns the mean group-commit size between two snapshots.
func batchSize(before, after Stats) float64 {
	var batches, attempts float64
	for i, p := range after.Partitions {
		q := before.Partitions[i]
		batches += float64(p.Batches - q.Batches)
		attempts += p.MeanBatchSize*float64(p.Batches) - q.MeanBatchSize*float64(q.Batches)
	}
	if batches == 0 {
		return 0
	}
	return attempts / batches
}
