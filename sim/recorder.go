package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// recorderShards spreads recording over independent locks so goroutines on
// different cores rarely meet; shards are merged once, at the end.
const recorderShards = 8

// Recorder collects what a run measured: per-operation latency histograms,
// counts by status, a per-second timeline and user outcomes. Safe for
// concurrent use; Record takes one of several shard locks, never a global one.
type Recorder struct {
	start  time.Time
	shards [recorderShards]shard
	// users is written once per user index, by that user's goroutine only.
	users []userRecord
}

type userRecord struct {
	arrived  bool
	outcome  Outcome
	requests int32
	retries  int32
	took     time.Duration
}

type shard struct {
	mu       sync.Mutex // guards everything below
	hists    map[string]*hdrhistogram.Histogram
	byStatus map[int]int64
	trans    int64
	booked   []string
	seconds  []second
}

type second struct {
	ok, conflict, throttled, serverErr, transport, booked, arrivals int64
	hist                                                            *hdrhistogram.Histogram
}

// addCounts adds b's counts (not its histogram) to sec.
func (sec *second) addCounts(b *second) {
	sec.ok += b.ok
	sec.conflict += b.conflict
	sec.throttled += b.throttled
	sec.serverErr += b.serverErr
	sec.transport += b.transport
	sec.booked += b.booked
	sec.arrivals += b.arrivals
}

// add counts one request answered in this second after lat µs (book tells
// whether it was a booking) and reports whether it booked (a 201 to book
// with an id), for the caller's list of booking ids. Both engines' recorders
// count through it.
func (sec *second) add(book bool, resp *Response, lat int64) (booked bool) {
	if sec.hist == nil {
		sec.hist = hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
	}
	_ = sec.hist.RecordValue(lat) // clamped by the caller, cannot fail
	switch st := resp.Status; {
	case st == 0:
		sec.transport++
	case st >= 200 && st < 300:
		sec.ok++
		if book && resp.BookingID != "" {
			sec.booked++
			return true
		}
	case st == 409:
		sec.conflict++
	case st == 429:
		sec.throttled++
	case st >= 500:
		sec.serverErr++
	}
	return false
}

// NewRecorder returns a recorder for a run that starts at start with n users.
func NewRecorder(start time.Time, users int) *Recorder {
	r := &Recorder{start: start, users: make([]userRecord, users)}
	for i := range r.shards {
		r.shards[i].hists = map[string]*hdrhistogram.Histogram{}
		r.shards[i].byStatus = map[int]int64{}
	}
	return r
}

func (s *shard) sec(i int) *second { return secAt(&s.seconds, i) }

// secAt returns the i-th second of *secs (the first for i < 0), growing it
// as needed.
func secAt(secs *[]second, i int) *second {
	i = max(i, 0)
	for len(*secs) <= i {
		*secs = append(*secs, second{})
	}
	return &(*secs)[i]
}

