// Package fault describes a storage fault injected into one partition of a
// design for a window of time: the question "if the store behind one
// centre-day fails for 20 s, how many people notice, per design?".
//
// A Spec is written as comma-separated terms, in any order:
//
//	partition=KEY     required: a partition key of the design (all,
//	                  ppv-<ppv>, ppv-<ppv>-<date>; see models.Design.Key) or
//	                  hottest, the partition with the most first-choice
//	                  demand in the crowd (resolved per design by the caller)
//	down              the partition's storage is unavailable
//	slow=DURATION     every operation waits DURATION first (> 0)
//	errors=PERCENT    that share of operations fails, in (0%, 100%]
//	start=DURATION    when the fault begins, from the opening of bookings
//	                  (default 0s)
//	for=DURATION      how long it lasts (required, > 0)
//
// Exactly one of down, slow and errors. Durations are Go durations ("250ms",
// "20s", "1m30s"); spaces around a term are ignored. Examples:
//
//	partition=hottest,down,start=20s,for=15s
//	partition=ppv-wtc-kl-2021-06-07,slow=200ms,start=10s,for=20s
//	partition=all,errors=30%,for=10s
//
// A fault is injected at the store seam (package
// reference-server/faultstore), on the request path only: the audit after
// a run reads the truth. The package imports only the standard library and
// models.
package fault

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
)

// Hottest is the partition a Spec names to mean "the partition with the
// most first-choice demand in the crowd", which the caller resolves per
// design (Resolve).
const Hottest = "hottest"

// ErrInjected is the error an operation failed by an errors=PERCENT fault
// wraps. Nothing was written.
var ErrInjected = errors.New("injected storage fault")

// Mode is what a fault does to the partition's storage.
type Mode int

// The modes of a fault.
const (
	// Down makes the storage unavailable: every operation fails at once.
	Down Mode = iota + 1
	// Slow delays every operation by Spec.Delay.
	Slow
	// Errors fails a share Spec.Share of operations.
	Errors
)

