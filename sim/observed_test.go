package sim

import (
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// TestObservedOf: the scenario's record becomes the result's, counts named
// as results names them.
func TestObservedOf(t *testing.T) {
	t.Parallel()
	sc := &scenarios.Scenario{Observed: []scenarios.ObservedSpec{
		{At: 56 * time.Minute, PlacesBooked: 300000, Source: "a"},
		{At: 90 * time.Second, PeopleBooked: 7, Source: "b"},
	}}
	got := ObservedOf(sc)
	want := []results.Observation{
		{AtS: 3360, Counts: results.CountsPlaces, Booked: 300000, Source: "a"},
		{AtS: 90, Counts: results.CountsPeople, Booked: 7, Source: "b"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ObservedOf = %+v; want %+v", got, want)
	}
	if got := ObservedOf(&scenarios.Scenario{}); got != nil {
		t.Errorf("ObservedOf(no record) = %v; want nil", got)
	}
}

// TestSimulateMilestones: the model's result carries the record and each
// design's milestones, which pass Check.
func TestSimulateMilestones(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	sc.Observed = []scenarios.ObservedSpec{{At: 2 * time.Second, PlacesBooked: 50, Source: "a test"}}
	res, _ := simulate(t, sc, 1)
	if len(res.Observed) != 1 || res.Observed[0].Source != "a test" {
		t.Fatalf("observed = %+v; want the scenario's", res.Observed)
	}
	for _, d := range res.Designs {
		if len(d.Milestones) != 1 || d.Milestones[0].Simulated == nil {
			t.Errorf("%s: milestones %+v; want one with a simulated count", d.Design, d.Milestones)
			continue
		}
		if want := results.Milestones(res.Observed, &d); *want[0].Simulated != *d.Milestones[0].Simulated {
			t.Errorf("%s: simulated %d; want %d from the timeline", d.Design, *d.Milestones[0].Simulated, *want[0].Simulated)
		}
	}
	if errs := res.Check(); len(errs) > 0 {
		t.Errorf("Check() = %v", errs)
	}
}
