package reports_test

import (
	"fmt"
	"os"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reports"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

// slower multiplies the p50 and p99 latency of operation op of design in r
// by factor.
func slower(r *results.Result, design, op string, factor float64) {
	d, ok := r.Design(design)
	if !ok {
		panic("no design " + design)
	}
	l := d.LatencyMs[op]
	l.P50 *= factor
	l.P99 *= factor
	d.LatencyMs[op] = l
}

// Compare a run with a baseline: the same synthetic rush, except that
// booking with per-ppv-day got three times slower. Regressions lists what
// Err would fail a build on; WriteText shows every check, here of the one
// design compared.
func ExampleCompare() {
	baseline := resultstest.SyntheticResult(1)
	current := resultstest.SyntheticResult(1)
	slower(current, string(models.PerPPVDay), results.OpBook, 3)

	opts := reports.DefaultCompareOptions()
	opts.Designs = []string{string(models.PerPPVDay)}
	c, err := reports.Compare([]*results.Result{baseline}, []*results.Result{current}, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ch := range c.Regressions() {
		fmt.Println(ch.Sentence())
	}
	fmt.Println()
	if err := c.WriteText(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// per-ppv-day book p50: 18.6 ms → 55.7 ms (+200%), limit ≤ 23.6 ms
	// per-ppv-day book p99: 81.3 ms → 244 ms (+200%), limit ≤ 122 ms
	//
	// slotrush compare: 2 regressions in 10 checks (baseline 1 run, current 1 run)
	//
	// DESIGN       METRIC          BASELINE  CURRENT  CHANGE   LIMIT      SIGNIFICANT  STATUS
	// per-ppv-day  booked share    38.7%     38.7%    +0.0 pp  ≥ 33.7%    no           ok
	// per-ppv-day  error rate      0.45%     0.45%    +0.0 pp  ≤ 2.45%    no           ok
	// per-ppv-day  list_ppvs p50   4.08 ms   4.08 ms  +0%      ≤ 9.09 ms  no           ok
	// per-ppv-day  list_ppvs p99   18.2 ms   18.2 ms  +0%      ≤ 27.2 ms  no           ok
	// per-ppv-day  list_slots p50  4.06 ms   4.06 ms  +0%      ≤ 9.06 ms  no           ok
	// per-ppv-day  list_slots p99  19.1 ms   19.1 ms  +0%      ≤ 28.7 ms  no           ok
	// per-ppv-day  book p50        18.6 ms   55.7 ms  +200%    ≤ 23.6 ms  yes          REGRESSION
	// per-ppv-day  book p99        81.3 ms   244 ms   +200%    ≤ 122 ms   yes          REGRESSION
	// per-ppv-day  oversold        0         0        +0       0          no           ok
	// per-ppv-day  missing 201s    0         0        +0       0          no           ok
	//
	// A metric regresses when the median of the current runs is beyond the range [min, max] of the baseline runs widened by its threshold:
	//   p50 latency: current > max(baseline) × 1.25 and at least 5 ms slower
	//   p99 latency: current > max(baseline) × 1.5 and at least 5 ms slower
	//   error rate:   current > max(baseline) + 2 pp
	//   booked share: current < min(baseline) − 5 pp
	//   oversold places, missing 201s: any current run above 0
	//   an interrupted current run, a design of the baseline missing from a current run: always
	// With one run per side this is the plain threshold. A change past the threshold from the baseline median that stays inside the widened range is noise: not significant.
}
