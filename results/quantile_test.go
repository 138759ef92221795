package results

import (
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

func TestValueAtQuantile(t *testing.T) {
	t.Parallel()
	// 1000 values 1..1000 µs: the reference rank of p99.9 is ceil(999) =
	// 999, of p50 500; with 1001 values, p99.9 ranks ceil(999.999) = 1000.
	h := NewLatencyHistogram()
	for v := int64(1); v <= 1000; v++ {
		_ = h.RecordValue(v)
	}
	odd := NewLatencyHistogram()
	odd.Merge(h)
	_ = odd.RecordValue(5000)
	one := NewLatencyHistogram()
	_ = one.RecordValue(42)
	tests := []struct {
		name string
		h    *hdrhistogram.Histogram
		q    float64
		want int64
	}{
		{"p50 of 1..1000", h, 50, 500},
		{"p99.9 of 1..1000", h, 99.9, 999},
		{"p100 of 1..1000", h, 100, 1000},
		{"p0 of 1..1000", h, 0, 1},
		{"p99.9 of 1001 values", odd, 99.9, 1000},
		{"p100 of 1001 values", odd, 100, odd.Max()},
		{"a single value", one, 99, 42},
		{"empty", NewLatencyHistogram(), 99, 0},
	}
	for _, tc := range tests {
		if got := ValueAtQuantile(tc.h, tc.q); got != tc.want {
			t.Errorf("%s: ValueAtQuantile(h, %v) = %d; want %d", tc.name, tc.q, got, tc.want)
		}
	}
	// One pass for several, in any order, gives the same values.
	got := ValuesAtQuantiles(odd, 99.9, 50, 0)
	if got[0] != 1000 || got[1] != 501 || got[2] != 1 {
		t.Errorf("ValuesAtQuantiles(odd, 99.9, 50, 0) = %v; want [1000 501 1]", got)
	}
}

// The reference definition and hdrhistogram-go's differ only in the
// rounding of the rank: where q% of the count is a whole number, or rounds
// up anyway, they agree.
func TestValueAtQuantileAgreesWhereRanksAgree(t *testing.T) {
	t.Parallel()
	h := NewLatencyHistogram()
	for v := int64(1); v <= 100000; v += 7 {
		_ = h.RecordValues(v, v%5+1)
	}
	for _, q := range []float64{10, 25, 50, 75, 90} {
		if got, lib := ValueAtQuantile(h, q), h.ValueAtQuantile(q); got != lib {
			t.Errorf("ValueAtQuantile(h, %v) = %d; hdrhistogram-go %d", q, got, lib)
		}
	}
}
