package results

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// PartitionInput is one partition's booking requests as an engine measured
// them: its key and its seconds, in increasing order of TS, each
// consistent (see EncodePartitionSeconds).
type PartitionInput struct {
	Key     string
	Seconds []PartitionSecond
}

// NewPartitionResults builds the per-partition results of a run whose t_s
// 0 is the Unix second startUnix: totals and availability for every
// partition with a request, a series for each of the keep hottest (keep <=
// 0: DefaultKeptPartitions), and the others' seconds summed. unattributed
// counts the booking requests in no partition. It returns an error for
// inconsistent seconds or a key given twice.
func NewPartitionResults(startUnix int64, keep int, unattributed int64, parts []PartitionInput) (*PartitionResults, error) {
	if keep <= 0 {
		keep = DefaultKeptPartitions
	}
	p := &PartitionResults{Attribution: AttributionBook, StartUnix: startUnix, Keep: keep, Unattributed: unattributed}
	byKey := map[string]*PartitionInput{}
	for i := range parts {
		in := &parts[i]
		if _, dup := byKey[in.Key]; dup {
			return nil, fmt.Errorf("partition results: partition %q given twice", in.Key)
		}
		byKey[in.Key] = in
		t := PartitionTotals{Key: in.Key}
		for j := range in.Seconds {
			t.Add(in.Seconds[j].PartitionCounts)
		}
		if t.Requests == 0 {
			continue
		}
		a := AvailabilityOf(in.Seconds)
		t.Availability = &a
		p.Totals = append(p.Totals, t)
	}
	hot := hottest(p.Totals)
	n := 0
	for _, t := range hot[min(keep, len(hot)):] {
		n += len(byKey[t.Key].Seconds)
	}
	others := make(secondsSum, 0, n)
	for i, t := range hot {
		in := byKey[t.Key]
		if i < keep {
			s, err := makeSeries(t.Key, in.Seconds)
			if err != nil {
				return nil, fmt.Errorf("partition results: %w", err)
			}
			p.Series = append(p.Series, s)
			continue
		}
		for j := range in.Seconds {
			others.add(&in.Seconds[j], 0)
		}
	}
	if err := p.setOthers(others, len(hot)-len(p.Series)); err != nil {
		return nil, err
	}
	sortTotals(p.Totals)
	return p, nil
}

// hottest returns a copy of ts, the hottest first (hotter).
func hottest(ts []PartitionTotals) []*PartitionTotals {
	out := make([]*PartitionTotals, len(ts))
	for i := range ts {
		out[i] = &ts[i]
	}
	slices.SortFunc(out, hotter)
	return out
}

func sortTotals(ts []PartitionTotals) {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Key < ts[j].Key })
}

// setOthers sets p.Others to the seconds of others, n partitions; nil when
// there are none.
func (p *PartitionResults) setOthers(others secondsSum, n int) error {
	p.Others = nil
	if len(others) == 0 {
		return nil
	}
	s, err := makeSeries("", others.seconds())
	if err != nil {
		return fmt.Errorf("partition results: %w", err)
	}
	s.Partitions = n
	p.Others = &s
	return nil
}

// makeSeries encodes the seconds of partition key ("" for the others).
func makeSeries(key string, secs []PartitionSecond) (PartitionSeries, error) {
	enc, err := EncodePartitionSeconds(secs)
	if err != nil {
		return PartitionSeries{}, fmt.Errorf("series %q: %w", key, err)
	}
	_, bins := SumSeconds(secs)
	return PartitionSeries{Key: key, P99Ms: float64(BinsQuantile(bins, 99)) / 1000, Seconds: enc}, nil
}

// secondsSum collects seconds to add up by TS (shifted), in any order.
type secondsSum []shiftedSecond

type shiftedSecond struct {
	ts int
	s  *PartitionSecond
}

// add adds s (kept, not copied), shifted by shift seconds.
func (m *secondsSum) add(s *PartitionSecond, shift int) {
	*m = append(*m, shiftedSecond{ts: s.TS + shift, s: s})
}

// seconds returns the sums in order of TS.
func (m secondsSum) seconds() []PartitionSecond {
	slices.SortFunc(m, func(x, y shiftedSecond) int { return cmp.Compare(x.ts, y.ts) })
	n := 0
	for i := range m {
		if i == 0 || m[i].ts != m[i-1].ts {
			n++
		}
	}
	out := make([]PartitionSecond, 0, n)
	var scratch []LatencyBin
	for lo := 0; lo < len(m); {
		hi := lo + 1
		for hi < len(m) && m[hi].ts == m[lo].ts {
			hi++
		}
		s := PartitionSecond{TS: m[lo].ts, PartitionCounts: m[lo].s.PartitionCounts, Latency: m[lo].s.Latency}
		if hi > lo+1 {
			s.PartitionCounts = PartitionCounts{}
			scratch = scratch[:0]
			for _, x := range m[lo:hi] {
				s.Add(x.s.PartitionCounts)
				scratch = append(scratch, x.s.Latency...)
			}
			s.Latency = slices.Clone(compactBins(scratch))
		}
		out = append(out, s)
		lo = hi
	}
	return out
}

