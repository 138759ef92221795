package scenarios_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/scenarios"
)

// crowdOf loads preset name and generates its crowd from seed.
func crowdOf(t *testing.T, name string, seed int64) []scenarios.Arrival {
	t.Helper()
	s, err := scenarios.Load(name)
	if err != nil {
		t.Fatalf("Load(%q): %v", name, err)
	}
	crowd := s.Arrivals(seed)
	if len(crowd) == 0 {
		t.Fatalf("Load(%q).Arrivals(%d): empty crowd", name, seed)
	}
	return crowd
}

func firstChoice(a scenarios.Arrival) string {
	if len(a.PPVs) > 0 {
		return a.PPVs[0]
	}
	return a.State
}

// spread returns max - min of the counts of n segments.
func spread(counts []int) int {
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	return hi - lo
}

// TestSegmentPartitionsCrowd checks, over presets and segment counts, that
// the segments together are exactly the crowd (each person once, unchanged,
// in crowd order within a segment) and that each centre's and each
// second's arrivals are spread evenly.
func TestSegmentPartitionsCrowd(t *testing.T) {
	t.Parallel()
	for _, preset := range []string{"ci-smoke", "demo", "refresh-storm", "cyprus-2021-04-07"} {
		crowd := crowdOf(t, preset, 7)
		centres := map[string]bool{}
		for _, a := range crowd {
			centres[firstChoice(a)] = true
		}
		for _, n := range []int{1, 2, 3, 4, 7} {
			t.Run(fmt.Sprintf("%s/%d", preset, n), func(t *testing.T) {
				t.Parallel()
				checkSegments(t, crowd, n, len(centres))
			})
		}
	}
}

func checkSegments(t *testing.T, crowd []scenarios.Arrival, n, centres int) {
	t.Helper()
	type group struct {
		centre string
		sec    time.Duration
	}
	seen := make([]int, len(crowd)) // segment+1 of each person, by Index
	totals := make([]int, n)
	byGroup := map[group][]int{}
	bySecond := map[time.Duration][]int{}
	count := func(m map[group][]int, k group, s int) {
		if m[k] == nil {
			m[k] = make([]int, n)
		}
		m[k][s]++
	}
	for i := 1; i <= n; i++ {
		seg, err := scenarios.Segment(crowd, i, n)
		if err != nil {
			t.Fatalf("Segment(%d, %d): %v", i, n, err)
		}
		totals[i-1] = len(seg)
		for k, a := range seg {
			if k > 0 && (a.Index <= seg[k-1].Index || a.At < seg[k-1].At) {
				t.Fatalf("segment %d/%d: person %d after %d: want crowd order", i, n, a.Index, seg[k-1].Index)
			}
			if seen[a.Index] != 0 {
				t.Fatalf("person %d in segments %d and %d", a.Index, seen[a.Index], i)
			}
			seen[a.Index] = i
			if want := crowd[a.Index]; a.PersonID != want.PersonID || a.At != want.At || a.Seed != want.Seed ||
				strings.Join(a.PPVs, ",") != strings.Join(want.PPVs, ",") || a.Behaviour != want.Behaviour || a.WantsEarliest != want.WantsEarliest {
				t.Fatalf("segment %d/%d: person %d = %+v; want %+v", i, n, a.Index, a, want)
			}
			sec := a.At.Truncate(time.Second)
			count(byGroup, group{firstChoice(a), sec}, i-1)
			count(byGroup, group{centre: "*" + firstChoice(a)}, i-1) // the centre alone
			if bySecond[sec] == nil {
				bySecond[sec] = make([]int, n)
			}
			bySecond[sec][i-1]++
		}
	}
	for idx, s := range seen {
		if s == 0 {
			t.Fatalf("person %d in no segment of %d", idx, n)
		}
	}
	if got := spread(totals); got > centres {
		t.Errorf("segment totals %v differ by %d; want at most %d (the centres)", totals, got, centres)
	}
	for g, c := range byGroup {
		if got := spread(c); got > 1 {
			t.Errorf("group %v: counts %v differ by %d; want at most 1", g, c, got)
		}
	}
	for sec, c := range bySecond {
		if got := spread(c); got > centres {
			t.Errorf("second %v: counts %v differ by %d; want at most %d", sec, c, got, centres)
		}
	}
}

func TestSegmentErrors(t *testing.T) {
	t.Parallel()
	crowd := crowdOf(t, "ci-smoke", 1)
	for _, tc := range []struct {
		i, n int
		want string
	}{
		{1, 0, "at least 1 segment"},
		{1, -2, "at least 1 segment"},
		{0, 3, "from 1 to 3"},
		{4, 3, "from 1 to 3"},
		{-1, 3, "from 1 to 3"},
	} {
		_, err := scenarios.Segment(crowd, tc.i, tc.n)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Segment(crowd, %d, %d) = %v; want an error containing %q", tc.i, tc.n, err, tc.want)
		}
	}
}

// TestSegmentDeterministic checks that two generations of one crowd give
// the same segments, and that the first person of each group is not
// always the first segment's.
func TestSegmentDeterministic(t *testing.T) {
	t.Parallel()
	a, b := crowdOf(t, "demo", 42), crowdOf(t, "demo", 42)
	firsts := map[int]int{}
	for i := 1; i <= 3; i++ {
		sa, _ := scenarios.Segment(a, i, 3)
		sb, _ := scenarios.Segment(b, i, 3)
		if len(sa) != len(sb) {
			t.Fatalf("segment %d/3: %d then %d people", i, len(sa), len(sb))
		}
		for k := range sa {
			if sa[k].Index != sb[k].Index {
				t.Fatalf("segment %d/3 person %d: index %d then %d", i, k, sa[k].Index, sb[k].Index)
			}
		}
		first := map[string]bool{}
		for _, p := range sa {
			if c := firstChoice(p); !first[c] {
				first[c] = true
				firsts[i]++
			}
		}
	}
	if firsts[1] == 0 || firsts[2] == 0 {
		t.Errorf("first people per segment %v: want every segment to receive some centres' first person", firsts)
	}
}

func TestCrowdHash(t *testing.T) {
	t.Parallel()
	a, b := crowdOf(t, "ci-smoke", 3), crowdOf(t, "ci-smoke", 3)
	other := crowdOf(t, "ci-smoke", 4)
	ha := scenarios.CrowdHash(a)
	if !strings.HasPrefix(ha, "sha256:") || len(ha) != len("sha256:")+64 {
		t.Fatalf("CrowdHash = %q; want sha256: and 64 hex digits", ha)
	}
	if hb := scenarios.CrowdHash(b); hb != ha {
		t.Errorf("CrowdHash of the same crowd = %s then %s", ha, hb)
	}
	if ho := scenarios.CrowdHash(other); ho == ha {
		t.Errorf("CrowdHash of seeds 3 and 4 = %s both; want different", ha)
	}
	b[10].At++
	if hb := scenarios.CrowdHash(b); hb == ha {
		t.Errorf("CrowdHash ignores an arrival time")
	}
}
