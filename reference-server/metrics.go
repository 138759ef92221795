package refserver

import (
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/faultstore"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Operations measured by the server, named as in slotrush results.
const (
	OpListPPVs   = "list_ppvs"
	OpListSlots  = "list_slots"
	OpBook       = "book"
	OpGetBooking = "get_booking"
	// OpQueue is a waiting-room call: join or poll.
	OpQueue = "queue"
)

// operations lists the measured operations.
var operations = []string{OpListPPVs, OpListSlots, OpBook, OpGetBooking, OpQueue, OpStep}

// Service-time histograms record microseconds from 1 µs to one hour with
// three significant digits, the bounds of slotrush results, so they merge
// with the load generator's without loss.
const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histSigFigs   = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histSigFigs)
}

// recorder is an HdrHistogram split in stripes so that concurrent requests
// rarely share a mutex. It is safe for concurrent use.
type recorder struct {
	stripes []stripe
}

type stripe struct {
	mu sync.Mutex // guards h
	h  *hdrhistogram.Histogram
	_  [64]byte // keeps stripes' mutexes on separate cache lines
}

func newRecorder() *recorder {
	r := &recorder{stripes: make([]stripe, max(4, runtime.GOMAXPROCS(0)))}
	for i := range r.stripes {
		r.stripes[i].h = newHistogram()
	}
	return r
}

func (r *recorder) record(d time.Duration) {
	us := min(max(d.Microseconds(), histMinMicros), histMaxMicros)
	s := &r.stripes[rand.Uint32N(uint32(len(r.stripes)))]
	s.mu.Lock()
	_ = s.h.RecordValue(us) // cannot fail: us is clamped to the histogram's bounds
	s.mu.Unlock()
}

// snapshot returns a merged copy.
func (r *recorder) snapshot() *hdrhistogram.Histogram {
	out := newHistogram()
	for i := range r.stripes {
		s := &r.stripes[i]
		s.mu.Lock()
		out.Merge(s.h) // same bounds: nothing is dropped
		s.mu.Unlock()
	}
	return out
}

// metrics are the server's Prometheus metrics, on a private registry, and
// its service-time recorders. Per-partition children are resolved once, so
// the hot path does no label lookups for them.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec   // op, code
	duration *prometheus.HistogramVec // op, partition
	service  map[string]*recorder     // read-only after construction
	multi    map[string]prometheus.Observer
	// tokensRejected counts refused admission tokens, by tokenReasons.
	tokensRejected [len(tokenReasons)]prometheus.Counter
}

// partMetrics are the resolved metric children of one partition.
type partMetrics struct {
	inFlight                   prometheus.Gauge
	throttledW, throttledR     prometheus.Counter
	shedW, shedR               prometheus.Counter
	bookDur, getDur, slotsRead prometheus.Observer
}

func newMetrics(s *Server) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotrush_http_requests_total",
			Help: "HTTP requests answered, by operation and status code.",
		}, []string{"op", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "slotrush_http_request_duration_seconds",
			Help:    "Server-side service time of requests by operation and partition (empty partition: several).",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op", "partition"}),
		service: map[string]*recorder{},
		multi:   map[string]prometheus.Observer{},
	}
	for _, op := range operations {
		m.service[op] = newRecorder()
		m.multi[op] = m.duration.WithLabelValues(op, "")
	}
	inFlight := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "slotrush_partition_in_flight",
		Help: "Requests a partition is working on.",
	}, []string{"partition"})
	throttled := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "slotrush_partition_throttled_total",
		Help: "Requests answered 429 by a partition's rate limit, by kind (read, write).",
	}, []string{"partition", "kind"})
	shed := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "slotrush_partition_shed_total",
		Help: "Requests answered 503 by a partition's in-flight and queue bounds, by kind (read, write).",
	}, []string{"partition", "kind"})
	for _, p := range s.parts {
		k := string(p.key)
		p.m = partMetrics{
			inFlight:   inFlight.WithLabelValues(k),
			throttledW: throttled.WithLabelValues(k, "write"),
			throttledR: throttled.WithLabelValues(k, "read"),
			shedW:      shed.WithLabelValues(k, "write"),
			shedR:      shed.WithLabelValues(k, "read"),
			bookDur:    m.duration.WithLabelValues(OpBook, k),
			getDur:     m.duration.WithLabelValues(OpGetBooking, k),
			slotsRead:  m.duration.WithLabelValues(OpListSlots, k),
		}
	}
	m.reg.MustRegister(m.requests, m.duration, inFlight, throttled, shed, storeCollector{s},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if s.roomOn() {
		rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "slotrush_room_tokens_rejected_total",
			Help: "Booking API calls refused 403 by the waiting room, by reason (the error code).",
		}, []string{"reason"})
		for i, c := range tokenReasons {
			m.tokensRejected[i] = rejected.WithLabelValues(string(c))
		}
		m.reg.MustRegister(rejected, roomCollector{s})
	}
	return m
}

