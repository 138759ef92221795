package capacity

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/results"
)

// FormatPrefix starts the format field of every capacity file; the version
// follows: "slotrush-capacity/1". A result file's format is a number, so
// the field tells the two apart (IsFile).
const FormatPrefix = "slotrush-capacity/"

// FormatVersion is the version of the capacity file written by this build.
// Readers accept every version from 1 to FormatVersion.
const FormatVersion = 1

// Engines a step can run on.
const (
	EngineModel = results.EngineModel
	EngineLive  = results.EngineLive
)

// File is one capacity.json: the search of one scenario's crowd against
// one or more designs under one SLO. Plain data; not safe for concurrent
// mutation.
type File struct {
	Format   string `json:"format"`
	Scenario string `json:"scenario"`
	// Engine ran the search's steps; Confirm, when set, checked each
	// design's boundary (Design.Confirmation).
	Engine  string `json:"engine"`
	Confirm string `json:"confirm,omitempty"`
	// Seed is the scenario's seed, from which each step's derives.
	Seed int64 `json:"seed"`
	// SLO is the objective in canonical form; Terms the same, parsed.
	SLO   string `json:"slo"`
	Terms []Term `json:"terms"`
	// Search is how the search ran.
	Search SearchSettings `json:"search"`
	// BaseArrivalRatePerS is the peak arrival rate of the scenario's crowd
	// at scale 1; BasePeople and BasePlaces its people and places.
	BaseArrivalRatePerS float64 `json:"base_arrival_rate_per_s"`
	BasePeople          int64   `json:"base_people"`
	BasePlaces          int64   `json:"base_places"`
	// Assumptions are the facts the answer rests on, in words.
	Assumptions []string            `json:"assumptions"`
	StartedAt   time.Time           `json:"started_at"`
	FinishedAt  time.Time           `json:"finished_at"`
	Environment results.Environment `json:"environment"`
	Interrupted bool                `json:"interrupted,omitempty"`
	Designs     []Design            `json:"designs"`
}

// SearchSettings are the settings of the search: the scales searched, the
// tolerance and the noise rule (Options).
type SearchSettings struct {
	StartScale  float64 `json:"start_scale"`
	MinScale    float64 `json:"min_scale"`
	MaxScale    float64 `json:"max_scale"`
	Tolerance   float64 `json:"tolerance"`
	NoiseMargin float64 `json:"noise_margin"`
	Reruns      int     `json:"reruns"`
}

// Design is one design's capacity. Plain data.
type Design struct {
	Design string `json:"design"`
	// Outcome is OutcomeFound, OutcomeFailsAtMin or OutcomeHoldsAtMax.
	Outcome string `json:"outcome"`
	// MaxScale is the largest scale at which the SLO held (0 when it failed
	// at the smallest), MaxArrivalRatePerS the crowd's peak arrival rate
	// there (people/s): the design's capacity.
	MaxScale           float64 `json:"max_scale"`
	MaxArrivalRatePerS float64 `json:"max_arrival_rate_per_s"`
	// FailScale is the smallest scale at which the SLO failed (0 when it
	// held to the largest), FailArrivalRatePerS its peak arrival rate.
	FailScale           float64 `json:"fail_scale,omitempty"`
	FailArrivalRatePerS float64 `json:"fail_arrival_rate_per_s,omitempty"`
	// Binding is the SLO term that failed at FailScale (the furthest past
	// its limit when several did); "" when the SLO held throughout.
	Binding string `json:"binding_term,omitempty"`
	// Steps lists every step in the order it ran.
	Steps []Step `json:"steps"`
	USL   USL    `json:"usl"`
	// Confirmation is the check of the boundary on another engine (live),
	// when asked for.
	Confirmation *Confirmation `json:"confirmation,omitempty"`
}

