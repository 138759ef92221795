package reports

import (
	"math"
	"slices"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// spearman returns Spearman's rho between earliness (index 0 earliest) and
// got, ties averaged: the definition the engines use, computed the long way.
func spearman(got []float64) float64 {
	n := len(got)
	rank := func(v []float64) []float64 {
		r := make([]float64, n)
		for i := range v {
			less, same := 0, 0
			for j := range v {
				switch {
				case v[j] < v[i]:
					less++
				case v[j] == v[i]:
					same++
				}
			}
			r[i] = float64(less) + float64(same+1)/2
		}
		return r
	}
	early := make([]float64, n)
	for i := range early {
		early[i] = float64(n - i)
	}
	x, y := rank(early), rank(got)
	var mx, my float64
	for i := range x {
		mx += x[i] / float64(n)
		my += y[i] / float64(n)
	}
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

func TestFairnessCeiling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ arrived, booked int64 }{
		{2, 1}, {10, 1}, {10, 5}, {100, 8}, {1000, 397}, {1000, 999},
	} {
		// Strictly first come, first served: the earliest booked.
		got := make([]float64, tt.arrived)
		for i := range tt.booked {
			got[i] = 1
		}
		want := spearman(got)
		u := results.Users{Arrived: tt.arrived, Booked: tt.booked, Fairness: want}
		if c := u.FairnessCeiling(); math.Abs(c-want) > 1e-9 {
			t.Errorf("Users{%d arrived, %d booked}.FairnessCeiling() = %.6f; want %.6f", tt.arrived, tt.booked, c, want)
		}
		if s := u.FirstComeScore(); math.Abs(s-1) > 1e-9 {
			t.Errorf("FirstComeScore of strict arrival order = %v; want 1", s)
		}
		// The latest booked: the floor.
		for i := range got {
			got[i] = 0
			if int64(i) >= tt.arrived-tt.booked {
				got[i] = 1
			}
		}
		u.Fairness = spearman(got)
		if s := u.FirstComeScore(); math.Abs(s+1) > 1e-9 {
			t.Errorf("FirstComeScore of reverse arrival order = %v; want -1", s)
		}
	}
	// The ceiling peaks at 0.87 when half book.
	if c := (results.Users{Arrived: 1_000_000, Booked: 500_000}).FairnessCeiling(); math.Abs(c-math.Sqrt(0.75)) > 1e-6 {
		t.Errorf("ceiling at half booked = %v; want √0.75", c)
	}
	for _, u := range []results.Users{{}, {Arrived: 1, Booked: 1}, {Arrived: 10}, {Arrived: 10, Booked: 10}} {
		if c, s := u.FairnessCeiling(), u.FirstComeScore(); c != 0 || !math.IsNaN(s) {
			t.Errorf("%+v: ceiling %v, score %v; want 0 and NaN (order cannot matter)", u, c, s)
		}
	}
	if s := (results.Users{Arrived: 100, Booked: 50, Fairness: 2}).FirstComeScore(); s != 1 {
		t.Errorf("FirstComeScore of an impossible rho = %v; want it clamped to 1", s)
	}
}

func TestAmplification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		d       results.DesignResult
		perUser float64 // all requests
		polls   float64 // the waiting room's
		amp     float64 // the booking API's, over 3
	}{
		{"stated", results.DesignResult{Design: "per-ppv", Users: results.Users{Arrived: 10, RequestsPerUser: 6}}, 6, 0, 2},
		{"computed", results.DesignResult{Design: "per-ppv", Requests: results.Requests{Total: 90}, Users: results.Users{Arrived: 10}}, 9, 0, 3},
		{"stated amplification", results.DesignResult{Design: "x+waiting-room", Users: results.Users{Arrived: 1, RequestsPerUser: 8, RoomPollsPerUser: 5, RetryAmplification: 1}}, 8, 5, 1},
		{"room polls computed", results.DesignResult{Design: "x", LatencyMs: map[string]results.LatencySummary{results.OpQueue: {Count: 30}}, Users: results.Users{Arrived: 10, RequestsPerUser: 6}}, 6, 3, 1},
		{"only polls", results.DesignResult{Design: "x", LatencyMs: map[string]results.LatencySummary{results.OpQueue: {Count: 3}}, Users: results.Users{Arrived: 1, RequestsPerUser: 2}}, 2, 3, 0},
		{"nobody came", results.DesignResult{Design: "x", Requests: results.Requests{Total: 5}}, 0, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.d.RequestsPerPerson(); got != tt.perUser {
			t.Errorf("%s: RequestsPerPerson() = %v; want %v", tt.name, got, tt.perUser)
		}
		if got := tt.d.RoomPollsPerPerson(); got != tt.polls {
			t.Errorf("%s: RoomPollsPerPerson() = %v; want %v", tt.name, got, tt.polls)
		}
		if got := tt.d.Amplification(); got != tt.amp {
			t.Errorf("%s: Amplification() = %v; want %v", tt.name, got, tt.amp)
		}
	}
}

