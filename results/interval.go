package results

import (
	"fmt"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// checkIntervals reports intervals that do not decode, are out of order or
// before the start, name an operation without a histogram, or whose counts
// do not add up to the operation's histogram.
func (d *DesignResult) checkIntervals() []error {
	var errs []error
	ops := make([]string, 0, len(d.Intervals))
	for op := range d.Intervals {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		if err := d.checkOpIntervals(op); err != nil {
			errs = append(errs, fmt.Errorf("design %s: intervals %s: %w", d.Design, op, err))
		}
	}
	return errs
}

func (d *DesignResult) checkOpIntervals(op string) error {
	enc, ok := d.Histograms[op]
	if !ok {
		return fmt.Errorf("no histogram for the operation")
	}
	total, err := DecodeHistogram(enc)
	if err != nil {
		return nil // reported with the histograms
	}
	var sum int64
	prev := -1
	for i, iv := range d.Intervals[op] {
		if iv.TS <= prev {
			return fmt.Errorf("interval %d: t_s %d after %d; want increasing seconds from 0", i, iv.TS, prev)
		}
		prev = iv.TS
		h, err := DecodeHistogram(iv.Histogram)
		if err != nil {
			return fmt.Errorf("interval %d (t_s %d): %w", i, iv.TS, err)
		}
		sum += h.TotalCount()
	}
	if sum != total.TotalCount() {
		return fmt.Errorf("the seconds count %d values; the histogram %d", sum, total.TotalCount())
	}
	return nil
}

// IntervalHistograms decodes the per-second histograms of op, in order.
// It returns nil, nil when the result has none for op.
func (d *DesignResult) IntervalHistograms(op string) ([]*hdrhistogram.Histogram, error) {
	ivs := d.Intervals[op]
	if len(ivs) == 0 {
		return nil, nil
	}
	hs := make([]*hdrhistogram.Histogram, len(ivs))
	for i, iv := range ivs {
		h, err := DecodeHistogram(iv.Histogram)
		if err != nil {
			return nil, fmt.Errorf("%s interval %d: %w", op, i, err)
		}
		hs[i] = h
	}
	return hs, nil
}
