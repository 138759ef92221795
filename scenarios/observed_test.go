package scenarios

import (
	"reflect"
	"testing"
	"time"
)

// TestObservedMessages: every bad observed milestone is named at its
// file:line:col with what to write instead.
func TestObservedMessages(t *testing.T) {
	t.Parallel()
	// base has 400 users and 10 places.
	checkMessages(t, []messageCase{
		{"valid", base + "observed:\n  - {at: 1m, places_booked: 10, source: x.org}\n  - {at: 2m, people_booked: 10, source: y}\n", "ok"},
		{"no time", base + "observed: [{places_booked: 5, source: x}]\n",
			`t.yaml:3:13: observed[0].at: required: when the record was made, from t=0 (the announced opening), such as "55m"`},
		{"negative time", base + "observed: [{at: -1m, places_booked: 5, source: x}]\n",
			"t.yaml:3:17: observed[0].at: must be after t=0 (the announced opening), got -1m0s"},
		{"a bare number", base + "observed: [{at: 55, places_booked: 5, source: x}]\n",
			`t.yaml:3:17: observed[0].at: want a duration such as "30s" or "1m30s", got integer 55`},
		{"no count", base + "observed: [{at: 1m, source: x}]\n",
			"t.yaml:3:13: observed[0]: want places_booked or people_booked: the count the record gives at 1m"},
		{"both counts", base + "observed: [{at: 1m, places_booked: 5, people_booked: 5, source: x}]\n",
			"t.yaml:3:54: observed[0].people_booked: set places_booked or people_booked, not both: a milestone gives the one count its source gives"},
		{"negative count", base + "observed: [{at: 1m, places_booked: -5, source: x}]\n",
			"t.yaml:3:36: observed[0].places_booked: must be a count above 0, got -5"},
		{"a count as text", base + "observed: [{at: 1m, places_booked: lots, source: x}]\n",
			"t.yaml:3:36: observed[0].places_booked: want a whole number, got string \"lots\""},
		{"beyond the inventory", base + "observed: [{at: 1m, places_booked: 11, source: x}]\n",
			"t.yaml:3:36: observed[0].places_booked: 11 is more than the 10 places of the inventory: no design could book them"},
		{"beyond the crowd", base + "observed: [{at: 1m, people_booked: 401, source: x}]\n",
			"t.yaml:3:36: observed[0].people_booked: 401 is more than crowd.size (400): a person books once"},
		{"beyond 64 bits", base + "observed: [{at: 1m, places_booked: 100000000000000000000, source: x}]\n",
			"t.yaml:3:36: observed[0].places_booked: integer 100000000000000000000 out of range (max 1,000,000,000)"},
		{"no source", base + "observed: [{at: 1m, places_booked: 5}]\n",
			`t.yaml:3:13: observed[0].source: required: where the figure comes from, a URL or a citation such as "theborneopost.com 2021/05/26"`},
		{"blank source", base + "observed: [{at: 1m, places_booked: 5, source: \"  \"}]\n",
			`t.yaml:3:47: observed[0].source: required: where the figure comes from, a URL or a citation such as "theborneopost.com 2021/05/26"`},
		{"fewer later", base + "observed:\n  - {at: 2m, places_booked: 8, source: x}\n  - {at: 3m, places_booked: 5, source: y}\n",
			"t.yaml:5:29: observed[1].places_booked: 5 places booked at 3m is fewer than observed[0]'s 8 at 2m: bookings only grow"},
		{"fewer later, listed first", base + "observed:\n  - {at: 3m, places_booked: 5, source: y}\n  - {at: 2m, places_booked: 8, source: x}\n",
			"t.yaml:4:29: observed[0].places_booked: 5 places booked at 3m is fewer than observed[1]'s 8 at 2m: bookings only grow"},
		{"same time", base + "observed:\n  - {at: 2m, people_booked: 8, source: x}\n  - {at: 2m, people_booked: 9, source: y}\n",
			"t.yaml:5:10: observed[1].at: 2m repeats the time of observed[0], also of people booked: give one count a time"},
		{"people and places may differ", base + "observed:\n  - {at: 2m, people_booked: 9, source: x}\n  - {at: 3m, places_booked: 5, source: y}\n", "ok"},
		{"not a list", base + "observed: {at: 1m}\n", "t.yaml:3:12: observed: want a list, got a mapping"},
		{"unknown field", base + "observed: [{at: 1m, places: 5, source: x}]\n",
			"t.yaml:3:21: observed[0].places: unknown field (want one of at, places_booked, people_booked, source)"},
	})
}

