package reports

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/slotrush/slotrush/results"
)

// recordPoint is one observed milestone of the real event, as drawn.
type recordPoint struct {
	at     float64 // seconds from the start of the run
	counts string  // results.CountsPlaces or results.CountsPeople
	booked int64
	source string // "" when the result does not say
}

// recordOf returns the distinct observed milestones of the series'
// results, in order of first appearance: each result's Observed, or, for
// a result without them, its designs' milestones (without a source).
func recordOf(ss []series) []recordPoint {
	var out []recordPoint
	seen := map[recordPoint]bool{}
	add := func(p recordPoint) {
		if !seen[p] && p.at >= 0 && !math.IsInf(p.at, 0) {
			seen[p] = true
			out = append(out, p)
		}
	}
	done := map[*results.Result]bool{}
	for _, s := range ss {
		if s.Result != nil && len(s.Result.Observed) > 0 {
			if !done[s.Result] {
				done[s.Result] = true
				for _, o := range s.Result.Observed {
					add(recordPoint{at: o.AtS, counts: o.Counts, booked: o.Booked, source: o.Source})
				}
			}
			continue
		}
		for _, m := range s.Design.Milestones {
			add(recordPoint{at: m.AtS, counts: m.Counts, booked: m.Observed})
		}
	}
	return out
}

// recordGlyphs are the shapes of the record's markers, one per source.
var recordGlyphs = []draw.GlyphDrawer{draw.RingGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{}, draw.BoxGlyph{}}

// addRecord draws the observed milestones of the series' results on f, the
// booked-over-time plot, as black markers, one legend entry "the record
// (SOURCE)" per source, and returns the highest count drawn (0 when there
// are none). It returns the legend labels it added, in order.
func addRecord(f *figure, ss []series) (top float64, labels []string) {
	pts := recordOf(ss)
	var sources []string
	bySource := map[string]plotter.XYs{}
	for _, p := range pts {
		if _, ok := bySource[p.source]; !ok {
			sources = append(sources, p.source)
		}
		bySource[p.source] = append(bySource[p.source], plotter.XY{X: p.at, Y: float64(p.booked)})
		top = math.Max(top, float64(p.booked))
	}
	for i, src := range sources {
		sc, err := plotter.NewScatter(bySource[src])
		if err != nil {
			continue
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: colBlack, Radius: vg.Points(5), Shape: recordGlyphs[i%len(recordGlyphs)]}
		f.plot.Add(sc)
		label := "the record"
		if src != "" {
			label += " (" + shorten(src, 48) + ")"
		}
		f.legend.Add(label, sc)
		labels = append(labels, label)
	}
	return top, labels
}

// shorten returns s cut to at most n runes, ending in "…" when cut.
func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n-1]) + "…"
}

// recordSentences says, for each design with milestones, how far it is
// from the record: when it booked each observed count against when the
// record says it was booked, or how much it had booked by then; one
// sentence per design, in report order. Nil when no design has
// milestones.
func recordSentences(stats []designStats) []string {
	var out []string
	for _, st := range stats {
		d := st.s.Design
		if len(d.Milestones) == 0 {
			continue
		}
		clauses := make([]string, 0, len(d.Milestones))
		for _, m := range d.Milestones {
			clauses = append(clauses, milestoneClause(m, sourceOf(st.s.Result, m), d.DurationS))
		}
		out = append(out, fmt.Sprintf("%s against the record (times from the start of the run): %s.", st.s.Label, strings.Join(clauses, "; ")))
	}
	return out
}

// sourceOf returns the source of the observation m sets beside a design
// of r; "" when r does not say.
func sourceOf(r *results.Result, m results.Milestone) string {
	if r == nil {
		return ""
	}
	for _, o := range r.Observed {
		if o.AtS == m.AtS && o.Counts == m.Counts && o.Booked == m.Observed {
			return o.Source
		}
	}
	return ""
}

// milestoneClause says how far a design was from one observed milestone
// m (from source), its run lasting runS seconds: "booked 300,000 places
// by 31 min, 24 min before the record (55 min; SOURCE)"; or, when it
// never got there, what it had booked by the record's time.
func milestoneClause(m results.Milestone, source string, runS float64) string {
	unit := m.Counts
	if unit == "" {
		unit = results.CountsPlaces
	}
	rec, recAt := "the record", clock(m.AtS)
	if source != "" {
		rec += " (" + source + ")"
		recAt += ", " + source
	}
	obs := commas(m.Observed) + " " + unit
	switch {
	case m.ReachedAtS != nil:
		s := fmt.Sprintf("booked %s by %s, %s (%s)", obs, clock(*m.ReachedAtS), howEarly(*m.ReachedAtS, m.AtS), recAt)
		if m.Simulated != nil && *m.Simulated > m.Observed {
			s += fmt.Sprintf(", and %s by %s", commas(*m.Simulated), clock(m.AtS))
		}
		return s
	case m.Simulated != nil && !m.AfterEnd:
		return fmt.Sprintf("had booked %s %s by %s, where %s has %s (%s of it), and never reached it",
			commas(*m.Simulated), unit, clock(m.AtS), rec, obs, pct(float64(*m.Simulated)/float64(m.Observed)))
	case m.Simulated != nil:
		return fmt.Sprintf("booked %s %s in all, where %s has %s by %s (%s of it)",
			commas(*m.Simulated), unit, rec, obs, clock(m.AtS), pct(float64(*m.Simulated)/float64(m.Observed)))
	default:
		return fmt.Sprintf("its run ended at %s, before %s counts %s at %s: not compared", clock(runS), rec, obs, clock(m.AtS))
	}
}

// howEarly says how a design's time reached compares with the record's
// at, both in seconds from the start: the same when they read the same.
func howEarly(reached, at float64) string {
	diff := reached - at
	switch {
	case clock(reached) == clock(at):
		return "as the record did"
	case diff < 0:
		return clock(-diff) + " before the record"
	default:
		return clock(diff) + " after the record"
	}
}

// clock formats a time in seconds from the start of a run, or a span:
// whole minutes from 10 min on ("55 min"), else as seconds does.
func clock(v float64) string {
	if v >= 600 && !math.IsInf(v, 0) {
		return fmt.Sprintf("%.0f min", v/60)
	}
	return seconds(v)
}
