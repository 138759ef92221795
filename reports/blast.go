package reports

import (
	"fmt"
	"strings"

	"github.com/slotrush/slotrush/fault"
)

// faultSentences says, for each design with injected faults, what they did
// to people, from what was measured only: "Fault in per-ppv-day:
// ppv-wtc-kl-2021-06-07 down 2s–17s. It reached 412 people (4.1% of
// arrivals; 3,102 were present during it); bookings lost against the same
// crowd without the fault: 35; recovered 3 s after."
func faultSentences(stats []designStats) []string {
	var out []string
	for _, st := range stats {
		b := st.s.Design.BlastRadius
		if b == nil {
			continue
		}
		what := make([]string, 0, len(b.Faults))
		for _, f := range b.Faults {
			what = append(what, faultPhrase(f))
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "Fault in %s: %s. It reached %s %s (%s of arrivals; %s %s present during it)", st.s.Label, strings.Join(what, "; "),
			commas(b.PeopleHit), plural(b.PeopleHit, "person", "people"), pct(b.PeopleHitShare),
			commas(b.PeopleInWindow), plural(b.PeopleInWindow, "was", "were"))
		switch {
		case b.BookingsLost != nil && *b.BookingsLost < 0:
			fmt.Fprintf(&sb, "; %s more bookings than the run without the fault (noise between the two runs)", commas(-*b.BookingsLost))
		case b.BookingsLost != nil:
			fmt.Fprintf(&sb, "; bookings lost against the same crowd without the fault: %s", commas(*b.BookingsLost))
		}
		if b.RecoverS != nil {
			fmt.Fprintf(&sb, "; recovered %g s after", *b.RecoverS)
		} else {
			sb.WriteString("; the error rate had not recovered by the end")
		}
		sb.WriteString(".")
		out = append(out, sb.String())
	}
	return out
}

// faultPhrase writes a fault spec as "ppv-wtc-kl-2021-06-07 down 2s–17s",
// or the spec as it is when it does not parse.
func faultPhrase(spec string) string {
	sp, err := fault.Parse(spec)
	if err != nil {
		return spec
	}
	start, end := sp.Window()
	var mode string
	switch sp.Mode {
	case fault.Slow:
		mode = "slow by " + sp.Delay.String()
	case fault.Errors:
		mode = fmt.Sprintf("failing %s of operations", pct(sp.Share))
	default:
		mode = sp.Mode.String()
	}
	return fmt.Sprintf("%s %s %v–%v", sp.Partition, mode, start, end)
}

// plural returns one when n is 1, else many.
func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
