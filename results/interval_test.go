package results_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/results"
)

// withIntervals returns a one-design result whose book histogram is the sum
// of three seconds (0, 1 and 3; nothing completed in second 2).
func withIntervals(t *testing.T) *results.Result {
	t.Helper()
	total := results.NewLatencyHistogram()
	var ivs []results.Interval
	for _, sec := range []int{0, 1, 3} {
		h := results.NewLatencyHistogram()
		for v := int64(1); v <= int64(100*(sec+1)); v++ {
			_ = h.RecordValue(v * 37)
			_ = total.RecordValue(v * 37)
		}
		enc, err := results.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		ivs = append(ivs, results.Interval{TS: sec, Histogram: enc})
	}
	enc, err := results.EncodeHistogram(total)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2021, 5, 26, 12, 17, 0, 250e6, time.UTC)
	return &results.Result{
		Format: results.FormatVersion, Scenario: "s", Engine: results.EngineLive,
		StartedAt: start, FinishedAt: start.Add(4 * time.Second),
		Designs: []results.DesignResult{{
			Design: "per-ppv", DurationS: 4,
			LatencyMs:  map[string]results.LatencySummary{results.OpBook: results.Summarize(total)},
			Histograms: map[string]string{results.OpBook: enc},
			Intervals:  map[string][]results.Interval{results.OpBook: ivs},
		}},
	}
}

func TestHistogramLogOneIntervalPerSecond(t *testing.T) {
	t.Parallel()
	r := withIntervals(t)
	if errs := r.Check(); len(errs) != 0 {
		t.Fatalf("Check = %v; want none", errs)
	}
	dir := t.TempDir()
	if _, err := results.WriteHistogramLogs(dir, r); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "per-ppv.book.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	var starts []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, `"`) {
			starts = append(starts, strings.Join(strings.Split(l, ",")[:2], ","))
		}
	}
	if got, want := strings.Join(starts, " "), "0.250,1.000 1.250,1.000 3.250,1.000"; got != want {
		t.Errorf("interval starts and lengths = %s; want %s", got, want)
	}
	// The intervals, read back and added, are the operation's histogram.
	f, err := os.Open(filepath.Join(dir, "per-ppv.book.hlog"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.Close(); err != nil {
			t.Error(err)
		}
	})
	rd := hdrhistogram.NewHistogramLogReader(f)
	sum := hdrhistogram.New(1, results.HistMaxMicros*1000, results.HistSigFigs)
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		sum.Merge(h)
	}
	want := r.Designs[0].LatencyMs[results.OpBook]
	if sum.TotalCount() != want.Count {
		t.Errorf("intervals count %d values; want %d", sum.TotalCount(), want.Count)
	}
	for _, q := range []struct {
		q    float64
		want float64
	}{{50, want.P50}, {99, want.P99}, {99.9, want.P999}} {
		got := float64(results.ValueAtQuantile(sum, q.q)) / 1e6
		if d := got/q.want - 1; d > 1e-3 || d < -1e-3 {
			t.Errorf("p%v of the intervals = %.4f ms; result says %.4f ms", q.q, got, q.want)
		}
	}
}

func TestCheckIntervals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(d *results.DesignResult)
		want   string
	}{
		{"a second missing", func(d *results.DesignResult) {
			d.Intervals[results.OpBook] = d.Intervals[results.OpBook][1:]
		}, "the seconds count 600 values; the histogram 700"},
		{"out of order", func(d *results.DesignResult) {
			iv := d.Intervals[results.OpBook]
			iv[0], iv[1] = iv[1], iv[0]
		}, "t_s 0 after 1"},
		{"undecodable", func(d *results.DesignResult) {
			d.Intervals[results.OpBook][2].Histogram = "AAAA"
		}, "interval 2 (t_s 3)"},
		{"operation without a histogram", func(d *results.DesignResult) {
			d.Intervals["cancel"] = d.Intervals[results.OpBook]
		}, "intervals cancel: no histogram"},
	}
	for _, tc := range tests {
		r := withIntervals(t)
		tc.change(&r.Designs[0])
		errs := r.Check()
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.want) {
			t.Errorf("%s: Check = %v; want one error containing %q", tc.name, errs, tc.want)
		}
	}
}