// compactBins sorts bins by From and adds those of equal From.
func compactBins(bins []LatencyBin) []LatencyBin {
	slices.SortFunc(bins, func(a, b LatencyBin) int { return cmp.Compare(a.From, b.From) })
	out := bins[:0]
	for _, b := range bins {
		if n := len(out); n > 0 && out[n-1].From == b.From {
			out[n-1].Count += b.Count
			continue
		}
		out = append(out, b)
	}
	return out
}

// mergePartitions merges the per-partition results of the parts' designs
// ds (see Merge): counts add, seconds align on absolute time. It returns
// nil when a part has none (MergeWarnings says so).
func mergePartitions(ds []*DesignResult) (*PartitionResults, error) {
	for _, d := range ds {
		if d.ByPartition == nil {
			return nil, nil
		}
	}
	f := ds[0].ByPartition
	out := &PartitionResults{Attribution: f.Attribution, StartUnix: f.StartUnix}
	for k, d := range ds {
		p := d.ByPartition
		if p.Attribution != f.Attribution {
			return nil, fmt.Errorf("part %d attributes %q; part 1 %q", k+1, p.Attribution, f.Attribution)
		}
		out.StartUnix = min(out.StartUnix, p.StartUnix)
		out.Keep = max(out.Keep, p.Keep)
		out.Unattributed += p.Unattributed
	}
	m := newPartitionMerge(out.StartUnix, len(ds))
	for _, d := range ds {
		if err := m.addPart(d.ByPartition); err != nil {
			return nil, err
		}
	}
	if err := m.finish(out); err != nil {
		return nil, fmt.Errorf("partitions: %w", err)
	}
	return out, nil
}

// partitionMerge is the state of mergePartitions.
type partitionMerge struct {
	start int64
	parts int
	// totals by key, and in how many parts each appears; avail is the
	// availability of a partition that appears in one part only.
	totals  map[string]*PartitionTotals
	seen    map[string]int
	avail   map[string]*PartitionAvailability
	series  map[string]secondsSum
	kept    map[string]int // in how many parts each series is whole
	partial map[string]bool
	others  secondsSum
}

func newPartitionMerge(start int64, parts int) *partitionMerge {
	return &partitionMerge{start: start, parts: parts, totals: map[string]*PartitionTotals{}, seen: map[string]int{},
		avail: map[string]*PartitionAvailability{}, series: map[string]secondsSum{}, kept: map[string]int{},
		partial: map[string]bool{}}
}

// addPart adds one part's results.
func (m *partitionMerge) addPart(p *PartitionResults) error {
	shift := int(p.StartUnix - m.start)
	for _, t := range p.Totals {
		a := m.totals[t.Key]
		if a == nil {
			a = &PartitionTotals{Key: t.Key}
			m.totals[t.Key] = a
		}
		a.Add(t.PartitionCounts)
		m.seen[t.Key]++
		if t.Availability != nil {
			av := *t.Availability
			if av.PeakRefused > 0 {
				av.PeakTS += shift
			}
			m.avail[t.Key] = &av
		}
	}
	for i := range p.Series {
		s := &p.Series[i]
		secs, err := s.Decode()
		if err != nil {
			return err
		}
		sum := m.series[s.Key]
		for j := range secs {
			sum.add(&secs[j], shift)
		}
		m.series[s.Key] = sum
		if s.Partial {
			m.partial[s.Key] = true
		} else {
			m.kept[s.Key]++
		}
	}
	if p.Others != nil {
		secs, err := p.Others.Decode()
		if err != nil {
			return err
		}
		for j := range secs {
			m.others.add(&secs[j], shift)
		}
	}
	return nil
}

// finish writes the merged totals, series and others into out, keeping
// the out.Keep hottest series and folding the rest into the others.
func (m *partitionMerge) finish(out *PartitionResults) error {
	for _, t := range m.totals {
		out.Totals = append(out.Totals, *t)
	}
	sortTotals(out.Totals)
	var errs []error
	kept := 0
	for _, t := range hottest(out.Totals) {
		sum, ok := m.series[t.Key]
		if !ok {
			continue
		}
		if kept >= out.Keep {
			secs := sum.seconds()
			for j := range secs {
				m.others.add(&secs[j], 0)
			}
			continue
		}
		kept++
		secs := sum.seconds()
		s, err := makeSeries(t.Key, secs)
		errs = append(errs, err)
		// Whole when every part that counted the partition kept it whole.
		s.Partial = m.partial[t.Key] || m.kept[t.Key] < m.seen[t.Key]
		out.Series = append(out.Series, s)
		if !s.Partial {
			a := AvailabilityOf(secs)
			m.avail[t.Key] = &a
			m.seen[t.Key] = 1
		}
	}
	for i := range out.Totals {
		t := &out.Totals[i]
		if m.seen[t.Key] == 1 {
			t.Availability = m.avail[t.Key]
		} else {
			t.Availability = nil
		}
	}
	errs = append(errs, out.setOthers(m.others, len(out.Totals)-kept))
	return errors.Join(errs...)
}
