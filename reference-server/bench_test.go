package refserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

// benchInventory is large enough that nothing sells out during a benchmark:
// 10 PPVs over 30 days (300 partitions per-ppv-day), a million places each.
// sqlitestore's benchmark uses the same, so their ratio compares like with like.
func benchInventory() models.Inventory { return models.UniformInventory(10, 30, 1_000_000) }

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
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err != nil {
						b.Errorf("POST: read body: %v", err)
						return
					}
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

// BenchmarkQueueHTTP joins distinct people to a waiting room (each join a
// durable, group-committed ticket) and polls their tickets, over real HTTP
// on loopback.
func BenchmarkQueueHTTP(b *testing.B) {
	d, _ := models.ParseDesign("per-ppv"+models.WaitingRoomSuffix, models.Limits{})
	d.Room = models.RoomPolicy{AdmitPerInterval: 100, Interval: time.Second, Order: models.RoomRandom, TokenTTL: time.Minute}
	s, err := New(d, models.SmallInventory(), b.TempDir(), WithLogger(testLogger(b)), WithOpensAt(time.Now().Add(time.Hour)))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			b.Error(err)
		}
	}()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var seq atomic.Int64
	var tickets []string
	var mu sync.Mutex // guards tickets
	do := func(b *testing.B, req *http.Request) []byte {
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("%s %s = %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
			return nil
		}
		return body
	}
	b.Run("join", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		before := s.Stats().Room.Commits
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := fmt.Sprintf(`{"person_id":"bench-%d"}`, seq.Add(1))
				req, _ := http.NewRequest(http.MethodPost, hs.URL+"/api/v1/queue", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				var q QueueStatus
				if json.Unmarshal(do(b, req), &q) == nil {
					mu.Lock()
					if len(tickets) < 10000 {
						tickets = append(tickets, q.Ticket)
					}
					mu.Unlock()
				}
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "joins/s")
		if n := s.Stats().Room.Commits - before; n > 0 {
			b.ReportMetric(float64(b.N)/float64(n), "joins/commit")
		}
	})
	b.Run("poll", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(benchParallelism)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				tk := tickets[int(seq.Add(1))%len(tickets)]
				mu.Unlock()
				req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/queue/"+tk, http.NoBody)
				do(b, req)
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "polls/s")
	})
}
