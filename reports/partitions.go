package reports

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// The figures and the verdict sentence about partitions: whether one
// partition's overload reached the others (results.PartitionResults).

// partitionRow is one row of a heatmap: a kept partition, or the others.
type partitionRow struct {
	label string
	secs  []results.PartitionSecond
}

// partitionRows decodes the series of d, the hottest first, the others
// last; nil when d has none or one does not decode (Check reports it).
func partitionRows(d *results.DesignResult) []partitionRow {
	p := d.ByPartition
	if p == nil || len(p.Series) == 0 {
		return nil
	}
	var rows []partitionRow
	for i := range p.Series {
		secs, err := p.Series[i].Decode()
		if err != nil {
			return nil
		}
		rows = append(rows, partitionRow{label: shortKey(p.Series[i].Key), secs: secs})
	}
	if o := p.Others; o != nil {
		secs, err := o.Decode()
		if err != nil {
			return nil
		}
		rows = append(rows, partitionRow{label: fmt.Sprintf("the other %s", commas(int64(o.Partitions))), secs: secs})
	}
	return rows
}

// shortKey drops the "ppv-" every key of models.Design.Key starts with.
func shortKey(k string) string { return strings.TrimPrefix(k, "ppv-") }

// refusedLevel is one colour of the heatmap: the cells whose refused share
// is at most upTo (the first level: available, results.AvailablePercent).
type refusedLevel struct {
	upTo  float64
	name  string
	color color.RGBA
}

// refusedLevels run from available (green) through orange to dark red.
var refusedLevels = []refusedLevel{
	{0.01, "≤ 1% refused (available)", color.RGBA{0xA6, 0xD9, 0x6A, 0xFF}},
	{0.10, "1–10% refused", color.RGBA{0xFE, 0xE0, 0x8B, 0xFF}},
	{0.25, "10–25% refused", color.RGBA{0xFD, 0xAE, 0x61, 0xFF}},
	{0.50, "25–50% refused", color.RGBA{0xF4, 0x6D, 0x43, 0xFF}},
	{0.75, "50–75% refused", color.RGBA{0xD7, 0x30, 0x27, 0xFF}},
	{1.00, "75–100% refused", color.RGBA{0x8E, 0x01, 0x26, 0xFF}},
}

// levelOf returns the level of counts c, -1 when no booking was decided.
func levelOf(c results.PartitionCounts) int {
	if c.Decided() <= 0 {
		return -1
	}
	if c.Available() {
		return 0
	}
	share := c.RefusedShare()
	for i, l := range refusedLevels[1:] {
		if share <= l.upTo {
			return i + 1
		}
	}
	return len(refusedLevels) - 1
}

// heatRun is a stretch [x0, x1) of one row in one level.
type heatRun struct {
	x0, x1 float64
	level  int
}

// heatCells draws the rows of a heatmap, the first on top, one unit high.
type heatCells struct {
	rows     [][]heatRun
	xmin, xx float64
}

var _ plot.Plotter = (*heatCells)(nil)

func (h *heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(h.rows)
	for i, runs := range h.rows {
		y0, y1 := trY(float64(n-1-i)), trY(float64(n-i))
		for _, r := range runs {
			x0, x1 := trX(r.x0), trX(r.x1)
			pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
			c.FillPolygon(refusedLevels[r.level].color, c.ClipPolygonXY(pts))
		}
	}
}

func (h *heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	return h.xmin, h.xx, 0, float64(len(h.rows))
}

// levelThumb is a legend entry: a square of one level's colour.
type levelThumb struct{ color color.Color }

func (l levelThumb) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(l.color, c.ClipPolygonY(pts))
}

// maxHeatColumns bounds the columns of a heatmap: a longer run puts
// several seconds in a cell.
const maxHeatColumns = 720

// heatRuns bins secs into cells of width seconds and returns the runs of
// equal level, leaving out cells where no booking was decided.
func heatRuns(secs []results.PartitionSecond, width int) []heatRun {
	var runs []heatRun
	flush := func(bin int, c results.PartitionCounts) {
		lv := levelOf(c)
		if lv < 0 {
			return
		}
		x0 := float64(bin * width)
		if n := len(runs); n > 0 && runs[n-1].level == lv && runs[n-1].x1 == x0 {
			runs[n-1].x1 = x0 + float64(width)
			return
		}
		runs = append(runs, heatRun{x0: x0, x1: x0 + float64(width), level: lv})
	}
	bin := -1
	var acc results.PartitionCounts
	for i := range secs {
		if b := secs[i].TS / width; b != bin {
			if bin >= 0 {
				flush(bin, acc)
			}
			bin, acc = b, results.PartitionCounts{}
		}
		acc.Add(secs[i].PartitionCounts)
	}
	if bin >= 0 {
		flush(bin, acc)
	}
	return runs
}

