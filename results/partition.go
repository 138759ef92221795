package results

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
)

// Per-partition results: what each partition of a design was asked and how
// it answered, second by second, so that a report can show whether one
// partition's overload reached the others (isolation).
//
// The engines attribute booking requests only: each names one slot, which
// the design's key function (models.Design.Key) puts in one partition. A
// listing of a PPV's slots is left out: under per-ppv-day it reads every
// partition of the PPV, and whether it was refused says nothing of which
// one refused. Answers not_open (the booking was made before the opening;
// no partition was asked) are counted apart and are neither refused nor
// served.

// DefaultKeptPartitions is how many partitions, the hottest by booking
// requests, keep their own series in a result; the others are summed into
// one series. Every partition keeps its totals.
const DefaultKeptPartitions = 40

// AvailablePercent is when a partition counts as available in a second:
// it answered at least this percentage of the bookings it was asked to
// decide in that second without refusing them (429, 5xx, a timeout or a
// network error). Only seconds in which it was asked count.
const AvailablePercent = 99

// AttributionBook says how the engines attribute requests to partitions
// (PartitionResults.Attribution).
const AttributionBook = "booking requests, each to the partition of the slot it names (the design's key function); " +
	"listings and the other requests are not attributed"

// PartitionResults is a design's booking requests by partition: totals for
// every partition that was asked at least once, and a series of seconds
// for the hottest Keep of them (by requests) plus one for all the others.
// The seconds and the latency bins in them add exactly, so results of
// segments merge (see Merge). It is plain data.
type PartitionResults struct {
	// Attribution says which requests are counted and how they were
	// attributed: AttributionBook.
	Attribution string `json:"attribution"`
	// StartUnix is the Unix second of t_s 0 in the series: the start of
	// the run, as for the timeline.
	StartUnix int64 `json:"start_unix"`
	// Keep is the most series the result keeps (DefaultKeptPartitions).
	Keep int `json:"keep"`
	// Unattributed counts booking requests that named no slot of the
	// inventory (or no PPV and date), in no partition.
	Unattributed int64 `json:"unattributed,omitempty"`
	// Totals holds every partition asked at least once, sorted by key.
	Totals []PartitionTotals `json:"totals"`
	// Series holds the kept partitions, the most requests first (ties by
	// key): the record of which were kept.
	Series []PartitionSeries `json:"series"`
	// Others sums the seconds of every request not in Series; nil when
	// there is none.
	Others *PartitionSeries `json:"others,omitempty"`
}

// PartitionCounts counts booking requests by answer. Requests is the sum
// of the others.
type PartitionCounts struct {
	Requests int64 `json:"requests"`
	// OK counts 2xx answers, Conflict 409 (sold out, already booked),
	// Throttled 429, Overloaded 503 but not_open, NotOpen 503 not_open
	// (before the opening: no partition was asked), ServerErr the other
	// 5xx, Transport timeouts and network errors, Unexpected the answers
	// outside the API (Requests.Unexpected).
	OK         int64 `json:"ok"`
	Conflict   int64 `json:"conflict,omitempty"`
	Throttled  int64 `json:"throttled,omitempty"`
	Overloaded int64 `json:"overloaded,omitempty"`
	NotOpen    int64 `json:"not_open,omitempty"`
	ServerErr  int64 `json:"server_errors,omitempty"`
	Transport  int64 `json:"transport_errors,omitempty"`
	Unexpected int64 `json:"unexpected,omitempty"`
}

// PartitionTotals is one partition's counts over the run.
type PartitionTotals struct {
	Key string `json:"key"`
	PartitionCounts
	// Availability is computed from the partition's seconds; nil when a
	// merge could not (the partition had no series in some part).
	Availability *PartitionAvailability `json:"availability,omitempty"`
}

// PartitionAvailability sums up a partition's seconds.
type PartitionAvailability struct {
	// Seconds counts the seconds in which the partition was asked to
	// decide at least one booking (Decided > 0); Available those of them
	// in which it refused at most 100-AvailablePercent percent.
	Seconds   int64 `json:"seconds"`
	Available int64 `json:"available"`
	// PeakRefused is the highest share (0 to 1) of one second's decided
	// bookings that the partition refused, first reached at t_s PeakTS.
	PeakRefused float64 `json:"peak_refused"`
	PeakTS      int     `json:"peak_t_s"`
}

