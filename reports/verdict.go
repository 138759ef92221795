package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Verdict is the conclusion of a report in plain words, computed from the
// data: which design booked the most places, for what share of the people,
// how fast, with how many errors, against the worst design. It is plain
// data.
type Verdict struct {
	// Simulated reports whether any result comes from the model engine.
	Simulated bool
	// Headline compares the best design with the worst, or describes the
	// only one. Simulated results start with "SIMULATED (model) results:".
	Headline string
	// Details are the further sentences: people, speed, latency, the other
	// designs.
	Details []string
	// Warnings are broken invariants (oversold, lost 201s) and caveats
	// (interrupted runs, unaudited stores, mixed scenarios).
	Warnings []string
	// Best and Worst are the labels of the designs compared ("" when there
	// are no designs; equal when there is one).
	Best, Worst string
}

// String returns the verdict as one paragraph, warnings last.
func (v Verdict) String() string {
	parts := append([]string{v.Headline}, v.Details...)
	for _, w := range v.Warnings {
		parts = append(parts, "Warning: "+w)
	}
	return strings.Join(parts, " ")
}

// designStats are the figures a verdict and the table are made of.
type designStats struct {
	s                      series
	booked, capacity       int64
	shareOfCapacity        float64 // NaN without capacity
	arrived, users, gaveUp int64
	waiting                int64
	errRate, shedRate      float64 // shedRate: 429 and 503
	total                  int64
	bookP99                float64 // NaN when book was not measured
	soldOutAt, halfAt      float64 // seconds; NaN when never reached
	duration               float64
	perUser                float64
}

func statsOf(s series) designStats {
	d := s.Design
	st := designStats{
		s: s, booked: d.Slots.Booked, capacity: d.Slots.Capacity,
		arrived: d.Users.Arrived, users: d.Users.Booked, gaveUp: d.Users.GaveUp, waiting: d.Users.StillWaiting,
		errRate: d.ErrorRate(), total: d.Requests.Total, bookP99: math.NaN(),
		soldOutAt: math.NaN(), halfAt: math.NaN(), duration: d.DurationS, perUser: d.Users.RequestsPerUser,
		shareOfCapacity: math.NaN(),
	}
	if st.capacity > 0 {
		st.shareOfCapacity = float64(st.booked) / float64(st.capacity)
	}
	if st.total > 0 {
		st.shedRate = float64(d.Requests.ByStatus["429"]+d.Requests.ByStatus["503"]) / float64(st.total)
	}
	if l, ok := d.LatencyMs[OpBook]; ok && l.Count > 0 {
		st.bookP99 = l.P99
	}
	if st.perUser == 0 && st.arrived > 0 {
		st.perUser = float64(st.total) / float64(st.arrived)
	}
	cum := cumulativeBooked(d)
	for _, p := range cum {
		if st.capacity > 0 && math.IsNaN(st.halfAt) && p.Y*2 >= float64(st.capacity) {
			st.halfAt = p.X - cum[0].X
		}
		if st.capacity > 0 && math.IsNaN(st.soldOutAt) && p.Y >= float64(st.capacity) {
			st.soldOutAt = p.X - cum[0].X
		}
	}
	if st.duration == 0 && len(cum) > 0 {
		st.duration = cum[len(cum)-1].X - cum[0].X
	}
	return st
}

// Judge computes the verdict over the designs of all results, ranking them
// by places booked, then people served, then fewest errors. It never fails:
// with no designs the headline says so. Safe for concurrent use.
func Judge(results ...*Result) Verdict {
	return judge(results, collect(results))
}

