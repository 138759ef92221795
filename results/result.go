// Package results is the result contract of a slotrush run: Result and its
// Check, the JSON file with HdrHistograms (encoding, decoding, a checked
// decoder for untrusted input) and HdrHistogram interval logs. The engines
// fill it and reports renders and compares it; it imports only models among
// slotrush packages and draws nothing, so an engine that writes a result
// does not link a plotting library.
package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/slotrush/slotrush/models"
)

// FormatVersion is the version of the result file written by this build.
// Readers accept every version from 1 to FormatVersion.
const FormatVersion = 1

// Engines that produce results.
const (
	EngineLive  = "live"
	EngineModel = "model"
)

// Operations measured by the engines. Results may hold others.
const (
	OpListPPVs  = "list_ppvs"
	OpListSlots = "list_slots"
	OpBook      = "book"
	OpQueue     = "queue"
	// OpGetBooking reads one booking back by its id: the audit of an
	// external target, after its run. Not part of a journey.
	OpGetBooking = "get_booking"
	// OpFindBooking looks a person's booking up, for profiles whose API
	// has such a call: it resolves bookings whose answer was lost.
	OpFindBooking = "find_booking"
	// OpBookBooked is OpBook's requests that booked (an ok answer with a
	// booking: 201): the latency of a booking that succeeded.
	OpBookBooked = "book_booked"
	// OpBookRefused is OpBook's requests refused for load (429 throttled,
	// 503 overloaded; not 503 not_open before the opening nor 503
	// partition_unavailable from a fault): how fast the refusals came back.
	OpBookRefused = "book_refused"
)

// IsOutcomeOp reports whether op is one of OpBook's requests split by
// answer (OpBookBooked, OpBookRefused): those requests are also in OpBook,
// so a sum over every operation must leave them out.
func IsOutcomeOp(op string) bool {
	return op == OpBookBooked || op == OpBookRefused
}

// Latency histograms record microseconds from 1 µs to one hour with three
// significant digits.
const (
	HistMinMicros = 1
	HistMaxMicros = int64(time.Hour / time.Microsecond)
	HistSigFigs   = 3
)

// NewLatencyHistogram returns an empty histogram with the bounds every result
// uses, so histograms of different runs merge without loss.
func NewLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(HistMinMicros, HistMaxMicros, HistSigFigs)
}

// Result is one result file: one scenario replayed against one or more
// designs by one engine. It is plain data; not safe for concurrent mutation.
type Result struct {
	Format     int       `json:"format"`
	Scenario   string    `json:"scenario"`
	Engine     string    `json:"engine"`
	Seed       int64     `json:"seed"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	Target     string    `json:"target,omitempty"`
	// Segment says which segment of which crowd this run replayed (run
	// --segment I/N); nil for a whole crowd.
	Segment     *SegmentInfo   `json:"segment,omitempty"`
	Interrupted bool           `json:"interrupted,omitempty"`
	Environment Environment    `json:"environment"`
	Parameters  []Parameter    `json:"parameters,omitempty"`
	Designs     []DesignResult `json:"designs"`
	// Observed are the milestones of the real event the scenario replays
	// (its observed:), copied from it; absent when it has none, and from
	// results written before they existed.
	Observed []Observation `json:"observed,omitempty"`
}

// Environment describes where a result was measured.
type Environment struct {
	Slotrush  string `json:"slotrush"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	CPU       string `json:"cpu,omitempty"`
	Cores     int    `json:"cores"`
}

