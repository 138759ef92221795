package scenarios

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

// rush returns a small valid scenario with the given arrival spec.
func rush(t testing.TB, size int, a ArrivalSpec) *Scenario {
	t.Helper()
	s := &Scenario{
		Name:      "test",
		Inventory: InventorySpec{Days: 3, DailyCapacity: 10, States: []string{"kl", "selangor", "johor"}, PPVsPerState: 3},
		Crowd:     CrowdSpec{Size: size, Arrival: a},
		Preferences: PreferencesSpec{
			HotSkew: 1.2, EarlyDateBias: 0.7, SameState: true,
		},
		Journey:    JourneySpec{Alternatives: 3},
		Behaviours: []BehaviourShare{{Patient, 0.5}, {Refresher, 0.3}, {Abandoner, 0.2}},
	}
	s.EnsureDefaults()
	if errs := s.Validate(); errs != nil {
		t.Fatalf("test scenario invalid: %v", errs)
	}
	return s
}

func TestArrivalsDeterministic(t *testing.T) {
	t.Parallel()
	for _, poisson := range []bool{false, true} {
		s := rush(t, 5000, ArrivalSpec{Shape: ShapeSpike, RampUp: 2 * time.Second, Decay: 5 * time.Second, Over: 20 * time.Second, Poisson: poisson})
		a, b := s.Arrivals(7), s.Arrivals(7)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("poisson=%v: Arrivals(7) differs between two calls", poisson)
		}
		c := s.Arrivals(8)
		if reflect.DeepEqual(a, c) {
			t.Errorf("poisson=%v: Arrivals(7) == Arrivals(8); want different crowds", poisson)
		}
	}
}

// Changing one knob must not reshuffle what does not depend on it.
func TestArrivalsIndependentStreams(t *testing.T) {
	t.Parallel()
	s := rush(t, 2000, ArrivalSpec{Shape: ShapeConstant, Over: 10 * time.Second})
	base := s.Arrivals(1)

	biased := s.clone()
	biased.Preferences.EarlyDateBias = 0.1
	other := biased.Arrivals(1)
	for i := range base {
		if !slices.Equal(base[i].PPVs, other[i].PPVs) || base[i].Behaviour != other[i].Behaviour || base[i].At != other[i].At || base[i].Seed != other[i].Seed {
			t.Fatalf("user %d changed beyond WantsEarliest when only early_date_bias changed:\n%+v\n%+v", i, base[i], other[i])
		}
	}

	poisson := s.clone()
	poisson.Crowd.Arrival.Poisson = true
	other = poisson.Arrivals(1)
	for i := range base {
		if !slices.Equal(base[i].PPVs, other[i].PPVs) || base[i].WantsEarliest != other[i].WantsEarliest || base[i].Behaviour != other[i].Behaviour {
			t.Fatalf("user %d's preferences changed when only arrival times changed", i)
		}
	}
}

func TestArrivalsUsers(t *testing.T) {
	t.Parallel()
	s := rush(t, 20000, ArrivalSpec{Shape: ShapeConstant, Over: 10 * time.Second})
	users := s.Arrivals(3)
	inv := s.BuildInventory()
	ids := map[string]bool{}
	first := map[string]int{}
	behaviours := map[Behaviour]int{}
	earliest := 0
	for i, u := range users {
		if u.Index != i {
			t.Fatalf("users[%d].Index = %d", i, u.Index)
		}
		if ids[u.PersonID] {
			t.Fatalf("duplicate person id %q", u.PersonID)
		}
		ids[u.PersonID] = true
		if len(u.PPVs) != 4 {
			t.Fatalf("user %d has %d PPVs; want first choice + 3 alternatives", i, len(u.PPVs))
		}
		seen := map[string]bool{}
		sameStateDone := false
		for k, id := range u.PPVs {
			p, ok := inv.PPV(id)
			if !ok || seen[id] {
				t.Fatalf("user %d: PPVs %v has unknown or repeated %q", i, u.PPVs, id)
			}
			seen[id] = true
			if k == 0 && p.State != u.State {
				t.Fatalf("user %d: state %q is not that of first choice %q", i, u.State, id)
			}
			// SameState: own-state alternatives (2 here) come before others.
			if p.State != u.State {
				sameStateDone = true
			} else if sameStateDone {
				t.Fatalf("user %d: own-state PPV %q after another state's in %v", i, id, u.PPVs)
			}
		}
		first[u.PPVs[0]]++
		behaviours[u.Behaviour]++
		if u.WantsEarliest {
			earliest++
		}
	}
	if users[0].PersonID != "p0000000" || users[123].PersonID != "p0000123" {
		t.Errorf("person ids %q, %q; want p0000000, p0000123", users[0].PersonID, users[123].PersonID)
	}
	near := func(name string, got int, want float64) {
		t.Helper()
		if frac := float64(got) / float64(len(users)); math.Abs(frac-want) > 0.02 {
			t.Errorf("%s = %.3f of users; want %.3f ± 0.02", name, frac, want)
		}
	}
	near("wants earliest", earliest, 0.7)
	near("patient", behaviours[Patient], 0.5)
	near("refresher", behaviours[Refresher], 0.3)
	near("abandoner", behaviours[Abandoner], 0.2)
	// Zipf 1.2 over 9 PPVs, rank 1 is kl-01: 1 / sum(k^-1.2, k=1..9).
	sum := 0.0
	for k := 1; k <= 9; k++ {
		sum += math.Pow(float64(k), -1.2)
	}
	near("first choice kl-01", first["kl-01"], 1/sum)
	near("first choice selangor-01 (rank 2)", first["selangor-01"], math.Pow(2, -1.2)/sum)
}

