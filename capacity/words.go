package capacity

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// ParseShare reads a share written as a percentage (5%) or a fraction
// (0.05), as flags such as --tolerance take it; it must lie in [0, 1].
func ParseShare(s string) (float64, error) {
	return parseLimit(UnitShare, strings.TrimSpace(s))
}

// Words returns the term as a sentence fragment: "book p99 under 500 ms",
// "errors at most 1%", "at least 95% of the people who could book".
func (t Term) Words() string {
	limit := t.limitWords()
	strict := t.Op == "<" || t.Op == ">"
	under, atLeast := "at most", "at least"
	if strict {
		under, atLeast = "under", "over"
	}
	switch t.Metric {
	case MetricErrors:
		return "errors " + under + " " + limit
	case MetricBookedShare:
		return atLeast + " " + limit + " of the people who could book booked"
	case MetricRetryAmplification:
		return "retry amplification " + under + " " + limit
	case MetricTimeToBook:
		return percentileText(t.Percentile) + "% of bookings within " + limit
	}
	if t.Op == "<=" {
		under = "within"
	}
	return strings.ReplaceAll(t.Metric, "_", " ") + " p" + percentileText(t.Percentile) + " " + under + " " + limit
}

// limitWords writes the limit for a reader: "500 ms", "1%", "1.5×".
func (t Term) limitWords() string {
	switch t.Unit {
	case UnitMs:
		if t.Limit >= 1000 {
			return shortFloat(t.Limit/1000) + " s"
		}
		return shortFloat(t.Limit) + " ms"
	case UnitShare:
		return shortFloat(t.Limit*100) + "%"
	default:
		return shortFloat(t.Limit) + "×"
	}
}

