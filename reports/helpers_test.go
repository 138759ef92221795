package reports

import (
	"maps"
	"slices"
	"sync"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

var (
	fixtureOnce sync.Once
	fixtureBase *results.Result
	// fixturePartsBase is fixtureBase with bookings by partition.
	fixturePartsBase *results.Result
)

// fixture returns a fresh deep copy of resultstest.SyntheticResult(1), which is built
// once: building it takes ~0.1 s (~1 s under -race).
func fixture() *results.Result {
	fixtureOnce.Do(buildFixtures)
	return cloneResult(fixtureBase)
}

// fixtureWithPartitions returns a fresh deep copy of the fixture with
// bookings by partition (resultstest.WithPartitions).
func fixtureWithPartitions() *results.Result {
	fixtureOnce.Do(buildFixtures)
	return cloneResult(fixturePartsBase)
}

func buildFixtures() {
	fixtureBase = resultstest.SyntheticResult(1)
	fixturePartsBase = resultstest.WithPartitions(resultstest.SyntheticResult(1), 1)
}

// cloneResult copies r deeply enough that tests may change any field.
func cloneResult(r *results.Result) *results.Result {
	c := *r
	c.Parameters = slices.Clone(r.Parameters)
	c.Designs = make([]results.DesignResult, len(r.Designs))
	for i, d := range r.Designs {
		d.Requests.ByStatus = maps.Clone(d.Requests.ByStatus)
		d.Requests.UnexpectedByAnswer = maps.Clone(d.Requests.UnexpectedByAnswer)
		d.LatencyMs = maps.Clone(d.LatencyMs)
		d.Histograms = maps.Clone(d.Histograms)
		d.Timeline = slices.Clone(d.Timeline)
		d.Calibration = slices.Clone(d.Calibration)
		if p := d.ByPartition; p != nil {
			cp := *p
			cp.Totals, cp.Series = slices.Clone(p.Totals), slices.Clone(p.Series)
			d.ByPartition = &cp
		}
		c.Designs[i] = d
	}
	return &c
}
