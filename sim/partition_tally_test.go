package sim

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// TestTallyBin checks that tallyBin orders values as results.LatencyBinFrom
// bins them and that tallyBinFrom maps a bin back to its lowest value, at
// every bin's edges.
func TestTallyBin(t *testing.T) {
	h := hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
	var values []int64
	for us := int64(-3); us < 600; us++ {
		values = append(values, us)
	}
	for from := int64(256); from < results.HistMaxMicros; from = results.LatencyBinTo(from) + 1 {
		values = append(values, from-1, from, from+1)
	}
	values = append(values, results.HistMaxMicros-1, results.HistMaxMicros, results.HistMaxMicros+1, 1<<40)
	last, lastBin := int64(-1), uint64(0)
	for _, us := range values {
		bin, from := tallyBin(us), results.LatencyBinFrom(us)
		if got := tallyBinFrom(bin); got != from {
			t.Fatalf("value %d: bin %d starts at %d, want %d", us, bin, got, from)
		}
		if bin >= uint64(len(h.Export().Counts)) {
			t.Fatalf("value %d: bin %d out of range", us, bin)
		}
		if (from > last) != (bin > lastBin) && last >= 0 {
			t.Fatalf("value %d: bin %d after %d, from %d after %d", us, bin, lastBin, from, last)
		}
		last, lastBin = from, bin
	}
}

// naiveSeconds is what partitionSeconds returns, computed from each
// request's second, class and latency one by one.
func naiveSeconds(reqs [][3]int64, notOpen []int32) []results.PartitionSecond {
	by := map[int]*results.PartitionSecond{}
	bins := map[int]map[int64]int64{}
	for i, n := range notOpen {
		if n > 0 {
			by[i] = &results.PartitionSecond{TS: i}
			countClass(&by[i].PartitionCounts, pcNotOpen, int64(n))
		}
	}
	for _, r := range reqs {
		sec := int(r[0])
		if by[sec] == nil {
			by[sec] = &results.PartitionSecond{TS: sec}
		}
		countClass(&by[sec].PartitionCounts, uint8(r[1]), 1)
		if bins[sec] == nil {
			bins[sec] = map[int64]int64{}
		}
		bins[sec][results.LatencyBinFrom(r[2])]++
	}
	var out []results.PartitionSecond
	for _, s := range by {
		for from, n := range bins[s.TS] {
			s.Latency = append(s.Latency, results.LatencyBin{From: from, Count: n})
		}
		slices.SortFunc(s.Latency, func(a, b results.LatencyBin) int { return int(a.From - b.From) })
		out = append(out, *s)
	}
	slices.SortFunc(out, func(a, b results.PartitionSecond) int { return a.TS - b.TS })
	return out
}

// TestPartTallyCompacts checks that a partition's tally, compacted as it
// grows, yields the seconds of its requests one by one: requests in
// roughly increasing seconds, a few late, with repeated keys and counts
// beyond one entry's bound.
func TestPartTallyCompacts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 200_000} {
		tl := newPartTally(2)
		var reqs [][3]int64
		var notOpen []int32
		for i := range n {
			sec := i / 997
			if rng.IntN(10) == 0 {
				sec = max(sec-rng.IntN(5), 0)
			}
			c := uint8(rng.IntN(8))
			us := int64(rng.ExpFloat64() * float64([]int{50, 2000, 1e6}[rng.IntN(3)]))
			tl.add(1, sec, c, us)
			if c == pcNotOpen {
				for len(notOpen) <= sec {
					notOpen = append(notOpen, 0)
				}
				notOpen[sec]++
				continue
			}
			reqs = append(reqs, [3]int64{int64(sec), int64(c), min(max(us, results.HistMinMicros), results.HistMaxMicros)})
		}
		tl.add(-1, 0, pcOK, 1)
		tl.compact(1)
		got, _ := partitionSeconds(tl.entries[1], tl.notOpen[1], nil)
		if want := naiveSeconds(reqs, notOpen); !reflect.DeepEqual(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Fatalf("%d requests: seconds differ:\n got %v\nwant %v", n, got, want)
		}
		if tl.unattributed != 1 || len(tl.entries[0]) != 0 {
			t.Errorf("unattributed %d, partition 0 %d entries", tl.unattributed, len(tl.entries[0]))
		}
	}
	// Many requests of few keys take few entries.
	tl := newPartTally(1)
	for i := range 1_000_000 {
		tl.add(0, i/100_000, uint8(i%3), int64(1000+i%500))
	}
	// 10 seconds x 3 classes x the ~66 bins of 1.0 to 1.5 ms: about 2,000.
	if len(tl.entries[0]) > 3_000 || cap(tl.entries[0]) > 6_000 {
		t.Errorf("1,000,000 requests of about 2,000 keys kept in %d entries (capacity %d)", len(tl.entries[0]), cap(tl.entries[0]))
	}
	// One key, more requests than an entry counts.
	tl = newPartTally(1)
	for range 3*tallyMaxCount + 5 {
		tl.add(0, 7, pcOK, 300)
	}
	tl.compact(0)
	got, _ := partitionSeconds(tl.entries[0], nil, nil)
	if len(got) != 1 || got[0].OK != 3*tallyMaxCount+5 || len(got[0].Latency) != 1 || got[0].Latency[0].Count != 3*tallyMaxCount+5 {
		t.Errorf("one key: %+v", got)
	}
}

// TestSecHistQuantiles checks the per-second histogram's percentiles and
// merge against an HdrHistogram of the same values.
func TestSecHistQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 2, 3, 99, 100, 101, 5000} {
		h := hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
		var a, b secHist
		for i := range n {
			us := min(max(int64(rng.ExpFloat64()*float64([]int{30, 900, 4e6}[rng.IntN(3)])), results.HistMinMicros), results.HistMaxMicros)
			_ = h.RecordValue(us)
			if i%3 == 0 {
				b.record(us)
			} else {
				a.record(us)
			}
		}
		a.add(b)
		qs := []float64{0, 1, 50, 90, 99, 99.9, 100}
		if got, want := a.quantiles(qs...), results.ValuesAtQuantiles(h, qs...); !slices.Equal(got, want) {
			t.Errorf("%d values: quantiles %v, want %v", n, got, want)
		}
	}
}
