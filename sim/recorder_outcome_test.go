package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// Booking latency is split by answer: book_booked holds the 201s only,
// book_refused the 429s and 503s, and book every booking request; the
// per-second intervals of each add up to its histogram, and Check passes.
func TestRecorderBookOutcomes(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name string
		resp Response
		ms   int // latency
		want string
	}{
		{"201", Response{Status: 201, BookingID: "b1"}, 40, results.OpBookBooked},
		{"201 late", Response{Status: 201, BookingID: "b2"}, 1200, results.OpBookBooked},
		{"429", Response{Status: 429}, 2, results.OpBookRefused},
		{"503", Response{Status: 503}, 3, results.OpBookRefused},
		{"503 not open", Response{Status: 503, Code: "not_open"}, 3, ""},
		{"503 partition down", Response{Status: 503, Code: "partition_unavailable"}, 3, ""},
		{"409 sold out", Response{Status: 409, Code: "sold_out"}, 5, ""},
		{"500", Response{Status: 500}, 6, ""},
		{"timeout", Response{Err: errors.New("timeout")}, 5000, ""},
		{"201 unreadable", Response{Status: 201, Err: errors.New("html")}, 7, ""},
		{"profile says throttled", Response{Status: 418, Kind: KindThrottled}, 4, results.OpBookRefused},
	}
	r := NewRecorder(start, len(tests))
	want := map[string]int64{}
	for i, tc := range tests {
		due := start.Add(time.Duration(i) * 700 * time.Millisecond)
		r.Record(i, results.OpBook, tc.resp, due, due.Add(time.Duration(tc.ms)*time.Millisecond))
		r.Record(i, results.OpListPPVs, Response{Status: 200}, due, due.Add(time.Millisecond))
		if tc.want != "" {
			want[tc.want]++
		}
		if got := bookOutcome(&tc.resp); (got >= 0) != (tc.want != "") || got >= 0 && outcomeOps[got] != tc.want {
			t.Errorf("bookOutcome(%s) = %d; want %q", tc.name, got, tc.want)
		}
	}
	d := results.DesignResult{Design: "monolithic"}
	if _, err := r.Fill(&d); err != nil {
		t.Fatal(err)
	}
	if got := d.LatencyMs[results.OpBook].Count; got != int64(len(tests)) {
		t.Errorf("book count = %d; want %d", got, len(tests))
	}
	for _, op := range outcomeOps {
		if got := d.LatencyMs[op].Count; got != want[op] {
			t.Errorf("%s count = %d; want %d", op, got, want[op])
		}
		if len(d.Intervals[op]) == 0 {
			t.Errorf("%s has no intervals", op)
		}
	}
	if got := d.LatencyMs[results.OpBookBooked].Max; got < 1100 {
		t.Errorf("book_booked max = %v ms; want the 1.2 s booking", got)
	}
	if got := d.LatencyMs[results.OpBookRefused].Max; got > 10 {
		t.Errorf("book_refused max = %v ms; want only the fast refusals", got)
	}
	res := results.Result{Format: results.FormatVersion, Engine: results.EngineLive, Designs: []results.DesignResult{d}}
	if errs := res.Check(); len(errs) > 0 {
		t.Errorf("Check() = %v", errs)
	}
	// The timeline counts each request once, not again in its split.
	var rps float64
	for _, p := range d.Timeline {
		rps += p.RPS
	}
	if rps != float64(2*len(tests)) {
		t.Errorf("timeline counts %v requests; want %d", rps, 2*len(tests))
	}
}

// The model splits booking latency by answer exactly as the live
// recorder does: book_booked counts the 201s, book_refused the 429s and
// 503s, and neither more than book.
func TestModelBookOutcomes(t *testing.T) {
	t.Parallel()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	designs := []models.Design{}
	for _, d := range sc.Designs {
		md, err := models.ParseDesign(d.Name, d.Limits)
		if err != nil {
			t.Fatal(err)
		}
		designs = append(designs, md)
	}
	res, _, err := Simulate(context.Background(), sc, designs, sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range res.Designs {
		booked, refused := d.LatencyMs[results.OpBookBooked], d.LatencyMs[results.OpBookRefused]
		if _, ok := d.LatencyMs[results.OpBookRefused]; !ok {
			t.Errorf("%s: no %s", d.Design, results.OpBookRefused)
		}
		if booked.Count != d.Requests.ByStatus["201"] {
			t.Errorf("%s: book_booked count %d; want the 201s, %d", d.Design, booked.Count, d.Requests.ByStatus["201"])
		}
		// Every 429 and 503 of the model answers a booking or a listing;
		// only the bookings' are refused bookings.
		if limit := d.Requests.ByStatus["429"] + d.Requests.ByStatus["503"]; refused.Count > limit {
			t.Errorf("%s: book_refused count %d > 429s + 503s %d", d.Design, refused.Count, limit)
		}
		if booked.Count+refused.Count > d.LatencyMs[results.OpBook].Count {
			t.Errorf("%s: split counts %d > book %d", d.Design, booked.Count+refused.Count, d.LatencyMs[results.OpBook].Count)
		}
	}
	if errs := res.Check(); len(errs) > 0 {
		t.Errorf("Check() = %v", errs)
	}
}