// PartitionSeries is the seconds of one kept partition (Key), or of all
// the others (Key empty, Partitions of them).
type PartitionSeries struct {
	Key        string `json:"key,omitempty"`
	Partitions int    `json:"partitions,omitempty"`
	// Partial is set on a merged series whose partition was not kept in
	// every part: the parts that did not keep it counted it in Others.
	Partial bool `json:"partial,omitempty"`
	// P99Ms is the p99 of the series' booking latencies (not_open aside),
	// from its seconds' bins.
	P99Ms float64 `json:"p99_ms"`
	// Seconds is the encoded []PartitionSecond (EncodePartitionSeconds).
	Seconds string `json:"seconds"`
}

// PartitionSecond is one second of a series: the requests that completed
// in second TS of the run, and their latencies.
type PartitionSecond struct {
	TS int
	PartitionCounts
	// Latency holds the second's booking latencies but not_open (Decided
	// of them) in bins, by increasing From.
	Latency []LatencyBin
}

// LatencyBin counts the latencies of one bucket of an HdrHistogram of 1 µs
// to 1 h with 2 significant digits (the precision of the timeline's
// percentiles): From is the bucket's lowest value (µs), LatencyBinFrom.
type LatencyBin struct {
	From, Count int64
}

// latencyBinBits: a 2-significant-digit HdrHistogram has 256 sub-buckets
// a bucket (unit 1 µs), so a value's bucket is its top 8 bits.
const latencyBinBits = 8

// LatencyBinFrom returns the lowest value of the bin holding us (clamped to
// HistMinMicros..HistMaxMicros), as a 2-digit HdrHistogram buckets it.
func LatencyBinFrom(us int64) int64 {
	us = min(max(us, HistMinMicros), HistMaxMicros)
	shift := bits.Len64(uint64(us)|(1<<latencyBinBits-1)) - latencyBinBits
	return us >> shift << shift
}

// LatencyBinTo returns the highest value of the bin whose lowest is from.
func LatencyBinTo(from int64) int64 {
	shift := bits.Len64(uint64(from)|(1<<latencyBinBits-1)) - latencyBinBits
	return from + 1<<shift - 1
}

// BinsQuantile returns the value at percentile q (0 to 100) of bins as
// ValueAtQuantile defines it (the highest value of the bin reaching the
// ceiling of the rank); 0 for no values.
func BinsQuantile(bins []LatencyBin, q float64) int64 {
	var total int64
	for _, b := range bins {
		total += b.Count
	}
	if total == 0 {
		return 0
	}
	want := countAtQuantile(min(max(q, 0), 100), total)
	var seen int64
	for _, b := range bins {
		if seen += b.Count; seen >= want {
			return LatencyBinTo(b.From)
		}
	}
	return LatencyBinTo(bins[len(bins)-1].From)
}

// AddBins returns the bins of a and b added, in order. Both must be in
// order of From.
func AddBins(a, b []LatencyBin) []LatencyBin {
	out := make([]LatencyBin, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].From < b[j].From):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j].From < a[i].From:
			out = append(out, b[j])
			j++
		default:
			out = append(out, LatencyBin{From: a[i].From, Count: a[i].Count + b[j].Count})
			i, j = i+1, j+1
		}
	}
	return out
}

// Add adds o to c.
func (c *PartitionCounts) Add(o PartitionCounts) {
	c.Requests += o.Requests
	c.OK += o.OK
	c.Conflict += o.Conflict
	c.Throttled += o.Throttled
	c.Overloaded += o.Overloaded
	c.NotOpen += o.NotOpen
	c.ServerErr += o.ServerErr
	c.Transport += o.Transport
	c.Unexpected += o.Unexpected
}

// answers returns the counts by answer, in the order of the encoding.
func (c *PartitionCounts) answers() [8]*int64 {
	return [8]*int64{&c.OK, &c.Conflict, &c.Throttled, &c.Overloaded, &c.NotOpen, &c.ServerErr, &c.Transport, &c.Unexpected}
}

// sumAnswers returns the sum of the counts by answer (Requests when c is
// consistent).
func (c PartitionCounts) sumAnswers() int64 {
	var n int64
	for _, p := range c.answers() {
		n += *p
	}
	return n
}

// Refused counts the bookings refused: 429, 503 (not_open aside), other
// 5xx, timeouts and network errors.
func (c PartitionCounts) Refused() int64 {
	return c.Throttled + c.Overloaded + c.ServerErr + c.Transport
}

