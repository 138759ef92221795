package capacity

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/optimize"
)

// USL is a fit of the Universal Scalability Law to a design's steps:
// throughput X (bookings/s) against offered load N (peak arrivals,
// people/s), X(N) = λN / (1 + σ(N−1) + κN(N−1)). Plain data.
type USL struct {
	// Fitted is false when the steps cannot support a fit; Reason says why
	// and every other field is zero.
	Fitted bool   `json:"fitted"`
	Reason string `json:"reason,omitempty"`
	// Points is the number of steps fitted.
	Points int `json:"points"`
	// Sigma is contention (σ ≥ 0), Kappa coherency delay (κ ≥ 0), Lambda
	// the throughput per unit of load at low load (λ: bookings per person
	// arriving).
	Sigma  float64 `json:"sigma"`
	Kappa  float64 `json:"kappa"`
	Lambda float64 `json:"lambda"`
	// PeakLoadPerS is the load of the highest throughput the law predicts,
	// N* = sqrt((1−σ)/κ), and PeakThroughputPerS that throughput, X(N*);
	// both 0 when the law predicts no peak (κ = 0 or σ ≥ 1: throughput
	// rises for ever, or never). PeakNote then says which.
	PeakLoadPerS       float64 `json:"peak_load_per_s"`
	PeakThroughputPerS float64 `json:"peak_throughput_per_s"`
	PeakNote           string  `json:"peak_note,omitempty"`
	// RMSE is the root mean square error of the fit (bookings/s), and
	// RelativeError RMSE over the mean throughput measured.
	RMSE          float64 `json:"rmse_per_s"`
	RelativeError float64 `json:"relative_error"`
}

// Point is one step for the fit: offered load N (people/s) and throughput
// X (bookings/s).
type Point struct{ N, X float64 }

// Predict returns the law's throughput at load n.
func (u USL) Predict(n float64) float64 {
	return uslShape(n, u.Sigma, u.Kappa) * u.Lambda
}

// uslShape is N / (1 + σ(N−1) + κN(N−1)): the law without λ.
func uslShape(n, sigma, kappa float64) float64 {
	return n / (1 + sigma*(n-1) + kappa*n*(n-1))
}

// Minimum support of a fit: distinct loads, and how far the largest load
// reaches beyond the smallest.
const (
	minFitPoints = 4
	minFitSpan   = 2.0
)

// FitUSL fits the Universal Scalability Law to points by least squares:
// for each (σ, κ) the best λ is closed-form, and (σ, κ) are searched with
// gonum's Nelder–Mead from the best of a coarse grid. It does not fit, and
// says why in Reason, with fewer than four distinct loads, loads spanning
// less than a factor of two, or no throughput at all.
func FitUSL(points []Point) USL {
	pts := distinctLoads(points)
	u := USL{Points: len(pts)}
	switch {
	case len(pts) < minFitPoints:
		u.Reason = fmt.Sprintf("%d distinct offered loads: the law's three parameters need at least %d", len(pts), minFitPoints)
		return u
	case pts[len(pts)-1].N < minFitSpan*pts[0].N:
		u.Reason = fmt.Sprintf("the offered loads span %.2g× (%.4g to %.4g people/s): at least %g× is needed to tell contention from coherency", pts[len(pts)-1].N/pts[0].N, pts[0].N, pts[len(pts)-1].N, minFitSpan)
		return u
	}
	var meanX float64
	for _, p := range pts {
		meanX += p.X
	}
	meanX /= float64(len(pts))
	if meanX <= 0 {
		u.Reason = "no step booked anyone: there is no throughput to fit"
		return u
	}
	nMax := pts[len(pts)-1].N
	// Parameters: σ = exp(a), κ = exp(b)/nMax²; both stay positive and of
	// order one for the optimizer.
	cost := func(x []float64) float64 {
		sigma, kappa := math.Exp(x[0]), math.Exp(x[1])/(nMax*nMax)
		_, sse := bestLambda(pts, sigma, kappa)
		return sse
	}
	start := []float64{math.Log(0.01), math.Log(0.01)}
	best := cost(start)
	for a := -12.0; a <= 1; a++ {
		for b := -12.0; b <= 6; b++ {
			if c := cost([]float64{a, b}); c < best {
				best, start = c, []float64{a, b}
			}
		}
	}
	x := start
	// An error (such as an iteration limit) may still come with a better
	// point than the grid's.
	if res, _ := optimize.Minimize(optimize.Problem{Func: cost}, start, nil, &optimize.NelderMead{}); res != nil && res.F <= best {
		x = res.X
	}
	u.Sigma, u.Kappa = math.Exp(x[0]), math.Exp(x[1])/(nMax*nMax)
	lambda, sse := bestLambda(pts, u.Sigma, u.Kappa)
	u.Lambda, u.Fitted = lambda, true
	u.RMSE = math.Sqrt(sse / float64(len(pts)))
	u.RelativeError = u.RMSE / meanX
	u.peak(nMax)
	return u
}

// peakReach bounds how far beyond the largest load measured a predicted
// peak is still reported: further out it is an extrapolation of noise.
const peakReach = 100

// peak sets the law's predicted peak of throughput, N* = sqrt((1−σ)/κ),
// when it lies within peakReach times nMax, the largest load measured.
func (u *USL) peak(nMax float64) {
	if u.Sigma >= 1 {
		u.PeakNote = "σ ≥ 1: throughput does not grow with load"
		return
	}
	n := math.Sqrt((1 - u.Sigma) / u.Kappa)
	if u.Sigma < 1e-9 && (u.Kappa <= 0 || n > peakReach*nMax) {
		u.PeakNote = "σ ≈ 0 and κ ≈ 0: throughput grew in proportion to the load over the steps; there is no saturation to predict a peak from"
		return
	}
	if u.Kappa <= 0 || math.IsInf(n, 0) || n > peakReach*nMax {
		u.PeakNote = fmt.Sprintf("κ ≈ 0: no peak within %d× the loads measured; throughput levels off near λ/σ = %.4g bookings/s", peakReach, u.Lambda/u.Sigma)
		return
	}
	u.PeakLoadPerS, u.PeakThroughputPerS = n, u.Predict(n)
}

// bestLambda returns the λ that minimises the squared error of points for
// σ and κ, and that error: λ = Σ X·g / Σ g² with g the law's shape.
func bestLambda(pts []Point, sigma, kappa float64) (lambda, sse float64) {
	var xg, gg float64
	for _, p := range pts {
		g := uslShape(p.N, sigma, kappa)
		xg += p.X * g
		gg += g * g
	}
	if gg > 0 {
		lambda = math.Max(xg/gg, 0)
	}
	for _, p := range pts {
		r := p.X - lambda*uslShape(p.N, sigma, kappa)
		sse += r * r
	}
	if math.IsNaN(sse) || math.IsInf(sse, 0) {
		return 0, math.MaxFloat64
	}
	return lambda, sse
}

// distinctLoads returns the points with positive finite loads sorted by
// load, averaging the throughput of points at the same load.
func distinctLoads(points []Point) []Point {
	byN := map[float64][]float64{}
	for _, p := range points {
		if p.N > 0 && !math.IsInf(p.N, 0) && !math.IsNaN(p.X) && !math.IsInf(p.X, 0) && p.X >= 0 {
			byN[p.N] = append(byN[p.N], p.X)
		}
	}
	out := make([]Point, 0, len(byN))
	for n, xs := range byN {
		var sum float64
		for _, x := range xs {
			sum += x
		}
		out = append(out, Point{N: n, X: sum / float64(len(xs))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out
}
