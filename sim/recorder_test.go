package sim

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
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

// A live run's bookings go to the partitions of the scheme its design
// has or its target states, and to none when the target states nothing:
// listings never, a booking of no slot as unattributed, each answer by
// its class (not_open apart from overloaded).
func TestRecorderPartitions(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	d1, d2 := models.Date{Year: 2021, Month: 6, Day: 7}, models.Date{Year: 2021, Month: 6, Day: 8}
	book := func(ppv string, d models.Date) *Request { return &Request{Op: results.OpBook, PPV: ppv, Date: d} }
	at := func(s int) time.Time { return start.Add(time.Duration(s)*time.Second + 5*time.Millisecond) }
	fill := func(a results.Assumptions) *results.PartitionResults {
		r := NewRecorder(start, 4)
		r.RecordRequest(0, book("a", d1), Response{Status: 201, BookingID: "x"}, start, at(0))
		r.RecordRequest(1, book("a", d1), Response{Status: 503, Code: "not_open"}, start, at(0))
		r.RecordRequest(1, book("a", d2), Response{Status: 429}, start, at(1))
		r.RecordRequest(2, book("b", d1), Response{Status: 503, Code: "overloaded"}, start, at(1))
		r.RecordRequest(2, book("b", d1), Response{Err: errors.New("timeout")}, start, at(2))
		r.RecordRequest(3, &Request{Op: results.OpListSlots, PPV: "a"}, Response{Status: 200}, start, at(0))
		r.Record(3, results.OpBook, Response{Status: 409, Code: "sold_out"}, start, at(2))
		var d results.DesignResult
		d.Assumptions = a
		if _, err := r.Fill(&d); err != nil {
			t.Fatal(err)
		}
		res := &results.Result{Format: results.FormatVersion, Engine: results.EngineLive, Designs: []results.DesignResult{d}}
		if errs := res.Check(); len(errs) > 0 {
			t.Fatalf("Check() = %v", errs)
		}
		return d.ByPartition
	}
	counts := func(ok, throttled, overloaded, notOpen, transport int64) results.PartitionCounts {
		return results.PartitionCounts{Requests: ok + throttled + overloaded + notOpen + transport,
			OK: ok, Throttled: throttled, Overloaded: overloaded, NotOpen: notOpen, Transport: transport}
	}
	for _, tc := range []struct {
		name string
		a    results.Assumptions
		want map[string]results.PartitionCounts // nil: no results by partition
	}{
		{"per-ppv-day", results.Assumptions{Scheme: models.PerPPVDay}, map[string]results.PartitionCounts{
			"ppv-a-2021-06-07": counts(1, 0, 0, 1, 0), "ppv-a-2021-06-08": counts(0, 1, 0, 0, 0), "ppv-b-2021-06-07": counts(0, 0, 1, 0, 1)}},
		{"stated per-ppv", results.Assumptions{Scheme: models.PerPPV, Source: results.SourceStated}, map[string]results.PartitionCounts{
			"ppv-a": counts(1, 1, 0, 1, 0), "ppv-b": counts(0, 0, 1, 0, 1)}},
		{"stated monolithic", results.Assumptions{Scheme: models.Monolithic, Source: results.SourceStated},
			map[string]results.PartitionCounts{"all": counts(1, 1, 1, 1, 1)}},
		{"not stated", results.Assumptions{Source: results.SourceUnstated}, nil},
		{"unknown scheme", results.Assumptions{Scheme: "sharded-by-moon", Source: results.SourceStated}, nil},
	} {
		p := fill(tc.a)
		if tc.want == nil {
			if p != nil {
				t.Errorf("%s: results by partition %+v; want none", tc.name, p)
			}
			continue
		}
		got := map[string]results.PartitionCounts{}
		for _, tt := range p.Totals {
			got[tt.Key] = tt.PartitionCounts
		}
		if !reflect.DeepEqual(got, tc.want) || p.Unattributed != 1 || p.StartUnix != start.Unix() {
			t.Errorf("%s: totals %+v, %d unattributed, start %d; want %+v, 1, %d", tc.name, got, p.Unattributed, p.StartUnix, tc.want, start.Unix())
		}
	}
}
