package results_test

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/results"
)

// The latency bins are the buckets of a 2-digit HdrHistogram, and their
// quantiles are ValueAtQuantile's.
func TestLatencyBinsMatchHdrHistogram(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		h := hdrhistogram.New(results.HistMinMicros, results.HistMaxMicros, 2)
		var bins []results.LatencyBin
		for range 1 + rng.IntN(50) {
			v := int64(1) << rng.IntN(32)
			v += rng.Int64N(v)
			v = min(v, results.HistMaxMicros)
			_ = h.RecordValue(v)
			bins = results.AddBins(bins, []results.LatencyBin{{From: results.LatencyBinFrom(v), Count: 1}})
		}
		var got []results.LatencyBin
		for _, b := range h.Distribution() {
			if b.Count > 0 {
				got = append(got, results.LatencyBin{From: b.From, Count: b.Count})
				if to := results.LatencyBinTo(b.From); to != b.To {
					t.Fatalf("LatencyBinTo(%d) = %d; HdrHistogram %d", b.From, to, b.To)
				}
			}
		}
		if !reflect.DeepEqual(got, bins) {
			t.Fatalf("bins = %v; HdrHistogram's %v", bins, got)
		}
		for _, q := range []float64{0.5, 50, 90, 99, 99.9, 100} {
			if got, want := results.BinsQuantile(bins, q), results.ValueAtQuantile(h, q); got != want {
				t.Fatalf("BinsQuantile(%v) = %d; ValueAtQuantile %d", q, got, want)
			}
		}
	}
	if got := results.BinsQuantile(nil, 99); got != 0 {
		t.Errorf("BinsQuantile(nil) = %d; want 0", got)
	}
}

// sec builds a consistent second: ok, throttled and not_open answers,
// the decided ones at latency us.
func sec(ts int, ok, throttled, notOpen int64, us int64) results.PartitionSecond {
	s := results.PartitionSecond{TS: ts, PartitionCounts: results.PartitionCounts{
		Requests: ok + throttled + notOpen, OK: ok, Throttled: throttled, NotOpen: notOpen}}
	if n := ok + throttled; n > 0 {
		s.Latency = []results.LatencyBin{{From: results.LatencyBinFrom(us), Count: n}}
	}
	return s
}

func TestPartitionSecondsRoundTrip(t *testing.T) {
	t.Parallel()
	full := results.PartitionSecond{TS: 7, PartitionCounts: results.PartitionCounts{Requests: 36,
		OK: 1, Conflict: 2, Throttled: 3, Overloaded: 4, NotOpen: 5, ServerErr: 6, Transport: 7, Unexpected: 8},
		Latency: []results.LatencyBin{{From: 1, Count: 10}, {From: 255, Count: 1}, {From: 256, Count: 1},
			{From: results.LatencyBinFrom(30_000_000), Count: 18}, {From: results.LatencyBinFrom(results.HistMaxMicros), Count: 1}}}
	for _, tc := range []struct {
		name string
		secs []results.PartitionSecond
	}{
		{"none", nil},
		{"one", []results.PartitionSecond{sec(0, 3, 0, 0, 900)}},
		{"not open only", []results.PartitionSecond{sec(0, 0, 0, 12, 0), sec(1, 0, 0, 3, 0)}},
		{"gaps", []results.PartitionSecond{sec(2, 1, 1, 1, 2000), sec(900, 50, 7, 0, 12_345), sec(1<<20, 1, 0, 0, 1)}},
		{"every answer", []results.PartitionSecond{full}},
	} {
		enc, err := results.EncodePartitionSeconds(tc.secs)
		if err != nil {
			t.Fatalf("%s: encode: %v", tc.name, err)
		}
		got, err := results.DecodePartitionSeconds(enc)
		if err != nil {
			t.Fatalf("%s: decode: %v", tc.name, err)
		}
		if len(got) != len(tc.secs) || (len(got) > 0 && !reflect.DeepEqual(got, tc.secs)) {
			t.Errorf("%s: round trip = %+v; want %+v", tc.name, got, tc.secs)
		}
	}
}

