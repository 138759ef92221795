package scenarios

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
)

func TestPresets(t *testing.T) {
	t.Parallel()
	names := Presets()
	for _, want := range []string{"ci-smoke", "cyprus-2021-04-07", "demo", "jkjav-az-2021-05-26", "klang-valley-2021-05-02", "refresh-storm"} {
		if !slices.Contains(names, want) {
			t.Errorf("Presets() = %v; missing %q", names, want)
		}
	}
	if !slices.IsSorted(names) {
		t.Errorf("Presets() = %v; not sorted", names)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(name)
			if err != nil {
				t.Fatalf("Load(%q):\n%v", name, err)
			}
			if s.Name != name {
				t.Errorf("preset file %s.yaml is named %q", name, s.Name)
			}
			if s.Description == "" {
				t.Error("no description")
			}
			if errs := s.Validate(); errs != nil {
				t.Errorf("Validate() = %v", errs)
			}
			// Presets write every field they rely on; defaults only fill
			// what a preset leaves unset, never change what it set.
			data, _ := Preset(name)
			var raw Scenario
			if err := yaml.UnmarshalWithOptions(data, &raw, yaml.Strict()); err != nil {
				t.Fatal(err)
			}
			if raw.Duration != s.Duration || raw.Crowd.Size != s.Crowd.Size {
				t.Errorf("defaults changed duration or size")
			}
			inv := s.BuildInventory()
			if errs := inv.Validate(); errs != nil {
				t.Errorf("inventory: %v", errs)
			}
			if inv.TotalCapacity() != s.TotalCapacity() {
				t.Errorf("inventory capacity %d; TotalCapacity() %d", inv.TotalCapacity(), s.TotalCapacity())
			}
			if _, err := s.BuildDesigns(nil); err != nil {
				t.Error(err)
			}
			if len(s.Parameters()) < 15 {
				t.Errorf("Parameters() = %v; want the key facts", s.Parameters())
			}
		})
	}
}

// The live presets must fit a 2-core laptop and the figures the design
// brief gives them.
func TestPresetFigures(t *testing.T) {
	t.Parallel()
	load := func(name string) *Scenario {
		s, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, name := range []string{"demo", "refresh-storm"} {
		s := load(name)
		if peak := s.PeakRate(); peak > 1000 {
			t.Errorf("%s: peak %v users/s; a laptop run needs at most 1,000", name, peak)
		}
		if s.Duration > time.Minute {
			t.Errorf("%s: duration %v; want about 30-40 s per design", name, s.Duration)
		}
	}
	if s := load("ci-smoke"); s.Duration > 5*time.Second || s.Crowd.Size > 1000 {
		t.Errorf("ci-smoke: %v, %d users; want <= 5 s and a few hundred users", s.Duration, s.Crowd.Size)
	}
	for _, tt := range []struct {
		name     string
		capacity int
		ppvs     int
	}{
		{"jkjav-az-2021-05-26", 1_259_904, 8}, // 1.26M doses, 8 PPVs
		{"klang-valley-2021-05-02", 268_800, 4},
		{"cyprus-2021-04-07", 19_390, 10}, // 19,378 rounded up per centre-day
	} {
		s := load(tt.name)
		if got := s.TotalCapacity(); got != tt.capacity {
			t.Errorf("%s: capacity %d; want %d", tt.name, got, tt.capacity)
		}
		if got := s.NumPPVs(); got != tt.ppvs {
			t.Errorf("%s: %d PPVs; want %d", tt.name, got, tt.ppvs)
		}
	}
	if s := load("jkjav-az-2021-05-26"); s.Crowd.Size < 1_000_000 || s.Crowd.OpeningDelay != 15*time.Minute || s.Inventory.Days != 51 {
		t.Errorf("jkjav: size %d, delay %v, days %d", s.Crowd.Size, s.Crowd.OpeningDelay, s.Inventory.Days)
	}
}

func TestPresetUnknown(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", "nope", "../load.go", "presets/demo", "demo.yaml"} {
		if _, err := Preset(name); err == nil {
			t.Errorf("Preset(%q) succeeded", name)
		}
	}
	data, err := Preset("demo")
	if err != nil || !bytes.HasPrefix(data, []byte("# demo")) {
		t.Errorf("Preset(demo) = %.20q, %v", data, err)
	}
}
