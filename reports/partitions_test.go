package reports

import (
	"strings"
	"testing"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// The isolation sentence is made of the data: how many partitions stayed
// available throughout, which did not and their worst second.
func TestIsolationClause(t *testing.T) {
	t.Parallel()
	hot := &results.PartitionTotals{Key: "ppv-wtc-kl-2021-06-07"}
	other := &results.PartitionTotals{Key: "ppv-miri-1-2021-06-09"}
	for _, tc := range []struct {
		name string
		ps   partitionSummary
		want string
	}{
		{"single, available", partitionSummary{scheme: models.Monolithic, asked: 1, throughout: 1, seconds: 90, available: 90},
			"its single partition stayed available throughout"},
		{"single, refusing", partitionSummary{scheme: models.Monolithic, asked: 1, seconds: 200, available: 150,
			worse: []*results.PartitionTotals{{Key: "all"}}, peak: 0.75, hottest: true},
			"its single partition refused up to 75% of a second's bookings at the peak, and was available in 75% of the seconds it was asked"},
		{"all available", partitionSummary{scheme: models.PerPPV, asked: 8, throughout: 8, seconds: 800, available: 800},
			"all 8 centres asked stayed available throughout"},
		{"the busiest", partitionSummary{scheme: models.PerPPVDay, asked: 40, throughout: 37, seconds: 4000, available: 3900,
			worse: []*results.PartitionTotals{hot, other, other}, peak: 0.64, hottest: true},
			"37 of the 40 centre-days asked stayed available throughout; the 3 busiest centre-days (wtc-kl-2021-06-07 first) refused up to 64% of a second's bookings at the peak"},
		{"one busiest", partitionSummary{scheme: models.PerPPVDay, asked: 40, throughout: 39, seconds: 4000, available: 3990,
			worse: []*results.PartitionTotals{hot}, peak: 0.2, hottest: true},
			"39 of the 40 centre-days asked stayed available throughout; the busiest centre-day (wtc-kl-2021-06-07) refused up to 20%"},
		{"not the busiest", partitionSummary{scheme: models.PerPPVDay, asked: 40, throughout: 38, seconds: 4000, available: 3990,
			worse: []*results.PartitionTotals{other, other}, peak: 0.05},
			"the other 2 (the busiest of them miri-1-2021-06-09) refused up to 5%"},
		{"not known", partitionSummary{scheme: models.PerPPVDay, asked: 2, throughout: 2, seconds: 20, available: 20, unknown: 3},
			"all 2 centre-days asked stayed available throughout (the availability of 3 more is not known"},
	} {
		if got := isolationClause(tc.ps); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q; want it to contain %q", tc.name, got, tc.want)
		}
	}
}

// The verdict of the fixture with bookings by partition says, design by
// design, which partitions stayed available; without them it says nothing.
func TestIsolationVerdict(t *testing.T) {
	t.Parallel()
	if v := Judge(fixture()); v.Isolation != "" {
		t.Errorf("a result without bookings by partition: isolation %q", v.Isolation)
	}
	v := Judge(fixtureWithPartitions())
	for _, w := range []string{
		"With monolithic, its single partition refused up to 99% of a second's bookings at the peak",
		"With per-ppv, 13 of the 20 centres asked stayed available throughout; the 7 busiest centres (centre-01 first) refused up to 79%",
		"With per-ppv-day, 58 of the 60 centre-days asked stayed available throughout",
		"With per-ppv-day+waiting-room, 59 of the 60 centre-days asked",
	} {
		if !strings.Contains(v.Isolation, w) {
			t.Errorf("isolation %q lacks %q", v.Isolation, w)
		}
	}
	if !strings.Contains(v.String(), v.Isolation) {
		t.Errorf("Verdict.String() leaves the isolation out")
	}
}

// A report of results with bookings by partition embeds the heatmaps and
// the availability figure and says the isolation sentence; one without
// them, as results written before them, renders as before.
func TestRenderPartitions(t *testing.T) {
	t.Parallel()
	index, err := render(t.TempDir(), cheapDPI, []*results.Result{fixtureWithPartitions()})
	if err != nil {
		t.Fatal(err)
	}
	page := readIndex(t, index)
	for _, w := range []string{
		`id="fig-partition-availability"`, `id="fig-monolithic-partitions"`, `id="fig-per-ppv-day-partitions"`,
		`id="fig-per-ppv-day+waiting-room-partitions"`, `href="plots/per-ppv-partitions.svg"`,
		`<p id="isolation">With monolithic, its single partition`,
		"per-ppv-day: bookings refused, by partition (40 busiest of 60)",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if strings.Contains(page, "Left out:") {
		t.Errorf("a plot was left out")
	}
	old, err := render(t.TempDir(), cheapDPI, []*results.Result{fixture()})
	if err != nil {
		t.Fatal(err)
	}
	if page := readIndex(t, old); strings.Contains(page, "partitions") && strings.Contains(page, `id="isolation"`) {
		t.Errorf("a result without bookings by partition shows them")
	}
}

// Cells in which a partition decided nothing are left blank; the rest
// are coloured by the share refused, stretches of one colour drawn once.
func TestHeatRuns(t *testing.T) {
	t.Parallel()
	c := func(ts int, ok, refused, notOpen int64) results.PartitionSecond {
		return results.PartitionSecond{TS: ts, PartitionCounts: results.PartitionCounts{
			Requests: ok + refused + notOpen, OK: ok, Throttled: refused, NotOpen: notOpen}}
	}
	secs := []results.PartitionSecond{c(0, 0, 0, 5), c(1, 99, 1, 0), c(2, 100, 0, 0), c(3, 1, 4, 0), c(5, 1, 0, 0)}
	got := heatRuns(secs, 1)
	want := []heatRun{{1, 3, 0}, {3, 4, 5}, {5, 6, 0}}
	if len(got) != len(want) {
		t.Fatalf("runs = %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("run %d = %v; want %v", i, got[i], want[i])
		}
	}
	// Two seconds a cell: 0-1 holds 99 of 100 answered and 5 not open.
	if got := heatRuns(secs, 2); len(got) != 3 || got[0] != (heatRun{0, 2, 0}) || got[1] != (heatRun{2, 4, 1}) {
		t.Errorf("runs of 2 s = %v", got)
	}
}