// count records one answered request.
func (m *metrics) count(op string, status int, d time.Duration, obs prometheus.Observer) {
	m.requests.WithLabelValues(op, strconv.Itoa(status)).Inc()
	if obs == nil {
		obs = m.multi[op]
	}
	obs.Observe(d.Seconds())
	m.service[op].record(d)
}

// storeCollector exports the store writers' counters at scrape time, so the
// write path pays nothing for them.
type storeCollector struct{ s *Server }

var _ prometheus.Collector = storeCollector{}

var (
	descCommitted = prometheus.NewDesc("slotrush_partition_committed_total",
		"Bookings committed by a partition.", []string{"partition"}, nil)
	descRejected = prometheus.NewDesc("slotrush_partition_rejected_total",
		"Booking attempts a partition's store refused (sold out, duplicate).", []string{"partition"}, nil)
	descBatches = prometheus.NewDesc("slotrush_partition_batches_total",
		"Group commits (write transactions) run by a partition.", []string{"partition"}, nil)
	descBatched = prometheus.NewDesc("slotrush_partition_batched_attempts_total",
		"Booking attempts handled in group commits; divided by batches it is the mean batch size.", []string{"partition"}, nil)
	descBusy = prometheus.NewDesc("slotrush_partition_busy_seconds_total",
		"Time a partition's writer spent in transactions.", []string{"partition"}, nil)
	descFaulted = prometheus.NewDesc("slotrush_partition_faulted_operations_total",
		"Store operations (bookings, slot and booking reads) an injected fault acted on, by mode: refused (down), delayed (slow), failed (errors). Only partitions with a fault.",
		[]string{"partition", "mode"}, nil)
)

// Describe implements prometheus.Collector.
func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCommitted, descRejected, descBatches, descBatched, descBusy, descFaulted} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.s.parts {
		st := p.st.Stats()
		k := string(p.key)
		ch <- prometheus.MustNewConstMetric(descCommitted, prometheus.CounterValue, float64(st.Committed), k)
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(st.Rejected), k)
		ch <- prometheus.MustNewConstMetric(descBatches, prometheus.CounterValue, float64(st.Batches), k)
		ch <- prometheus.MustNewConstMetric(descBatched, prometheus.CounterValue, float64(st.BatchedAttempts), k)
		ch <- prometheus.MustNewConstMetric(descBusy, prometheus.CounterValue, st.Busy.Seconds(), k)
		if p.faults != nil {
			f := p.faults.Faulted()
			ch <- prometheus.MustNewConstMetric(descFaulted, prometheus.CounterValue, float64(f.Down), k, fault.Down.String())
			ch <- prometheus.MustNewConstMetric(descFaulted, prometheus.CounterValue, float64(f.Slow), k, fault.Slow.String())
			ch <- prometheus.MustNewConstMetric(descFaulted, prometheus.CounterValue, float64(f.Errors), k, fault.Errors.String())
		}
	}
}

// roomCollector exports the waiting room's gauges at scrape time.
type roomCollector struct{ s *Server }

var _ prometheus.Collector = roomCollector{}

var (
	descRoomTickets = prometheus.NewDesc("slotrush_room_tickets",
		"People holding a waiting-room ticket.", nil, nil)
	descRoomWaiting = prometheus.NewDesc("slotrush_room_waiting",
		"People waiting in the waiting room, not admitted yet.", nil, nil)
	descRoomAdmitted = prometheus.NewDesc("slotrush_room_admitted_total",
		"Admissions by the waiting room (a re-entry after an expired admission counts again).", nil, nil)
	descRoomActive = prometheus.NewDesc("slotrush_room_active",
		"Admitted people whose token is unexpired and who have not booked (what max_active caps).", nil, nil)
)

