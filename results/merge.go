package results

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SegmentInfo says which segment of which crowd a result is: instance Index
// (from 1) of Of, of the crowd whose scenarios.CrowdHash is CrowdHash, all
// segments started at StartAt (run --segment I/N --start-at TIME). It is
// meant to hang off Result as `Segment *SegmentInfo
// json:"segment,omitempty"`; CheckSegments checks a set of them before a
// merge.
type SegmentInfo struct {
	Index     int       `json:"index"`
	Of        int       `json:"of"`
	CrowdHash string    `json:"crowd_hash"`
	StartAt   time.Time `json:"start_at"`
}

// CheckSegments reports whether segs are the segments of one crowd, each
// once: the same Of, CrowdHash and StartAt, every Index in 1..Of, none
// twice and, unless allowPartial, none missing. The error names the first
// problem of each kind.
func CheckSegments(segs []SegmentInfo, allowPartial bool) error {
	if len(segs) == 0 {
		return errors.New("no segments")
	}
	var errs []error
	first := segs[0]
	seen := map[int]int{}
	for k, s := range segs {
		switch {
		case s.Of != first.Of:
			errs = append(errs, fmt.Errorf("part %d is a segment of %d; part 1 of %d", k+1, s.Of, first.Of))
		case s.CrowdHash != first.CrowdHash:
			errs = append(errs, fmt.Errorf("part %d replays crowd %s; part 1 crowd %s", k+1, s.CrowdHash, first.CrowdHash))
		case !s.StartAt.Equal(first.StartAt):
			errs = append(errs, fmt.Errorf("part %d started at %s; part 1 at %s", k+1, s.StartAt.Format(time.RFC3339Nano), first.StartAt.Format(time.RFC3339Nano)))
		case s.Index < 1 || s.Index > s.Of:
			errs = append(errs, fmt.Errorf("part %d is segment %d/%d: want 1 to %d", k+1, s.Index, s.Of, s.Of))
		case seen[s.Index] > 0:
			errs = append(errs, fmt.Errorf("segment %d/%d twice: parts %d and %d", s.Index, s.Of, seen[s.Index], k+1))
		default:
			seen[s.Index] = k + 1
		}
	}
	if len(errs) == 0 && !allowPartial {
		var missing []string
		for i := 1; i <= first.Of; i++ {
			if seen[i] == 0 {
				missing = append(missing, fmt.Sprintf("%d/%d", i, first.Of))
			}
		}
		if len(missing) > 0 {
			errs = append(errs, fmt.Errorf("segments %s missing", strings.Join(missing, ", ")))
		}
	}
	return errors.Join(errs...)
}

// ParamMergedFairness is the name of the parameter a merged result carries
// to say that Users.Fairness is an estimate (see Merge).
const ParamMergedFairness = "fairness (merged)"

