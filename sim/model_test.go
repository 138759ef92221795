package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

func loadScenario(t testing.TB, name string) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func simulate(t testing.TB, sc *scenarios.Scenario, seed int64, opts ...ModelOption) (*results.Result, []ModelStats) {
	t.Helper()
	designs, err := sc.BuildDesigns(nil)
	if err != nil {
		t.Fatal(err)
	}
	res, stats, err := Simulate(context.Background(), sc, designs, seed, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return res, stats
}

// canonical returns r's JSON without its wall-clock timestamps and
// environment.
func canonical(t testing.TB, r *results.Result) []byte {
	t.Helper()
	c := *r
	c.StartedAt, c.FinishedAt = time.Time{}, time.Time{}
	c.Environment = results.Environment{}
	var b bytes.Buffer
	if err := c.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestModelDeterministic: the same scenario and seed give a byte-identical
// result apart from timestamps, however many designs run at once; another
// seed gives another result. The first result is also checked for what no
// design or load may break (checkModelInvariants).
func TestModelDeterministic(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ci-smoke", "refresh-storm"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			sc := loadScenario(t, name)
			a, stats := simulate(t, sc, sc.Seed, WithParallelism(1))
			checkModelInvariants(t, sc, a, stats)
			b, _ := simulate(t, sc, sc.Seed, WithParallelism(4))
			ja, jb := canonical(t, a), canonical(t, b)
			if !bytes.Equal(ja, jb) {
				t.Fatalf("two runs with seed %d differ:\n%s", sc.Seed, firstDiff(ja, jb))
			}
			c, _ := simulate(t, sc, sc.Seed+1)
			if bytes.Equal(ja, canonical(t, c)) {
				t.Errorf("seeds %d and %d give the same result", sc.Seed, sc.Seed+1)
			}
		})
	}
}

func firstDiff(a, b []byte) string {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return "line " + strconv.Itoa(i+1) + ":\n  " + la[i] + "\n  " + lb[i]
		}
	}
	return "lengths differ"
}

// checkModelInvariants checks what no design or load may break in res, the
// result of sc with its run statistics stats, and that a model result has
// the shape of a live one.
func checkModelInvariants(t *testing.T, sc *scenarios.Scenario, res *results.Result, stats []ModelStats) {
	t.Helper()
	if errs := res.Check(); len(errs) > 0 {
		t.Fatalf("Check() = %v", errs)
	}
	if res.Engine != results.EngineModel || res.Format != results.FormatVersion {
		t.Errorf("engine %q format %d; want %q %d", res.Engine, res.Format, results.EngineModel, results.FormatVersion)
	}
	for i, d := range res.Designs {
		if d.Slots.Oversold != 0 || d.Slots.Booked > d.Slots.Capacity {
			t.Errorf("%s: booked %d of %d, oversold %d", d.Design, d.Slots.Booked, d.Slots.Capacity, d.Slots.Oversold)
		}
		if d.Users.Booked > d.Slots.Booked {
			t.Errorf("%s: %d users booked but %d places taken", d.Design, d.Users.Booked, d.Slots.Booked)
		}
		if d.Users.Arrived != int64(sc.Crowd.Size) {
			t.Errorf("%s: arrived %d; want %d", d.Design, d.Users.Arrived, sc.Crowd.Size)
		}
		if d.Requests.Total != stats[i].Requests {
			t.Errorf("%s: result counts %d requests, the run %d", d.Design, d.Requests.Total, stats[i].Requests)
		}
		for _, op := range []string{results.OpListPPVs, results.OpListSlots, results.OpBook} {
			if op != results.OpBook && strings.HasSuffix(d.Design, models.CentreRoomsSuffix) {
				continue // the rooms name the day: listing is rare or absent
			}
			if _, ok := d.LatencyMs[op]; !ok {
				t.Errorf("%s: no latency of %s", d.Design, op)
			}
			if _, err := d.Histogram(op); err != nil {
				t.Errorf("%s: %v", d.Design, err)
			}
		}
		if len(d.Timeline) == 0 || d.Timeline[0].TUnix != 0 {
			t.Errorf("%s: timeline starts %v; want t_unix 0 (the virtual epoch)", d.Design, d.Timeline[:min(1, len(d.Timeline))])
		}
		if len(d.Calibration) == 0 {
			t.Errorf("%s: no calibration listed", d.Design)
		}
		// Every request the booking API got was a first try or a
		// retry: amplification at least 1, and the room's polls
		// are there exactly with a room.
		if u := d.Users; u.RetryAmplification < 1 || (u.RoomPollsPerUser > 0) != d.Assumptions.WaitingRoom ||
			math.Abs(u.RequestsPerUser-float64(d.Requests.Total)/float64(u.Arrived)) > 1e-9 || u.RoomPollsPerUser >= u.RequestsPerUser {
			t.Errorf("%s: retry amplification %v, requests per user %v, room polls per user %v, waiting room %v",
				d.Design, u.RetryAmplification, u.RequestsPerUser, u.RoomPollsPerUser, d.Assumptions.WaitingRoom)
		}
		var committed int64
		for _, p := range stats[i].Partitions {
			committed += p.Committed
		}
		if committed != d.Slots.Booked {
			t.Errorf("%s: partitions committed %d; slots booked %d", d.Design, committed, d.Slots.Booked)
		}
		checkModelPartitions(t, &d, stats[i])
		// The clients' tally against the partitions' places, as the
		// live audit checks them: every 201 is a place, and a place
		// without a 201 is a booking whose answer timed out.
		if sl := d.Slots; sl.Answered201 > sl.Booked || sl.Booked-sl.Answered201 > d.Requests.TransportErrors {
			t.Errorf("%s: %d answered 201, %d places booked, %d transport errors", d.Design, sl.Answered201, sl.Booked, d.Requests.TransportErrors)
		}
	}
}