// partitionSpan returns the seconds the series of ss cover: from 0 to
// the end of the last second any of them counts.
func partitionSpan(ss []series) int {
	span := 0
	for _, s := range ss {
		for _, r := range partitionRows(s.Design) {
			if n := len(r.secs); n > 0 {
				span = max(span, r.secs[n-1].TS+1)
			}
		}
	}
	return span
}

// partitionHeatmap draws, for one design, each kept partition's refused
// share over time, the busiest on top and the others summed in the bottom
// row; span is the seconds every design's heatmap shows.
func partitionHeatmap(s series, span int) *figure {
	rows := partitionRows(s.Design)
	if len(rows) == 0 || span <= 0 {
		return nil
	}
	p := s.Design.ByPartition
	width := (span + maxHeatColumns - 1) / maxHeatColumns
	cells := &heatCells{xmin: 0, xx: float64(span)}
	for _, r := range rows {
		cells.rows = append(cells.rows, heatRuns(r.secs, width))
	}
	title := s.Label + ": bookings refused, by partition"
	if n := len(p.Totals); n > len(p.Series) {
		title += fmt.Sprintf(" (%d busiest of %s)", len(p.Series), commas(int64(n)))
	}
	f := newFigure(s.Slug+"-partitions", title, "seconds since the run started", "partitions, busiest on top")
	f.Series, f.kind = s.Label, kindPartitions
	cell := "one second"
	if width > 1 {
		cell = fmt.Sprintf("%d seconds", width)
	}
	f.Caption = fmt.Sprintf("Each row is one partition, the one asked to book most often on top; each cell (%s) is the share of the bookings it was asked to decide that it refused (429, 5xx, timeouts). "+
		"Green is available: at most 1%% refused. A blank cell had no booking to decide (before the opening, or nobody asked). "+
		"Red rows beside green ones are overload that stayed in its partition.", cell)
	if p.Others != nil {
		f.Caption += fmt.Sprintf(" The bottom row adds up the other %s partitions.", commas(int64(p.Others.Partitions)))
	}
	f.plot.Add(cells)
	for _, l := range refusedLevels {
		f.legend.Add(l.name, levelThumb{l.color})
	}
	f.plot.X.Min, f.plot.X.Max = 0, float64(span)
	f.plot.X.Tick.Marker = commaTicks{}
	f.plot.Y.Min, f.plot.Y.Max = 0, float64(len(rows))
	f.plot.Y.Tick.Marker = rowTicks(rows)
	f.plot.Y.Tick.Label.Font = font.From(sans, 8)
	return f
}

// rowTicks labels the rows of a heatmap at their middle: every row when
// there are few, else the busiest ten and the others.
func rowTicks(rows []partitionRow) plot.ConstantTicks {
	const allUpTo, busiest = 16, 10
	n := len(rows)
	var ticks plot.ConstantTicks
	for i, r := range rows {
		if n > allUpTo && i >= busiest && !strings.HasPrefix(r.label, "the other") {
			continue
		}
		ticks = append(ticks, plot.Tick{Value: float64(n-1-i) + 0.5, Label: r.label})
	}
	return ticks
}

// partitionSummary is what a design's partitions did, for the verdict and
// the availability figure.
type partitionSummary struct {
	scheme models.Scheme
	// asked counts the partitions asked to decide a booking whose
	// availability is known; throughout those available in every second
	// they were asked; unknown the partitions whose availability a merge
	// could not know.
	asked, throughout, unknown int
	// seconds and available add up the partitions' seconds asked and
	// seconds available.
	seconds, available int64
	// worse are the partitions not available throughout, the busiest
	// first; peak their highest refused share in one second; hottest
	// whether they are the busiest len(worse) of the partitions asked.
	worse   []*results.PartitionTotals
	peak    float64
	hottest bool
}

// summarizePartitions sums up d's partitions; false when d has none whose
// availability is known.
func summarizePartitions(d *results.DesignResult) (partitionSummary, bool) {
	p := d.ByPartition
	if p == nil {
		return partitionSummary{}, false
	}
	ps := partitionSummary{scheme: d.Assumptions.Scheme}
	var asked []*results.PartitionTotals
	for i := range p.Totals {
		t := &p.Totals[i]
		switch a := t.Availability; {
		case a == nil:
			ps.unknown++
		case a.Seconds > 0:
			asked = append(asked, t)
			ps.seconds += a.Seconds
			ps.available += a.Available
			if a.Available < a.Seconds {
				ps.worse = append(ps.worse, t)
				ps.peak = math.Max(ps.peak, a.PeakRefused)
			}
		}
	}
	ps.asked, ps.throughout = len(asked), len(asked)-len(ps.worse)
	busiest := func(a, b *results.PartitionTotals) int {
		if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	}
	slices.SortFunc(asked, busiest)
	slices.SortFunc(ps.worse, busiest)
	ps.hottest = len(ps.worse) > 0 && slices.Equal(asked[:len(ps.worse)], ps.worse)
	return ps, ps.asked > 0
}

