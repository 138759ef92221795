package reports

import (
	"fmt"
	"image/color"
	"math"
	"sort"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// maxNines caps the percentile spectrum at 99.999%.
const maxNines = 5

// figures returns every plot the data allows, cross-design plots first,
// then three per design, then a heatmap of the partitions of each design
// with results by partition. Plots without data are left out.
func figures(ss []series) []*figure {
	var out []*figure
	add := func(f *figure) {
		if f != nil {
			out = append(out, f)
		}
	}
	// Runs of very different lengths get their own time axes.
	clusters := durationClusters(ss)
	for k, c := range clusters {
		add(clustered(bookedOverTime(c), c, k, len(clusters)))
	}
	for k, c := range clusters {
		add(clustered(goodputOverTime(c), c, k, len(clusters)))
	}
	add(userOutcomes(ss))
	// The two waits, shown one after the other, share their time axis.
	ttb, tto := timeToBook(ss), timeToOutcome(ss)
	if ttb != nil && tto != nil {
		x := math.Max(ttb.plot.X.Max, tto.plot.X.Max)
		ttb.plot.X.Max, tto.plot.X.Max = x, x
	}
	add(ttb)
	add(tto)
	add(requestsPerPerson(ss))
	add(fairness(ss))
	add(errorRates(ss))
	add(p99ByOperation(ss))
	add(partitionAvailability(ss))
	perDesign := map[string][]*figure{}
	span := map[string]int{}
	for _, c := range clusters {
		var share []*figure
		for _, s := range c {
			for _, f := range []*figure{latencySpectrum(s), requestsByOutcome(s), latencyOverTime(s)} {
				if f != nil {
					perDesign[s.Slug] = append(perDesign[s.Slug], f)
					share = append(share, f)
				}
			}
			// The heatmaps share their time axis but not their rows,
			// whose number is each design's.
			span[s.Slug] = partitionSpan(c)
		}
		shareAxes(share)
	}
	for _, s := range ss {
		out = append(out, perDesign[s.Slug]...)
	}
	for _, s := range ss {
		add(partitionHeatmap(s, span[s.Slug]))
	}
	return out
}

// clustered names the time plot f of cluster k of n (durationClusters)
// apart from the others' and says in its title which runs it shows; f as
// it is when there is one cluster, nil when f is.
func clustered(f *figure, c []series, k, n int) *figure {
	if f == nil || n <= 1 {
		return f
	}
	if k > 0 {
		f.Name = fmt.Sprintf("%s-%d", f.Name, k+1)
	}
	f.Title += clusterTitle(c)
	return f
}

// shareAxes gives the per-design plots of each kind the same axes, so the
// designs can be compared by eye: a taller band or a higher line means more.
func shareAxes(figs []*figure) {
	byKind := map[string][]*figure{}
	for _, f := range figs {
		byKind[f.kind] = append(byKind[f.kind], f)
	}
	for _, group := range byKind {
		x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
		for _, f := range group {
			p := f.plot
			x0, x1 = math.Min(x0, p.X.Min), math.Max(x1, p.X.Max)
			y0, y1 = math.Min(y0, p.Y.Min), math.Max(y1, p.Y.Max)
		}
		for _, f := range group {
			f.plot.X.Min, f.plot.X.Max = x0, x1
			f.plot.Y.Min, f.plot.Y.Max = y0, y1
			if f.kind == kindSpectrum {
				f.plot.X.Tick.Marker = ninesTicks(x1)
			}
		}
	}
}

// Kinds of per-design plots.
const (
	kindSpectrum    = "spectrum"
	kindRequests    = "requests"
	kindLatencyTime = "latency-over-time"
	kindPartitions  = "partitions"
)

// histograms returns the decodable, non-empty histograms of d by operation,
// in journey order. Undecodable ones are skipped: Check reports them.
func histograms(d *results.DesignResult) ([]string, map[string]*hdrhistogram.Histogram) {
	hs := map[string]*hdrhistogram.Histogram{}
	var ops []string
	for op, enc := range d.Histograms {
		h, err := results.DecodeHistogram(enc)
		if err != nil || h.TotalCount() <= 0 {
			continue
		}
		hs[op] = h
		ops = append(ops, op)
	}
	sortOps(ops)
	return ops, hs
}

// latencySpectrum plots, per operation, latency against percentile on a
// "nines" axis: x = -log10(1-q), so 90%, 99%, 99.9% are evenly spaced.
func latencySpectrum(s series) *figure {
	ops, hs := histograms(s.Design)
	if len(ops) == 0 {
		return nil
	}
	f := newFigure(s.Slug+"-latency-spectrum", s.Label+": latency by percentile (ms, log scale)",
		"percentile of requests (log scale: each step is one more nine)", "")
	f.Series, f.kind = s.Label, kindSpectrum
	f.Caption = "Read across at 99%: the time within which 99 of 100 requests of that kind were answered. A line that climbs steeply on the right is a slow tail that some people waited through. Every design's plot has the same scale."
	lo, hi := math.Inf(1), 0.0
	top := 0.0
	for _, op := range ops {
		top = math.Max(top, math.Min(maxNines, math.Log10(float64(hs[op].TotalCount()))))
	}
	top = math.Max(top, 1)
	for i, op := range ops {
		h := hs[op]
		limit := math.Max(1, math.Min(maxNines, math.Log10(float64(h.TotalCount()))))
		var pts plotter.XYs
		for x := 0.0; x <= limit+1e-9; x += 0.02 {
			q := 1 - math.Pow(10, -x)
			v := float64(h.ValueAtQuantile(100*q)) / 1000
			if x == 0 {
				v = float64(h.Min()) / 1000
			}
			if v <= 0 {
				v = float64(results.HistMinMicros) / 1000
			}
			pts = append(pts, plotter.XY{X: x, Y: v})
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		st, ok := opStyles[op]
		if !ok {
			st = opFallback[i%len(opFallback)]
		}
		l.LineStyle = lineStyle(st.Color, 2, st.Dashes)
		f.plot.Add(l)
		f.legend.Add(fmt.Sprintf("%s (%s requests)", op, commas(h.TotalCount())), l)
	}
	f.plot.X.Min, f.plot.X.Max = 0, top
	f.plot.X.Tick.Marker = ninesTicks(top)
	f.plot.Y.Scale = plot.LogScale{}
	f.plot.Y.Min, f.plot.Y.Max = logRange(lo, hi)
	f.plot.Y.Tick.Marker = logMsTicks{}
	return f
}

// outcomeLayer is one band of the stacked requests plot.
type outcomeLayer struct {
	name  string
	color color.Color
	get   func(results.TimelinePoint) float64
}

// requestsByOutcome stacks each second's requests by answer.
func requestsByOutcome(s series) *figure {
	tl := s.Design.Timeline
	if len(tl) == 0 {
		return nil
	}
	other := func(p results.TimelinePoint) float64 {
		return math.Max(0, p.RPS-float64(p.OK+p.Conflict+p.Throttled+p.ServerErr+p.Transport))
	}
	layers := []outcomeLayer{
		{"2xx answered", colOK, func(p results.TimelinePoint) float64 { return float64(p.OK) }},
		{"409 already taken", colConflict, func(p results.TimelinePoint) float64 { return float64(p.Conflict) }},
		{"429 throttled", colThrottled, func(p results.TimelinePoint) float64 { return float64(p.Throttled) }},
		{"5xx shed or failed", colServerErr, func(p results.TimelinePoint) float64 { return float64(p.ServerErr) }},
		{"timeout or network error", colTransport, func(p results.TimelinePoint) float64 { return float64(p.Transport) }},
	}
	hasOther := false
	for _, p := range tl {
		if other(p) >= 1 {
			hasOther = true
			break
		}
	}
	if hasOther {
		layers = append(layers, outcomeLayer{"answers outside the API", colOther4xx, other})
	}
	pts := sortedTimeline(tl)
	cum := make([]plotter.XYs, len(layers))
	var top float64
	for li := range layers {
		cum[li] = make(plotter.XYs, len(pts))
		for i, p := range pts {
			v := layers[li].get(p)
			if li > 0 {
				v += cum[li-1][i].Y
			}
			cum[li][i] = plotter.XY{X: float64(p.TS), Y: v}
			top = math.Max(top, v)
		}
	}
	f := newFigure(s.Slug+"-requests", s.Label+": requests per second, by answer",
		"seconds since the run started", "requests per second")
	f.Series, f.kind = s.Label, kindRequests
	f.Caption = "Each band is one kind of answer. Green is work done; orange and red are people turned away (429 throttled, 5xx shed) who will retry and add to the load. Every design's plot has the same scale."
	// Draw the tallest band first; each lower band paints over it.
	lines := make([]*plotter.Line, len(layers))
	for li := len(layers) - 1; li >= 0; li-- {
		l, err := plotter.NewLine(cum[li])
		if err != nil {
			return nil
		}
		c := layers[li].color
		l.FillColor = c
		l.LineStyle = lineStyle(c, 0.5, nil)
		f.plot.Add(l)
		lines[li] = l
	}
	for li := len(layers) - 1; li >= 0; li-- {
		f.legend.Add(layers[li].name, lines[li])
	}
	f.plot.Y.Min = 0
	f.plot.Y.Max = math.Max(top*1.05, 1)
	f.plot.Y.Tick.Marker = commaTicks{}
	return f
}

// latencyOverTime plots each second's p50 and p99 over all requests.
func latencyOverTime(s series) *figure {
	tl := sortedTimeline(s.Design.Timeline)
	var p50, p99 plotter.XYs
	lo, hi := math.Inf(1), 0.0
	for _, p := range tl {
		if p.P50Ms > 0 && !math.IsInf(p.P50Ms, 0) {
			p50 = append(p50, plotter.XY{X: float64(p.TS), Y: p.P50Ms})
			lo, hi = math.Min(lo, p.P50Ms), math.Max(hi, p.P50Ms)
		}
		if p.P99Ms > 0 && !math.IsInf(p.P99Ms, 0) {
			p99 = append(p99, plotter.XY{X: float64(p.TS), Y: p.P99Ms})
			lo, hi = math.Min(lo, p.P99Ms), math.Max(hi, p.P99Ms)
		}
	}
	if len(p50) == 0 && len(p99) == 0 {
		return nil
	}
	f := newFigure(s.Slug+"-latency-over-time", s.Label+": latency over time, all requests (ms, log scale)",
		"seconds since the run started", "")
	f.Series, f.kind = s.Label, kindLatencyTime
	f.Caption = "The solid line is the typical wait (half of requests were faster), the dashed line the wait of the unluckiest 1 in 100. Watch how they move when the crowd arrives. Every design's plot has the same scale."
	for _, l := range []struct {
		name   string
		pts    plotter.XYs
		dashes []float64
		width  vg.Length
	}{
		{"p99 (1 in 100 slower)", p99, []float64{7, 4}, 2},
		{"p50 (median)", p50, nil, 2.5},
	} {
		if len(l.pts) == 0 {
			continue
		}
		ln, err := plotter.NewLine(l.pts)
		if err != nil {
			continue
		}
		ln.LineStyle = lineStyle(s.Color, l.width, l.dashes)
		f.plot.Add(ln)
		f.legend.Add(l.name, ln)
	}
	f.plot.Y.Scale = plot.LogScale{}
	f.plot.Y.Min, f.plot.Y.Max = logRange(lo, hi)
	f.plot.Y.Tick.Marker = logMsTicks{}
	return f
}

// bookedOverTime plots the cumulative places booked: the sell-out curve.
func bookedOverTime(ss []series) *figure {
	f := newFigure("booked-over-time", "Places booked over time (cumulative count)",
		"seconds since the run started", "places booked")
	f.Caption = "Each line counts the places booked so far. Steep and flat at the dashed line means the design sold every place quickly; a shallow line means people were waiting while places stayed free."
	var top float64
	caps := map[int64]bool{}
	var capacity int64
	n := 0
	for _, s := range ss {
		cum := cumulativeBooked(s.Design)
		if len(cum) == 0 {
			continue
		}
		n++
		l, err := plotter.NewLine(cum)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(s.Color, 2.5, s.Dashes)
		f.plot.Add(l)
		f.legend.Add(fmt.Sprintf("%s: %s booked", s.Label, commas(int64(cum[len(cum)-1].Y))), l)
		top = math.Max(top, cum[len(cum)-1].Y)
		if s.Design.Slots.Capacity > 0 {
			caps[s.Design.Slots.Capacity] = true
			capacity = s.Design.Slots.Capacity
		}
	}
	if n == 0 {
		return nil
	}
	recTop, _ := addRecord(f, ss)
	top = math.Max(top, recTop)
	if len(caps) == 1 {
		xmin, xmax := f.plot.X.Min, f.plot.X.Max
		l, err := plotter.NewLine(plotter.XYs{{X: xmin, Y: float64(capacity)}, {X: xmax, Y: float64(capacity)}})
		if err == nil {
			l.LineStyle = lineStyle(colGrey, 1.5, []float64{6, 4})
			f.plot.Add(l)
			f.legend.Add(fmt.Sprintf("places available (%s)", commas(capacity)), l)
			top = math.Max(top, float64(capacity))
		}
	}
	f.plot.Y.Min = 0
	f.plot.Y.Max = math.Max(top*1.05, 1)
	f.plot.Y.Tick.Marker = commaTicks{}
	return f
}

// cumulativeBooked returns (t, places booked by t) for d. Timeline.Booked
// counts each second's bookings; a series that is already cumulative (non
// decreasing, ending at Slots.Booked, summing past it) is taken as is.
func cumulativeBooked(d *results.DesignResult) plotter.XYs {
	tl := sortedTimeline(d.Timeline)
	if len(tl) == 0 {
		return nil
	}
	var sum int64
	monotone := true
	for i, p := range tl {
		sum += p.Booked
		if i > 0 && p.Booked < tl[i-1].Booked {
			monotone = false
		}
	}
	already := monotone && len(tl) > 1 && tl[len(tl)-1].Booked == d.Slots.Booked && sum > d.Slots.Booked && d.Slots.Booked > 0
	out := make(plotter.XYs, 0, len(tl)+1)
	out = append(out, plotter.XY{X: float64(tl[0].TS), Y: 0})
	var c int64
	for _, p := range tl {
		if already {
			c = p.Booked
		} else {
			c += p.Booked
		}
		// A booking in second t is done by the end of it.
		out = append(out, plotter.XY{X: float64(p.TS + 1), Y: float64(c)})
	}
	return out
}

// sortedTimeline returns tl ordered by TS (merged shards may interleave).
func sortedTimeline(tl []results.TimelinePoint) []results.TimelinePoint {
	out := append([]results.TimelinePoint(nil), tl...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].TS < out[j].TS })
	return out
}