// Parameter is one named scenario parameter shown beside the verdict, e.g.
// {"crowd size", "20000"}.
type Parameter struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// DesignResult is what one design did under the scenario.
type DesignResult struct {
	Design      string                    `json:"design"`
	Assumptions Assumptions               `json:"assumptions"`
	DurationS   float64                   `json:"duration_s"`
	Requests    Requests                  `json:"requests"`
	LatencyMs   map[string]LatencySummary `json:"latency_ms"`
	Users       Users                     `json:"users"`
	Slots       Slots                     `json:"slots"`
	Timeline    []TimelinePoint           `json:"timeline"`
	// Histograms holds, per operation, an HdrHistogram of latency in
	// microseconds, V2 compressed and base64 encoded.
	Histograms map[string]string `json:"histograms"`
	// Intervals holds, per operation, one HdrHistogram per second of the
	// run in which the operation completed (µs, base64, as Histograms),
	// whose sum is that operation's histogram: latency over time, written
	// to the interval logs one line a second. Live results have it; model
	// results and results written before it existed do not.
	Intervals map[string][]Interval `json:"intervals,omitempty"`
	// Calibration lists, for model results, each model parameter and
	// whether it was measured or assumed.
	Calibration []CalibratedParameter `json:"calibration,omitempty"`
	// Target is the system this column ran against when slotrush did not
	// start it (run --target NAME=URL); Design is then the target's name.
	Target *Target `json:"target,omitempty"`
	// Server holds what the in-process reference server measured on its
	// side during a live run (absent with --target and for model results);
	// the simulator calibrates its model from it.
	Server *ServerStats `json:"server,omitempty"`
	// ByPartition holds the design's booking requests by partition, when
	// the engine knew the design's scheme (absent from results written
	// before it existed, and for a target that stated no scheme).
	ByPartition *PartitionResults `json:"by_partition,omitempty"`
	// BlastRadius is what the design's injected faults did to people;
	// absent without faults (and from results written before it existed).
	BlastRadius *BlastRadius `json:"blast_radius,omitempty"`
	// Milestones set each of the result's Observed beside what the design
	// booked by then (FillMilestones); absent without observations.
	Milestones []Milestone `json:"milestones,omitempty"`
}

// Target is an external system a run drove: its name (the column's
// label), its base URL and the API profile it was driven through.
type Target struct {
	Name    string `json:"name"`
	URL     string `json:"url"`
	Profile string `json:"profile,omitempty"`
}

// Sources of Assumptions.
const (
	// SourceKnown: slotrush built the design itself (in-process server,
	// model), so every field is known.
	SourceKnown = ""
	// SourceStated: the target stated the fields in GET /api/v1/about.
	SourceStated = "stated by the target"
	// SourceUnstated: the target stated nothing; the fields are empty and
	// mean nothing.
	SourceUnstated = "not stated"
)

// ServerStats is the server side of a live run: time spent serving each
// operation, the partitions' group commits and their counters.
type ServerStats struct {
	// Service holds, per operation, an HdrHistogram (µs, base64) of
	// server-side service time: from the handler's start to its answer,
	// waits for a partition's admission gate and writer included.
	Service map[string]string `json:"service"`
	// Commit is an HdrHistogram (µs, base64) of the partitions' group
	// commits, one value per write transaction, without the time bookings
	// waited for the writer. Absent in results written before it existed.
	Commit string `json:"commit,omitempty"`
	// Partitions lists per-partition counters, sorted by key.
	Partitions []PartitionStats `json:"partitions"`
}

// PartitionStats counts what one partition did during a live run.
type PartitionStats struct {
	Key       string  `json:"key"`
	Committed int64   `json:"committed"`
	Throttled int64   `json:"throttled"`
	Shed      int64   `json:"shed"`
	Batches   int64   `json:"batches"`
	MeanBatch float64 `json:"mean_batch"`
	// BusySeconds is the writer's time inside transactions.
	BusySeconds float64 `json:"busy_s"`
}

// Assumptions are the facts a design's figures rest on.
type Assumptions struct {
	Scheme      models.Scheme `json:"scheme"`
	Partitions  int           `json:"partitions"`
	Limits      models.Limits `json:"limits_per_partition"`
	WaitingRoom bool          `json:"waiting_room,omitempty"`
	Store       string        `json:"store"`
	Durability  string        `json:"durability"`
	// Engine and EngineVersion name the storage engine ("sqlite",
	// "postgresql", "dynamodb") and its version, when known or stated.
	Engine        string `json:"engine,omitempty"`
	EngineVersion string `json:"engine_version,omitempty"`
	// LimitsBy says who enforces the per-partition limits: LimitsBySlotrush
	// (the API server's token buckets, per process, not the engine's),
	// LimitsByEngine (the engine throttles partitions itself, as DynamoDB
	// on AWS does), or empty when no limits are set or it is not known.
	LimitsBy string `json:"limits_enforced_by,omitempty"`
	// Source says where these facts come from: SourceKnown (empty),
	// SourceStated or SourceUnstated. Readers show nothing for a field
	// that was not stated.
	Source string `json:"source,omitempty"`
}

// Who enforces the per-partition limits (Assumptions.LimitsBy).
const (
	// LimitsBySlotrush: the reference server's token buckets and bounds,
	// kept per API server process; the engine enforces none.
	LimitsBySlotrush = "slotrush"
	// LimitsByEngine: the storage engine throttles partitions itself (the
	// API server's limits, if any, come on top).
	LimitsByEngine = "engine"
)

