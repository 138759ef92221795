package sim

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestConstantRateDue(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate     float64
		duration time.Duration
		n        int
		at       time.Duration
		stop     bool
	}{
		{500, 2 * time.Second, 0, 0, false},
		{500, 2 * time.Second, 1, 2 * time.Millisecond, false},
		{500, 2 * time.Second, 999, 1998 * time.Millisecond, false},
		{500, 2 * time.Second, 1000, 2 * time.Second, true},
		{8, 500 * time.Millisecond, 3, 375 * time.Millisecond, false},
		{8, 500 * time.Millisecond, 4, 500 * time.Millisecond, true},
		{0.5, time.Second, 0, 0, false},
		{0.5, time.Second, 1, 2 * time.Second, true},
		// n/rate from n, not n rounded intervals: 3/s for 1s ends at 1s.
		{3, time.Second, 2, 666666667, false},
		{3, time.Second, 3, time.Second, true},
		{1000, 30 * time.Second, 29999, 29999 * time.Millisecond, false},
		{1000, 30 * time.Second, 30000, 30 * time.Second, true},
	} {
		at, stop := newConstantRate(c.rate, c.duration).due(c.n)
		if at != c.at || stop != c.stop {
			t.Errorf("constantRate(%v/s, %v).due(%d) = %v, %v; want %v, %v", c.rate, c.duration, c.n, at, stop, c.at, c.stop)
		}
	}
}

// count returns how many events s has before it stops, at most limit.
func count(s schedule, limit int) int {
	for n := range limit {
		if _, stop := s.due(n); stop {
			return n
		}
	}
	return limit
}

func TestConstantRateCount(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		rate     float64
		duration time.Duration
		want     int
	}{
		{500, 2 * time.Second, 1000},
		{8, 500 * time.Millisecond, 4},
		{10, time.Second, 10},
		{1, time.Second, 1},
		{1, 1500 * time.Millisecond, 2},
		{1000, time.Millisecond, 1},
		{0.5, time.Second, 1},
		// Exactly rate×duration when it is whole, whatever the rounding of
		// one interval (issue 9: 3/s for 1s used to send 4).
		{3, time.Second, 3},
		{7, time.Second, 7},
		{1000, 30 * time.Second, 30000},
		{333, 3 * time.Second, 999},
		{0.3, 10 * time.Second, 3},
		// Whole counts whose float division falls a hair short of the end
		// (truncated, each sent one request more).
		{0.07, 100 * time.Second, 7},
		{0.55, time.Minute, 33},
		// Else ceil(rate×duration): 2.5 rounds up.
		{5, 500 * time.Millisecond, 3},
	} {
		if got := count(newConstantRate(c.rate, c.duration), 1e6); got != c.want {
			t.Errorf("count(constantRate(%v/s, %v)) = %d; want %d", c.rate, c.duration, got, c.want)
		}
	}
}

func TestCrowdScheduleDue(t *testing.T) {
	t.Parallel()
	crowd := crowdSchedule{{At: 0}, {At: 30 * time.Millisecond}, {At: 30 * time.Millisecond}, {At: 2 * time.Second}}
	for _, c := range []struct {
		n    int
		at   time.Duration
		stop bool
	}{
		{0, 0, false},
		{1, 30 * time.Millisecond, false},
		{2, 30 * time.Millisecond, false},
		{3, 2 * time.Second, false},
		{4, 0, true},
		{5, 0, true},
	} {
		if at, stop := crowd.due(c.n); at != c.at || stop != c.stop {
			t.Errorf("crowdSchedule.due(%d) = %v, %v; want %v, %v", c.n, at, stop, c.at, c.stop)
		}
	}
	if at, stop := crowdSchedule(nil).due(0); at != 0 || !stop {
		t.Errorf("crowdSchedule(nil).due(0) = %v, %v; want 0, true", at, stop)
	}
}

// The tests below run in a synctest bubble: the clock is virtual and moves
// only when every goroutine of the bubble is blocked, so times are exact and
// the tests take no wall-clock time.

func TestWaitUntil(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		due      time.Duration // from the start
		cancelAt time.Duration // 0: never
		want     bool
		wantAt   time.Duration // when waitUntil returns
	}{
		{"future", 250 * time.Millisecond, 0, true, 250 * time.Millisecond},
		{"now", 0, 0, true, 0},
		{"past", -time.Second, 0, true, 0},
		{"cancelled while waiting", 250 * time.Millisecond, 100 * time.Millisecond, false, 100 * time.Millisecond},
		{"due before cancel", 100 * time.Millisecond, 250 * time.Millisecond, true, 100 * time.Millisecond},
	} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			start := time.Now()
			got := waitUntil(ctx, start.Add(c.due))
			if at := time.Since(start); got != c.want || at != c.wantAt {
				t.Errorf("%s: waitUntil(start%+v) = %v at %v; want %v at %v", c.name, c.due, got, at, c.want, c.wantAt)
			}
		})
	}
}

func TestWaitUntilDoneContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		start := time.Now()
		for _, due := range []time.Duration{-time.Second, 0, time.Second} {
			if got := waitUntil(ctx, start.Add(due)); got || time.Since(start) != 0 {
				t.Errorf("waitUntil(done, start%+v) = %v after %v; want false at once", due, got, time.Since(start))
			}
		}
	})
}

// released paces s from now under ctx and returns when each event was
// released, from the start. The first release blocks for hold.
func released(t *testing.T, ctx context.Context, s schedule, hold time.Duration) []time.Duration {
	var at []time.Duration
	start := time.Now()
	pace(ctx, start, s, func(n int, due time.Time) bool {
		if want, _ := s.due(n); due.Sub(start) != want {
			t.Errorf("pace released %d due at start%+v; want start%+v", n, due.Sub(start), want)
		}
		at = append(at, time.Since(start))
		if n == 0 {
			time.Sleep(hold)
		}
		return true
	})
	return at
}

func millis(v ...int) []time.Duration {
	d := make([]time.Duration, len(v))
	for i, x := range v {
		d[i] = time.Duration(x) * time.Millisecond
	}
	return d
}

func TestPaceReleasesOnSchedule(t *testing.T) {
	t.Parallel()
	crowd := crowdSchedule{{At: 0}, {At: 30 * time.Millisecond}, {At: 30 * time.Millisecond}, {At: 700 * time.Millisecond}}
	for _, c := range []struct {
		name     string
		s        schedule
		cancelAt time.Duration // 0: never
		hold     time.Duration // how long the first release blocks
		want     []time.Duration
	}{
		{"constant rate", newConstantRate(4, time.Second), 0, 0, millis(0, 250, 500, 750)},
		{"crowd", crowd, 0, 0, millis(0, 30, 30, 700)},
		{"empty crowd", crowdSchedule(nil), 0, 0, nil},
		{"cancelled", newConstantRate(4, time.Second), 600 * time.Millisecond, 0, millis(0, 250, 500)},
		{"crowd cancelled", crowd, 100 * time.Millisecond, 0, millis(0, 30, 30)},
		// The first release is held up 600ms: the events due meanwhile go
		// at once, then the schedule resumes without drift.
		{"held up", newConstantRate(4, time.Second), 0, 600 * time.Millisecond, millis(0, 600, 600, 750)},
		{"crowd held up", crowd, 0, 600 * time.Millisecond, millis(0, 600, 600, 700)},
	} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			if got := released(t, ctx, c.s, c.hold); !slices.Equal(got, c.want) {
				t.Errorf("%s: released at %v; want %v", c.name, got, c.want)
			}
		})
	}
}

func TestPaceStopsWhenReleaseSaysSo(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var got []int
		n := pace(context.Background(), time.Now(), newConstantRate(100, time.Second), func(n int, _ time.Time) bool {
			got = append(got, n)
			return n < 2
		})
		if want := []int{0, 1, 2}; !slices.Equal(got, want) || n != 2 {
			t.Errorf("released %v, returned %d; want %v, 2 (event 2 refused)", got, n, want)
		}
	})
}

// pace returns how many events it released, whatever stopped it.
func TestPaceReturnsReleased(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		s        schedule
		cancelAt time.Duration // 0: never
		want     int
	}{
		{"schedule ends", newConstantRate(4, time.Second), 0, 4},
		{"empty crowd", crowdSchedule(nil), 0, 0},
		{"cancelled", newConstantRate(4, time.Second), 600 * time.Millisecond, 3},
	} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if c.cancelAt > 0 {
				time.AfterFunc(c.cancelAt, cancel)
			}
			if got := pace(ctx, time.Now(), c.s, func(int, time.Time) bool { return true }); got != c.want {
				t.Errorf("%s: pace = %d; want %d", c.name, got, c.want)
			}
		})
	}
}

// unreleased lists the events from n on that were due before until: the
// ones a pacer that stopped at n never released.
func TestUnreleased(t *testing.T) {
	t.Parallel()
	start := time.Date(2021, time.May, 23, 12, 0, 0, 0, time.UTC)
	crowd := crowdSchedule{{At: 0}, {At: 30 * time.Millisecond}, {At: 30 * time.Millisecond}, {At: 700 * time.Millisecond}}
	for _, c := range []struct {
		name  string
		s     schedule
		n     int
		until time.Duration
		want  []time.Duration
	}{
		{"all released", newConstantRate(4, time.Second), 4, time.Second, nil},
		{"stopped at 1", newConstantRate(4, time.Second), 1, time.Second, millis(250, 500, 750)},
		{"until excludes", newConstantRate(4, time.Second), 1, 500 * time.Millisecond, millis(250)},
		{"3/s", newConstantRate(3, time.Second), 0, time.Second, []time.Duration{0, 333333333, 666666667}},
		{"crowd", crowd, 1, 700 * time.Millisecond, millis(30, 30)},
		{"crowd to the end", crowd, 2, time.Hour, millis(30, 700)},
	} {
		var got []time.Duration
		unreleased(start, c.s, c.n, start.Add(c.until), func(due time.Time) { got = append(got, due.Sub(start)) })
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: unreleased(from %d, until %v) = %v; want %v", c.name, c.n, c.until, got, c.want)
		}
	}
}