// checkModelPartitions checks d's bookings by partition against what its
// partitions did (st): every partition asked is one of the design's, and
// each booking a partition committed or throttled was answered so, or
// timed out first. Check has made sure the series add up.
func checkModelPartitions(t *testing.T, d *results.DesignResult, st ModelStats) {
	t.Helper()
	p := d.ByPartition
	if p == nil {
		t.Fatalf("%s: no bookings by partition", d.Design)
	}
	if p.StartUnix != 0 || p.Unattributed != 0 || p.Keep != results.DefaultKeptPartitions {
		t.Errorf("%s: start %d, %d unattributed, keep %d", d.Design, p.StartUnix, p.Unattributed, p.Keep)
	}
	if want := min(len(p.Totals), p.Keep); len(p.Series) != want || (p.Others != nil) != (len(p.Totals) > want) {
		t.Errorf("%s: %d series, others %v, of %d partitions asked", d.Design, len(p.Series), p.Others != nil, len(p.Totals))
	}
	byKey := map[string]PartitionModelStats{}
	for _, ps := range st.Partitions {
		byKey[ps.Key] = ps
	}
	for _, tt := range p.Totals {
		ps, ok := byKey[tt.Key]
		switch {
		case !ok:
			t.Errorf("%s: partition %q asked, not one of the design's", d.Design, tt.Key)
		case ps.Committed > tt.OK+tt.Transport || ps.Throttled > tt.Throttled+tt.Transport || ps.Shed > tt.Overloaded+tt.Transport:
			t.Errorf("%s: partition %s committed %d, throttled %d, shed %d bookings; its clients got %+v",
				d.Design, tt.Key, ps.Committed, ps.Throttled, ps.Shed, tt.PartitionCounts)
		case tt.Availability == nil:
			t.Errorf("%s: partition %s: availability unknown", d.Design, tt.Key)
		}
	}
}

