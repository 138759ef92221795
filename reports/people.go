package reports

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/slotrush/slotrush/results"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file holds the plots of what people lived through: load against
// bookings, requests per person, time to an outcome and fairness.

// Line styles of the goodput panels, the same in every panel: what the
// server was asked for thin and dashed, what it delivered thick and solid,
// the people arriving dotted grey.
var (
	goodputOffered  = []float64{5, 3}
	goodputArrivals = []float64{1.5, 2.5}
)

// perSecond returns, in time order, each second's requests, places booked
// and arrivals of d. Booked is taken per second even from a timeline that
// holds it cumulatively (see cumulativeBooked).
func perSecond(d *results.DesignResult) (t, rps, booked, arrivals []float64) {
	tl := sortedTimeline(d.Timeline)
	cum := cumulativeBooked(d)
	for i, p := range tl {
		t = append(t, float64(p.TS))
		rps = append(rps, math.Max(0, p.RPS))
		booked = append(booked, math.Max(0, cum[i+1].Y-cum[i].Y))
		arrivals = append(arrivals, float64(max(0, p.Arrivals)))
	}
	return t, rps, booked, arrivals
}

// storm describes a retry storm: requests per second that rose while places
// booked per second fell, with places still free.
type storm struct {
	rpsFrom, rpsTo, bookedFrom, bookedTo float64
}

// retryStorm compares the first and last thirds of d's timeline: it reports
// a storm when requests per second rose by more than 20% while places booked
// per second fell by more than 20%, and the design had not sold out (then
// fewer bookings are the end of the sale, not a storm).
func retryStorm(d *results.DesignResult) (storm, bool) {
	_, rps, booked, _ := perSecond(d)
	return stormOf(d, rps, booked)
}

// stormOf is retryStorm over the per-second requests and bookings of d
// already at hand.
func stormOf(d *results.DesignResult, rps, booked []float64) (storm, bool) {
	n := len(rps)
	if n < 6 || (d.Slots.Capacity > 0 && d.Slots.Booked >= d.Slots.Capacity*98/100) {
		return storm{}, false
	}
	third := n / 3
	mean := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x
		}
		return s / float64(len(v))
	}
	s := storm{
		rpsFrom: mean(rps[:third]), rpsTo: mean(rps[n-third:]),
		bookedFrom: mean(booked[:third]), bookedTo: mean(booked[n-third:]),
	}
	ok := s.rpsFrom > 0 && s.bookedFrom > 0 && s.rpsTo > 1.2*s.rpsFrom && s.bookedTo < 0.8*s.bookedFrom
	return s, ok
}

// goodputOverTime draws one panel per design, all on the same axes: requests
// per second sent, places booked per second and people arriving per second.
// A retry storm shows as a dashed line climbing while the solid one sinks.
func goodputOverTime(ss []series) *figure {
	g := goodputOf(ss)
	if len(g.panels) == 0 {
		return nil
	}
	f := newFigure("goodput", "Requests sent vs places booked, per second (log scale)", "", "")
	f.Caption = goodputCaption(g)
	yTop := log1pTop(g.ymax)
	for i, pn := range g.panels {
		f.panels = append(f.panels, pn.plot(i == len(g.panels)-1, len(g.panels) > manyDesigns, g.tmax, yTop))
	}
	legendLine(f, "requests sent per second, retries included (dashed, in the design's colour)", colBlack, 1.5, goodputOffered)
	legendLine(f, "places booked per second (solid, in the design's colour)", colBlack, 2.5, nil)
	if g.anyArrivals {
		legendLine(f, "people arriving per second (dotted grey)", colGrey, 1.5, goodputArrivals)
	}
	return f
}

// goodput is what the goodput figure shows: a panel per design with a
// timeline, and the extent of the axes they share.
type goodput struct {
	panels      []goodputPanel
	tmax, ymax  float64 // the end of the last second; the highest count
	anyArrivals bool    // some panel counted people arriving
	anyRoom     bool    // some design had a waiting room
}

// goodputPanel is one design's per-second counts and their ratios.
type goodputPanel struct {
	s                        series
	t, rps, booked, arrivals []float64
	hasArrivals              bool
	requestsPerBooking       float64 // booking API requests per place booked
	pollsPerBooking          float64 // the waiting room's requests per place booked
	stormy                   bool    // a retry storm (stormOf)
}

