package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slotrush/slotrush/results"
)

// Verdict is the conclusion of a report in plain words, computed from the
// data: which design booked the most places, for what share of the people,
// how fast, with how many errors, against the worst design. Its columns
// may be designs slotrush built or targets (systems it drove but did not
// start), or both; its sentences call them so. It is plain data.
type Verdict struct {
	// Simulated reports whether any result comes from the model engine.
	Simulated bool
	// Headline compares the best design with the worst, or describes the
	// only one. Simulated results start with "SIMULATED (model) results:".
	Headline string
	// Details are the further sentences: speed, latency, the other designs.
	Details []string
	// Isolation says, of the designs with results by partition, how many
	// partitions stayed available throughout and how much the others
	// refused at their worst; "" when no design has them.
	Isolation string
	// Record says, per design whose result carries observed milestones of
	// the real event, how far the design is from that record; nil
	// without milestones.
	Record []string
	// People are the sentences about what the people who came lived
	// through: who got a place, requests per person (retry amplification),
	// retry storms, fairness and how long they waited to know.
	People []string
	// Warnings are broken invariants (oversold, lost 201s), answers outside
	// the API (what a column answered and what that means; a column nobody
	// could book with because of them, results.DesignResult.Unusable) and
	// caveats (unknown outcomes, requests due but never sent, interrupted
	// runs, unaudited stores, mixed scenarios).
	Warnings []string
	// Best and Worst are the labels of the designs compared ("" when there
	// are no designs; equal when there is one).
	Best, Worst string
}

// String returns the verdict as one paragraph, warnings last.
func (v Verdict) String() string {
	parts := append([]string{v.Headline}, v.Details...)
	if v.Isolation != "" {
		parts = append(parts, v.Isolation)
	}
	parts = append(parts, v.Record...)
	parts = append(parts, v.People...)
	for _, w := range v.Warnings {
		parts = append(parts, "Warning: "+w)
	}
	return strings.Join(parts, " ")
}

// designStats are the figures a verdict and the table are made of.
type designStats struct {
	s                      series
	booked, capacity       int64
	shareOfCapacity        float64 // NaN without capacity
	arrived, users, gaveUp int64
	waiting                int64
	errRate, shedRate      float64 // shedRate: 429 and 503
	total                  int64
	unexpected             int64                 // answers outside the API (results.DesignResult.UnexpectedAnswers)
	odd                    []results.AnswerCount // unexpected, by answer, the most frequent first
	bookP99                float64               // NaN when book was not measured
	bookedP99, refusedP99  float64               // of the bookings that booked (201) and were refused (429, 503); NaN when not split or none
	soldOutAt, halfAt      float64               // seconds; NaN when never reached
	duration               float64
	perUser                float64
	amp                    float64 // retry amplification (results.DesignResult.Amplification)
	ampMeasured            bool    // amp counts retries after errors, not an estimate from requests per person
	polls                  float64 // waiting-room requests per person
	fair, fairMax          float64 // Spearman rho and its ceiling (0: order could not matter)
	fairScore              float64 // fair/fairMax; NaN without a ceiling
	ttoP50, ttoP99         float64 // seconds from arriving to an outcome; NaN when unknown
	ttbP50, ttbP99         float64 // seconds from arriving to a booking; NaN when unknown
	storm                  storm
	stormy                 bool
}

// Thresholds of the warnings about people.
const (
	// fewRetriesMax: a booking API that received at most this many times
	// the requests people made (retry amplification) saw few retries.
	fewRetriesMax = 1.5
	// warnAmplification: a booking API that received more than this many
	// times the requests people made served mostly retries. Between
	// fewRetriesMax and it, retries were a large share of its load.
	warnAmplification = 3
	// warnStillWaiting: a larger share of people still trying when the
	// run ended leaves the design's outcome unknown for too many.
	warnStillWaiting = 0.10
)

// retryBand is the size of a retry amplification, judged on its own and
// never against another column's.
type retryBand int

// The retry bands, from the best.
const (
	fewRetries    retryBand = iota // at most fewRetriesMax
	largeRetries                   // above fewRetriesMax, at most warnAmplification
	mostlyRetries                  // above warnAmplification
)

