package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure size and type. The fonts are gonum's embedded Liberation fonts, so
// rendering does not depend on the fonts of the machine.
const (
	figWidth  = 8 * vg.Inch
	figHeight = 4.5 * vg.Inch
	// barPlotWidth is the least width of a bar chart's data area: the
	// figure less the y axis and a legend on the right (at most 30% of
	// the figure, else it goes below).
	barPlotWidth = figWidth * 0.55
	// manyDesigns: with more designs than this, bars and panels are too
	// narrow for their labels, which shrink, stand up or go.
	manyDesigns = 4
	// pngDPI renders the PNGs at twice screen resolution, crisp on phones
	// and in print.
	pngDPI = 144
)

var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
)

func textStyle(f font.Font, size vg.Length) text.Style {
	return text.Style{Color: color.Black, Font: font.From(f, size), Handler: plot.DefaultTextHandler}
}

// figure is one plot of the report with the words around it.
type figure struct {
	// Name is the file name without extension, unique in a report.
	Name string
	// Title is the plot's title, with units.
	Title string
	// Caption says in one line what to read in the plot.
	Caption string
	// Series is the label of the design of a per-design plot, "" for a
	// plot across designs.
	Series string
	// kind groups the per-design plots of one sort, which share their axes.
	kind string

	plot   *plot.Plot
	legend plot.Legend
	// panels, when set, are small multiples drawn one above the other
	// under the figure's title instead of plot, which then only styles
	// the title; the legend goes below them.
	panels []*plot.Plot
}

// Small multiples: the height of one panel, and the room for the x axis
// under the last one.
const (
	panelHeight = 1.7 * vg.Inch
	panelAxis   = 0.5 * vg.Inch
)

// newFigure returns a figure with a styled, empty plot.
func newFigure(name, title, xLabel, yLabel string) *figure {
	p := newPlot(title, 14, xLabel, yLabel)
	l := plot.NewLegend()
	l.TextStyle = textStyle(sans, 11)
	l.ThumbnailWidth = 22
	l.Padding = 4
	l.Top, l.Left = true, true
	return &figure{Name: name, Title: title, plot: p, legend: l}
}

// newPlot returns a styled plot with a grid and a bold title of the given
// size.
func newPlot(title string, titleSize vg.Length, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle = textStyle(sansBold, titleSize)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = 8
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = font.From(sans, 12)
		ax.Tick.Label.Font = font.From(sans, 11)
		ax.Padding = 2
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.X.Label.Padding = 4
	p.Y.Label.Padding = 4
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xE4}
	g.Horizontal.Color = color.Gray{0xE4}
	g.Vertical.Dashes = nil
	g.Horizontal.Dashes = nil
	p.Add(g)
	return p
}

// legendSize returns the size of the legend; zero when it has no entries.
func (f *figure) legendSize() (w, h vg.Length) {
	c := draw.Canvas{Rectangle: vg.Rectangle{Max: vg.Point{X: figWidth, Y: figHeight}}}
	r := f.legend.Rectangle(c)
	return r.Size().X, r.Size().Y
}

// legendBelow reports whether the legend goes under the plot: when it is
// too wide for the right margin. Small multiples always have it below.
func (f *figure) legendBelow() bool {
	lw, _ := f.legendSize()
	return lw > figWidth*0.3
}

// size returns the figure's size: taller when the legend goes below.
func (f *figure) size() (w, h vg.Length) {
	_, lh := f.legendSize()
	if len(f.panels) > 0 {
		ph := panelHeight
		if len(f.panels) > manyDesigns {
			ph = panelHeight * 3 / 4
		}
		h = f.titleHeight() + vg.Length(len(f.panels))*ph + panelAxis
		if lh > 0 {
			h += lh + 12
		}
		return figWidth, h
	}
	if f.legendBelow() && lh > 0 {
		return figWidth, figHeight + lh + 12
	}
	return figWidth, figHeight
}

