package main

import (
	"errors"
	"math"

	"github.com/slotrush/slotrush/scenarios"
)

// scaleFlagUsage is the help of --scale on run and simulate: the same
// scaling in both engines.
const scaleFlagUsage = "multiply the crowd, the daily capacities, the arrival rates and any gateway or step-service limits (not the per-partition limits) by F"

// scaleScenario returns base at scale f (base itself at 1), as --scale
// means on run and simulate: the crowd, the daily capacities and
// piecewise arrival rates multiplied by f, the limits not. Every error is
// a bad input naming --scale.
func scaleScenario(base *scenarios.Scenario, f float64) (*scenarios.Scenario, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) || f <= 0 {
		return nil, badInput("--scale %v: want a positive finite number", f)
	}
	if err := checkScale(base, f); err != nil {
		return nil, err
	}
	if f == 1 {
		return base, nil
	}
	sc := base.Scaled(f)
	if errs := sc.Validate(); len(errs) > 0 {
		return nil, badInput("scenario %s at --scale %g: %w", sc.Name, f, errors.Join(errs...))
	}
	return sc, nil
}
