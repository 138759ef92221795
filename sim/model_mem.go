package sim

import (
	"slices"
	"time"
	"unsafe"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

// The memory a model run keeps live, in bytes, by what it is made of. The
// constants not derived from the size of a type were calibrated with
// runtime.ReadMemStats (heap in use after a collection) around building and
// running the model of each preset's designs scaled to 100,000 users, and of
// the 26 May 2021 preset at full scale (TestModelMemoryEstimate checks the
// estimate against such runs); each is rounded up from what was measured.
const (
	// modelUserBytes is a user's record in a run: its muser, with the
	// journey inside, and its entry in the recorder.
	modelUserBytes = int64(unsafe.Sizeof(muser{}) + unsafe.Sizeof(userRecord{}))
	// modelEventBytes is the event calendar's share of a user: the events
	// pending for it and the bucket arrays the wheel keeps after a peak
	// (four events' worth).
	modelEventBytes = 4 * int64(unsafe.Sizeof(desEvent{}))
	// modelRoomEventBytes replaces modelEventBytes in front of a waiting
	// room, whose admission rounds wake the people waiting all at once: the
	// calendar keeps the arrays of those big buckets, and the room's queue
	// an entry per time a person queues (thirty-two events' worth since
	// the two-level wheel reuses its blocks; rooms per centre alike).
	modelRoomEventBytes = 32 * int64(unsafe.Sizeof(desEvent{}))
	// modelBookingBytes is a booking: its id ("m", the partition, the
	// person) and the id's entries in the tally's, the recorder's and the
	// sorted list of ids.
	modelBookingBytes = 48
	// modelSecondBytes is a second of virtual time: the latency histogram
	// of the requests answered in it (a secHist, 4 bytes a bin up to the
	// highest bin used: 1,360 bins for latencies up to 100 ms), its
	// counters and the timeline point it becomes. A second in which a
	// request times out reaches the bins of its timeout (2,208 for 10 s, at
	// most 3,287: 13.4 KB in all); the estimate takes the common case,
	// since an overloaded run's seconds are few beside a long run's quiet
	// ones.
	modelSecondBytes = 5_650
	// modelSlotBytes is a slot in a run: its mslot, its list_slots view,
	// its index entries, and its copy in the design's list of partitions
	// the run is built from.
	modelSlotBytes = 256
	// modelPartitionBytes is a partition: its mpart, its key and its entry
	// in the design's list of partitions.
	modelPartitionBytes = 448
	// modelWheelBytes is the calendar's wheel: a list head and a bit per
	// coarse bucket.
	modelWheelBytes = calSize*int64(unsafe.Sizeof(desChunkList{})) + calSize/8
	// modelSpareBytes is the chunks the calendar holds beyond its events:
	// one partly filled chunk per coarse bucket holding events, counted for
	// an eighth of the wheel (17 s of events ahead; the whole wheel, for a
	// run that keeps events 137 s ahead all along, is 8 MB).
	modelSpareBytes = calSize / 8 * int64(unsafe.Sizeof(desChunk{}))
	// modelArrivalBytes is a user of the crowd, which every design shares:
	// its Arrival and the bytes of its person id.
	modelArrivalBytes = int64(unsafe.Sizeof(scenarios.Arrival{})) + 16
	// modelInventorySlotBytes is a slot of the inventory every design shares.
	modelInventorySlotBytes = int64(unsafe.Sizeof(models.Slot{}))
)

// ModelMemory is an estimate of the heap a simulation keeps live at its
// peak, in bytes, made from the scenario alone (EstimateModelMemory). It is
// meant to err high, by up to about half of what a run really keeps.
type ModelMemory struct {
	// Shared is what every design shares: the crowd and the inventory.
	Shared int64
	// Designs is each design's run, in the order of the designs given.
	Designs []int64
}

// Need returns the estimate when parallel designs run at once: Shared and
// the parallel biggest designs (parallel below 1 counts as 1).
func (m ModelMemory) Need(parallel int) int64 {
	d := slices.Clone(m.Designs)
	slices.Sort(d)
	slices.Reverse(d)
	need := m.Shared
	for _, b := range d[:min(max(parallel, 1), len(d))] {
		need += b
	}
	return need
}

// Parallelism returns how many designs to run at once, at most want
// (below 1: 1), so that Need stays within budget: the most that fit, or 0
// when not even one does.
func (m ModelMemory) Parallelism(want int, budget int64) int {
	for p := min(max(want, 1), max(len(m.Designs), 1)); p > 0; p-- {
		if m.Need(p) <= budget {
			return p
		}
	}
	return 0
}

// EstimateModelMemory estimates the heap that simulating designs under sc
// (valid, with defaults, scaled as it will run) keeps live, before anything
// is built: it allocates nothing but the result. It counts, per design, the
// users' records with their journeys, the event calendar, the bookings,
// the latency histogram of each second of the scenario's duration, the
// slots and the partitions; shared by the designs, the crowd and the
// inventory. Safe for concurrent use.
func EstimateModelMemory(sc *scenarios.Scenario, designs []models.Design) ModelMemory {
	users := int64(max(sc.Crowd.Size, 0))
	ppvs, days := int64(sc.NumPPVs()), int64(max(sc.Inventory.Days, 0))
	slots := ppvs * days
	seconds := int64(sc.Duration/time.Second) + 2
	bookings := min(users, int64(max(sc.TotalCapacity(), 0)))
	m := ModelMemory{
		Shared:  users*modelArrivalBytes + slots*modelInventorySlotBytes,
		Designs: make([]int64, len(designs)),
	}
	for i, d := range designs {
		parts := int64(1)
		switch d.Scheme {
		case models.PerPPV:
			parts = ppvs
		case models.PerPPVDay:
			parts = slots
		}
		perUser := modelUserBytes + modelEventBytes
		if d.WaitingRoom && d.Room.MaxWait <= 0 {
			// A room with max_wait keeps its queue short: no big buckets.
			perUser = modelUserBytes + modelRoomEventBytes
		}
		m.Designs[i] = users*perUser + bookings*modelBookingBytes + seconds*modelSecondBytes +
			slots*modelSlotBytes + parts*modelPartitionBytes + modelWheelBytes + modelSpareBytes
	}
	return m
}
