package reports

import (
	"context"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/capacity"
	"github.com/slotrush/slotrush/results"
)

// capacityFixture returns a capacity file of the designs named, searched
// with errors<=1% over a fake engine whose error share passes 1% at scale
// knees[i] and whose throughput saturates at 80 bookings/s.
func capacityFixture(t *testing.T, slo string, designs []string, knees []float64) *capacity.File {
	t.Helper()
	s, err := capacity.ParseSLO(slo)
	if err != nil {
		t.Fatal(err)
	}
	o := capacity.DefaultOptions()
	o.SLO, o.Seed, o.NoiseMargin = s, 1, 0
	o.Rate = func(f float64) float64 { return 100 * f }
	f := &capacity.File{Format: capacity.FormatString(capacity.FormatVersion), Scenario: "fake", Engine: capacity.EngineModel,
		Seed: 1, SLO: s.String(), Terms: s, Assumptions: []string{"a fake engine <b>"},
		Search:    capacity.SearchSettings{StartScale: o.Start, MinScale: o.Min, MaxScale: o.Max, Tolerance: o.Tolerance},
		StartedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	for i, name := range designs {
		knee := knees[i]
		run := func(_ context.Context, r capacity.StepRun) (*results.DesignResult, error) {
			share := math.Max(0, r.Scale-knee) / r.Scale
			const total = 100000
			bad := int64(share * total)
			booked := int64(80 * (1 - math.Exp(-r.Scale)))
			return &results.DesignResult{
				Requests: results.Requests{Total: total, ByStatus: map[string]int64{"201": total - bad, "429": bad}},
				Users:    results.Users{Arrived: 1000, Booked: 900},
				Timeline: []results.TimelinePoint{{TS: 0, Booked: booked, Arrivals: 100}},
			}, nil
		}
		d, err := capacity.Search(context.Background(), name, o, run)
		if err != nil {
			t.Fatal(err)
		}
		capacity.FitDesign(d)
		f.Designs = append(f.Designs, *d)
	}
	return f
}

func TestRenderCapacity(t *testing.T) {
	t.Parallel()
	f := capacityFixture(t, "errors<=1%", []string{"monolithic", "per-ppv-day"}, []float64{0.5, 3})
	dir := t.TempDir()
	index, err := renderCapacity(dir, f, 40)
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{
		"per-ppv-day holds a rush of 300 people/s with errors at most 1%; monolithic 50.0/s; errors binds first",
		"SIMULATED", "data:image/png;base64,", "Every step", "a fake engine <b>", "Universal Scalability Law",
		"<code>errors<=1%</code>",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
	if m := external.FindString(page); m != "" {
		t.Errorf("the page fetches from elsewhere: %q", m)
	}
	raw, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "<b>") {
		t.Error("an assumption's text reached the page unescaped")
	}
	pf, err := os.Open(filepath.Join(dir, "plots", "capacity.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pf.Close() }()
	img, err := png.Decode(pf)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("plot of %v; want a figure", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "capacity.svg")); err != nil {
		t.Error(err)
	}
}

func TestRenderCapacityEdges(t *testing.T) {
	t.Parallel()
	if _, err := RenderCapacity(t.TempDir(), &capacity.File{}); err == nil {
		t.Error("RenderCapacity of a file without designs succeeded")
	}
	// Outcomes at both ends: no knee to mark for one, no failure for the
	// other; the page still says both.
	f := capacityFixture(t, "errors<=1%", []string{"monolithic", "per-ppv"}, []float64{0.0001, 1000})
	index, err := renderCapacity(t.TempDir(), f, 40)
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{"fails at the smallest scale", "holds at the largest scale", "at least 6,400 people/s"} {
		if !strings.Contains(page, w) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

func TestCapacityFigureBindingPanel(t *testing.T) {
	t.Parallel()
	f := capacityFixture(t, "book.p99<=500ms,errors<=1%", []string{"per-ppv"}, []float64{2})
	term, ok := bindingTerm(f)
	if !ok || term.Canonical() != "errors<=1%" {
		t.Errorf("bindingTerm = %q, %v; want errors<=1%% (it binds; book p99 is never measured)", term.Canonical(), ok)
	}
	fig := capacityFigure(f)
	if fig == nil || len(fig.panels) != 2 || !strings.Contains(fig.Title, "errors") {
		t.Fatalf("capacityFigure = %+v; want two panels about errors", fig)
	}
	if fig.panels[1].Y.Max < 1 {
		t.Errorf("lower panel tops at %v%%; want the 1%% limit in view", fig.panels[1].Y.Max)
	}
}
