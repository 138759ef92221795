package reports

import (
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

func TestFaultSentences(t *testing.T) {
	rec, lost := 3.0, int64(35)
	d := &results.DesignResult{Design: "per-ppv-day", BlastRadius: &results.BlastRadius{
		Faults: []string{"partition=ppv-wtc-kl-2021-06-07,down,start=2s,for=15s"}, PeopleHit: 412, PeopleHitShare: 0.041, PeopleInWindow: 3102,
		RecoverS: &rec, BookingsLost: &lost}}
	got := faultSentences([]designStats{{s: series{Label: "per-ppv-day", Design: d}}})
	if len(got) != 1 {
		t.Fatalf("got %q", got)
	}
	for _, want := range []string{"ppv-wtc-kl-2021-06-07 down 2s–17s", "412 people", "3,102 were present", "bookings lost against the same crowd without the fault: 35", "recovered 3 s after"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("%q lacks %q", got[0], want)
		}
	}
	d.BlastRadius.BookingsLost = nil
	if got := faultSentences([]designStats{{s: series{Label: "x", Design: d}}}); strings.Contains(got[0], "lost") {
		t.Errorf("%q mentions what was not measured", got[0])
	}
	gained := int64(-4)
	d.BlastRadius.BookingsLost = &gained
	if got := faultSentences([]designStats{{s: series{Label: "x", Design: d}}}); !strings.Contains(got[0], "4 more bookings than the run without the fault") {
		t.Errorf("%q does not call a negative loss noise", got[0])
	}
}
