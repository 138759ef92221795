package sim

import (
	"fmt"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// modelTally counts requests exactly as Recorder.Record does, for one
// single-threaded model run: no lock, no map lookup, no time.Time on the
// hot path, which matters at hundreds of millions of requests. mergeInto
// adds everything to a Recorder before Fill, so a model result is filled by
// the same code as a live one.
type modelTally struct {
	ops      [len(opNames)]*hdrhistogram.Histogram
	byStatus [600]int64 // the model answers 0 (transport) or 200 to 503
	trans    int64
	booked   []string
	secs     []second
	// parts keeps the booking requests by partition, whose keys partKeys
	// holds by index.
	parts    partTally
	partKeys []string

	// outcomes holds the booking requests by answer (recordOutcome).
	outcomes [len(outcomeOps)]*hdrhistogram.Histogram
}

// record counts one request of op answered with resp after latency lat,
// done at virtual time done (nanoseconds); part is the partition a booking
// named (-1 for none, or for another operation).
func (t *modelTally) record(op uint8, part int32, resp *Response, lat, done int64) {
	us := clampMicros(time.Duration(lat))
	h := t.ops[op]
	if h == nil {
		h = results.NewLatencyHistogram()
		t.ops[op] = h
	}
	_ = h.RecordValue(us) // clamped: cannot fail
	sec := int(max(done, 0) / int64(time.Second))
	if secAt(&t.secs, sec).add(op == opBook, resp, us) {
		t.booked = append(t.booked, resp.BookingID)
	}
	if op == opBook {
		t.parts.add(part, sec, partClass(resp), us)
		recordOutcome(&t.outcomes, resp, us)
	}
	if resp.Status == 0 {
		t.trans++
		return
	}
	t.byStatus[resp.Status]++
}

// mergeInto adds the tally to r, as if each request had been recorded with
// Record. It uses r's first shard. Call before r.Fill, with no concurrent
// use of r.
func (t *modelTally) mergeInto(r *Recorder) error {
	s := &r.shards[0]
	s.mu.Lock()
	defer s.mu.Unlock()
	for op, h := range t.ops {
		if h == nil {
			continue
		}
		if err := s.adopt(opNames[op], h); err != nil {
			return err
		}
	}
	for k, h := range t.outcomes {
		if h == nil {
			continue
		}
		if err := s.adopt(outcomeOps[k], h); err != nil {
			return err
		}
	}
	for st, n := range t.byStatus {
		if n != 0 {
			s.byStatus[st] += n
		}
	}
	s.trans += t.trans
	s.booked = append(s.booked, t.booked...)
	for i := range t.secs {
		a, b := s.sec(i), &t.secs[i]
		a.addCounts(b)
		if b.hist != nil {
			if a.hist == nil {
				a.hist = b.hist
			} else {
				a.hist.add(b.hist)
			}
		}
	}
	parts := t.parts
	r.parts, r.partKeys = &parts, t.partKeys
	*t = modelTally{}
	return nil
}

// adopt adds h, which the caller hands over, to the shard's histogram of
// op: h becomes it when the shard has none. Call with s.mu held.
func (s *shard) adopt(op string, h *hdrhistogram.Histogram) error {
	if s.hists[op] == nil {
		s.hists[op] = h
		return nil
	}
	if dropped := s.hists[op].Merge(h); dropped != 0 {
		return fmt.Errorf("merge %s histogram: %d values dropped", op, dropped)
	}
	return nil
}
