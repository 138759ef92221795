package reports

import (
	"maps"
	"slices"
	"sync"
)

var (
	fixtureOnce sync.Once
	fixtureBase *Result
)

// fixture returns a fresh deep copy of SyntheticResult(1), which is built
// once: building it takes ~0.1 s (~1 s under -race).
func fixture() *Result {
	fixtureOnce.Do(func() { fixtureBase = SyntheticResult(1) })
	return cloneResult(fixtureBase)
}

// cloneResult copies r deeply enough that tests may change any field.
func cloneResult(r *Result) *Result {
	c := *r
	c.Parameters = slices.Clone(r.Parameters)
	c.Designs = make([]DesignResult, len(r.Designs))
	for i, d := range r.Designs {
		d.Requests.ByStatus = maps.Clone(d.Requests.ByStatus)
		d.LatencyMs = maps.Clone(d.LatencyMs)
		d.Histograms = maps.Clone(d.Histograms)
		d.Timeline = slices.Clone(d.Timeline)
		d.Calibration = slices.Clone(d.Calibration)
		c.Designs[i] = d
	}
	return &c
}
