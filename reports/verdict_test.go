package reports

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	only := func(names ...string) func(*Result) {
		return func(r *Result) {
			var keep []DesignResult
			for _, d := range r.Designs {
				for _, n := range names {
					if d.Design == n {
						keep = append(keep, d)
					}
				}
			}
			r.Designs = keep
		}
	}
	tests := []struct {
		name         string
		change       func(*Result)
		wantHeadline string
		wantDetails  []string // each must appear in some detail
		wantWarnings []string
		best, worst  string
	}{
		{
			name:         "three designs",
			wantHeadline: "per-ppv-day booked 5,812 of 6,000 places (97%) with 0.4% errors; monolithic booked 1,204 (20%) with 40% of requests throttled or shed.",
			wantDetails: []string{
				"With per-ppv-day, 39% of the 15,000 people who tried got a place and 61% gave up; with monolithic, 8% got a place and 77% gave up.",
				"per-ppv-day sold 97% of its places in 40 s (half within 4 s); monolithic sold 20% of its places in 40 s.",
				"99 in 100 booking requests were answered within 78 ms with per-ppv-day, against 10 s with monolithic.",
				"Each person sent 6.4 requests on average with monolithic",
				"per-ppv booked 4,371 (73%) with 12% errors.",
			},
			best: "per-ppv-day", worst: "monolithic",
		},
		{
			name:         "one design",
			change:       only("per-ppv"),
			wantHeadline: "per-ppv booked 4,371 of 6,000 places (73%) with 12% errors.",
			wantDetails:  []string{"With per-ppv, 29% of the 15,000 people who tried got a place and 66% gave up."},
			best:         "per-ppv", worst: "per-ppv",
		},
		{
			name:         "simulated",
			change:       func(r *Result) { r.Engine = EngineModel },
			wantHeadline: "SIMULATED (model) results: per-ppv-day booked 5,812 of 6,000 places (97%)",
			best:         "per-ppv-day", worst: "monolithic",
		},
		{
			name: "sold out",
			change: func(r *Result) {
				only("per-ppv-day", "monolithic")(r)
				d, _ := r.Design("per-ppv-day")
				d.Slots.Capacity = d.Slots.Booked
			},
			wantHeadline: "per-ppv-day booked 5,812 of 5,812 places (100%) with 0.4% errors; monolithic booked 1,204 of 6,000 places (20%)",
			wantDetails:  []string{"per-ppv-day sold out 40 s after the start"},
			best:         "per-ppv-day", worst: "monolithic",
		},
		{
			name: "errors that are not throttling",
			change: func(r *Result) {
				d, _ := r.Design("monolithic")
				d.Requests.TransportErrors += d.Requests.ByStatus["429"] + d.Requests.ByStatus["503"]
				delete(d.Requests.ByStatus, "429")
				delete(d.Requests.ByStatus, "503")
			},
			wantHeadline: "monolithic booked 1,204 (20%) with 40% of requests refused, failed or timed out.",
			best:         "per-ppv-day", worst: "monolithic",
		},
		{
			name: "broken invariants and caveats",
			change: func(r *Result) {
				d, _ := r.Design("per-ppv")
				d.Slots.Oversold = 3
				d, _ = r.Design("monolithic")
				d.Slots.Missing = 2
				d, _ = r.Design("per-ppv-day")
				d.Slots.Persisted = -1
				r.Interrupted = true
			},
			wantWarnings: []string{
				"per-ppv sold 3 places beyond capacity (oversold)",
				"monolithic answered 201 to 2 bookings that are not in the store",
				"per-ppv-day: the store was not audited",
				"was interrupted",
			},
			best: "per-ppv-day", worst: "monolithic",
		},
		{
			name: "tie on places goes to more people, then fewer errors",
			change: func(r *Result) {
				only("per-ppv", "per-ppv-day")(r)
				d, _ := r.Design("per-ppv")
				d.Slots.Booked = 5812
			},
			best: "per-ppv-day", worst: "per-ppv",
		},
		{
			name: "no capacity, no requests",
			change: func(r *Result) {
				only("per-ppv")(r)
				d := &r.Designs[0]
				d.Slots = Slots{Booked: 10}
				d.Requests = Requests{}
				d.Users = Users{}
				d.LatencyMs = nil
				d.Timeline = nil
			},
			wantHeadline: "per-ppv booked 10 places with no requests recorded.",
			best:         "per-ppv", worst: "per-ppv",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fixture()
			if tt.change != nil {
				tt.change(r)
			}
			v := Judge(r)
			if !strings.HasPrefix(v.Headline, tt.wantHeadline) && !strings.Contains(v.Headline, tt.wantHeadline) {
				t.Errorf("Headline = %q; want %q", v.Headline, tt.wantHeadline)
			}
			for _, w := range tt.wantDetails {
				if !containsAny(v.Details, w) {
					t.Errorf("Details lack %q:\n%s", w, strings.Join(v.Details, "\n"))
				}
			}
			for _, w := range tt.wantWarnings {
				if !containsAny(v.Warnings, w) {
					t.Errorf("Warnings lack %q:\n%s", w, strings.Join(v.Warnings, "\n"))
				}
			}
			if len(tt.wantWarnings) == 0 && len(v.Warnings) > 0 {
				t.Errorf("Warnings = %q; want none", v.Warnings)
			}
			if v.Best != tt.best || v.Worst != tt.worst {
				t.Errorf("Best, Worst = %q, %q; want %q, %q", v.Best, v.Worst, tt.best, tt.worst)
			}
			if v.Simulated != (r.Engine == EngineModel) {
				t.Errorf("Simulated = %v; want %v", v.Simulated, r.Engine == EngineModel)
			}
		})
	}
}

func containsAny(ss []string, sub string) bool {
	for _, s := range ss {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestJudgeEmpty(t *testing.T) {
	t.Parallel()
	if v := Judge(); v.Headline != "No design results to judge." {
		t.Errorf("Judge() = %q", v.Headline)
	}
}

func TestFormatting(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ got, want string }{
		{commas(0), "0"}, {commas(999), "999"}, {commas(5812), "5,812"}, {commas(-1234567), "-1,234,567"},
		{pct(0.97), "97%"}, {pct(0.004), "0.4%"}, {pct(0.0004), "0.04%"}, {pct(0.042), "4.2%"}, {pct(0), "0%"}, {pct(0.00001), "<0.01%"},
		{ms(0.42), "0.42 ms"}, {ms(4.1), "4.1 ms"}, {ms(78.4), "78 ms"}, {ms(1500), "1.5 s"}, {ms(10035), "10 s"},
		{seconds(4), "4 s"}, {seconds(40), "40 s"}, {seconds(250), "4 min 10 s"},
		{ninesLabel(1), "90%"}, {ninesLabel(2), "99%"}, {ninesLabel(4), "99.99%"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}