// bandOf returns the band of the retry amplification amp, as the report
// prints it (to one decimal), so "1.5×" is never called more than few.
func bandOf(amp float64) retryBand {
	switch a := math.Round(amp*10) / 10; {
	case a <= fewRetriesMax:
		return fewRetries
	case a <= warnAmplification:
		return largeRetries
	}
	return mostlyRetries
}

// phrase ends a sentence about how much a booking API received.
func (b retryBand) phrase() string {
	switch b {
	case fewRetries:
		return "few retries"
	case largeRetries:
		return "retries were a large share of its load"
	}
	return "most of its load was retries"
}

// percentilesS returns the median and 99th percentile, in seconds, of the
// histogram enc (µs); NaN when it is absent, empty or undecodable.
func percentilesS(enc string) (p50, p99 float64) {
	if enc == "" {
		return math.NaN(), math.NaN()
	}
	h, err := results.DecodeHistogram(enc)
	if err != nil || h.TotalCount() == 0 {
		return math.NaN(), math.NaN()
	}
	l := results.Summarize(h)
	return l.P50 / 1000, l.P99 / 1000
}

// statsOfAll returns the statistics of each series, in order.
func statsOfAll(ss []series) []designStats {
	stats := make([]designStats, len(ss))
	for i, s := range ss {
		stats[i] = statsOf(s)
	}
	return stats
}

func statsOf(s series) designStats {
	d := s.Design
	st := designStats{
		s: s, booked: d.Slots.Booked, capacity: d.Slots.Capacity,
		arrived: d.Users.Arrived, users: d.Users.Booked, gaveUp: d.Users.GaveUp, waiting: d.Users.StillWaiting,
		errRate: d.ErrorRate(), total: d.Requests.Total, bookP99: math.NaN(), bookedP99: math.NaN(), refusedP99: math.NaN(),
		soldOutAt: math.NaN(), halfAt: math.NaN(), duration: d.DurationS, perUser: d.APIRequestsPerPerson(), polls: d.RoomPollsPerPerson(),
		shareOfCapacity: math.NaN(), amp: d.Amplification(), ampMeasured: d.Users.RetryAmplification > 0,
		fair: d.Users.Fairness, fairMax: d.Users.FairnessCeiling(), fairScore: d.Users.FirstComeScore(),
	}
	st.unexpected, st.odd = d.UnexpectedAnswers()
	st.ttoP50, st.ttoP99 = percentilesS(d.Users.TimeToOutcome)
	st.ttbP50, st.ttbP99 = percentilesS(d.Users.TimeToBook)
	st.storm, st.stormy = retryStorm(d)
	if st.capacity > 0 {
		st.shareOfCapacity = float64(st.booked) / float64(st.capacity)
	}
	if st.total > 0 {
		st.shedRate = float64(d.Requests.ByStatus["429"]+d.Requests.ByStatus["503"]) / float64(st.total)
	}
	if l, ok := d.LatencyMs[results.OpBook]; ok && l.Count > 0 {
		st.bookP99 = l.P99
	}
	if l, ok := d.LatencyMs[results.OpBookBooked]; ok && l.Count > 0 {
		st.bookedP99 = l.P99
	}
	if l, ok := d.LatencyMs[results.OpBookRefused]; ok && l.Count > 0 {
		st.refusedP99 = l.P99
	}
	cum := cumulativeBooked(d)
	for _, p := range cum {
		if st.capacity > 0 && math.IsNaN(st.halfAt) && p.Y*2 >= float64(st.capacity) {
			st.halfAt = p.X - cum[0].X
		}
		if st.capacity > 0 && math.IsNaN(st.soldOutAt) && p.Y >= float64(st.capacity) {
			st.soldOutAt = p.X - cum[0].X
		}
	}
	if st.duration == 0 && len(cum) > 0 {
		st.duration = cum[len(cum)-1].X - cum[0].X
	}
	return st
}

