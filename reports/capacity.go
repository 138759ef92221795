package reports

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/slotrush/slotrush/capacity"
)

// RenderCapacity writes the page of a capacity search into outDir: the
// plot of throughput and the binding SLO metric against offered load
// (outDir/plots/capacity.png and .svg) and outDir/index.html, one
// self-contained page (the plot embedded, no script, no network) with the
// verdict in words, a table per design, every step, the USL fit and the
// assumptions. It returns the path of index.html. A plot that cannot be
// drawn is left out and named on the page; RenderCapacity fails only when
// f holds no design or a file cannot be written. Safe for concurrent use
// on different outDirs.
func RenderCapacity(outDir string, f *capacity.File) (string, error) {
	return renderCapacity(outDir, f, pngDPI)
}

func renderCapacity(outDir string, f *capacity.File, dpi int) (string, error) {
	if f == nil || len(f.Designs) == 0 {
		return "", errors.New("render capacity page: no designs")
	}
	plotDir := filepath.Join(outDir, "plots")
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return "", fmt.Errorf("render capacity page: %w", err)
	}
	pg := capacityPageOf(f)
	if fig := capacityFigure(f); fig != nil {
		fv, err := writeFigure(plotDir, fig, dpi)
		if err != nil {
			pg.Problems = append(pg.Problems, err.Error())
		} else {
			pg.Figure = &fv
		}
	}
	var buf bytes.Buffer
	if err := capacityTmpl.Execute(&buf, pg); err != nil {
		return "", fmt.Errorf("render capacity page: %w", err)
	}
	index := filepath.Join(outDir, "index.html")
	if err := writeFileAtomic(index, buf.Bytes()); err != nil {
		return "", fmt.Errorf("render capacity page: %w", err)
	}
	return index, nil
}

// capacityPage is what the capacity template shows.
type capacityPage struct {
	File      *capacity.File
	Verdict   string
	Simulated bool
	SLOWords  string
	Designs   []capacityDesignView
	Figure    *figView
	Problems  []string
	Terms     []string
}

// capacityDesignView is one design's part of the page.
type capacityDesignView struct {
	D        *capacity.Design
	Color    template.CSS
	Sentence string
	USL      string
	Steps    []capacityStepView
	Confirm  []capacityStepView
}

// capacityStepView is one row of a steps table.
type capacityStepView struct {
	S      capacity.Step
	Values []cell
}

func capacityPageOf(f *capacity.File) *capacityPage {
	pg := &capacityPage{File: f, Verdict: f.Verdict(), Simulated: f.Engine == capacity.EngineModel}
	if slo, err := capacity.ParseSLO(f.SLO); err == nil {
		pg.SLOWords = slo.Words()
		for _, t := range slo {
			pg.Terms = append(pg.Terms, t.Canonical())
		}
	}
	colors := capacityColors(f)
	for i := range f.Designs {
		d := &f.Designs[i]
		c := colors[d.Design]
		v := capacityDesignView{D: d, Sentence: d.Sentence(), USL: d.USL.Words(),
			Color: template.CSS(fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B))}
		for _, s := range d.Steps {
			v.Steps = append(v.Steps, stepView(s))
		}
		if d.Confirmation != nil {
			for _, s := range d.Confirmation.Steps {
				v.Confirm = append(v.Confirm, stepView(s))
			}
		}
		pg.Designs = append(pg.Designs, v)
	}
	return pg
}

func stepView(s capacity.Step) capacityStepView {
	v := capacityStepView{S: s}
	for _, tv := range s.Terms {
		v.Values = append(v.Values, cell{Text: tv.ValueWords(), Bad: !tv.Pass, Good: tv.Pass})
	}
	return v
}

// capacityColors gives each design its fixed report colour, or the next
// free fallback colour.
func capacityColors(f *capacity.File) map[string]color.RGBA {
	out := map[string]color.RGBA{}
	used := map[color.RGBA]bool{}
	for _, d := range f.Designs {
		if c, ok := designColors[d.Design]; ok && !used[c] {
			out[d.Design], used[c] = c, true
		}
	}
	for _, d := range f.Designs {
		if _, ok := out[d.Design]; ok {
			continue
		}
		c := colGrey
		for _, fc := range fallbackColors {
			if !used[fc] {
				c = fc
				break
			}
		}
		out[d.Design], used[c] = c, true
	}
	return out
}

// bindingTerm returns the term whose values the lower panel shows: the
// term binding the most designs, else the SLO's first.
func bindingTerm(f *capacity.File) (capacity.Term, bool) {
	slo, err := capacity.ParseSLO(f.SLO)
	if err != nil || len(slo) == 0 {
		return capacity.Term{}, false
	}
	count := map[string]int{}
	best, n := slo[0].Canonical(), 0
	for _, d := range f.Designs {
		if d.Binding != "" {
			count[d.Binding]++
			if count[d.Binding] > n {
				best, n = d.Binding, count[d.Binding]
			}
		}
	}
	for _, t := range slo {
		if t.Canonical() == best {
			return t, true
		}
	}
	return slo[0], true
}