// goodputOf gathers the per-second counts of each design of ss that has a
// timeline, with requests per place booked, whether a retry storm shows,
// and the extent of the shared axes.
func goodputOf(ss []series) goodput {
	var g goodput
	for _, s := range ss {
		t, rps, booked, arr := perSecond(s.Design)
		if len(t) == 0 {
			continue
		}
		pn := goodputPanel{s: s, t: t, rps: rps, booked: booked, arrivals: arr}
		var req, bk float64
		for i := range t {
			g.tmax = math.Max(g.tmax, t[i]+1)
			g.ymax = math.Max(g.ymax, math.Max(rps[i], math.Max(booked[i], arr[i])))
			pn.hasArrivals = pn.hasArrivals || arr[i] > 0
			req += rps[i]
			bk += booked[i]
		}
		if bk > 0 {
			polls := math.Min(s.Design.RoomPollsPerPerson()*float64(s.Design.Users.Arrived), req)
			pn.requestsPerBooking = (req - polls) / bk
			pn.pollsPerBooking = polls / bk
		}
		_, pn.stormy = stormOf(s.Design, rps, booked)
		g.anyArrivals = g.anyArrivals || pn.hasArrivals
		g.anyRoom = g.anyRoom || s.Design.HasWaitingRoom()
		g.panels = append(g.panels, pn)
	}
	return g
}

// goodputCaption explains how to read the goodput figure, naming the
// arrivals line and waiting rooms' polls only when g shows them.
func goodputCaption(g goodput) string {
	c := "One panel per design, all on the same scale. The dashed line is the load people put on the server (requests per second, retries included), the solid line the places it actually booked each second" +
		map[bool]string{true: ", the dotted grey line the people arriving.", false: "."}[g.anyArrivals] +
		" Where the dashed line climbs while the solid one sinks, people are clicking again and again and their retries crowd out the bookings: a retry storm. Each step up the scale is ten times more."
	if g.anyRoom {
		c += " Behind a waiting room, people's polls of the queue count as requests: they are cheap to answer."
	}
	return c
}

// title names the panel's design with its requests per place booked, and
// says when a retry storm shows.
func (pn goodputPanel) title() string {
	title := pn.s.Label
	switch {
	case pn.pollsPerBooking > 0:
		title += fmt.Sprintf(": %s booking requests per place booked, + %s to the room", roundSig(pn.requestsPerBooking), roundSig(pn.pollsPerBooking))
	case pn.requestsPerBooking > 0:
		title += fmt.Sprintf(": %s requests per place booked", roundSig(pn.requestsPerBooking))
	default:
		title += ": no place booked"
	}
	if pn.stormy {
		title += " (retry storm)"
	}
	return title
}

// plot draws the panel on shared axes, 0 to tmax seconds and 0 to yTop on
// a log1p scale: arrivals dotted grey, requests dashed and bookings solid in
// the design's colour, each count held for its whole second. Only the last
// panel labels the time axis; a short panel (short) has no y label.
func (pn goodputPanel) plot(last, short bool, tmax, yTop float64) *plot.Plot {
	title := pn.title()
	yLabel := "per second"
	if short {
		yLabel = "" // too short a panel; the title says it
	}
	p := newPlot(title, 11, "", yLabel)
	p.Title.Padding = 4
	// A long label (several results) shrinks its title to fit.
	for p.Title.TextStyle.Font.Size > 7 && p.Title.TextStyle.Rectangle(title).Size().X > figWidth-24 {
		p.Title.TextStyle.Font.Size--
	}
	if last {
		p.X.Label.Text = "seconds since the run started"
		p.X.Tick.Marker = commaTicks{}
	} else {
		// Only the last panel labels the shared time axis; the
		// others keep its grid.
		p.HideX()
		p.Add(xGrid{commaTicks{}})
	}
	p.X.Min, p.X.Max = 0, tmax
	p.Y.Scale = log1pScale{}
	p.Y.Min, p.Y.Max = 0, yTop
	p.Y.Tick.Marker = log1pTicks{}
	if pn.hasArrivals {
		addSteps(p, pn.t, pn.arrivals, colGrey, 1.5, goodputArrivals)
	}
	addSteps(p, pn.t, pn.rps, pn.s.Color, 1.5, goodputOffered)
	addSteps(p, pn.t, pn.booked, pn.s.Color, 2.5, nil)
	return p
}

