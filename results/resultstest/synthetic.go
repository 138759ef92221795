// Package resultstest builds results for tests and report previews.
package resultstest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/slotrush/slotrush/results"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/models"
)

// SyntheticResult returns an invented but realistic result for tests, demos
// and report previews: 15,000 people rushing for 6,000 places over 40 s,
// replayed against monolithic (a refresher-style retry storm: people click
// again on every 429, so requests per second keep rising while bookings per
// second fall; few booked, many still trying at the end), per-ppv, per-ppv-day
// (most booked, few errors) and per-ppv-day+waiting-room (admission paced,
// people served nearly in arrival order, some still queued at the end). It is
// built deterministically from seed, passes Check, and says in its
// parameters that its figures are invented. Safe for concurrent use; each
// call returns a new Result.
func SyntheticResult(seed int64) *results.Result {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x510742))
	start := time.Date(2021, time.May, 23, 12, 0, 0, 0, time.FixedZone("MYT", 8*3600))
	const (
		duration = 40
		arrived  = 15000
		capacity = 6000
	)
	r := &results.Result{
		Format:     results.FormatVersion,
		Scenario:   "synthetic-rush",
		Engine:     results.EngineLive,
		Seed:       seed,
		StartedAt:  start,
		FinishedAt: start.Add(duration * time.Second),
		Environment: results.Environment{
			Slotrush: "dev", Commit: "synthetic", GoVersion: "go1.26",
			OS: "linux", Arch: "amd64", CPU: "synthetic fixture (no machine measured)", Cores: 2,
		},
		Parameters: []results.Parameter{
			{Name: "data", Value: "synthetic: invented figures for tests and previews"},
			{Name: "crowd", Value: "15,000 people, 80% arriving in the first 10 s"},
			{Name: "places", Value: "6,000 (20 PPVs × 3 days × 100)"},
			{Name: "patience", Value: "give up after 30 s or 8 refused attempts"},
			{Name: "duration", Value: fmt.Sprintf("%d s", duration)},
		},
	}
	limits := func(write float64, inflight, queue int) models.Limits {
		return models.Limits{WriteRate: write, WriteBurst: int(write / 4), ReadRate: write * 8, ReadBurst: int(write * 2),
			MaxInFlight: inflight, MaxQueue: queue, MaxWait: 2 * time.Second}
	}
	// Load shapes: a crowd that arrives at once and thins out as people
	// book or give up; a storm that grows as refreshers click again; a
	// waiting room that admits at a steady pace.
	thinning := func(t float64) float64 { return math.Exp(-t/12) + 0.15 }
	storm := func(t float64) float64 { return 0.55 + 0.45*(1-math.Exp(-t/9)) + 0.006*t }
	paced := func(t float64) float64 { return 0.8 + 0.4*math.Exp(-t/4) }
	// Booking shapes: falling as a single lock drowns in retries, decaying
	// as partitions sell out, steady behind a waiting room until the last
	// places go.
	drowning := func(t float64) float64 { return math.Exp(-t/16) + 0.2 }
	sellOut := func(tau float64) func(float64) float64 {
		return func(t float64) float64 { return math.Exp(-t / tau) }
	}
	admitted := func(t float64) float64 {
		if t < 32 {
			return 1
		}
		return math.Exp(-(t - 32) / 2)
	}
	profiles := []synthProfile{
		{name: string(models.Monolithic), partitions: 1, limits: limits(400, 64, 256), booked: 1204,
			gaveUp: 11480, throttle: 0.26, shed: 0.1, internal: 0.008, transport: 0.012,
			bookMs: 900, readMs: 160, sigma: 0.9, perUser: 11.5, load: storm, bookings: drowning, ttbS: 19, fairness: 0.12},
		{name: string(models.PerPPV), partitions: 20, limits: limits(60, 16, 64), booked: 4371,
			gaveUp: 9920, throttle: 0.06, shed: 0.025, internal: 0.002, transport: 0.001,
			bookMs: 120, readMs: 25, sigma: 0.8, perUser: 4.2, load: thinning, bookings: sellOut(14), ttbS: 7, fairness: 0.38},
		{name: string(models.PerPPVDay), partitions: 60, limits: limits(40, 8, 32), booked: 5812,
			gaveUp: 9102, throttle: 0.0032, shed: 0.0006, internal: 0, transport: 0.0002,
			bookMs: 14, readMs: 4, sigma: 0.6, perUser: 3.1, load: thinning, bookings: sellOut(5), ttbS: 2.2, fairness: 0.61},
		{name: string(models.PerPPVDay) + models.WaitingRoomSuffix, partitions: 60, limits: limits(40, 8, 32), booked: 5950,
			gaveUp: 7850, throttle: 0.0004, shed: 0, internal: 0, transport: 0.0001,
			bookMs: 9, readMs: 3, sigma: 0.5, perUser: 4.6, load: paced, bookings: admitted, queued: true, fairness: 0.8},
	}
	for _, p := range profiles {
		r.Designs = append(r.Designs, p.build(rng, start, duration, arrived, capacity))
	}
	return r
}