// capacityFigure draws throughput (bookings/s) and the binding SLO metric
// against offered load (people/s), one colour per design, the USL fit
// dashed and each design's knee (its capacity) marked by a dotted line in
// both panels.
func capacityFigure(f *capacity.File) *figure {
	term, ok := bindingTerm(f)
	if !ok {
		return nil
	}
	fig := newFigure("capacity", "Throughput and "+term.Name()+" against offered load", "", "")
	fig.Caption = fmt.Sprintf("Top: the bookings per second each step achieved while its crowd was at its peak (points), with the Universal Scalability Law fitted to them (dashed). Bottom: %s at each step, with its limit (grey dashes). The dotted vertical line in a design's colour is its knee, the largest offered load at which every term of the SLO held.", term.Name())
	top := newPlot("", 11, "", "bookings/s")
	bottom := newPlot("", 11, "offered load: peak arrivals (people/s)", term.Name()+" ("+unitLabel(term.Unit)+")")
	colors := capacityColors(f)
	var xmax, ymaxTop, ymaxBottom float64
	for i := range f.Designs {
		d := &f.Designs[i]
		steps := sortedSteps(d.Steps)
		if len(steps) == 0 {
			continue
		}
		c := colors[d.Design]
		thr, val := plotter.XYs{}, plotter.XYs{}
		for _, s := range steps {
			xmax = math.Max(xmax, s.ArrivalRatePerS)
			thr = append(thr, plotter.XY{X: s.ArrivalRatePerS, Y: s.ThroughputPerS})
			ymaxTop = math.Max(ymaxTop, s.ThroughputPerS)
			if v, ok := termValue(s, term); ok {
				val = append(val, plotter.XY{X: s.ArrivalRatePerS, Y: v})
				ymaxBottom = math.Max(ymaxBottom, v)
			}
		}
		addLinePoints(top, thr, c)
		addLinePoints(bottom, val, c)
		if th := legendThumb(c); th != nil {
			fig.legend.Add(fmt.Sprintf("%s: %s people/s", d.Design, capacity.Rate(d.MaxArrivalRatePerS)), th)
		}
		if d.USL.Fitted {
			addUSLCurve(top, d.USL, xmax, c)
		}
	}
	if xmax <= 0 {
		return nil
	}
	limit := displayValue(term.Unit, term.Limit)
	ymaxBottom = math.Max(ymaxBottom, limit)
	addHLine(bottom, limit, xmax*1.05, colGrey)
	for i := range f.Designs {
		d := &f.Designs[i]
		if d.MaxArrivalRatePerS > 0 {
			addVLine(top, d.MaxArrivalRatePerS, ymaxTop*1.1, colors[d.Design])
			addVLine(bottom, d.MaxArrivalRatePerS, ymaxBottom*1.1, colors[d.Design])
		}
	}
	for _, p := range []*plot.Plot{top, bottom} {
		p.X.Min, p.X.Max = 0, xmax*1.05
		p.Y.Min = 0
		p.X.Tick.Marker = commaTicks{}
	}
	top.Y.Max, bottom.Y.Max = math.Max(ymaxTop*1.1, 1), math.Max(ymaxBottom*1.1, 1e-9)
	fig.panels = []*plot.Plot{top, bottom}
	legendLine(fig, "USL fit (dashed)", colBlack, 1.2, []float64{5, 3})
	legendLine(fig, "knee: the design's capacity (dotted)", colBlack, 1.2, []float64{1, 3})
	legendLine(fig, term.Canonical()+": the limit (grey dashes)", colGrey, 1.5, []float64{6, 4})
	return fig
}

// sortedSteps returns the steps by offered load.
func sortedSteps(steps []capacity.Step) []capacity.Step {
	out := append([]capacity.Step(nil), steps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].ArrivalRatePerS < out[j].ArrivalRatePerS })
	return out
}

// termValue returns the value of term at step s as plotted (percent for a
// share), and false when it was not measured.
func termValue(s capacity.Step, term capacity.Term) (float64, bool) {
	want := term.Canonical()
	for _, tv := range s.Terms {
		if tv.Term == want && tv.Note == "" {
			return displayValue(tv.Unit, tv.Value), true
		}
	}
	return 0, false
}

// displayValue converts a value in unit to what the plot shows.
func displayValue(unit string, v float64) float64 {
	if unit == capacity.UnitShare {
		return 100 * v
	}
	return v
}

func unitLabel(unit string) string {
	switch unit {
	case capacity.UnitShare:
		return "%"
	case capacity.UnitMs:
		return "ms"
	}
	return "ratio"
}