// partitionNouns names a design's partitions: centre-days, centres or
// partitions.
func partitionNouns(s models.Scheme) (one, many string) {
	switch models.Scheme(strings.TrimSuffix(string(s), models.WaitingRoomSuffix)) {
	case models.PerPPVDay:
		return "centre-day", "centre-days"
	case models.PerPPV:
		return "centre", "centres"
	}
	return "partition", "partitions"
}

// isolationSentence says, for each design with results by partition,
// how many of its partitions stayed available throughout and how much the
// others refused at their worst, a sentence a design; "" when no design
// has any.
func isolationSentence(stats []designStats) string {
	var out []string
	for _, st := range stats {
		ps, ok := summarizePartitions(st.s.Design)
		if !ok {
			continue
		}
		out = append(out, "With "+st.s.Label+", "+isolationClause(ps)+".")
	}
	return strings.Join(out, " ")
}

// isolationClause is isolationSentence's words for one design.
func isolationClause(ps partitionSummary) string {
	one, many := partitionNouns(ps.scheme)
	var s string
	switch {
	case ps.asked == 1 && len(ps.worse) == 0:
		s = fmt.Sprintf("its single %s stayed available throughout", one)
	case ps.asked == 1:
		s = fmt.Sprintf("its single %s refused up to %s of a second's bookings at the peak, and was available in %s of the seconds it was asked",
			one, pct(ps.peak), availabilityPct(100*float64(ps.available)/float64(ps.seconds)))
	case len(ps.worse) == 0:
		s = fmt.Sprintf("all %s %s asked stayed available throughout", commas(int64(ps.asked)), many)
	default:
		s = fmt.Sprintf("%s of the %s %s asked stayed available throughout; %s refused up to %s of a second's bookings at the peak",
			commas(int64(ps.throughout)), commas(int64(ps.asked)), many, worseNames(ps, one, many), pct(ps.peak))
	}
	if ps.unknown > 0 {
		s += fmt.Sprintf(" (the availability of %s more is not known: merged segments did not all keep their series)", commas(int64(ps.unknown)))
	}
	return s
}

// worseNames names the partitions not available throughout: "the 3
// busiest", "the other one (wtc-kl-2021-06-07)", "the other 12 (the
// busiest of them wtc-kl-2021-06-07)".
func worseNames(ps partitionSummary, one, many string) string {
	first := shortKey(ps.worse[0].Key)
	switch {
	case len(ps.worse) == 1 && ps.hottest:
		return fmt.Sprintf("the busiest %s (%s)", one, first)
	case len(ps.worse) == 1:
		return fmt.Sprintf("the other one (%s)", first)
	case ps.hottest:
		return fmt.Sprintf("the %d busiest %s (%s first)", len(ps.worse), many, first)
	}
	return fmt.Sprintf("the other %s (the busiest of them %s)", commas(int64(len(ps.worse))), first)
}

// partitionAvailability compares, across designs, the share of
// partition-seconds available and the share of partitions available
// throughout.
func partitionAvailability(ss []series) *figure {
	var keep []series
	var sums []partitionSummary
	for _, s := range ss {
		if ps, ok := summarizePartitions(s.Design); ok {
			keep = append(keep, s)
			sums = append(sums, ps)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	f := newFigure("partition-availability", "Partitions available, answering ≥ 99% without refusing", "", "share")
	f.Caption = "A partition is available in a second when it refused at most 1 in 100 of the bookings it was asked to decide then (429, 5xx, timeouts); seconds when it was asked nothing do not count. " +
		"Left: the share of all partition-seconds (a partition in a second it was asked) that were available. Right: the share of partitions available in every second they were asked. " +
		"A single overloaded partition (monolithic) takes everything down with it; small partitions keep their overload to themselves."
	groups := []string{"partition-seconds", "partitions throughout"}
	values := make([][]float64, len(keep))
	for i, ps := range sums {
		values[i] = []float64{100 * float64(ps.available) / float64(ps.seconds), 100 * float64(ps.throughout) / float64(ps.asked)}
	}
	groupedBars(f, groups, keep, values, availabilityPct)
	f.plot.Y.Tick.Marker = commaTicks{suffix: "%"}
	return f
}

// availabilityPct is pctPoints, but never rounds a share short of 100%
// up to "100%": 99.6 is "99.6%".
func availabilityPct(v float64) string {
	if v >= 99 && v < 100 {
		return trimZero(fmt.Sprintf("%.1f", math.Floor(v*10)/10)) + "%"
	}
	return pctPoints(v)
}
