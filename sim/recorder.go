package sim

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/slotrush/slotrush/models"
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
	// parts and partKeys, handed over by the model before Fill, hold its
	// booking requests by partition index (keys in partKeys); nil for a
	// live run, whose shards keep them by slot.
	parts    *partTally
	partKeys []string
	// faults, set by a live run with WithFaults, tells the answers its
	// faults caused apart (users[i].hit); nil otherwise.
	faults *liveFaults
}

// userRecord is what the recorder keeps of one user, its fields ordered
// for size (32 bytes: a national crowd has a million).
type userRecord struct {
	took time.Duration
	// arrivedAt is when the user arrived, from the start.
	arrivedAt time.Duration
	requests  int32
	retries   int32
	arrived   bool
	outcome   Outcome
	// lostBook is set while the user's last booking request got no
	// answer (a timeout or a reset) and nothing since resolved it.
	lostBook bool
	// hit is set once a fault-caused answer reached the user (faults
	// only); done is set when the journey ended (took after arriving)
	// before the run.
	hit  bool
	done bool
}

type shard struct {
	mu       sync.Mutex // guards everything below
	hists    map[string]*hdrhistogram.Histogram
	byStatus map[int]int64
	trans    int64
	booked   []string
	seconds  []second
	// samples keeps every latency of a live run by operation, with the
	// second it completed in, for the per-second interval histograms.
	samples map[string][]sample
	// books keeps each booking request that named a slot (a packSample
	// and the slot's index in slots; slotIdx interns them), for the
	// results by partition; unattributed counts those that named none.
	books        []bookSample
	slots        []models.SlotKey
	slotIdx      map[models.SlotKey]int32
	unattributed int64
}

// bookSample is one booking request of a live run: the slot it named (an
// index in its shard's slots) and its packSample.
type bookSample struct {
	slot   int32
	sample uint64
}

// sample is one latency (µs, clamped to the histograms' bounds) and the
// second of the run it completed in.
type sample struct {
	sec, us uint32
}

type second struct {
	ok, conflict, throttled, serverErr, transport, booked, arrivals int64
	// unexpected counts the answers outside the API, odd the same by
	// answer (nil until there is one: most seconds have none).
	unexpected int64
	odd        map[oddAnswer]int64
	hist       secHist
}

// secHist counts the latencies of one second (µs, clamped) by bin of a
// 2-significant-digit HdrHistogram from 1 µs to an hour (tallyBin), up to
// the highest bin used: 4 bytes a bin used where the HdrHistogram takes 8
// for each of its 3,328. A second cannot hold 2^32 requests.
type secHist []uint32

// record counts one latency of us µs (clamped).
func (h *secHist) record(us int64) {
	i := int(tallyBin(us))
	if i >= len(*h) {
		h.grow(i + 1)
	}
	(*h)[i]++
}

// secHistBins is the number of bins of a full secHist: the counts of a
// 2-significant-digit HdrHistogram from 1 µs to an hour.
const secHistBins = 3328

// grow makes h at least n bins long, in whole cache lines, and by half
// again at least (up to every bin), so that a second whose latencies
// spread grows it a few times only.
func (h *secHist) grow(n int) {
	n = max(n, min(len(*h)+len(*h)/2, secHistBins))
	g := make(secHist, (n+15)&^15)
	copy(g, *h)
	*h = g
}

// add adds b's counts to h.
func (h *secHist) add(b secHist) {
	if len(b) > len(*h) {
		h.grow(len(b))
	}
	for i, c := range b {
		(*h)[i] += c
	}
}

// quantiles returns the values at percentiles qs (0 to 100) of h, as
// results.ValuesAtQuantiles returns them for an HdrHistogram holding the
// same values; zeros for an empty h.
func (h secHist) quantiles(qs ...float64) []int64 {
	out := make([]int64, len(qs))
	var total int64
	for _, c := range h {
		total += int64(c)
	}
	if total == 0 {
		return out
	}
	for k, q := range qs {
		want, seen := results.CountAtQuantile(q, total), int64(0)
		for i, c := range h {
			if seen += int64(c); c > 0 && seen >= want {
				out[k] = results.LatencyBinTo(tallyBinFrom(uint64(i)))
				if q <= 0 {
					out[k] = tallyBinFrom(uint64(i))
				}
				break
			}
		}
	}
	return out
}

// oddAnswer is an answer outside the API: its status and its kind (a
// results.Answer* name).
type oddAnswer struct {
	status int
	kind   string
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
	for a, n := range b.odd {
		sec.countOdd(a, n) // adds to unexpected too
	}
}

// countOdd counts n answers a outside the API.
func (sec *second) countOdd(a oddAnswer, n int64) {
	if sec.odd == nil {
		sec.odd = map[oddAnswer]int64{}
	}
	sec.odd[a] += n
	sec.unexpected += n
}