// Judge computes the verdict over the designs of all results, ranking them
// by places booked, then people served, then fewest errors, and says what
// the people lived through (retry amplification by its size: at most 1.5×
// few retries, up to 3× a large share of the load, beyond that most of
// it; retry storms, fairness, time to an outcome). Errors include answers
// outside the API (results.DesignResult.ErrorRate). It warns about broken
// invariants, answers outside the API and a column nobody could book with
// because of them or of no answers at all, what the audit could not settle (unknown outcomes, checks
// that were not possible), requests due but never sent, a booking API that
// received more than three times the requests people made, and a tenth or
// more of the people still trying at the end. Of designs with results by
// partition it says how many partitions stayed available throughout and
// how much the others refused at their worst (Isolation). It never fails:
// with no designs the headline says so. It ranks designs only against
// designs that faced the same crowd by the same engine (results.Crowd):
// given results of several such groups it judges the first and warns that
// the others were left out (Render gives each group its own verdict).
// Of results with observed milestones it says how far each design is from
// that record (Record). Safe for concurrent use.
func Judge(rs ...*results.Result) Verdict {
	ss := collect(rs)
	groups := groupSeries(ss)
	if len(groups) <= 1 {
		return judge(rs, statsOfAll(ss))
	}
	v := judge(groups[0].results, statsOfAll(groups[0].series))
	v.Warnings = append(v.Warnings, groupsWarning(groups))
	return v
}

// judge is Judge over the statistics of the results' designs.
func judge(rs []*results.Result, stats []designStats) Verdict {
	mix := mixOf(rs)
	v := Verdict{Simulated: mix.model > 0, Warnings: mix.interrupted}
	if len(stats) == 0 {
		v.Headline = "No design results to judge."
		return v
	}
	order := rankDesigns(stats)
	best, worst := stats[order[0]], stats[order[len(order)-1]]
	v.Best, v.Worst = best.s.Label, worst.s.Label
	v.Headline = mix.prefix() + verdictHeadline(best, worst, len(stats))
	if sent, ok := outcomeSentence(best, worst, len(stats)); ok {
		v.People = append(v.People, sent)
	}
	v.People = append(v.People, peopleSentences(stats)...)
	v.People = append(v.People, faultSentences(stats)...)
	v.Details = detailSentences(stats, order)
	v.Isolation = isolationSentence(stats)
	v.Record = recordSentences(stats)
	v.Warnings = append(v.Warnings, invariantWarnings(stats)...)
	if len(mix.scenarios) > 1 {
		names := make([]string, 0, len(mix.scenarios))
		for n := range mix.scenarios {
			names = append(names, n)
		}
		sort.Strings(names)
		v.Warnings = append(v.Warnings, fmt.Sprintf("these results come from different scenarios (%s); compare them with care.", strings.Join(names, ", ")))
	}
	return v
}

// runMix is what a verdict needs to know of the results themselves.
type runMix struct {
	live, model int             // results by engine
	scenarios   map[string]bool // the scenarios run
	interrupted []string        // a warning per interrupted run
}

// mixOf counts the live and model results among rs, collects their
// scenarios and warns about each interrupted run; nil results are skipped.
func mixOf(rs []*results.Result) runMix {
	m := runMix{scenarios: map[string]bool{}}
	for _, r := range rs {
		if r == nil {
			continue
		}
		if r.Engine == results.EngineModel {
			m.model++
		} else {
			m.live++
		}
		m.scenarios[r.Scenario] = true
		if r.Interrupted {
			m.interrupted = append(m.interrupted, fmt.Sprintf("the run %q was interrupted; its figures cover only part of the scenario.", resultLabel(r)))
		}
	}
	return m
}

// prefix returns what the headline starts with when model results are
// among the runs: "SIMULATED (model) results: " or "Mixed live and
// SIMULATED (model) results: "; "" when all are live.
func (m runMix) prefix() string {
	switch {
	case m.model > 0 && m.live == 0:
		return "SIMULATED (model) results: "
	case m.model > 0:
		return "Mixed live and SIMULATED (model) results: "
	}
	return ""
}

// rankDesigns returns the indexes of stats best first: most places booked,
// then most people served, then fewest errors; report order breaks ties.
func rankDesigns(stats []designStats) []int {
	order := make([]int, len(stats))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := stats[order[a]], stats[order[b]]
		if x.booked != y.booked {
			return x.booked > y.booked
		}
		if x.users != y.users {
			return x.users > y.users
		}
		return x.errRate < y.errRate
	})
	return order
}