func TestEncodePartitionSecondsRefuses(t *testing.T) {
	t.Parallel()
	bad := func(f func(*results.PartitionSecond)) []results.PartitionSecond {
		s := sec(1, 2, 1, 0, 500)
		f(&s)
		return []results.PartitionSecond{s}
	}
	for _, tc := range []struct {
		name string
		secs []results.PartitionSecond
		want string
	}{
		{"order", []results.PartitionSecond{sec(3, 1, 0, 0, 1), sec(3, 1, 0, 0, 1)}, "t_s 3 after 3"},
		{"requests", bad(func(s *results.PartitionSecond) { s.Requests++ }), "the answers add up to 3"},
		{"negative", bad(func(s *results.PartitionSecond) { s.OK, s.Throttled = -1, 4 }), "outside"},
		{"bins count", bad(func(s *results.PartitionSecond) { s.Latency[0].Count = 2 }), "the latency bins count 2; 3 bookings"},
		{"bin value", bad(func(s *results.PartitionSecond) { s.Latency[0].From = 257 }), "not the lowest value of a bin"},
		{"bin order", bad(func(s *results.PartitionSecond) {
			s.Latency = []results.LatencyBin{{From: 300, Count: 1}, {From: 200, Count: 2}}
		}), "want increasing"},
	} {
		_, err := results.EncodePartitionSeconds(tc.secs)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: encode = %v; want an error containing %q", tc.name, err, tc.want)
		}
	}
	for _, s := range []string{"", "!!", "eJwDAAAAAAE=", "eJxjZGBgAAAACAAD"} {
		if _, err := results.DecodePartitionSeconds(s); err == nil {
			t.Errorf("DecodePartitionSeconds(%q) = nil error; want one", s)
		}
	}
}

// NewPartitionResults keeps the hottest partitions' series, sums the
// others, and states every partition's totals and availability.
func TestNewPartitionResults(t *testing.T) {
	t.Parallel()
	in := []results.PartitionInput{
		{Key: "ppv-b", Seconds: []results.PartitionSecond{sec(0, 5, 0, 2, 1000), sec(1, 1, 9, 0, 3000)}}, // 17: refused 90% at 1
		{Key: "ppv-a", Seconds: []results.PartitionSecond{sec(1, 3, 0, 0, 800)}},                         // 3
		{Key: "ppv-c", Seconds: []results.PartitionSecond{sec(0, 100, 1, 0, 700), sec(2, 4, 0, 0, 900)}}, // 105: 1% refused
		{Key: "ppv-d", Seconds: []results.PartitionSecond{sec(2, 3, 0, 0, 800)}},                         // 3
		{Key: "ppv-idle"},
	}
	p, err := results.NewPartitionResults(100, 2, 4, in)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, tt := range p.Totals {
		keys = append(keys, tt.Key)
	}
	if want := []string{"ppv-a", "ppv-b", "ppv-c", "ppv-d"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("totals = %v; want %v (sorted, without the idle partition)", keys, want)
	}
	if len(p.Series) != 2 || p.Series[0].Key != "ppv-c" || p.Series[1].Key != "ppv-b" {
		t.Errorf("series = %+v; want ppv-c then ppv-b", p.Series)
	}
	if p.Others == nil || p.Others.Partitions != 2 || p.Others.Key != "" {
		t.Fatalf("others = %+v; want the 2 others", p.Others)
	}
	others, err := p.Others.Decode()
	if err != nil {
		t.Fatal(err)
	}
	want := []results.PartitionSecond{sec(1, 3, 0, 0, 800), sec(2, 3, 0, 0, 800)}
	if !reflect.DeepEqual(others, want) {
		t.Errorf("others = %+v; want %+v", others, want)
	}
	b, _ := p.Total("ppv-b")
	if a := *b.Availability; a != (results.PartitionAvailability{Seconds: 2, Available: 1, PeakRefused: 0.9, PeakTS: 1}) {
		t.Errorf("ppv-b availability = %+v; want 1 of 2 seconds, peak 90%% at 1", a)
	}
	if c, _ := p.Total("ppv-c"); *c.Availability != (results.PartitionAvailability{Seconds: 2, Available: 2, PeakRefused: 1.0 / 101}) {
		t.Errorf("ppv-c availability = %+v; want 2 of 2 (1 refused in 101 is within 1%%)", *c.Availability)
	}
	if p.Keep != 2 || p.StartUnix != 100 || p.Unattributed != 4 || p.Attribution != results.AttributionBook {
		t.Errorf("header = keep %d, start %d, unattributed %d, %q", p.Keep, p.StartUnix, p.Unattributed, p.Attribution)
	}
	if p.Series[0].P99Ms != float64(results.LatencyBinTo(results.LatencyBinFrom(900)))/1000 {
		t.Errorf("ppv-c p99 = %v; want its 99th of 105 values, in the 900 µs bin", p.Series[0].P99Ms)
	}
	if _, err := results.NewPartitionResults(0, 1, 0, []results.PartitionInput{in[0], in[0]}); err == nil {
		t.Errorf("a partition given twice: no error")
	}
}

