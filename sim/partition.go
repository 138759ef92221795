package sim

import (
	"slices"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// Answer classes of a booking request by partition (results.PartitionCounts).
const (
	pcOK uint8 = iota
	pcConflict
	pcThrottled
	pcOverloaded
	pcNotOpen
	pcServerErr
	pcTransport
	pcUnexpected
)

// partClass returns the class of resp to a booking request, by the rules
// second.add counts the timeline with, a 503 not_open apart.
func partClass(resp *Response) uint8 {
	switch k := resp.Classify(); k {
	case KindTransport:
		return pcTransport
	case KindOK:
		if resp.Err != nil && resp.Status != 0 {
			return pcUnexpected // an unreadable success
		}
		return pcOK
	case KindSoldOut, KindAlreadyBooked:
		return pcConflict
	case KindThrottled:
		return pcThrottled
	case KindOverloaded:
		if resp.Code == codeNotOpen {
			return pcNotOpen
		}
		return pcOverloaded
	case KindServerError:
		return pcServerErr
	}
	return pcUnexpected
}

// codeNotOpen is the error code of a booking made before the opening
// (API v1: 503 not_open).
const codeNotOpen = "not_open"

// A partition sample packs one booking request: the second it completed in
// (bits 36 and up), its class (bits 32-35) and its latency in µs (bits
// 0-31: at most results.HistMaxMicros, under 2^32).
const (
	sampleSecShift   = 36
	sampleClassShift = 32
	sampleUsMask     = 1<<32 - 1
)

func packSample(sec int, class uint8, us int64) uint64 {
	return uint64(sec)<<sampleSecShift | uint64(class)<<sampleClassShift | uint64(us)&sampleUsMask
}

func unpackSample(s uint64) (sec int, class uint8, us int64) {
	return int(s >> sampleSecShift), uint8(s>>sampleClassShift) & 0xf, int64(s & sampleUsMask)
}

// partTally keeps the booking requests of each partition of a run, by
// partition index: a packed sample each, but answers not_open, which
// carry no latency worth keeping and can be most of a late opening's
// requests, only as a count per second.
type partTally struct {
	samples [][]uint64
	notOpen [][]int32
	// unattributed counts booking requests that named no slot of the
	// inventory.
	unattributed int64
}

func newPartTally(parts int) partTally {
	return partTally{samples: make([][]uint64, parts), notOpen: make([][]int32, parts)}
}

// add counts one booking request to partition p (-1: none) of class c,
// completed in second sec after us µs.
func (t *partTally) add(p int32, sec int, c uint8, us int64) {
	switch {
	case p < 0 || int(p) >= len(t.samples):
		t.unattributed++
	case c == pcNotOpen:
		if no := t.notOpen[p]; sec >= len(no) {
			t.notOpen[p] = slices.Grow(no, sec+1-len(no))[:sec+1]
		}
		t.notOpen[p][sec]++
	default:
		t.samples[p] = append(t.samples[p], packSample(sec, c, us))
	}
}

// countClass adds n answers of class c to counts.
func countClass(counts *results.PartitionCounts, c uint8, n int64) {
	counts.Requests += n
	switch c {
	case pcOK:
		counts.OK += n
	case pcConflict:
		counts.Conflict += n
	case pcThrottled:
		counts.Throttled += n
	case pcOverloaded:
		counts.Overloaded += n
	case pcNotOpen:
		counts.NotOpen += n
	case pcServerErr:
		counts.ServerErr += n
	case pcTransport:
		counts.Transport += n
	default:
		counts.Unexpected += n
	}
}

// build returns the per-partition results of the tally, whose partition i
// is called keys[i], for a run whose t_s 0 is the Unix second startUnix,
// keeping the series of the keep hottest. It sorts the samples in place.
func (t *partTally) build(keys []string, startUnix int64, keep int) (*results.PartitionResults, error) {
	in := make([]results.PartitionInput, 0, len(keys))
	var scratch []int64
	for i, key := range keys {
		if len(t.samples[i]) == 0 && len(t.notOpen[i]) == 0 {
			continue
		}
		var secs []results.PartitionSecond
		secs, scratch = partitionSeconds(t.samples[i], t.notOpen[i], scratch)
		in = append(in, results.PartitionInput{Key: key, Seconds: secs})
	}
	return results.NewPartitionResults(startUnix, keep, t.unattributed, in)
}

// partitionSeconds returns the seconds of one partition's samples and
// not_open counts by second; scratch is a buffer it may reuse, returned
// for the next call. It sorts samples in place.
func partitionSeconds(samples []uint64, notOpen []int32, scratch []int64) ([]results.PartitionSecond, []int64) {
	slices.Sort(samples) // by second, then class, then latency
	n, last := 0, -1
	for _, s := range samples {
		if sec, _, _ := unpackSample(s); sec != last {
			n, last = n+1, sec
		}
	}
	for _, c := range notOpen {
		if c > 0 {
			n++
		}
	}
	out := make([]results.PartitionSecond, 0, n)
	j := 0 // next second of notOpen to look at
	flushNotOpen := func(before int) {
		for ; j < len(notOpen) && j < before; j++ {
			if n := int64(notOpen[j]); n > 0 {
				out = append(out, results.PartitionSecond{TS: j, PartitionCounts: results.PartitionCounts{Requests: n, NotOpen: n}})
			}
		}
	}
	for lo := 0; lo < len(samples); {
		sec, _, _ := unpackSample(samples[lo])
		flushNotOpen(sec)
		s := results.PartitionSecond{TS: sec}
		if j == sec && j < len(notOpen) {
			countClass(&s.PartitionCounts, pcNotOpen, int64(notOpen[j]))
			j++
		}
		scratch = scratch[:0]
		hi := lo
		for ; hi < len(samples); hi++ {
			ssec, c, us := unpackSample(samples[hi])
			if ssec != sec {
				break
			}
			countClass(&s.PartitionCounts, c, 1)
			scratch = append(scratch, results.LatencyBinFrom(us))
		}
		slices.Sort(scratch)
		bins := 0
		for k := range scratch {
			if k == 0 || scratch[k] != scratch[k-1] {
				bins++
			}
		}
		s.Latency = make([]results.LatencyBin, 0, bins)
		for k := 0; k < len(scratch); {
			m := k
			for m < len(scratch) && scratch[m] == scratch[k] {
				m++
			}
			s.Latency = append(s.Latency, results.LatencyBin{From: scratch[k], Count: int64(m - k)})
			k = m
		}
		out = append(out, s)
		lo = hi
	}
	flushNotOpen(len(notOpen))
	return out, scratch
}

// partitionResults returns the results by partition of what r recorded:
// the model's, handed over with its partitions; a live run's, attributed
// to partitions by the scheme of a (models.Design.Key) when the design is
// known or stated, else nil. Nil too when no booking was recorded. Call
// after every recording goroutine has ended.
func (r *Recorder) partitionResults(a results.Assumptions) (*results.PartitionResults, error) {
	if r.parts != nil {
		return r.parts.build(r.partKeys, r.start.Unix(), results.DefaultKeptPartitions)
	}
	if a.Source == results.SourceUnstated || !slices.Contains(models.Schemes, a.Scheme) {
		return nil, nil
	}
	d := models.Design{Scheme: a.Scheme}
	var t partTally
	var keys []string
	idx := map[models.PartitionKey]int32{}
	for i := range r.shards {
		s := &r.shards[i]
		t.unattributed += s.unattributed
		for _, b := range s.books {
			k := d.Key(s.slots[b.slot])
			p, ok := idx[k]
			if !ok {
				p = int32(len(keys))
				idx[k] = p
				keys = append(keys, string(k))
				t.samples = append(t.samples, nil)
				t.notOpen = append(t.notOpen, nil)
			}
			sec, c, us := unpackSample(b.sample)
			t.add(p, sec, c, us)
		}
	}
	if len(keys) == 0 && t.unattributed == 0 {
		return nil, nil
	}
	return t.build(keys, r.start.Unix(), results.DefaultKeptPartitions)
}