// verdictHeadline says what the best design booked and with how many
// errors, against the worst when there are n > 1 designs.
func verdictHeadline(best, worst designStats, n int) string {
	if n == 1 {
		return fmt.Sprintf("%s booked %s with %s.", best.s.Label, bookedPhrase(best, true), errorsShort(best))
	}
	return fmt.Sprintf("%s booked %s with %s; %s booked %s with %s.",
		best.s.Label, bookedPhrase(best, true), errorsShort(best),
		worst.s.Label, bookedPhrase(worst, worst.capacity != best.capacity), errorsLong(worst))
}

// outcomeSentence says what share of the people got a place with the best
// design, and with the worst when there are n > 1 designs; false when the
// best design counted no arrivals.
func outcomeSentence(best, worst designStats, n int) (string, bool) {
	if best.arrived <= 0 {
		return "", false
	}
	sent := fmt.Sprintf("With %s, %s of the %s people who tried got a place%s",
		best.s.Label, pct(float64(best.users)/float64(best.arrived)), commas(best.arrived), restOfPeople(best))
	if n > 1 && worst.arrived > 0 {
		of := ""
		if worst.arrived != best.arrived {
			of = " of " + commas(worst.arrived)
		}
		sent += fmt.Sprintf("; with %s, %s%s got a place%s", worst.s.Label,
			pct(float64(worst.users)/float64(worst.arrived)), of, restOfPeople(worst))
	}
	return sent + ".", true
}

// detailSentences compare the best and the worst design of stats, ranked
// in order, on speed and booking latency, then say what each design in
// between booked.
func detailSentences(stats []designStats, order []int) []string {
	var out []string
	best, worst := stats[order[0]], stats[order[len(order)-1]]
	// Speed.
	if sp := speedPhrase(best); sp != "" {
		sent := best.s.Label + " " + sp
		if len(stats) > 1 {
			if wp := speedPhrase(worst); wp != "" {
				sent += "; " + worst.s.Label + " " + wp
			}
		}
		out = append(out, sent+".")
	}
	out = append(out, latencySentences(best, worst, len(stats))...)
	// The designs in between.
	for k := 1; k < len(order)-1; k++ {
		st := stats[order[k]]
		out = append(out, fmt.Sprintf("%s booked %s with %s.", st.s.Label, bookedPhrase(st, st.capacity != best.capacity), errorsShort(st)))
	}
	return out
}

// latencySentences say how fast bookings were answered with the best
// design, and the worst when there are n > 1: the p99 of the bookings that
// succeeded (201), then how fast refusals (429, 503) came back, apart,
// since a fast refusal is no booking; for results that do not split booking
// latency by answer, the p99 of every booking request, refusals included.
func latencySentences(best, worst designStats, n int) []string {
	two := n > 1
	split := !math.IsNaN(best.bookedP99) && (!two || !math.IsNaN(worst.bookedP99))
	if !split {
		if math.IsNaN(best.bookP99) {
			return nil
		}
		sent := fmt.Sprintf("99 in 100 booking requests, refusals included, were answered within %s with %s", ms(best.bookP99), best.s.Label)
		if two && !math.IsNaN(worst.bookP99) {
			sent += fmt.Sprintf(", against %s with %s", ms(worst.bookP99), worst.s.Label)
		}
		return []string{sent + "."}
	}
	sent := fmt.Sprintf("99 in 100 bookings that succeeded (201) were answered within %s with %s", ms(best.bookedP99), best.s.Label)
	if two {
		sent += fmt.Sprintf(", against %s with %s", ms(worst.bookedP99), worst.s.Label)
	}
	out := []string{sent + "."}
	var refused []string
	for _, st := range []designStats{best, worst}[:min(n, 2)] {
		if !math.IsNaN(st.refusedP99) {
			refused = append(refused, fmt.Sprintf("within %s with %s", ms(st.refusedP99), st.s.Label))
		}
	}
	if len(refused) > 0 {
		out = append(out, "Refusals (429 throttled, 503 shed), which booked nothing, are counted apart: 99 in 100 came back "+strings.Join(refused, ", ")+".")
	}
	return out
}

