package sim

import (
	"errors"
	"testing"
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// A live run counts a person hit by the model's rule: any 503
// partition_unavailable, or a refused booking of a faulted partition sent
// in its window or up to the request timeout after it; and the people in
// the window are those arrived before its end and not done before its
// start.
func TestLiveBlastRadius(t *testing.T) {
	t.Parallel()
	d := models.Design{Name: "per-ppv-day", Scheme: models.PerPPVDay}
	sp, err := fault.Parse("partition=ppv-a-2021-06-07,errors=50%,start=2s,for=2s")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0)
	opens := start.Add(time.Second) // the window: 3 s to 5 s from the start
	day, err := models.ParseDate("2021-06-07")
	if err != nil {
		t.Fatal(err)
	}
	hot := &Request{Op: results.OpBook, PPV: "a", Date: day}
	cold := &Request{Op: results.OpBook, PPV: "a", Date: day.AddDays(1)}
	list := &Request{Op: results.OpListSlots, PPV: "b"}
	down := Response{Status: 503, Code: "partition_unavailable"}
	failed := Response{Status: 500}
	tests := []struct {
		name    string
		arrive  time.Duration // from the start
		req     *Request
		resp    Response
		at      time.Duration // sent, from the start
		took    time.Duration // 0: still going at the end
		hit, in bool
	}{
		{"listing refused by a down partition", 0, list, down, 500 * time.Millisecond, time.Second, true, false},
		{"hot booking failed in the window", 2 * time.Second, hot, failed, 3500 * time.Millisecond, 4 * time.Second, true, true},
		{"hot booking timed out just after", 2 * time.Second, hot, Response{Err: errors.New("timeout")}, 6 * time.Second, 0, true, true},
		{"hot booking failed long after", 11 * time.Second, hot, failed, 11 * time.Second, time.Second, false, false},
		{"hot booking throttled in the window", 4 * time.Second, hot, Response{Status: 429}, 4 * time.Second, time.Second, false, true},
		{"hot booking not open", 0, hot, Response{Status: 503, Code: "not_open"}, 3 * time.Second, 0, false, true},
		{"cold booking failed in the window", 0, cold, failed, 4 * time.Second, time.Second, false, false},
		{"done before the window", 0, hot, Response{Status: 201, BookingID: "b"}, time.Second, 2 * time.Second, false, false},
	}
	l := NewLive(nil, scenarios.JourneySpec{RequestTimeout: 5 * time.Second}, time.Minute, WithFaults(d, []fault.Spec{sp}, opens))
	r := NewRecorder(start, len(tests))
	r.faults = l.faults
	j := NewJourney(&scenarios.Arrival{PersonID: "p"}, Policy{})
	for i, tc := range tests {
		r.Arrived(i, start.Add(tc.arrive))
		r.RecordRequest(i, tc.req, tc.resp, start.Add(tc.at), start.Add(tc.at+time.Millisecond))
		o := StillWaiting
		if tc.took > 0 {
			o = GaveUp
		}
		r.Finished(i, o, j, true, tc.took)
		if r.users[i].hit != tc.hit {
			t.Errorf("%s: hit %v, want %v", tc.name, r.users[i].hit, tc.hit)
		}
	}
	dr := &results.DesignResult{Users: results.Users{Arrived: int64(len(tests))}}
	b := r.blastRadius(dr)
	var hit, in int64
	for _, tc := range tests {
		hit += b2i(tc.hit)
		in += b2i(tc.in)
	}
	if b.PeopleHit != hit || b.PeopleInWindow != in || b.PeopleHitShare != float64(hit)/float64(len(tests)) {
		t.Errorf("blast radius %+v; want %d hit, %d in the window", b, hit, in)
	}
	if len(b.Faults) != 1 || b.Faults[0] != sp.String() || b.BookingsLost != nil {
		t.Errorf("blast radius faults %v, lost %v; want [%s], not measured", b.Faults, b.BookingsLost, sp)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// Without faults a live run has no blast radius.
func TestLiveNoFaults(t *testing.T) {
	t.Parallel()
	l := NewLive(nil, scenarios.JourneySpec{}, time.Minute, WithFaults(models.Design{}, nil, time.Now()))
	if l.faults != nil {
		t.Fatal("WithFaults without specs set faults")
	}
	r := NewRecorder(time.Now(), 1)
	if b := r.blastRadius(&results.DesignResult{}); b != nil {
		t.Errorf("blast radius %+v without faults", b)
	}
}