// seriesWith returns the series of ss whose design satisfies ok, in order.
func seriesWith(ss []series, ok func(d *results.DesignResult) bool) []series {
	var keep []series
	for _, s := range ss {
		if ok(s.Design) {
			keep = append(keep, s)
		}
	}
	return keep
}

// userOutcomes compares what happened to the people who came.
func userOutcomes(ss []series) *figure {
	keep := seriesWith(ss, func(d *results.DesignResult) bool { return d.Users.Arrived > 0 })
	if len(keep) == 0 {
		return nil
	}
	f := newFigure("user-outcomes", "What happened to the people who tried (% of arrivals)", "", "share of people who arrived")
	f.Caption = "Of everyone who came to book: the share who got a place, the share who gave up, and the share still trying when the run ended. In the first group, higher is better."
	groups := []string{"got a place", "gave up", "still trying at the end"}
	waiting := false
	for _, s := range keep {
		waiting = waiting || s.Design.Users.StillWaiting > 0
	}
	if !waiting {
		groups = groups[:2]
		f.Caption = "Of everyone who came to book: the share who got a place and the share who gave up (nobody was still trying when the run ended). In the first group, higher is better."
	}
	values := make([][]float64, len(keep))
	for i, s := range keep {
		u := s.Design.Users
		a := float64(u.Arrived)
		values[i] = []float64{100 * float64(u.Booked) / a, 100 * float64(u.GaveUp) / a, 100 * float64(u.StillWaiting) / a}
		values[i] = values[i][:len(groups)]
	}
	groupedBars(f, groups, keep, values, pctPoints)
	f.plot.Y.Tick.Marker = commaTicks{suffix: "%"}
	return f
}