// addSteps adds to p a line of steps: v[k] held from t[k] for one second,
// in colour c with the given width and dashes. It adds nothing when the
// line cannot be made.
func addSteps(p *plot.Plot, t, v []float64, c color.Color, width vg.Length, dashes []float64) {
	pts := make(plotter.XYs, 0, 2*len(v))
	for k := range v {
		pts = append(pts, plotter.XY{X: t[k], Y: v[k]}, plotter.XY{X: t[k] + 1, Y: v[k]})
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return
	}
	l.LineStyle = lineStyle(c, width, dashes)
	p.Add(l)
}

// legendLine adds to f's legend an entry name drawn as a line in colour c
// with the given width and dashes.
func legendLine(f *figure, name string, c color.Color, width vg.Length, dashes []float64) {
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return
	}
	l.LineStyle = lineStyle(c, width, dashes)
	f.legend.Add(name, l)
}

// requestsPerPerson compares the booking API's requests each arriving
// person sent with the fewest a booking needs; a waiting room's polls are
// named beside, not counted in the bar.
func requestsPerPerson(ss []series) *figure {
	var keep []series
	var values []float64
	var labels []string
	rooms := false
	for _, s := range ss {
		if s.Design.RequestsPerPerson() <= 0 {
			continue
		}
		v := s.Design.APIRequestsPerPerson()
		keep = append(keep, s)
		values = append(values, v)
		polls := s.Design.RoomPollsPerPerson()
		rooms = rooms || polls > 0
		labels = append(labels, requestsText(v, s.Design.Amplification(), polls, "\n"))
	}
	if len(keep) == 0 {
		return nil
	}
	f := newFigure("requests-per-person", "Retry amplification: booking requests per person", "", "requests per person")
	f.Caption = "A person who books at the first try sends the booking API 3 requests: list the centres, list the days, book (the dashed line); one who finds a slot taken lists and books again. The number in brackets is the retry amplification: requests the API received for each one people made, the rest being retries after a 429, a 5xx or a timeout. Every retry is load the server must answer, or turn away again."
	if rooms {
		f.Caption += " Behind a waiting room, people first join its queue and poll it until admitted: those requests (\"+ N to the room\", per person) go to the room, which answers from memory in front of the booking API, and are not in the bar."
	}
	designBars(f, keep, values, labels, nil)
	l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: results.JourneyRequests}, {X: float64(len(keep)) - 0.5, Y: results.JourneyRequests}})
	if err == nil {
		l.LineStyle = lineStyle(colBlack, 1.5, []float64{6, 4})
		f.plot.Add(l)
		f.legend.Add("fewest a booking needs: 3", l)
	}
	f.plot.Y.Max = math.Max(f.plot.Y.Max, results.JourneyRequests*1.15)
	return f
}

// fairness compares Spearman's rho between arrival order and getting a
// place, with each design's ceiling: the rho of strictly first come, first
// served for its share booked.
func fairness(ss []series) *figure {
	var keep []series
	var values, ceilings []float64
	var labels []string
	for _, s := range ss {
		u := s.Design.Users
		if u.Arrived < 2 || math.IsNaN(u.Fairness) || math.IsInf(u.Fairness, 0) {
			continue
		}
		keep = append(keep, s)
		values = append(values, u.Fairness)
		c := u.FairnessCeiling()
		ceilings = append(ceilings, c)
		labels = append(labels, fairText(u.Fairness, c))
	}
	if len(keep) == 0 {
		return nil
	}
	f := newFigure("fairness", "Fairness: served in arrival order? (Spearman ρ)", "",
		"Spearman ρ: arrival order vs getting a place")
	f.Caption = "Spearman's ρ between how early people arrived and whether they got a place. 0 is a lottery: arriving early did not help. Positive means early comers did better, negative that late comers did. +1 would be strictly first come, first served, but when only some of the crowd can get a place ρ cannot reach 1: the dashed mark over each bar is what strictly first come, first served would score with that design's share booked (0.87 at most), and the label reads “ρ of that highest possible”. A bar that reaches its mark served people exactly in arrival order."
	labelAt := make([]float64, len(values))
	for i, v := range values {
		labelAt[i] = v
		if v >= 0 {
			labelAt[i] = math.Max(v, ceilings[i])
		}
	}
	upright := designBars(f, keep, values, labels, labelAt)
	f.plot.Y.Min, f.plot.Y.Max = -1, 1.12
	if upright {
		f.plot.Y.Max = 1.35 // room for upright labels
	}
	f.plot.Y.Tick.Marker = plot.ConstantTicks{
		{Value: -1, Label: "−1"}, {Value: -0.5, Label: "−0.5"}, {Value: 0, Label: "0 (lottery)"},
		{Value: 0.5, Label: "+0.5"}, {Value: 1, Label: "+1"},
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(keep)) - 0.5, Y: 0}})
	if err == nil {
		zero.LineStyle = lineStyle(colBlack, 1, nil)
		f.plot.Add(zero)
	}
	named := false
	for i, c := range ceilings {
		if c <= 0 {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: float64(i) - 0.45, Y: c}, {X: float64(i) + 0.45, Y: c}})
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(colBlack, 2, []float64{5, 3})
		f.plot.Add(l)
		if !named {
			f.legend.Add("strictly first come, first served", l)
			named = true
		}
	}
	return f
}