// addLinePoints adds xys to p as a line with points in colour c.
func addLinePoints(p *plot.Plot, xys plotter.XYs, c color.RGBA) {
	if len(xys) == 0 {
		return
	}
	l, pts, err := plotter.NewLinePoints(xys)
	if err != nil {
		return
	}
	l.LineStyle = lineStyle(c, 2, nil)
	pts.Color = c
	pts.Shape = draw.CircleGlyph{}
	pts.Radius = vg.Points(3)
	p.Add(l, pts)
}

// addUSLCurve draws the fitted law from 0 to 1.05·xmax, dashed.
func addUSLCurve(p *plot.Plot, u capacity.USL, xmax float64, c color.RGBA) {
	const n = 100
	xys := make(plotter.XYs, 0, n+1)
	for i := 0; i <= n; i++ {
		x := 1.05 * xmax * float64(i) / n
		if y := u.Predict(x); !math.IsNaN(y) && !math.IsInf(y, 0) {
			xys = append(xys, plotter.XY{X: x, Y: y})
		}
	}
	if l, err := plotter.NewLine(xys); err == nil {
		l.LineStyle = lineStyle(c, 1.2, []float64{5, 3})
		p.Add(l)
	}
}

func addHLine(p *plot.Plot, y, xmax float64, c color.RGBA) {
	if l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: y}, {X: xmax, Y: y}}); err == nil {
		l.LineStyle = lineStyle(c, 1.5, []float64{6, 4})
		p.Add(l)
	}
}

func addVLine(p *plot.Plot, x, ymax float64, c color.RGBA) {
	if l, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: ymax}}); err == nil {
		l.LineStyle = lineStyle(c, 1.2, []float64{1, 3})
		p.Add(l)
	}
}

// legendThumb returns a thumbnail of a solid line in c for the legend.
func legendThumb(c color.RGBA) plot.Thumbnailer {
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	if err != nil {
		return nil
	}
	l.LineStyle = lineStyle(c, 2.5, nil)
	return l
}

// outcomeWords says a design's outcome for the table.
func outcomeWords(o string) string {
	switch o {
	case capacity.OutcomeFailsAtMin:
		return "fails at the smallest scale"
	case capacity.OutcomeHoldsAtMax:
		return "holds at the largest scale"
	}
	return "found"
}

var capacityTmpl = template.Must(template.New("capacity").Funcs(template.FuncMap{
	"rate":    capacity.Rate,
	"outcome": outcomeWords,
	"pct":     pct,
	"join":    strings.Join,
	"scale":   func(v float64) string { return fmt.Sprintf("%.4g", v) },
	"verdict": func(pass bool) string { return map[bool]string{true: "pass", false: "FAIL"}[pass] },
}).Parse(capacityHTML))