// TestModelOnePersonOneBooking drives a booking through a timeout: the
// first attempt commits after its client gave up, the retry gets the same
// booking back, and no person ever holds two.
func TestModelOnePersonOneBooking(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	sc.Journey.RequestTimeout = 2 * time.Millisecond // shorter than a commit
	p := DefaultModelParams()
	p.CommitBase, p.CommitShape = 5*time.Millisecond, Dist{}
	d, err := models.ParseDesign("per-ppv-day", models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(sc.Seed)
	m, err := newModelRun(sc, d, &inv, crowd, sc.Seed, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if m.tally.trans == 0 {
		t.Fatal("no request timed out; the test needs some")
	}
	var held int
	for i := range m.users {
		if m.users[i].bookedKey != "" {
			held++
		}
	}
	var taken int
	for _, s := range m.slots {
		taken += int(s.capacity - s.remaining)
		if s.remaining < 0 {
			t.Errorf("slot %v oversold", s.date)
		}
	}
	if held != taken {
		t.Errorf("%d people hold a booking; %d places taken", held, taken)
	}
	if m.tally.byStatus[201] == 0 {
		t.Error("no booking answered 201")
	}
}

func TestTokenBucket(t *testing.T) {
	t.Parallel()
	b := newBucket(10, 2) // 10/s, 2 deep, starts full
	ms := int64(time.Millisecond)
	for i, tt := range []struct {
		at   int64
		ok   bool
		wait int64
	}{
		{0, true, 0}, {0, true, 0}, {0, false, 100 * ms}, // burst of 2, then empty
		{50 * ms, false, 50 * ms}, // half a token
		{100 * ms, true, 0},       // one token refilled
		{100 * ms, false, 100 * ms},
		{10_000 * ms, true, 0}, {10_000 * ms, true, 0}, {10_000 * ms, false, 100 * ms}, // capped at the burst
	} {
		wait, ok := b.allow(tt.at)
		if ok != tt.ok || (!ok && math.Abs(float64(wait-tt.wait)) > 1) {
			t.Errorf("step %d: allow(%v) = %v, %v; want %v, %v", i, time.Duration(tt.at), time.Duration(wait), ok, time.Duration(tt.wait), tt.ok)
		}
	}
	if got := modelRetryAfter(int64(1500 * time.Microsecond)); got != 2*time.Millisecond {
		t.Errorf("modelRetryAfter(1.5ms) = %v; want 2ms (rounded up)", got)
	}
	if got := modelRetryAfter(1); got != time.Millisecond {
		t.Errorf("modelRetryAfter(1ns) = %v; want 1ms (at least)", got)
	}
	if ub := newBucket(0, 0); !func() bool { _, ok := ub.allow(0); return ok }() {
		t.Error("a zero-rate bucket must admit everything")
	}
}

// liveFixture returns a live result whose server statistics are known: the
// client sees list_ppvs 200 µs slower than the server serves it, the server
// serves list_ppvs in 20 µs and reads a partition in 100 µs (a few
// listings refused at 15 µs), and the group commits of two partitions lie
// on t = 300 µs + 50 µs·n.
func liveFixture(t *testing.T) *results.Result {
	t.Helper()
	hist := func(vals map[int64]int64) string {
		h := results.NewLatencyHistogram()
		for v, n := range vals {
			if err := h.RecordValues(v, n); err != nil {
				t.Fatal(err)
			}
		}
		s, err := results.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	d := results.DesignResult{
		Design:      "per-ppv",
		Assumptions: results.Assumptions{Scheme: models.PerPPV, Partitions: 2},
		Requests:    results.Requests{ByStatus: map[string]int64{"200": 1000}, Total: 1000},
		Histograms: map[string]string{
			results.OpListPPVs: hist(map[int64]int64{220: 900, 400: 100}),
			results.OpBook:     hist(map[int64]int64{1000: 1000}),
		},
		Server: &results.ServerStats{
			Service: map[string]string{
				results.OpListPPVs:  hist(map[int64]int64{20: 1000}),
				results.OpListSlots: hist(map[int64]int64{15: 100, 120: 900}),
				results.OpBook:      hist(map[int64]int64{10: 100, 500: 800, 2000: 100}),
			},
			Partitions: []results.PartitionStats{
				{Key: "ppv-a", Committed: 200, Batches: 100, MeanBatch: 2, BusySeconds: 100 * 400e-6},
				{Key: "ppv-b", Committed: 1000, Batches: 100, MeanBatch: 10, BusySeconds: 100 * 800e-6},
			},
		},
	}
	return &results.Result{Format: 1, Engine: results.EngineLive, Scenario: "fixture", Designs: []results.DesignResult{d}}
}

func TestCalibrateModel(t *testing.T) {
	t.Parallel()
	live := liveFixture(t)
	p, err := CalibrateModel(live, "live.json", "per-ppv")
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want time.Duration, tol float64) {
		t.Helper()
		if math.Abs(float64(got-want)) > tol*float64(want) {
			t.Errorf("%s = %v; want %v", name, got, want)
		}
	}
	// Client latency 220 µs (90%) and 400 µs (10%) less the server's 20 µs.
	near("RTT median", p.RTT.Quantile(0.5), 200*time.Microsecond, 0.01)
	near("RTT mean", p.RTT.MeanDuration(), 218*time.Microsecond, 0.02)
	near("CommitBase", p.CommitBase, 300*time.Microsecond, 0.01)
	near("CommitPerBooking", p.CommitPerBooking, 50*time.Microsecond, 0.01)
	near("Front mean", p.Front.MeanDuration(), 20*time.Microsecond, 0.02)
	// Reads: 120 µs listings less the 20 µs median answer from memory.
	near("Read mean", p.Read.MeanDuration(), 100*time.Microsecond, 0.02)
	// Commit times spread as the bookings that reached the writer did:
	// 500 µs for 8 in 9, 2 ms for 1 in 9.
	if r := shapeRatio(p.CommitShape); r < 3.5 || r > 4.1 {
		t.Errorf("commit p90/p50 = %.2f; want ~4 (2000/500)", r)
	}
	// Book: 1 ms at the client, 500 µs at the server, 200 µs round trip.
	near("Extra[book]", p.Extra[results.OpBook], 300*time.Microsecond, 0.01)
	measured := map[string]bool{}
	for _, c := range p.Calibration {
		measured[c.Name] = c.Measured
		if c.Measured && !strings.HasPrefix(c.Source, "live result live.json, design per-ppv") {
			t.Errorf("%s: source %q does not name the live result and design", c.Name, c.Source)
		}
		if !c.Measured && !strings.HasPrefix(c.Source, "assumed default: ") {
			t.Errorf("%s: source %q of an assumed parameter", c.Name, c.Source)
		}
	}
	for _, name := range []string{ParamRTT, ParamFront, ParamRead, ParamCommitBase, ParamCommitPer, ParamCommitShape, ParamMeanBatch, ParamExtraPrefix + results.OpBook} {
		if !measured[name] {
			t.Errorf("%s not measured", name)
		}
	}
	for _, name := range []string{ParamMaxBatch} {
		if m, ok := measured[name]; !ok || m {
			t.Errorf("%s: listed %v, measured %v; want listed as assumed", name, ok, m)
		}
	}

	// A design the live result lacks borrows another's statistics and
	// says so; a model result cannot calibrate.
	p2, err := CalibrateModel(live, "live.json", "monolithic")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p2.Calibration[0].Source, "standing in for monolithic") {
		t.Errorf("source %q does not say per-ppv stands in", p2.Calibration[0].Source)
	}
	live.Engine = results.EngineModel
	if _, err := CalibrateModel(live, "model.json", "per-ppv"); err == nil {
		t.Error("calibrating from a model result succeeded")
	}
}

func TestCalibrateDefaults(t *testing.T) {
	t.Parallel()
	p := DefaultModelParams()
	if len(p.Calibration) != 7 {
		t.Errorf("%d parameters listed; want 7", len(p.Calibration))
	}
	for _, c := range p.Calibration {
		if c.Measured || !strings.HasPrefix(c.Source, "assumed default: ") {
			t.Errorf("%s: %+v; want assumed", c.Name, c)
		}
	}
	// DESIGN.md: one booking a transaction near 3k tx/s; group commit of
	// ~64 near 16k tx/s.
	one := p.CommitBase + p.CommitPerBooking
	if tps := float64(time.Second) / float64(one); tps < 2800 || tps > 3200 {
		t.Errorf("one booking a commit: %.0f tx/s; want ~3k", tps)
	}
	batch := p.CommitBase + 64*p.CommitPerBooking
	if tps := 64 * float64(time.Second) / float64(batch); tps < 15000 || tps > 17000 {
		t.Errorf("64 bookings a commit: %.0f tx/s; want ~16k", tps)
	}
}

func TestEmpiricalDist(t *testing.T) {
	t.Parallel()
	h := results.NewLatencyHistogram()
	_ = h.RecordValues(10, 500)
	_ = h.RecordValues(1000, 500)
	d, ok := EmpiricalDist(h, 0, 0, 1)
	if !ok {
		t.Fatal("no distribution")
	}
	if m := d.MeanDuration(); math.Abs(float64(m)-505e3)/505e3 > 0.01 {
		t.Errorf("mean = %v; want ~505µs", m)
	}
	d2, _ := EmpiricalDist(h, 100, 10*time.Microsecond, 2)
	if m := d2.MeanDuration(); math.Abs(float64(m)-495e3)/495e3 > 0.01 {
		t.Errorf("mean of (v-10µs)/2 above 100µs = %v; want ~495µs", m)
	}
	if _, ok := EmpiricalDist(h, 5000, 0, 1); ok {
		t.Error("a distribution with nothing above the cut")
	}
	var empty *hdrhistogram.Histogram
	if _, ok := EmpiricalDist(empty, 0, 0, 1); ok {
		t.Error("a distribution from nil")
	}
}

func TestCompareAgreement(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	model, _ := simulate(t, sc, sc.Seed)
	live := *model // a copy; the designs are copied below, not shared
	live.Engine = results.EngineLive
	live.Designs = slices.Clone(model.Designs[:2])
	live.Designs[0].Users.Booked -= 10 // 2.5 pp fewer of 400
	rows := CompareAgreement(&live, model)
	if len(rows) != 3 {
		t.Fatalf("%d rows; want 3", len(rows))
	}
	if r := rows[0]; !r.InLive || !r.InModel || math.Abs(r.BookedShareDiffPP-2.5) > 1e-9 || r.BookP50Ratio != 1 {
		t.Errorf("row 0 = %+v; want +2.5 pp, ratio 1", r)
	}
	if r := rows[1]; r.BookedShareDiffPP != 0 || r.BookP50Ratio != 1 {
		t.Errorf("row 1 = %+v; want 0 pp, ratio 1", r)
	}
	if r := rows[2]; r.InLive || !r.InModel || r.BookP50Ratio != 0 {
		t.Errorf("row 2 = %+v; want only in the model", r)
	}
}

// TestModelCancel: a cancelled context ends a run with its error, and the
// designs finished before it are returned, marked interrupted.
func TestModelCancel(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "refresh-storm")
	designs, _ := sc.BuildDesigns(nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, stats, err := Simulate(ctx, sc, designs, sc.Seed)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Simulate with a cancelled context: error %v; want context.Canceled", err)
	}
	if res == nil || !res.Interrupted || len(res.Designs) != 0 || len(stats) != 0 {
		t.Errorf("Simulate with a cancelled context = %v, %d stats; want an interrupted result without designs", res, len(stats))
	}

	// Cancelled once the first design has finished, one design at a time:
	// that design is kept, the others are not started.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	res, stats, err = Simulate(ctx, sc, designs, sc.Seed, WithParallelism(1),
		WithModelProgress(func(ModelStats) { cancel() }))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Simulate cancelled after a design: error %v; want context.Canceled", err)
	}
	if res == nil || !res.Interrupted || len(res.Designs) != 1 || res.Designs[0].Design != designs[0].Name || len(stats) != 1 {
		t.Fatalf("Simulate cancelled after a design = %+v, %d stats; want %s alone, interrupted", res, len(stats), designs[0].Name)
	}
	if errs := res.Check(); len(errs) > 0 {
		t.Errorf("interrupted result fails its checks: %v", errs)
	}
	full, _, err := Simulate(context.Background(), sc, designs[:1], sc.Seed)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := canonicalDesign(t, &res.Designs[0]), canonicalDesign(t, &full.Designs[0]); !bytes.Equal(a, b) {
		t.Errorf("the design finished before the interruption differs from an uninterrupted run:\n%s", firstDiff(a, b))
	}
}