// Words returns the SLO as a phrase: "book p99 within 500 ms and errors at
// most 1%".
func (s SLO) Words() string {
	parts := make([]string, len(s))
	for i, t := range s {
		parts[i] = t.Words()
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// ValueWords writes a term's measured value for a reader: "620 ms",
// "1.4%", "1.7×", or the note when it was not measured.
func (tv TermValue) ValueWords() string {
	if tv.Note != "" {
		return tv.Note
	}
	switch tv.Unit {
	case UnitMs:
		if tv.Value >= 1000 {
			return strconv.FormatFloat(tv.Value/1000, 'f', 2, 64) + " s"
		}
		return strconv.FormatFloat(tv.Value, 'f', 1, 64) + " ms"
	case UnitShare:
		return strconv.FormatFloat(tv.Value*100, 'f', 2, 64) + "%"
	default:
		return strconv.FormatFloat(tv.Value, 'f', 2, 64) + "×"
	}
}

// Rate writes an arrival rate for a reader, to three significant digits
// with thousands separators: "4,130", "310", "0.52".
func Rate(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return "0"
	}
	e := math.Floor(math.Log10(v))
	p := math.Pow(10, e-2)
	r := math.Round(v/p) * p
	if r < 100 {
		return strconv.FormatFloat(r, 'f', int(max(0, 2-e)), 64)
	}
	s := strconv.FormatFloat(r, 'f', 0, 64)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Sentence says the design's capacity in words: "per-ppv-day holds a rush
// of 4,130 people/s (scale 4.88); at 4,340/s errors<=1% fails (5.1%)".
func (d *Design) Sentence() string {
	switch d.Outcome {
	case OutcomeFailsAtMin:
		return fmt.Sprintf("%s fails the SLO already at the smallest scale searched, %g (%s people/s): %s (%s)",
			d.Design, d.FailScale, Rate(d.FailArrivalRatePerS), d.Binding, d.bindingValue())
	case OutcomeHoldsAtMax:
		return fmt.Sprintf("%s holds a rush of at least %s people/s: the SLO still held at the largest scale searched, %g; search higher (--max-scale) for its limit",
			d.Design, Rate(d.MaxArrivalRatePerS), d.MaxScale)
	}
	return fmt.Sprintf("%s holds a rush of %s people/s (scale %.3g); at %s/s (scale %.3g) %s fails (%s)",
		d.Design, Rate(d.MaxArrivalRatePerS), d.MaxScale, Rate(d.FailArrivalRatePerS), d.FailScale, d.Binding, d.bindingValue())
}

// bindingValue returns the binding term's value at the failing step.
func (d *Design) bindingValue() string {
	for _, s := range d.Steps {
		if s.Scale != d.FailScale || s.Phase == PhaseConfirm {
			continue
		}
		for _, tv := range s.Terms {
			if tv.Term == d.Binding {
				return tv.ValueWords()
			}
		}
	}
	return "not measured"
}

// Verdict says the file's answer in one sentence: the design that holds
// the biggest rush and its rate with the SLO in words, then the others'
// rates, then which term binds first: "per-ppv-day holds a rush of 4,130
// people/s with book p99 within 500 ms; monolithic 310/s; errors bind
// first".
func (f *File) Verdict() string {
	if len(f.Designs) == 0 {
		return "no designs were searched"
	}
	slo, err := ParseSLO(f.SLO)
	if err != nil {
		return "the SLO cannot be read: " + err.Error()
	}
	ds := make([]*Design, len(f.Designs))
	for i := range f.Designs {
		ds[i] = &f.Designs[i]
	}
	sort.SliceStable(ds, func(i, j int) bool { return ds[i].MaxArrivalRatePerS > ds[j].MaxArrivalRatePerS })
	best := ds[0]
	var b strings.Builder
	switch best.Outcome {
	case OutcomeFailsAtMin:
		fmt.Fprintf(&b, "no design meets %s even at the smallest scale searched", slo.Words())
	default:
		atLeast := ""
		if best.Outcome == OutcomeHoldsAtMax {
			atLeast = "at least "
		}
		fmt.Fprintf(&b, "%s holds a rush of %s%s people/s with %s", best.Design, atLeast, Rate(best.MaxArrivalRatePerS), slo.Words())
	}
	for _, d := range ds[1:] {
		switch d.Outcome {
		case OutcomeFailsAtMin:
			fmt.Fprintf(&b, "; %s fails at the smallest scale", d.Design)
		case OutcomeHoldsAtMax:
			fmt.Fprintf(&b, "; %s at least %s/s", d.Design, Rate(d.MaxArrivalRatePerS))
		default:
			fmt.Fprintf(&b, "; %s %s/s", d.Design, Rate(d.MaxArrivalRatePerS))
		}
	}
	if bind := commonBinding(f.Designs, slo); bind != "" {
		fmt.Fprintf(&b, "; %s binds first", bind)
	}
	return b.String()
}

// commonBinding names the metric that binds first for the most designs
// ("errors", "book p99"); "" when none binds.
func commonBinding(ds []Design, slo SLO) string {
	count := map[string]int{}
	best, n := "", 0
	for _, d := range ds {
		if d.Binding == "" {
			continue
		}
		count[d.Binding]++
		if c := count[d.Binding]; c > n {
			best, n = d.Binding, c
		}
	}
	for _, t := range slo {
		if t.Canonical() == best {
			return strings.ReplaceAll(strings.ReplaceAll(t.Name(), "_", " "), ".", " ")
		}
	}
	return best
}

// Words says the fit in one line: "σ 0.012, κ 3.4e-07, λ 0.61 bookings per
// person; peak 1,720 bookings/s at 2,080 people/s; error 4.1% (RMSE 12.3/s)",
// or why there is no fit.
func (u USL) Words() string {
	if !u.Fitted {
		return "not fitted: " + u.Reason
	}
	s := fmt.Sprintf("σ %.3g, κ %.3g, λ %.3g bookings per person; ", u.Sigma, u.Kappa, u.Lambda)
	if u.PeakLoadPerS > 0 {
		s += fmt.Sprintf("peak %s bookings/s at %s people/s", Rate(u.PeakThroughputPerS), Rate(u.PeakLoadPerS))
	} else {
		s += u.PeakNote
	}
	return s + fmt.Sprintf("; error %.1f%% (RMSE %.3g bookings/s over %d steps)", 100*u.RelativeError, u.RMSE, u.Points)
}