// Describe implements prometheus.Collector.
func (c roomCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRoomTickets, descRoomWaiting, descRoomAdmitted, descRoomActive} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c roomCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.s.roomStats()
	ch <- prometheus.MustNewConstMetric(descRoomTickets, prometheus.GaugeValue, float64(st.Tickets))
	ch <- prometheus.MustNewConstMetric(descRoomWaiting, prometheus.GaugeValue, float64(st.Waiting))
	ch <- prometheus.MustNewConstMetric(descRoomAdmitted, prometheus.CounterValue, float64(st.Admitted))
	ch <- prometheus.MustNewConstMetric(descRoomActive, prometheus.GaugeValue, float64(st.Active))
}

// Stats is a snapshot of the server's own measurements, for the load
// generator and the simulator's calibration.
type Stats struct {
	// Operations holds, per operation (OpListPPVs, OpListSlots, OpBook,
	// OpGetBooking, OpQueue), an HdrHistogram of the server-side service time in
	// microseconds (1 µs to 1 h, 3 significant digits) of every answered
	// request, whatever its status. The histograms are copies.
	Operations map[string]*hdrhistogram.Histogram
	// Partitions holds one entry per partition, in design order.
	Partitions []PartitionStats
	// Room holds the waiting room's counters; nil when the design has no
	// waiting room.
	Room *RoomStats
	// GatewayThrottled counts the requests the gateway refused with 429
	// gateway_throttled (WithGateway); they reach no operation.
	GatewayThrottled int64
}

// CommitTimes returns the histogram of the partitions' write transactions
// (group commits) in microseconds, all partitions merged: the commit cost
// without the time bookings waited for their writer. It is nil when the
// store does not measure it (store.CommitTimer). It reads every partition's
// histogram, so it is for the end of a run, not for every scrape.
func (s *Server) CommitTimes() *hdrhistogram.Histogram {
	var h *hdrhistogram.Histogram
	for _, p := range s.parts {
		if ct, ok := p.st.(store.CommitTimer); ok {
			if h == nil {
				h = hdrhistogram.New(1, time.Hour.Microseconds(), 3)
			}
			ct.MergeCommitTimes(h)
		}
	}
	return h
}

// PartitionStats are the cumulative counts of one partition.
type PartitionStats struct {
	// Key is the partition's key.
	Key models.PartitionKey
	// InFlight is the number of requests the partition is working on now.
	InFlight int64
	// Committed counts bookings committed.
	Committed int64
	// SoldOut counts booking attempts answered sold_out.
	SoldOut int64
	// Throttled and ThrottledReads count writes and reads answered 429.
	Throttled, ThrottledReads int64
	// Shed and ShedReads count writes and reads answered 503 overloaded.
	Shed, ShedReads int64
	// Batches counts group commits; MeanBatchSize is the mean number of
	// booking attempts per group commit.
	Batches       int64
	MeanBatchSize float64
	// Busy is the time the partition's writer spent in transactions.
	Busy time.Duration
	// Faulted counts the store operations the partition's injected faults
	// acted on (WithFaults); zero without a fault.
	Faulted faultstore.Counts
}

// Stats returns a snapshot of the server's measurements. It is safe for
// concurrent use and cheap enough to call once a second.
func (s *Server) Stats() Stats {
	st := Stats{Operations: map[string]*hdrhistogram.Histogram{}, Partitions: make([]PartitionStats, len(s.parts)), GatewayThrottled: s.GatewayThrottled()}
	for op, r := range s.m.service {
		st.Operations[op] = r.snapshot()
	}
	for i, p := range s.parts {
		w := p.st.Stats()
		ps := PartitionStats{
			Key: p.key, InFlight: p.inFlight.Load(), Committed: w.Committed, SoldOut: p.soldOut.Load(),
			Throttled: p.throttledW.Load(), ThrottledReads: p.throttledR.Load(),
			Shed: p.shedW.Load(), ShedReads: p.shedR.Load(),
			Batches: w.Batches, Busy: w.Busy,
		}
		if p.faults != nil {
			ps.Faulted = p.faults.Faulted()
		}
		if w.Batches > 0 {
			ps.MeanBatchSize = float64(w.BatchedAttempts) / float64(w.Batches)
		}
		st.Partitions[i] = ps
	}
	if s.roomOn() {
		rs := s.roomStats()
		rs.TokensRejected = make(map[Code]int64, len(tokenReasons))
		for i, c := range tokenReasons {
			rs.TokensRejected[c] = s.tokensRejected[i].Load()
		}
		st.Room = &rs
	}
	return st
}