// add counts one request answered in this second after lat µs (book tells
// whether it was a booking) by what its answer means (Response.Classify:
// sold out and already booked are conflicts, overloaded and server errors
// server errors; not found, rejected, not admitted, unexpected and an ok
// answer whose body could not be read are outside the API), and reports
// whether it booked (an ok answer to book with an id), for the caller's
// list of booking ids. Both engines' recorders count through it.
func (sec *second) add(book bool, resp *Response, lat int64) (booked bool) {
	sec.hist.record(lat)
	switch k := resp.Classify(); k {
	case KindTransport:
		sec.transport++
	case KindOK:
		if resp.Err != nil && resp.Status != 0 {
			// A success whose body lacks what the operation reads: an
			// HTML page, or another API's JSON.
			sec.countOdd(oddAnswer{resp.Status, results.AnswerUnreadable}, 1)
			return false
		}
		sec.ok++
		if book && resp.BookingID != "" {
			sec.booked++
			return true
		}
	case KindSoldOut, KindAlreadyBooked, KindStepFailed:
		// Answered, not an error: a failed journey step (a wrong OTP) is
		// counted with the conflicts.
		sec.conflict++
	case KindThrottled:
		sec.throttled++
	case KindOverloaded, KindServerError:
		sec.serverErr++
	case KindNotFound, KindRejected, KindNotAdmitted, KindUnexpected:
		sec.countOdd(oddAnswer{resp.Status, k.String()}, 1)
	}
	return false
}

// NewRecorder returns a recorder for a run that starts at start with n users.
func NewRecorder(start time.Time, users int) *Recorder {
	r := &Recorder{start: start, users: make([]userRecord, users)}
	for i := range r.shards {
		r.shards[i].hists = map[string]*hdrhistogram.Histogram{}
		r.shards[i].byStatus = map[int]int64{}
		r.shards[i].samples = map[string][]sample{}
		r.shards[i].slotIdx = map[models.SlotKey]int32{}
	}
	return r
}

func (s *shard) sec(i int) *second { return secAt(&s.seconds, i) }

// keepBook keeps the sample of a booking of slot (nil: none).
func (s *shard) keepBook(slot *models.SlotKey, sample uint64) {
	if slot == nil {
		s.unattributed++
		return
	}
	idx, ok := s.slotIdx[*slot]
	if !ok {
		idx = int32(len(s.slots))
		s.slots = append(s.slots, *slot)
		s.slotIdx[*slot] = idx
	}
	s.books = append(s.books, bookSample{slot: idx, sample: sample})
}

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
// answered at done. key picks the shard (the user index). A booking
// recorded here names no slot: it counts in no partition (see
// RecordRequest).
func (r *Recorder) Record(key int, op string, resp Response, due, done time.Time) {
	r.record(key, op, nil, resp, due, done)
}

// RecordRequest is Record for request req: a booking of a slot (a PPV and
// a date) is also kept by slot, for the results by partition that Fill
// writes when the design's scheme is known.
func (r *Recorder) RecordRequest(key int, req *Request, resp Response, due, done time.Time) {
	if req.Op == results.OpBook && req.PPV != "" && !req.Date.IsZero() {
		slot := models.SlotKey{PPV: req.PPV, Date: req.Date}
		r.record(key, req.Op, &slot, resp, due, done)
		return
	}
	r.record(key, req.Op, nil, resp, due, done)
}

