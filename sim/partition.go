package sim

import (
	"math/bits"
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

// A tally entry counts booking requests of one partition that completed in
// the same second (bits 36 and up), of the same class (bits 32-35) and in
// the same latency bin (bits 20-31: tallyBin), n of them (bits 0-19, at
// most tallyMaxCount; more are several entries of the same key).
const (
	tallyKeyShift   = 20
	tallyBinMask    = 1<<12 - 1
	tallyMaxCount   = 1<<tallyKeyShift - 1
	tallyMinCompact = 64 // below this capacity an entry list only grows
)

// tallyBin returns the index of the latency bin holding us (clamped to
// results.HistMinMicros..HistMaxMicros), increasing with
// results.LatencyBinFrom: the bin's counts index in a 2-significant-digit
// HdrHistogram from 1 µs (at most 3,327).
func tallyBin(us int64) uint64 {
	us = min(max(us, results.HistMinMicros), results.HistMaxMicros)
	shift := bits.Len64(uint64(us)|(1<<8-1)) - 8
	return uint64(shift)<<7 + uint64(us)>>shift
}

// tallyBinFrom returns results.LatencyBinFrom of the values of bin i
// (tallyBin).
func tallyBinFrom(i uint64) int64 {
	shift := max(int(i>>7)-1, 0)
	return int64(i-uint64(shift)<<7) << shift
}

// partTally keeps the booking requests of each partition of a run, by
// partition index: counted by second, class and latency bin (a tally entry
// each), but answers not_open, which carry no latency worth keeping and can
// be most of a late opening's requests, only as a count per second. Each
// partition's entries are a sorted prefix with one entry a key (merged[p]
// long) and, after it, entries of one request each as they came; when the
// list is full, compact sorts those into the prefix, so that a partition's
// memory grows with the distinct keys, not with its requests.
type partTally struct {
	entries [][]uint64
	merged  []int
	notOpen [][]int32
	// unattributed counts booking requests that named no slot of the
	// inventory.
	unattributed int64
	scratch      []uint64 // compact's buffer
}

func newPartTally(parts int) partTally {
	return partTally{entries: make([][]uint64, parts), merged: make([]int, parts), notOpen: make([][]int32, parts)}
}

// grow adds an empty partition to the tally and returns its index.
func (t *partTally) grow() int32 {
	t.entries = append(t.entries, nil)
	t.merged = append(t.merged, 0)
	t.notOpen = append(t.notOpen, nil)
	return int32(len(t.entries) - 1)
}

// add counts one booking request to partition p (-1: none) of class c,
// completed in second sec after us µs.
func (t *partTally) add(p int32, sec int, c uint8, us int64) {
	switch {
	case p < 0 || int(p) >= len(t.entries):
		t.unattributed++
	case c == pcNotOpen:
		if no := t.notOpen[p]; sec >= len(no) {
			t.notOpen[p] = slices.Grow(no, sec+1-len(no))[:sec+1]
		}
		t.notOpen[p][sec]++
	default:
		e := t.entries[p]
		if len(e) == cap(e) && cap(e) >= tallyMinCompact {
			t.compact(p)
			e = t.entries[p]
		}
		key := uint64(sec)<<(sampleSecShift-tallyKeyShift) | uint64(c)<<(sampleClassShift-tallyKeyShift) | tallyBin(us)
		t.entries[p] = append(e, key<<tallyKeyShift|1)
	}
}

// compact sorts partition p's entries into one a key (a few more when
// counts overflow), and makes room for as many new ones as there are
// entries left, at least.
func (t *partTally) compact(p int32) {
	e, k := t.entries[p], t.merged[p]
	tail := combineRuns(e[k:])
	t.scratch = append(t.scratch[:0], tail...)
	b := t.scratch
	// Merge e[:k] and b from the back into e: the write position stays
	// above the unread part of e[:k].
	end := k + len(b)
	w, i, j := end, k, len(b)
	for i > 0 || j > 0 {
		var v uint64
		if j == 0 || (i > 0 && e[i-1]>>tallyKeyShift > b[j-1]>>tallyKeyShift) {
			i--
			v = e[i]
		} else {
			j--
			v = b[j]
		}
		if w < end && e[w]>>tallyKeyShift == v>>tallyKeyShift && e[w]&tallyMaxCount+v&tallyMaxCount <= tallyMaxCount {
			e[w] += v & tallyMaxCount
			continue
		}
		w--
		e[w] = v
	}
	n := copy(e, e[w:end])
	if n > cap(e)/2 {
		e = append(make([]uint64, 0, 2*cap(e)), e[:n]...)
	}
	t.entries[p], t.merged[p] = e[:n], n
}

// combineRuns sorts e and adds up the counts of entries of one key, in
// place, and returns the entries left.
func combineRuns(e []uint64) []uint64 {
	slices.Sort(e)
	n := 0
	for _, v := range e {
		if n > 0 && e[n-1]>>tallyKeyShift == v>>tallyKeyShift && e[n-1]&tallyMaxCount+v&tallyMaxCount <= tallyMaxCount {
			e[n-1] += v & tallyMaxCount
			continue
		}
		e[n] = v
		n++
	}
	return e[:n]
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
// keeping the series of the keep hottest. It compacts the entries in place.
func (t *partTally) build(keys []string, startUnix int64, keep int) (*results.PartitionResults, error) {
	in := make([]results.PartitionInput, 0, len(keys))
	var scratch []uint64
	for i, key := range keys {
		if len(t.entries[i]) == 0 && len(t.notOpen[i]) == 0 {
			continue
		}
		if t.merged[i] < len(t.entries[i]) {
			t.compact(int32(i))
		}
		var secs []results.PartitionSecond
		secs, scratch = partitionSeconds(t.entries[i], t.notOpen[i], scratch)
		in = append(in, results.PartitionInput{Key: key, Seconds: secs})
	}
	return results.NewPartitionResults(startUnix, keep, t.unattributed, in)
}

// entryKey unpacks the key of tally entry e: its second, class and latency
// bin, and its count.
func entryKey(e uint64) (sec int, class uint8, bin uint64, n int64) {
	return int(e >> sampleSecShift), uint8(e>>sampleClassShift) & 0xf, e >> tallyKeyShift & tallyBinMask, int64(e & tallyMaxCount)
}

// partitionSeconds returns the seconds of one partition's tally entries
// (sorted, compact) and not_open counts by second; scratch is a buffer it
// may reuse, returned for the next call.
func partitionSeconds(entries []uint64, notOpen []int32, scratch []uint64) ([]results.PartitionSecond, []uint64) {
	n, last := 0, -1
	for _, e := range entries {
		if sec := int(e >> sampleSecShift); sec != last {
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
	for lo := 0; lo < len(entries); {
		sec := int(entries[lo] >> sampleSecShift)
		flushNotOpen(sec)
		s := results.PartitionSecond{TS: sec}
		if j == sec && j < len(notOpen) {
			countClass(&s.PartitionCounts, pcNotOpen, int64(notOpen[j]))
			j++
		}
		scratch = scratch[:0]
		hi := lo
		for ; hi < len(entries) && int(entries[hi]>>sampleSecShift) == sec; hi++ {
			_, c, bin, cnt := entryKey(entries[hi])
			countClass(&s.PartitionCounts, c, cnt)
			scratch = append(scratch, bin<<tallyKeyShift|uint64(cnt))
		}
		s.Latency = latencyBins(scratch)
		out = append(out, s)
		lo = hi
	}
	flushNotOpen(len(notOpen))
	return out, scratch
}

// latencyBins returns the bins of bc, a latency bin (tallyBin) and a count
// in each element (bits 20 and up, 0-19), by increasing bin. It sorts bc.
func latencyBins(bc []uint64) []results.LatencyBin {
	slices.Sort(bc)
	bins := 0
	for k := range bc {
		if k == 0 || bc[k]>>tallyKeyShift != bc[k-1]>>tallyKeyShift {
			bins++
		}
	}
	lat := make([]results.LatencyBin, 0, bins)
	for k := 0; k < len(bc); {
		bin, m := bc[k]>>tallyKeyShift, k
		var cnt int64
		for ; m < len(bc) && bc[m]>>tallyKeyShift == bin; m++ {
			cnt += int64(bc[m] & tallyMaxCount)
		}
		lat = append(lat, results.LatencyBin{From: tallyBinFrom(bin), Count: cnt})
		k = m
	}
	return lat
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
				t.grow()
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
