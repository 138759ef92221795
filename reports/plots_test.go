package reports

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// goldenDPI keeps the golden PNGs small; layout does not depend on DPI.
// cheapDPI is for tests that only need a plot to draw.
const (
	goldenDPI = 72
	cheapDPI  = 24
)

// pixelTolerance and maxDiffShare are how far a rendering may drift from
// its golden image (anti-aliasing differs slightly between CPUs): a pixel
// differs when a channel moves by more than pixelTolerance of 255, and at
// most maxDiffShare of the pixels may differ.
const (
	pixelTolerance = 24
	maxDiffShare   = 0.002
)

// variant returns the fixture cut to monolithic and per-ppv, with nobody
// still waiting and late comers favoured by per-ppv: the layouts of an
// outcomes plot without its third group, a negative fairness bar and two
// goodput panels.
func variant() *results.Result {
	r := fixture()
	r.Designs = r.Designs[:2]
	for i := range r.Designs {
		u := &r.Designs[i].Users
		u.GaveUp += u.StillWaiting
		u.StillWaiting = 0
	}
	r.Designs[1].Users.Fairness = -0.3
	return r
}

// TestPlotsGolden renders every plot of the fixture and compares the decoded
// PNG with testdata/golden/<name>.png. Run with -update to rewrite them.
func TestPlotsGolden(t *testing.T) {
	t.Parallel()
	figs := figures(collect([]*results.Result{fixture()}))
	const want = 9 + 3*4
	if len(figs) != want {
		t.Errorf("fixture gives %d plots; want %d (9 across designs, 3 per design)", len(figs), want)
	}
	two := collect([]*results.Result{variant()})
	for _, f := range []*figure{userOutcomes(two), fairness(two), goodputOverTime(two)} {
		f.Name = "variant-" + f.Name
		figs = append(figs, f)
	}
	checkGolden(t, figs)
}

// TestPartitionPlotsGolden renders the figures of the fixture's bookings
// by partition: the availability across designs and a heatmap per design.
func TestPartitionPlotsGolden(t *testing.T) {
	t.Parallel()
	ss := collect([]*results.Result{fixtureWithPartitions()})
	figs := []*figure{partitionAvailability(ss)}
	span := partitionSpan(ss)
	for _, s := range ss {
		figs = append(figs, partitionHeatmap(s, span))
	}
	for _, f := range figs {
		if f == nil {
			t.Fatal("a partition figure of the fixture is missing")
		}
	}
	checkGolden(t, figs)
	if n, want := len(figures(ss)), 10+4*4; n != want {
		t.Errorf("fixture with partitions gives %d plots; want %d (10 across designs, 4 per design)", n, want)
	}
	if f := partitionAvailability(collect([]*results.Result{fixture()})); f != nil {
		t.Errorf("a result without bookings by partition has an availability figure")
	}
}

// checkGolden compares each figure's PNG, decoded, with
// testdata/golden/<name>.png, or writes it with -update.
func checkGolden(t *testing.T, figs []*figure) {
	t.Helper()
	for _, f := range figs {
		t.Run(f.Name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := f.render(&buf, "png", goldenDPI); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", f.Name+".png")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./reports -run TestPlotsGolden -update)", err)
			}
			if ok, why := pngsAlike(buf.Bytes(), want); !ok {
				got := filepath.Join(t.TempDir(), f.Name+".png")
				_ = os.WriteFile(got, buf.Bytes(), 0o644)
				t.Errorf("%s differs from %s: %s; got written to %s (run with -update if the change is intended)", f.Name, path, why, got)
			}
		})
	}
}

// pngsAlike compares two PNGs decoded, pixel by pixel, with the tolerances
// above, in the manner of gonum's cmpimg.EqualApprox.
func pngsAlike(a, b []byte) (bool, string) {
	ia, err := decodeRGBA(a)
	if err != nil {
		return false, "got: " + err.Error()
	}
	ib, err := decodeRGBA(b)
	if err != nil {
		return false, "golden: " + err.Error()
	}
	if ia.Bounds() != ib.Bounds() {
		return false, "size " + ia.Bounds().String() + " vs " + ib.Bounds().String()
	}
	diff := 0
	for i := 0; i < len(ia.Pix); i += 4 {
		for c := range 4 {
			if v := int(ia.Pix[i+c]) - int(ib.Pix[i+c]); v < -pixelTolerance || v > pixelTolerance {
				diff++
				break
			}
		}
	}
	share := float64(diff) / float64(len(ia.Pix)/4)
	if share > maxDiffShare {
		return false, pct(share) + " of pixels differ"
	}
	return true, ""
}

