package results_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
)

func TestCrowd(t *testing.T) {
	t.Parallel()
	param := func(kv ...string) []results.Parameter {
		var ps []results.Parameter
		for i := 0; i+1 < len(kv); i += 2 {
			ps = append(ps, results.Parameter{Name: kv[i], Value: kv[i+1]})
		}
		return ps
	}
	tests := []struct {
		name string
		r    results.Result
		want results.Crowd
		str  string
	}{
		{"as written", results.Result{Scenario: "demo", Seed: 1, Parameters: param("crowd", "10,000 users")},
			results.Crowd{Scenario: "demo", Scale: 1, Seed: 1, People: 10000}, "demo (10,000 people, seed 1)"},
		{"scaled", results.Result{Scenario: "demo", Seed: 1, Parameters: param("crowd", "100,000 users", "scale", "10× the scenario as written (crowd, …)")},
			results.Crowd{Scenario: "demo", Scale: 10, Seed: 1, People: 100000}, "demo ×10 (100,000 people, seed 1)"},
		{"scaled down", results.Result{Scenario: "jkjav", Seed: 3, Parameters: param("scale", "0.05× the scenario", "crowd", "25,000 users")},
			results.Crowd{Scenario: "jkjav", Scale: 0.05, Seed: 3, People: 25000}, "jkjav ×0.05 (25,000 people, seed 3)"},
		{"no crowd parameter: the most arrivals", results.Result{Scenario: "old", Seed: 2, Designs: []results.DesignResult{{Users: results.Users{Arrived: 90}}, {Users: results.Users{Arrived: 120}}}},
			results.Crowd{Scenario: "old", Scale: 1, Seed: 2, People: 120}, "old (120 people, seed 2)"},
		{"unreadable parameters", results.Result{Scenario: "odd", Parameters: param("crowd", "many", "scale", "big")},
			results.Crowd{Scenario: "odd", Scale: 1}, "odd (seed 0)"},
		{"a segment", results.Result{Scenario: "demo", Seed: 1, Parameters: param("crowd", "400 users"), Segment: &results.SegmentInfo{Index: 2, Of: 4}},
			results.Crowd{Scenario: "demo", Scale: 1, Seed: 1, People: 400, Segment: "2/4"}, "demo (400 people, seed 1, segment 2/4)"},
	}
	for _, tc := range tests {
		got := tc.r.Crowd()
		if got != tc.want {
			t.Errorf("%s: Crowd() = %+v; want %+v", tc.name, got, tc.want)
		}
		if s := got.String(); s != tc.str {
			t.Errorf("%s: String() = %q; want %q", tc.name, s, tc.str)
		}
		if d := got.Diff(tc.want); d != nil {
			t.Errorf("%s: Diff(itself) = %q; want nil", tc.name, d)
		}
	}
}

func TestCrowdDiff(t *testing.T) {
	t.Parallel()
	one := results.Crowd{Scenario: "demo", Scale: 1, Seed: 1, People: 10000}
	tests := []struct {
		name  string
		other results.Crowd
		want  []string
	}{
		{"tenfold", results.Crowd{Scenario: "demo", Scale: 10, Seed: 1, People: 100000},
			[]string{"the second crowd is 10× the size of the first (100,000 against 10,000 people)", "scale ×1 against ×10"}},
		{"smaller", results.Crowd{Scenario: "demo", Scale: 0.5, Seed: 1, People: 5000},
			[]string{"the first crowd is 2× the size of the second (10,000 against 5,000 people)", "scale ×1 against ×0.5"}},
		{"another seed", results.Crowd{Scenario: "demo", Scale: 1, Seed: 2, People: 10000},
			[]string{"seed 1 against 2 (other people, arriving at other times)"}},
		{"another scenario, size unknown", results.Crowd{Scenario: "cyprus", Scale: 1, Seed: 1},
			[]string{"10,000 against an unknown number of people", "scenario demo against cyprus"}},
		{"a segment", results.Crowd{Scenario: "demo", Scale: 1, Seed: 1, People: 10000, Segment: "1/2"},
			[]string{"the whole crowd against segment 1/2"}},
	}
	for _, tc := range tests {
		if got := one.Diff(tc.other); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Diff = %q; want %q", tc.name, got, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x    float64
		want string
	}{
		{1.2000000000000002, "1.2"}, {10, "10"}, {0.1 * 3, "0.3"}, {1.0 / 3, "0.333"},
		{123456, "123000"}, {0, "0"}, {2.5e-9, "2.5e-09"},
	}
	for _, tc := range tests {
		if got := results.FormatNumber(tc.x); got != tc.want {
			t.Errorf("FormatNumber(%v) = %q; want %q", tc.x, got, tc.want)
		}
	}
}

// A result whose split of booking latency counts more requests than
// book fails Check; one without the split (written before it) passes.
func TestCheckOutcomeOps(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 5))
	r := runOf(t, 0, synthRequests(rng, 400, 2*time.Second))
	d := &r.Designs[0]
	if d.LatencyMs[results.OpBookBooked].Count == 0 || d.LatencyMs[results.OpBookRefused].Count == 0 {
		t.Fatalf("fixture lacks the split: %+v", d.LatencyMs)
	}
	old := *d
	old.LatencyMs = map[string]results.LatencySummary{results.OpBook: d.LatencyMs[results.OpBook]}
	bad := *d
	bad.LatencyMs = map[string]results.LatencySummary{}
	for op, l := range d.LatencyMs {
		bad.LatencyMs[op] = l
	}
	l := bad.LatencyMs[results.OpBookBooked]
	l.Count = d.LatencyMs[results.OpBook].Count
	bad.LatencyMs[results.OpBookBooked] = l
	for _, tc := range []struct {
		name string
		d    results.DesignResult
		want string
	}{
		{"split", *d, ""},
		{"written before the split", old, ""},
		{"split counts more than book", bad, "book_booked + book_refused count"},
	} {
		rr := *r
		rr.Designs = []results.DesignResult{tc.d}
		errs := rr.Check()
		switch {
		case tc.want == "" && len(errs) > 0:
			t.Errorf("%s: Check() = %v; want none", tc.name, errs)
		case tc.want != "" && !slices.ContainsFunc(errs, func(e error) bool { return strings.Contains(e.Error(), tc.want) }):
			t.Errorf("%s: Check() = %v; want %q", tc.name, errs, tc.want)
		}
	}
}

// Merging a part written before booking latency was split by answer with
// one written after drops the split (it would count only some parts).
func TestMergeOldAndNewSplit(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(9, 9))
	all := synthRequests(rng, 800, 2*time.Second)
	a, b := runOf(t, 0, all[:400]), runOf(t, 0, all[400:])
	for _, op := range []string{results.OpBookBooked, results.OpBookRefused} {
		delete(a.Designs[0].LatencyMs, op)
		delete(a.Designs[0].Histograms, op)
		delete(a.Designs[0].Intervals, op)
	}
	m, err := results.Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{results.OpBookBooked, results.OpBookRefused} {
		if _, ok := m.Designs[0].LatencyMs[op]; ok {
			t.Errorf("merged result has %s from one part only", op)
		}
	}
	full, err := results.Merge(runOf(t, 0, all[:400]), b)
	if err != nil {
		t.Fatal(err)
	}
	if full.Designs[0].LatencyMs[results.OpBookBooked].Count == 0 {
		t.Error("merge of two split parts lost the split")
	}
}
