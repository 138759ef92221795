package capacity

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slotrush/slotrush/results"
)

// Metrics an SLO term can bound, besides OPERATION.pNN latencies.
const (
	// MetricErrors is the share of requests answered 429 or 5xx or lost to
	// a timeout (and answers outside the API), of all requests:
	// results.DesignResult.ErrorRate.
	MetricErrors = "errors"
	// MetricBookedShare is the people who got a place over the most who
	// could: min(people who arrived, places).
	MetricBookedShare = "booked_share"
	// MetricRetryAmplification is the booking API's requests per request
	// people meant: results.DesignResult.Amplification.
	MetricRetryAmplification = "retry_amplification"
	// MetricTimeToBook is the time from arrival to a booking, of the people
	// who booked; bounded by a percentile: time_to_book.p90.
	MetricTimeToBook = "time_to_book"
)

// Units of a term's value.
const (
	UnitMs    = "ms"
	UnitShare = "share" // a fraction in [0, 1], written as a percentage
	UnitRatio = "×"
)

// operations are the operations a latency term may name.
var operations = []string{results.OpListPPVs, results.OpListSlots, results.OpBook, results.OpQueue}

// Term is one bound of an SLO, such as book.p99<=500ms. A value type.
type Term struct {
	// Text is the term as written, trimmed.
	Text string `json:"term"`
	// Metric is an operation (book, list_slots, list_ppvs, queue),
	// MetricTimeToBook, MetricErrors, MetricBookedShare or
	// MetricRetryAmplification.
	Metric string `json:"metric"`
	// Percentile is in (0, 100) for latencies (99 for p99, 99.9 for p999),
	// 0 otherwise.
	Percentile float64 `json:"percentile,omitempty"`
	// Op is the comparison: "<=", "<", ">=" or ">". Latencies, errors and
	// retry amplification are upper bounds; the booked share a lower one.
	Op string `json:"op"`
	// Limit is the bound in Unit: milliseconds, a share in [0, 1] or a
	// ratio.
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"`
	// Column is where the term starts in the SLO text, from 1.
	Column int `json:"-"`
}

// SLO is a service-level objective: every term must hold. Build it with
// ParseSLO. A value type; safe for concurrent reads.
type SLO []Term

// SLOError is a bad SLO: the term (as written), the column of the SLO text
// it starts at (from 1) and what is wrong.
type SLOError struct {
	Term   string
	Column int
	Msg    string
}

// Error implements error: "--slo term 2 "book.p99<=5xx" at column 16: ...".
func (e *SLOError) Error() string {
	if e.Term == "" {
		return fmt.Sprintf("slo: column %d: %s", e.Column, e.Msg)
	}
	return fmt.Sprintf("slo term %q at column %d: %s", e.Term, e.Column, e.Msg)
}

// sloGrammar is said with every parse error.
const sloGrammar = "want comma-separated terms such as book.p99<=500ms, errors<=1%, booked_share>=95%, retry_amplification<=1.5, time_to_book.p90<=60s"

// ParseSLO parses comma-separated terms: OPERATION.pNN<=DURATION for the
// latency of book, list_slots, list_ppvs or queue (p50, p90, p99, p999,
// p99.9, ...); time_to_book.pNN<=DURATION; errors<=PERCENT;
// booked_share>=PERCENT; retry_amplification<=RATIO. A percentage may be
// written 1% or 0.01. Spaces around terms and operators are allowed. Every
// error is an *SLOError naming the term and its column.
func ParseSLO(s string) (SLO, error) {
	if strings.TrimSpace(s) == "" {
		return nil, &SLOError{Column: 1, Msg: "empty; " + sloGrammar}
	}
	var out SLO
	seen := map[string]int{}
	col := 1
	for raw := range strings.SplitSeq(s, ",") {
		lead := utf8.RuneCountInString(raw) - utf8.RuneCountInString(strings.TrimLeftFunc(raw, unicode.IsSpace))
		text := strings.TrimSpace(raw)
		at := col + lead
		col += utf8.RuneCountInString(raw) + 1
		if text == "" {
			return nil, &SLOError{Column: at, Msg: "empty term (a stray comma?); " + sloGrammar}
		}
		t, err := parseTerm(text)
		if err != nil {
			return nil, &SLOError{Term: text, Column: at, Msg: err.Error()}
		}
		t.Column = at
		key := t.Metric + "/" + strconv.FormatFloat(t.Percentile, 'g', -1, 64)
		if prev, ok := seen[key]; ok {
			return nil, &SLOError{Term: text, Column: at, Msg: fmt.Sprintf("bounds the same metric as the term at column %d", prev)}
		}
		seen[key] = at
		out = append(out, t)
	}
	return out, nil
}

// parseTerm parses one trimmed term.
func parseTerm(text string) (Term, error) {
	i := strings.IndexAny(text, "<>=")
	if i < 0 {
		return Term{}, errors.New("no comparison (<= or >=); " + sloGrammar)
	}
	name := strings.TrimSpace(text[:i])
	rest := text[i:]
	op := rest[:1]
	if len(rest) > 1 && rest[1] == '=' {
		op = rest[:2]
	}
	if op == "=" || op == "==" {
		return Term{}, errors.New("an equality cannot be an objective: use <= or >=")
	}
	value := strings.TrimSpace(rest[len(op):])
	t := Term{Text: text, Op: op}
	if err := t.parseName(name); err != nil {
		return Term{}, err
	}
	upper := t.Metric != MetricBookedShare
	if upper != strings.HasPrefix(op, "<") {
		want := "<="
		if !upper {
			want = ">="
		}
		return Term{}, fmt.Errorf("%s can only be bounded from %s: use %s", t.Name(), map[bool]string{true: "above", false: "below"}[upper], want)
	}
	if value == "" {
		return Term{}, errors.New("no limit after " + op)
	}
	v, err := parseLimit(t.Unit, value)
	if err != nil {
		return Term{}, fmt.Errorf("limit %q: %w", value, err)
	}
	t.Limit = v
	return t, nil
}