// Requests counts requests by outcome. Total = sum(ByStatus) + TransportErrors.
type Requests struct {
	Total           int64            `json:"total"`
	ByStatus        map[string]int64 `json:"by_status"`
	TransportErrors int64            `json:"transport_errors"`
	// Dropped counts requests that were due before the run ended but never
	// sent (not in Total); DroppedLate summarises how late each was when
	// the run ended (ms from its due time).
	Dropped     int64           `json:"dropped,omitempty"`
	DroppedLate *LatencySummary `json:"dropped_late_ms,omitempty"`
	// Unexpected counts the answers (in Total and ByStatus too) that are
	// neither what a journey's request asked for nor a refusal the API
	// defines for load (409, 429, 5xx): not found, rejected as bad input,
	// not admitted (403: a waiting room refused the token, or the target
	// wants credentials), a status the API or the target's profile gives no
	// meaning to, and a 2xx whose body could not be read (an HTML page
	// where JSON was due). They are errors (ErrorRate). Results written
	// before it existed leave it 0; see UnexpectedAnswers.
	Unexpected int64 `json:"unexpected,omitempty"`
	// UnexpectedByAnswer breaks Unexpected down by answer, keyed by
	// AnswerKey: "404 not_found", "400 rejected", "403 not_admitted",
	// "418 unexpected", "200 unreadable". Its counts sum to Unexpected.
	UnexpectedByAnswer map[string]int64 `json:"unexpected_by_answer,omitempty"`
	// GatewayThrottled counts the answers (in Total and ByStatus too, as
	// 429s) the gateway in front of every partition refused with its own
	// 429 (CodeGatewayThrottled). 0 without a gateway.
	GatewayThrottled int64 `json:"gateway_throttled,omitempty"`
}

// LatencySummary is the percentiles of one operation's histogram.
type LatencySummary struct {
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p999"`
	Max   float64 `json:"max"`
	Mean  float64 `json:"mean"`
	Count int64   `json:"count"`
}

// Users counts user outcomes. Arrived = Booked + GaveUp + StillWaiting.
type Users struct {
	Arrived int64 `json:"arrived"`
	Booked  int64 `json:"booked"`
	GaveUp  int64 `json:"gave_up"`
	// StillWaiting counts users whose journey had not ended when the run did.
	StillWaiting int64 `json:"still_waiting"`
	// LateStarts counts arrivals the engine could not start on time (more
	// than 10 ms late); they are still run and counted, never dropped.
	LateStarts int64 `json:"late_starts"`
	// RequestsPerUser is total requests / arrived users, waiting-room
	// polls included.
	RequestsPerUser float64 `json:"requests_per_user"`
	// RoomPollsPerUser is the waiting-room requests (join and polls) /
	// arrived users; 0 without a waiting room.
	RoomPollsPerUser float64 `json:"room_polls_per_user,omitempty"`
	// RetryAmplification is the booking API's requests (all but the
	// waiting room's) over the distinct requests people made: those less
	// the retries of a request after an error (429, 5xx, a timeout). 1 when
	// nobody had to retry; 3 when the API received three requests for each
	// one people meant. A new request after a 409 (another slot) is not a
	// retry.
	RetryAmplification float64 `json:"retry_amplification"`
	// Fairness is Spearman's rho between earliness of arrival and getting a
	// slot (booked 1, else 0): about 0 for a lottery, negative when late
	// comers fared better. Because the outcome is yes or no, strictly first
	// come, first served scores FairnessCeiling, not 1.
	Fairness float64 `json:"fairness"`
	// TimeToOutcome is an HdrHistogram (µs, base64) of arrival to booked or gave up.
	TimeToOutcome string `json:"time_to_outcome,omitempty"`
	// TimeToBook is an HdrHistogram (µs, base64) of arrival to booked.
	TimeToBook string `json:"time_to_book,omitempty"`
}