// secondSums adds up every series of p and its others by absolute second.
func secondSums(t *testing.T, p *results.PartitionResults) map[int64]results.PartitionCounts {
	t.Helper()
	out := map[int64]results.PartitionCounts{}
	series := append([]results.PartitionSeries(nil), p.Series...)
	if p.Others != nil {
		series = append(series, *p.Others)
	}
	for i := range series {
		secs, err := series[i].Decode()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secs {
			c := out[p.StartUnix+int64(s.TS)]
			c.Add(s.PartitionCounts)
			out[p.StartUnix+int64(s.TS)] = c
		}
	}
	return out
}

// Halves of a run that keep different partitions merge into the union of
// their kept partitions (at most Keep, the hottest): a partition kept in
// one half only is partial, its availability unknown; counts stay exact,
// on absolute time (the second half starts a second later).
func TestMergePartitionsKeptSetsDiffer(t *testing.T) {
	t.Parallel()
	book := func(user int, part string, ms int) req {
		return req{op: results.OpBook, done: time.Duration(ms) * time.Millisecond, us: 2000, status: 201, user: user, part: part}
	}
	var a, b []req
	for i := range 6 {
		a = append(a, book(0, "ppv-x", 100*i))      // x: hot in a
		b = append(b, book(1, "ppv-y", 100*i+1000)) // y: hot in b
	}
	a = append(a, book(0, "ppv-y", 1500), book(0, "ppv-z", 1500))
	// w: asked in b alone, and refused there (its worst second moves
	// with b's later start).
	w := book(1, "ppv-w", 2100)
	w.status = 429
	b = append(b, book(1, "ppv-x", 1600), book(1, "ppv-z", 1700), book(1, "ppv-x", 1800), w)
	whole := runOfKeep(t, 0, append(append([]req(nil), a...), b...), 1)
	m, err := results.Merge(runOfKeep(t, 0, a, 1), runOfKeep(t, time.Second, b, 1))
	if err != nil {
		t.Fatal(err)
	}
	got, want := m.Designs[0].ByPartition, whole.Designs[0].ByPartition
	if len(got.Series) != 1 || got.Series[0].Key != "ppv-x" || !got.Series[0].Partial {
		t.Errorf("series = %+v; want ppv-x alone (the hotter merged, 8 to 7), partial", got.Series)
	}
	if got.Others == nil || got.Others.Partitions != 3 {
		t.Errorf("others = %+v; want w, y and z", got.Others)
	}
	for _, tt := range got.Totals {
		w, _ := want.Total(tt.Key)
		if tt.PartitionCounts != w.PartitionCounts {
			t.Errorf("totals %s = %+v; want %+v", tt.Key, tt.PartitionCounts, w.PartitionCounts)
		}
		switch {
		case tt.Key == "ppv-w" && !reflect.DeepEqual(tt.Availability, w.Availability):
			t.Errorf("ppv-w: availability %+v; want the whole run's %+v (one half alone asked it)", tt.Availability, w.Availability)
		case tt.Key != "ppv-w" && tt.Availability != nil:
			t.Errorf("%s: availability %+v; want unknown (in both halves, not kept whole in both)", tt.Key, *tt.Availability)
		}
	}
	if g, w := secondSums(t, got), secondSums(t, want); !reflect.DeepEqual(g, w) {
		t.Errorf("seconds of the merge = %v; the whole run's %v", g, w)
	}
	if len(got.Totals) != 4 {
		t.Errorf("totals = %+v; want w, x, y, z", got.Totals)
	}
}