// Merge returns the exact merge of parts, the results of the segments of
// one run: the same format, scenario, engine, seed and target (else an
// error naming the field and both values), the same designs (matched by
// name) with the same assumptions, capacity and inventory. It does not
// modify parts. Per design:
//
//   - counts add: requests (total, by status, transport errors, dropped,
//     unexpected answers), users (arrived, booked, gave up, still waiting,
//     late starts), slots (booked, oversold, answered 201, missing, unknown
//     outcomes; persisted too, -1 if any part could not audit), and the
//     reference server's partition counters;
//   - histograms add (latency per operation, time to book, time to
//     outcome, server service and commit times); LatencyMs is recomputed
//     from the merged histograms, never averaged;
//   - per-second intervals and timeline points align on absolute time:
//     a part's second t_s is its StartedAt (truncated to the second) + t_s,
//     the merged StartedAt is the earliest part's and t_s counts from it.
//     The timeline's p50/p99 of a second are recomputed from the merged
//     intervals of all operations (at the timeline's 2 significant digits)
//     when every part has intervals for every operation; otherwise they
//     are the largest of the parts' values, an upper bound;
//   - RequestsPerUser, RoomPollsPerUser and RetryAmplification are
//     recomputed from the parts' totals (distinct requests of a part are
//     its API requests over its amplification);
//   - Fairness, a rank correlation over the whole crowd, does not combine
//     exactly: the merge gives the arrival-weighted mean of the parts'
//     values (each segment samples the whole arrival window, so it is a
//     fair estimate) and says so in the parameter ParamMergedFairness;
//   - milestones are recomputed from the merged timeline against the
//     parts' observed milestones (Result.Observed), which must be the same
//     in every part (else an error): a part's own count only its segment;
//   - summaries without a histogram (Requests.DroppedLate, an operation a
//     part has no histogram for): counts add, means are weighted, the max
//     is the max and percentiles the largest of the parts', an upper bound;
//   - DurationS is the span from the merged start to the latest end;
//   - per-partition results (ByPartition) add: totals by key, seconds on
//     absolute time (each part's StartUnix + t_s), latency bins by bin.
//     The kept series are the union of the parts', the hottest Keep of
//     them by merged totals (the rest go to Others). A partition kept in
//     some parts but counted among the others of another is marked
//     Partial: its series lacks that part's seconds of it, which are in
//     Others, and its availability is not known (nil) unless one part
//     alone counted it. When a part has no per-partition results the
//     merged result has none either (MergeWarnings says so).
//
// Slots assume each part audited its own 201s (run --target audits through
// the API): parts that each audited a whole shared store would count its
// bookings N times, and parts that each ran their own store cannot be
// merged into one. The merged result must pass Check, else Merge returns
// its problems. Environment is the first part's: see MergeWarnings.
func Merge(parts ...*Result) (*Result, error) {
	if len(parts) == 0 {
		return nil, errors.New("merge: no results")
	}
	for k, p := range parts {
		if p == nil {
			return nil, fmt.Errorf("merge: part %d is nil", k+1)
		}
	}
	if err := checkSameRun(parts); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	first := parts[0]
	out := &Result{
		Format: first.Format, Scenario: first.Scenario, Engine: first.Engine, Seed: first.Seed,
		Target: first.Target, Environment: first.Environment, StartedAt: first.StartedAt, FinishedAt: first.FinishedAt,
	}
	for _, p := range parts {
		if p.StartedAt.Before(out.StartedAt) {
			out.StartedAt = p.StartedAt
		}
		if p.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = p.FinishedAt
		}
		out.Interrupted = out.Interrupted || p.Interrupted
	}
	out.Parameters = mergeParameters(parts)
	for _, d := range first.Designs {
		md, err := mergeDesign(out.StartedAt, parts, d.Design)
		if err != nil {
			return nil, fmt.Errorf("merge: design %s: %w", d.Design, err)
		}
		out.Designs = append(out.Designs, md)
	}
	if err := mergeRecord(out, parts); err != nil {
		return nil, fmt.Errorf("merge: %w", err)
	}
	if len(parts) > 1 && len(out.Designs) > 0 {
		out.Parameters = append(out.Parameters, Parameter{Name: ParamMergedFairness,
			Value: fmt.Sprintf("arrival-weighted mean of %d parts' values: an estimate, not the rank correlation of the whole crowd", len(parts))})
	}
	if errs := out.Check(); len(errs) > 0 {
		return nil, fmt.Errorf("merge: the merged result fails its check (were the parts run against one system?): %w", errors.Join(errs...))
	}
	return out, nil
}