// synthProfile is how one invented design behaves.
type synthProfile struct {
	name       string
	partitions int
	limits     models.Limits
	booked     int64
	gaveUp     int64
	// shares of requests at mean load answered 429, 503, 500, and lost
	throttle, shed, internal, transport float64
	bookMs, readMs, sigma               float64
	perUser                             float64
	// load and bookings shape requests and bookings per second over t s.
	load, bookings func(t float64) float64
	ttbS           float64 // median time to book, s
	// queued puts a waiting room in front: people join it first, poll it,
	// and book in arrival order.
	queued   bool
	fairness float64
}

// build invents the result of one design over duration seconds: arrived
// people competing for capacity places, shaped by p and drawn from rng.
func (p synthProfile) build(rng *rand.Rand, start time.Time, duration, arrived, capacity int) results.DesignResult {
	d := p.newDesign(duration)
	plan := p.plan(rng, duration, arrived)
	hists := latencyRecorder{}
	var sold int64
	for t := 0; t < duration; t++ {
		lf := plan.loadFactor(t)
		b := plan.bookedAt[t]
		sold += b
		c := p.countsAt(plan.reqAt[t], b, sold, capacity, lf)
		pt := c.point(t, start, plan.arrAt[t])
		lat := p.sampleLatencies(rng, hists, c, lf)
		pt.P50Ms = round2(quantile(lat, 0.50))
		pt.P99Ms = round2(quantile(lat, 0.99))
		d.Timeline = append(d.Timeline, pt)
		c.addTo(&d.Requests)
	}
	for code, n := range d.Requests.ByStatus {
		if n == 0 {
			delete(d.Requests.ByStatus, code)
		}
	}
	hists.summarize(&d)
	d.Users = p.users(rng, plan.bookedAt, arrived, d.Requests.Total)
	d.Slots = results.Slots{Capacity: int64(capacity), Booked: p.booked, Answered201: p.booked, Persisted: p.booked}
	return d
}

// newDesign returns the design result of p before any request: its name,
// assumptions and duration, with empty request counts and latencies.
func (p synthProfile) newDesign(duration int) results.DesignResult {
	d := results.DesignResult{
		Design: p.name,
		Assumptions: results.Assumptions{
			Scheme: models.Scheme(p.name), Partitions: p.partitions, Limits: p.limits,
			Store: "sqlite (one file per partition, WAL)", Durability: "synchronous=FULL with group commit: a 201 survives kill -9 and power loss",
		},
		DurationS:  float64(duration),
		Requests:   results.Requests{ByStatus: map[string]int64{}},
		LatencyMs:  map[string]results.LatencySummary{},
		Histograms: map[string]string{},
	}
	if p.queued {
		d.Assumptions.WaitingRoom = true
	}
	return d
}

// synthPlan is how a synthetic run spreads its totals over its seconds.
type synthPlan struct {
	// bookedAt, reqAt and arrAt are the places booked, requests sent and
	// people arriving in each second.
	bookedAt, reqAt, arrAt []int64
	// load is each second's load shape, meanLoad its mean.
	load     []float64
	meanLoad float64
}