// p99ByOperation compares the slowest 1% of each operation across designs.
func p99ByOperation(ss []series) *figure {
	seen := map[string]bool{}
	var ops []string
	for _, s := range ss {
		for op, l := range s.Design.LatencyMs {
			if l.Count > 0 && !seen[op] {
				seen[op] = true
				ops = append(ops, op)
			}
		}
	}
	if len(ops) == 0 {
		return nil
	}
	sortOps(ops)
	f := newFigure("p99-by-operation", "Slowest 1 in 100 answers: p99 latency per operation (ms)", "", "p99 latency (ms)")
	f.Caption = "Each bar is the time within which 99 of 100 requests of that kind were answered. Shorter is better; the number above each bar is exact even when the bar is too short to see."
	values := make([][]float64, len(ss))
	for i, s := range ss {
		values[i] = make([]float64, len(ops))
		for j, op := range ops {
			l, ok := s.Design.LatencyMs[op]
			if !ok || l.Count == 0 {
				values[i][j] = math.NaN()
				continue
			}
			values[i][j] = l.P99
		}
	}
	groupedBars(f, ops, ss, values, ms)
	f.plot.Y.Tick.Marker = commaTicks{}
	return f
}

// errorRates compares refused and failed requests across designs.
func errorRates(ss []series) *figure {
	keep := seriesWith(ss, func(d *results.DesignResult) bool { return d.Requests.Total > 0 })
	if len(keep) == 0 {
		return nil
	}
	f := newFigure("error-rate", "Requests refused or failed (% of all requests)", "", "share of all requests")
	f.Caption = "429 means the server throttled the request, 5xx that it shed (503) or failed it, and timeouts that no answer came in time or the connection broke. Each is a person told to try again. Lower is better."
	groups := []string{"all errors", "429 throttled", "5xx", "timeouts"}
	odd := anyDesign(keep, func(d *results.DesignResult) bool { n, _ := d.UnexpectedAnswers(); return n > 0 })
	if odd {
		groups = append(groups, "outside the API")
		f.Caption += " Answers outside the API (403, 404, 400, statuses it does not define, a 2xx whose body could not be read) are errors too: the target or the profile does not match the journey."
	}
	values := make([][]float64, len(keep))
	for i, s := range keep {
		r := s.Design.Requests
		t := float64(r.Total)
		c429, c5xx := statusCounts(r)
		values[i] = []float64{100 * s.Design.ErrorRate(), 100 * float64(c429) / t, 100 * float64(c5xx) / t, 100 * float64(r.TransportErrors) / t}
		if odd {
			n, _ := s.Design.UnexpectedAnswers()
			values[i] = append(values[i], 100*float64(n)/t)
		}
	}
	groupedBars(f, groups, keep, values, pctPoints)
	f.plot.Y.Tick.Marker = commaTicks{suffix: "%"}
	return f
}

// statusCounts returns the 429 and 5xx counts of r.
func statusCounts(r results.Requests) (c429, c5xx int64) {
	for code, n := range r.ByStatus {
		switch {
		case code == "429":
			c429 += n
		case len(code) == 3 && code[0] == '5':
			c5xx += n
		}
	}
	return c429, c5xx
}

// timeToBook plots, per design, the share of arrivals who had booked within
// x seconds of arriving. Designs without the histogram are left out.
func timeToBook(ss []series) *figure {
	f := cdfFigure(ss, func(u results.Users) string { return u.TimeToBook }, "time-to-book",
		"How long people waited for a place (% of arrivals booked within x s)",
		"seconds from arriving to holding a booking")
	if f != nil {
		f.Caption = "Read up from a wait time: the share of everyone who came that had a booking by then. The height where a line flattens is the share who ever got a place; the median and the 99th percentile in the legend are of those who booked."
	}
	return f
}
