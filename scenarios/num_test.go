package scenarios

import (
	"strings"
	"testing"
	"time"
)

func TestNum(t *testing.T) {
	t.Parallel()
	tests := []struct {
		x    float64
		want string
	}{
		{1.2000000000000002, "1.2"},
		{12 * 0.1, "1.2"},
		{150, "150"},
		{0.5, "0.5"},
		{1e-3, "0.001"},
		{123456, "123500"},
		{2.0 / 3, "0.6667"},
		{0, "0"},
	}
	for _, tc := range tests {
		if got := num(tc.x); got != tc.want {
			t.Errorf("num(%v) = %q; want %q", tc.x, got, tc.want)
		}
	}
}

// A piecewise rate scaled by a factor that floating point cannot hold
// exactly still prints rounded in the parameters shown beside a verdict.
func TestParametersRounded(t *testing.T) {
	t.Parallel()
	s, err := Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	s.Crowd.Arrival = ArrivalSpec{Shape: ShapePiecewise, Pieces: []RatePiece{{At: 0, Rate: 12}, {At: 10 * time.Second, Rate: 0}}}
	s.Preferences.HotSkew = 0.1 * 3
	for _, p := range s.Scaled(0.1).Parameters() {
		if strings.Contains(p[1], "000000") {
			t.Errorf("parameter %s = %q; want rounded numbers", p[0], p[1])
		}
		if p[0] == "arrival" && !strings.Contains(p[1], " 1.2/s from 0s") {
			t.Errorf("arrival = %q; want the scaled rate 1.2/s", p[1])
		}
	}
}
