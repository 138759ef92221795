package main

import (
	"time"

	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim"
)

// journeyServerOptions gives the reference server the scenario's gateway,
// step services and per-state openings, t0 being the announced opening
// (t=0 of the crowd) on the server's clock. nil sc gives none.
func journeyServerOptions(sc *scenarios.Scenario, t0 time.Time) []refserver.Option {
	if sc == nil {
		return nil
	}
	var opts []refserver.Option
	if sc.Gateway.On() {
		opts = append(opts, refserver.WithGateway(sc.Gateway))
	}
	if steps := sc.StepServices(); len(steps) > 0 {
		opts = append(opts, refserver.WithSteps(steps))
	}
	if len(sc.Crowd.Openings) > 0 {
		opens := map[string]time.Time{}
		for st, at := range sc.StateOpenings() {
			opens[st] = t0.Add(at[0])
		}
		opts = append(opts, refserver.WithStateOpenings(opens))
	}
	return opts
}

// journeyLiveOptions gives a live run the openings a return may aim at.
func journeyLiveOptions(sc *scenarios.Scenario) []sim.LiveOption {
	return []sim.LiveOption{sim.WithOpenings(sc.Crowd.OpeningDelay, sc.StateOpenings())}
}

// serveOpenings gives serve's server its opening (--opens-in, when above
// 0) and the scenario's gateway, steps and per-state openings (sc may be
// nil), the scenario's t=0 falling its opening delay before the opening.
func serveOpenings(opensIn time.Duration, sc *scenarios.Scenario) []refserver.Option {
	var opts []refserver.Option
	opening := time.Now()
	if opensIn > 0 {
		opening = opening.Add(opensIn)
		opts = append(opts, refserver.WithOpensAt(opening))
	}
	if sc != nil {
		opts = append(opts, journeyServerOptions(sc, opening.Add(-sc.Crowd.OpeningDelay))...)
	}
	return opts
}
