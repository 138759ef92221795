package sim

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

// Answers outside the API are counted by answer, in requests and in the
// timeline, whichever shard recorded them; they are errors, and a run of
// nothing else is unusable.
func TestRecorderCountsUnexpectedAnswers(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	rec := NewRecorder(start, 8)
	for i := range 8 {
		rec.Arrived(i, start)
	}
	unreadable := errors.New("bad body: no list at the profile's list path")
	answers := []struct {
		op   string
		resp Response
	}{
		{results.OpListPPVs, Response{Status: 200}},                                 // ok
		{results.OpListSlots, Response{Status: 200, Err: unreadable}},               // an HTML page: unreadable
		{results.OpListSlots, Response{Status: 200, Kind: KindOK, Err: unreadable}}, // the same through a profile
		{results.OpBook, Response{Status: 404}},                                     // v1: not found
		{results.OpBook, Response{Status: 404, Kind: KindNotFound}},                 // profile: not found
		{results.OpBook, Response{Status: 400}},                                     // v1: rejected
		{results.OpBook, Response{Status: 403}},                                     // v1: not admitted
		{results.OpBook, Response{Status: 418}},                                     // v1: unexpected
		{results.OpBook, Response{Status: 409, Kind: KindUnexpected}},               // profile: unexpected
		{results.OpBook, Response{Err: errors.New("connection refused"), Kind: KindTransport}},
	}
	for i, a := range answers {
		// Spread over shards and seconds: the merge must add them up.
		done := start.Add(time.Duration(i%3) * time.Second)
		rec.Record(i, a.op, a.resp, done.Add(-time.Millisecond), done)
	}
	var d results.DesignResult
	if _, err := rec.Fill(&d); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		results.AnswerKey(200, results.AnswerUnreadable):  2,
		results.AnswerKey(404, results.AnswerNotFound):    2,
		results.AnswerKey(400, results.AnswerRejected):    1,
		results.AnswerKey(403, results.AnswerNotAdmitted): 1,
		results.AnswerKey(418, results.AnswerUnexpected):  1,
		results.AnswerKey(409, results.AnswerUnexpected):  1,
	}
	if d.Requests.Unexpected != 8 || !maps.Equal(d.Requests.UnexpectedByAnswer, want) {
		t.Errorf("unexpected = %d, %v; want 8, %v", d.Requests.Unexpected, d.Requests.UnexpectedByAnswer, want)
	}
	if d.Requests.Total != 10 || d.Requests.ByStatus["200"] != 3 || d.Requests.TransportErrors != 1 {
		t.Errorf("requests %+v; want 10 in all, 3 of them 200 (as answered), 1 transport error", d.Requests)
	}
	var ok, odd, rps, errs int64
	for _, p := range d.Timeline {
		ok += p.OK
		odd += p.Unexpected
		rps += int64(p.RPS)
		errs += p.Errors
	}
	if ok != 1 || odd != 8 || rps != 10 || errs != 1 {
		t.Errorf("timeline: ok %d, unexpected %d, rps %d, errors %d; want 1, 8, 10 (every answer), 1 (the transport error)", ok, odd, rps, errs)
	}
	if got, want := d.ErrorRate(), 0.9; got != want {
		t.Errorf("ErrorRate() = %v; want %v (8 outside the API + 1 transport of 10)", got, want)
	}
	r := &results.Result{Format: results.FormatVersion, Engine: results.EngineLive, Designs: []results.DesignResult{d}}
	if errs := r.Check(); len(errs) > 0 {
		t.Errorf("Check() = %v", errs)
	}
	if bad, why := d.Unusable(); !bad {
		t.Errorf("Unusable() = false, %q; want true: nobody booked, every error outside the API or unanswered", why)
	}
}

// A run with no answer outside the API writes none of the new fields, so
// its result reads as before.
func TestRecorderWritesNoUnexpectedWhenNone(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	rec := NewRecorder(start, 1)
	rec.Arrived(0, start)
	for _, resp := range []Response{{Status: 200}, {Status: 409, Code: "sold_out"}, {Status: 201, BookingID: "b1"}, {Status: 429}, {Status: 503}} {
		rec.Record(0, results.OpBook, resp, start, start.Add(time.Millisecond))
	}
	var d results.DesignResult
	if _, err := rec.Fill(&d); err != nil {
		t.Fatal(err)
	}
	if d.Requests.Unexpected != 0 || d.Requests.UnexpectedByAnswer != nil || d.Timeline[0].Unexpected != 0 {
		t.Errorf("requests %+v, timeline %+v; want no answer outside the API", d.Requests, d.Timeline[0])
	}
}

// A target that answers 201 beyond the places it listed at the start sold
// them: oversold is at least the excess, audited or not, and the result
// passes its own check.
func TestFillTargetSlotsOversold(t *testing.T) {
	t.Parallel()
	_, ts := newTargetFake(t)
	c := tgtClient(t, ts.URL)
	inv, err := ReadInventory(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	capacity := inv.RemainingPlaces() // 31
	ids := make([]string, capacity+9)
	for i := range ids {
		ids[i] = fmt.Sprintf("x%d", i)
	}
	ids[0], ids[1], ids[2] = "b1", "b2", "b3" // b1 and b2 share a slot with one place left
	audit := AuditBookings(context.Background(), c, ids[:3], 1000, 3)
	for _, tt := range []struct {
		name  string
		ids   []string
		audit *APIAudit
		want  int64
	}{
		{"within the places, not audited", ids[:capacity], nil, 0},
		{"beyond the places, not audited", ids, nil, 9},
		{"beyond the places, audited", ids, audit, 9},             // the excess exceeds what the audit found (1)
		{"within the places, audit finds one", ids[:3], audit, 1}, // a slot sold beyond its own places
	} {
		d := &results.DesignResult{Design: "acme"}
		if err := FillTargetSlots(d, inv, tt.ids, tt.audit, nil); err != nil {
			t.Fatal(err)
		}
		if d.Slots.Oversold != tt.want || d.Slots.Capacity != capacity {
			t.Errorf("%s: slots %+v; want capacity %d, oversold %d", tt.name, d.Slots, capacity, tt.want)
		}
		r := &results.Result{Format: results.FormatVersion, Engine: results.EngineLive, Designs: []results.DesignResult{*d}}
		if errs := r.Check(); len(errs) > 0 {
			t.Errorf("%s: Check() = %v; want none (booked ≤ capacity + oversold)", tt.name, errs)
		}
	}
}