// parseName sets Metric, Percentile and Unit from the term's left side.
func (t *Term) parseName(name string) error {
	switch name {
	case MetricErrors:
		t.Metric, t.Unit = name, UnitShare
		return nil
	case MetricBookedShare:
		t.Metric, t.Unit = name, UnitShare
		return nil
	case MetricRetryAmplification:
		t.Metric, t.Unit = name, UnitRatio
		return nil
	case "":
		return errors.New("no metric before the comparison; " + sloGrammar)
	}
	metric, pct, ok := strings.Cut(name, ".")
	if !ok {
		return fmt.Errorf("unknown metric %q: want errors, booked_share, retry_amplification, time_to_book.pNN or OPERATION.pNN (OPERATION: %s)", name, strings.Join(operations, ", "))
	}
	if metric != MetricTimeToBook && !isOperation(metric) {
		return fmt.Errorf("unknown operation %q: want %s or time_to_book", metric, strings.Join(operations, ", "))
	}
	p, err := parsePercentile(pct)
	if err != nil {
		return err
	}
	t.Metric, t.Percentile, t.Unit = metric, p, UnitMs
	return nil
}

func isOperation(s string) bool {
	for _, op := range operations {
		if s == op {
			return true
		}
	}
	return false
}

// parsePercentile reads p50, p90, p99, p999 (99.9), p9999, p99.9 or p75.
func parsePercentile(s string) (float64, error) {
	digits, ok := strings.CutPrefix(s, "p")
	if !ok || digits == "" {
		return 0, fmt.Errorf("percentile %q: want p50, p90, p99, p999 or p99.9", s)
	}
	if !strings.Contains(digits, ".") && len(digits) > 2 && strings.HasPrefix(digits, "99") {
		digits = "99." + digits[2:] // p999 is 99.9, p9999 99.99
	}
	p, err := strconv.ParseFloat(digits, 64)
	if err != nil || strings.ContainsAny(digits, "eE+-") || !(p > 0 && p < 100) {
		return 0, fmt.Errorf("percentile %q: want p50, p90, p99, p999 or p99.9, strictly between 0 and 100", s)
	}
	return p, nil
}

// parseLimit reads a limit in unit: a Go duration for milliseconds, a
// percentage (1%) or fraction (0.01) for a share, a number (1.5, 1.5x) for
// a ratio.
func parseLimit(unit, s string) (float64, error) {
	switch unit {
	case UnitMs:
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, errors.New("want a positive duration such as 500ms or 2s")
		}
		return float64(d) / float64(time.Millisecond), nil
	case UnitShare:
		num, isPct := strings.CutSuffix(s, "%")
		v, err := parseNumber(strings.TrimSpace(num))
		if err != nil {
			return 0, errors.New("want a percentage such as 1% or 95%, or a fraction such as 0.01")
		}
		if isPct {
			v /= 100
		}
		if v < 0 || v > 1 {
			return 0, errors.New("want a share between 0% and 100%")
		}
		return v, nil
	default:
		num := strings.TrimSpace(strings.TrimRight(s, "x×"))
		v, err := parseNumber(num)
		if err != nil || v < 1 {
			return 0, errors.New("want a ratio of at least 1, such as 1.5")
		}
		return v, nil
	}
}

// parseNumber reads a plain finite decimal number.
func parseNumber(s string) (float64, error) {
	if s == "" || strings.ContainsAny(s, "eEnNiIxX_+") {
		return 0, errors.New("not a plain number")
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, errors.New("not a plain number")
	}
	return v, nil
}

// Name returns the metric as written in a term: "book.p99", "errors".
func (t Term) Name() string {
	if t.Percentile == 0 {
		return t.Metric
	}
	return t.Metric + ".p" + percentileText(t.Percentile)
}

// percentileText writes 99 as "99" and 99.9 as "999", as p999 reads.
func percentileText(p float64) string {
	s := strconv.FormatFloat(p, 'f', -1, 64)
	if strings.HasPrefix(s, "99.") {
		return "99" + s[3:]
	}
	return s
}

// Canonical returns the term in the form ParseSLO reads back to the same
// term: "book.p99<=500ms", "errors<=1%".
func (t Term) Canonical() string {
	return t.Name() + t.Op + FormatValue(t.Unit, t.Limit)
}

// String returns the SLO in canonical form, terms joined by commas.
func (s SLO) String() string {
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = t.Canonical()
	}
	return strings.Join(parts, ",")
}

// FormatValue writes v in unit as a term's limit is written: "500ms",
// "1%", "1.5".
func FormatValue(unit string, v float64) string {
	switch unit {
	case UnitMs:
		return shortFloat(v) + "ms"
	case UnitShare:
		return shortFloat(v*100) + "%"
	default:
		return shortFloat(v)
	}
}

// shortFloat writes v rounded to 10 significant digits, so that 0.95·100
// is "95", not "94.99999999999999", and without an exponent, which a
// duration does not parse ("11991600000ms", not "1.19916e+10ms").
func shortFloat(v float64) string {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 10, 64), 64) // its own output: cannot fail
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// Holds reports whether value v meets the term.
func (t Term) Holds(v float64) bool {
	switch t.Op {
	case "<=":
		return v <= t.Limit
	case "<":
		return v < t.Limit
	case ">=":
		return v >= t.Limit
	default:
		return v > t.Limit
	}
}

// Upper reports whether the term bounds its metric from above (every
// metric but the booked share).
func (t Term) Upper() bool { return strings.HasPrefix(t.Op, "<") }