// titleHeight is the room the figure's own title takes above its panels.
func (f *figure) titleHeight() vg.Length {
	t := f.plot.Title
	return t.TextStyle.Rectangle(f.Title).Size().Y + t.Padding
}

// drawPanels draws the title, the panels one above the other with their
// data areas aligned, and the legend below.
func (f *figure) drawPanels(c draw.Canvas) {
	t := f.plot.Title
	c.FillText(t.TextStyle, vg.Point{X: c.Center().X, Y: c.Max.Y + t.TextStyle.FontExtents().Descent}, f.Title)
	body := c
	body.Max.Y -= f.titleHeight()
	if _, lh := f.legendSize(); lh > 0 {
		body.Min.Y += lh + 12
		legC := c
		legC.Max.Y = body.Min.Y - 6
		legC.Min.X += 60
		f.legend.Draw(legC)
	}
	rows := make([][]*plot.Plot, len(f.panels))
	for i, p := range f.panels {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: 4, PadRight: 12}
	for i, pc := range plot.Align(rows, tiles, body) {
		f.panels[i].Draw(pc[0])
	}
}

// draw draws the plot with its legend to the right (or below).
func (f *figure) draw(c draw.Canvas) {
	if len(f.panels) > 0 {
		f.drawPanels(c)
		return
	}
	lw, lh := f.legendSize()
	if lw == 0 {
		f.plot.Draw(c)
		return
	}
	const gap = 10
	if f.legendBelow() {
		plotC := draw.Crop(c, 0, 0, lh+12, 0)
		f.plot.Draw(plotC)
		leg := f.legend
		legC := draw.Crop(c, 60, 0, 4, -(plotC.Size().Y))
		leg.Draw(legC)
		return
	}
	plotC := draw.Crop(c, 0, -(lw + 2*gap), 0, 0)
	f.plot.Draw(plotC)
	data := f.plot.DataCanvas(plotC)
	legC := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
		Min: vg.Point{X: c.Max.X - lw - gap, Y: c.Min.Y},
		Max: vg.Point{X: c.Max.X - gap/2, Y: data.Max.Y},
	}}
	f.legend.Draw(legC)
}

