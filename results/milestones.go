package results

import (
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
)

// What an observed milestone counts (Observation.Counts, Milestone.Counts).
// slotrush books one place per person, so a design's count of either is
// its count of bookings; the record may count one or the other, and the
// scenario says how its places relate to the record's (doses, people).
const (
	CountsPlaces = "places"
	CountsPeople = "people"
)

// Observation is one milestone of the real event a scenario replays, as
// its scenario states it (scenarios' observed:): by AtS seconds from the
// run's start (the scenario's t=0, the announced opening), Booked places
// or people (Counts) had been booked, according to Source (a URL or a
// citation). A result carries its scenario's observations in
// Result.Observed; it is plain data.
type Observation struct {
	AtS    float64 `json:"at_s"`
	Counts string  `json:"counts"`
	Booked int64   `json:"booked"`
	Source string  `json:"source"`
}

// Milestone sets one Observation beside what a design did: Observed is the
// record's count at AtS, Simulated the design's bookings by AtS (for a
// live result, measured rather than simulated; the name is the one the
// result format has always promised), and ReachedAtS when the design's
// bookings first reached Observed (nil when they never did within the
// run). A milestone after the design's run ended (AfterEnd) has a
// Simulated count only when nobody was still trying at the end, so
// nothing more could have been booked; otherwise it is nil (unknown).
type Milestone struct {
	AtS        float64  `json:"at_s"`
	Counts     string   `json:"counts"`
	Observed   int64    `json:"observed"`
	Simulated  *int64   `json:"simulated"`
	ReachedAtS *float64 `json:"reached_at_s"`
	AfterEnd   bool     `json:"after_end,omitempty"`
}

// Milestones returns d's milestones against obs, in the order of obs, from
// d's timeline (Timeline.Booked, each second's bookings: a booking in
// second t is done by t+1). It returns nil when obs is empty. It does not
// modify d. Safe for concurrent use with other readers of d.
func Milestones(obs []Observation, d *DesignResult) []Milestone {
	if len(obs) == 0 {
		return nil
	}
	tl := append([]TimelinePoint(nil), d.Timeline...)
	sort.SliceStable(tl, func(i, j int) bool { return tl[i].TS < tl[j].TS })
	end := d.DurationS
	var total int64
	for _, p := range tl {
		total += p.Booked
		end = math.Max(end, float64(p.TS+1))
	}
	settled := d.Users.Arrived > 0 && d.Users.StillWaiting == 0
	out := make([]Milestone, len(obs))
	for i, o := range obs {
		m := Milestone{AtS: o.AtS, Counts: o.Counts, Observed: o.Booked, AfterEnd: o.AtS > end}
		var by int64
		for _, p := range tl {
			if float64(p.TS+1) > o.AtS {
				break
			}
			by += p.Booked
		}
		switch {
		case !m.AfterEnd:
			m.Simulated = &by
		case settled:
			m.Simulated = &total
		}
		m.ReachedAtS = reachedAt(tl, o.Booked)
		out[i] = m
	}
	return out
}

// reachedAt returns the end of the second in which the bookings of tl (in
// order of TS) first add up to n, or nil when they never do.
func reachedAt(tl []TimelinePoint, n int64) *float64 {
	var c int64
	for _, p := range tl {
		c += p.Booked
		if c >= n {
			at := float64(p.TS + 1)
			return &at
		}
	}
	return nil
}

// FillMilestones sets the milestones of every design of r against
// r.Observed, from its timeline (none when r has no observations). Call
// it when a design's timeline is final: after a run, and after a merge.
// It is idempotent. Not safe for concurrent use.
func (r *Result) FillMilestones() {
	for i := range r.Designs {
		r.Designs[i].Milestones = Milestones(r.Observed, &r.Designs[i])
	}
}

// checkObserved returns the problems of r's observations: a time before
// the start or not finite, an unknown count, a count that is not
// positive, a missing source.
func (r *Result) checkObserved() []error {
	var errs []error
	for i, o := range r.Observed {
		var bad []string
		if !(o.AtS >= 0) || math.IsInf(o.AtS, 0) {
			bad = append(bad, fmt.Sprintf("at_s %v is not a time from the start", o.AtS))
		}
		if o.Counts != CountsPlaces && o.Counts != CountsPeople {
			bad = append(bad, fmt.Sprintf("counts %q: want %q or %q", o.Counts, CountsPlaces, CountsPeople))
		}
		if o.Booked <= 0 {
			bad = append(bad, fmt.Sprintf("booked %d: want a count above 0", o.Booked))
		}
		if strings.TrimSpace(o.Source) == "" {
			bad = append(bad, "no source")
		}
		if len(bad) > 0 {
			errs = append(errs, fmt.Errorf("observed[%d]: %s", i, strings.Join(bad, "; ")))
		}
	}
	return errs
}

// checkMilestones returns the problems of d's milestones against obs, the
// result's observations: each must set one observation beside the design
// (its time, count and kind), with counts and times that are not negative.
func (d *DesignResult) checkMilestones(obs []Observation) []error {
	var errs []error
	for i, m := range d.Milestones {
		if !matchesObservation(m, obs) {
			errs = append(errs, fmt.Errorf("design %s: milestones[%d] (%d %s at %v s) matches no observed milestone of the result", d.Design, i, m.Observed, m.Counts, m.AtS))
		}
		if m.Simulated != nil && *m.Simulated < 0 {
			errs = append(errs, fmt.Errorf("design %s: milestones[%d]: simulated %d is negative", d.Design, i, *m.Simulated))
		}
		if m.ReachedAtS != nil && (!(*m.ReachedAtS >= 0) || math.IsInf(*m.ReachedAtS, 0)) {
			errs = append(errs, fmt.Errorf("design %s: milestones[%d]: reached_at_s %v is not a time from the start", d.Design, i, *m.ReachedAtS))
		}
	}
	return errs
}

// matchesObservation reports whether m sets one of obs beside a design.
func matchesObservation(m Milestone, obs []Observation) bool {
	for _, o := range obs {
		if o.AtS == m.AtS && o.Counts == m.Counts && o.Booked == m.Observed {
			return true
		}
	}
	return false
}

// mergeRecord gives out, the merge of parts, the parts' observations,
// which must be the same in every part (they come from the scenario), and
// recomputes each design's milestones from the merged timeline: the
// parts' own milestones count only their share of the crowd.
func mergeRecord(out *Result, parts []*Result) error {
	first := parts[0].Observed
	for k, p := range parts[1:] {
		if len(p.Observed) != len(first) || (len(first) > 0 && !reflect.DeepEqual(p.Observed, first)) {
			return fmt.Errorf("part %d has %d observed milestones %v; part 1 %d %v: not parts of one scenario", k+2, len(p.Observed), p.Observed, len(first), first)
		}
	}
	if len(first) == 0 {
		return nil
	}
	out.Observed = append([]Observation(nil), first...)
	out.FillMilestones()
	return nil
}
