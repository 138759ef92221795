package scenarios

import (
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// Random streams: each kind of draw has its own PCG stream derived from the
// crowd seed, and each user takes a fixed number of draws from each, so
// changing one knob (say EarlyDateBias) changes only what depends on it.
const (
	streamArrivals   = 1 // Poisson arrival gaps
	streamFirst      = 2 // first choice and preference variant
	streamDates      = 3 // WantsEarliest
	streamBehaviours = 4 // behaviour
	streamUserSeeds  = 5 // per-user seeds
	streamOrders     = 6 // the shared alternative orders
)

// prefVariants is how many alternative orders each first choice has; users
// share them, so a crowd of a million holds a few hundred small slices.
const prefVariants = 16

// Arrivals generates the crowd of s from seed: Crowd.Size users, in arrival
// order, with their arrival times, preferences, behaviours and per-user
// seeds. (It is not called Crowd because Scenario has a field of that name.)
//
// Generation is deterministic: the same scenario and seed give an identical
// slice, whatever the machine. Arrival times follow the arrival curve (see
// ArrivalSpec), spaced deterministically by inverting the cumulative curve at
// 0, 1, 2, ... users, or as a Poisson process conditioned on exactly Size
// arrivals when Poisson is set. Times never decrease.
//
// Each user's first choice of PPV is drawn by weight (a listed PPV's
// popularity, else Zipf with exponent HotSkew over the inventory order: see
// PPVWeight); the user's state
// is that PPV's state; then come up to Journey.Alternatives alternatives,
// drawn by the same popularity (own state first when SameState). Users share
// their PPVs slices (16 orders per first choice): treat them as read only.
// WantsEarliest is drawn with probability EarlyDateBias, the behaviour by
// share. PersonIDs are "p" and the zero-padded index ("p0000123").
//
// Arrivals expects a valid scenario (EnsureDefaults and Validate); on an
// invalid one it returns nil or users without preferences. It is safe for
// concurrent use. A million users take about 0.15 s and 120 MB (almost all
// of it the []Arrival itself) on a 2-core laptop.
func (s *Scenario) Arrivals(seed int64) []Arrival {
	n := s.Crowd.Size
	if n <= 0 || n > MaxCrowd {
		return nil
	}
	cv, ok := newCurve(s.Crowd.Arrival, n)
	if !ok {
		return nil
	}
	out := make([]Arrival, n)
	cv.fill(out, s.Crowd.Arrival.Poisson, seed)

	ids, w := personIDs(n)
	ch := s.newChooser(seed)
	bcum, bnames := behaviourCDF(s.Behaviours)

	behav := newStream(seed, streamBehaviours)
	seeds := newStream(seed, streamUserSeeds)
	for i := range out {
		a := &out[i]
		a.Index = i
		a.PersonID = ids[i*w : (i+1)*w]
		f, v, early := ch.next()
		if f >= 0 {
			a.State = ch.prefs.ppvs[f].State
			a.PPVs = ch.prefs.list(f, v)
		}
		a.WantsEarliest = early
		a.Behaviour = pickBehaviour(bcum, bnames, unit(behav.Uint64()))
		a.Seed = seeds.Uint64()
	}
	return out
}

// chooser draws, user after user, the first choice and date wish of a
// crowd: Arrivals takes them from it, and so does Plan, which counts
// them without building the crowd. Not safe for concurrent use.
type chooser struct {
	prefs        *preferences // nil without PPVs
	first, dates *rand.PCG
	bias         float64
}

func (s *Scenario) newChooser(seed int64) *chooser {
	return &chooser{
		prefs: s.newPreferences(seed),
		first: newStream(seed, streamFirst),
		dates: newStream(seed, streamDates),
		bias:  s.Preferences.EarlyDateBias,
	}
}

// next returns the next user's first choice (an index into prefs.ppvs, -1
// without PPVs), preference variant and whether they want the earliest
// date.
func (c *chooser) next() (first, variant int, early bool) {
	u, v := unit(c.first.Uint64()), c.first.Uint64()
	first = -1
	if c.prefs != nil {
		first = c.prefs.pick(u)
	}
	return first, int(v % prefVariants), unit(c.dates.Uint64()) < c.bias
}

// PeakRate returns the highest arrival rate of the crowd's curve, in users
// per second (the expected peak when arrivals are Poisson), or 0 when the
// arrival spec is invalid.
func (s *Scenario) PeakRate() float64 {
	cv, ok := newCurve(s.Crowd.Arrival, s.Crowd.Size)
	if !ok {
		return 0
	}
	return cv.peakRate()
}

// ArrivalWindow returns when the last user arrives with deterministic spacing
// (Poisson arrivals end about then too), or 0 when the arrival spec is
// invalid.
func (s *Scenario) ArrivalWindow() time.Duration {
	cv, ok := newCurve(s.Crowd.Arrival, s.Crowd.Size)
	if !ok {
		return 0
	}
	return seconds(cv.inv(cv.n - 1))
}

// curve is the cumulative arrival curve Λ(t) of an ArrivalSpec scaled to n
// users, inverted by inv.
type curve struct {
	shape string
	n     float64
	// constant
	over float64
	// spike: Λ(t) = peak t²/(2 ramp) up to ramp, then
	// peak ramp/2 + peak decay (1 - exp(-(t-ramp)/decay)).
	ramp, decay, peak float64
	// piecewise: piece k holds rates[k] from starts[k]; cum[k] = Λ(starts[k]).
	starts, rates, cum []float64
}

// newCurve returns the curve of a for n users, and false when a cannot
// bring n users (bad shape or parameters).
func newCurve(a ArrivalSpec, n int) (curve, bool) {
	c := curve{shape: a.Shape, n: float64(n)}
	if n <= 0 {
		return c, false
	}
	switch a.Shape {
	case ShapeConstant:
		c.over = a.Over.Seconds()
		return c, c.over > 0
	case ShapeSpike:
		c.ramp, c.decay = a.RampUp.Seconds(), a.Decay.Seconds()
		if !(c.ramp >= 0) || !(c.decay > 0) {
			return c, false
		}
		mass := c.ramp/2 + c.decay // users per unit of peak rate
		if a.Over > 0 {
			tail := a.Over.Seconds() - c.ramp
			if !(tail > 0) {
				return c, false
			}
			mass = c.ramp/2 + c.decay*-math.Expm1(-tail/c.decay)
		}
		c.peak = c.n / mass
		return c, c.peak > 0 && !math.IsInf(c.peak, 0)
	case ShapePiecewise:
		if len(a.Pieces) == 0 {
			return c, false
		}
		total := 0.0
		for k, p := range a.Pieces {
			at := p.At.Seconds()
			if !(p.Rate >= 0) || math.IsInf(p.Rate, 0) || at < 0 || (k > 0 && at <= c.starts[k-1]) {
				return c, false
			}
			if k > 0 {
				total += c.rates[k-1] * (at - c.starts[k-1])
			}
			c.starts = append(c.starts, at)
			c.rates = append(c.rates, p.Rate)
			c.cum = append(c.cum, total)
		}
		// The last piece is held for ever.
		return c, c.rates[len(c.rates)-1] > 0 || total >= c.n
	}
	return c, false
}

// inv returns the time in seconds at which x users have arrived, for
// 0 <= x < n: the inverse of the cumulative curve (the latest such time
// across a pause in piecewise arrivals).
func (c *curve) inv(x float64) float64 {
	x = max(x, 0)
	switch c.shape {
	case ShapeConstant:
		return x / c.n * c.over
	case ShapeSpike:
		half := c.peak * c.ramp / 2
		if x <= half {
			if half == 0 {
				return 0
			}
			return math.Sqrt(2 * c.ramp * x / c.peak)
		}
		y := (x - half) / (c.peak * c.decay)
		return c.ramp - c.decay*math.Log1p(-min(y, 1-1e-16))
	case ShapePiecewise:
		k := sort.Search(len(c.cum), func(i int) bool { return c.cum[i] > x }) - 1
		k = max(k, 0)
		if c.rates[k] == 0 {
			return c.starts[k]
		}
		return c.starts[k] + (x-c.cum[k])/c.rates[k]
	}
	return 0
}

// peakRate is the highest rate on the curve while users still arrive.
func (c *curve) peakRate() float64 {
	switch c.shape {
	case ShapeConstant:
		return c.n / c.over
	case ShapeSpike:
		return c.peak
	case ShapePiecewise:
		peak := 0.0
		for k, r := range c.rates {
			if c.cum[k] < c.n {
				peak = max(peak, r)
			}
		}
		return peak
	}
	return 0
}

// peakAt is when, in seconds from t=0, the curve first reaches peakRate.
func (c *curve) peakAt() float64 {
	switch c.shape {
	case ShapeSpike:
		return c.ramp
	case ShapePiecewise:
		peak := c.peakRate()
		for k, r := range c.rates {
			if r == peak && c.cum[k] < c.n {
				return c.starts[k]
			}
		}
	}
	return 0
}

// fill sets the arrival times of out.
func (c *curve) fill(out []Arrival, poisson bool, seed int64) {
	n := len(out)
	var prev time.Duration
	set := func(i int, x float64) {
		t := seconds(c.inv(x))
		if t < prev { // guard against rounding at the seam of two formulas
			t = prev
		}
		out[i].At, prev = t, t
	}
	if !poisson {
		for i := range out {
			set(i, float64(i))
		}
		return
	}
	// A Poisson process conditioned on n arrivals places them as the order
	// statistics of n uniforms over Λ: the partial sums of n+1 exponential
	// gaps, scaled so the sum of all n+1 is n. Two passes over the same
	// stream find the scale without storing the gaps.
	r := newStream(seed, streamArrivals)
	sum := 0.0
	for range n + 1 {
		sum += expo(r)
	}
	r = newStream(seed, streamArrivals)
	scale, acc := float64(n)/sum, 0.0
	for i := range out {
		acc += expo(r)
		set(i, min(acc*scale, float64(n)*(1-1e-12)))
	}
}

// seconds converts s seconds to a Duration, saturating.
func seconds(s float64) time.Duration {
	ns := math.Round(s * 1e9)
	switch {
	case ns >= math.MaxInt64:
		return math.MaxInt64
	case ns <= 0 || math.IsNaN(ns):
		return 0
	}
	return time.Duration(ns)
}

func newStream(seed int64, stream uint64) *rand.PCG {
	s1 := splitmix64(uint64(seed) ^ stream*0x9e3779b97f4a7c15)
	return rand.NewPCG(s1, splitmix64(s1^stream))
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// unit maps a uniform uint64 to [0, 1).
func unit(u uint64) float64 { return float64(u>>11) * 0x1p-53 }

// expo draws an exponential variate with mean 1.
func expo(r *rand.PCG) float64 { return -math.Log1p(-unit(r.Uint64())) }

// personIDs returns the ids of n users concatenated in one string, each w
// bytes: "p" and the zero-padded index.
func personIDs(n int) (string, int) {
	digits := 7
	for m := 10_000_000; m < n; m *= 10 {
		digits++
	}
	w := digits + 1
	buf := make([]byte, n*w)
	for i := range n {
		b := buf[i*w : (i+1)*w]
		b[0] = 'p'
		for j, v := w-1, i; j > 0; j-- {
			b[j] = byte('0' + v%10)
			v /= 10
		}
	}
	return string(buf), w
}

func behaviourCDF(shares []BehaviourShare) ([]float64, []Behaviour) {
	var cum []float64
	var names []Behaviour
	total := 0.0
	for _, b := range shares {
		if b.Share > 0 {
			total += b.Share
			cum = append(cum, total)
			names = append(names, b.Behaviour)
		}
	}
	for i := range cum {
		cum[i] /= total
	}
	return cum, names
}

func pickBehaviour(cum []float64, names []Behaviour, u float64) Behaviour {
	if len(names) == 0 {
		return Patient
	}
	for i, c := range cum {
		if u < c {
			return names[i]
		}
	}
	return names[len(names)-1]
}