// MergeWarnings returns what Merge accepts but a reader should know: parts
// built by different binaries (slotrush version or commit) or Go versions,
// and designs with results by partition in some parts only (the merge
// drops them).
func MergeWarnings(parts ...*Result) []string {
	var w []string
	if len(parts) == 0 || parts[0] == nil {
		return nil
	}
	e := parts[0].Environment
	for k, p := range parts[1:] {
		if p == nil {
			continue
		}
		if o := p.Environment; o.Slotrush != e.Slotrush || o.Commit != e.Commit || o.GoVersion != e.GoVersion {
			w = append(w, fmt.Sprintf("part %d was built differently from part 1: slotrush %s (%s, %s) vs %s (%s, %s)",
				k+2, o.Slotrush, o.Commit, o.GoVersion, e.Slotrush, e.Commit, e.GoVersion))
		}
	}
	return append(w, partitionWarnings(parts)...)
}

// partitionWarnings names the designs with per-partition results in some
// parts but not in all: the merge drops them.
func partitionWarnings(parts []*Result) []string {
	var w []string
	for _, d := range parts[0].Designs {
		var with, without []string
		for k, p := range parts {
			if p == nil {
				continue
			}
			if pd, ok := p.Design(d.Design); ok && pd.ByPartition != nil {
				with = append(with, fmt.Sprint(k+1))
			} else {
				without = append(without, fmt.Sprint(k+1))
			}
		}
		if len(with) > 0 && len(without) > 0 {
			w = append(w, fmt.Sprintf("design %s: parts %s have per-partition results and parts %s do not: the merged result has none",
				d.Design, strings.Join(with, ", "), strings.Join(without, ", ")))
		}
	}
	return w
}

// checkSameRun returns an error when parts are not of one run.
func checkSameRun(parts []*Result) error {
	f := parts[0]
	names := designNames(f)
	for k, p := range parts[1:] {
		n := k + 2
		for _, c := range []struct {
			field string
			a, b  any
		}{
			{"format", f.Format, p.Format},
			{"scenario", f.Scenario, p.Scenario},
			{"engine", f.Engine, p.Engine},
			{"seed", f.Seed, p.Seed},
			{"target", f.Target, p.Target},
		} {
			if c.a != c.b {
				return fmt.Errorf("part %d has %s %v; part 1 %v: not parts of one run", n, c.field, c.b, c.a)
			}
		}
		if got := designNames(p); got != names {
			return fmt.Errorf("part %d has designs [%s]; part 1 [%s]: not parts of one run", n, got, names)
		}
	}
	return nil
}

