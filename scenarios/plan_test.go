package scenarios

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

// TestPlanGolden plans every preset and every scenario under
// testdata/plan/ and compares the plan, as indented JSON, with
// testdata/plan/NAME.golden. Regenerate with:
// go test ./scenarios -run PlanGolden -update
func TestPlanGolden(t *testing.T) {
	t.Parallel()
	refs := Presets()
	files, err := filepath.Glob("testdata/plan/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/plan: %v", err)
	}
	refs = append(refs, files...)
	for _, ref := range refs {
		name := strings.TrimSuffix(filepath.Base(ref), ".yaml")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(ref)
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Plan(1)
			if err != nil {
				t.Fatalf("Plan(1) = %v", err)
			}
			got, err := json.MarshalIndent(p, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", "plan", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if string(got) != string(want) {
				t.Errorf("Plan of %s =\n%s\nwant (%s)\n%s", ref, got, golden, want)
			}
		})
	}
}

// TestPlanWarnings checks which warnings each scenario under
// testdata/plan/ and each preset gets: every warning code is triggered by
// a small scenario, and nothing else warns.
func TestPlanWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref  string
		want []string
	}{
		{"testdata/plan/zero_demand.yaml", []string{WarnZeroDemand}},
		{"testdata/plan/zero_demand_chance.yaml", []string{WarnZeroDemand}},
		{"testdata/plan/duration_short.yaml", []string{WarnDurationShort}},
		{"testdata/plan/room_too_slow.yaml", []string{WarnRoomTooSlow}},
		{"testdata/plan/room_past_end.yaml", []string{WarnDurationShort, WarnRoomPastEnd}},
		{"ci-smoke", nil},
		{"demo", nil},
		{"partition-outage", nil},
		{"refresh-storm", []string{WarnRoomRefuses}}, // max_wait 15s turns away whoever would wait past patience
		{"cyprus-2021-04-07", nil},
		{"klang-valley-2021-05-02", []string{WarnDurationShort}},
		{"jkjav-az-2021-05-26", []string{WarnDurationShort}},
		{"cowin-2021-04-28", nil},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		s, err := Load(tt.ref)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Plan(1)
		if err != nil {
			t.Fatalf("Plan(%s) = %v", tt.ref, err)
		}
		var got []string
		for _, w := range p.Warnings {
			got = append(got, w.Code)
			covered[w.Code] = true
			if w.Message == "" || strings.Contains(w.Message, "e+") || strings.Contains(w.Message, "000000") {
				t.Errorf("Plan(%s) warning %s: message %q; want rounded figures", tt.ref, w.Code, w.Message)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Plan(%s) warnings = %v; want %v", tt.ref, got, tt.want)
		}
	}
	for _, code := range []string{WarnDurationShort, WarnZeroDemand, WarnRoomTooSlow, WarnRoomRefuses, WarnRoomPastEnd} {
		if !covered[code] {
			t.Errorf("no test scenario triggers warning %s", code)
		}
	}
	if n := len(Presets()); n != 8 {
		t.Errorf("%d presets; add the new ones to this table", n)
	}
}

// TestPlanHottestIsTheCrowds checks that each design's hottest partition
// and its share are those of the crowd Arrivals builds, as
// HottestPartition counts them.
func TestPlanHottestIsTheCrowds(t *testing.T) {
	t.Parallel()
	for _, name := range Presets() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			scale := min(1, 20000/float64(s.Crowd.Size))
			p, err := s.Plan(scale)
			if err != nil {
				t.Fatal(err)
			}
			sc := s
			if scale != 1 {
				sc = s.Scaled(scale)
			}
			crowd := sc.Arrivals(sc.Seed)
			designs, err := sc.BuildDesigns(nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := range designs {
				want := sc.HottestPartition(d, crowd)
				if got := p.Designs[i].Hottest; got != want {
					t.Errorf("design %s: Plan hottest = %s; HottestPartition = %s", d.Name, got, want)
				}
				first := 0
				for _, a := range crowd {
					if len(a.PPVs) > 0 && "ppv-"+a.PPVs[0] == string(p.Designs[i].Hottest) {
						first++
					}
				}
				if d.Scheme == models.PerPPV && math.Abs(p.Designs[i].HottestShare-float64(first)/float64(len(crowd))) > 1e-3 {
					t.Errorf("design %s: share %v; the crowd's first choices give %d/%d", d.Name, p.Designs[i].HottestShare, first, len(crowd))
				}
			}
		})
	}
}

func TestPlanScale(t *testing.T) {
	t.Parallel()
	s, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	one, err := s.Plan(1)
	if err != nil {
		t.Fatal(err)
	}
	two, err := s.Plan(2)
	if err != nil {
		t.Fatal(err)
	}
	if two.People != 2*one.People || two.Places != 2*one.Places || two.PeakArrivalRate != sig4(2*one.PeakArrivalRate) {
		t.Errorf("Plan(2) = %d people, %d places, %v/s; want twice Plan(1)'s %d, %d, %v/s",
			two.People, two.Places, two.PeakArrivalRate, one.People, one.Places, one.PeakArrivalRate)
	}
	if two.Designs[0].WriteRate != one.Designs[0].WriteRate || two.Scale != 2 {
		t.Errorf("Plan(2) scaled the limits or forgot the scale: %+v", two.Designs[0])
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1), 1e9} {
		if p, err := s.Plan(bad); err == nil || p != nil {
			t.Errorf("Plan(%v) = %v, %v; want an error", bad, p, err)
		}
	}
	bad := *s
	bad.Crowd.Size = 0
	if _, err := bad.Plan(1); err == nil || !strings.Contains(err.Error(), "crowd.size") {
		t.Errorf("Plan of an invalid scenario: %v; want its problem", err)
	}
}

func TestSecondsString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1500 * time.Microsecond, "1.5ms"},
		{20 * time.Second, "20s"},
		{19*time.Second + 987654321*time.Nanosecond, "19.99s"},
		{90 * time.Minute, "1h30m"},
		{5*time.Hour + 48*time.Minute + 19234*time.Millisecond, "5h48m19.2s"},
	}
	var x Seconds
	if err := x.UnmarshalJSON([]byte(`"1s"`)); err == nil {
		t.Errorf(`UnmarshalJSON("1s") = nil; want an error`)
	}
	for _, tt := range tests {
		if got := Seconds(tt.d).String(); got != tt.want {
			t.Errorf("Seconds(%v).String() = %q; want %q", tt.d, got, tt.want)
		}
		b, err := Seconds(tt.d).MarshalJSON()
		var back Seconds
		if err == nil {
			err = back.UnmarshalJSON(b)
		}
		if err != nil || math.Abs(float64(back)-float64(tt.d)) > 1e-3*float64(tt.d) {
			t.Errorf("Seconds(%v) to JSON %s and back = %v, %v; want it to 4 digits", tt.d, b, time.Duration(back), err)
		}
	}
}