func (r *Recorder) record(key int, op string, slot *models.SlotKey, resp Response, due, done time.Time) {
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
	i := max(int(done.Sub(r.start)/time.Second), 0)
	s.samples[op] = append(s.samples[op], sample{sec: uint32(i), us: uint32(lat)})
	if op == results.OpBook {
		if k := bookOutcome(&resp); k >= 0 {
			sub := outcomeOps[k]
			if s.hists[sub] == nil {
				s.hists[sub] = results.NewLatencyHistogram()
			}
			_ = s.hists[sub].RecordValue(lat) // clamped above, cannot fail
			s.samples[sub] = append(s.samples[sub], sample{sec: uint32(i), us: uint32(lat)})
		}
	}
	sec := s.sec(i)
	if sec.add(op == results.OpBook, &resp, lat) {
		s.booked = append(s.booked, resp.BookingID)
	}
	if op == results.OpBook {
		s.keepBook(slot, packSample(i, partClass(&resp), lat))
	}
	if r.faults != nil && key < len(r.users) && !r.users[key].hit {
		// Only the user's own goroutine records its requests.
		r.users[key].hit = r.faults.caused(op, slot, &resp, due)
	}
	if op == results.OpBook && key < len(r.users) {
		// Only the user's own goroutine records its requests.
		k := resp.Classify()
		r.users[key].lostBook = k == KindTransport ||
			(r.users[key].lostBook && resp.BookingID == "" && k != KindAlreadyBooked)
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
	r.users[i].arrivedAt = t.Sub(r.start)
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
	u := &r.users[i]
	*u = userRecord{arrived: true, outcome: o, requests: int32(requests), retries: int32(retries), took: took,
		lostBook: u.lostBook, hit: u.hit, done: o != StillWaiting, arrivedAt: u.arrivedAt}
}

// LostBookings returns, in order, the indexes of the users whose last
// booking request got no answer (a timeout or a reset) with nothing after
// it resolving the outcome (a 201 or an already_booked): their booking may
// or may not exist. Call after every recording goroutine has ended.
func (r *Recorder) LostBookings() []int {
	var lost []int
	for i := range r.users {
		if r.users[i].lostBook {
			lost = append(lost, i)
		}
	}
	return lost
}

// Fill writes the measured figures into d and returns the distinct ids of
// the bookings answered 201. Users never finished count as still waiting.
// It writes the bookings by partition (d.ByPartition) when it can
// attribute them: the model's always, a live run's when d.Assumptions
// name a known scheme that slotrush built or the target stated (see
// RecordRequest). Call after every recording goroutine has ended.
func (r *Recorder) Fill(d *results.DesignResult) ([]string, error) {
	m, err := r.merge()
	if err != nil {
		return nil, err
	}
	d.Requests = results.Requests{ByStatus: map[string]int64{}, TransportErrors: m.trans}
	d.Requests.Total = m.trans
	for st, n := range m.byStatus {
		d.Requests.ByStatus[strconv.Itoa(st)] = n
		d.Requests.Total += n
	}
	fillUnexpected(&d.Requests, m.secs)
	if err := fillLatency(d, m.hists); err != nil {
		return nil, err
	}
	if err := r.fillIntervals(d); err != nil {
		return nil, err
	}
	d.Timeline = r.timeline(m.secs)
	if d.ByPartition, err = r.partitionResults(d.Assumptions); err != nil {
		return nil, err
	}
	// A replayed booking (same Idempotency-Key after a timeout) answers 201
	// again with the same id: count each booking once.
	booked := m.booked
	sort.Strings(booked)
	booked = slices.Compact(booked)
	var polls int64
	if h := m.hists[results.OpQueue]; h != nil {
		polls = h.TotalCount()
	}
	return booked, r.fillUsers(&d.Users, d.Requests.Total, polls)
}

// merged is every shard of a Recorder added together.
type merged struct {
	hists    map[string]*hdrhistogram.Histogram
	byStatus map[int]int64
	trans    int64
	booked   []string
	secs     []second
}

// merge adds the shards together. Errors: a histogram merge that dropped
// values.
func (r *Recorder) merge() (*merged, error) {
	m := &merged{hists: map[string]*hdrhistogram.Histogram{}, byStatus: map[int]int64{}}
	// borrowed[j] is set while secs[j].hist is a shard's own histogram,
	// read but never written: a second recorded by one shard alone (every
	// second of a model run) needs no copy. A second shard's values go to a
	// copy, made as the shard-by-shard merge would have made it.
	var borrowed []bool
	// own[op] is set once m.hists[op] is a histogram of merge's own; until
	// then it is the one shard's that has op (a model run's only shard),
	// read but never written, as with the seconds.
	own := map[string]bool{}
	for i := range r.shards {
		s := &r.shards[i]
		for op, h := range s.hists {
			switch {
			case m.hists[op] == nil:
				m.hists[op] = h
				continue
			case !own[op]:
				c := results.NewLatencyHistogram()
				c.Merge(m.hists[op]) // the same bounds: drops nothing
				m.hists[op], own[op] = c, true
			}
			if dropped := m.hists[op].Merge(h); dropped != 0 {
				return nil, fmt.Errorf("merge %s histograms: %d values dropped", op, dropped)
			}
		}
		for st, n := range s.byStatus {
			m.byStatus[st] += n
		}
		m.trans += s.trans
		m.booked = append(m.booked, s.booked...)
		for j := range s.seconds {
			for len(m.secs) <= j {
				m.secs = append(m.secs, second{})
				borrowed = append(borrowed, false)
			}
			borrowed[j] = mergeSecond(&m.secs[j], &s.seconds[j], borrowed[j])
		}
	}
	return m, nil
}

// mergeSecond adds b to a and returns whether a's histogram is now
// borrowed (b's own, not to be written). borrowed says whether it was.
func mergeSecond(a, b *second, borrowed bool) bool {
	a.addCounts(b)
	switch {
	case b.hist == nil:
		return borrowed
	case a.hist == nil:
		a.hist = b.hist
		return true
	case borrowed:
		a.hist = slices.Clone(a.hist)
	}
	a.hist.add(b.hist)
	return false
}

// fillUnexpected writes the answers outside the API that secs counted;
// nothing when there were none, so results without any read as before.
func fillUnexpected(r *results.Requests, secs []second) {
	for i := range secs {
		for a, n := range secs[i].odd {
			if r.UnexpectedByAnswer == nil {
				r.UnexpectedByAnswer = map[string]int64{}
			}
			r.UnexpectedByAnswer[results.AnswerKey(a.status, a.kind)] += n
			r.Unexpected += n
		}
	}
}

// outcomeOps are the operations OpBook's requests are split into by
// answer, indexed by bookOutcome.
var outcomeOps = [...]string{results.OpBookBooked, results.OpBookRefused}

// bookOutcome returns the index in outcomeOps of a booking request's
// answer: 0 when it booked (an ok answer naming a booking, as second.add
// counts it), 1 when it was refused for load (429 throttled, 503
// overloaded), -1 for any other answer (409, other 5xx, a lost answer,
// an answer outside the API).
func bookOutcome(resp *Response) int {
	switch resp.Classify() {
	case KindOK:
		if resp.BookingID != "" && (resp.Err == nil || resp.Status == 0) {
			return 0
		}
	case KindThrottled:
		return 1
	case KindOverloaded:
		// Refused for load (shed): not a booking made before the
		// opening, nor one of a partition that was down.
		if resp.Code != codeNotOpen && resp.Code != "partition_unavailable" {
			return 1
		}
	}
	return -1
}

// recordOutcome records a booking request's latency us (clamped) in the
// histogram of its answer (bookOutcome), made on first use; answers
// neither booked nor refused are not recorded.
func recordOutcome(hs *[len(outcomeOps)]*hdrhistogram.Histogram, resp *Response, us int64) {
	k := bookOutcome(resp)
	if k < 0 {
		return
	}
	if hs[k] == nil {
		hs[k] = results.NewLatencyHistogram()
	}
	_ = hs[k].RecordValue(us) // clamped by the caller, cannot fail
}

// fillLatency writes each operation's percentiles and encoded histogram.
// A run with booking requests gets both outcomeOps, empty when no answer
// was of that kind, so a merge can tell a result that split OpBook by
// answer from one written before the split.
func fillLatency(d *results.DesignResult, hists map[string]*hdrhistogram.Histogram) error {
	if hists[results.OpBook] != nil {
		for _, op := range outcomeOps {
			if hists[op] == nil {
				hists[op] = results.NewLatencyHistogram()
			}
		}
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
			return err
		}
		d.Histograms[op] = enc
	}
	return nil
}