// Decided counts the bookings the partition was asked to decide: every
// request but those answered not_open.
func (c PartitionCounts) Decided() int64 { return c.Requests - c.NotOpen }

// RefusedShare returns Refused / Decided, 0 when none was decided.
func (c PartitionCounts) RefusedShare() float64 {
	if d := c.Decided(); d > 0 {
		return float64(c.Refused()) / float64(d)
	}
	return 0
}

// Available reports whether, in a second with counts c, the partition
// answered at least AvailablePercent percent of its decided bookings
// without refusing them. False when it decided none.
func (c PartitionCounts) Available() bool {
	d := c.Decided()
	return d > 0 && c.Refused()*100 <= d*(100-AvailablePercent)
}

// AvailabilityOf sums up secs (in order of TS).
func AvailabilityOf(secs []PartitionSecond) PartitionAvailability {
	var a PartitionAvailability
	for i := range secs {
		c := secs[i].PartitionCounts
		if c.Decided() <= 0 {
			continue
		}
		a.Seconds++
		if c.Available() {
			a.Available++
		}
		if s := c.RefusedShare(); s > a.PeakRefused {
			a.PeakRefused, a.PeakTS = s, secs[i].TS
		}
	}
	return a
}

// SumSeconds returns the counts of secs added, and their latency bins.
func SumSeconds(secs []PartitionSecond) (PartitionCounts, []LatencyBin) {
	var c PartitionCounts
	var dense [latencyBinCount]int64
	for i := range secs {
		c.Add(secs[i].PartitionCounts)
		for _, b := range secs[i].Latency {
			dense[latencyBinIndex(b.From)] += b.Count
		}
	}
	var bins []LatencyBin
	for i, n := range dense {
		if n > 0 {
			bins = append(bins, LatencyBin{From: latencyBinOf(i), Count: n})
		}
	}
	return c, bins
}

// latencyBinCount is the number of bins from 1 µs to HistMaxMicros: 256
// of width 1, then 128 of each width 2^k up to 2^24; the last holds
// HistMaxMicros.
const latencyBinCount = 3287

// latencyBinIndex returns the index of the bin whose lowest value is
// from (a LatencyBinFrom).
func latencyBinIndex(from int64) int {
	shift := bits.Len64(uint64(from)|(1<<latencyBinBits-1)) - latencyBinBits
	if shift == 0 {
		return int(from)
	}
	return 1<<latencyBinBits + (shift-1)<<(latencyBinBits-1) + int(from>>shift) - 1<<(latencyBinBits-1)
}

// latencyBinOf is the inverse of latencyBinIndex.
func latencyBinOf(i int) int64 {
	if i < 1<<latencyBinBits {
		return int64(i)
	}
	i -= 1 << latencyBinBits
	shift := i>>(latencyBinBits-1) + 1
	sub := int64(i&(1<<(latencyBinBits-1)-1) + 1<<(latencyBinBits-1))
	return sub << shift
}

// P99Ms returns the second's p99 booking latency in ms (not_open aside),
// 0 when it decided none.
func (s *PartitionSecond) P99Ms() float64 { return float64(BinsQuantile(s.Latency, 99)) / 1000 }

// Decode returns the seconds of the series.
func (s *PartitionSeries) Decode() ([]PartitionSecond, error) {
	secs, err := DecodePartitionSeconds(s.Seconds)
	if err != nil {
		return nil, fmt.Errorf("series %s: %w", s.name(), err)
	}
	return secs, nil
}

func (s *PartitionSeries) name() string {
	if s.Key == "" {
		return "of the other partitions"
	}
	return s.Key
}

// Total returns the totals of partition key; false when it has none.
func (p *PartitionResults) Total(key string) (*PartitionTotals, bool) {
	i, ok := slices.BinarySearchFunc(p.Totals, key, func(t PartitionTotals, k string) int { return cmp.Compare(t.Key, k) })
	if !ok {
		return nil, false
	}
	return &p.Totals[i], true
}

// hotter orders partitions for keeping: more requests first, then by key.
func hotter(a, b *PartitionTotals) int {
	if c := cmp.Compare(b.Requests, a.Requests); c != 0 {
		return c
	}
	return cmp.Compare(a.Key, b.Key)
}
