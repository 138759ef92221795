package sim_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

// TestLivePartitionsAgreeWithServer replays the ci-smoke crowd live
// against the reference server of each design, in-process, and checks
// that the bookings the live engine attributes to each partition are the
// ones the server's partition counted: each 201 a booking it committed,
// each 429 one it throttled, each 503 one it shed, and at least as many
// 409s as it answered sold out (the others are already_booked, which the
// person index answers). The request timeout is long, so that a loaded
// machine times nothing out; a timeout leaves the outcome unknown to the
// client, and then only the bounds are checked.
func TestLivePartitionsAgreeWithServer(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a live run per design")
	}
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	sc.Journey.RequestTimeout = time.Minute
	designs, err := sc.BuildDesigns(nil)
	if err != nil {
		t.Fatal(err)
	}
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(sc.Seed)
	for _, d := range designs {
		t.Run(d.Name, func(t *testing.T) {
			dr, stats := runLive(t, sc, d, inv, crowd)
			r := &results.Result{Format: results.FormatVersion, Engine: results.EngineLive, Designs: []results.DesignResult{*dr}}
			if errs := r.Check(); len(errs) > 0 {
				t.Fatalf("Check() = %v", errs)
			}
			comparePartitions(t, dr, stats)
		})
	}
}

// runLive replays crowd against design d over inv, on a reference server
// it starts, and returns the design's result and the server's statistics.
func runLive(t *testing.T, sc *scenarios.Scenario, d models.Design, inv models.Inventory, crowd []scenarios.Arrival) (*results.DesignResult, refserver.Stats) {
	t.Helper()
	srv, err := refserver.New(d, inv, t.TempDir(), refserver.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tr := sim.NewTransport()
	client, err := sim.NewClient(hs.URL, tr, sc.Journey.RequestTimeout)
	if err != nil {
		t.Fatal(err)
	}
	run := sim.NewLive(client, sc.Journey, sc.Duration, sim.WithWaitingRoom(d.WaitingRoom), sim.WithCentreRooms(d.CentreRooms), sim.WithGrace(time.Minute)).
		Run(context.Background(), crowd)
	tr.CloseIdleConnections()
	hs.Close()
	stats := srv.Stats()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	dr := &results.DesignResult{Design: d.Name, Assumptions: results.Assumptions{Scheme: d.Scheme, Partitions: len(d.Partitions(&inv))}}
	if _, err := sim.FillLive(run, dr); err != nil {
		t.Fatal(err)
	}
	return dr, stats
}

// comparePartitions compares the bookings by partition of dr with what
// the server's partitions counted (st).
func comparePartitions(t *testing.T, dr *results.DesignResult, st refserver.Stats) {
	t.Helper()
	p := dr.ByPartition
	if p == nil {
		t.Fatal("no bookings by partition")
	}
	if p.Unattributed != 0 {
		t.Errorf("%d bookings unattributed; every journey books a slot it listed", p.Unattributed)
	}
	var committed int64
	for _, ps := range st.Partitions {
		committed += ps.Committed
		tt, ok := p.Total(string(ps.Key))
		if !ok {
			if ps.Committed+ps.Throttled+ps.Shed+ps.SoldOut > 0 {
				t.Errorf("partition %s: the server decided bookings of it; the engine attributed none", ps.Key)
			}
			continue
		}
		t.Logf("partition %s: engine %+v; server committed %d throttled %d shed %d sold out %d", ps.Key, tt.PartitionCounts, ps.Committed, ps.Throttled, ps.Shed, ps.SoldOut)
		if tt.Transport == 0 {
			if tt.OK != ps.Committed || tt.Throttled != ps.Throttled || tt.Overloaded != ps.Shed || tt.Conflict < ps.SoldOut {
				t.Errorf("partition %s: the engine counted %+v; the server committed %d, throttled %d, shed %d, sold out %d",
					ps.Key, tt.PartitionCounts, ps.Committed, ps.Throttled, ps.Shed, ps.SoldOut)
			}
			continue
		}
		t.Logf("partition %s: %d bookings timed out: checking bounds only", ps.Key, tt.Transport)
		if ps.Committed > tt.OK+tt.Transport || ps.Throttled > tt.Throttled+tt.Transport || ps.Shed > tt.Overloaded+tt.Transport {
			t.Errorf("partition %s: the engine counted %+v; the server committed %d, throttled %d, shed %d",
				ps.Key, tt.PartitionCounts, ps.Committed, ps.Throttled, ps.Shed)
		}
	}
	if len(p.Totals) > len(st.Partitions) {
		t.Errorf("%d partitions attributed; the server has %d", len(p.Totals), len(st.Partitions))
	}
	if committed == 0 {
		t.Errorf("nothing booked: the comparison says nothing")
	}
}