// Step is one step of a search: the crowd at Scale, run once or, when
// noise could flip it, Runs times. Plain data.
type Step struct {
	Scale           float64 `json:"scale"`
	Phase           string  `json:"phase"`
	Seed            int64   `json:"seed"`
	People          int64   `json:"people"`
	Booked          int64   `json:"booked"`
	ArrivalRatePerS float64 `json:"arrival_rate_per_s"`
	// ThroughputPerS is the rate of bookings while the crowd was at its
	// peak (Throughput).
	ThroughputPerS float64     `json:"throughput_bookings_per_s"`
	Terms          []TermValue `json:"terms"`
	Pass           bool        `json:"pass"`
	// Binding is the term that failed furthest, "" when the step passed.
	Binding string `json:"binding_term,omitempty"`
	// Runs is 1, or the runs of a step rerun because noise could flip it;
	// Verdicts then holds each run's verdict and Note says why.
	Runs     int    `json:"runs"`
	Verdicts []bool `json:"verdicts,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Agreement of a confirmation with the search's boundary.
const (
	// AgreeExact: the confirming engine passed at MaxScale and failed at
	// FailScale, as the search's engine did.
	AgreeExact = "exact"
	// AgreeWithinStep: it disagreed at one of them but agreed one
	// bisection step further out.
	AgreeWithinStep = "within one bisection step"
	// AgreeNot: it disagreed even one step further out.
	AgreeNot = "disagrees"
)

// Confirmation is a check of a design's boundary on another engine: just
// below it (MaxScale) must pass and just above it (FailScale) must fail.
type Confirmation struct {
	Engine string `json:"engine"`
	// Steps are the confirming runs: below and above the boundary, and one
	// bisection step further out where they disagreed.
	Steps     []Step `json:"steps"`
	Agreement string `json:"agreement"`
	Note      string `json:"note"`
}

// IsFile reports whether data is a capacity file: a JSON object whose
// format is a string starting FormatPrefix (a result's format is a
// number).
func IsFile(data []byte) bool {
	var head struct {
		Format json.RawMessage `json:"format"`
	}
	if json.Unmarshal(data, &head) != nil {
		return false
	}
	var f string
	return json.Unmarshal(head.Format, &f) == nil && strings.HasPrefix(f, FormatPrefix)
}

// FormatString returns the format field of version v: "slotrush-capacity/1".
func FormatString(v int) string { return FormatPrefix + strconv.Itoa(v) }

// Version returns the version of f's format, or an error naming the field.
func (f *File) Version() (int, error) {
	v, ok := strings.CutPrefix(f.Format, FormatPrefix)
	n, err := strconv.Atoi(v)
	if !ok || err != nil || n < 1 || n > FormatVersion {
		return 0, fmt.Errorf("format %q: want %s1 to %s (this build reads capacity files 1 to %d)",
			f.Format, FormatPrefix, FormatString(FormatVersion), FormatVersion)
	}
	return n, nil
}

// Check returns every inconsistency of f, each naming its place
// ("designs[1].steps[3].scale"). A file read from disk must pass it.
func (f *File) Check() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := f.Version(); err != nil {
		errs = append(errs, err)
	}
	if f.Engine != EngineModel && f.Engine != EngineLive {
		add("engine %q: want %q or %q", f.Engine, EngineModel, EngineLive)
	}
	if f.Confirm != "" && f.Confirm != EngineLive {
		add("confirm %q: want %q or nothing", f.Confirm, EngineLive)
	}
	if slo, err := ParseSLO(f.SLO); err != nil {
		add("slo: %v", err)
	} else if got := SLO(f.Terms).String(); len(f.Terms) > 0 && got != slo.String() {
		add("terms %s: do not match slo %s", got, f.SLO)
	}
	if len(f.Designs) == 0 {
		add("designs: none")
	}
	seen := map[string]bool{}
	for i := range f.Designs {
		d := &f.Designs[i]
		if seen[d.Design] {
			add("designs[%d].design %q: listed twice", i, d.Design)
		}
		seen[d.Design] = true
		errs = append(errs, d.check(fmt.Sprintf("designs[%d]", i))...)
	}
	return errs
}

// check returns the inconsistencies of d, placed under at.
func (d *Design) check(at string) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(at+"."+format, args...)) }
	if d.Design == "" {
		add("design: empty")
	}
	finite := func(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) && x >= 0 }
	for name, v := range map[string]float64{"max_scale": d.MaxScale, "max_arrival_rate_per_s": d.MaxArrivalRatePerS,
		"fail_scale": d.FailScale, "fail_arrival_rate_per_s": d.FailArrivalRatePerS} {
		if !finite(v) {
			add("%s %v: want a finite number of 0 or more", name, v)
		}
	}
	switch d.Outcome {
	case OutcomeFound:
		if !(d.MaxScale > 0 && d.FailScale > d.MaxScale) {
			add("outcome found: want 0 < max_scale (%v) < fail_scale (%v)", d.MaxScale, d.FailScale)
		}
	case OutcomeFailsAtMin:
		if d.MaxScale != 0 || d.FailScale <= 0 {
			add("outcome %s: want max_scale 0 and a positive fail_scale", d.Outcome)
		}
	case OutcomeHoldsAtMax:
		if d.MaxScale <= 0 || d.FailScale != 0 {
			add("outcome %s: want a positive max_scale and no fail_scale", d.Outcome)
		}
	default:
		add("outcome %q: want %s, %s or %s", d.Outcome, OutcomeFound, OutcomeFailsAtMin, OutcomeHoldsAtMax)
	}
	if len(d.Steps) == 0 {
		add("steps: none")
	}
	for j, s := range d.Steps {
		if !(s.Scale > 0) || !finite(s.Scale) || !finite(s.ArrivalRatePerS) || !finite(s.ThroughputPerS) {
			add("steps[%d]: scale %v, arrival rate %v and throughput %v must be finite, the scale positive", j, s.Scale, s.ArrivalRatePerS, s.ThroughputPerS)
		}
		if s.Runs < 1 {
			add("steps[%d].runs %d: want at least 1", j, s.Runs)
		}
	}
	return errs
}

// Write writes f as indented JSON to w.
func (f *File) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // "errors<=1%", not "errors\u003c=1%"
	if err := enc.Encode(f); err != nil {
		return fmt.Errorf("write capacity file: %w", err)
	}
	return nil
}

// WriteFile writes f to path atomically (a temporary file renamed).
func (f *File) WriteFile(path string) error {
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write capacity file: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write capacity file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write capacity file: %w", err)
	}
	return nil
}

// ErrNotCapacity is returned (wrapped) by Read for JSON that is not a
// capacity file (such as a result.json).
var ErrNotCapacity = errors.New("not a capacity file")

// Read decodes and checks a capacity file named name (for messages). A
// file that is not JSON, not a capacity file, of a version this build
// cannot read, or inconsistent gives an error naming the file and the
// problem's place (line and column for JSON syntax, the field otherwise).
func Read(name string, data []byte) (*File, error) {
	var head struct {
		Format json.RawMessage `json:"format"`
	}
	if json.Unmarshal(data, &head) == nil && !IsFile(data) {
		return nil, fmt.Errorf("%s: %w (format %s; a capacity file's is a string starting %q)", name, ErrNotCapacity, cmp.Or(string(head.Format), "missing"), FormatPrefix)
	}
	var f File
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %s", name, jsonProblem(data, err))
	}
	if errs := f.Check(); len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", name, errors.Join(errs...))
	}
	f.Terms, _ = ParseSLO(f.SLO) // Check parsed it: the terms with their columns
	return &f, nil
}

// Load reads and checks the capacity file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Read(path, data)
}

// jsonProblem describes a JSON decoding error with its line and column.
func jsonProblem(data []byte, err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	var off int64
	switch {
	case errors.As(err, &se):
		off = se.Offset
	case errors.As(err, &te):
		off = te.Offset
		if te.Field != "" {
			return fmt.Sprintf("%s: field %s: want %s, got %s", position(data, off), te.Field, te.Type, te.Value)
		}
	default:
		return err.Error()
	}
	return fmt.Sprintf("%s: %v", position(data, off), err)
}

// position returns "line L, column C" of byte offset off in data.
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// FitDesign fits the USL to d's steps (offered load: the arrival rate;
// throughput: the bookings/s at the crowd's peak) and sets d.USL.
func FitDesign(d *Design) {
	pts := make([]Point, 0, len(d.Steps))
	for _, s := range d.Steps {
		pts = append(pts, Point{N: s.ArrivalRatePerS, X: s.ThroughputPerS})
	}
	d.USL = FitUSL(pts)
}