// canonicalDesign returns d's JSON.
func canonicalDesign(t *testing.T, d *results.DesignResult) []byte {
	t.Helper()
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestModelPartial: the result so far is handed over as each design
// finishes, one call at a time, with the finished designs in the order
// given, interrupted until the last; the last equals the final result.
func TestModelPartial(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	designs, _ := sc.BuildDesigns(nil)
	var (
		mu    sync.Mutex
		calls []*results.Result
		busy  bool
	)
	res, _ := simulate(t, sc, sc.Seed, WithParallelism(3), WithModelPartial(func(r *results.Result) {
		mu.Lock()
		if busy {
			t.Error("WithModelPartial called concurrently")
		}
		busy = true
		calls = append(calls, r)
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		busy = false
		mu.Unlock()
	}))
	if len(calls) != len(designs) {
		t.Fatalf("%d calls; want one per design (%d)", len(calls), len(designs))
	}
	for i, r := range calls {
		last := i == len(calls)-1
		if len(r.Designs) != i+1 || r.Interrupted == last {
			t.Errorf("call %d: %d designs, interrupted %v; want %d, %v", i, len(r.Designs), r.Interrupted, i+1, !last)
		}
		for k := 1; k < len(r.Designs); k++ {
			if slices.IndexFunc(designs, func(d models.Design) bool { return d.Name == r.Designs[k-1].Design }) >
				slices.IndexFunc(designs, func(d models.Design) bool { return d.Name == r.Designs[k].Design }) {
				t.Errorf("call %d: designs out of order", i)
			}
		}
	}
	if a, b := canonical(t, calls[len(calls)-1]), canonical(t, res); !bytes.Equal(a, b) {
		t.Errorf("the last partial result differs from the result:\n%s", firstDiff(a, b))
	}
}

// BenchmarkEngineEvents measures the engine's event rate: the bare queue
// (an M/M/16 queue at 90% load) and the model of the refresh-storm preset
// (every design).
func BenchmarkEngineEvents(b *testing.B) {
	b.Run("queue", func(b *testing.B) {
		b.ReportAllocs()
		const n = 200_000
		start := time.Now()
		for i := 0; i < b.N; i++ {
			simulateMMc(n, 0, 16, 14.4, 1, uint64(i))
		}
		b.ReportMetric(float64(2*n*b.N)/time.Since(start).Seconds(), "events/s")
	})
	b.Run("model", func(b *testing.B) {
		sc := loadScenario(b, "refresh-storm")
		benchSimulate(b, sc, nil, 1)
	})
}

// benchSimulate simulates sc's designs (all when names is nil), parallel
// at a time, b.N times, and reports events, requests and runs per second.
func benchSimulate(b *testing.B, sc *scenarios.Scenario, names []string, parallel int) {
	b.Helper()
	b.ReportAllocs()
	designs, err := sc.BuildDesigns(names)
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	var requests int64
	start := time.Now()
	for i := 0; i < b.N; i++ {
		_, stats, err := Simulate(context.Background(), sc, designs, sc.Seed, WithParallelism(parallel))
		if err != nil {
			b.Fatal(err)
		}
		for _, st := range stats {
			events += st.Events
			requests += st.Requests
		}
	}
	s := time.Since(start).Seconds()
	b.ReportMetric(float64(events)/s, "events/s")
	b.ReportMetric(float64(requests)/s, "requests/s")
	b.ReportMetric(s/float64(b.N), "s/run")
}

// BenchmarkNationalPreset simulates the 26 May 2021 preset at a tenth of
// its scale (100,000 users, 126,000 places, the same per-partition limits)
// through monolithic, per-ppv and per-ppv-day, two designs at a time.
func BenchmarkNationalPreset(b *testing.B) {
	sc := loadScenario(b, "jkjav-az-2021-05-26").Scaled(0.1)
	benchSimulate(b, sc, []string{"monolithic", "per-ppv", "per-ppv-day"}, 2)
}