// plan spreads p's bookings and requests, and arrived people, over
// duration seconds along p's shapes, jittered by rng.
func (p synthProfile) plan(rng *rand.Rand, duration, arrived int) synthPlan {
	weights := make([]float64, duration)
	for t := range weights {
		weights[t] = p.bookings(float64(t)) * (0.85 + 0.3*rng.Float64())
	}
	bookedAt := spread(p.booked, weights)
	load := make([]float64, duration)
	var loadSum float64
	for t := range load {
		load[t] = p.load(float64(t)) * (0.96 + 0.08*rng.Float64())
		loadSum += load[t]
	}
	total := int64(p.perUser * float64(arrived))
	reqAt := spread(total, load)
	arrivals := make([]float64, duration)
	for t := range arrivals {
		arrivals[t] = math.Exp(-float64(t) / 6)
	}
	arrAt := spread(int64(arrived), arrivals)
	return synthPlan{bookedAt: bookedAt, reqAt: reqAt, arrAt: arrAt, load: load, meanLoad: loadSum / float64(duration)}
}

// loadFactor returns second t's load over the mean load: above 1 at the
// peak.
func (pl synthPlan) loadFactor(t int) float64 { return pl.load[t] / pl.meanLoad }

// synthCounts are the requests of one second of a synthetic run, by
// outcome.
type synthCounts struct {
	n                    int64 // all requests
	ok, booked, conflict int64 // 200, 201, 409
	c429, c503, c500     int64
	transport            int64 // lost: client timeouts
}

// countsAt divides the n requests of a second into outcomes: b bookings,
// conflicts that grow as the places sell out (sold of capacity so far), and
// throttled, shed, failed and lost requests in p's shares scaled by the load
// factor lf (at most 45% each); the rest are 200s. When the outcomes exceed
// n, n grows to hold them.
func (p synthProfile) countsAt(n, b, sold int64, capacity int, lf float64) synthCounts {
	share := func(base float64) int64 {
		return int64(math.Min(base*lf, 0.45) * float64(n))
	}
	conflict := int64(float64(b) * (0.05 + 1.5*float64(sold)/float64(capacity)))
	c429, c503, c500, ctr := share(p.throttle), share(p.shed), share(p.internal), share(p.transport)
	c200 := n - b - conflict - c429 - c503 - c500 - ctr
	if c200 < 0 {
		c200 = 0
		n = b + conflict + c429 + c503 + c500 + ctr
	}
	return synthCounts{n: n, ok: c200, booked: b, conflict: conflict, c429: c429, c503: c503, c500: c500, transport: ctr}
}

// point returns the timeline point of second t of a run started at start,
// with arrivals people arriving; the latency percentiles are left zero.
func (c synthCounts) point(t int, start time.Time, arrivals int64) results.TimelinePoint {
	return results.TimelinePoint{TS: t, TUnix: start.Unix() + int64(t), RPS: float64(c.n),
		OK: c.ok + c.booked, Conflict: c.conflict, Throttled: c.c429, ServerErr: c.c503 + c.c500, Transport: c.transport,
		Errors: c.c429 + c.c503 + c.c500 + c.transport, Booked: c.booked, Arrivals: arrivals}
}

// addTo adds the counts to the totals of r.
func (c synthCounts) addTo(r *results.Requests) {
	r.Total += c.n
	r.ByStatus["200"] += c.ok
	r.ByStatus["201"] += c.booked
	r.ByStatus["409"] += c.conflict
	r.ByStatus["429"] += c.c429
	r.ByStatus["503"] += c.c503
	r.ByStatus["500"] += c.c500
	r.TransportErrors += c.transport
}

// sampleLatencies draws from rng a latency, in ms, for every request
// counted in c at load factor lf, records each in rec under its operation,
// and returns them all sorted.
func (p synthProfile) sampleLatencies(rng *rand.Rand, rec latencyRecorder, c synthCounts, lf float64) []float64 {
	lat := make([]float64, 0, c.n)
	add := func(op string, v float64) {
		rec.record(op, v)
		lat = append(lat, v)
	}
	for i := int64(0); i < c.ok; i++ {
		if p.queued && rng.Float64() < 0.55 {
			add(results.OpQueue, lognorm(rng, 1.2, 0.4)) // a poll of the waiting room
			continue
		}
		op := results.OpListSlots
		if rng.Float64() < 0.35 {
			op = results.OpListPPVs
		}
		add(op, lognorm(rng, p.readMs*math.Sqrt(lf), p.sigma))
	}
	for i := int64(0); i < c.booked+c.conflict; i++ {
		add(results.OpBook, lognorm(rng, p.bookMs*math.Sqrt(lf), p.sigma))
	}
	for i := int64(0); i < c.c429; i++ {
		add(pickErrOp(rng), lognorm(rng, 1.5, 0.4)) // refused at the door
	}
	for i := int64(0); i < c.c503; i++ {
		add(pickErrOp(rng), math.Min(2000, lognorm(rng, 1200, 0.5))) // waited, then shed
	}
	for i := int64(0); i < c.c500; i++ {
		add(pickErrOp(rng), lognorm(rng, p.bookMs, p.sigma))
	}
	for i := int64(0); i < c.transport; i++ {
		add(pickErrOp(rng), 10000+rng.Float64()*50) // client timeout
	}
	sort.Float64s(lat)
	return lat
}

