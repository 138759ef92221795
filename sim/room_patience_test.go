package sim

import (
	"testing"
	"time"

	"github.com/slotrush/slotrush/scenarios"
)

// Nobody waits in a waiting room beyond their patience: patient people,
// refreshers and abandoners (a quarter of it) all leave the room, giving
// up with reason waiting_room, before their patience from arrival is
// over. Both engines drive this Journey.
func TestRoomPatience(t *testing.T) {
	t.Parallel()
	js := scenarios.JourneySpec{Patience: 20 * time.Second, RefreshInterval: 500 * time.Millisecond}
	for _, b := range []scenarios.Behaviour{scenarios.Patient, scenarios.Refresher, scenarios.Abandoner} {
		p := PolicyFor(b, js)
		p.WaitingRoom = true
		limit := js.Patience
		if b == scenarios.Abandoner {
			limit = js.Patience / 4
		}
		j := NewJourney(&scenarios.Arrival{PersonID: "p"}, p)
		act := j.Start()
		var elapsed time.Duration
		for n := 0; !act.Done; n++ {
			if n > 10_000 {
				t.Fatalf("%s: still in the room after %v", b, elapsed)
			}
			elapsed += act.Wait
			act = j.Next(Response{Status: 200, Ticket: "t", RetryAfter: time.Second}, elapsed)
		}
		if act.Outcome != GaveUp || act.Reason != "waiting_room" || elapsed > limit {
			t.Errorf("%s: %v (%s) after %v in the room; want to give up from the room within %v", b, act.Outcome, act.Reason, elapsed, limit)
		}
	}
}
