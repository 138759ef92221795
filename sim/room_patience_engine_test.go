package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

// In both engines nobody stays in a waiting room beyond their patience: a
// room admitting one person a second in front of the ci-smoke crowd
// (400 people in 2 s, patience 2 s) leaves nobody still waiting when
// the run ends 8 s after the last arrival, and most give up from it.
func TestRoomPatienceEngines(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a live run")
	}
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	sc.Duration = 10 * time.Second
	sc.Journey.RequestTimeout = 5 * time.Second
	sc.WaitingRoom = scenarios.WaitingRoomSpec{AdmitPerInterval: 1, Interval: time.Second, Order: "fifo", TokenTTL: time.Minute}
	room := sc.Designs[len(sc.Designs)-1]
	room.Name += "+waiting-room"
	sc.Designs = append(sc.Designs, room)
	designs, err := sc.BuildDesigns([]string{room.Name})
	if err != nil {
		t.Fatal(err)
	}
	d := designs[0]
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(sc.Seed)
	live, _ := runLive(t, sc, d, inv, crowd)
	model, _, err := sim.Simulate(context.Background(), sc, designs, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		engine                   string
		waiting, gaveUp, arrived int64
	}{
		{"live", live.Users.StillWaiting, live.Users.GaveUp, live.Users.Arrived},
		{"model", model.Designs[0].Users.StillWaiting, model.Designs[0].Users.GaveUp, model.Designs[0].Users.Arrived},
	} {
		t.Logf("%s: %d arrived, %d gave up, %d still waiting", c.engine, c.arrived, c.gaveUp, c.waiting)
		if c.waiting != 0 || 2*c.gaveUp < c.arrived {
			t.Errorf("%s: %d of %d still waiting, %d gave up; want nobody waiting and most giving up", c.engine, c.waiting, c.arrived, c.gaveUp)
		}
	}
}
