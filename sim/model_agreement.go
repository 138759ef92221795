package sim

import (
	"github.com/slotrush/slotrush/results"
)

// AgreementRow compares one design's live and model results: how far the
// model is from what was measured.
type AgreementRow struct {
	Design string
	// InLive and InModel report which results hold the design; the figures
	// below are zero unless both do.
	InLive, InModel bool
	// LiveBookedShare and ModelBookedShare are booked / arrived users.
	LiveBookedShare, ModelBookedShare float64
	// BookedShareDiffPP is ModelBookedShare - LiveBookedShare in percentage
	// points.
	BookedShareDiffPP float64
	// LiveBookP50Ms and ModelBookP50Ms are the medians of book latency.
	LiveBookP50Ms, ModelBookP50Ms float64
	// BookP50Ratio is ModelBookP50Ms / LiveBookP50Ms, 0 when either has no
	// booking requests.
	BookP50Ratio float64
	// Blast is set when both results hold the design's blast radius (a
	// run with faults): the shares of arrivals hit, live and model, and
	// ModelHitShare - LiveHitShare in percentage points.
	Blast                       bool
	LiveHitShare, ModelHitShare float64
	HitShareDiffPP              float64
}

// CompareAgreement returns, for every design of live then every design only
// in model, how the model's result agrees with the live one: the difference
// of booked shares in percentage points, the ratio of book p50 latencies
// and, with faults, the difference of the shares of people hit. It is the scaffold of the agreement check a CI job runs
// against a real live run. Safe for concurrent use; it only reads.
func CompareAgreement(live, model *results.Result) []AgreementRow {
	var rows []AgreementRow
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		row := AgreementRow{Design: name}
		var l, m *results.DesignResult
		if live != nil {
			l, row.InLive = live.Design(name)
		}
		if model != nil {
			m, row.InModel = model.Design(name)
		}
		if row.InLive && row.InModel {
			row.LiveBookedShare, row.ModelBookedShare = l.BookedShare(), m.BookedShare()
			row.BookedShareDiffPP = 100 * (row.ModelBookedShare - row.LiveBookedShare)
			lb, lok := l.LatencyMs[results.OpBook]
			mb, mok := m.LatencyMs[results.OpBook]
			if lok && mok && lb.Count > 0 && mb.Count > 0 {
				row.LiveBookP50Ms, row.ModelBookP50Ms = lb.P50, mb.P50
				if lb.P50 > 0 {
					row.BookP50Ratio = mb.P50 / lb.P50
				}
			}
			if lbr, mbr := l.BlastRadius, m.BlastRadius; lbr != nil && mbr != nil {
				row.Blast, row.LiveHitShare, row.ModelHitShare = true, lbr.PeopleHitShare, mbr.PeopleHitShare
				row.HitShareDiffPP = 100 * (mbr.PeopleHitShare - lbr.PeopleHitShare)
			}
		}
		rows = append(rows, row)
	}
	for _, r := range []*results.Result{live, model} {
		if r == nil {
			continue
		}
		for i := range r.Designs {
			add(r.Designs[i].Design)
		}
	}
	return rows
}
