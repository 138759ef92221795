package results

import "testing"

// Every bin has an index below latencyBinCount, and back.
func TestLatencyBinIndex(t *testing.T) {
	t.Parallel()
	if got := latencyBinIndex(LatencyBinFrom(HistMaxMicros)) + 1; got != latencyBinCount {
		t.Fatalf("bins up to HistMaxMicros: %d; latencyBinCount %d", got, latencyBinCount)
	}
	prev := 0 // value 0 is below every bin
	for v := int64(HistMinMicros); v <= HistMaxMicros; v = LatencyBinTo(LatencyBinFrom(v)) + 1 {
		from := LatencyBinFrom(v)
		i := latencyBinIndex(from)
		if i != prev+1 || latencyBinOf(i) != from {
			t.Fatalf("bin of %d: index %d after %d, back %d", from, i, prev, latencyBinOf(i))
		}
		prev = i
	}
	if prev != latencyBinCount-1 {
		t.Errorf("last index %d; want %d", prev, latencyBinCount-1)
	}
}