// Record counts one completed request of op that was scheduled at due and
// answered at done. key picks the shard (the user index).
func (r *Recorder) Record(key int, op string, resp Response, due, done time.Time) {
	lat := done.Sub(due).Microseconds()
	if lat < results.HistMinMicros {
		lat = results.HistMinMicros
	}
	if lat > results.HistMaxMicros {
		lat = results.HistMaxMicros
	}
	s := &r.shards[key%recorderShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.hists[op]
	if h == nil {
		h = results.NewLatencyHistogram()
		s.hists[op] = h
	}
	_ = h.RecordValue(lat) // clamped above, cannot fail
	sec := s.sec(int(done.Sub(r.start) / time.Second))
	if sec.add(op == results.OpBook, &resp, lat) {
		s.booked = append(s.booked, resp.BookingID)
	}
	if resp.Status == 0 {
		s.trans++
		return
	}
	s.byStatus[resp.Status]++
}

// Arrived counts user i's start at t. Users that never arrived (the run
// ended first) are left out of the user figures.
func (r *Recorder) Arrived(i int, t time.Time) {
	r.users[i].arrived = true
	s := &r.shards[i%recorderShards]
	s.mu.Lock()
	s.sec(int(t.Sub(r.start)/time.Second)).arrivals++
	s.mu.Unlock()
}

// Finished records user i's outcome, the requests and retries of its
// journey j (the last one included when sentLast; see Journey.Sent) and the
// time from arrival to outcome. Each user index must be finished once, by
// one goroutine.
func (r *Recorder) Finished(i int, o Outcome, j *Journey, sentLast bool, took time.Duration) {
	requests, retries := j.Sent(sentLast)
	r.users[i] = userRecord{arrived: true, outcome: o, requests: int32(requests), retries: int32(retries), took: took}
}

// Fill writes the measured figures into d and returns the distinct ids of
// the bookings answered 201. Users never finished count as still waiting.
// Call after every recording goroutine has ended.
func (r *Recorder) Fill(d *results.DesignResult) ([]string, error) {
	hists := map[string]*hdrhistogram.Histogram{}
	byStatus := map[int]int64{}
	var trans int64
	var booked []string
	var secs []second
	// borrowed[j] is set while secs[j].hist is a shard's own histogram,
	// read but never written: a second recorded by one shard alone (every
	// second of a model run) needs no copy. A second shard's values go to a
	// copy, made as the shard-by-shard merge would have made it.
	var borrowed []bool
	for i := range r.shards {
		s := &r.shards[i]
		for op, h := range s.hists {
			if hists[op] == nil {
				hists[op] = results.NewLatencyHistogram()
			}
			if dropped := hists[op].Merge(h); dropped != 0 {
				return nil, fmt.Errorf("merge %s histograms: %d values dropped", op, dropped)
			}
		}
		for st, n := range s.byStatus {
			byStatus[st] += n
		}
		trans += s.trans
		booked = append(booked, s.booked...)
		for j := range s.seconds {
			for len(secs) <= j {
				secs = append(secs, second{})
				borrowed = append(borrowed, false)
			}
			a, b := &secs[j], &s.seconds[j]
			a.addCounts(b)
			if b.hist != nil {
				switch {
				case a.hist == nil:
					a.hist, borrowed[j] = b.hist, true
				case borrowed[j]:
					own := hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
					own.Merge(a.hist)
					a.hist, borrowed[j] = own, false
					fallthrough
				default:
					a.hist.Merge(b.hist)
				}
			}
		}
	}
	d.Requests = results.Requests{ByStatus: map[string]int64{}, TransportErrors: trans}
	d.Requests.Total = trans
	for st, n := range byStatus {
		d.Requests.ByStatus[strconv.Itoa(st)] = n
		d.Requests.Total += n
	}
	d.LatencyMs = map[string]results.LatencySummary{}
	d.Histograms = map[string]string{}
	ops := make([]string, 0, len(hists))
	for op := range hists {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		d.LatencyMs[op] = results.Summarize(hists[op])
		enc, err := results.EncodeHistogram(hists[op])
		if err != nil {
			return nil, err
		}
		d.Histograms[op] = enc
	}
	d.Timeline = make([]results.TimelinePoint, len(secs))
	for i, s := range secs {
		p := results.TimelinePoint{
			TS: i, TUnix: r.start.Unix() + int64(i),
			OK: s.ok, Conflict: s.conflict, Throttled: s.throttled, ServerErr: s.serverErr,
			Transport: s.transport, Booked: s.booked, Arrivals: s.arrivals,
		}
		p.Errors = s.throttled + s.serverErr + s.transport
		p.RPS = float64(s.ok + s.conflict + s.throttled + s.serverErr + s.transport)
		if s.hist != nil {
			p.P50Ms = float64(s.hist.ValueAtQuantile(50)) / 1000
			p.P99Ms = float64(s.hist.ValueAtQuantile(99)) / 1000
		}
		d.Timeline[i] = p
	}
	// A replayed booking (same Idempotency-Key after a timeout) answers 201
	// again with the same id: count each booking once.
	sort.Strings(booked)
	booked = slices.Compact(booked)
	var polls int64
	if h := hists[results.OpQueue]; h != nil {
		polls = h.TotalCount()
	}
	return booked, r.fillUsers(&d.Users, d.Requests.Total, polls)
}

func (r *Recorder) fillUsers(u *results.Users, total, polls int64) error {
	toOutcome, toBook := results.NewLatencyHistogram(), results.NewLatencyHistogram()
	got := make([]float64, 0, len(r.users))
	var retries int64
	for _, ur := range r.users {
		if !ur.arrived {
			continue
		}
		u.Arrived++
		retries += int64(ur.retries)
		got = append(got, 0)
		switch ur.outcome {
		case Booked:
			u.Booked++
			got[len(got)-1] = 1
			_ = toBook.RecordValue(clampMicros(ur.took))
			_ = toOutcome.RecordValue(clampMicros(ur.took))
		case GaveUp:
			u.GaveUp++
			_ = toOutcome.RecordValue(clampMicros(ur.took))
		default:
			u.StillWaiting++
		}
	}
	if u.Arrived > 0 {
		u.RequestsPerUser = float64(total) / float64(u.Arrived)
		u.RoomPollsPerUser = float64(polls) / float64(u.Arrived)
		if first := total - polls - retries; first > 0 {
			u.RetryAmplification = float64(total-polls) / float64(first)
		}
	}
	u.Fairness = FirstComeFairness(got)
	var err error
	if u.TimeToOutcome, err = results.EncodeHistogram(toOutcome); err != nil {
		return err
	}
	u.TimeToBook, err = results.EncodeHistogram(toBook)
	return err
}

func clampMicros(d time.Duration) int64 {
	v := d.Microseconds()
	return max(results.HistMinMicros, min(v, results.HistMaxMicros))
}

// FirstComeFairness returns Spearman's rank correlation between earliness of
// arrival (index 0 is earliest) and got[i] (1 booked, 0 not): about 0 for a
// lottery, negative when late comers fared better, and at its highest when
// exactly the earliest users booked (first come, first served). Because the
// outcome is binary that highest value is below 1: about sqrt(3p(1-p)) for a
// booked share p, at most 0.87 (results.Users.FairnessCeiling computes it).
// It is 0 when everyone had the same outcome.
func FirstComeFairness(got []float64) float64 {
	n := len(got)
	if n < 2 {
		return 0
	}
	// Ranks of earliness: user i has rank n-i (earliest is highest).
	// Ranks of got with ties averaged: zeros share one mean rank, ones another.
	var ones float64
	for _, g := range got {
		ones += g
	}
	zeros := float64(n) - ones
	if ones == 0 || zeros == 0 {
		return 0
	}
	rankZero := (zeros + 1) / 2
	rankOne := zeros + (ones+1)/2
	mean := (float64(n) + 1) / 2
	var sxy, sxx, syy float64
	for i, g := range got {
		x := float64(n-i) - mean
		y := rankZero - mean
		if g == 1 {
			y = rankOne - mean
		}
		sxy += x * y
		sxx += x * x
		syy += y * y
	}
	return sxy / math.Sqrt(sxx*syy)
}