func designNames(r *Result) string {
	names := make([]string, len(r.Designs))
	for i, d := range r.Designs {
		names[i] = d.Design
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// mergeParameters keeps the parameters in order of first appearance; a
// parameter whose value differs between parts lists the distinct values.
func mergeParameters(parts []*Result) []Parameter {
	var out []Parameter
	at := map[string]int{}
	for _, p := range parts {
		for _, prm := range p.Parameters {
			i, ok := at[prm.Name]
			switch {
			case !ok:
				at[prm.Name] = len(out)
				out = append(out, prm)
			case !containsValue(out[i].Value, prm.Value):
				out[i].Value += " | " + prm.Value
			}
		}
	}
	return out
}

func containsValue(list, v string) bool {
	for _, x := range strings.Split(list, " | ") {
		if x == v {
			return true
		}
	}
	return false
}

// mergeDesign merges the design name of every part; start is the merged
// StartedAt.
func mergeDesign(start time.Time, parts []*Result, name string) (DesignResult, error) {
	ds := make([]*DesignResult, len(parts))
	for k, p := range parts {
		ds[k], _ = p.Design(name) // checkSameRun made sure it is there
	}
	f := ds[0]
	m := DesignResult{Design: name, Assumptions: f.Assumptions, Target: f.Target, Calibration: f.Calibration}
	for k, d := range ds[1:] {
		for _, c := range []struct {
			field string
			a, b  any
		}{
			{"assumptions", f.Assumptions, d.Assumptions},
			{"target", f.Target, d.Target},
			{"calibration", f.Calibration, d.Calibration},
		} {
			if !reflect.DeepEqual(c.a, c.b) {
				return m, fmt.Errorf("part %d has %s %+v; part 1 %+v", k+2, c.field, c.b, c.a)
			}
		}
	}
	var end time.Time
	for k, d := range ds {
		if e := parts[k].StartedAt.Add(time.Duration(d.DurationS * float64(time.Second))); e.After(end) {
			end = e
		}
	}
	m.DurationS = end.Sub(start).Seconds()
	var err error
	m.Requests = mergeRequests(ds)
	if m.Histograms, m.LatencyMs, err = mergeLatency(ds); err != nil {
		return m, err
	}
	if m.Intervals, err = mergeIntervals(start, parts, ds); err != nil {
		return m, err
	}
	if !allSplitBook(ds) {
		// A part from before OpBook was split by answer: the merged split
		// would count only the other parts' bookings.
		for _, op := range []string{OpBookBooked, OpBookRefused} {
			delete(m.Histograms, op)
			delete(m.LatencyMs, op)
			delete(m.Intervals, op)
		}
	}
	if m.Timeline, err = mergeTimeline(start, ds, m.Intervals); err != nil {
		return m, err
	}
	if m.Users, err = mergeUsers(ds); err != nil {
		return m, err
	}
	if m.Slots, err = mergeSlots(ds); err != nil {
		return m, err
	}
	if m.Server, err = mergeServer(ds); err != nil {
		return m, err
	}
	m.ByPartition, err = mergePartitions(ds)
	m.BlastRadius = mergeBlast(ds, m.Users.Arrived)
	return m, err
}

func mergeRequests(ds []*DesignResult) Requests {
	r := Requests{ByStatus: map[string]int64{}}
	var late []LatencySummary
	for _, d := range ds {
		q := d.Requests
		r.Total += q.Total
		r.TransportErrors += q.TransportErrors
		r.Dropped += q.Dropped
		r.Unexpected += q.Unexpected
		r.GatewayThrottled += q.GatewayThrottled
		for code, n := range q.ByStatus {
			r.ByStatus[code] += n
		}
		for key, n := range q.UnexpectedByAnswer {
			if r.UnexpectedByAnswer == nil {
				r.UnexpectedByAnswer = map[string]int64{}
			}
			r.UnexpectedByAnswer[key] += n
		}
		if q.DroppedLate != nil {
			late = append(late, *q.DroppedLate)
		}
	}
	if len(late) > 0 {
		s := boundSummaries(late)
		r.DroppedLate = &s
	}
	return r
}

// boundSummaries combines summaries without their histograms: counts add,
// the mean is weighted by count, the max is the max, and each percentile
// is the largest of the parts' (an upper bound: a percentile of a mixture
// lies between its parts' percentiles).
func boundSummaries(ss []LatencySummary) LatencySummary {
	var out LatencySummary
	var sum float64
	for _, s := range ss {
		out.Count += s.Count
		sum += s.Mean * float64(s.Count)
		out.P50, out.P90 = max(out.P50, s.P50), max(out.P90, s.P90)
		out.P99, out.P999 = max(out.P99, s.P99), max(out.P999, s.P999)
		out.Max = max(out.Max, s.Max)
	}
	if out.Count > 0 {
		out.Mean = sum / float64(out.Count)
	}
	return out
}

// mergeHistograms adds the decoded histograms encs ("" skipped) into the
// first one's bounds and returns the sum, nil when all are "".
func mergeHistograms(encs []string) (*hdrhistogram.Histogram, error) {
	var sum *hdrhistogram.Histogram
	for _, e := range encs {
		if e == "" {
			continue
		}
		h, err := DecodeHistogram(e)
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = h
			continue
		}
		if dropped := sum.Merge(h); dropped != 0 {
			return nil, fmt.Errorf("merge histograms: %d values outside %d..%d dropped", dropped, sum.LowestTrackableValue(), sum.HighestTrackableValue())
		}
	}
	return sum, nil
}

// mergeEncoded is mergeHistograms, encoded ("" when all are "").
func mergeEncoded(encs []string) (string, error) {
	h, err := mergeHistograms(encs)
	if err != nil || h == nil {
		return "", err
	}
	return EncodeHistogram(h)
}

// allSplitBook reports whether every part that made booking requests
// also split them by answer (OpBookBooked, OpBookRefused), so the merged
// split is exact.
func allSplitBook(ds []*DesignResult) bool {
	for _, d := range ds {
		_, b := d.LatencyMs[OpBookBooked]
		_, r := d.LatencyMs[OpBookRefused]
		if d.LatencyMs[OpBook].Count > 0 && !b && !r {
			return false
		}
	}
	return true
}

// mergeLatency adds the operations' histograms and summarises the sums.
func mergeLatency(ds []*DesignResult) (map[string]string, map[string]LatencySummary, error) {
	ops := map[string]bool{}
	for _, d := range ds {
		for op := range d.LatencyMs {
			ops[op] = true
		}
		for op := range d.Histograms {
			ops[op] = true
		}
	}
	hists, lat := map[string]string{}, map[string]LatencySummary{}
	for op := range ops {
		var encs []string
		var sums []LatencySummary
		exact := true
		for _, d := range ds {
			enc, ok := d.Histograms[op]
			s, has := d.LatencyMs[op]
			exact = exact && (ok || !has || s.Count == 0)
			encs = append(encs, enc)
			sums = append(sums, s)
		}
		h, err := mergeHistograms(encs)
		if err != nil {
			return nil, nil, fmt.Errorf("histogram %s: %w", op, err)
		}
		if h != nil {
			if hists[op], err = EncodeHistogram(h); err != nil {
				return nil, nil, fmt.Errorf("histogram %s: %w", op, err)
			}
		}
		if exact && h != nil {
			lat[op] = Summarize(h)
		} else {
			lat[op] = boundSummaries(sums)
		}
	}
	return hists, lat, nil
}

// mergeIntervals adds each operation's per-second histograms on absolute
// seconds and counts them from start.
func mergeIntervals(start time.Time, parts []*Result, ds []*DesignResult) (map[string][]Interval, error) {
	abs := map[string]map[int64][]string{} // op → unix second → histograms
	for k, d := range ds {
		for op, ivs := range d.Intervals {
			if abs[op] == nil {
				abs[op] = map[int64][]string{}
			}
			for _, iv := range ivs {
				sec := parts[k].StartedAt.Unix() + int64(iv.TS)
				abs[op][sec] = append(abs[op][sec], iv.Histogram)
			}
		}
	}
	if len(abs) == 0 {
		return nil, nil
	}
	out := map[string][]Interval{}
	for op, bySec := range abs {
		secs := sortedKeys(bySec)
		ivs := make([]Interval, 0, len(secs))
		for _, sec := range secs {
			enc, err := mergeEncoded(bySec[sec])
			if err != nil {
				return nil, fmt.Errorf("intervals %s at %d: %w", op, sec, err)
			}
			ivs = append(ivs, Interval{TS: int(sec - start.Unix()), Histogram: enc})
		}
		out[op] = ivs
	}
	return out, nil
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// timelineSigFigs is the precision of the histograms a live run's timeline
// percentiles come from (sim's recorder).
const timelineSigFigs = 2

// mergeTimeline adds the parts' timeline points of each absolute second.
// ivs are the merged intervals, from which each second's p50 and p99 are
// recomputed when every part has intervals for each of its operations.
func mergeTimeline(start time.Time, ds []*DesignResult, ivs map[string][]Interval) ([]TimelinePoint, error) {
	points := map[int64]*TimelinePoint{}
	for _, d := range ds {
		for _, p := range d.Timeline {
			m := points[p.TUnix]
			if m == nil {
				m = &TimelinePoint{TUnix: p.TUnix, TS: int(p.TUnix - start.Unix())}
				points[p.TUnix] = m
			}
			addPoint(m, p)
		}
	}
	if allIntervals(ds) {
		secs, err := secondHistograms(start, ivs)
		if err != nil {
			return nil, err
		}
		for unix, m := range points {
			m.P50Ms, m.P99Ms = 0, 0
			if h := secs[unix]; h != nil {
				q := ValuesAtQuantiles(h, 50, 99)
				m.P50Ms, m.P99Ms = float64(q[0])/1000, float64(q[1])/1000
			}
		}
	}
	keys := sortedKeys(points)
	out := make([]TimelinePoint, len(keys))
	for i, k := range keys {
		out[i] = *points[k]
	}
	return out, nil
}

// addPoint adds the counts of p to m; its percentiles are the larger.
func addPoint(m *TimelinePoint, p TimelinePoint) {
	m.RPS += p.RPS
	m.OK += p.OK
	m.Conflict += p.Conflict
	m.Throttled += p.Throttled
	m.ServerErr += p.ServerErr
	m.Transport += p.Transport
	m.Unexpected += p.Unexpected
	m.Errors += p.Errors
	m.Booked += p.Booked
	m.Arrivals += p.Arrivals
	m.P50Ms = max(m.P50Ms, p.P50Ms)
	m.P99Ms = max(m.P99Ms, p.P99Ms)
}

// allIntervals reports whether every part has per-second histograms for
// every operation it measured.
func allIntervals(ds []*DesignResult) bool {
	for _, d := range ds {
		for op, s := range d.LatencyMs {
			if s.Count > 0 && len(d.Intervals[op]) == 0 {
				return false
			}
		}
		if len(d.Intervals) == 0 && len(d.Timeline) > 0 {
			return false
		}
	}
	return true
}

// secondHistograms adds the intervals of all operations (but the split of
// OpBook by answer, IsOutcomeOp) per absolute second, at the timeline's
// precision. The buckets of a 3-digit histogram
// nest in a 2-digit one's, so recording each bucket's lowest value gives
// the 2-digit histogram of the raw values.
func secondHistograms(start time.Time, ivs map[string][]Interval) (map[int64]*hdrhistogram.Histogram, error) {
	out := map[int64]*hdrhistogram.Histogram{}
	for op, list := range ivs {
		if IsOutcomeOp(op) {
			continue // its requests are in OpBook's intervals already
		}
		for _, iv := range list {
			h, err := DecodeHistogram(iv.Histogram)
			if err != nil {
				return nil, fmt.Errorf("intervals %s: %w", op, err)
			}
			sec := start.Unix() + int64(iv.TS)
			s := out[sec]
			if s == nil {
				s = hdrhistogram.New(HistMinMicros, HistMaxMicros, timelineSigFigs)
				out[sec] = s
			}
			for _, b := range h.Distribution() {
				if b.Count > 0 {
					if err := s.RecordValues(b.From, b.Count); err != nil {
						return nil, fmt.Errorf("intervals %s: %w", op, err)
					}
				}
			}
		}
	}
	return out, nil
}

// mergeUsers adds the outcomes and recomputes the per-user ratios.
func mergeUsers(ds []*DesignResult) (Users, error) {
	var u Users
	var requests, polls, api, distinct, fair float64
	ampKnown := true
	var ttb, tto []string
	for _, d := range ds {
		p := d.Users
		u.Arrived += p.Arrived
		u.Booked += p.Booked
		u.GaveUp += p.GaveUp
		u.StillWaiting += p.StillWaiting
		u.LateStarts += p.LateStarts
		n := float64(p.Arrived)
		req, pl := math.Round(d.RequestsPerPerson()*n), math.Round(d.RoomPollsPerPerson()*n)
		requests += req
		polls += pl
		if a := req - pl; a > 0 {
			api += a
			if p.RetryAmplification > 0 {
				distinct += math.Round(a / p.RetryAmplification)
			} else {
				ampKnown = false
			}
		}
		fair += p.Fairness * n
		ttb, tto = append(ttb, p.TimeToBook), append(tto, p.TimeToOutcome)
	}
	if u.Arrived > 0 {
		n := float64(u.Arrived)
		u.RequestsPerUser, u.RoomPollsPerUser, u.Fairness = requests/n, polls/n, fair/n
	}
	if ampKnown && distinct > 0 {
		u.RetryAmplification = api / distinct
	}
	var err error
	if u.TimeToBook, err = mergeEncoded(ttb); err != nil {
		return u, fmt.Errorf("time to book: %w", err)
	}
	if u.TimeToOutcome, err = mergeEncoded(tto); err != nil {
		return u, fmt.Errorf("time to outcome: %w", err)
	}
	return u, nil
}

// auditRank orders Slots.Audit from the weakest check.
var auditRank = map[string]int{AuditNone: 0, AuditAPI: 1, AuditStore: 2, "": 3}

// mergeSlots adds the audit counts of parts that each audited their own
// 201s against one inventory; the audit is the weakest of the parts'.
func mergeSlots(ds []*DesignResult) (Slots, error) {
	f := ds[0].Slots
	s := Slots{Capacity: f.Capacity, Inventory: f.Inventory, Audit: f.Audit}
	for k, d := range ds {
		p := d.Slots
		if p.Capacity != f.Capacity {
			return s, fmt.Errorf("part %d has capacity %d; part 1 %d: not one inventory", k+1, p.Capacity, f.Capacity)
		}
		if p.Inventory != f.Inventory {
			return s, fmt.Errorf("part %d has inventory %q; part 1 %q", k+1, p.Inventory, f.Inventory)
		}
		if auditRank[p.Audit] < auditRank[s.Audit] {
			s.Audit = p.Audit
		}
		s.Booked += p.Booked
		s.Oversold += p.Oversold
		s.Answered201 += p.Answered201
		s.Missing += p.Missing
		s.UnknownOutcome += p.UnknownOutcome
		if s.Persisted >= 0 && p.Persisted >= 0 {
			s.Persisted += p.Persisted
		} else {
			s.Persisted = -1
		}
	}
	return s, nil
}

// mergeServer adds the in-process servers' statistics: histograms add,
// partition counters add by key, MeanBatch is weighted by batches.
func mergeServer(ds []*DesignResult) (*ServerStats, error) {
	var out *ServerStats
	service := map[string][]string{}
	var commits []string
	byKey := map[string]*PartitionStats{}
	for _, d := range ds {
		if d.Server == nil {
			continue
		}
		if out == nil {
			out = &ServerStats{}
		}
		for op, enc := range d.Server.Service {
			service[op] = append(service[op], enc)
		}
		commits = append(commits, d.Server.Commit)
		for _, p := range d.Server.Partitions {
			m := byKey[p.Key]
			if m == nil {
				m = &PartitionStats{Key: p.Key}
				byKey[p.Key] = m
			}
			m.Committed += p.Committed
			m.Throttled += p.Throttled
			m.Shed += p.Shed
			m.MeanBatch += p.MeanBatch * float64(p.Batches) // a sum until divided below
			m.Batches += p.Batches
			m.BusySeconds += p.BusySeconds
		}
	}
	if out == nil {
		return nil, nil
	}
	var err error
	out.Service = map[string]string{}
	for op, encs := range service {
		if out.Service[op], err = mergeEncoded(encs); err != nil {
			return nil, fmt.Errorf("server service %s: %w", op, err)
		}
	}
	if out.Commit, err = mergeEncoded(commits); err != nil {
		return nil, fmt.Errorf("server commits: %w", err)
	}
	for _, p := range byKey {
		if p.Batches > 0 {
			p.MeanBatch /= float64(p.Batches)
		}
		out.Partitions = append(out.Partitions, *p)
	}
	sort.Slice(out.Partitions, func(i, j int) bool { return out.Partitions[i].Key < out.Partitions[j].Key })
	return out, nil
}