// timeToOutcome plots, per design, the share of arrivals whose journey had
// ended (booked or gave up) within x seconds of arriving.
func timeToOutcome(ss []series) *figure {
	f := cdfFigure(ss, func(u results.Users) string { return u.TimeToOutcome }, "time-to-outcome",
		"How long until people knew where they stood (% of arrivals done within x s)",
		"seconds from arriving to booking or giving up")
	if f != nil {
		f.Caption = "Read up from a wait time: the share of everyone who came that, by then, had either booked or given up. A line that rises late means people hung on, clicking, before they learned their fate; the gap above a line's end is people still trying when the run ended. The median and the 99th percentile in the legend count only those who finished."
	}
	return f
}

// cdfFigure plots, per design, the cumulative share of arrivals in the
// histogram of seconds get(u) returns. Designs without it are left out.
func cdfFigure(ss []series, get func(results.Users) string, name, title, xLabel string) *figure {
	type curve struct {
		s        series
		pts      plotter.XYs
		p50, p99 float64
	}
	var curves []curve
	var xmax float64
	for _, s := range ss {
		enc := get(s.Design.Users)
		if enc == "" {
			continue
		}
		h, err := results.DecodeHistogram(enc)
		if err != nil || h.TotalCount() == 0 {
			continue
		}
		denom := float64(s.Design.Users.Arrived)
		if denom < float64(h.TotalCount()) {
			denom = float64(h.TotalCount())
		}
		pts := plotter.XYs{{X: 0, Y: 0}}
		var cum int64
		for _, b := range h.Distribution() {
			if b.Count == 0 {
				continue
			}
			cum += b.Count
			x := float64(b.To) / 1e6
			pts = append(pts, plotter.XY{X: x, Y: 100 * float64(cum) / denom})
			xmax = math.Max(xmax, x)
		}
		curves = append(curves, curve{s, pts, float64(h.ValueAtQuantile(50)) / 1e6, float64(h.ValueAtQuantile(99)) / 1e6})
	}
	if len(curves) == 0 {
		return nil
	}
	f := newFigure(name, title, xLabel, "share of people who arrived")
	for _, c := range curves {
		pts := append(slices.Clip(c.pts), plotter.XY{X: xmax, Y: c.pts[len(c.pts)-1].Y})
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		l.LineStyle = lineStyle(c.s.Color, 2.5, c.s.Dashes)
		f.plot.Add(l)
		f.legend.Add(fmt.Sprintf("%s: median %s, 99%% within %s", c.s.Label, seconds(c.p50), seconds(c.p99)), l)
	}
	f.plot.X.Min, f.plot.X.Max = 0, niceCeil(xmax)
	f.plot.Y.Min, f.plot.Y.Max = 0, 100
	f.plot.Y.Tick.Marker = commaTicks{suffix: "%"}
	return f
}

// niceCeil rounds x > 0 up to a multiple of half its decade: 39.4 → 40,
// 123 → 150, 7.2 → 7.5, so an axis ends on a round number.
func niceCeil(x float64) float64 {
	if x <= 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 1
	}
	step := math.Pow(10, math.Floor(math.Log10(x))) / 2
	return math.Ceil(x/step-1e-9) * step
}