// invariantWarnings warn, column by column, about broken invariants
// (oversold places, lost 201s), what the audit could not settle (unknown
// outcomes, unaudited runs), requests never sent, retry amplification
// above warnAmplification and a share of people still trying at the end
// of at least warnStillWaiting.
func invariantWarnings(stats []designStats) []string {
	var out []string
	for _, st := range stats {
		out = append(out, answerWarnings(st)...)
		out = append(out, auditWarnings(st)...)
		d := st.s.Design
		if n := d.Requests.Dropped; n > 0 {
			late := ""
			if l := d.Requests.DroppedLate; l != nil && l.Max > 0 {
				late = " (the latest " + ms(l.Max) + " late when the run ended)"
			}
			out = append(out, fmt.Sprintf("%s: %s requests were due before the run ended but never sent%s: the %s received less load than the scenario asked for, so its figures may flatter it.",
				st.s.Label, commas(n), late, columnNoun(d)))
		}
		if bandOf(st.amp) == mostlyRetries {
			out = append(out, fmt.Sprintf("%s: the booking API received %s× the requests people made (%s per person): most of the load was retries, not people (retry amplification above %d×).",
				st.s.Label, oneDecimal(st.amp), oneDecimal(st.perUser), warnAmplification))
		}
		if st.arrived > 0 && float64(st.waiting)/float64(st.arrived) >= warnStillWaiting {
			out = append(out, fmt.Sprintf("%s: %s of the people (%s) were still trying when the run ended; their outcome is unknown, so a longer run could change this %s's figures.",
				st.s.Label, pct(float64(st.waiting)/float64(st.arrived)), commas(st.waiting), columnNoun(d)))
		}
	}
	return out
}

// answerWarnings say what st's column answered outside the API (403, 404,
// 400, statuses the API does not define, 2xx whose body could not be read)
// and what that means, and, when nobody could book because of such
// answers or of no answers at all (results.DesignResult.Unusable), that
// the run says nothing of the column under load.
func answerWarnings(st designStats) []string {
	var out []string
	d := st.s.Design
	if st.unexpected > 0 {
		out = append(out, fmt.Sprintf("%s answered %s: %s", st.s.Label, answersPhrase(st.odd), answersMeaning(d, st.odd)))
	}
	if bad, _ := d.Unusable(); bad {
		out = append(out, fmt.Sprintf("nobody could book with %s: its requests got no answer (%s) or one outside the API (%s), and none of the answers a booking API gives under load (409, 429, 503), so this run says nothing of the %s under load.",
			st.s.Label, commas(d.Requests.TransportErrors), commas(st.unexpected), columnNoun(d)))
	}
	return out
}

// maxAnswers is how many kinds of answers outside the API a sentence names.
const maxAnswers = 4

// answersPhrase: "400 requests with 404 (not found) and 12 with 200 whose
// body could not be read (not the API's JSON: an HTML page?)".
func answersPhrase(odd []results.AnswerCount) string {
	var parts []string
	var rest int64
	for i, a := range odd {
		if i >= maxAnswers {
			rest += a.N
			continue
		}
		st := fmt.Sprint(a.Status)
		if a.Status == 0 {
			st = "a status"
		}
		noun := ""
		if i == 0 {
			noun = " requests"
			if a.N == 1 {
				noun = " request"
			}
		}
		var what string
		switch a.Kind {
		case results.AnswerNotFound:
			what = st + " (not found)"
		case results.AnswerRejected:
			what = st + " (rejected as a bad request)"
		case results.AnswerNotAdmitted:
			what = st + " (not admitted)"
		case results.AnswerUnreadable:
			what = st + " whose body could not be read (not the API's JSON: an HTML page?)"
		default:
			what = st + " (a status the API does not define)"
		}
		parts = append(parts, commas(a.N)+noun+" with "+what)
	}
	if rest > 0 {
		parts = append(parts, commas(rest)+" with other answers outside the API")
	}
	return joinLabels(parts)
}

// answersMeaning says what answers odd outside the API mean for d: a
// target, or a profile, that does not match the journey; or, when they are
// all 403 not admitted, admission tokens or credentials that were missing.
func answersMeaning(d *results.DesignResult, odd []results.AnswerCount) string {
	mismatch := false
	for _, a := range odd {
		mismatch = mismatch || a.Kind != results.AnswerNotAdmitted
	}
	switch {
	case !mismatch:
		return "refusals for want of a valid waiting-room admission token (or of credentials slotrush does not hold); they count as errors."
	case isTarget(d):
		prof := results.ProfileV1
		if d.Target.Profile != "" {
			prof = d.Target.Profile
		}
		return fmt.Sprintf("the API or the profile (%s) does not match this target, so check its URL and the profile's paths; these answers count as errors.", prof)
	}
	return "answers API v1 does not define for the journey's requests; they count as errors."
}

