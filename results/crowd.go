package results

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Names of the scenario parameters a Crowd is read from (written by the
// scenarios package: "10,000 users", "10× the scenario as written …").
const (
	ParamCrowd = "crowd"
	ParamScale = "scale"
)

// Crowd is who a result's run faced: the scenario, the scale it was run
// at, the seed that drew the people and how many there were. Results of
// different crowds are not ranked against each other: a design that faced
// a tenth of the people proves nothing against one that faced them all.
// Crowd is a comparable value; == tells two crowds apart.
type Crowd struct {
	Scenario string
	// Scale is the factor the scenario was scaled by (simulate --scale);
	// 1 when it was not.
	Scale float64
	Seed  int64
	// People is the crowd's size; 0 when the result does not say.
	People int64
	// Segment is "I/N" for a segment of the crowd (run --segment), ""
	// for the whole crowd.
	Segment string
}

// Crowd returns the crowd r faced: its scenario and seed, the scale and
// crowd size from its parameters (ParamScale, ParamCrowd) and its segment.
// A result without a crowd parameter (written by hand, or before it
// existed) counts the most people any of its designs saw arrive.
func (r *Result) Crowd() Crowd {
	c := Crowd{Scenario: r.Scenario, Seed: r.Seed, Scale: 1}
	for _, p := range r.Parameters {
		switch p.Name {
		case ParamCrowd:
			if n, ok := leadingCount(p.Value); ok {
				c.People = n
			}
		case ParamScale:
			if f, ok := leadingNumber(p.Value); ok && f > 0 {
				c.Scale = f
			}
		}
	}
	if c.People == 0 {
		for i := range r.Designs {
			c.People = max(c.People, r.Designs[i].Users.Arrived)
		}
	}
	if r.Segment != nil {
		c.Segment = fmt.Sprintf("%d/%d", r.Segment.Index, r.Segment.Of)
	}
	return c
}

// String names the crowd: "demo ×10 (100,000 people, seed 1)", "demo
// (10,000 people, seed 1, segment 2/4)".
func (c Crowd) String() string {
	var b strings.Builder
	b.WriteString(c.Scenario)
	if c.Scale != 1 && c.Scale > 0 {
		b.WriteString(" ×" + FormatNumber(c.Scale))
	}
	var in []string
	if c.People > 0 {
		in = append(in, Commas(c.People)+" people")
	}
	in = append(in, "seed "+strconv.FormatInt(c.Seed, 10))
	if c.Segment != "" {
		in = append(in, "segment "+c.Segment)
	}
	return b.String() + " (" + strings.Join(in, ", ") + ")"
}

// Diff says how other differs from c, one phrase per difference, the size
// first ("the second crowd is 10× the size of the first (100,000 against
// 10,000 people)"); nil when they are the same crowd.
func (c Crowd) Diff(other Crowd) []string {
	var out []string
	if c.People != other.People {
		out = append(out, sizePhrase(c.People, other.People))
	}
	if c.Scenario != other.Scenario {
		out = append(out, fmt.Sprintf("scenario %s against %s", c.Scenario, other.Scenario))
	}
	if c.Scale != other.Scale {
		out = append(out, fmt.Sprintf("scale ×%s against ×%s", FormatNumber(c.Scale), FormatNumber(other.Scale)))
	}
	if c.Seed != other.Seed {
		out = append(out, fmt.Sprintf("seed %d against %d (other people, arriving at other times)", c.Seed, other.Seed))
	}
	if c.Segment != other.Segment {
		seg := func(s string) string {
			if s == "" {
				return "the whole crowd"
			}
			return "segment " + s
		}
		out = append(out, seg(c.Segment)+" against "+seg(other.Segment))
	}
	return out
}

// sizePhrase compares two crowd sizes, a first and a second.
func sizePhrase(a, b int64) string {
	switch {
	case a <= 0 || b <= 0:
		return fmt.Sprintf("%s against %s people", peopleOrUnknown(a), peopleOrUnknown(b))
	case b > a:
		return fmt.Sprintf("the second crowd is %s× the size of the first (%s against %s people)",
			FormatNumber(float64(b)/float64(a)), Commas(b), Commas(a))
	}
	return fmt.Sprintf("the first crowd is %s× the size of the second (%s against %s people)",
		FormatNumber(float64(a)/float64(b)), Commas(a), Commas(b))
}

func peopleOrUnknown(n int64) string {
	if n <= 0 {
		return "an unknown number of"
	}
	return Commas(n)
}

// FormatNumber prints x rounded to 3 significant digits, without an
// exponent or trailing zeros for the magnitudes reports show: 1.2 (not
// 1.2000000000000002), 10, 0.333, 12300.
func FormatNumber(x float64) string {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 3, 64), 64)
	if err != nil {
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
	if a := math.Abs(y); a >= 1e15 || a < 1e-6 {
		return strconv.FormatFloat(y, 'g', -1, 64)
	}
	return strconv.FormatFloat(y, 'f', -1, 64)
}

// leadingCount reads the count a text starts with, thousands separated
// by commas: "10,000 users" → 10000.
func leadingCount(s string) (int64, bool) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == ',') {
		end++
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(s[:end], ",", ""), 10, 64)
	return n, err == nil && n > 0
}

// leadingNumber reads the decimal number a text starts with: "10× the
// scenario" → 10, "0.5×" → 0.5.
func leadingNumber(s string) (float64, bool) {
	end := 0
	for end < len(s) && (s[end] >= '0' && s[end] <= '9' || s[end] == '.' || s[end] == 'e' || s[end] == '-' || s[end] == '+') {
		end++
	}
	f, err := strconv.ParseFloat(s[:end], 64)
	return f, err == nil && !math.IsInf(f, 0)
}

// Commas writes n with commas: 100000 → "100,000", -1234 → "-1,234".
// Reports, the CLI and results share it.
func Commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// checkOutcomeOps reports a design whose bookings split by answer
// (OpBookBooked, OpBookRefused) count more requests than OpBook itself.
// Results written before the split have neither, which is fine.
func (d *DesignResult) checkOutcomeOps() []error {
	sub := d.LatencyMs[OpBookBooked].Count + d.LatencyMs[OpBookRefused].Count
	if sub == 0 {
		return nil
	}
	if book := d.LatencyMs[OpBook].Count; sub > book {
		return []error{fmt.Errorf("design %s: latency %s + %s count %d requests; %s only %d", d.Design, OpBookBooked, OpBookRefused, sub, OpBook, book)}
	}
	return nil
}
