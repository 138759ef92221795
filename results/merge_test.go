package results_test

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/results"
)

// req is one request of a synthetic run: its operation, when it completed
// (from base), its latency and status, and the user who sent it.
type req struct {
	op     string
	done   time.Duration
	us     int64
	status int
	user   int
	retry  bool
	// part is the partition a booking names ("" for none); notOpen marks
	// a 503 answered not_open.
	part    string
	notOpen bool
}

var base = time.Date(2021, time.May, 26, 4, 0, 0, 0, time.UTC)

// runOf builds the result of a run started at base+at that sent reqs, as
// the live engine's recorder would: histograms, per-second intervals and a
// timeline from the requests' completion seconds, users from the users
// who sent them (user u books when one of its requests is a 201 book).
func runOf(t *testing.T, at time.Duration, reqs []req) *results.Result {
	t.Helper()
	return runOfKeep(t, at, reqs, 0)
}

// runOfKeep is runOf keeping the series of keep partitions (0: the
// default), with the bookings by partition as the recorder counts them.
func runOfKeep(t *testing.T, at time.Duration, reqs []req, keep int) *results.Result {
	t.Helper()
	start := base.Add(at)
	d := results.DesignResult{Design: "per-ppv-day", Requests: results.Requests{ByStatus: map[string]int64{}},
		LatencyMs: map[string]results.LatencySummary{}, Histograms: map[string]string{}, Intervals: map[string][]results.Interval{},
		Slots: results.Slots{Capacity: 1000, Persisted: 0, Audit: results.AuditAPI, Inventory: results.InventoryAPI}}
	hists := map[string]*hdrhistogram.Histogram{}
	secs := map[string]map[int]*hdrhistogram.Histogram{}
	tl := map[int]*results.TimelinePoint{}
	tlh := map[int]*hdrhistogram.Histogram{}
	users := map[int]bool{}
	var last time.Duration
	var retries int64
	for _, r := range reqs {
		sec := int((r.done - at) / time.Second)
		if hists[r.op] == nil {
			hists[r.op], secs[r.op] = results.NewLatencyHistogram(), map[int]*hdrhistogram.Histogram{}
		}
		if secs[r.op][sec] == nil {
			secs[r.op][sec] = results.NewLatencyHistogram()
		}
		if tl[sec] == nil {
			tl[sec] = &results.TimelinePoint{TS: sec, TUnix: start.Unix() + int64(sec)}
			tlh[sec] = hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
		}
		_ = hists[r.op].RecordValue(r.us)
		_ = secs[r.op][sec].RecordValue(r.us)
		_ = tlh[sec].RecordValue(r.us)
		if sub := bookOutcome(r); sub != "" {
			// The split of booking latency by answer, as the recorder
			// keeps it: histograms and intervals, not the timeline.
			if hists[sub] == nil {
				hists[sub], secs[sub] = results.NewLatencyHistogram(), map[int]*hdrhistogram.Histogram{}
			}
			if secs[sub][sec] == nil {
				secs[sub][sec] = results.NewLatencyHistogram()
			}
			_ = hists[sub].RecordValue(r.us)
			_ = secs[sub][sec].RecordValue(r.us)
		}
		p := tl[sec]
		p.RPS++
		d.Requests.Total++
		d.Requests.ByStatus[strconv.Itoa(r.status)]++
		switch {
		case r.status == 201:
			p.OK++
			p.Booked++
			users[r.user] = true
			d.Slots.Booked++
			d.Slots.Answered201++
			d.Slots.Persisted++
		case r.status < 300:
			p.OK++
		case r.status == 409:
			p.Conflict++
		case r.status == 503:
			p.ServerErr++
			p.Errors++
		default:
			p.Throttled++
			p.Errors++
		}
		if _, ok := users[r.user]; !ok {
			users[r.user] = false
		}
		if r.retry {
			retries++
		}
		last = max(last, r.done-at)
	}
	for op, h := range hists {
		d.Histograms[op] = encode(t, h)
		d.LatencyMs[op] = results.Summarize(h)
		for sec := 0; sec <= int(last/time.Second); sec++ {
			if ih := secs[op][sec]; ih != nil {
				d.Intervals[op] = append(d.Intervals[op], results.Interval{TS: sec, Histogram: encode(t, ih)})
			}
		}
	}
	for sec := 0; sec <= int(last/time.Second); sec++ {
		if p := tl[sec]; p != nil {
			q := results.ValuesAtQuantiles(tlh[sec], 50, 99)
			p.P50Ms, p.P99Ms = float64(q[0])/1000, float64(q[1])/1000
			d.Timeline = append(d.Timeline, *p)
		}
	}
	ttb := results.NewLatencyHistogram()
	for u, booked := range users {
		d.Users.Arrived++
		if booked {
			d.Users.Booked++
			_ = ttb.RecordValue(int64(1000 + u))
		} else {
			d.Users.GaveUp++
		}
	}
	d.Users.TimeToBook = encode(t, ttb)
	d.Users.RequestsPerUser = float64(d.Requests.Total) / float64(d.Users.Arrived)
	d.Users.RetryAmplification = float64(d.Requests.Total) / float64(d.Requests.Total-retries)
	d.DurationS = float64(last/time.Second + 1)
	d.ByPartition = partitionsOf(t, start.Unix(), at, reqs, keep)
	r := &results.Result{Format: results.FormatVersion, Scenario: "demo", Engine: results.EngineLive, Seed: 7,
		StartedAt: start, FinishedAt: start.Add(time.Duration(d.DurationS) * time.Second), Designs: []results.DesignResult{d}}
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("synthetic run fails Check: %v", errs)
	}
	return r
}