// TestObservedWarning: a milestone after the run ends cannot be compared.
func TestObservedWarning(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte(base+"duration: 2m\nobserved: [{at: 3m, places_booked: 5, source: x}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "t.yaml:4:17: observed[0].at: 3m is after the run ends (duration 2m): no design can be compared with this milestone"
	if got := s.FileWarnings().Error(); got != want {
		t.Errorf("FileWarnings() =\n  %s\nwant\n  %s", got, want)
	}
}

// TestScaledObserved: --scale scales the record with the crowd and the
// places, never beyond what the scaled scenario holds.
func TestScaledObserved(t *testing.T) {
	t.Parallel()
	s, err := Parse("t.yaml", []byte(base+"observed:\n  - {at: 1m, places_booked: 10, source: x}\n  - {at: 2m, people_booked: 399, source: y}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		f    float64
		want []ObservedSpec
	}{
		{0.5, []ObservedSpec{{At: time.Minute, PlacesBooked: 5, Source: "x"}, {At: 2 * time.Minute, PeopleBooked: 200, Source: "y"}}},
		{2, []ObservedSpec{{At: time.Minute, PlacesBooked: 20, Source: "x"}, {At: 2 * time.Minute, PeopleBooked: 798, Source: "y"}}},
		{0.26, []ObservedSpec{{At: time.Minute, PlacesBooked: 3, Source: "x"}, {At: 2 * time.Minute, PeopleBooked: 104, Source: "y"}}},
	} {
		c := s.Scaled(tt.f)
		if !reflect.DeepEqual(c.Observed, tt.want) {
			t.Errorf("Scaled(%v).Observed = %+v; want %+v", tt.f, c.Observed, tt.want)
		}
		if errs := c.Validate(); len(errs) > 0 {
			t.Errorf("Scaled(%v).Validate() = %v", tt.f, errs)
		}
	}
	if s.Observed[0].PlacesBooked != 10 {
		t.Error("Scaled modified the scenario it scaled")
	}
}

// TestPresetsObserved: the two 2021 Malaysian rounds carry their record,
// each milestone within what the preset can book.
func TestPresetsObserved(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		want []ObservedSpec
	}{
		{"jkjav-az-2021-05-26", []ObservedSpec{{At: 56 * time.Minute, PlacesBooked: 300000}, {At: 87 * time.Minute, PlacesBooked: 956609}}},
		{"klang-valley-2021-05-02", []ObservedSpec{{At: 2*time.Hour + 5*time.Minute, PeopleBooked: 160000}, {At: 3*time.Hour + 19*time.Minute, PlacesBooked: 268800}}},
	} {
		s, err := Load(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]ObservedSpec, len(s.Observed))
		for i, o := range s.Observed {
			if o.Source == "" {
				t.Errorf("%s: observed[%d] has no source", tt.name, i)
			}
			o.Source = ""
			got[i] = o
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: observed = %+v; want %+v", tt.name, got, tt.want)
		}
		if s.Crowd.Size < s.TotalCapacity() && tt.name == "klang-valley-2021-05-02" {
			t.Errorf("%s: %d people cannot book %d places", tt.name, s.Crowd.Size, s.TotalCapacity())
		}
	}
}
