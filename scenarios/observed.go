package scenarios

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// ObservedSpec is one milestone of the real event a scenario replays: by
// At, measured from t=0 (the announced opening, the clock of arrivals and
// of a result's timeline, not the API's opening after
// crowd.opening_delay), PlacesBooked places or PeopleBooked people (one of
// the two) had been booked, according to Source, a URL or a citation such
// as "theborneopost.com 2021/05/26". Results set each design's bookings
// beside it, so the report can say how far each design is from what
// happened. slotrush books one place per person, so both compare with a
// design's bookings: a scenario whose record counts doses must say (in a
// comment) how its places map onto them.
type ObservedSpec struct {
	At           time.Duration `yaml:"at"`
	PlacesBooked int           `yaml:"places_booked"`
	PeopleBooked int           `yaml:"people_booked"`
	Source       string        `yaml:"source"`
}

// Counts returns what the milestone counts, "places" or "people" (the
// values of results.CountsPlaces and results.CountsPeople), and the count;
// "" and 0 when it sets neither.
func (o ObservedSpec) Counts() (string, int) {
	switch {
	case o.PlacesBooked > 0:
		return "places", o.PlacesBooked
	case o.PeopleBooked > 0:
		return "people", o.PeopleBooked
	}
	return "", 0
}

// validateObserved checks each observed milestone on its own (a time after
// t=0, one count above 0 that the scenario could reach, a source), then
// the milestones together: of one kind, a later milestone cannot count
// fewer bookings, nor two share a time.
func (s *Scenario) validateObserved(v *validator) {
	ok := make([]bool, len(s.Observed))
	for i, o := range s.Observed {
		ok[i] = s.validateMilestone(v, i, o)
	}
	byKind := map[string][]int{}
	for i, o := range s.Observed {
		if kind, _ := o.Counts(); ok[i] {
			byKind[kind] = append(byKind[kind], i)
		}
	}
	for _, kind := range []string{"places", "people"} {
		idx := byKind[kind]
		sort.SliceStable(idx, func(a, b int) bool { return s.Observed[idx[a]].At < s.Observed[idx[b]].At })
		for k := 1; k < len(idx); k++ {
			i, j := idx[k-1], idx[k]
			a, b := s.Observed[i], s.Observed[j]
			_, na := a.Counts()
			_, nb := b.Counts()
			switch {
			case a.At == b.At:
				v.add(fmt.Sprintf("observed[%d].at", max(i, j)), "%s repeats the time of observed[%d], also of %s booked: give one count a time", fmtDuration(b.At), min(i, j), kind)
			case nb < na:
				v.add(fmt.Sprintf("observed[%d].%s_booked", j, kind), "%s %s booked at %v is fewer than observed[%d]'s %s at %v: bookings only grow",
					commas(nb), kind, fmtDuration(b.At), i, commas(na), fmtDuration(a.At))
			}
		}
	}
}

// validateMilestone checks the i-th observed milestone o on its own and
// reports whether it is sound.
func (s *Scenario) validateMilestone(v *validator, i int, o ObservedSpec) bool {
	f := fmt.Sprintf("observed[%d]", i)
	n := len(v.errs)
	switch {
	case o.At == 0:
		v.add(f+".at", `required: when the record was made, from t=0 (the announced opening), such as "55m"`)
	case o.At < 0:
		v.add(f+".at", "must be after t=0 (the announced opening), got %v", o.At)
	default:
		v.notTooLong(f+".at", o.At)
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"places_booked", o.PlacesBooked}, {"people_booked", o.PeopleBooked}} {
		if c.n < 0 {
			v.add(f+"."+c.field, "must be a count above 0, got %d", c.n)
		}
	}
	switch {
	case o.PlacesBooked > 0 && o.PeopleBooked > 0:
		v.add(f+".people_booked", "set places_booked or people_booked, not both: a milestone gives the one count its source gives")
	case o.PlacesBooked == 0 && o.PeopleBooked == 0:
		v.add(f, "want places_booked or people_booked: the count the record gives at %v", fmtDuration(o.At))
	case o.PlacesBooked > MaxPlaces:
		v.atMost(f+".places_booked", o.PlacesBooked, MaxPlaces, " places")
	case o.PeopleBooked > MaxCrowd:
		v.atMost(f+".people_booked", o.PeopleBooked, MaxCrowd, " people")
	case o.PlacesBooked > 0 && s.placesKnown() && o.PlacesBooked > s.TotalCapacity():
		v.add(f+".places_booked", "%s is more than the %s places of the inventory: no design could book them", commas(o.PlacesBooked), commas(s.TotalCapacity()))
	case o.PeopleBooked > s.Crowd.Size && s.Crowd.Size > 0 && s.Crowd.Size <= MaxCrowd:
		v.add(f+".people_booked", "%s is more than crowd.size (%s): a person books once", commas(o.PeopleBooked), commas(s.Crowd.Size))
	}
	if strings.TrimSpace(o.Source) == "" {
		v.add(f+".source", `required: where the figure comes from, a URL or a citation such as "theborneopost.com 2021/05/26"`)
	}
	return len(v.errs) == n
}

// placesKnown reports whether the inventory's total capacity is within
// its bounds, so that TotalCapacity means what it says (else the
// inventory's own errors are reported).
func (s *Scenario) placesKnown() bool {
	inv := s.Inventory
	n := s.NumPPVs()
	if n <= 0 || n > MaxPPVs || inv.Days <= 0 || inv.Days > MaxDays {
		return false
	}
	for i := range n {
		if c := s.dailyCapacity(i); c < 0 || c > MaxDailyCapacity {
			return false
		}
	}
	return s.TotalCapacity() <= MaxPlaces
}

// warnObserved says which observed milestones come after the run ends:
// no result can set a design beside them.
func (s *Scenario) warnObserved(v *validator) {
	for i, o := range s.Observed {
		if s.Duration > 0 && o.At > s.Duration {
			v.add(fmt.Sprintf("observed[%d].at", i), "%v is after the run ends (duration %v): no design can be compared with this milestone",
				fmtDuration(o.At), fmtDuration(s.Duration))
		}
	}
}

// scaledObserved returns the observed milestones of s scaled by f as
// Scaled scales the crowd and the places, each count at most what c, the
// scaled scenario, holds (rounding may otherwise put it above).
func (s *Scenario) scaledObserved(f float64, c *Scenario) []ObservedSpec {
	if len(s.Observed) == 0 {
		return nil
	}
	out := make([]ObservedSpec, len(s.Observed))
	for i, o := range s.Observed {
		o.PlacesBooked = min(scaleCount(o.PlacesBooked, f), max(c.TotalCapacity(), 1))
		o.PeopleBooked = min(scaleCount(o.PeopleBooked, f), max(c.Crowd.Size, 1))
		out[i] = o
	}
	return out
}