// bookOutcome returns the operation a request's latency is also kept
// under: book_booked for a 201 to book, book_refused for a 429 or 503 to
// book, "" for any other.
func bookOutcome(r req) string {
	switch {
	case r.op != results.OpBook:
		return ""
	case r.status == 201:
		return results.OpBookBooked
	case r.status == 429 || r.status == 503:
		return results.OpBookRefused
	}
	return ""
}

// partitionsOf returns the bookings of reqs by partition, for a run
// started at at (Unix second startUnix), keeping keep series.
func partitionsOf(t *testing.T, startUnix int64, at time.Duration, reqs []req, keep int) *results.PartitionResults {
	t.Helper()
	secs := map[string]map[int]*results.PartitionSecond{}
	var unattributed int64
	for _, r := range reqs {
		if r.op != results.OpBook {
			continue
		}
		if r.part == "" {
			unattributed++
			continue
		}
		if secs[r.part] == nil {
			secs[r.part] = map[int]*results.PartitionSecond{}
		}
		sec := int((r.done - at) / time.Second)
		s := secs[r.part][sec]
		if s == nil {
			s = &results.PartitionSecond{TS: sec}
			secs[r.part][sec] = s
		}
		s.Requests++
		switch {
		case r.status < 300:
			s.OK++
		case r.status == 409:
			s.Conflict++
		case r.status == 503 && r.notOpen:
			s.NotOpen++
			continue // no latency bin
		case r.status == 503:
			s.Overloaded++
		default:
			s.Throttled++
		}
		s.Latency = results.AddBins(s.Latency, []results.LatencyBin{{From: results.LatencyBinFrom(r.us), Count: 1}})
	}
	var in []results.PartitionInput
	for key, bySec := range secs {
		pi := results.PartitionInput{Key: key}
		for _, s := range bySec {
			pi.Seconds = append(pi.Seconds, *s)
		}
		slices.SortFunc(pi.Seconds, func(a, b results.PartitionSecond) int { return a.TS - b.TS })
		in = append(in, pi)
	}
	p, err := results.NewPartitionResults(startUnix, keep, unattributed, in)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func encode(t *testing.T, h *hdrhistogram.Histogram) string {
	t.Helper()
	s, err := results.EncodeHistogram(h)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// synthRequests invents n requests of users completed over span, from rng.
func synthRequests(rng *rand.Rand, n int, span time.Duration) []req {
	ops := []string{results.OpListPPVs, results.OpListSlots, results.OpBook}
	statuses := []int{200, 200, 200, 201, 409, 429, 503}
	// Partitions of skewed popularity; a booking of no slot now and then.
	parts := []string{"ppv-a-2021-06-07", "ppv-a-2021-06-07", "ppv-a-2021-06-07", "ppv-a-2021-06-08", "ppv-a-2021-06-08",
		"ppv-b-2021-06-07", "ppv-c-2021-06-07", "ppv-d-2021-06-07", ""}
	out := make([]req, n)
	for i := range out {
		op := ops[rng.IntN(len(ops))]
		st := statuses[rng.IntN(len(statuses))]
		if op != results.OpBook && st > 200 {
			st = 200
		}
		out[i] = req{op: op, done: time.Duration(rng.Int64N(int64(span))), us: 100 + rng.Int64N(2_000_000),
			status: st, user: rng.IntN(n / 4), retry: rng.IntN(5) == 0}
		if op == results.OpBook {
			out[i].part = parts[rng.IntN(len(parts))]
			out[i].notOpen = st == 503 && rng.IntN(2) == 0
		}
	}
	return out
}

// TestMergeEqualsSingleRun splits one synthetic run into N parts by user
// (as segments split a crowd), started whole seconds apart, and checks
// that their merge is exactly the single run: counts, histograms,
// percentiles, intervals and timeline on absolute time, users.
func TestMergeEqualsSingleRun(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 4} {
		rng := rand.New(rand.NewPCG(uint64(n), 11))
		all := synthRequests(rng, 2000, 4*time.Second)
		single := runOf(t, 0, all)
		parts := make([]*results.Result, n)
		for k := range n {
			var mine []req
			for _, r := range all {
				if r.user%n == k {
					mine = append(mine, r)
				}
			}
			// Part k starts k seconds late (its first requests come
			// later); part 0 starts with the single run.
			at := time.Duration(0)
			if k > 0 {
				at = time.Duration(min(k, 1)) * time.Second
				mine = keepFrom(mine, at)
			}
			parts[k] = runOf(t, at, mine)
		}
		if n > 1 {
			// Part 0 has requests in every second, so the single
			// run built from what the parts kept is the reference.
			var kept []req
			for k := range parts {
				kept = append(kept, reqsOf(all, n, k)...)
			}
			single = runOf(t, 0, kept)
		}
		got, err := results.Merge(parts...)
		if err != nil {
			t.Fatalf("n=%d: Merge: %v", n, err)
		}
		compareMerged(t, n, got, single)
	}
}

// keepFrom drops the requests completed before at.
func keepFrom(rs []req, at time.Duration) []req {
	out := rs[:0:0]
	for _, r := range rs {
		if r.done >= at {
			out = append(out, r)
		}
	}
	return out
}

// reqsOf is the requests part k of n kept (see TestMergeEqualsSingleRun).
func reqsOf(all []req, n, k int) []req {
	var mine []req
	for _, r := range all {
		if r.user%n == k {
			mine = append(mine, r)
		}
	}
	if k > 0 {
		mine = keepFrom(mine, time.Second)
	}
	return mine
}

func compareMerged(t *testing.T, n int, got, want *results.Result) {
	t.Helper()
	g, w := got.Designs[0], want.Designs[0]
	if !got.StartedAt.Equal(want.StartedAt) {
		t.Errorf("n=%d: started at %v; want %v", n, got.StartedAt, want.StartedAt)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"requests", g.Requests, w.Requests},
		{"latency_ms", g.LatencyMs, w.LatencyMs},
		{"histograms", g.Histograms, w.Histograms},
		{"intervals", g.Intervals, w.Intervals},
		{"timeline", g.Timeline, w.Timeline},
		{"slots", g.Slots, w.Slots},
		{"users.arrived", g.Users.Arrived, w.Users.Arrived},
		{"users.booked", g.Users.Booked, w.Users.Booked},
		{"users.time_to_book", g.Users.TimeToBook, w.Users.TimeToBook},
		{"duration_s", g.DurationS, w.DurationS},
		{"by_partition", g.ByPartition, w.ByPartition},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("n=%d: merged %s = %+v\nwant %+v", n, c.name, c.got, c.want)
		}
	}
	if d := g.Users.RequestsPerUser - w.Users.RequestsPerUser; d > 1e-9 || d < -1e-9 {
		t.Errorf("n=%d: requests per user = %v; want %v", n, g.Users.RequestsPerUser, w.Users.RequestsPerUser)
	}
	if d := g.Users.RetryAmplification - w.Users.RetryAmplification; d > 1e-9 || d < -1e-9 {
		t.Errorf("n=%d: retry amplification = %v; want %v", n, g.Users.RetryAmplification, w.Users.RetryAmplification)
	}
}

