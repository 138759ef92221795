package results

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Kinds of answers outside the API (Requests.UnexpectedByAnswer). The
// first four are the names API profiles give them.
const (
	// AnswerNotFound: the thing asked for does not exist (API v1: 404).
	AnswerNotFound = "not_found"
	// AnswerRejected: the request itself is wrong (API v1: 400, 413).
	AnswerRejected = "rejected"
	// AnswerNotAdmitted: a waiting room's token was missing, expired or
	// refused, or the target wants credentials (API v1: 403).
	AnswerNotAdmitted = "not_admitted"
	// AnswerUnexpected: a status the API or the profile gives no meaning to.
	AnswerUnexpected = "unexpected"
	// AnswerUnreadable: a success (2xx) whose body lacks what the
	// operation reads from it: an HTML page, or JSON of another API.
	AnswerUnreadable = "unreadable"
)

// ProfileV1 is the name of the built-in API profile (API v1), which a
// DesignResult.Target without a profile was driven through too.
const ProfileV1 = "v1"

// AnswerKey returns the key of Requests.UnexpectedByAnswer for an answer
// with HTTP status st of kind kind (an Answer* constant): "404 not_found".
func AnswerKey(st int, kind string) string { return strconv.Itoa(st) + " " + kind }

// AnswerCount is one entry of UnexpectedAnswers: how many answers had
// Status and Kind (an Answer* constant).
type AnswerCount struct {
	Status int
	Kind   string
	N      int64
}

// UnexpectedAnswers returns how many answers were outside the API
// (Requests.Unexpected) and their breakdown, the most frequent first. A
// result read through API v1 (designs slotrush built, the model, targets
// driven through the v1 profile) that recorded none, as results written
// before the count existed, has them counted from ByStatus by API v1's
// rules: every status but 2xx, 409, 429 and 5xx (403 not admitted, 404
// not found, 400 and 413 rejected, the rest unexpected). It is exact for
// API v1 either way, so old and new results compare.
func (d *DesignResult) UnexpectedAnswers() (int64, []AnswerCount) {
	r := d.Requests
	if r.Unexpected > 0 || len(r.UnexpectedByAnswer) > 0 {
		var out []AnswerCount
		var sum int64
		for key, n := range r.UnexpectedByAnswer {
			st, kind, _ := strings.Cut(key, " ")
			code, _ := strconv.Atoi(st)
			out = append(out, AnswerCount{Status: code, Kind: kind, N: n})
			sum += n
		}
		if rest := r.Unexpected - sum; rest > 0 {
			out = append(out, AnswerCount{Kind: AnswerUnexpected, N: rest})
		}
		sortAnswers(out)
		return max(r.Unexpected, sum), out
	}
	if d.Target != nil && d.Target.Profile != "" && d.Target.Profile != ProfileV1 {
		return 0, nil
	}
	var out []AnswerCount
	var total int64
	for key, n := range r.ByStatus {
		st, err := strconv.Atoi(key)
		if err != nil || n <= 0 {
			continue
		}
		if kind := v1Unexpected(st); kind != "" {
			out = append(out, AnswerCount{Status: st, Kind: kind, N: n})
			total += n
		}
	}
	sortAnswers(out)
	return total, out
}

// v1Unexpected returns the kind API v1 gives an answer with status st
// when it is outside the API, "" when it is not (2xx, 409, 429, 5xx).
func v1Unexpected(st int) string {
	switch {
	case st >= 200 && st < 300, st == 409, st == 429, st >= 500 && st < 600:
		return ""
	case st == 403:
		return AnswerNotAdmitted
	case st == 404:
		return AnswerNotFound
	case st == 400, st == 413:
		return AnswerRejected
	}
	return AnswerUnexpected
}

func sortAnswers(as []AnswerCount) {
	sort.Slice(as, func(i, j int) bool {
		if as[i].N != as[j].N {
			return as[i].N > as[j].N
		}
		if as[i].Status != as[j].Status {
			return as[i].Status < as[j].Status
		}
		return as[i].Kind < as[j].Kind
	})
}

