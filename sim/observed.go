package sim

import (
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// ObservedOf returns the observed milestones of sc as a result carries
// them (results.Result.Observed), in the scenario's order; nil when it has
// none. Both engines put them in the result's header and fill each
// design's milestones from its timeline (results.Result.FillMilestones).
// Safe for concurrent use.
func ObservedOf(sc *scenarios.Scenario) []results.Observation {
	if len(sc.Observed) == 0 {
		return nil
	}
	out := make([]results.Observation, 0, len(sc.Observed))
	for _, o := range sc.Observed {
		kind, n := o.Counts()
		out = append(out, results.Observation{AtS: o.At.Seconds(), Counts: kind, Booked: int64(n), Source: o.Source})
	}
	return out
}