// users says what happened to the arrived people: each booking was one
// person; the rest gave up or were still trying when the run ended. total
// is the requests they sent; their times to book and to an outcome are
// drawn from rng.
func (p synthProfile) users(rng *rand.Rand, bookedAt []int64, arrived int, total int64) results.Users {
	ttb, tto := results.NewLatencyHistogram(), results.NewLatencyHistogram()
	for t, b := range bookedAt {
		for i := int64(0); i < b; i++ {
			s := math.Min(lognorm(rng, p.ttbS, 0.7), float64(t)+rng.Float64())
			if p.queued {
				// Booked in arrival order: the wait is the time spent
				// in the room, which grows with the position in it.
				s = float64(t)*(0.75+0.2*rng.Float64()) + lognorm(rng, 1.5, 0.4)
			}
			us := int64(math.Max(s, 0.05) * 1e6)
			_ = ttb.RecordValue(us)
			_ = tto.RecordValue(us)
		}
	}
	for i := int64(0); i < p.gaveUp; i++ {
		// Refused too often, or out of patience at 30 s.
		median := 16.0
		if p.queued {
			median = 20 // shown a place in the queue, people wait longer
		}
		s := math.Min(lognorm(rng, median, 0.45), 30+rng.Float64())
		_ = tto.RecordValue(int64(s * 1e6))
	}
	ttbS, _ := results.EncodeHistogram(ttb)
	ttoS, _ := results.EncodeHistogram(tto)
	return results.Users{
		Arrived: int64(arrived), Booked: p.booked, GaveUp: p.gaveUp,
		StillWaiting:    int64(arrived) - p.booked - p.gaveUp,
		RequestsPerUser: round2(float64(total) / float64(arrived)),
		Fairness:        p.fairness,
		TimeToBook:      ttbS,
		TimeToOutcome:   ttoS,
	}
}

// latencyRecorder holds one latency histogram per operation.
type latencyRecorder map[string]*hdrhistogram.Histogram

// record adds a latency of msv milliseconds to op's histogram, made on
// first use; latencies under the histogram's floor count as the floor.
func (h latencyRecorder) record(op string, msv float64) {
	hist, ok := h[op]
	if !ok {
		hist = results.NewLatencyHistogram()
		h[op] = hist
	}
	us := int64(msv * 1000)
	if us < results.HistMinMicros {
		us = results.HistMinMicros
	}
	_ = hist.RecordValue(us)
}

// summarize stores each operation's latency summary and encoded histogram
// in d.
func (h latencyRecorder) summarize(d *results.DesignResult) {
	for op, hist := range h {
		d.LatencyMs[op] = results.Summarize(hist)
		s, err := results.EncodeHistogram(hist)
		if err != nil {
			panic(err) // cannot happen for a histogram built here
		}
		d.Histograms[op] = s
	}
}

// lognorm draws from rng a log-normal value with the given median and
// sigma.
func lognorm(rng *rand.Rand, median, sigma float64) float64 {
	return median * math.Exp(sigma*rng.NormFloat64())
}

// pickErrOp draws from rng the operation a refused or failed request was
// for: book 60%, list_slots 30%, list_ppvs 10%.
func pickErrOp(rng *rand.Rand) string {
	switch x := rng.Float64(); {
	case x < 0.6:
		return results.OpBook
	case x < 0.9:
		return results.OpListSlots
	default:
		return results.OpListPPVs
	}
}

// spread divides total into len(weights) integer parts proportional to the
// weights (largest remainder), so the parts sum to total exactly.
func spread(total int64, weights []float64) []int64 {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	out := make([]int64, len(weights))
	if sum <= 0 || total <= 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		x := float64(total) * w / sum
		out[i] = int64(x)
		given += out[i]
		rems[i] = rem{i, x - float64(out[i])}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// quantile returns the q-quantile of sorted values (0 when empty).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }
