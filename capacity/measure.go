package capacity

import (
	"fmt"
	"math"
	"sort"

	"github.com/slotrush/slotrush/results"
)

// TermValue is one SLO term measured at one step. Plain data.
type TermValue struct {
	// Term is the term in canonical form (Term.Canonical).
	Term string `json:"term"`
	// Value is the metric's value in Unit (ms, a share in [0, 1], a
	// ratio); 0 when not Measured.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Pass  bool    `json:"pass"`
	// Note says why a value could not be measured and what that meant:
	// "nobody booked" (a failure), "no queue requests" (a pass).
	Note string `json:"note,omitempty"`
}

// Measurement is what one run of one step measured against an SLO.
type Measurement struct {
	Terms []TermValue
	// Pass is true when every term holds.
	Pass bool
	// Throughput is the design's rate of bookings while the crowd was at
	// its peak, per second (Throughput).
	Throughput float64
	// People is the crowd that arrived; Booked the people who got a place.
	People, Booked int64
}

// Measure evaluates slo on the result of one design's run. It never
// fails: a metric that cannot be measured (no histogram of an operation
// nobody asked for, nobody booked for time_to_book) gets a Note, and
// fails only when its absence means people suffered (nobody booked).
func (s SLO) Measure(d *results.DesignResult) Measurement {
	m := Measurement{Pass: true, Throughput: Throughput(d.Timeline), People: d.Users.Arrived, Booked: d.Users.Booked}
	for _, t := range s {
		tv := t.measure(d)
		if !tv.Pass {
			m.Pass = false
		}
		m.Terms = append(m.Terms, tv)
	}
	return m
}

// measure returns the value of t on d.
func (t Term) measure(d *results.DesignResult) TermValue {
	tv := TermValue{Term: t.Canonical(), Unit: t.Unit}
	v, note, measured := t.value(d)
	switch {
	case measured:
		tv.Value, tv.Pass = v, t.Holds(v)
	case t.Metric == MetricTimeToBook || t.Metric == MetricBookedShare:
		tv.Note, tv.Pass = note+": fails", false
	default:
		tv.Note, tv.Pass = note+": holds", true
	}
	return tv
}

// value returns t's metric on d, or why it could not be measured.
func (t Term) value(d *results.DesignResult) (v float64, note string, ok bool) {
	switch t.Metric {
	case MetricErrors:
		if d.Requests.Total == 0 {
			return 0, "no requests", false
		}
		return d.ErrorRate(), "", true
	case MetricRetryAmplification:
		a := d.Amplification()
		if a <= 0 {
			return 0, "no requests", false
		}
		return a, "", true
	case MetricBookedShare:
		most := d.Users.Arrived
		if d.Slots.Capacity > 0 {
			most = min(most, d.Slots.Capacity)
		}
		if most <= 0 {
			return 0, "nobody arrived", false
		}
		return float64(d.Users.Booked) / float64(most), "", true
	case MetricTimeToBook:
		return percentileOf(d.Users.TimeToBook, t.Percentile, "nobody booked")
	}
	enc, ok := d.Histograms[t.Metric]
	if !ok {
		return 0, "no " + t.Metric + " requests", false
	}
	return percentileOf(enc, t.Percentile, "no "+t.Metric+" requests")
}

// percentileOf returns percentile p of the encoded histogram (µs) in ms;
// empty names the reason when it holds nothing or cannot be decoded.
func percentileOf(enc string, p float64, empty string) (float64, string, bool) {
	if enc == "" {
		return 0, empty, false
	}
	h, err := results.DecodeHistogram(enc)
	if err != nil {
		return 0, fmt.Sprintf("unreadable histogram (%v)", err), false
	}
	if h.TotalCount() == 0 {
		return 0, empty, false
	}
	return float64(results.ValuesAtQuantiles(h, p)[0]) / 1000, "", true
}

// Throughput returns the rate of bookings while the crowd is at its peak,
// per second: the mean of each second's Booked (201 answers to book) over
// the seconds in which at least half as many people arrived as in the
// busiest second. A token bucket's initial burst or one lucky second
// weighs little in it, and a spike's quiet tail not at all. A timeline
// without arrivals (an older result) gets the largest three-second moving
// average instead. 0 for an empty timeline.
func Throughput(tl []results.TimelinePoint) float64 {
	type second struct{ booked, arrivals int64 }
	byT := map[int]second{}
	var peak int64
	for _, p := range tl {
		s := byT[p.TS]
		s.booked += p.Booked
		s.arrivals += p.Arrivals
		byT[p.TS] = s
		peak = max(peak, s.arrivals)
	}
	if peak == 0 {
		return movingPeak(tl)
	}
	var booked, n int64
	for _, s := range byT {
		if 2*s.arrivals >= peak {
			booked += s.booked
			n++
		}
	}
	return float64(booked) / float64(n)
}

// movingPeak returns the largest three-second moving average of Booked.
func movingPeak(tl []results.TimelinePoint) float64 {
	if len(tl) == 0 {
		return 0
	}
	byT := map[int]int64{}
	for _, p := range tl {
		byT[p.TS] += p.Booked
	}
	ts := make([]int, 0, len(byT))
	for t := range byT {
		ts = append(ts, t)
	}
	sort.Ints(ts)
	const window = 3
	if ts[len(ts)-1]-ts[0]+1 < window {
		// A run shorter than the window: its mean rate.
		var sum int64
		for _, t := range ts {
			sum += byT[t]
		}
		return float64(sum) / float64(ts[len(ts)-1]-ts[0]+1)
	}
	best := 0.0
	for _, t0 := range ts {
		var sum int64
		for k := range window {
			sum += byT[t0+k]
		}
		best = math.Max(best, float64(sum)/window)
	}
	return best
}

// binding returns the term of ms that fails by the widest margin relative
// to its limit, "" when every term holds.
func binding(tvs []TermValue, slo SLO) string {
	best, worst := "", -1.0
	for i, tv := range tvs {
		if tv.Pass {
			continue
		}
		over := math.Inf(1) // not measured and failing: as bad as it gets
		if tv.Note == "" && i < len(slo) {
			over = overshoot(slo[i], tv.Value)
		}
		if over > worst {
			best, worst = tv.Term, over
		}
	}
	return best
}

// overshoot returns how far v is beyond t's limit, relative to the limit
// (0.2: 20% past it); a zero limit counts any excess as infinitely far.
func overshoot(t Term, v float64) float64 {
	if t.Limit == 0 {
		if v == 0 {
			return 0
		}
		return math.Inf(1)
	}
	if t.Upper() {
		return v/t.Limit - 1
	}
	return 1 - v/t.Limit
}

// nearLimit reports whether some measured term of tvs lies within margin
// (relative) of its limit, on either side: a step noise could flip. A
// term with a zero limit is never near: no share of 0 is a margin.
func nearLimit(tvs []TermValue, slo SLO, margin float64) (string, bool) {
	for i, tv := range tvs {
		if tv.Note != "" || i >= len(slo) || slo[i].Limit == 0 {
			continue // a zero limit has no relative margin
		}
		if math.Abs(overshoot(slo[i], tv.Value)) <= margin {
			return tv.Term, true
		}
	}
	return "", false
}
