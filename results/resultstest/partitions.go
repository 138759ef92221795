package resultstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// WithPartitions adds invented bookings by partition to every design of
// r (a SyntheticResult) whose scheme is known, and returns r. Each
// second's bookings (its 201s and 409s, and the share of its refusals
// that its book histogram implies) go to partitions of skewed popularity:
// the busiest draw most bookings and, much more, most refusals, so that a
// partitioned design keeps its overload in a few partitions while the
// monolithic one refuses everyone. It is built deterministically from
// seed, and r still passes Check. Not safe for concurrent use on one r.
func WithPartitions(r *results.Result, seed int64) *results.Result {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9a27))
	for i := range r.Designs {
		d := &r.Designs[i]
		if p := syntheticPartitions(rng, d, r.StartedAt); p != nil {
			d.ByPartition = p
		}
	}
	return r
}

// syntheticKeys returns the keys of the n partitions of scheme over
// centres of 3 days each (per-ppv-day), n centres (per-ppv) or one.
func syntheticKeys(scheme models.Scheme, n int) []string {
	d := models.Design{Scheme: scheme}
	first := models.Date{Year: 2021, Month: time.June, Day: 7}
	var keys []string
	for i := range n {
		slot := models.SlotKey{PPV: fmt.Sprintf("centre-%02d", i+1), Date: first}
		if scheme == models.PerPPVDay {
			slot = models.SlotKey{PPV: fmt.Sprintf("centre-%02d", i/3+1), Date: first.AddDays(i % 3)}
		}
		keys = append(keys, string(d.Key(slot)))
		if scheme == models.Monolithic {
			break
		}
	}
	return keys
}

// syntheticPartitions invents d's bookings by partition; nil when its
// scheme is not known.
func syntheticPartitions(rng *rand.Rand, d *results.DesignResult, start time.Time) *results.PartitionResults {
	// SyntheticResult names the scheme of a design with a waiting room
	// after the design.
	scheme := models.Scheme(strings.TrimSuffix(string(d.Assumptions.Scheme), models.WaitingRoomSuffix))
	switch scheme {
	case models.Monolithic, models.PerPPV, models.PerPPVDay:
	default:
		return nil
	}
	keys := syntheticKeys(scheme, max(d.Assumptions.Partitions, 1))
	// The refusals of book: what its histogram counts beyond the 201s and
	// 409s, as a share of all refusals.
	var decided, refused int64
	for _, p := range d.Timeline {
		decided += p.Booked + p.Conflict
		refused += p.Throttled + p.ServerErr + p.Transport
	}
	bookErr := d.LatencyMs[results.OpBook].Count - decided
	share := 0.0
	if refused > 0 {
		share = math.Max(float64(bookErr), 0) / float64(refused)
	}
	busy, hot := make([]float64, len(keys)), make([]float64, len(keys))
	for i := range keys {
		busy[i] = math.Pow(float64(i+1), -1.1)
		hot[i] = busy[i] * busy[i] * busy[i]
	}
	secs := make([][]results.PartitionSecond, len(keys))
	var attributed int64
	for _, p := range d.Timeline {
		ok, conflict := spread(p.Booked, busy), spread(p.Conflict, busy)
		throttled := spread(int64(share*float64(p.Throttled)), hot)
		overloaded := spread(int64(share*float64(p.ServerErr)), hot)
		transport := spread(int64(share*float64(p.Transport)), hot)
		for k := range keys {
			c := results.PartitionCounts{OK: ok[k], Conflict: conflict[k], Throttled: throttled[k], Overloaded: overloaded[k], Transport: transport[k]}
			c.Requests = c.OK + c.Conflict + c.Throttled + c.Overloaded + c.Transport
			if c.Requests == 0 {
				continue
			}
			attributed += c.Requests
			s := results.PartitionSecond{TS: p.TS, PartitionCounts: c}
			s.Latency = syntheticBins(rng, d.LatencyMs[results.OpBook].P50, c)
			secs[k] = append(secs[k], s)
		}
	}
	in := make([]results.PartitionInput, len(keys))
	for k, key := range keys {
		in[k] = results.PartitionInput{Key: key, Seconds: secs[k]}
	}
	out, err := results.NewPartitionResults(start.Unix(), results.DefaultKeptPartitions, max(d.LatencyMs[results.OpBook].Count-attributed, 0), in)
	if err != nil {
		panic(fmt.Sprintf("resultstest: invented partitions do not add up: %v", err)) // a bug here
	}
	return out
}

// syntheticBins draws a latency for each booking counted in c: around
// medianMs for the answered ones, the door's 1.5 ms for a 429, a
// second's wait for a 503, the client's 10 s for a timeout.
func syntheticBins(rng *rand.Rand, medianMs float64, c results.PartitionCounts) []results.LatencyBin {
	var bins []results.LatencyBin
	add := func(n int64, ms, sigma float64) {
		for range n {
			us := int64(math.Max(lognorm(rng, ms, sigma), 0.001) * 1000)
			bins = results.AddBins(bins, []results.LatencyBin{{From: results.LatencyBinFrom(us), Count: 1}})
		}
	}
	add(c.OK+c.Conflict, math.Max(medianMs, 1), 0.6)
	add(c.Throttled, 1.5, 0.4)
	add(c.Overloaded, 1200, 0.3)
	add(c.Transport, 10000, 0.001)
	return bins
}