// render writes the figure as "png" or "svg". It recovers from panics in
// the plotting library, so odd data yields an error, never a crash.
func (f *figure) render(w io.Writer, format string, dpi int) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("plot %s: %v", f.Name, p)
		}
	}()
	wd, ht := f.size()
	var wt io.WriterTo
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(wd, ht), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
		f.draw(draw.New(c))
		wt = vgimg.PngCanvas{Canvas: c}
	case "svg":
		c := vgsvg.NewWith(vgsvg.UseWH(wd, ht))
		f.draw(draw.New(c))
		wt = c
	default:
		return fmt.Errorf("plot %s: unknown format %q", f.Name, format)
	}
	var buf bytes.Buffer
	if _, err := wt.WriteTo(&buf); err != nil {
		return fmt.Errorf("plot %s: %w", f.Name, err)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// bars draws rectangles in data coordinates, so grouped bars stay aligned
// with their category whatever the size of the canvas.
type bars struct {
	X0, X1, Y []float64
	Labels    []string
	// LabelAt, when set, is where each label sits in data coordinates
	// (above a positive bar, below a negative one); else at the bar's end.
	LabelAt []float64
	// Upright turns the labels a quarter turn, to read upwards from the
	// bar's end, for narrow bars.
	Upright bool
	Color   color.Color
	Label   text.Style
}

var (
	_ plot.Plotter     = (*bars)(nil)
	_ plot.DataRanger  = (*bars)(nil)
	_ plot.Thumbnailer = (*bars)(nil)
)

func (b *bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	outline := draw.LineStyle{Color: color.Gray{0x40}, Width: 0.5}
	base := math.Min(math.Max(p.Y.Min, 0), p.Y.Max)
	for i := range b.Y {
		x0, x1 := trX(b.X0[i]), trX(b.X1[i])
		y0, y1 := trY(base), trY(b.Y[i])
		pts := []vg.Point{{X: x0, Y: y0}, {X: x0, Y: y1}, {X: x1, Y: y1}, {X: x1, Y: y0}}
		c.FillPolygon(b.Color, c.ClipPolygonXY(pts))
		c.StrokeLines(outline, c.ClipLinesXY(append(pts, pts[0]))...)
		if i < len(b.Labels) && b.Labels[i] != "" {
			sty := b.Label
			sty.XAlign = draw.XCenter
			at, gap := b.Y[i], vg.Length(2)
			if i < len(b.LabelAt) {
				at, gap = b.LabelAt[i], 4 // clear of a mark drawn there
			}
			pt := vg.Point{X: (x0 + x1) / 2, Y: trY(at) + gap}
			sty.YAlign = draw.YBottom
			if b.Y[i] < base {
				pt.Y = trY(at) - gap
				sty.YAlign = draw.YTop
			}
			if b.Upright {
				// Rotated text aligns along its own axes: start at the
				// point, centred across the bar.
				sty.Rotation = math.Pi / 2
				sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
				if b.Y[i] < base {
					sty.XAlign = draw.XRight
				}
			}
			c.FillText(sty, pt, b.Labels[i])
		}
	}
}

func (b *bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	for i := range b.Y {
		xmin = math.Min(xmin, b.X0[i])
		xmax = math.Max(xmax, b.X1[i])
		ymin = math.Min(ymin, b.Y[i])
		ymax = math.Max(ymax, b.Y[i])
	}
	return xmin, xmax, ymin, ymax
}

func (b *bars) Thumbnail(c *draw.Canvas) {
	pts := []vg.Point{{X: c.Min.X, Y: c.Min.Y}, {X: c.Min.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Max.Y}, {X: c.Max.X, Y: c.Min.Y}}
	c.FillPolygon(b.Color, c.ClipPolygonY(pts))
}

// groupedBars adds one bar per series in each group to f: values[s][g] is
// the value of series s in group g; NaN leaves a gap labelled "n/a".
func groupedBars(f *figure, groups []string, ss []series, values [][]float64, label func(float64) string) {
	n := len(ss)
	width := 0.8 / float64(max(n, 1))
	labelStyle := textStyle(sans, 9)
	if n > manyDesigns {
		label = func(float64) string { return "" } // too narrow to read
	}
	var top float64
	var all []*bars
	for si, s := range ss {
		b := &bars{Color: s.Color, Label: labelStyle}
		for gi := range groups {
			v := values[si][gi]
			x0 := float64(gi) - 0.4 + float64(si)*width
			b.X0 = append(b.X0, x0)
			b.X1 = append(b.X1, x0+width*0.92)
			if math.IsNaN(v) || math.IsInf(v, 0) {
				b.Y = append(b.Y, 0)
				b.Labels = append(b.Labels, "n/a")
				continue
			}
			b.Y = append(b.Y, v)
			b.Labels = append(b.Labels, label(v))
			top = math.Max(top, v)
		}
		f.plot.Add(b)
		f.legend.Add(s.Label, b)
		all = append(all, b)
	}
	// Labels wider than the space of one bar would run into their
	// neighbours: then all of them stand upright.
	upright := false
	pitch := barPlotWidth / vg.Length(max(len(groups), 1)) * vg.Length(width)
	for _, b := range all {
		for _, l := range b.Labels {
			upright = upright || labelStyle.Width(l) > pitch
		}
	}
	for _, b := range all {
		b.Upright = upright
	}
	headroom := 1.15
	if upright {
		headroom = 1.3
	}
	f.barAxes(groups, top, headroom)
}

// barAxes names the bar positions under the x axis, one unit apart from 0,
// and makes the y axis run from 0 to top (1 when top is not positive)
// times headroom, room for the labels over the bars.
func (f *figure) barAxes(names []string, top, headroom float64) {
	f.plot.NominalX(names...)
	f.plot.X.Min, f.plot.X.Max = -0.5, float64(len(names))-0.5
	f.plot.X.Tick.Label.Font = font.From(sans, 12)
	f.plot.Y.Min = 0
	if top <= 0 {
		top = 1
	}
	f.plot.Y.Max = top * headroom
}

// Tickers.

// commaTicks are gonum's default ticks labelled with thousands separators.
type commaTicks struct{ suffix string }

func (t commaTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label == "" {
			continue
		}
		v := ticks[i].Value
		if v == math.Trunc(v) && math.Abs(v) < 1e15 {
			ticks[i].Label = commas(int64(v)) + t.suffix
		} else {
			// Six significant digits: ticks are multiples of a round step,
			// and more digits only show the float's rounding (0.30000000000000004).
			r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
			ticks[i].Label = strconv.FormatFloat(r, 'f', -1, 64) + t.suffix
		}
	}
	return ticks
}

