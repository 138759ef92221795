package results

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// ValueAtQuantile returns the value at percentile q (0 to 100) of h as
// HdrHistogram's reference implementations (Java, JavaScript) define it:
// the highest value equivalent to the smallest recorded value at or below
// which at least ceil(q% of the count) values lie (the lowest equivalent
// value for q = 0). hdrhistogram-go rounds that count to the nearest
// integer instead, so on a sparse tail its p99.9 can be a neighbouring,
// smaller value; using the reference definition makes the percentiles of
// a result the ones any HdrHistogram reader computes from its histograms
// and interval logs. It returns 0 for an empty histogram. Safe for
// concurrent use with other readers of h.
func ValueAtQuantile(h *hdrhistogram.Histogram, q float64) int64 {
	return ValuesAtQuantiles(h, q)[0]
}

// ValuesAtQuantiles is ValueAtQuantile for several percentiles in one pass
// over h; qs need not be sorted.
func ValuesAtQuantiles(h *hdrhistogram.Histogram, qs ...float64) []int64 {
	out := make([]int64, len(qs))
	total := h.TotalCount()
	if total == 0 {
		return out
	}
	want := make([]int64, len(qs))
	for i, q := range qs {
		want[i] = countAtQuantile(min(max(q, 0), 100), total)
	}
	found := make([]bool, len(qs))
	done := 0
	var seen int64
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		seen += b.Count
		for i, q := range qs {
			if found[i] || seen < want[i] {
				continue
			}
			found[i] = true
			out[i] = b.To
			if q <= 0 {
				out[i] = b.From
			}
			done++
		}
		if done == len(qs) {
			break
		}
	}
	return out
}

// CountAtQuantile returns the count that ValueAtQuantile's percentile q (0
// to 100, clamped) of total values must reach: the rank whose bin holds
// the value. It is at least 1.
func CountAtQuantile(q float64, total int64) int64 {
	return countAtQuantile(min(max(q, 0), 100), total)
}

// countAtQuantile is the count a percentile must reach: q% of total rounded
// up, less one ulp first so that floating-point error in an exact product
// does not skip a count, and at least 1.
func countAtQuantile(q float64, total int64) int64 {
	fp := q / 100 * float64(total)
	ulp := math.Nextafter(fp, math.Inf(1)) - fp
	return max(int64(math.Ceil(fp-ulp)), 1)
}