// designBars draws one bar per design, in its colour and named under it:
// values[i] is the bar of ss[i], labels[i] the text over it, placed at
// labelAt[i] when labelAt is set. It reports whether the labels stand
// upright (more than manyDesigns designs).
func designBars(f *figure, ss []series, values []float64, labels []string, labelAt []float64) (upright bool) {
	// Up to four designs are named under their bars; more would overlap,
	// so they go to the legend and their labels stand upright.
	many := len(ss) > manyDesigns
	labelStyle := textStyle(sans, 11)
	if many {
		labelStyle = textStyle(sans, 9)
	}
	names := make([]string, len(ss))
	var top float64
	for i, s := range ss {
		v := values[i]
		b := &bars{Color: s.Color, Label: labelStyle, X0: []float64{float64(i) - 0.35}, X1: []float64{float64(i) + 0.35}, Upright: many}
		b.Y = []float64{v}
		b.Labels = []string{labels[i]}
		if labelAt != nil {
			b.LabelAt = []float64{labelAt[i]}
			top = math.Max(top, labelAt[i])
		}
		f.plot.Add(b)
		if many {
			f.legend.Add(s.Label, b)
		} else {
			names[i] = wrapLabel(s.Label)
		}
		top = math.Max(top, v)
	}
	headroom := 1.15
	if many {
		headroom = 1.35
	}
	f.barAxes(names, top, headroom)
	f.plot.Y.Tick.Marker = commaTicks{}
	return many
}

// wrapLabel breaks a design label for an axis: before "+waiting-room" and
// before the bracket that tells several results apart.
func wrapLabel(s string) string {
	s = strings.Replace(s, " (", "\n(", 1)
	if i := strings.Index(s, "+"); i > 0 {
		s = s[:i] + "\n" + s[i:]
	}
	return s
}

// roundSig formats v with two or three significant digits and commas:
// 3,400, 143, 46, 8.4.
func roundSig(v float64) string {
	switch {
	case v >= 1000:
		p := math.Pow(10, math.Floor(math.Log10(v))-1)
		return commas(int64(math.Round(v/p) * p))
	case v >= 100:
		return commas(int64(math.Round(v)))
	case v >= 10:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64)
	default:
		return oneDecimal(v)
	}
}

// log1pScale is a log scale that also shows zero: y is placed at
// log10(1+y), so 0, 1, 10, 100 … are spread out and zero sits on the axis.
type log1pScale struct{}

var _ plot.Normalizer = log1pScale{}

func (log1pScale) Normalize(lo, hi, x float64) float64 {
	f := func(v float64) float64 { return math.Log10(1 + math.Max(v, 0)) }
	if f(hi) == f(lo) {
		return 0
	}
	return (f(x) - f(lo)) / (f(hi) - f(lo))
}

// requestsText labels booking-API requests per person with the retry
// amplification, "4.7 (1.0×)", followed, when people polled a waiting room,
// by sep and "+ 39.6 to the room".
func requestsText(perUser, amp, polls float64, sep string) string {
	text := fmt.Sprintf("%s (%.1f×)", oneDecimal(perUser), amp)
	if polls > 0 {
		text += sep + "+ " + oneDecimal(polls) + " to the room"
	}
	return text
}

// fairText labels a fairness rho with its ceiling: "0.66 of 0.85".
func fairText(rho, ceiling float64) string { return fmt.Sprintf("%.2f of %.2f", rho, ceiling) }

// log1pTop returns the top of a log1pScale axis from 0: the decade above
// hi, at least 10.
func log1pTop(hi float64) float64 {
	if hi < 10 || math.IsNaN(hi) || math.IsInf(hi, 0) {
		return 10
	}
	return math.Pow(10, math.Ceil(math.Log10(hi*1.0001)))
}

// log1pTicks label 0 and each decade from 10 up (1 would crowd 0).
type log1pTicks struct{}

func (log1pTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 0, Label: "0"}}
	for v := 10.0; v <= hi*1.0001; v *= 10 {
		if v >= lo {
			ticks = append(ticks, plot.Tick{Value: v, Label: commas(int64(v))})
		}
	}
	return ticks
}

// xGrid draws the vertical grid lines of a ticker, for a panel whose x
// axis is hidden.
type xGrid struct{ plot.Ticker }

func (g xGrid) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	st := draw.LineStyle{Color: color.Gray{0xE4}, Width: plotter.DefaultGridLineStyle.Width}
	for _, t := range g.Ticks(p.X.Min, p.X.Max) {
		if t.IsMinor() {
			continue
		}
		if x := trX(t.Value); x >= c.Min.X && x <= c.Max.X {
			c.StrokeLine2(st, x, c.Min.Y, x, c.Max.Y)
		}
	}
}
