package results_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

func TestWriteHistogramLogs(t *testing.T) {
	t.Parallel()
	r := resultstest.SyntheticResult(1)
	dir := t.TempDir()
	paths, err := results.WriteHistogramLogs(dir, r)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, d := range r.Designs {
		want += len(d.Histograms)
	}
	if len(paths) != want {
		t.Fatalf("wrote %d logs; want %d (one per design and operation)", len(paths), want)
	}
	path := filepath.Join(dir, "per-ppv-day.list_slots.hlog")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("want %s: %v", path, err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 5 {
		t.Fatalf("log has %d lines; want 5 (version, start time, comment, legend, interval):\n%s", len(lines), data)
	}
	for i, prefix := range []string{
		"#[Histogram log format version 1.3]",
		"#[StartTime: 1621742400 (seconds since epoch), ",
		"#slotrush scenario=synthetic-rush engine=live design=per-ppv-day operation=list_slots unit=ns",
		`"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"`,
		"0.000,40.000,",
	} {
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("line %d = %q; want prefix %q", i+1, lines[i], prefix)
		}
	}

	// The standard reader gets the histogram back, in nanoseconds.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	rd := hdrhistogram.NewHistogramLogReader(f)
	h, err := rd.NextIntervalHistogram()
	if err != nil || h == nil {
		t.Fatalf("NextIntervalHistogram = %v, %v", h, err)
	}
	if next, err := rd.NextIntervalHistogram(); next != nil || err != nil {
		t.Errorf("second interval = %v, %v; want none", next, err)
	}
	d, _ := r.Design("per-ppv-day")
	orig, err := d.Histogram(results.OpListSlots)
	if err != nil {
		t.Fatal(err)
	}
	if h.TotalCount() != orig.TotalCount() {
		t.Errorf("count = %d; want %d", h.TotalCount(), orig.TotalCount())
	}
	if got := h.StartTimeMs(); got != r.StartedAt.UnixMilli() {
		t.Errorf("interval start = %d ms; want %d", got, r.StartedAt.UnixMilli())
	}
	for _, q := range []float64{50, 90, 99, 99.9, 100} {
		us, ns := float64(orig.ValueAtQuantile(q)), float64(h.ValueAtQuantile(q))/1000
		if math.Abs(ns-us)/us > 0.002 {
			t.Errorf("p%v = %v µs after the log; want %v µs (±0.2%%)", q, ns, us)
		}
	}
}

func TestWriteHistogramLogsBadHistogram(t *testing.T) {
	t.Parallel()
	r := resultstest.SyntheticResult(1)
	r.Designs[0].Histograms[results.OpBook] = "HISTFAAAAnotreally"
	_, err := results.WriteHistogramLogs(t.TempDir(), r)
	if err == nil || !strings.Contains(err.Error(), "monolithic") || !strings.Contains(err.Error(), results.OpBook) {
		t.Errorf("results.WriteHistogramLogs(bad histogram) = %v; want an error naming design and operation", err)
	}
}