// auditWarnings warn about what the audit after st's run found or could
// not settle: oversold places, 201s it could not find, bookings whose
// answer was lost, and checks that were not possible.
func auditWarnings(st designStats) []string {
	var out []string
	d := st.s.Design
	sl := d.Slots
	if sl.Oversold > 0 && checkedOversold(d) {
		out = append(out, fmt.Sprintf("%s sold %s places beyond capacity (oversold): the %s broke the capacity invariant.", st.s.Label, commas(sl.Oversold), columnNoun(d)))
	}
	if sl.Missing > 0 && audited201s(d) {
		where := "that are not in the store"
		if sl.Audit == results.AuditAPI {
			where = "that could not be read back through the API afterwards"
		}
		out = append(out, fmt.Sprintf("%s answered 201 to %s bookings %s: confirmed bookings were lost.", st.s.Label, commas(sl.Missing), where))
	}
	if n := unread201s(d); n > 0 {
		out = append(out, fmt.Sprintf("%s: %s bookings answered 201 could not be read back through the API afterwards, so lost bookings among them cannot be ruled out.", st.s.Label, commas(n)))
	}
	if sl.UnknownOutcome > 0 {
		out = append(out, fmt.Sprintf("%s: the answers to %s booking requests were lost (a timeout or a reset) and the audit could not resolve them: those people may or may not hold a place, so its places booked and people served are uncertain by up to %s.",
			st.s.Label, commas(sl.UnknownOutcome), commas(sl.UnknownOutcome)))
	}
	switch {
	case sl.Audit == results.AuditNone:
		out = append(out, fmt.Sprintf("%s: nothing could be checked after the run, so oversold places and lost bookings cannot be ruled out.", st.s.Label))
	case sl.Audit == results.AuditAPI:
		out = append(out, fmt.Sprintf("%s: its bookings were read back through the API, but its store could not be audited, so a person holding two bookings cannot be ruled out.", st.s.Label))
	case sl.Audit == "" && sl.Persisted < 0:
		out = append(out, fmt.Sprintf("%s: the store was not audited afterwards, so lost bookings cannot be ruled out.", st.s.Label))
	}
	return out
}

// bookedPhrase: "5,812 of 6,000 places (97%)" or "1,204 (20%)".
func bookedPhrase(st designStats, withCapacity bool) string {
	if st.capacity <= 0 {
		return commas(st.booked) + " places"
	}
	if withCapacity {
		return fmt.Sprintf("%s of %s places (%s)", commas(st.booked), commas(st.capacity), pct(st.shareOfCapacity))
	}
	return fmt.Sprintf("%s (%s)", commas(st.booked), pct(st.shareOfCapacity))
}

// errorsShort: "0.4% errors", "no errors".
func errorsShort(st designStats) string {
	switch {
	case st.total == 0:
		return "no requests recorded"
	case st.errRate == 0:
		return "no errors"
	}
	return pct(st.errRate) + " errors"
}

// errorsLong says what the errors were: "38% of requests throttled or shed".
func errorsLong(st designStats) string {
	switch {
	case st.total == 0:
		return "no requests recorded"
	case st.errRate == 0:
		return "no errors"
	case st.shedRate >= 0.8*st.errRate:
		return pct(st.errRate) + " of requests throttled or shed"
	}
	return pct(st.errRate) + " of requests refused, failed or timed out"
}

// speedPhrase: "sold out 23 s after the start", "sold 97% of its places in
// 40 s (half within 4 s)".
func speedPhrase(st designStats) string {
	switch {
	case st.capacity <= 0:
		return ""
	case !math.IsNaN(st.soldOutAt):
		return fmt.Sprintf("sold out %s after the start", seconds(st.soldOutAt))
	case st.duration <= 0:
		return ""
	}
	out := fmt.Sprintf("sold %s of its places in %s", pct(st.shareOfCapacity), seconds(st.duration))
	if !math.IsNaN(st.halfAt) {
		out += fmt.Sprintf(" (half within %s)", seconds(st.halfAt))
	}
	return out
}