func TestArrivalsPopularity(t *testing.T) {
	t.Parallel()
	s := &Scenario{
		Name: "pop",
		Inventory: InventorySpec{DailyCapacity: 1, PPVs: []PPVSpec{
			{ID: "a", State: "x", Popularity: 3}, {ID: "b", State: "x", Popularity: 1}, {ID: "c", State: "y"},
		}},
		Crowd: CrowdSpec{Size: 10000},
	}
	s.EnsureDefaults()
	if errs := s.Validate(); errs != nil {
		t.Fatal(errs)
	}
	n := map[string]int{}
	for _, u := range s.Arrivals(1) {
		n[u.PPVs[0]]++
		if len(u.PPVs) != 1 {
			t.Fatalf("PPVs = %v; want only the first choice with 0 alternatives", u.PPVs)
		}
	}
	// c sets no popularity: it takes the default weight 1 (hot_skew 0).
	for id, want := range map[string]float64{"a": 0.6, "b": 0.2, "c": 0.2} {
		if got := float64(n[id]) / 10000; math.Abs(got-want) > 0.02 {
			t.Errorf("first choices %v: %s got %.3f; want %.2f (weights 3, 1 and the default 1)", n, id, got, want)
		}
	}
}

func TestArrivalCurves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec ArrivalSpec
		size int
		peak float64 // users/s
		end  time.Duration
	}{
		{"constant", ArrivalSpec{Shape: ShapeConstant, Over: 10 * time.Second}, 1000, 100, 10 * time.Second},
		{"spike cut", ArrivalSpec{Shape: ShapeSpike, RampUp: 4 * time.Second, Decay: 15 * time.Second, Over: 20 * time.Second}, 10000,
			10000 / (2 + 15*(1-math.Exp(-16.0/15))), 20 * time.Second},
		{"spike tail", ArrivalSpec{Shape: ShapeSpike, RampUp: 10 * time.Second, Decay: 30 * time.Second}, 60000, 60000 / (5 + 30.0), 10 * time.Minute},
		{"spike no ramp", ArrivalSpec{Shape: ShapeSpike, Decay: 10 * time.Second, Over: 30 * time.Second}, 5000, 5000 / (10 * (1 - math.Exp(-3))), 30 * time.Second},
		{"piecewise", ArrivalSpec{Shape: ShapePiecewise, Pieces: []RatePiece{{At: time.Second, Rate: 100}, {At: 3 * time.Second, Rate: 0}, {At: 5 * time.Second, Rate: 400}}}, 1000, 400, 7 * time.Second},
	}
	for _, tt := range tests {
		for _, poisson := range []bool{false, true} {
			tt.spec.Poisson = poisson
			s := rush(t, tt.size, tt.spec)
			users := s.Arrivals(11)
			if len(users) != tt.size {
				t.Fatalf("%s: %d users; want %d", tt.name, len(users), tt.size)
			}
			for i := 1; i < len(users); i++ {
				if users[i].At < users[i-1].At {
					t.Fatalf("%s poisson=%v: users[%d].At = %v < users[%d].At = %v", tt.name, poisson, i, users[i].At, i-1, users[i-1].At)
				}
			}
			if last := users[len(users)-1].At; last > tt.end {
				t.Errorf("%s poisson=%v: last arrival %v; want by %v", tt.name, poisson, last, tt.end)
			}
			if got := s.PeakRate(); math.Abs(got-tt.peak)/tt.peak > 1e-9 {
				t.Errorf("%s: PeakRate() = %v; want %v", tt.name, got, tt.peak)
			}
			// The busiest one-second window holds about the peak rate.
			const window = time.Second
			got := busiest(users, window) / window.Seconds()
			tol := 0.05
			if poisson {
				tol = 0.25 + 3/math.Sqrt(tt.peak*window.Seconds())
			}
			if math.Abs(got-tt.peak)/tt.peak > tol {
				t.Errorf("%s poisson=%v: busiest %v holds %.0f users/s; want %.0f ± %.0f%%", tt.name, poisson, window, got, tt.peak, 100*tol)
			}
		}
	}
}