// Slots is the audit of the store after a run.
type Slots struct {
	Capacity int64 `json:"capacity"`
	Booked   int64 `json:"booked"`
	Oversold int64 `json:"oversold"`
	// Answered201 counts bookings the server answered 201 to.
	Answered201 int64 `json:"answered_201"`
	// Persisted counts bookings found in the store afterwards (-1 when the
	// store could not be audited, as with --target).
	Persisted int64 `json:"persisted"`
	// Missing counts 201 answers whose booking is not in the store.
	Missing int64 `json:"missing"`
	// UnknownOutcome counts booking requests whose answer was lost (a
	// timeout or a reset) and whose outcome the audit could not resolve.
	UnknownOutcome int64 `json:"unknown_outcome,omitempty"`
	// Inventory says where Capacity comes from: InventoryScenario or
	// InventoryAPI. Empty in results written before it existed.
	Inventory string `json:"inventory,omitempty"`
	// Audit says which checks were possible: AuditStore, AuditAPI or
	// AuditNone. Empty in results written before it existed.
	Audit string `json:"audit,omitempty"`
}

// Where Slots.Capacity comes from.
const (
	// InventoryScenario: the scenario's inventory, given to a server
	// slotrush started (or to the model).
	InventoryScenario = "scenario"
	// InventoryAPI: the target's centres and slots, read through its API
	// before the run; Capacity is the places remaining at the start.
	InventoryAPI = "read through the API before the run"
)

// Which checks an audit could make (Slots.Audit).
const (
	// AuditStore: the store itself was read (oversold slots, counters,
	// one booking per person, every 201 persisted).
	AuditStore = "store"
	// AuditAPI: every booking answered 201 was read back through the API.
	AuditAPI = "api"
	// AuditNone: nothing could be checked after the run.
	AuditNone = "none"
)

// TimelinePoint is one second of a run. TUnix is absolute so timelines of
// shards of one run merge; TS is seconds since the run started. Every count
// is of that second alone, not cumulative: OK counts 2xx answers, Conflict
// 409, Throttled 429, ServerErr 5xx, Transport timeouts and connection
// errors, Unexpected the answers outside the API (Requests.Unexpected),
// Errors = Throttled + ServerErr + Transport (as it always was: add
// Unexpected for every error), and Booked the 201 answers to book. RPS
// counts every answer, Unexpected included. P50Ms and P99Ms are over every
// request of the second.
type TimelinePoint struct {
	TS        int     `json:"t_s"`
	TUnix     int64   `json:"t_unix"`
	RPS       float64 `json:"rps"`
	OK        int64   `json:"ok"`
	Conflict  int64   `json:"conflict"`
	Throttled int64   `json:"throttled"`
	ServerErr int64   `json:"server_errors"`
	Transport int64   `json:"transport_errors"`
	// Unexpected is absent from results written before it existed, whose
	// RPS left such answers out.
	Unexpected int64   `json:"unexpected,omitempty"`
	Errors     int64   `json:"errors"`
	Booked     int64   `json:"booked"`
	Arrivals   int64   `json:"arrivals"`
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
}

// Interval is one second of one operation's latencies: the requests that
// completed in second TS of the run (counted from StartedAt).
type Interval struct {
	TS        int    `json:"t_s"`
	Histogram string `json:"histogram"`
}

// CalibratedParameter records one model parameter and its provenance.
type CalibratedParameter struct {
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Measured bool    `json:"measured"`
	Source   string  `json:"source"`
}

// EncodeHistogram returns h as base64 V2-compressed HdrHistogram text.
func EncodeHistogram(h *hdrhistogram.Histogram) (string, error) {
	s, err := encodeV2Compressed(h)
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return s, nil
}

// DecodeHistogram parses the output of EncodeHistogram. It checks the
// encoding before decoding (hdrhistogram-go's decoder panics or allocates
// without bound on malformed input), so a hostile or damaged result file
// yields an error, never a panic.
func DecodeHistogram(s string) (h *hdrhistogram.Histogram, err error) {
	if err := checkHistogramEncoding(s); err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			h, err = nil, fmt.Errorf("decode histogram: malformed counts (%v)", p)
		}
	}()
	h, err = hdrhistogram.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// Summarize returns the percentiles of h (µs) in milliseconds, by
// ValueAtQuantile (HdrHistogram's reference definition).
func Summarize(h *hdrhistogram.Histogram) LatencySummary {
	ms := func(v int64) float64 { return float64(v) / 1000 }
	p := ValuesAtQuantiles(h, 50, 90, 99, 99.9)
	return LatencySummary{
		P50: ms(p[0]), P90: ms(p[1]), P99: ms(p[2]), P999: ms(p[3]),
		Max: ms(h.Max()), Mean: h.Mean() / 1000, Count: h.TotalCount(),
	}
}

