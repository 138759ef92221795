package scenarios

import (
	"errors"
	"reflect"
	"testing"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
)

func design(t *testing.T, name string) models.Design {
	t.Helper()
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHottestPartition checks the rule by hand on a crowd of four: an
// earliest-date arrival counts whole for its first PPV's first date, the
// others 1/days for each date; ties go to the smallest key.
func TestHottestPartition(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte("inventory:\n  days: 2\n  daily_capacity: 10\n  ppvs: [{id: a, state: x}, {id: b, state: x}]\ncrowd: {size: 10}\n"))
	if err != nil {
		t.Fatal(err)
	}
	crowd := []Arrival{
		{PPVs: []string{"a", "b"}, WantsEarliest: true}, // a 7 June: 1
		{PPVs: []string{"b", "a"}},                      // b 7 and 8 June: 1/2 each
		{PPVs: []string{"b"}},                           // b 7 and 8 June: 1/2 each
		{},                                              // no preference: not counted
	}
	for _, tt := range []struct {
		design string
		crowd  []Arrival
		want   models.PartitionKey
	}{
		{"per-ppv-day", crowd, "ppv-a-2021-06-07"}, // a-7: 1, b-7: 1, b-8: 1
		{"per-ppv-day", crowd[1:], "ppv-b-2021-06-07"},
		{"per-ppv-day", append([]Arrival{{PPVs: []string{"b"}, WantsEarliest: false}}, crowd...), "ppv-b-2021-06-07"},
		{"per-ppv", crowd, "ppv-b"},
		{"per-ppv", crowd[:1], "ppv-a"},
		{"monolithic", crowd, "all"},
		{"per-ppv-day", nil, "ppv-a-2021-06-07"}, // nobody: the smallest key
	} {
		if got := s.HottestPartition(design(t, tt.design), tt.crowd); got != tt.want {
			t.Errorf("HottestPartition(%s, %d arrivals) = %s; want %s", tt.design, len(tt.crowd), got, tt.want)
		}
	}
}

// TestHottestPartitionDemo: in the demo crowd the first centre (Zipf 1.2:
// ~43% of first choices) on its first day (84% want the earliest) is the
// hottest centre-day.
func TestHottestPartitionDemo(t *testing.T) {
	t.Parallel()
	s, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	crowd := s.Arrivals(s.Seed)
	for name, want := range map[string]models.PartitionKey{
		"per-ppv-day": "ppv-wtc-kl-2021-06-07", "per-ppv": "ppv-wtc-kl", "monolithic": "all",
	} {
		if got := s.HottestPartition(design(t, name), crowd); got != want {
			t.Errorf("HottestPartition(%s) = %s; want %s", name, got, want)
		}
	}
}

// TestPartitionOutagePreset: the preset's fault takes the hottest
// partition down over the peak of arrivals, while users still arrive.
func TestPartitionOutagePreset(t *testing.T) {
	t.Parallel()
	s, err := Load("partition-outage")
	if err != nil {
		t.Fatal(err)
	}
	specs, err := s.FaultSpecs()
	if err != nil || len(specs) != 1 {
		t.Fatalf("FaultSpecs() = %v, %v; want one fault", specs, err)
	}
	f := specs[0]
	peak := s.Crowd.Arrival.RampUp // a spike peaks at the end of its ramp
	start, end := f.Window()
	if f.Partition != fault.Hottest || f.Mode != fault.Down || !f.Active(peak-s.Crowd.OpeningDelay) || end > s.ArrivalWindow() {
		t.Errorf("fault %v (window %v to %v): want the hottest partition down over the peak at %v, ended before the last arrival at %v", f, start, end, peak, s.ArrivalWindow())
	}
	demo, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Crowd, demo.Crowd) || !reflect.DeepEqual(s.Designs, demo.Designs) || s.Inventory.Days != demo.Inventory.Days || len(s.Designs) != len(demo.Designs) {
		t.Error("partition-outage: want the demo's crowd, inventory and designs")
	}
}

func TestFaultSpecs(t *testing.T) {
	t.Parallel()
	s := &Scenario{Faults: []string{"partition=all,down,for=1s", "partition=all,dwn,for=1s"}}
	var pe *fault.ParseError
	if _, err := s.FaultSpecs(); !errors.As(err, &pe) || err.Error() != `faults[1]: "partition=all,dwn,for=1s": column 15: unknown term "dwn": want down, slow=DURATION or errors=PERCENT` {
		t.Errorf("FaultSpecs() = %v; want the second fault's ParseError", err)
	}
	s.Faults = s.Faults[:1]
	if specs, err := s.FaultSpecs(); err != nil || len(specs) != 1 || specs[0].Partition != "all" {
		t.Errorf("FaultSpecs() = %v, %v", specs, err)
	}
}
