package scenarios

import (
	"math"
	"strings"
	"testing"
)

// TestPPVWeightCombinesPopularityAndSkew checks the rule: a PPV's weight
// is its popularity, else the Zipf weight of its place in the list; a
// PPV without popularity never gets 0, and only a popularity written as
// 0 gives 0.
func TestPPVWeightCombinesPopularityAndSkew(t *testing.T) {
	t.Parallel()
	z := func(k int, skew float64) float64 { return math.Pow(float64(k), -skew) }
	tests := []struct {
		name string
		yaml string // the ppvs and preferences
		want []float64
	}{
		{"no popularity, uniform", "ppvs: [{id: a, state: x}, {id: b, state: x}, {id: c, state: x}]", []float64{1, 1, 1}},
		{"no popularity, skew", "ppvs: [{id: a, state: x}, {id: b, state: x}, {id: c, state: x}]\npreferences: {hot_skew: 1.2}",
			[]float64{1, z(2, 1.2), z(3, 1.2)}},
		{"some popularity, uniform", "ppvs: [{id: a, state: x, popularity: 5}, {id: b, state: x}, {id: c, state: x}]", []float64{5, 1, 1}},
		{"some popularity, skew", "ppvs: [{id: a, state: x}, {id: b, state: x, popularity: 0.25}, {id: c, state: x}]\npreferences: {hot_skew: 1}",
			[]float64{1, 0.25, z(3, 1)}},
		{"all popularity, skew ignored", "ppvs: [{id: a, state: x, popularity: 1}, {id: b, state: x, popularity: 2}]\npreferences: {hot_skew: 2}", []float64{1, 2}},
		{"popularity written 0", "ppvs: [{id: a, state: x, popularity: 0}, {id: b, state: x}]", []float64{0, 1}},
		{"popularity null is unset", "ppvs: [{id: a, state: x, popularity: null}, {id: b, state: x, popularity: 2}]", []float64{1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := "crowd: {size: 1000}\ninventory:\n  daily_capacity: 10\n  " + tt.yaml
			s, err := Parse("w.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if got := s.PPVWeight(k); math.Abs(got-want) > 1e-12 {
					t.Errorf("PPVWeight(%d) = %v; want %v", k, got, want)
				}
				if got := s.PPVWeight(k); got == 0 && !s.zeros.hasPPV(k, "popularity") {
					t.Errorf("PPVWeight(%d) = 0 for a PPV without popularity 0", k)
				}
			}
			// The crowd follows the weights: every PPV with a weight is
			// someone's first choice.
			first := map[string]int{}
			for _, a := range s.Arrivals(1) {
				first[a.PPVs[0]]++
			}
			for k, p := range s.Inventory.PPVs {
				if (first[p.ID] > 0) != (tt.want[k] > 0) {
					t.Errorf("%s (weight %v) is the first choice of %d of 1000", p.ID, tt.want[k], first[p.ID])
				}
			}
		})
	}
	if got := (&Scenario{}).PPVWeight(0); got != 0 {
		t.Errorf("PPVWeight of a missing PPV = %v; want 0", got)
	}
}

func TestAllPopularityZeroIsInvalid(t *testing.T) {
	t.Parallel()
	_, err := Parse("z.yaml", []byte("crowd: {size: 10}\ninventory:\n  daily_capacity: 1\n  ppvs:\n    - {id: a, state: x, popularity: 0}\n    - {id: b, state: x, popularity: 0}\n"))
	if err == nil || !strings.Contains(err.Error(), "z.yaml:4:3: inventory.ppvs: every PPV has popularity 0") {
		t.Errorf("Parse = %v; want every PPV has popularity 0 at the ppvs", err)
	}
}

// TestWarnings checks each override warning, where Parse places it, and
// that valid settings that override nothing say nothing.
func TestWarnings(t *testing.T) {
	t.Parallel()
	const base = "crowd: {size: 10}\ninventory:\n  daily_capacity: 1\n  ppvs:\n    - {id: a, state: x}\n    - {id: b, state: x, popularity: %s}\n"
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"nothing", "crowd: {size: 10}\ninventory: {daily_capacity: 1, states: [x]}\npreferences: {hot_skew: 1, same_state: true}\njourney: {alternatives: 1}\n", nil},
		{"popularity without skew", strings.Replace(base, "%s", "2", 1), nil},
		{"popularity overrides skew for some", strings.Replace(base, "%s", "2", 1) + "preferences: {hot_skew: 1.2}\n",
			[]string{"w.yaml:7:25: preferences.hot_skew: weighs only the 1 PPVs without a popularity; the popularity of b replaces its Zipf weight"}},
		{"popularity overrides skew for all", "crowd: {size: 10}\ninventory:\n  daily_capacity: 1\n  ppvs: [{id: a, state: x, popularity: 1}]\npreferences: {hot_skew: 1.2}\n",
			[]string{"w.yaml:5:25: preferences.hot_skew: is ignored: every PPV sets its popularity"}},
		{"popularity 0", strings.Replace(base, "%s", "0", 1),
			[]string{"w.yaml:6:37: inventory.ppvs[1].popularity: is 0: nobody chooses b first"}},
		{"same_state without alternatives", "crowd: {size: 10}\ninventory: {daily_capacity: 1, states: [x]}\npreferences: {same_state: true}\n",
			[]string{"w.yaml:3:27: preferences.same_state: has no effect: journey.alternatives is 0"}},
		{"room without a design", "crowd: {size: 10}\ninventory: {daily_capacity: 1, states: [x]}\nwaiting_room: {admit_per_interval: 5}\n",
			[]string{"w.yaml:3:1: waiting_room: no design uses the waiting room"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse("w.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			got := s.FileWarnings()
			if len(got) != len(tt.want) || len(s.Warnings()) != len(tt.want) {
				t.Fatalf("FileWarnings() = %v (Warnings() %v); want %d: %q", got, s.Warnings(), len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i].Error(), w) {
					t.Errorf("warning %d = %q; want it to start %q", i, got[i].Error(), w)
				}
			}
		})
	}
}

// TestPresetsWarnNothing checks that no preset has a setting another
// overrides.
func TestPresetsWarnNothing(t *testing.T) {
	t.Parallel()
	for _, name := range Presets() {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if w := s.FileWarnings(); len(w) > 0 {
			t.Errorf("preset %s warns: %v", name, w)
		}
	}
}