func decodeRGBA(b []byte) (*image.RGBA, error) {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if rgba, ok := img.(*image.RGBA); ok && rgba.Bounds().Min == (image.Point{}) {
		return rgba, nil
	}
	rgba := image.NewRGBA(image.Rect(0, 0, img.Bounds().Dx(), img.Bounds().Dy()))
	draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	return rgba, nil
}

func TestPlotsDeterministic(t *testing.T) {
	t.Parallel()
	render := func() [][]byte {
		var out [][]byte
		for _, f := range figures(collect([]*results.Result{fixture()}))[:3] {
			for _, format := range []string{"png", "svg"} {
				var buf bytes.Buffer
				if err := f.render(&buf, format, cheapDPI); err != nil {
					t.Fatal(err)
				}
				out = append(out, buf.Bytes())
			}
		}
		return out
	}
	a, b := render(), render()
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Errorf("rendering %d differs between two runs", i)
		}
	}
}

func TestPlotsSVGWellFormed(t *testing.T) {
	t.Parallel()
	for _, f := range figures(collect([]*results.Result{fixture()})) {
		var buf bytes.Buffer
		if err := f.render(&buf, "svg", 0); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(&buf)
		for {
			_, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Errorf("%s.svg: %v", f.Name, err)
				break
			}
		}
	}
}

// TestPlotsMissingData removes pieces of data one at a time: the plots that
// need them are left out, and nothing panics.
func TestPlotsMissingData(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*results.DesignResult)
		without []string // plots that must be gone
	}{
		{"no time to book", func(d *results.DesignResult) { d.Users.TimeToBook = "" }, []string{"time-to-book"}},
		{"bad time to book", func(d *results.DesignResult) { d.Users.TimeToBook = "garbage" }, []string{"time-to-book"}},
		{"no time to outcome", func(d *results.DesignResult) { d.Users.TimeToOutcome = "" }, []string{"time-to-outcome"}},
		{"bad time to outcome", func(d *results.DesignResult) { d.Users.TimeToOutcome = "garbage" }, []string{"time-to-outcome"}},
		{"no histograms", func(d *results.DesignResult) { d.Histograms = nil }, []string{"latency-spectrum"}},
		{"no timeline", func(d *results.DesignResult) { d.Timeline = nil }, []string{"booked-over-time", "goodput", "-requests", "latency-over-time"}},
		{"no latency summary", func(d *results.DesignResult) { d.LatencyMs = nil }, []string{"p99-by-operation"}},
		{"no users", func(d *results.DesignResult) { d.Users = results.Users{} }, []string{"user-outcomes", "time-to-book", "time-to-outcome", "fairness"}},
		{"no requests", func(d *results.DesignResult) { d.Requests = results.Requests{} }, []string{"error-rate"}},
		{"no requests, no users", func(d *results.DesignResult) { d.Requests, d.Users = results.Requests{}, results.Users{} }, []string{"requests-per-person"}},
		{"zero everywhere in time", func(d *results.DesignResult) {
			for i := range d.Timeline {
				d.Timeline[i] = results.TimelinePoint{TS: d.Timeline[i].TS}
			}
		}, nil},
		{"cumulative booked", func(d *results.DesignResult) {
			var c int64
			for i := range d.Timeline {
				c += d.Timeline[i].Booked
				d.Timeline[i].Booked = c
			}
		}, nil},
		{"zero latencies", func(d *results.DesignResult) {
			for i := range d.Timeline {
				d.Timeline[i].P50Ms, d.Timeline[i].P99Ms = 0, 0
			}
		}, []string{"latency-over-time"}},
		{"one second", func(d *results.DesignResult) { d.Timeline = d.Timeline[:1] }, nil},
		{"empty design", func(d *results.DesignResult) { *d = results.DesignResult{Design: d.Design} }, []string{"booked-over-time", "goodput", "user-outcomes", "time-to-book", "time-to-outcome", "requests-per-person", "fairness", "error-rate", "p99-by-operation", "latency-spectrum", "-requests", "latency-over-time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			r.Designs = r.Designs[2:3]
			tt.change(&r.Designs[0])
			figs := figures(collect([]*results.Result{r}))
			for _, f := range figs {
				for _, w := range tt.without {
					if strings.Contains(f.Name, w) {
						t.Errorf("plot %s drawn without its data", f.Name)
					}
				}
				for _, format := range []string{"png", "svg"} {
					if err := f.render(io.Discard, format, cheapDPI); err != nil {
						t.Errorf("%s: %v", f.Name, err)
					}
				}
			}
		})
	}
}

