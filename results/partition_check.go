package results

import (
	"errors"
	"fmt"
)

// checkPartitions reports the inconsistencies of d.ByPartition: totals
// unsorted or whose answers do not add up, more booking requests by
// partition than the design's book histogram counts, series that do not
// decode, are out of order or do not add up to their partition's totals,
// and seconds that count more of an answer than the timeline's second.
func (d *DesignResult) checkPartitions() []error {
	p := d.ByPartition
	if p == nil {
		return nil
	}
	var errs []error
	sum, err := p.checkTotals()
	errs = append(errs, err)
	if p.Keep < 1 || len(p.Series) > p.Keep {
		errs = append(errs, fmt.Errorf("%d series kept; keep %d", len(p.Series), p.Keep))
	}
	if p.Unattributed < 0 {
		errs = append(errs, fmt.Errorf("unattributed %d is negative", p.Unattributed))
	}
	if book := d.LatencyMs[OpBook].Count; sum.Requests+p.Unattributed != book {
		errs = append(errs, fmt.Errorf("%d booking requests by partition + %d unattributed; the book histogram counts %d",
			sum.Requests, p.Unattributed, book))
	}
	all, err := p.checkSeries(sum)
	errs = append(errs, err)
	if err == nil {
		errs = append(errs, p.checkTimeline(all, d.Timeline))
	}
	if err := errors.Join(errs...); err != nil {
		return []error{fmt.Errorf("design %s: by_partition: %w", d.Design, err)}
	}
	return nil
}

// checkTotals checks the totals and returns their sum.
func (p *PartitionResults) checkTotals() (PartitionCounts, error) {
	var sum PartitionCounts
	var errs []error
	for i := range p.Totals {
		t := &p.Totals[i]
		if t.Key == "" || (i > 0 && t.Key <= p.Totals[i-1].Key) {
			errs = append(errs, fmt.Errorf("totals %d: key %q: want distinct non-empty keys in order", i, t.Key))
		}
		if n := t.sumAnswers(); n != t.Requests || t.negative() {
			errs = append(errs, fmt.Errorf("partition %s: requests %d; the answers add up to %d", t.Key, t.Requests, n))
		}
		if a := t.Availability; a != nil && (a.Available < 0 || a.Available > a.Seconds || a.Seconds > t.Decided() ||
			!(a.PeakRefused >= 0 && a.PeakRefused <= 1)) {
			errs = append(errs, fmt.Errorf("partition %s: availability %+v does not fit its %d decided bookings", t.Key, *a, t.Decided()))
		}
		sum.Add(t.PartitionCounts)
	}
	return sum, errors.Join(errs...)
}

func (c *PartitionCounts) negative() bool {
	for _, p := range c.answers() {
		if *p < 0 {
			return true
		}
	}
	return false
}

// checkSeries decodes the series and the others and checks them against
// the totals (whose sum is total); it returns every decoded series, the
// others last.
func (p *PartitionResults) checkSeries(total PartitionCounts) ([][]PartitionSecond, error) {
	var errs []error
	var all [][]PartitionSecond
	var sum PartitionCounts
	seen := map[string]bool{}
	for i := range p.Series {
		s := &p.Series[i]
		t, ok := p.Total(s.Key)
		switch {
		case !ok || seen[s.Key]:
			errs = append(errs, fmt.Errorf("series %d: partition %q is not in the totals, or twice in the series", i, s.Key))
			continue
		case i > 0 && hotter(p.seriesTotal(i-1), t) > 0:
			errs = append(errs, fmt.Errorf("series %d (%s): not in order of requests", i, s.Key))
		}
		seen[s.Key] = true
		secs, c, err := decodeSeries(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, secs)
		sum.Add(c)
		errs = append(errs, checkSeriesTotals(s, t, secs, c))
	}
	if o := p.Others; o != nil {
		if want := len(p.Totals) - len(p.Series); o.Partitions != want {
			errs = append(errs, fmt.Errorf("the others' series sums %d partitions; %d are not kept", o.Partitions, want))
		}
		secs, c, err := decodeSeries(o)
		errs = append(errs, err)
		all = append(all, secs)
		sum.Add(c)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if sum != total {
		return nil, fmt.Errorf("the series and the others add up to %+v; the totals to %+v", sum, total)
	}
	return all, nil
}

// seriesTotal returns the totals of series i, whose key must be there.
func (p *PartitionResults) seriesTotal(i int) *PartitionTotals {
	t, _ := p.Total(p.Series[i].Key)
	if t == nil {
		return &PartitionTotals{}
	}
	return t
}

// decodeSeries decodes s and checks its p99.
func decodeSeries(s *PartitionSeries) ([]PartitionSecond, PartitionCounts, error) {
	secs, err := s.Decode()
	if err != nil {
		return nil, PartitionCounts{}, err
	}
	c, bins := SumSeconds(secs)
	if p99 := float64(BinsQuantile(bins, 99)) / 1000; p99 != s.P99Ms {
		return nil, c, fmt.Errorf("series %s: p99_ms %v; its seconds give %v", s.name(), s.P99Ms, p99)
	}
	return secs, c, nil
}

// checkSeriesTotals checks that series s with seconds secs, summing to c,
// adds up to its partition's totals t: exactly when whole, at most when
// partial; and that a whole series gives the availability t states.
func checkSeriesTotals(s *PartitionSeries, t *PartitionTotals, secs []PartitionSecond, c PartitionCounts) error {
	if !s.Partial {
		if c != t.PartitionCounts {
			return fmt.Errorf("series %s adds up to %+v; its totals are %+v", s.Key, c, t.PartitionCounts)
		}
		if a := AvailabilityOf(secs); t.Availability != nil && a != *t.Availability {
			return fmt.Errorf("series %s gives availability %+v; its totals state %+v", s.Key, a, *t.Availability)
		}
		return nil
	}
	sa, ta := c.answers(), t.answers()
	for k := range sa {
		if *sa[k] > *ta[k] {
			return fmt.Errorf("partial series %s counts more than its totals: %+v > %+v", s.Key, c, t.PartitionCounts)
		}
	}
	return nil
}

// checkTimeline checks that no second of the series (all of them added)
// counts more of an answer than the timeline's second at the same time.
func (p *PartitionResults) checkTimeline(all [][]PartitionSecond, tl []TimelinePoint) error {
	if len(tl) == 0 {
		return nil
	}
	points := make(map[int64]*TimelinePoint, len(tl))
	for i := range tl {
		points[tl[i].TUnix] = &tl[i]
	}
	sum := map[int]*PartitionCounts{}
	for _, secs := range all {
		for i := range secs {
			c := sum[secs[i].TS]
			if c == nil {
				c = &PartitionCounts{}
				sum[secs[i].TS] = c
			}
			c.Add(secs[i].PartitionCounts)
		}
	}
	for ts, c := range sum {
		tp := points[p.StartUnix+int64(ts)]
		switch {
		case tp == nil:
			return fmt.Errorf("t_s %d: booking requests in a second the timeline does not have", ts)
		case c.OK > tp.OK || c.Conflict > tp.Conflict || c.Throttled > tp.Throttled ||
			c.Overloaded+c.NotOpen+c.ServerErr > tp.ServerErr || c.Transport > tp.Transport || c.Unexpected > tp.Unexpected:
			return fmt.Errorf("t_s %d: the partitions count %+v, more than the timeline's second (ok %d, conflict %d, throttled %d, 5xx %d, transport %d, unexpected %d)",
				ts, *c, tp.OK, tp.Conflict, tp.Throttled, tp.ServerErr, tp.Transport, tp.Unexpected)
		}
	}
	return nil
}
