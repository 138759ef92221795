package storeurl_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reference-server/storeurl/storeurltest"
)

// benchInventory is large enough that nothing sells out in a benchmark:
// 10 PPVs over 30 days (300 partitions per-ppv-day), a million places each.
func benchInventory() models.Inventory { return models.UniformInventory(10, 30, 1_000_000) }

// BenchmarkEngines books distinct people on every engine and design, two
// ways side by side: path=store calls the store's Book directly (the
// engine's own rate for the booking transaction) and path=http books
// through the reference server over HTTP on loopback, with no limits. Both
// use 16 goroutines per GOMAXPROCS. benchstat -col /path shows the ratio.
func BenchmarkEngines(b *testing.B) {
	inv := benchInventory()
	for _, engine := range storeurltest.Engines {
		for _, name := range []string{"monolithic", "per-ppv", "per-ppv-day"} {
			d, err := models.ParseDesign(name, models.Limits{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("engine=%s/design=%s/path=store", engine, name), func(b *testing.B) {
				benchStore(b, engine, d, inv)
			})
			b.Run(fmt.Sprintf("engine=%s/design=%s/path=http", engine, name), func(b *testing.B) {
				benchHTTP(b, engine, d, inv)
			})
		}
	}
}

// open opens a fresh store of engine for d over inv.
func open(b *testing.B, engine string, d models.Design, inv models.Inventory) store.Store {
	spec, err := storeurl.Parse(storeurltest.URL(b, engine))
	if err != nil {
		b.Fatal(err)
	}
	st, err := spec.Opener()(context.Background(), b.TempDir(), d, inv)
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// benchStore books through the store's partitions directly.
func benchStore(b *testing.B, engine string, d models.Design, inv models.Inventory) {
	st := open(b, engine, d, inv)
	defer func() {
		if err := st.Close(); err != nil {
			b.Error(err)
		}
	}()
	parts := make([]store.Partition, len(inv.Slots)) // slot index -> partition
	index := map[models.PartitionKey]int{}
	for i, p := range d.Partitions(&inv) {
		index[p.Key] = i
	}
	for i, sl := range inv.Slots {
		parts[i] = st.Partitions()[index[d.Key(sl.Key())]]
	}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			i := int(n) % len(inv.Slots)
			id := strconv.FormatInt(n, 36)
			rec := store.Record{Booking: models.Booking{ID: "b0-" + id, PersonID: "bench-" + id,
				PPV: inv.Slots[i].PPV, Date: inv.Slots[i].Date, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}}
			if _, err := parts[i].Book(context.Background(), rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "bookings/s")
}

// benchHTTP books through the reference server over HTTP.
func benchHTTP(b *testing.B, engine string, d models.Design, inv models.Inventory) {
	spec, err := storeurl.Parse(storeurltest.URL(b, engine))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := refserver.New(d, inv, b.TempDir(), refserver.WithStoreOpener(spec.Opener()), refserver.WithLogger(log))
	if err != nil {
		b.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tr := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	defer func() {
		tr.CloseIdleConnections()
		hs.Close()
		if err := srv.Close(); err != nil {
			b.Error(err)
		}
	}()
	client := &http.Client{Transport: tr}
	bodies := make([]string, len(inv.Slots))
	for i, s := range inv.Slots {
		bodies[i] = fmt.Sprintf(`","ppv":%q,"date":%q}`, s.PPV, s.Date)
	}
	var seq atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			body := `{"person_id":"bench-` + strconv.FormatInt(n, 36) + bodies[int(n)%len(bodies)]
			if err := post(client, hs.URL, body); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "bookings/s")
}

// post books one person and wants 201.
func post(client *http.Client, base, body string) error {
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/bookings", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST = %d", resp.StatusCode)
	}
	return nil
}