// restOfPeople: " and 61% gave up", or ", 77% gave up and 15% were still
// trying when the run ended".
func restOfPeople(st designStats) string {
	gave := pct(float64(st.gaveUp) / float64(st.arrived))
	if st.waiting <= 0 {
		return " and " + gave + " gave up"
	}
	return fmt.Sprintf(", %s gave up and %s were still trying when the run ended", gave, pct(float64(st.waiting)/float64(st.arrived)))
}

// oneDecimal: 11.5, 3, 0.4.
func oneDecimal(v float64) string { return trimZero(fmt.Sprintf("%.1f", v)) }

// extremes returns the designs of stats with the lowest and highest key
// among those keep accepts, and how many it accepted (lo and hi are zero
// when none). Report order breaks ties.
func extremes(stats []designStats, keep func(designStats) bool, key func(designStats) float64) (lo, hi designStats, n int) {
	for _, st := range stats {
		if !keep(st) {
			continue
		}
		if n == 0 || key(st) < key(lo) {
			lo = st
		}
		if n == 0 || key(st) > key(hi) {
			hi = st
		}
		n++
	}
	return lo, hi, n
}

// peopleSentences say what the people lived through: retry amplification,
// retry storms, fairness and the time to know where they stood.
func peopleSentences(stats []designStats) []string {
	out := retrySentences(stats)
	for _, st := range stats {
		if st.polls > 0 {
			out = append(out, fmt.Sprintf("Behind %s's waiting room each person also sent the room %s requests on average (joining its queue, then polling it until admitted): load the room answers from memory, in front of the booking API.",
				st.s.Label, oneDecimal(st.polls)))
		}
	}
	// Retry storms.
	for _, st := range stats {
		if !st.stormy {
			continue
		}
		out = append(out, fmt.Sprintf("With %s the load fed on itself: requests per second rose from %s to %s while places booked per second fell from %s to %s, though places were still free. People clicking again crowded out the bookings (a retry storm).",
			st.s.Label, roundSig(st.storm.rpsFrom), roundSig(st.storm.rpsTo), roundSig(st.storm.bookedFrom), roundSig(st.storm.bookedTo)))
	}
	// Fairness.
	lo, hi, n := extremes(stats, func(st designStats) bool { return !math.IsNaN(st.fairScore) }, func(st designStats) float64 { return st.fairScore })
	switch {
	case n == 1:
		out = append(out, fmt.Sprintf("%s %s (fairness ρ %.2f, where strictly first come, first served would score %.2f and a lottery 0).",
			withRoom(hi), fairPhrase(hi.fairScore), hi.fair, hi.fairMax))
	case n > 1:
		out = append(out, fmt.Sprintf("%s %s (fairness ρ %.2f, where strictly first come, first served would score %.2f and a lottery 0); %s %s (ρ %.2f of a possible %.2f).",
			withRoom(hi), fairPhrase(hi.fairScore), hi.fair, hi.fairMax, withRoom(lo), fairPhrase(lo.fairScore), lo.fair, lo.fairMax))
	}
	// Time to know.
	lo, hi, n = extremes(stats, func(st designStats) bool { return !math.IsNaN(st.ttoP50) }, func(st designStats) float64 { return st.ttoP50 })
	switch {
	case n == 1:
		out = append(out, fmt.Sprintf("Half of those who finished knew where they stood (booked or gave up) within %s of arriving, 99 in 100 within %s.",
			seconds(hi.ttoP50), seconds(hi.ttoP99)))
	case n > 1:
		out = append(out, fmt.Sprintf("Half of those who finished knew where they stood (booked or gave up) within %s of arriving with %s (99 in 100 within %s), against %s with %s (%s).",
			seconds(lo.ttoP50), lo.s.Label, seconds(lo.ttoP99), seconds(hi.ttoP50), hi.s.Label, seconds(hi.ttoP99)))
	}
	return out
}

