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
	for _, want := range []string{"ci-smoke", "cyprus-2021-04-07", "demo", "jkjav-az-2021-05-26", "klang-valley-2021-05-02", "partition-outage", "refresh-storm"} {
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
	for _, name := range []string{"demo", "partition-outage", "refresh-storm"} {
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
		{"jkjav-az-2021-05-26", 956_760, 8}, // the 956,609 first-dose places left on 26 May, rounded up per PPV-day
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

// TestRoomSizing checks the room-sizing estimate against figures worked out
// by hand for refresh-storm: the room admits 30 every 250 ms = 120/s; WTC KL
// is wanted first by 1/H(8, 1.2) = 42.9% (Zipf 1.2 over 8 PPVs) and the
// first date by 0.8 + 0.2/5 = 84%, so its first centre-day gets 120 x 0.429
// x 0.84 = 43.2 attempts/s, 72% of its 60/s; 40 partitions x 60/s = 2,400/s,
// of which 120/s is 5%.
func TestRoomSizing(t *testing.T) {
	t.Parallel()
	s, err := Load("refresh-storm")
	if err != nil {
		t.Fatal(err)
	}
	lim := s.Designs[0].Limits
	for _, tt := range []struct{ design, want string }{
		{"per-ppv-day+waiting-room", "admits 120 people/s; the hottest partition (wtc-kl, first date) gets about 43.2 booking attempts/s from them, 72% of its write rate 60/s; all 40 partitions take 2,400 bookings/s, 5% of which the room fills (estimate from first choices, before retries)"},
		{"per-ppv+waiting-room", "admits 120 people/s; the hottest partition (wtc-kl) gets about 51.4 booking attempts/s from them, 86% of its write rate 60/s; all 8 partitions take 480 bookings/s, 25% of which the room fills (estimate from first choices, before retries)"},
		{"monolithic+waiting-room", "admits 120 people/s; the one partition gets about 120 booking attempts/s from them, 200% of its write rate 60/s (estimate from first choices, before retries)"},
		{"per-ppv-day", ""}, // no room
	} {
		if got := s.roomSizing(tt.design, lim); got != tt.want {
			t.Errorf("roomSizing(%s) =\n  %q\nwant\n  %q", tt.design, got, tt.want)
		}
	}
	capOnly := *s
	capOnly.WaitingRoom.AdmitPerInterval = 0
	if got := capOnly.roomSizing("per-ppv-day+waiting-room", lim); got != "" {
		t.Errorf("room admitting by cap only: roomSizing = %q; want none", got)
	}
	found := false
	for _, kv := range s.Parameters() {
		found = found || kv[0] == "room sizing, per-ppv-day+waiting-room"
	}
	if !found {
		t.Errorf("Parameters() has no room sizing row: %v", s.Parameters())
	}
}
