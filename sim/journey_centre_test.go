package sim

import (
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// TestJourneyCentreRooms: with rooms per centre, the journey joins the
// queue of its first choice, books there once admitted, and when that
// centre is full (its queue answers 409, or its slots show no place) joins
// the queue of its next choice with a new ticket and no token.
func TestJourneyCentreRooms(t *testing.T) {
	t.Parallel()
	_, p := roomSpec()
	p.CentreRooms = true
	admitted := Response{Status: 200, Ticket: "a.t1", Admitted: true, Token: "tok-a"}
	full := []SlotView{{Date: okSlots.Slots[0].Date, Capacity: 1, Remaining: 0}}
	day := okSlots.Slots[1].Date
	steered := admitted
	steered.Date = day
	cases := []struct {
		name    string
		answers []Response
		wantOp  string
		wantPPV string
		ticket  string
		token   string
	}{
		{"joins its first choice", nil, results.OpQueue, "a", "", ""},
		{"polls the same centre", []Response{{Status: 200, Ticket: "a.t1", RetryAfter: time.Second}}, results.OpQueue, "a", "a.t1", ""},
		{"lists its centre once admitted", []Response{admitted, okPPVs}, results.OpListSlots, "a", "", "tok-a"},
		{"queue of a full centre: next centre", []Response{{Status: 409, Code: "sold_out"}}, results.OpQueue, "b", "", ""},
		{"admitted to a full centre: next centre", []Response{admitted, okPPVs, {Status: 200, Slots: full}}, results.OpQueue, "b", "", ""},
		{"queue too long: next centre", []Response{{Status: 409, Code: "queue_full"}}, results.OpQueue, "b", "", ""},
		{"books the day the room names", []Response{steered}, results.OpBook, "a", "", "tok-a"},
		{"the day named sold out: lists its centre", []Response{steered, {Status: 409, Code: "sold_out"}}, results.OpListSlots, "a", "", "tok-a"},
	}
	for _, c := range cases {
		j := NewJourney(testUser(scenarios.Patient), p)
		act := j.Start()
		for i, r := range c.answers {
			act = j.Next(r, time.Duration(i+1)*time.Second)
		}
		if act.Done || act.Req.Op != c.wantOp || act.Req.PPV != c.wantPPV || act.Req.Ticket != c.ticket || act.Req.Token != c.token {
			t.Errorf("%s: %+v; want %s at %q with ticket %q, token %q", c.name, act, c.wantOp, c.wantPPV, c.ticket, c.token)
		}
		if c.wantOp == results.OpBook && act.Req.Date != day {
			t.Errorf("%s: books %v; want the day named, %v", c.name, act.Req.Date, day)
		}
	}
	// The single room's queue too long: the person leaves.
	_, single := roomSpec()
	j := NewJourney(testUser(scenarios.Patient), single)
	j.Start()
	if act := j.Next(Response{Status: 409, Code: "queue_full"}, time.Second); !act.Done || act.Reason != "queue_full" {
		t.Errorf("single room's queue_full: %+v; want given up, queue_full", act)
	}
}

// TestJourneySteeredPatience: a person admitted at the end of their
// patience in the room still books the day named, patience counting from
// the admission; a person every centre refuses for a long queue gives up
// "queue_full", not "sold_out".
func TestJourneySteeredPatience(t *testing.T) {
	t.Parallel()
	_, p := roomSpec()
	p.CentreRooms = true
	p.RoomPatience, p.Patience, p.ThinkTime = 20*time.Second, 20*time.Second, 2*time.Second
	j := NewJourney(testUser(scenarios.Patient), p)
	j.Start()
	day := okSlots.Slots[0].Date
	act := j.Next(Response{Status: 200, Ticket: "a.t1", Admitted: true, Token: "tok", Date: day}, 19900*time.Millisecond)
	if act.Done || act.Req.Op != results.OpBook || act.Req.Date != day {
		t.Errorf("admitted at 19.9 s of 20 s in the room: %+v; want a booking of %v", act, day)
	}
	j = NewJourney(testUser(scenarios.Patient), p)
	j.Start()
	for i := range p.Alts + 1 {
		act = j.Next(Response{Status: 409, Code: "queue_full"}, time.Duration(i+1)*time.Second)
	}
	if !act.Done || act.Reason != "queue_full" {
		t.Errorf("refused at every centre: %+v; want given up, queue_full", act)
	}
}