// Check finds a per-partition section that does not add up.
func TestCheckPartitions(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	reqs := synthRequests(rng, 400, 3*time.Second)
	for _, tc := range []struct {
		name   string
		change func(p *results.PartitionResults)
		want   string
	}{
		{"fine", func(*results.PartitionResults) {}, ""},
		{"totals order", func(p *results.PartitionResults) { p.Totals[0], p.Totals[1] = p.Totals[1], p.Totals[0] }, "want distinct non-empty keys in order"},
		{"answers", func(p *results.PartitionResults) { p.Totals[0].OK++ }, "the answers add up to"},
		{"book count", func(p *results.PartitionResults) { p.Unattributed++ }, "the book histogram counts"},
		{"series order", func(p *results.PartitionResults) { p.Series[0], p.Series[1] = p.Series[1], p.Series[0] }, "not in order of requests"},
		{"series unknown", func(p *results.PartitionResults) { p.Series[0].Key = "ppv-nowhere" }, "not in the totals"},
		{"series damaged", func(p *results.PartitionResults) { p.Series[0].Seconds = "AAAA" }, "partition seconds"},
		{"series sum", func(p *results.PartitionResults) {
			p.Series[0].Seconds, p.Series[0].P99Ms = p.Series[1].Seconds, p.Series[1].P99Ms
		}, "adds up to"},
		{"p99", func(p *results.PartitionResults) { p.Series[0].P99Ms++ }, "p99_ms"},
		{"availability", func(p *results.PartitionResults) { p.Totals[0].Availability.Available++ }, "availability"},
		{"keep", func(p *results.PartitionResults) { p.Keep = 1 }, "series kept; keep 1"},
	} {
		r := runOfKeep(t, 0, reqs, 3)
		tc.change(r.Designs[0].ByPartition)
		err := errors(r.Check())
		switch {
		case tc.want == "" && err != "":
			t.Errorf("%s: Check = %s; want nothing", tc.name, err)
		case tc.want != "" && !strings.Contains(err, tc.want):
			t.Errorf("%s: Check = %q; want an error containing %q", tc.name, err, tc.want)
		}
	}
	// More requests in a second than the timeline's: not the same run.
	r := runOfKeep(t, 0, reqs, 3)
	r.Designs[0].Timeline[0].OK, r.Designs[0].Timeline[0].Throttled = 0, 0
	if err := errors(r.Check()); !strings.Contains(err, "more than the timeline's second") {
		t.Errorf("Check with a timeline short of the partitions' answers = %q", err)
	}
}

func errors(errs []error) string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return strings.Join(s, "; ")
}

// A result written before the per-partition results existed reads, checks
// and merges as before.
func TestPartitionsAbsent(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 8))
	r := runOf(t, 0, synthRequests(rng, 200, 2*time.Second))
	r.Designs[0].ByPartition = nil
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("Check = %v", errs)
	}
	with := runOf(t, 0, synthRequests(rng, 200, 2*time.Second))
	m, err := results.Merge(r, with)
	if err != nil {
		t.Fatal(err)
	}
	if m.Designs[0].ByPartition != nil {
		t.Errorf("merge of a part without partitions has some")
	}
	if w := results.MergeWarnings(r, with); len(w) != 1 || !strings.Contains(w[0], "parts 2 have per-partition results and parts 1 do not") {
		t.Errorf("MergeWarnings = %q; want one naming the part without", w)
	}
}
