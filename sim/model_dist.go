package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// DistKind names a family of service-time distributions.
type DistKind string

// The distribution families of the model.
const (
	// DistConstant always gives its Median.
	DistConstant DistKind = "constant"
	// DistLogNormal has median Median and shape Sigma (the standard
	// deviation of the logarithm).
	DistLogNormal DistKind = "lognormal"
	// DistEmpirical resamples a measured histogram (see EmpiricalDist).
	DistEmpirical DistKind = "empirical"
)

// empiricalPoints is the size of an empirical distribution's quantile table.
const empiricalPoints = 1024

// Dist is a service-time distribution. Build it with ConstantDist,
// LogNormalDist or EmpiricalDist; the zero Dist is the
// constant 0. A Dist is a value, safe for concurrent use.
type Dist struct {
	Kind DistKind
	// Median is the value of a constant and the median of a lognormal.
	Median time.Duration
	// Sigma is the shape of a lognormal.
	Sigma float64
	// q holds an empirical distribution's quantiles (ns) at
	// (i+0.5)/len(q), i = 0 … len(q)-1.
	q []int64
}

// ConstantDist returns the distribution that is always d.
func ConstantDist(d time.Duration) Dist { return Dist{Kind: DistConstant, Median: d} }

// LogNormalDist returns the lognormal distribution of median m and shape
// sigma (sigma 0 is the constant m).
func LogNormalDist(m time.Duration, sigma float64) Dist {
	return Dist{Kind: DistLogNormal, Median: m, Sigma: max(sigma, 0)}
}

// EmpiricalDist returns a distribution that resamples the values of h
// (microseconds, as in slotrush results) at least from µs, each mapped to
// (v - minus) / divide (never below 0). It returns false when no value of h
// is at least from. It does not modify h.
func EmpiricalDist(h *hdrhistogram.Histogram, from int64, minus time.Duration, divide float64) (Dist, bool) {
	if h == nil || divide <= 0 {
		return Dist{}, false
	}
	// Walk the histogram's buckets once, collecting those at or above from.
	type bar struct{ lo, hi, n int64 }
	var bars []bar
	var total int64
	for _, b := range h.Distribution() {
		if b.Count == 0 || b.To < from {
			continue
		}
		lo := max(b.From, from)
		bars = append(bars, bar{lo, max(b.To, lo), b.Count})
		total += b.Count
	}
	if total == 0 {
		return Dist{}, false
	}
	q := make([]int64, empiricalPoints)
	k := 0
	var cum int64
	for i := range q {
		// The rank of quantile (i+0.5)/n among total values, from 0.
		rank := (float64(i) + 0.5) / float64(len(q)) * float64(total)
		for k < len(bars)-1 && float64(cum+bars[k].n) <= rank {
			cum += bars[k].n
			k++
		}
		b := bars[k]
		// Spread a bucket's values evenly over it.
		frac := (rank - float64(cum)) / float64(b.n)
		us := float64(b.lo) + min(max(frac, 0), 1)*float64(b.hi-b.lo)
		ns := (us*1e3 - float64(minus)) / divide
		q[i] = int64(max(ns, 0))
	}
	return Dist{Kind: DistEmpirical, q: q}, true
}

// MeanDuration returns the distribution's mean.
func (d Dist) MeanDuration() time.Duration {
	switch d.Kind {
	case DistLogNormal:
		return time.Duration(float64(d.Median) * math.Exp(d.Sigma*d.Sigma/2))
	case DistEmpirical:
		var s float64
		for _, v := range d.q {
			s += float64(v)
		}
		return time.Duration(s / float64(len(d.q)))
	}
	return d.Median
}

// Quantile returns the distribution's q-quantile, q in [0,1].
func (d Dist) Quantile(q float64) time.Duration {
	q = min(max(q, 0), 1)
	switch d.Kind {
	case DistLogNormal:
		switch {
		case q <= 0:
			return 0
		case q >= 1:
			return math.MaxInt64
		}
		return time.Duration(float64(d.Median) * math.Exp(d.Sigma*math.Sqrt2*math.Erfinv(2*q-1)))
	case DistEmpirical:
		return time.Duration(d.q[min(int(q*float64(len(d.q))), len(d.q)-1)])
	}
	return d.Median
}

// String describes the distribution, such as "lognormal(median 75µs, σ 0.4)".
func (d Dist) String() string {
	switch d.Kind {
	case DistLogNormal:
		return fmt.Sprintf("lognormal(median %v, σ %g)", d.Median, d.Sigma)
	case DistEmpirical:
		return fmt.Sprintf("empirical(median %v, mean %v)", d.Quantile(0.5), d.MeanDuration().Round(time.Microsecond/10))
	}
	return d.Median.String()
}

// samplerPoints is the size of a sampler's quantile table.
const samplerPoints = 4096

// sampler draws from a Dist fast: a lognormal or empirical distribution
// becomes a table of its quantiles at (i+0.5)/n, interpolated linearly, so a
// draw is one uniform number and no math.Exp. (The table clips a lognormal
// beyond its 1/8192 and 1-1/8192 quantiles.) Not safe for concurrent use
// with the same *rand.Rand; the table itself is read-only.
type sampler struct {
	c   int64   // constant, when tab is nil
	tab []int64 // the quantile table, nil for a constant
	// span is len(tab)-1, as a float64.
	span float64
}

func newSampler(d Dist) sampler {
	switch d.Kind {
	case DistLogNormal:
		if d.Sigma == 0 {
			return sampler{c: int64(d.Median)}
		}
		tab := make([]int64, samplerPoints)
		for i := range tab {
			tab[i] = int64(d.Quantile((float64(i) + 0.5) / samplerPoints))
		}
		return sampler{tab: tab, span: float64(len(tab) - 1)}
	case DistEmpirical:
		if len(d.q) > 0 {
			return sampler{tab: d.q, span: float64(len(d.q) - 1)}
		}
	}
	return sampler{c: int64(d.Median)}
}

// sample draws one value in nanoseconds.
func (s *sampler) sample(r *rand.Rand) int64 {
	if tab := s.tab; tab != nil {
		x := r.Float64() * s.span
		i := int(x)
		if i >= len(tab)-1 {
			return tab[len(tab)-1]
		}
		return tab[i] + int64((x-float64(i))*float64(tab[i+1]-tab[i]))
	}
	return s.c
}
