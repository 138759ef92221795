package results

import (
	"math/rand/v2"
	"testing"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestEncodeHistogramMatchesLibrary checks that EncodeHistogram writes
// what hdrhistogram-go's Encode writes, byte for byte, for histograms of
// several shapes and precisions, empty ones and ones merged or reset.
func TestEncodeHistogramMatchesLibrary(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var hs []*hdrhistogram.Histogram
	for _, digits := range []int{1, 2, 3, 4} {
		for _, lowest := range []int64{1, 3, 1000} {
			for _, n := range []int{0, 1, 2, 50, 5000} {
				h := hdrhistogram.New(lowest, HistMaxMicros, digits)
				for range n {
					v := int64(rng.ExpFloat64() * float64(rng.IntN(1_000_000)+1))
					_ = h.RecordValues(min(max(v, 0), HistMaxMicros), int64(1+rng.IntN(3)))
				}
				hs = append(hs, h)
			}
		}
	}
	big := NewLatencyHistogram()
	_ = big.RecordValues(HistMaxMicros, 1<<60) // a count of nine bytes
	_ = big.RecordValues(1, 1<<40)
	hs = append(hs, big)
	merged := NewLatencyHistogram()
	merged.Merge(hs[len(hs)-2])
	reset := NewLatencyHistogram()
	_ = reset.RecordValue(12345)
	reset.Reset()
	hs = append(hs, merged, reset)
	for i, h := range hs {
		want, err := h.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 { // a pooled encoder encodes the same again
			got, err := EncodeHistogram(h)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("histogram %d: encoded\n%s\nwant\n%s", i, got, want)
			}
		}
	}
}

func TestAppendZigZag(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, -64, 64, 1 << 20, -(1 << 30), 1<<55 - 1, 1 << 55, 1 << 62, -(1 << 62), 1<<63 - 1, -1 << 63} {
		got := appendZigZag(nil, v)
		back, n := decodeZigZagForTest(got)
		if back != v || n != len(got) || len(got) > 9 {
			t.Errorf("%d: encoded % x, decodes to %d (%d bytes)", v, got, back, n)
		}
	}
}

// decodeZigZagForTest reads the LEB128-64b9B ZigZag value at the start of b.
func decodeZigZagForTest(b []byte) (int64, int) {
	var u uint64
	for k := range 8 {
		u |= uint64(b[k]&0x7f) << (7 * k)
		if b[k]&0x80 == 0 {
			return int64(u>>1) ^ -int64(u&1), k + 1
		}
	}
	u |= uint64(b[8]) << 56
	return int64(u>>1) ^ -int64(u&1), 9
}

func BenchmarkEncodeHistogram(b *testing.B) {
	h := NewLatencyHistogram()
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		_ = h.RecordValue(int64(rng.ExpFloat64() * 2000))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeHistogram(h); err != nil {
			b.Fatal(err)
		}
	}
}
