package sim

import (
	"context"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// liveHeap returns the heap in use after a full collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestModelMemoryEstimate compares the estimate of each design with what
// building and running it really keeps live (with the crowd it shares),
// measured as the live heap after a collection with the run still held.
// Not parallel: other tests' allocations would be measured too.
func TestModelMemoryEstimate(t *testing.T) {
	for _, c := range []struct {
		scenario string
		scale    float64
	}{
		{"ci-smoke", 50},           // 20,000 users, 6 slots, 5 s
		{"demo", 1},                // 10,000 users, 40 slots, 40 s
		{"refresh-storm", 1},       // 6,000 users, a waiting room
		{"cyprus-2021-04-07", 0.3}, // 9,000 users, a 25 min run, 70 partitions
	} {
		sc := loadScenario(t, c.scenario)
		if c.scale != 1 {
			sc = sc.Scaled(c.scale)
		}
		designs, err := sc.BuildDesigns(nil)
		if err != nil {
			t.Fatal(err)
		}
		est := EstimateModelMemory(sc, designs)
		h0 := liveHeap()
		inv := sc.BuildInventory()
		crowd := sc.Arrivals(sc.Seed)
		shared := liveHeap() - h0
		for i, d := range designs {
			h1 := liveHeap()
			m, err := newModelRun(sc, d, &inv, crowd, sc.Seed, DefaultModelParams())
			if err != nil {
				t.Fatal(err)
			}
			if err := m.run(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := shared + liveHeap() - h1
			runtime.KeepAlive(m)
			want := est.Shared + est.Designs[i]
			if r := float64(want) / float64(got); r < 0.5 || r > 2 {
				t.Errorf("%s at scale %g, %s: estimate %d B; measured %d B (ratio %.2f, want 0.5-2)", c.scenario, c.scale, d.Name, want, got, r)
			} else {
				t.Logf("%s at scale %g, %s: estimate %d B, measured %d B (ratio %.2f)", c.scenario, c.scale, d.Name, want, got, r)
			}
		}
		runtime.KeepAlive(crowd)
		runtime.KeepAlive(&inv)
	}
}

// TestEstimateModelMemoryAllocatesNothing: estimating a crowd of
// scenarios.MaxCrowd users, whose simulation needs tens of gigabytes,
// allocates next to nothing, so a caller can refuse it before building any.
func TestEstimateModelMemoryAllocatesNothing(t *testing.T) {
	sc := loadScenario(t, "demo").Scaled(5000)
	if sc.Crowd.Size != scenarios.MaxCrowd {
		t.Fatalf("crowd %d; want %d", sc.Crowd.Size, scenarios.MaxCrowd)
	}
	designs, err := sc.BuildDesigns(nil)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	est := EstimateModelMemory(sc, designs)
	need := est.Need(1)
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Errorf("estimating allocated %d B; want next to nothing", d)
	}
	if least := int64(scenarios.MaxCrowd) * (modelUserBytes + modelArrivalBytes); need < least {
		t.Errorf("Need(1) = %d; want at least %d (the users' records and the crowd)", need, least)
	}
}

// TestModelMemoryParallelism: the most designs at once that fit a budget.
func TestModelMemoryParallelism(t *testing.T) {
	t.Parallel()
	m := ModelMemory{Shared: 10, Designs: []int64{100, 300, 200}}
	for _, c := range []struct {
		want   int
		budget int64
		need   int64 // Need(want)
		p      int
	}{
		{3, 1000, 610, 3},
		{3, 609, 610, 2},
		{3, 510, 610, 2},
		{3, 509, 610, 1},
		{3, 310, 610, 1},
		{3, 309, 610, 0},
		{1, 1000, 310, 1},
		{8, 1000, 610, 3},
		{0, 1000, 310, 1},
	} {
		if got := m.Need(c.want); got != c.need {
			t.Errorf("Need(%d) = %d; want %d", c.want, got, c.need)
		}
		if got := m.Parallelism(c.want, c.budget); got != c.p {
			t.Errorf("Parallelism(%d, %d) = %d; want %d", c.want, c.budget, got, c.p)
		}
	}
}

// TestModelMemoryConstants keeps the constants that stand for types or
// histograms in step with them.
func TestModelMemoryConstants(t *testing.T) {
	t.Parallel()
	var h secHist
	h.record(int64(100 * time.Millisecond / time.Microsecond))
	sec := int64(len(h))*int64(unsafe.Sizeof(h[0])) + int64(unsafe.Sizeof(second{})) + int64(unsafe.Sizeof(results.TimelinePoint{}))
	if sec > modelSecondBytes || float64(sec) < 0.95*modelSecondBytes {
		t.Errorf("a second's histogram, counters and timeline point take %d B; modelSecondBytes = %d", sec, modelSecondBytes)
	}
	if s := int64(unsafe.Sizeof(mslot{}) + unsafe.Sizeof(SlotView{}) + unsafe.Sizeof(models.Slot{})); s > modelSlotBytes {
		t.Errorf("a slot's records take %d B; modelSlotBytes = %d", s, modelSlotBytes)
	}
	if s := int64(unsafe.Sizeof(mpart{}) + unsafe.Sizeof(models.Partition{})); s > modelPartitionBytes {
		t.Errorf("a partition's records take %d B; modelPartitionBytes = %d", s, modelPartitionBytes)
	}
}