// fillIntervals writes, per operation, one histogram per second of the run
// in which requests of it completed, from the samples Record kept. A
// recorder filled by the model keeps none and writes none.
func (r *Recorder) fillIntervals(d *results.DesignResult) error {
	all := map[string][]sample{}
	for i := range r.shards {
		for op, ss := range r.shards[i].samples {
			all[op] = append(all[op], ss...)
		}
	}
	if len(all) == 0 {
		return nil
	}
	d.Intervals = map[string][]results.Interval{}
	h := results.NewLatencyHistogram()
	for op, ss := range all {
		slices.SortFunc(ss, func(a, b sample) int { return int(a.sec) - int(b.sec) })
		var ivs []results.Interval
		for lo := 0; lo < len(ss); {
			hi := lo
			for hi < len(ss) && ss[hi].sec == ss[lo].sec {
				_ = h.RecordValue(int64(ss[hi].us)) // clamped by Record
				hi++
			}
			enc, err := results.EncodeHistogram(h)
			if err != nil {
				return err
			}
			ivs = append(ivs, results.Interval{TS: int(ss[lo].sec), Histogram: enc})
			h.Reset()
			lo = hi
		}
		d.Intervals[op] = ivs
	}
	return nil
}

// timeline turns the merged seconds into the result's timeline.
func (r *Recorder) timeline(secs []second) []results.TimelinePoint {
	tl := make([]results.TimelinePoint, len(secs))
	for i, s := range secs {
		p := results.TimelinePoint{
			TS: i, TUnix: r.start.Unix() + int64(i),
			OK: s.ok, Conflict: s.conflict, Throttled: s.throttled, ServerErr: s.serverErr,
			Transport: s.transport, Unexpected: s.unexpected, Booked: s.booked, Arrivals: s.arrivals,
		}
		p.Errors = s.throttled + s.serverErr + s.transport
		p.RPS = float64(s.ok + s.conflict + s.throttled + s.serverErr + s.transport + s.unexpected)
		if s.hist != nil {
			q := s.hist.quantiles(50, 99)
			p.P50Ms, p.P99Ms = float64(q[0])/1000, float64(q[1])/1000
		}
		tl[i] = p
	}
	return tl
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
