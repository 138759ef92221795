package results_test

import (
	"fmt"
	"time"

	"github.com/slotrush/slotrush/results"
)

// part returns the result of one segment of a run: its people booked
// with the given latencies (ms), all answered 201.
func part(start time.Time, latMs ...int64) *results.Result {
	h := results.NewLatencyHistogram()
	for _, ms := range latMs {
		_ = h.RecordValue(ms * 1000)
	}
	enc, _ := results.EncodeHistogram(h)
	n := int64(len(latMs))
	return &results.Result{
		Format: results.FormatVersion, Scenario: "demo", Engine: results.EngineLive, Seed: 1,
		StartedAt: start, FinishedAt: start.Add(2 * time.Second),
		Designs: []results.DesignResult{{
			Design:     "per-ppv-day",
			DurationS:  2,
			Requests:   results.Requests{Total: n, ByStatus: map[string]int64{"201": n}},
			LatencyMs:  map[string]results.LatencySummary{results.OpBook: results.Summarize(h)},
			Histograms: map[string]string{results.OpBook: enc},
			Users:      results.Users{Arrived: n, Booked: n, RequestsPerUser: 1, RetryAmplification: 1},
			Slots:      results.Slots{Capacity: 10, Booked: n, Answered201: n, Persisted: n},
			Timeline: []results.TimelinePoint{{
				TS: 0, TUnix: start.Unix(), RPS: float64(n), OK: n, Booked: n,
			}},
		}},
	}
}

// Two segments of one run, started one second apart, merge into one
// result: counts add, the histograms add and the percentiles come from
// their sum, and the timelines align on absolute seconds.
func ExampleMerge() {
	start := time.Date(2021, time.May, 26, 12, 0, 0, 0, time.UTC)
	a := part(start, 10, 20, 30)
	b := part(start.Add(time.Second), 40, 50, 60, 70)
	m, err := results.Merge(a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := m.Designs[0]
	book := d.LatencyMs[results.OpBook]
	fmt.Printf("requests %d, booked %d of %d places\n", d.Requests.Total, d.Slots.Booked, d.Slots.Capacity)
	fmt.Printf("book p50 %.1f ms, max %.1f ms, over %d requests\n", book.P50, book.Max, book.Count)
	for _, p := range d.Timeline {
		fmt.Printf("t_s %d: %v requests/s\n", p.TS, p.RPS)
	}
	fmt.Printf("duration %v s\n", d.DurationS)
	// Output:
	// requests 7, booked 7 of 10 places
	// book p50 40.0 ms, max 70.0 ms, over 7 requests
	// t_s 0: 3 requests/s
	// t_s 1: 4 requests/s
	// duration 3 s
}