func TestDesignColorsConsistent(t *testing.T) {
	t.Parallel()
	// The same design gets the same colour whatever else is in the report.
	a := collect([]*results.Result{fixture()})
	r := fixture()
	r.Designs = r.Designs[1:]
	b := collect([]*results.Result{r})
	colors := map[string]string{}
	for _, s := range append(a, b...) {
		c := string(cssColor(s))
		if prev, ok := colors[s.Label]; ok && prev != c {
			t.Errorf("%s is %s in one report and %s in another", s.Label, prev, c)
		}
		colors[s.Label] = c
	}
	want := map[string]string{"monolithic": "#D55E00", "per-ppv": "#E69F00", "per-ppv-day": "#0072B2", "per-ppv-day+waiting-room": "#CC79A7"}
	for d, c := range want {
		if colors[d] != c {
			t.Errorf("%s is %s; want %s", d, colors[d], c)
		}
	}
	// Results of one crowd and engine share plots: every line of them has
	// its own colour or dashes, however many (13 here), and every label
	// is unique.
	rs := []*results.Result{fixture(), rerun(fixture(), results.EngineLive), rerun(rerun(fixture(), results.EngineLive), results.EngineLive)}
	rs[2].Designs = rs[2].Designs[:1]
	rs = append(rs, rerun(rerun(rerun(fixture(), results.EngineLive), results.EngineLive), results.EngineLive))
	many := collect(rs)
	if len(many) != 13 {
		t.Fatalf("%d series; want 13", len(many))
	}
	seen := map[string]string{}
	labels := map[string]bool{}
	for _, s := range many {
		key := fmt.Sprint(cssColor(s), s.Dashes)
		if prev, ok := seen[key]; ok || labels[s.Label] {
			t.Errorf("%s repeats the colour and dashes of %s, or a label", s.Label, prev)
		}
		seen[key], labels[s.Label] = s.Label, true
		if s.Group != 0 {
			t.Errorf("%s is in group %d; want one group", s.Label, s.Group)
		}
	}
	// Another engine is another group, whose known designs keep their
	// colours: they never share a plot with the first group's.
	two := collect([]*results.Result{fixture(), rerun(fixture(), results.EngineModel)})
	for _, s := range two {
		if want := designColors[s.Design.Design]; s.Color != want || s.Dashes != nil {
			t.Errorf("%s is %v %v; want its own colour %v, solid", s.Label, s.Color, s.Dashes, want)
		}
	}
}

// Runs of very different lengths get their own time axes.
func TestDurationClusters(t *testing.T) {
	t.Parallel()
	of := func(ds ...float64) []series {
		var ss []series
		for i, d := range ds {
			ss = append(ss, series{Label: fmt.Sprint(i), Design: &results.DesignResult{DurationS: d}})
		}
		return ss
	}
	tests := []struct {
		name string
		in   []series
		want [][]string
	}{
		{"alike", of(40, 28, 100), [][]string{{"0", "1", "2"}}},
		{"a live run and a 3 h simulation", of(40, 10800, 28), [][]string{{"0", "2"}, {"1"}}},
		{"unknown length joins the first", of(0, 40, 900), [][]string{{"0", "1"}, {"2"}}},
		{"three scales", of(30, 400, 9000, 35), [][]string{{"0", "3"}, {"1"}, {"2"}}},
	}
	for _, tc := range tests {
		var got [][]string
		for _, c := range durationClusters(tc.in) {
			got = append(got, labelsOfSeries(c))
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: durationClusters = %v; want %v", tc.name, got, tc.want)
		}
	}
	// The booked-over-time plot of each cluster is its own figure, its
	// title saying which runs it shows.
	r := fixture()
	keepDesigns(r, "monolithic", "per-ppv")
	r.Designs[1].DurationS = 3 * 3600
	titles := map[string]string{}
	for _, f := range figures(collect([]*results.Result{r})) {
		titles[f.Name] = f.Title
	}
	for name, want := range map[string]string{"booked-over-time": "(runs of about 40 s)", "booked-over-time-2": "(runs of about 3 h"} {
		if !strings.Contains(titles[name], want) {
			t.Errorf("figure %s is titled %q; want it to say %q", name, titles[name], want)
		}
	}
}

func labelsOfSeries(ss []series) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.Label
	}
	return out
}

// rerun returns r run by another engine an hour later.
func rerun(r *results.Result, engine string) *results.Result {
	r.Engine = engine
	r.StartedAt = r.StartedAt.Add(3600e9)
	return r
}