// TestMergeRefuses checks that parts of different runs are refused with
// the field and both values.
func TestMergeRefuses(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	reqs := synthRequests(rng, 60, time.Second)
	for _, tc := range []struct {
		name   string
		change func(r *results.Result)
		want   string
	}{
		{"scenario", func(r *results.Result) { r.Scenario = "ci-smoke" }, "scenario ci-smoke; part 1 demo"},
		{"seed", func(r *results.Result) { r.Seed = 8 }, "seed 8; part 1 7"},
		{"engine", func(r *results.Result) { r.Engine = results.EngineModel }, "engine model; part 1 live"},
		{"designs", func(r *results.Result) { r.Designs[0].Design = "monolithic" }, "designs [monolithic]; part 1 [per-ppv-day]"},
		{"capacity", func(r *results.Result) { r.Designs[0].Slots.Capacity = 999 }, "capacity 999; part 1 1000"},
		{"assumptions", func(r *results.Result) { r.Designs[0].Assumptions.Partitions = 3 }, "part 2 has assumptions"},
		{"overbooked", func(r *results.Result) { r.Designs[0].Slots.Booked = 1000 }, "fails its check"},
	} {
		a, b := runOf(t, 0, reqs), runOf(t, 0, reqs)
		tc.change(b)
		_, err := results.Merge(a, b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Merge = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := results.Merge(); err == nil {
		t.Errorf("Merge() = nil error; want one")
	}
}

// TestMergeAlignsAbsoluteSeconds merges two parts started 3 s apart with
// one request each in the same absolute second.
func TestMergeAlignsAbsoluteSeconds(t *testing.T) {
	t.Parallel()
	a := runOf(t, 0, []req{{op: results.OpBook, done: 5500 * time.Millisecond, us: 1000, status: 201, user: 1}})
	b := runOf(t, 3*time.Second, []req{{op: results.OpBook, done: 5200 * time.Millisecond, us: 3000, status: 409, user: 2}})
	m, err := results.Merge(b, a)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Designs[0]
	if !m.StartedAt.Equal(base) {
		t.Errorf("StartedAt = %v; want the earliest %v", m.StartedAt, base)
	}
	if len(d.Timeline) != 1 || d.Timeline[0].TS != 5 || d.Timeline[0].TUnix != base.Unix()+5 || d.Timeline[0].RPS != 2 ||
		d.Timeline[0].Booked != 1 || d.Timeline[0].Conflict != 1 || d.Timeline[0].P99Ms != 3.007 {
		t.Errorf("timeline = %+v; want one point at t_s 5 with both requests, p99 3.007 ms (3 ms at 2 digits)", d.Timeline)
	}
	if ivs := d.Intervals[results.OpBook]; len(ivs) != 1 || ivs[0].TS != 5 {
		t.Errorf("intervals = %+v; want one at t_s 5", ivs)
	}
	if d.DurationS != 6 {
		t.Errorf("duration = %v; want 6 (0 to the end of b's second 2)", d.DurationS)
	}
}

func TestCheckSegments(t *testing.T) {
	t.Parallel()
	at := base
	seg := func(i, n int, hash string) results.SegmentInfo {
		return results.SegmentInfo{Index: i, Of: n, CrowdHash: hash, StartAt: at}
	}
	for _, tc := range []struct {
		name    string
		segs    []results.SegmentInfo
		partial bool
		want    string
	}{
		{"whole", []results.SegmentInfo{seg(2, 3, "h"), seg(1, 3, "h"), seg(3, 3, "h")}, false, ""},
		{"twice", []results.SegmentInfo{seg(1, 2, "h"), seg(1, 2, "h")}, false, "segment 1/2 twice: parts 1 and 2"},
		{"missing", []results.SegmentInfo{seg(1, 3, "h")}, false, "segments 2/3, 3/3 missing"},
		{"partial", []results.SegmentInfo{seg(1, 3, "h")}, true, ""},
		{"crowd", []results.SegmentInfo{seg(1, 2, "h"), seg(2, 2, "x")}, false, "part 2 replays crowd x; part 1 crowd h"},
		{"of", []results.SegmentInfo{seg(1, 2, "h"), seg(2, 3, "h")}, false, "segment of 3; part 1 of 2"},
		{"range", []results.SegmentInfo{seg(3, 2, "h")}, true, "segment 3/2"},
		{"none", nil, false, "no segments"},
	} {
		err := results.CheckSegments(tc.segs, tc.partial)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: CheckSegments = %v; want nil", tc.name, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: CheckSegments = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
}
