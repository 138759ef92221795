package sim

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

// A booking whose answer was lost stays unknown unless a later answer
// resolves it: a 201 or already_booked does, a sold_out does not.
func TestRecorderLostBookings(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	lost := Response{Err: errors.New("timeout")}
	tests := []struct {
		name  string
		resps []Response
		lost  bool
	}{
		{"answered 201", []Response{{Status: 201, BookingID: "b1"}}, false},
		{"timed out", []Response{lost}, true},
		{"timed out, then sold out", []Response{lost, {Status: 409, Code: "sold_out"}}, true},
		{"timed out, then already booked", []Response{lost, {Status: 409, Code: "already_booked"}}, false},
		{"timed out, then 201", []Response{lost, {Status: 201, BookingID: "b2"}}, false},
		{"201 then nothing lost", []Response{{Status: 429}, {Status: 201, BookingID: "b3"}}, false},
	}
	r := NewRecorder(start, len(tests))
	var want []int
	for i, tc := range tests {
		for _, resp := range tc.resps {
			r.Record(i, results.OpBook, resp, start, start.Add(time.Millisecond))
		}
		r.Record(i, results.OpListSlots, Response{Err: errors.New("reset")}, start, start.Add(time.Millisecond))
		if tc.lost {
			want = append(want, i)
		}
	}
	if got := r.LostBookings(); !slices.Equal(got, want) {
		t.Errorf("LostBookings() = %v; want %v (%v)", got, want, func() (names []string) {
			for _, i := range want {
				names = append(names, tests[i].name)
			}
			return names
		}())
	}
}
