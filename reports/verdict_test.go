package reports

import (
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

func TestJudge(t *testing.T) {
	t.Parallel()
	only := func(names ...string) func(*results.Result) {
		return func(r *results.Result) { keepDesigns(r, names...) }
	}
	tests := []struct {
		name         string
		change       func(*results.Result)
		wantHeadline string
		wantDetails  []string // each must appear in some detail
		wantPeople   []string // each must appear in some sentence about people
		notPeople    []string // none may appear in them
		wantWarnings []string
		best, worst  string
	}{
		{
			name:         "four designs",
			wantHeadline: "per-ppv-day+waiting-room booked 5,950 of 6,000 places (99%) with <0.01% errors; monolithic booked 1,204 (20%) with 39% of requests throttled or shed.",
			wantDetails: []string{
				"per-ppv-day+waiting-room sold 99% of its places in 40 s (half within 18 s); monolithic sold 20% of its places in 40 s.",
				"99 in 100 booking requests, refusals included, were answered within 28 ms with per-ppv-day+waiting-room, against 10 s with monolithic.",
				"per-ppv-day booked 5,812 (97%) with 0.4% errors.",
				"per-ppv booked 4,371 (73%) with 12% errors.",
			},
			wantPeople: []string{
				"With per-ppv-day+waiting-room, 40% of the 15,000 people who tried got a place, 52% gave up and 8% were still trying when the run ended; with monolithic, 8% got a place, 77% gave up and 15% were still trying when the run ended.",
				"With monolithic the booking API received 3.8× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs; 11.5 requests per person): most of its load was retries.",
				"With per-ppv, per-ppv-day and per-ppv-day+waiting-room the booking API received between 1× and 1.4× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs; 2.5 to 4.2 requests per person): few retries.",
				"With monolithic the load fed on itself: requests per second rose from 3,400 to 5,000 while places booked per second fell from 46 to 18, though places were still free.",
				"per-ppv-day+waiting-room served people almost strictly in arrival order (fairness ρ 0.80, where strictly first come, first served would score 0.85 and a lottery 0); monolithic was close to a lottery: arriving early helped a little (ρ 0.12 of a possible 0.47).",
				"Half of those who finished knew where they stood (booked or gave up) within 11 s of arriving with per-ppv-day (99 in 100 within 31 s), against 19 s with per-ppv-day+waiting-room (31 s).",
			},
			notPeople: []string{"With per-ppv the load", "With per-ppv-day the load"}, // no storm where load fell or places sold out
			wantWarnings: []string{
				"monolithic: the booking API received 3.8× the requests people made (11.5 per person): most of the load was retries, not people (retry amplification above 3×).",
				"monolithic: 15% of the people (2,316) were still trying when the run ended; their outcome is unknown",
			},
			best: "per-ppv-day+waiting-room", worst: "monolithic",
		},
		{
			name:         "one design",
			change:       only("per-ppv"),
			wantHeadline: "per-ppv booked 4,371 of 6,000 places (73%) with 12% errors.",
			wantPeople: []string{
				"With per-ppv, 29% of the 15,000 people who tried got a place, 66% gave up and 4.7% were still trying when the run ended.",
				"Each person sent the booking API 4.2 requests on average; counting the retries after errors, it received 1.4× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs): few retries.",
				"per-ppv served people only partly in arrival order (fairness ρ 0.38, where strictly first come, first served would score 0.79 and a lottery 0).",
				"Half of those who finished knew where they stood (booked or gave up) within 13 s of arriving, 99 in 100 within 31 s.",
			},
			best: "per-ppv", worst: "per-ppv",
		},
		{
			name:         "simulated",
			change:       func(r *results.Result) { r.Engine = results.EngineModel },
			wantHeadline: "SIMULATED (model) results: per-ppv-day+waiting-room booked 5,950 of 6,000 places (99%)",
			wantWarnings: []string{"retry amplification above 3×", "still trying when the run ended"},
			best:         "per-ppv-day+waiting-room", worst: "monolithic",
		},
		{
			name: "sold out",
			change: func(r *results.Result) {
				only("per-ppv-day", "per-ppv")(r)
				d, _ := r.Design("per-ppv-day")
				d.Slots.Capacity = d.Slots.Booked
			},
			wantHeadline: "per-ppv-day booked 5,812 of 5,812 places (100%) with 0.4% errors; per-ppv booked 4,371 of 6,000 places (73%)",
			wantDetails:  []string{"per-ppv-day sold out 39 s after the start"},
			wantPeople:   []string{"With per-ppv-day, 39% of the 15,000 people who tried got a place, 61% gave up and 0.6% were still trying when the run ended"},
			best:         "per-ppv-day", worst: "per-ppv",
		},
		{
			name: "errors that are not throttling",
			change: func(r *results.Result) {
				d, _ := r.Design("monolithic")
				d.Requests.TransportErrors += d.Requests.ByStatus["429"] + d.Requests.ByStatus["503"]
				delete(d.Requests.ByStatus, "429")
				delete(d.Requests.ByStatus, "503")
			},
			wantHeadline: "monolithic booked 1,204 (20%) with 39% of requests refused, failed or timed out.",
			wantWarnings: []string{"retry amplification above 3×", "still trying when the run ended"},
			best:         "per-ppv-day+waiting-room", worst: "monolithic",
		},
		{
			name: "broken invariants and caveats",
			change: func(r *results.Result) {
				only("per-ppv", "per-ppv-day")(r)
				d, _ := r.Design("per-ppv")
				d.Slots.Oversold = 3
				d.Slots.Missing = 2
				d, _ = r.Design("per-ppv-day")
				d.Slots.Persisted = -1
				r.Interrupted = true
			},
			wantWarnings: []string{
				"per-ppv sold 3 places beyond capacity (oversold)",
				"per-ppv answered 201 to 2 bookings that are not in the store",
				"per-ppv-day: the store was not audited",
				"was interrupted",
			},
			best: "per-ppv-day", worst: "per-ppv",
		},
		{
			name: "tie on places goes to more people, then fewer errors",
			change: func(r *results.Result) {
				only("per-ppv", "per-ppv-day")(r)
				d, _ := r.Design("per-ppv")
				d.Slots.Booked = 5812
			},
			best: "per-ppv-day", worst: "per-ppv",
		},
		{
			name: "no capacity, no requests",
			change: func(r *results.Result) {
				only("per-ppv")(r)
				d := &r.Designs[0]
				d.Slots = results.Slots{Booked: 10}
				d.Requests = results.Requests{}
				d.Users = results.Users{}
				d.LatencyMs = nil
				d.Timeline = nil
			},
			wantHeadline: "per-ppv booked 10 places with no requests recorded.",
			notPeople:    []string{"requests on average", "fairness", "knew where they stood"},
			best:         "per-ppv", worst: "per-ppv",
		},
		{
			name: "waiting room stated only in the assumptions",
			change: func(r *results.Result) {
				only("per-ppv-day+waiting-room", "per-ppv")(r)
				d, _ := r.Design("per-ppv-day+waiting-room")
				d.Design = "front-door"
				d.Users.RequestsPerUser = 16.8
			},
			wantPeople: []string{
				"With front-door the booking API received 4.9× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs; 14.7 requests per person): most of its load was retries.",
				"With per-ppv the booking API received 1.4× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs; 4.2 requests per person): few retries.",
				"Behind front-door's waiting room each person also sent the room 2.1 requests on average",
				"front-door, with its waiting room, served people almost strictly in arrival order",
			},
			wantWarnings: []string{"front-door: the booking API received 4.9× the requests people made (14.7 per person)"},
			best:         "front-door", worst: "per-ppv",
		},
		{
			name: "measured retry amplification",
			change: func(r *results.Result) {
				only("monolithic", "per-ppv-day")(r)
				for i, amp := range []float64{5.2, 1.1} {
					r.Designs[i].Users.RetryAmplification = amp
				}
			},
			wantPeople: []string{
				"With monolithic the booking API received 5.2× the requests people made (retry amplification; 11.5 requests per person): most of its load was retries.",
				"With per-ppv-day the booking API received 1.1× the requests people made (retry amplification; 3.1 requests per person): few retries.",
			},
			notPeople:    []string{"estimated from requests per person"},
			wantWarnings: []string{"monolithic: the booking API received 5.2× the requests people made"},
			best:         "per-ppv-day", worst: "monolithic",
		},
		{
			name: "few retries anywhere, nobody left waiting",
			change: func(r *results.Result) {
				only("per-ppv", "per-ppv-day")(r)
				for i := range r.Designs {
					u := &r.Designs[i].Users
					u.RequestsPerUser = 3.3 + 0.1*float64(i)
					u.GaveUp += u.StillWaiting
					u.StillWaiting = 0
				}
			},
			wantPeople: []string{
				"With every design the booking API received about 1.1× the requests people made (retry amplification, estimated from requests per person over the 3 a booking needs; 3.3 to 3.4 requests per person): few retries.",
				"With per-ppv-day, 39% of the 15,000 people who tried got a place and 61% gave up; with per-ppv, 29% got a place and 71% gave up.",
			},
			best: "per-ppv-day", worst: "per-ppv",
		},
		{
			name: "late comers favoured",
			change: func(r *results.Result) {
				only("per-ppv")(r)
				r.Designs[0].Users.Fairness = -0.5
			},
			wantPeople: []string{"per-ppv favoured late comers over early ones: arriving early hurt a lot (fairness ρ -0.50, where strictly first come, first served would score 0.79"},
			best:       "per-ppv", worst: "per-ppv",
		},
		{
			name: "a negative rho: arriving early hurt",
			change: func(r *results.Result) {
				only("per-ppv")(r)
				r.Designs[0].Users.Fairness = -0.22
			},
			wantPeople: []string{"per-ppv was close to a lottery, but arriving early hurt a little: late comers fared slightly better (fairness ρ -0.22"},
			notPeople:  []string{"barely helped", "helped a little"},
			best:       "per-ppv", worst: "per-ppv",
		},
		{
			name: "booking latency split by answer",
			change: func(r *results.Result) {
				only("monolithic", "per-ppv")(r)
				// An overloaded monolithic refuses fast and books slowly.
				split := map[string][2]float64{"monolithic": {9800, 5.6}, "per-ppv": {153, 2.1}}
				for i := range r.Designs {
					d := &r.Designs[i]
					p := split[d.Design]
					d.LatencyMs[results.OpBookBooked] = results.LatencySummary{P99: p[0], Count: 10}
					d.LatencyMs[results.OpBookRefused] = results.LatencySummary{P99: p[1], Count: 10}
				}
			},
			wantDetails: []string{
				"99 in 100 bookings that succeeded (201) were answered within 153 ms with per-ppv, against 9.8 s with monolithic.",
				"Refusals (429 throttled, 503 shed), which booked nothing, are counted apart: 99 in 100 came back within 2.1 ms with per-ppv, within 5.6 ms with monolithic.",
			},
			wantWarnings: []string{"retry amplification above 3×"},
			best:         "per-ppv", worst: "monolithic",
		},
		{
			name: "no retry storm once sold out",
			change: func(r *results.Result) {
				only("monolithic")(r)
				d := &r.Designs[0]
				d.Slots.Capacity = d.Slots.Booked
			},
			notPeople:    []string{"retry storm"},
			wantWarnings: []string{"retry amplification above 3×", "still trying when the run ended"},
			best:         "monolithic", worst: "monolithic",
		},
		{
			name: "no user histograms",
			change: func(r *results.Result) {
				for i := range r.Designs {
					r.Designs[i].Users.TimeToOutcome = ""
				}
			},
			notPeople:    []string{"knew where they stood"},
			wantWarnings: []string{"retry amplification above 3×", "still trying when the run ended"},
			best:         "per-ppv-day+waiting-room", worst: "monolithic",
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
			for _, w := range tt.wantPeople {
				if !containsAny(v.People, w) {
					t.Errorf("People lack %q:\n%s", w, strings.Join(v.People, "\n"))
				}
			}
			for _, w := range tt.notPeople {
				if containsAny(v.People, w) {
					t.Errorf("People say %q:\n%s", w, strings.Join(v.People, "\n"))
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
			if v.Simulated != (r.Engine == results.EngineModel) {
				t.Errorf("Simulated = %v; want %v", v.Simulated, r.Engine == results.EngineModel)
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

// Results of different crowds are never ranked against each other: Judge
// ranks the first crowd's designs and says the others were left out.
func TestJudgeSeveralCrowds(t *testing.T) {
	t.Parallel()
	small := fixture()
	keepDesigns(small, "per-ppv")
	big := fixture()
	keepDesigns(big, "per-ppv-day", "monolithic")
	big.Engine = results.EngineModel
	big.Parameters = append(big.Parameters, results.Parameter{Name: "scale", Value: "10× the scenario as written"})
	v := Judge(small, big)
	if v.Best != "per-ppv" || v.Worst != "per-ppv" {
		t.Errorf("Best, Worst = %q, %q; want per-ppv twice (the first crowd alone)", v.Best, v.Worst)
	}
	if !containsAny(v.Warnings, "these results faced 2 different crowds or engines") || !containsAny(v.Warnings, "synthetic-rush ×10 (15,000 people, seed 1) by the model engine") {
		t.Errorf("Warnings = %q; want the other crowd named", v.Warnings)
	}
	if strings.Contains(v.Headline, "per-ppv-day") {
		t.Errorf("Headline %q ranks a design of another crowd", v.Headline)
	}
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
		{seconds(4), "4 s"}, {seconds(40), "40 s"}, {seconds(250), "4 min 10 s"}, {seconds(10800), "3 h"}, {seconds(9000 + 29), "2 h 30 min"},
		{ninesLabel(1), "90%"}, {ninesLabel(2), "99%"}, {ninesLabel(4), "99.99%"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
}
