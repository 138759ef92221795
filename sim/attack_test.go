package sim

import (
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

func TestAttackHoldsConstantRate(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	const rate = 500.0
	res, err := Attack(context.Background(), AttackOptions{URL: srv.URL, Rate: rate, Duration: 2 * time.Second, MaxWorkers: 64})
	if err != nil {
		t.Fatal(err)
	}
	if got := math.Abs(res.Rate-rate) / rate; got > 0.02 {
		t.Errorf("achieved rate %.1f/s; want %.0f/s within 2%% (off by %.1f%%)", res.Rate, rate, got*100)
	}
	if want := int64(rate * 2); res.Sent < want-2 || res.Sent > want {
		t.Errorf("sent %d; want %d", res.Sent, want)
	}
	var sum int64 = res.Transport
	for _, n := range res.ByStatus {
		sum += n
	}
	if sum != res.Sent || res.Latency.TotalCount() != res.Sent || hits.Load() != res.Sent {
		t.Errorf("counts disagree: sent %d, by status+transport %d, histogram %d, server saw %d", res.Sent, sum, res.Latency.TotalCount(), hits.Load())
	}
}

// A server that stalls for 300 ms once must show the stall in p99 even with
// one worker: requests queued behind it are measured from their scheduled
// start, not from when the worker got to them (no coordinated omission).
func TestAttackShowsStallInP99(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 50 {
			time.Sleep(300 * time.Millisecond)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	res, err := Attack(context.Background(), AttackOptions{URL: srv.URL, Rate: 200, Duration: 2 * time.Second, MaxWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// At 200/s, ~60 requests are due during the 300 ms stall and wait behind
	// it: well over 1% of 400, each late by up to 300 ms.
	if p99 := time.Duration(res.Latency.ValueAtQuantile(99)) * time.Microsecond; p99 < 100*time.Millisecond {
		t.Errorf("p99 = %v; want >= 100ms (the stall must show)", p99)
	}
	if res.Late == 0 {
		t.Errorf("late = 0; want the requests queued behind the stall counted late")
	}
}

func TestAttackRejectsBadOptions(t *testing.T) {
	for _, o := range []AttackOptions{
		{URL: "http://127.0.0.1:1", Rate: 1, Duration: time.Second},
		{URL: "http://127.0.0.1:1", Rate: -1, Duration: time.Second, MaxWorkers: 1},
		{URL: "http://127.0.0.1:1", Rate: 1, MaxWorkers: 1},
	} {
		if _, err := Attack(context.Background(), o); err == nil {
			t.Errorf("Attack(%+v) succeeded; want error", o)
		}
	}
}
