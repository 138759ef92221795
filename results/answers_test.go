package results

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

// design returns a consistent design result with the given requests by
// status and transport errors, nobody booked.
func design(byStatus map[string]int64, transport int64) DesignResult {
	d := DesignResult{Design: "acme", Requests: Requests{ByStatus: byStatus, TransportErrors: transport}}
	d.Requests.Total = transport
	for _, n := range byStatus {
		d.Requests.Total += n
	}
	return d
}

// withUnexpected records answers outside the API as the recorder does.
func withUnexpected(d DesignResult, by map[string]int64) DesignResult {
	d.Requests.UnexpectedByAnswer = by
	for _, n := range by {
		d.Requests.Unexpected += n
	}
	return d
}

func TestCheckBookedBeyondCapacity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		slots Slots
		want  string // "" for no error
	}{
		{"within capacity", Slots{Capacity: 300, Booked: 300}, ""},
		{"oversold recorded", Slots{Capacity: 300, Booked: 400, Oversold: 100}, ""},
		{"more oversold than the excess (per slot)", Slots{Capacity: 300, Booked: 300, Oversold: 7}, ""},
		{"oversold hidden", Slots{Capacity: 300, Booked: 400}, "design acme: booked 400 > capacity 300 + oversold 0"},
		{"oversold short", Slots{Capacity: 300, Booked: 400, Oversold: 99}, "booked 400 > capacity 300 + oversold 99"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &Result{Format: FormatVersion, Engine: EngineLive, Designs: []DesignResult{{Design: "acme", Slots: tt.slots}}}
			errs := r.Check()
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("Check() = %v; want none", errs)
			case tt.want != "" && (len(errs) != 1 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("Check() = %v; want one error with %q", errs, tt.want)
			}
		})
	}
}