func judge(results []*Result, ss []series) Verdict {
	var v Verdict
	live, model := 0, 0
	scenarios := map[string]bool{}
	for _, r := range results {
		if r == nil {
			continue
		}
		if r.Engine == EngineModel {
			model++
		} else {
			live++
		}
		scenarios[r.Scenario] = true
		if r.Interrupted {
			v.Warnings = append(v.Warnings, fmt.Sprintf("the run %q was interrupted; its figures cover only part of the scenario.", resultLabel(r)))
		}
	}
	v.Simulated = model > 0
	if len(ss) == 0 {
		v.Headline = "No design results to judge."
		return v
	}
	stats := make([]designStats, len(ss))
	for i, s := range ss {
		stats[i] = statsOf(s)
	}
	order := make([]int, len(stats))
	for i := range order {
		order[i] = i
	}
	// Best first: most places booked, then most people served, then fewest
	// errors; report order breaks ties.
	sort.SliceStable(order, func(a, b int) bool {
		x, y := stats[order[a]], stats[order[b]]
		if x.booked != y.booked {
			return x.booked > y.booked
		}
		if x.users != y.users {
			return x.users > y.users
		}
		return x.errRate < y.errRate
	})
	best, worst := stats[order[0]], stats[order[len(order)-1]]
	v.Best, v.Worst = best.s.Label, worst.s.Label

	prefix := ""
	switch {
	case model > 0 && live == 0:
		prefix = "SIMULATED (model) results: "
	case model > 0:
		prefix = "Mixed live and SIMULATED (model) results: "
	}
	if len(stats) == 1 {
		v.Headline = prefix + fmt.Sprintf("%s booked %s with %s.", best.s.Label, bookedPhrase(best, true), errorsShort(best))
	} else {
		v.Headline = prefix + fmt.Sprintf("%s booked %s with %s; %s booked %s with %s.",
			best.s.Label, bookedPhrase(best, true), errorsShort(best),
			worst.s.Label, bookedPhrase(worst, worst.capacity != best.capacity), errorsLong(worst))
	}

	// People.
	if best.arrived > 0 {
		sent := fmt.Sprintf("With %s, %s of the %s people who tried got a place and %s gave up",
			best.s.Label, pct(float64(best.users)/float64(best.arrived)), commas(best.arrived), pct(float64(best.gaveUp)/float64(best.arrived)))
		if len(stats) > 1 && worst.arrived > 0 {
			of := ""
			if worst.arrived != best.arrived {
				of = " of " + commas(worst.arrived)
			}
			sent += fmt.Sprintf("; with %s, %s%s got a place and %s gave up", worst.s.Label,
				pct(float64(worst.users)/float64(worst.arrived)), of, pct(float64(worst.gaveUp)/float64(worst.arrived)))
		}
		v.Details = append(v.Details, sent+".")
	}
	// Speed.
	if sp := speedPhrase(best); sp != "" {
		sent := best.s.Label + " " + sp
		if len(stats) > 1 {
			if wp := speedPhrase(worst); wp != "" {
				sent += "; " + worst.s.Label + " " + wp
			}
		}
		v.Details = append(v.Details, sent+".")
	}
	// Latency of booking.
	if !math.IsNaN(best.bookP99) {
		sent := fmt.Sprintf("99 in 100 booking requests were answered within %s with %s", ms(best.bookP99), best.s.Label)
		if len(stats) > 1 && !math.IsNaN(worst.bookP99) {
			sent += fmt.Sprintf(", against %s with %s", ms(worst.bookP99), worst.s.Label)
		}
		v.Details = append(v.Details, sent+".")
	}
	// Retry amplification.
	if len(stats) > 1 && best.perUser > 0 && worst.perUser > 0 && worst.perUser > best.perUser*1.2 {
		v.Details = append(v.Details, fmt.Sprintf("Each person sent %s requests on average with %s (retries after refusals), against %s with %s.",
			trimZero(fmt.Sprintf("%.1f", worst.perUser)), worst.s.Label, trimZero(fmt.Sprintf("%.1f", best.perUser)), best.s.Label))
	}
	// The designs in between.
	for k := 1; k < len(order)-1; k++ {
		i := order[k]
		st := stats[i]
		v.Details = append(v.Details, fmt.Sprintf("%s booked %s with %s.", st.s.Label, bookedPhrase(st, st.capacity != best.capacity), errorsShort(st)))
	}

	// Invariants and caveats.
	for _, st := range stats {
		d := st.s.Design
		if d.Slots.Oversold > 0 {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s sold %s places beyond capacity (oversold): the design broke the capacity invariant.", st.s.Label, commas(d.Slots.Oversold)))
		}
		if d.Slots.Missing > 0 {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s answered 201 to %s bookings that are not in the store: confirmed bookings were lost.", st.s.Label, commas(d.Slots.Missing)))
		}
		if d.Slots.Persisted < 0 {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s: the store was not audited afterwards, so lost bookings cannot be ruled out.", st.s.Label))
		}
	}
	if len(scenarios) > 1 {
		names := make([]string, 0, len(scenarios))
		for n := range scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		v.Warnings = append(v.Warnings, fmt.Sprintf("these results come from different scenarios (%s); compare them with care.", strings.Join(names, ", ")))
	}
	return v
}

// bookedPhrase: "5,812 of 6,000 places (97%)" or "1,204 (20%)".
func bookedPhrase(st designStats, withCapacity bool) string {
	if st.capacity <= 0 {
		return commas(st.booked) + " places"
	}
	if withCapacity {
		return fmt.Sprintf("%s of %s places (%s)", commas(st.booked), commas(st.capacity), pct(st.shareOfCapacity))
	}
	return fmt.Sprintf("%s (%s)", commas(st.booked), pct(st.shareOfCapacity))
}

// errorsShort: "0.4% errors", "no errors".
func errorsShort(st designStats) string {
	switch {
	case st.total == 0:
		return "no requests recorded"
	case st.errRate == 0:
		return "no errors"
	}
	return pct(st.errRate) + " errors"
}

// errorsLong says what the errors were: "38% of requests throttled or shed".
func errorsLong(st designStats) string {
	switch {
	case st.total == 0:
		return "no requests recorded"
	case st.errRate == 0:
		return "no errors"
	case st.shedRate >= 0.8*st.errRate:
		return pct(st.errRate) + " of requests throttled or shed"
	}
	return pct(st.errRate) + " of requests refused, failed or timed out"
}

// speedPhrase: "sold out 23 s after the start", "sold 97% of its places in
// 40 s (half within 4 s)".
func speedPhrase(st designStats) string {
	switch {
	case st.capacity <= 0:
		return ""
	case !math.IsNaN(st.soldOutAt):
		return fmt.Sprintf("sold out %s after the start", seconds(st.soldOutAt))
	case st.duration <= 0:
		return ""
	}
	out := fmt.Sprintf("sold %s of its places in %s", pct(st.shareOfCapacity), seconds(st.duration))
	if !math.IsNaN(st.halfAt) {
		out += fmt.Sprintf(" (half within %s)", seconds(st.halfAt))
	}
	return out
}