// capacityHTML is the capacity page's template: the report's look, one
// self-contained page.
const capacityHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="slotrush reports (capacity format {{.File.Format}})">
<link rel="icon" href="data:,">
<title>Capacity: {{.File.Scenario}}</title>
<style>
:root { --ink: #1a1a1a; --muted: #5a5a5a; --line: #d8d8d8; --bad: #b00020; --good: #006b4f; --sim: #6a1b9a; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 0.5rem; border-bottom: 2px solid var(--line); padding-bottom: 0.2rem; }
h3 { font-size: 1.1rem; margin: 1.5rem 0 0.5rem; }
.sub { color: var(--muted); margin: 0 0 1rem; }
.banner { border: 3px solid var(--sim); color: var(--sim); font-weight: 700; padding: 0.6rem 0.9rem; border-radius: 6px; margin: 0.75rem 0; }
.verdict { background: #f4f8fb; border-left: 6px solid #0072B2; padding: 0.8rem 1rem; border-radius: 4px; }
.verdict .headline { font-size: 1.2rem; font-weight: 600; margin: 0 0 0.6rem; }
.warn { color: var(--bad); font-weight: 600; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 0.93rem; }
th, td { border-bottom: 1px solid var(--line); padding: 0.35rem 0.6rem; text-align: left; vertical-align: top; }
thead th { background: #fafafa; white-space: nowrap; }
td.bad { color: var(--bad); font-weight: 700; }
td.good { color: var(--good); }
.sw { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; margin-right: 0.35em; border: 1px solid rgba(0,0,0,.25); }
figure { margin: 1rem 0 1.75rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { font-size: 0.95rem; margin-top: 0.35rem; }
figcaption .files { color: var(--muted); font-size: 0.8rem; }
footer { color: var(--muted); font-size: 0.85rem; margin: 2.5rem 0 1rem; }
</style>
</head>
<body>
<main>
<header>
<h1>{{if .Simulated}}SIMULATED (model): {{end}}How big a rush does each design take?</h1>
<p class="sub">Scenario {{.File.Scenario}}, engine {{.File.Engine}}{{if .File.Confirm}} (confirmed {{.File.Confirm}}){{end}}, SLO <code>{{.File.SLO}}</code>, tolerance {{pct .File.Search.Tolerance}}, seed {{.File.Seed}}, {{.File.StartedAt.Format "2006-01-02 15:04 MST"}}.</p>
{{if .Simulated}}<p class="banner" id="simulated">SIMULATED: every step ran on the queueing model, not a live server. The answer is as good as the model's parameters.</p>{{end}}
{{if .File.Interrupted}}<p class="warn">The search was interrupted: only the designs listed finished.</p>{{end}}
</header>

<section class="verdict" id="verdict">
<h2 style="margin-top:0;border:none">Verdict</h2>
<p class="headline">{{.Verdict}}.</p>
<ul>
{{range .Designs}}<li>{{.Sentence}}.{{with .D.Confirmation}} Live: {{.Agreement}} ({{.Note}}).{{end}}</li>
{{end}}</ul>
<p>The SLO: {{.SLOWords}}.</p>
</section>

<h2>Designs</h2>
<div class="scroll"><table id="designs">
<thead><tr><th>design</th><th>outcome</th><th>capacity (people/s)</th><th>max scale</th><th>fails at (people/s)</th><th>binding term</th><th>steps</th><th>Universal Scalability Law</th><th>live confirmation</th></tr></thead>
<tbody>
{{range .Designs}}<tr><td><span class="sw" style="background:{{.Color}}"></span>{{.D.Design}}</td><td>{{outcome .D.Outcome}}</td><td>{{rate .D.MaxArrivalRatePerS}}</td><td>{{scale .D.MaxScale}}</td><td>{{if .D.FailScale}}{{rate .D.FailArrivalRatePerS}} (scale {{scale .D.FailScale}}){{else}}–{{end}}</td><td>{{if .D.Binding}}<code>{{.D.Binding}}</code>{{else}}none{{end}}</td><td>{{len .D.Steps}}</td><td>{{.USL}}</td><td>{{with .D.Confirmation}}{{.Agreement}}{{else}}–{{end}}</td></tr>
{{end}}</tbody></table></div>

{{with .Figure}}<figure id="fig-{{.Name}}">
<img src="{{.Src}}" alt="{{.Title}}">
<figcaption>{{.Caption}} <span class="files"><a href="{{.PNG}}">PNG</a> · <a href="{{.SVG}}">SVG</a></span></figcaption>
</figure>{{end}}
{{range .Problems}}<p class="warn">{{.}}</p>{{end}}

<h2>Every step</h2>
{{$terms := .Terms}}
{{range .Designs}}<h3><span class="sw" style="background:{{.Color}}"></span>{{.D.Design}}</h3>
<div class="scroll"><table class="steps">
<thead><tr><th>#</th><th>phase</th><th>scale</th><th>people</th><th>arrivals (people/s)</th><th>bookings/s</th>{{range $terms}}<th><code>{{.}}</code></th>{{end}}<th>verdict</th><th>note</th></tr></thead>
<tbody>
{{range $i, $s := .Steps}}<tr><td>{{$i}}</td><td>{{.S.Phase}}</td><td>{{scale .S.Scale}}</td><td>{{.S.People}}</td><td>{{rate .S.ArrivalRatePerS}}</td><td>{{rate .S.ThroughputPerS}}</td>{{range .Values}}<td class="{{if .Bad}}bad{{else}}good{{end}}">{{.Text}}</td>{{end}}<td>{{verdict .S.Pass}}</td><td>{{.S.Note}}</td></tr>
{{end}}{{range .Confirm}}<tr><td>live</td><td>{{.S.Phase}}</td><td>{{scale .S.Scale}}</td><td>{{.S.People}}</td><td>{{rate .S.ArrivalRatePerS}}</td><td>{{rate .S.ThroughputPerS}}</td>{{range .Values}}<td class="{{if .Bad}}bad{{else}}good{{end}}">{{.Text}}</td>{{end}}<td>{{verdict .S.Pass}}</td><td>{{.S.Note}}</td></tr>
{{end}}</tbody></table></div>
{{end}}

<h2>What this answer assumes</h2>
<ul id="assumptions">
{{range .File.Assumptions}}<li>{{.}}</li>
{{end}}</ul>

<footer>slotrush {{.File.Environment.Slotrush}} · {{.File.Environment.GoVersion}} · {{.File.Environment.OS}}/{{.File.Environment.Arch}}{{with .File.Environment.CPU}} · {{.}}{{end}} · {{.File.Environment.Cores}} cores · <a href="capacity.json">capacity.json</a></footer>
</main>
</body>
</html>
`