// retrySentences say how much of the booking API's load was retries, by
// the size of each column's retry amplification (bandOf), never against
// another column: one sentence per band present, the worst first, naming
// its columns, or "every design" (target) when all fall in one band.
func retrySentences(stats []designStats) []string {
	var cols []designStats
	for _, st := range stats {
		if st.perUser > 0 {
			cols = append(cols, st)
		}
	}
	if len(cols) == 1 {
		st := cols[0]
		return []string{fmt.Sprintf("Each person sent the booking API %s requests on average; counting the retries after errors, it received %s× the requests people made (retry amplification%s): %s.",
			oneDecimal(st.perUser), oneDecimal(st.amp), estimatedNote(cols), bandOf(st.amp).phrase())}
	}
	var out []string
	for b := mostlyRetries; b >= fewRetries; b-- {
		var in []designStats
		for _, st := range cols {
			if bandOf(st.amp) == b {
				in = append(in, st)
			}
		}
		if len(in) == 0 {
			continue
		}
		who := everyColumn(seriesOf(cols))
		if len(in) < len(cols) {
			who = joinLabels(labelsOf(in))
		}
		out = append(out, fmt.Sprintf("With %s the booking API received %s the requests people made (retry amplification%s; %s): %s.",
			who, ampRange(in), estimatedNote(in), perPersonRange(in), b.phrase()))
	}
	return out
}

// ampRange: "3.8×" for one column, "about 1.1×" or "between 6.3× and
// 6.8×" for several.
func ampRange(in []designStats) string {
	lo, hi, _ := extremes(in, func(designStats) bool { return true }, func(st designStats) float64 { return st.amp })
	switch {
	case len(in) == 1:
		return oneDecimal(lo.amp) + "×"
	case oneDecimal(lo.amp) == oneDecimal(hi.amp):
		return "about " + oneDecimal(lo.amp) + "×"
	}
	return "between " + oneDecimal(lo.amp) + "× and " + oneDecimal(hi.amp) + "×"
}

// perPersonRange: "11.5 requests per person" or "3.3 to 3.4 requests per
// person".
func perPersonRange(in []designStats) string {
	lo, hi, _ := extremes(in, func(designStats) bool { return true }, func(st designStats) float64 { return st.perUser })
	if oneDecimal(lo.perUser) == oneDecimal(hi.perUser) {
		return oneDecimal(lo.perUser) + " requests per person"
	}
	return oneDecimal(lo.perUser) + " to " + oneDecimal(hi.perUser) + " requests per person"
}

// estimatedNote says which of in had their retry amplification estimated
// from requests per person rather than measured: "" when none.
func estimatedNote(in []designStats) string {
	var est []string
	for _, st := range in {
		if !st.ampMeasured {
			est = append(est, st.s.Label)
		}
	}
	switch {
	case len(est) == 0:
		return ""
	case len(est) == len(in):
		return ", estimated from requests per person over the 3 a booking needs"
	}
	return ", estimated for " + joinLabels(est) + " from requests per person over the 3 a booking needs"
}

// seriesOf returns the series of stats; labelsOf their labels.
func seriesOf(stats []designStats) []series {
	out := make([]series, len(stats))
	for i, st := range stats {
		out[i] = st.s
	}
	return out
}

func labelsOf(stats []designStats) []string {
	out := make([]string, len(stats))
	for i, st := range stats {
		out[i] = st.s.Label
	}
	return out
}

// withRoom names a design, saying when a waiting room fronted it.
func withRoom(st designStats) string {
	if st.s.Design.HasWaitingRoom() && !strings.Contains(st.s.Label, "waiting-room") {
		return st.s.Label + ", with its waiting room,"
	}
	return st.s.Label
}

// fairPhrase says what a first-come score means, by its sign and size, as
// the predicate of a sentence about a design: 1 strictly in arrival order,
// 0 a lottery, -1 the latest first. A negative score never reads as
// "barely helped": arriving early hurt.
func fairPhrase(score float64) string {
	switch {
	case score >= 0.9:
		return "served people almost strictly in arrival order"
	case score >= 0.6:
		return "served people mostly in arrival order"
	case score >= 0.3:
		return "served people only partly in arrival order"
	case score >= 0.1:
		return "was close to a lottery: arriving early helped a little"
	case score > -0.1:
		return "was a lottery: arriving early made no difference"
	case score > -0.3:
		return "was close to a lottery, but arriving early hurt a little: late comers fared slightly better"
	case score > -0.6:
		return "favoured late comers over early ones: arriving early hurt"
	}
	return "favoured late comers over early ones: arriving early hurt a lot"
}