// busiest returns the most arrivals in any window of length w.
func busiest(users []Arrival, w time.Duration) float64 {
	best, j := 0, 0
	for i := range users {
		for users[i].At-users[j].At >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return float64(best)
}

func TestConstantSpacing(t *testing.T) {
	t.Parallel()
	s := rush(t, 400, ArrivalSpec{Shape: ShapeConstant, Over: 2 * time.Second})
	users := s.Arrivals(1)
	for i, u := range users {
		if want := time.Duration(i) * 5 * time.Millisecond; u.At != want {
			t.Fatalf("users[%d].At = %v; want %v", i, u.At, want)
		}
	}
}

func TestPiecewisePause(t *testing.T) {
	t.Parallel()
	s := rush(t, 300, ArrivalSpec{Shape: ShapePiecewise, Pieces: []RatePiece{{At: 0, Rate: 100}, {At: time.Second, Rate: 0}, {At: 2 * time.Second, Rate: 100}}})
	for _, u := range s.Arrivals(1) {
		if u.At > time.Second && u.At < 2*time.Second {
			t.Fatalf("user %d arrives at %v, during the pause", u.Index, u.At)
		}
	}
}

func TestScaled(t *testing.T) {
	t.Parallel()
	s, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	before := s.Parameters()
	small := s.Scaled(0.01)
	if !reflect.DeepEqual(s.Parameters(), before) {
		t.Error("Scaled modified its receiver")
	}
	if small.Crowd.Size != 100 || small.Inventory.DailyCapacity != 2 {
		t.Errorf("Scaled(0.01): size %d, daily capacity %d; want 100, 2", small.Crowd.Size, small.Inventory.DailyCapacity)
	}
	if errs := small.Validate(); errs != nil {
		t.Errorf("scaled demo invalid: %v", errs)
	}
	if got, want := small.PeakRate(), s.PeakRate()/100; math.Abs(got-want) > 1e-6*want {
		t.Errorf("scaled peak %v; want %v", got, want)
	}
	tiny := s.Scaled(1e-9)
	if tiny.Crowd.Size != 1 || tiny.Inventory.DailyCapacity != 1 {
		t.Errorf("Scaled(1e-9): size %d, capacity %d; want at least 1", tiny.Crowd.Size, tiny.Inventory.DailyCapacity)
	}
	if !reflect.DeepEqual(small.Designs, s.Designs) {
		t.Error("Scaled changed the per-partition limits")
	}
}

func TestBuildDesigns(t *testing.T) {
	t.Parallel()
	s, err := Load("refresh-storm")
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.BuildDesigns(nil)
	if err != nil || len(all) != 4 || all[2].Name != "per-ppv-day+waiting-room" || !all[2].WaitingRoom || !all[3].CentreRooms || !all[3].Room.Auto {
		t.Errorf("BuildDesigns(nil) = %+v, %v", all, err)
	}
	two, err := s.BuildDesigns([]string{" per-ppv-day", "monolithic", "per-ppv-day"})
	if err != nil || len(two) != 2 || two[0].Name != "per-ppv-day" || two[1].Limits.WriteRate != 60 {
		t.Errorf("BuildDesigns(two) = %+v, %v", two, err)
	}
	if _, err := s.BuildDesigns([]string{"per-ppv"}); err == nil {
		t.Error("BuildDesigns(per-ppv) succeeded on a scenario without it")
	} else if want := `design "per-ppv" is not in scenario "refresh-storm" (it has monolithic, per-ppv-day, per-ppv-day+waiting-room, per-ppv-day+centre-rooms)`; err.Error() != want {
		t.Errorf("error %q; want %q", err, want)
	}
}

func TestBuildInventory(t *testing.T) {
	t.Parallel()
	s := rush(t, 10, ArrivalSpec{Shape: ShapeConstant, Over: time.Second})
	inv := s.BuildInventory()
	if errs := inv.Validate(); errs != nil {
		t.Fatal(errs)
	}
	if len(inv.PPVs) != 9 || inv.PPVs[0].ID != "kl-01" || inv.PPVs[5].ID != "selangor-03" {
		t.Errorf("PPVs %+v", inv.PPVs)
	}
	if len(inv.Slots) != 27 || inv.TotalCapacity() != s.TotalCapacity() || s.TotalCapacity() != 270 {
		t.Errorf("%d slots, capacity %d (scenario says %d)", len(inv.Slots), inv.TotalCapacity(), s.TotalCapacity())
	}
	if d := inv.Dates(); len(d) != 3 || d[0] != DefaultFirstDate {
		t.Errorf("dates %v", d)
	}
}

func BenchmarkArrivals(b *testing.B) {
	for _, poisson := range []bool{false, true} {
		name := "deterministic"
		if poisson {
			name = "poisson"
		}
		b.Run(name, func(b *testing.B) {
			s, err := Load("jkjav-az-2021-05-26")
			if err != nil {
				b.Fatal(err)
			}
			s.Crowd.Arrival.Poisson = poisson
			n := s.Crowd.Size
			b.ReportAllocs()
			for b.Loop() {
				if got := s.Arrivals(1); len(got) != n {
					b.Fatalf("%d users", len(got))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/user")
		})
	}
}