// String returns the mode's name in the grammar: "down", "slow", "errors".
func (m Mode) String() string {
	switch m {
	case Down:
		return "down"
	case Slow:
		return "slow"
	case Errors:
		return "errors"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Spec is one fault: a partition, a mode and a window from the opening of
// bookings. It is a value, comparable with ==, and safe for concurrent use.
type Spec struct {
	// Partition is a partition key of the design or Hottest.
	Partition string
	// Mode is what the fault does.
	Mode Mode
	// Delay is the wait of a Slow fault (> 0); zero otherwise.
	Delay time.Duration
	// Share is the share of operations an Errors fault fails, in (0, 1];
	// zero otherwise.
	Share float64
	// Start is when the fault begins and For how long it lasts, from the
	// opening of bookings.
	Start, For time.Duration
}

// Active reports whether the fault is on sinceOpen after the opening of
// bookings: Start <= sinceOpen < Start+For.
func (s Spec) Active(sinceOpen time.Duration) bool {
	start, end := s.Window()
	return sinceOpen >= start && sinceOpen < end
}

// Window returns when the fault begins and ends, from the opening of
// bookings.
func (s Spec) Window() (start, end time.Duration) {
	return s.Start, s.Start + s.For
}

// String writes the spec in the grammar Parse reads, so that Parse of it
// returns s: "partition=hottest,down,start=20s,for=15s" (start is left out
// when it is zero).
func (s Spec) String() string {
	var b strings.Builder
	b.WriteString("partition=" + s.Partition + "," + s.modeTerm())
	if s.Start != 0 {
		b.WriteString(",start=" + s.Start.String())
	}
	b.WriteString(",for=" + s.For.String())
	return b.String()
}

// modeTerm writes the mode's term.
func (s Spec) modeTerm() string {
	switch s.Mode {
	case Slow:
		return "slow=" + s.Delay.String()
	case Errors:
		return "errors=" + percent(s.Share) + "%"
	}
	return s.Mode.String()
}

// Describe says what the fault does in words, for consoles and result
// parameters: "ppv-wtc-kl-2021-06-07 down from 20s for 15s", "all slow by
// 200ms from 0s for 10s", "all failing 30% of operations from 0s for 10s".
func (s Spec) Describe() string {
	var what string
	switch s.Mode {
	case Slow:
		what = "slow by " + s.Delay.String()
	case Errors:
		what = "failing " + percent(s.Share) + "% of operations"
	default:
		what = s.Mode.String()
	}
	return fmt.Sprintf("%s %s from %v for %v", s.Partition, what, s.Start, s.For)
}

// percent writes share as the shortest percentage p such that Parse's
// p/100 gives share back.
func percent(share float64) string {
	p := share * 100
	for _, c := range []float64{p, math.Nextafter(p, math.Inf(1)), math.Nextafter(p, math.Inf(-1)),
		math.Nextafter(math.Nextafter(p, math.Inf(1)), math.Inf(1)), math.Nextafter(math.Nextafter(p, math.Inf(-1)), math.Inf(-1))} {
		if c/100 == share {
			return strconv.FormatFloat(c, 'g', -1, 64)
		}
	}
	return strconv.FormatFloat(p, 'g', -1, 64)
}

// ParseError is a spec Parse refuses: the spec, the 1-based column of the
// term at fault (1 when a term is missing), and what is wrong.
type ParseError struct {
	// Input is the spec as given.
	Input string
	// Column is the 1-based byte column of the term at fault in Input.
	Column int
	// Msg says what is wrong with the term, naming it.
	Msg string
}

// Error returns `"INPUT": column N: MSG`; callers prefix the flag or field,
// as in `--fault "partition=x,dwn,for=1s": column 13: unknown term "dwn":
// want down, slow=DURATION or errors=PERCENT`.
func (e *ParseError) Error() string {
	return fmt.Sprintf("%q: column %d: %s", e.Input, e.Column, e.Msg)
}

// keyPattern is what a partition key may contain: the characters of PPV
// ids and dates (models keys are "all", "ppv-ID", "ppv-ID-YYYY-MM-DD").
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// maxInput bounds the length of a spec, far beyond any real one.
const maxInput = 1024

// term is one comma-separated term of a spec: its text without the
// surrounding spaces and its 1-based column.
type term struct {
	text string
	col  int
}

// Parse reads a spec written in the grammar of the package doc. It returns
// a *ParseError naming the column of the term at fault: an unknown or
// repeated term, a bad value, no mode or more than one, or a missing
// partition or for.
func Parse(s string) (Spec, error) {
	fail := func(col int, format string, args ...any) (Spec, error) {
		return Spec{}, &ParseError{Input: s, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	if len(s) > maxInput {
		return fail(maxInput+1, "longer than %d bytes", maxInput)
	}
	p := parser{seen: map[string]int{}}
	for _, t := range split(s) {
		if msg := p.term(t); msg != "" {
			return fail(t.col, "%s", msg)
		}
	}
	switch {
	case p.seen["partition"] == 0:
		return fail(1, "missing partition=KEY (a partition key such as ppv-wtc-kl-2021-06-07, or %s)", Hottest)
	case p.spec.Mode == 0:
		return fail(1, "no mode: want one of %s", modeNames)
	case p.seen["for"] == 0:
		return fail(1, "missing for=DURATION (how long the fault lasts, such as for=15s)")
	case p.spec.For > math.MaxInt64-p.spec.Start:
		return fail(p.seen["for"], "start=%v plus for=%v is beyond the longest duration", p.spec.Start, p.spec.For)
	}
	return p.spec, nil
}

// split cuts s at commas into terms, trimming spaces and tabs.
func split(s string) []term {
	var out []term
	col := 1
	for part := range strings.SplitSeq(s, ",") {
		lead := len(part) - len(strings.TrimLeft(part, " \t"))
		out = append(out, term{text: strings.Trim(part, " \t"), col: col + lead})
		col += len(part) + 1
	}
	return out
}

// parser accumulates the terms of one spec.
type parser struct {
	spec Spec
	seen map[string]int // term key → its column
}

// modeNames lists the modes as the grammar writes them, for messages.
const modeNames = "down, slow=DURATION or errors=PERCENT"

// term reads one term into p.spec and returns what is wrong with it, or "".
func (p *parser) term(t term) string {
	if t.text == "" {
		return "empty term: want comma-separated terms such as partition=hottest,down,for=15s"
	}
	key, value, hasValue := strings.Cut(t.text, "=")
	switch key {
	case "partition", "start", "for", "slow", "errors", "down":
	default:
		if !hasValue {
			return fmt.Sprintf("unknown term %q: want %s", t.text, modeNames)
		}
		return fmt.Sprintf("unknown term %q: want partition=KEY, down, slow=DURATION, errors=PERCENT, start=DURATION or for=DURATION", t.text)
	}
	mode := key == "down" || key == "slow" || key == "errors"
	if mode && p.spec.Mode != 0 {
		return fmt.Sprintf("a second mode %q (%s given at column %d): want exactly one of %s", t.text, p.spec.Mode, p.seen[p.spec.Mode.String()], modeNames)
	}
	if col, dup := p.seen[key]; dup {
		return fmt.Sprintf("%s given twice (first at column %d)", key, col)
	}
	p.seen[key] = t.col
	if key == "down" {
		if hasValue {
			return fmt.Sprintf("%q: down takes no value", t.text)
		}
		p.spec.Mode = Down
		return ""
	}
	if !hasValue {
		return fmt.Sprintf("%s needs a value: %s", key, example(key))
	}
	return p.value(key, value)
}

// value reads the value of the term key=value.
func (p *parser) value(key, value string) string {
	switch key {
	case "partition":
		if !keyPattern.MatchString(value) {
			return fmt.Sprintf("partition %q: want a partition key such as ppv-wtc-kl-2021-06-07 (letters, digits, '.', '_', '-'), or %s", value, Hottest)
		}
		p.spec.Partition = value
	case "errors":
		pct, ok := strings.CutSuffix(value, "%")
		x, err := strconv.ParseFloat(pct, 64)
		if !ok || err != nil || !(x > 0 && x <= 100) {
			return fmt.Sprintf("errors=%s: want a percent in (0, 100] such as errors=30%%", value)
		}
		p.spec.Mode, p.spec.Share = Errors, x/100
	default: // start, for, slow
		d, err := time.ParseDuration(value)
		switch {
		case err != nil:
			return fmt.Sprintf("%s=%s: want a duration such as %s", key, value, example(key))
		case key == "start" && d < 0:
			return fmt.Sprintf("start=%s: must not be negative", value)
		case key != "start" && d <= 0:
			return fmt.Sprintf("%s=%s: must be positive", key, value)
		}
		switch key {
		case "start":
			p.spec.Start = d
		case "for":
			p.spec.For = d
		default:
			p.spec.Mode, p.spec.Delay = Slow, d
		}
	}
	return ""
}

// example writes a term of key as an example.
func example(key string) string {
	switch key {
	case "partition":
		return "partition=" + Hottest
	case "errors":
		return "errors=30%"
	case "slow":
		return "slow=200ms"
	case "start":
		return "start=20s"
	}
	return "for=15s"
}

// Resolve returns specs with Hottest replaced by the key hottest returns
// (called once, and only when some spec names Hottest), after checking
// that every partition named is one of design d over inv. It returns an
// error naming an unknown partition and a few of the design's.
func Resolve(specs []Spec, d models.Design, inv *models.Inventory, hottest func() models.PartitionKey) ([]Spec, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	parts := d.Partitions(inv)
	keys := make(map[string]bool, len(parts))
	for _, p := range parts {
		keys[string(p.Key)] = true
	}
	out := make([]Spec, len(specs))
	var hot string
	for i, s := range specs {
		if s.Partition == Hottest {
			if hot == "" {
				hot = string(hottest())
			}
			s.Partition = hot
		}
		if !keys[s.Partition] {
			return nil, fmt.Errorf("fault %q: design %s has no partition %q (%s); partition=%s names each design's hottest", specs[i], d.Name, s.Partition, FewKeys(parts, 3), Hottest)
		}
		out[i] = s
	}
	return out, nil
}

// FewKeys names up to n of the partitions parts and how many there are in
// all, for messages: "its 40 partitions include ppv-jb-2-2021-06-07,
// ppv-jb-2-2021-06-08, ...", "its one partition is all".
func FewKeys(parts []models.Partition, n int) string {
	switch len(parts) {
	case 0:
		return "it has no partitions"
	case 1:
		return "its one partition is " + string(parts[0].Key)
	}
	names := make([]string, 0, n+1)
	for i, p := range parts {
		if i == n {
			names = append(names, "...")
			break
		}
		names = append(names, string(p.Key))
	}
	return fmt.Sprintf("its %d partitions include %s", len(parts), strings.Join(names, ", "))
}