// checkUnexpected returns the inconsistencies of the answers outside the
// API: a negative count, more than were requests, a breakdown that does
// not sum to the count or whose keys are not AnswerKey's.
func (d *DesignResult) checkUnexpected() []error {
	r := d.Requests
	if r.Unexpected == 0 && len(r.UnexpectedByAnswer) == 0 {
		return nil
	}
	var errs []error
	if r.Unexpected < 0 || r.Unexpected > r.Total {
		errs = append(errs, fmt.Errorf("design %s: unexpected %d: want 0 to total %d", d.Design, r.Unexpected, r.Total))
	}
	var sum int64
	for key, n := range r.UnexpectedByAnswer {
		st, kind, ok := strings.Cut(key, " ")
		if _, err := strconv.Atoi(st); err != nil || !ok || kind == "" || n < 0 {
			errs = append(errs, fmt.Errorf("design %s: unexpected_by_answer %q: %d: want \"STATUS KIND\": N ≥ 0", d.Design, key, n))
		}
		sum += n
	}
	if len(r.UnexpectedByAnswer) > 0 && sum != r.Unexpected {
		errs = append(errs, fmt.Errorf("design %s: unexpected_by_answer sums to %d; unexpected = %d", d.Design, sum, r.Unexpected))
	}
	return errs
}

// Unusable reports whether d's run could not exercise the system at all,
// and why. It is true when nobody booked (no booking confirmed with an id,
// Slots.Booked 0, and Users.Booked 0 unless the journeys took unreadable
// 2xx answers for bookings), some requests got no answer or one outside
// the API (TransportErrors + UnexpectedAnswers > 0), and no answer showed
// the booking API at work: no conflict (409: sold out or already booked)
// and no throttled answer (429) as the timeline counts them (by what a
// target's profile says they mean; by status without a timeline), and no
// 503. Such a run measured a mismatch (a closed port, a wrong URL or
// path, a profile that does not fit the target, credentials slotrush does
// not hold), not the system under load; the CLI exits 1 on it. The reason
// names the column and what it answered: "acme: nobody could book: of 400
// requests, 400 were answered 404 (not_found)". It is "" when Unusable is
// false.
func (d *DesignResult) Unusable() (bool, string) {
	n, by := d.UnexpectedAnswers()
	r := d.Requests
	unreadable := false
	for _, a := range by {
		unreadable = unreadable || a.Kind == AnswerUnreadable
	}
	booked := d.Slots.Booked > 0 || (d.Users.Booked > 0 && !unreadable)
	if booked || n+r.TransportErrors <= 0 || d.answeredUnderLoad() {
		return false, ""
	}
	var parts []string
	for _, a := range by {
		parts = append(parts, describeAnswer(a))
	}
	if r.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d got no answer (a timeout or a connection error)", r.TransportErrors))
	}
	name := d.Design
	if name == "" && d.Target != nil {
		name = d.Target.Name
	}
	return true, fmt.Sprintf("%s: nobody could book: of %d requests, %s", name, r.Total, strings.Join(parts, ", "))
}

// describeAnswer: "400 were answered 404 (not_found)", "12 were answered
// 200 with a body that could not be read (unreadable)".
func describeAnswer(a AnswerCount) string {
	st := strconv.Itoa(a.Status)
	if a.Status == 0 {
		st = "a status"
	}
	if a.Kind == AnswerUnreadable {
		return fmt.Sprintf("%d were answered %s with a body that could not be read (%s)", a.N, st, a.Kind)
	}
	return fmt.Sprintf("%d were answered %s (%s)", a.N, st, a.Kind)
}

// answeredUnderLoad reports whether any answer of d was one the booking
// API gives under load: a conflict (409) or throttled (429) answer, by the
// timeline's counts when there is a timeline (they count answers by what a
// target's profile says they mean) and else by status, or a 503.
func (d *DesignResult) answeredUnderLoad() bool {
	if d.Requests.ByStatus["503"] > 0 {
		return true
	}
	if len(d.Timeline) == 0 {
		return d.Requests.ByStatus["409"] > 0 || d.Requests.ByStatus["429"] > 0
	}
	for _, p := range d.Timeline {
		if p.Conflict > 0 || p.Throttled > 0 {
			return true
		}
	}
	return false
}