func TestRetryStorm(t *testing.T) {
	t.Parallel()
	timeline := func(rps, booked func(int) float64) []results.TimelinePoint {
		var tl []results.TimelinePoint
		for i := range 30 {
			tl = append(tl, results.TimelinePoint{TS: i, RPS: rps(i), Booked: int64(booked(i))})
		}
		return tl
	}
	rising := func(i int) float64 { return 1000 + 100*float64(i) }
	falling := func(i int) float64 { return 60 - 1.5*float64(i) }
	flat := func(int) float64 { return 50 }
	tests := []struct {
		name     string
		tl       []results.TimelinePoint
		capacity int64
		want     bool
	}{
		{"load up, bookings down", timeline(rising, falling), 6000, true},
		{"load up, bookings steady", timeline(rising, flat), 6000, false},
		{"load down, bookings down", timeline(func(i int) float64 { return 4000 - 100*float64(i) }, falling), 6000, false},
		{"sold out", timeline(rising, falling), 0, false}, // capacity set to the places booked below
		{"too short", timeline(rising, falling)[:5], 6000, false},
		{"no timeline", nil, 6000, false},
	}
	for _, tt := range tests {
		d := &results.DesignResult{Design: "x", Timeline: tt.tl}
		for _, p := range tt.tl {
			d.Slots.Booked += p.Booked
		}
		d.Slots.Capacity = tt.capacity
		if tt.capacity == 0 {
			d.Slots.Capacity = d.Slots.Booked
		}
		s, got := retryStorm(d)
		if got != tt.want {
			t.Errorf("%s: retryStorm = %v (%+v); want %v", tt.name, got, s, tt.want)
		}
	}
	// The fixture's monolithic design is a storm; no other design is.
	for _, s := range collect([]*results.Result{fixture()}) {
		if _, got := retryStorm(s.Design); got != (s.Label == "monolithic") {
			t.Errorf("fixture %s: retryStorm = %v", s.Label, got)
		}
	}
}

func TestLog1pScale(t *testing.T) {
	t.Parallel()
	var sc log1pScale
	for _, tt := range []struct{ x, want float64 }{{0, 0}, {9999, 1}, {99, 0.5}, {-5, 0}} {
		if got := sc.Normalize(0, 9999, tt.x); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Normalize(0, 9999, %v) = %v; want %v", tt.x, got, tt.want)
		}
	}
	ticks := log1pTicks{}.Ticks(0, 10000)
	var labels []string
	for _, tk := range ticks {
		labels = append(labels, tk.Label)
	}
	if want := []string{"0", "10", "100", "1,000", "10,000"}; !slices.Equal(labels, want) {
		t.Errorf("ticks %q; want %q", labels, want)
	}
	if hi := log1pTop(4321); hi != 10000 {
		t.Errorf("log1pTop(4321) = %v; want 10000", hi)
	}
}

func TestRoundSig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    float64
		want string
	}{{3361, "3,400"}, {5032, "5,000"}, {143.4, "143"}, {46.2, "46"}, {8.44, "8.4"}, {3, "3"}, {123456, "120,000"}} {
		if got := roundSig(tt.v); got != tt.want {
			t.Errorf("roundSig(%v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

func TestNiceCeil(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ x, want float64 }{{39.4, 40}, {40, 40}, {123, 150}, {7.2, 7.5}, {0.31, 0.35}, {0, 1}} {
		if got := niceCeil(tt.x); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("niceCeil(%v) = %v; want %v", tt.x, got, tt.want)
		}
	}
}
