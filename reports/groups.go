package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// reportGroup is one group of a report: the series of the results that
// faced one crowd with one engine (groupKey), and those results.
type reportGroup struct {
	key     groupKey
	series  []series
	results []*results.Result
}

// groupSeries splits ss (from collect) into their groups, in order.
func groupSeries(ss []series) []reportGroup {
	var out []reportGroup
	for _, s := range ss {
		for len(out) <= s.Group {
			out = append(out, reportGroup{})
		}
		g := &out[s.Group]
		g.key = keyOf(s.Result)
		g.series = append(g.series, s)
		if !containsResult(g.results, s.Result) {
			g.results = append(g.results, s.Result)
		}
	}
	// A result without designs has no series and no group.
	kept := out[:0]
	for _, g := range out {
		if len(g.series) > 0 {
			kept = append(kept, g)
		}
	}
	return kept
}

func containsResult(rs []*results.Result, r *results.Result) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// heading names a group in the page: "Live run: demo (10,000 people,
// seed 1)", "SIMULATED (model): demo ×10 (100,000 people, seed 1)".
func (g reportGroup) heading() string {
	runs := "Live run"
	if len(g.results) > 1 {
		runs = fmt.Sprintf("%d live runs", len(g.results))
	}
	if g.key.engine == results.EngineModel {
		runs = "SIMULATED (model)"
	}
	return runs + ": " + g.key.crowd.String()
}

// slug is a file-name prefix for the group's plots.
func (g reportGroup) slug() string {
	return slugify(g.key.short())
}

// engineMix says what a set of results is: "live", "simulated" or
// "mixed" (both).
func engineMix(rs []*results.Result) string {
	live, model := false, false
	for _, r := range rs {
		if r.Engine == results.EngineModel {
			model = true
		} else {
			live = true
		}
	}
	switch {
	case live && model:
		return "mixed"
	case model:
		return "simulated"
	}
	return "live"
}

// maxDurationRatio is how much longer than the shortest run of a plot the
// longest may be: runs of more different lengths get their own time axes,
// so a 40 s run is not squashed against a 3 h one.
const maxDurationRatio = 4

// durationOf returns how long s's run lasted in seconds: its duration, or
// the span of its timeline; 0 when unknown.
func durationOf(s series) float64 {
	if d := s.Design.DurationS; d > 0 {
		return d
	}
	tl := s.Design.Timeline
	if len(tl) == 0 {
		return 0
	}
	lo, hi := tl[0].TS, tl[0].TS
	for _, p := range tl {
		lo, hi = min(lo, p.TS), max(hi, p.TS)
	}
	return float64(hi - lo + 1)
}

// durationClusters splits ss into runs of similar length, the shortest
// first, each at most maxDurationRatio times its shortest run (a run of
// unknown length joins the first); each cluster keeps ss's order. One
// cluster when all are alike.
func durationClusters(ss []series) [][]series {
	idx := make([]int, len(ss))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return durationOf(ss[idx[a]]) < durationOf(ss[idx[b]]) })
	cluster := make([]int, len(ss))
	n, lo := 0, math.NaN()
	for _, i := range idx {
		d := durationOf(ss[i])
		switch {
		case d <= 0:
		case math.IsNaN(lo):
			lo = d
		case d > maxDurationRatio*lo:
			n++
			lo = d
		}
		cluster[i] = n
	}
	out := make([][]series, n+1)
	for i, s := range ss {
		out[cluster[i]] = append(out[cluster[i]], s)
	}
	return out
}

// clusterTitle says which runs a cluster's time plot shows, when a group
// has several: " (runs of about 40 s)".
func clusterTitle(c []series) string {
	lo, hi := math.Inf(1), 0.0
	for _, s := range c {
		if d := durationOf(s); d > 0 {
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
	}
	if hi == 0 {
		return ""
	}
	if seconds(lo) == seconds(hi) {
		return " (runs of about " + seconds(hi) + ")"
	}
	return " (runs of " + seconds(lo) + " to " + seconds(hi) + ")"
}

// groupsWarning says, for a verdict over results of several groups, that
// it ranks only the first group's designs.
func groupsWarning(groups []reportGroup) string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.key.crowd.String() + " by the " + g.key.engine + " engine"
	}
	return fmt.Sprintf("these results faced %d different crowds or engines (%s); this verdict ranks only the designs of the first, since designs that faced different crowds cannot be ranked against each other: judge each group apart.",
		len(groups), strings.Join(names, "; "))
}
