package capacity

import (
	"math"
	"strings"
	"testing"
)

func TestFitUSLRecoversParameters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		sigma, kappa, lambda float64
		loads                []float64
	}{
		{0.05, 1e-5, 0.8, []float64{10, 20, 40, 80, 160, 320, 640}},
		{0.001, 2e-6, 1, []float64{50, 100, 200, 400, 800, 1600}},
		{0.2, 0, 0.5, []float64{1, 2, 4, 8, 16, 32, 64}},
	}
	for _, tt := range tests {
		want := USL{Sigma: tt.sigma, Kappa: tt.kappa, Lambda: tt.lambda}
		var pts []Point
		for _, n := range tt.loads {
			pts = append(pts, Point{N: n, X: want.Predict(n)})
		}
		got := FitUSL(pts)
		if !got.Fitted {
			t.Fatalf("FitUSL(%+v) not fitted: %s", want, got.Reason)
		}
		// The fit reproduces the throughput it was given.
		for _, p := range pts {
			if rel := math.Abs(got.Predict(p.N)-p.X) / p.X; rel > 0.01 {
				t.Errorf("σ %v κ %v λ %v: fitted X(%v) = %v; want %v (within 1%%)", tt.sigma, tt.kappa, tt.lambda, p.N, got.Predict(p.N), p.X)
			}
		}
		if got.RelativeError > 0.01 || math.Abs(got.Lambda-tt.lambda)/tt.lambda > 0.05 {
			t.Errorf("σ %v κ %v λ %v: fitted σ %v κ %v λ %v error %v", tt.sigma, tt.kappa, tt.lambda, got.Sigma, got.Kappa, got.Lambda, got.RelativeError)
		}
		if tt.kappa > 0 {
			wantPeak := math.Sqrt((1 - tt.sigma) / tt.kappa)
			if math.Abs(got.PeakLoadPerS-wantPeak)/wantPeak > 0.1 {
				t.Errorf("σ %v κ %v: peak at %v; want %v (within 10%%)", tt.sigma, tt.kappa, got.PeakLoadPerS, wantPeak)
			}
		} else if got.PeakLoadPerS != 0 || got.PeakNote == "" {
			t.Errorf("κ 0: peak %v note %q; want no peak, said", got.PeakLoadPerS, got.PeakNote)
		}
	}
}

func TestFitUSLRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		pts  []Point
		says string
	}{
		{"too few", []Point{{10, 5}, {20, 9}, {40, 15}}, "at least 4"},
		{"same load repeated", []Point{{10, 5}, {10, 6}, {20, 9}, {20, 9}, {40, 15}}, "at least 4"},
		{"narrow span", []Point{{100, 50}, {110, 55}, {120, 60}, {130, 62}, {140, 63}}, "span"},
		{"no throughput", []Point{{10, 0}, {20, 0}, {40, 0}, {80, 0}}, "no step booked"},
		{"bad values", []Point{{math.NaN(), 1}, {math.Inf(1), 1}, {-1, 1}, {10, math.NaN()}}, "0 distinct"},
	}
	for _, tt := range tests {
		u := FitUSL(tt.pts)
		if u.Fitted || !strings.Contains(u.Reason, tt.says) || u.Sigma != 0 || u.Lambda != 0 {
			t.Errorf("%s: FitUSL = %+v; want no fit, saying %q", tt.name, u, tt.says)
		}
		if w := u.Words(); !strings.HasPrefix(w, "not fitted") {
			t.Errorf("%s: Words() = %q", tt.name, w)
		}
	}
}