// logMsTicks label a log axis of milliseconds in human units: 100 µs, 1 ms,
// 10 ms, 1 s. Narrow ranges also get 2 and 5 labelled.
type logMsTicks struct{}

func (logMsTicks) Ticks(from, to float64) []plot.Tick {
	if from <= 0 || to <= from {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(from))), int(math.Ceil(math.Log10(to)))
	dense := hi-lo <= 2
	var ticks []plot.Tick
	for e := lo; e <= hi; e++ {
		base := math.Pow(10, float64(e))
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < from*0.999 || v > to*1.001 {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || (dense && (m == 2 || m == 5)) {
				t.Label = msTickLabel(v)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}

func msTickLabel(v float64) string {
	switch {
	case v >= 1000:
		return strconv.FormatFloat(v/1000, 'g', 4, 64) + " s"
	case v >= 1:
		return strconv.FormatFloat(v, 'g', 4, 64) + " ms"
	default:
		return strconv.FormatFloat(v*1000, 'g', 4, 64) + " µs"
	}
}

// logRange returns a log axis range around [lo,hi] that starts and ends on
// whole decades, never zero.
func logRange(lo, hi float64) (float64, float64) {
	if lo <= 0 || math.IsNaN(lo) || math.IsInf(lo, 0) {
		lo = 0.001
	}
	if hi <= lo || math.IsNaN(hi) || math.IsInf(hi, 0) {
		hi = lo * 10
	}
	return math.Pow(10, math.Floor(math.Log10(lo))), math.Pow(10, math.Ceil(math.Log10(hi*1.0001)))
}

// nines maps a quantile q in [0,1) to -log10(1-q): 0.9 → 1, 0.99 → 2.
func nines(q float64) float64 { return -math.Log10(1 - q) }

// ninesTicks label the percentile axis: 50%, 90%, 99%, 99.9% …
func ninesTicks(maxNines float64) plot.ConstantTicks {
	// 0% (the fastest request) is left unlabelled: it would touch "50%".
	ticks := plot.ConstantTicks{{Value: 0}, {Value: nines(0.5), Label: "50%"}}
	for k := 1; float64(k) <= maxNines+1e-9; k++ {
		ticks = append(ticks, plot.Tick{Value: float64(k), Label: ninesLabel(k)})
	}
	return ticks
}

// ninesLabel returns the percentile with k nines: 1 → "90%", 3 → "99.9%".
func ninesLabel(k int) string {
	if k == 1 {
		return "90%"
	}
	return "99" + strings.TrimSuffix("."+strings.Repeat("9", k-2), ".") + "%"
}

func lineStyle(c color.Color, width vg.Length, dashes []float64) draw.LineStyle {
	ls := draw.LineStyle{Color: c, Width: width}
	for _, d := range dashes {
		ls.Dashes = append(ls.Dashes, vg.Length(d))
	}
	return ls
}