func TestCheckUnexpected(t *testing.T) {
	t.Parallel()
	ok := withUnexpected(design(map[string]int64{"404": 40, "200": 10}, 0), map[string]int64{"404 not_found": 40, "200 unreadable": 2})
	tests := []struct {
		name   string
		change func(*DesignResult)
		want   string
	}{
		{"consistent", func(*DesignResult) {}, ""},
		{"breakdown does not sum", func(d *DesignResult) { d.Requests.Unexpected = 41 }, "unexpected_by_answer sums to 42; unexpected = 41"},
		{"more than requests", func(d *DesignResult) {
			d.Requests.Unexpected, d.Requests.UnexpectedByAnswer = 51, map[string]int64{"404 not_found": 51}
		}, "unexpected 51: want 0 to total 50"},
		{"bad key", func(d *DesignResult) {
			d.Requests.UnexpectedByAnswer = map[string]int64{"not_found": 40, "200 unreadable": 2}
		}, `unexpected_by_answer "not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := ok
			d.Requests.UnexpectedByAnswer = map[string]int64{}
			for k, v := range ok.Requests.UnexpectedByAnswer {
				d.Requests.UnexpectedByAnswer[k] = v
			}
			tt.change(&d)
			r := &Result{Format: FormatVersion, Engine: EngineLive, Designs: []DesignResult{d}}
			errs := r.Check()
			switch {
			case tt.want == "" && len(errs) > 0:
				t.Errorf("Check() = %v; want none", errs)
			case tt.want != "" && (len(errs) == 0 || !strings.Contains(errs[0].Error(), tt.want)):
				t.Errorf("Check() = %v; want an error with %q", errs, tt.want)
			}
		})
	}
}

func TestErrorRate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		d    DesignResult
		want float64
	}{
		{"nothing", design(nil, 0), 0},
		{"409 is no error", design(map[string]int64{"200": 50, "409": 50}, 0), 0},
		{"429, 5xx, timeouts", design(map[string]int64{"200": 70, "429": 10, "503": 10, "500": 5}, 5), 0.3},
		// The room's 403s, and 404s and 400s, by API v1's rules: results
		// written before answers outside the API were counted.
		{"403 of a waiting room (old result)", design(map[string]int64{"200": 90, "403": 10}, 0), 0.1},
		{"404 and 400 (old result)", design(map[string]int64{"404": 30, "400": 10, "200": 60}, 0), 0.4},
		{"recorded: 404s and an unreadable 200", withUnexpected(design(map[string]int64{"404": 30, "200": 70}, 0),
			map[string]int64{"404 not_found": 30, "200 unreadable": 20}), 0.5},
		{"closed port", design(nil, 400), 1},
		{"profile's 410 sold out is no error", func() DesignResult {
			d := design(map[string]int64{"201": 10, "410": 90}, 0)
			d.Target = &Target{Name: "acme", URL: "http://acme", Profile: "acme-v2"}
			return d
		}(), 0},
		{"profile's 404 recorded", func() DesignResult {
			d := withUnexpected(design(map[string]int64{"201": 10, "404": 90}, 0), map[string]int64{"404 not_found": 90})
			d.Target = &Target{Name: "acme", URL: "http://acme", Profile: "acme-v2"}
			return d
		}(), 0.9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.d.ErrorRate(); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("ErrorRate() = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestUnexpectedAnswers(t *testing.T) {
	t.Parallel()
	old := design(map[string]int64{"200": 5, "403": 2, "404": 7, "413": 1, "418": 1, "409": 3, "301": 1}, 0)
	n, by := old.UnexpectedAnswers()
	want := []AnswerCount{{404, AnswerNotFound, 7}, {403, AnswerNotAdmitted, 2}, {301, AnswerUnexpected, 1}, {413, AnswerRejected, 1}, {418, AnswerUnexpected, 1}}
	if n != 12 || !reflect.DeepEqual(by, want) {
		t.Errorf("UnexpectedAnswers(old v1 result) = %d, %v; want 12, %v", n, by, want)
	}
	rec := withUnexpected(design(map[string]int64{"200": 9}, 0), map[string]int64{"200 unreadable": 4})
	n, by = rec.UnexpectedAnswers()
	if want := []AnswerCount{{200, AnswerUnreadable, 4}}; n != 4 || !reflect.DeepEqual(by, want) {
		t.Errorf("UnexpectedAnswers(recorded) = %d, %v; want 4, %v", n, by, want)
	}
}

func TestUnusable(t *testing.T) {
	t.Parallel()
	tl := func(d DesignResult, p TimelinePoint) DesignResult { d.Timeline = []TimelinePoint{p}; return d }
	booked := func(d DesignResult, n int64) DesignResult {
		d.Users.Booked, d.Slots.Booked = n, n
		return d
	}
	tests := []struct {
		name string
		d    DesignResult
		want string // "" for usable
	}{
		{"closed port", design(nil, 1200), "acme: nobody could book: of 1200 requests, 1200 got no answer (a timeout or a connection error)"},
		{"wrong path", withUnexpected(design(map[string]int64{"404": 400}, 0), map[string]int64{"404 not_found": 400}),
			"acme: nobody could book: of 400 requests, 400 were answered 404 (not_found)"},
		{"wrong path, old result", design(map[string]int64{"404": 400}, 0), "400 were answered 404 (not_found)"},
		{"HTML pages", func() DesignResult {
			d := withUnexpected(design(map[string]int64{"200": 800}, 3), map[string]int64{"200 unreadable": 400})
			d.Users.Booked = 400 // the journeys took the pages for bookings; no id came back
			return d
		}(), "400 were answered 200 with a body that could not be read (unreadable), 3 got no answer"},
		{"credentials wanted", design(map[string]int64{"403": 400}, 0), "400 were answered 403 (not_admitted)"},
		{"sold out seen", design(map[string]int64{"404": 300, "409": 100}, 0), ""},
		{"sold out seen through a profile", tl(withUnexpected(design(map[string]int64{"404": 300, "410": 100}, 0),
			map[string]int64{"404 not_found": 300}), TimelinePoint{Conflict: 100}), ""},
		{"overloaded, timeouts", design(map[string]int64{"503": 300}, 100), ""},
		{"throttled, timeouts", design(map[string]int64{"429": 300}, 100), ""},
		{"some booked", booked(design(map[string]int64{"201": 1, "404": 300}, 0), 1), ""},
		{"no errors", design(map[string]int64{"200": 300}, 0), ""},
		{"nothing sent", design(nil, 0), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bad, why := tt.d.Unusable()
			if bad != (tt.want != "") || !strings.Contains(why, tt.want) || (!bad && why != "") {
				t.Errorf("Unusable() = %v, %q; want %v, %q", bad, why, tt.want != "", tt.want)
			}
		})
	}
}