// Histogram decodes the histogram of operation op.
func (d *DesignResult) Histogram(op string) (*hdrhistogram.Histogram, error) {
	s, ok := d.Histograms[op]
	if !ok {
		return nil, fmt.Errorf("design %s: no histogram for %q", d.Design, op)
	}
	return DecodeHistogram(s)
}

// Operations returns the design's operations sorted.
func (d *DesignResult) Operations() []string {
	ops := make([]string, 0, len(d.LatencyMs))
	for op := range d.LatencyMs {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	return ops
}

// BookedShare returns booked users / arrived users (0 when none arrived).
func (d *DesignResult) BookedShare() float64 {
	if d.Users.Arrived == 0 {
		return 0
	}
	return float64(d.Users.Booked) / float64(d.Users.Arrived)
}

// JourneyRequests is the fewest requests of the booking API a person needs
// to book: list the PPVs, list the slots, book (behind a waiting room, after
// joining its queue).
const JourneyRequests = 3

// HasWaitingRoom reports whether a waiting room fronted the design: stated
// in its assumptions, named in its design, or seen in its requests.
func (d *DesignResult) HasWaitingRoom() bool {
	if d.Assumptions.WaitingRoom || strings.HasSuffix(d.Design, models.WaitingRoomSuffix) {
		return true
	}
	return d.LatencyMs[OpQueue].Count > 0
}

// RoomPollsPerPerson returns Users.RoomPollsPerUser, or the waiting
// room's requests / arrived users when a result does not state it.
func (d *DesignResult) RoomPollsPerPerson() float64 {
	if d.Users.RoomPollsPerUser > 0 {
		return d.Users.RoomPollsPerUser
	}
	if d.Users.Arrived <= 0 {
		return 0
	}
	return float64(d.LatencyMs[OpQueue].Count) / float64(d.Users.Arrived)
}

// RequestsPerPerson returns Users.RequestsPerUser, or requests / arrived
// users when a result does not state it; 0 when nobody arrived.
func (d *DesignResult) RequestsPerPerson() float64 {
	if d.Users.RequestsPerUser > 0 {
		return d.Users.RequestsPerUser
	}
	if d.Users.Arrived <= 0 {
		return 0
	}
	return float64(d.Requests.Total) / float64(d.Users.Arrived)
}

// APIRequestsPerPerson returns the booking API's requests per arrived
// person: RequestsPerPerson less the waiting room's polls.
func (d *DesignResult) APIRequestsPerPerson() float64 {
	return max(d.RequestsPerPerson()-d.RoomPollsPerPerson(), 0)
}

// Amplification returns the retry amplification, Users.RetryAmplification.
// A result written before it was measured gets an estimate: the booking
// API's requests per person over the JourneyRequests a booking needs (which
// also counts alternatives tried after a 409). A waiting room's polls are
// in neither (see RoomPollsPerPerson): the room answers them, in front.
func (d *DesignResult) Amplification() float64 {
	if d.Users.RetryAmplification > 0 {
		return d.Users.RetryAmplification
	}
	if v := d.APIRequestsPerPerson(); v > 0 {
		return max(v/JourneyRequests, 1)
	}
	return 0
}

// FairnessCeiling returns the highest Fairness possible with u's outcomes:
// the Spearman rho of strictly first come, first served, where exactly the
// earliest Booked of Arrived people got a place. With a share p booked it is
// sqrt(3p(1-p))·n/sqrt(n²-1), at most about 0.87 (p = 1/2). It is 0 when
// everyone, or no one, booked: order cannot matter then.
func (u Users) FairnessCeiling() float64 {
	n := float64(u.Arrived)
	if u.Arrived < 2 || u.Booked <= 0 || u.Booked >= u.Arrived {
		return 0
	}
	p := float64(u.Booked) / n
	return math.Sqrt(3*p*(1-p)) * n / math.Sqrt(n*n-1)
}

// FirstComeScore returns Fairness over FairnessCeiling, clamped to [-1, 1]:
// 1 when people were served strictly in arrival order, 0 for a lottery, -1
// when the latest comers got the places. It is NaN when FairnessCeiling is 0.
func (u Users) FirstComeScore() float64 {
	c := u.FairnessCeiling()
	if c <= 0 || math.IsNaN(u.Fairness) {
		return math.NaN()
	}
	return math.Max(-1, math.Min(1, u.Fairness/c))
}

// ErrorRate returns the share of requests that were 429, 5xx, transport
// errors or answers outside the API (UnexpectedAnswers: 403, 404, 400, a
// status the API does not define, an unreadable 2xx). A 409 is a normal
// answer, not an error.
func (d *DesignResult) ErrorRate() float64 {
	if d.Requests.Total == 0 {
		return 0
	}
	bad := d.Requests.TransportErrors
	for code, n := range d.Requests.ByStatus {
		if code == "429" || strings.HasPrefix(code, "5") {
			bad += n
		}
	}
	n, _ := d.UnexpectedAnswers()
	return float64(bad+n) / float64(d.Requests.Total)
}

// Check returns every inconsistency of the result: counts that do not add
// up, and places booked beyond the capacity that the result does not record
// as oversold (booked ≤ capacity + oversold: a system that sold more than
// it had is a finding to report, a result that hides it is broken). A
// result read from disk must pass it.
func (r *Result) Check() []error {
	var errs []error
	if r.Format < 1 || r.Format > FormatVersion {
		errs = append(errs, fmt.Errorf("format %d not supported (this build reads 1 to %d)", r.Format, FormatVersion))
	}
	if r.Engine != EngineLive && r.Engine != EngineModel {
		errs = append(errs, fmt.Errorf("engine %q: want %q or %q", r.Engine, EngineLive, EngineModel))
	}
	if len(r.Designs) == 0 {
		errs = append(errs, errors.New("no designs"))
	}
	errs = append(errs, r.checkObserved()...)
	for i := range r.Designs {
		d := &r.Designs[i]
		sum := d.Requests.TransportErrors
		for _, n := range d.Requests.ByStatus {
			sum += n
		}
		if sum != d.Requests.Total {
			errs = append(errs, fmt.Errorf("design %s: by_status + transport_errors = %d; total = %d", d.Design, sum, d.Requests.Total))
		}
		if d.Slots.Booked > d.Slots.Capacity+max(d.Slots.Oversold, 0) {
			errs = append(errs, fmt.Errorf("design %s: booked %d > capacity %d + oversold %d", d.Design, d.Slots.Booked, d.Slots.Capacity, d.Slots.Oversold))
		}
		errs = append(errs, d.checkUnexpected()...)
		if u := d.Users; u.Booked+u.GaveUp+u.StillWaiting != u.Arrived {
			errs = append(errs, fmt.Errorf("design %s: booked %d + gave_up %d + still_waiting %d != arrived %d", d.Design, u.Booked, u.GaveUp, u.StillWaiting, u.Arrived))
		}
		for op, h := range d.Histograms {
			if _, err := DecodeHistogram(h); err != nil {
				errs = append(errs, fmt.Errorf("design %s: histogram %s: %w", d.Design, op, err))
			}
		}
		errs = append(errs, d.checkOutcomeOps()...)
		errs = append(errs, d.checkIntervals()...)
		errs = append(errs, d.checkPartitions()...)
		errs = append(errs, d.checkBlast()...)
		errs = append(errs, d.checkMilestones(r.Observed)...)
	}
	return errs
}

// Design returns the result of the named design.
func (r *Result) Design(name string) (*DesignResult, bool) {
	for i := range r.Designs {
		if r.Designs[i].Design == name {
			return &r.Designs[i], true
		}
	}
	return nil, false
}

// Write writes r as indented JSON.
func (r *Result) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteFile writes r to path atomically (temp file + rename).
func (r *Result) WriteFile(path string) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	if err := r.Write(f); err != nil {
		return fmt.Errorf("write result %s: %w", path, errors.Join(err, f.Close()))
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write result %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	return nil
}

// ReadResult decodes and checks a result. Errors name the problem and, for
// JSON syntax and type errors, the line and column.
func ReadResult(name string, data []byte) (*Result, error) {
	var r Result
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: %w", locate(name, data, err), unwrapJSON(err))
	}
	if r.Format == 0 && r.Engine == "" && len(r.Designs) == 0 {
		return nil, fmt.Errorf("%s: not a slotrush result (no format, engine or designs)", name)
	}
	if errs := r.Check(); len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	return &r, nil
}

// LoadResult reads and checks the result file at path.
func LoadResult(path string) (*Result, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read result: %w", err)
	}
	return ReadResult(path, data)
}

func unwrapJSON(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file ends early (truncated JSON)")
	}
	return err
}

// locate returns "name:line:col" for JSON errors that carry an offset.
func locate(name string, data []byte, err error) string {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
	}
	if off < 0 {
		return name
	}
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%s:%d:%d", name, line, col)
}
