package sim

import (
	"context"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

func stepsUser() *scenarios.Arrival {
	return &scenarios.Arrival{Index: 0, PersonID: "p0", State: "selangor", PPVs: []string{"a"}, Seed: 7, Behaviour: scenarios.Patient}
}

// TestJourneySteps walks the steps before listing: a call that fails once
// and is retried after backoff plus its delay, then listing.
func TestJourneySteps(t *testing.T) {
	t.Parallel()
	p := Policy{Backoff: time.Second, MaxBackoff: time.Second, Patience: time.Hour,
		Steps: []StepPolicy{{Name: "otp", Path: "/api/v1/steps/otp", Delay: 20 * time.Second, Call: true}}}
	j := NewJourney(stepsUser(), p)
	for i, tc := range []struct {
		resp    Response
		wantOp  string
		wantW   time.Duration
		wantEnd bool
	}{
		{Response{}, results.OpStep, 20 * time.Second, false}, // Start
		{Response{Status: 422, Code: CodeStepFailed}, results.OpStep, 21 * time.Second, false},
		{Response{Status: 200}, results.OpListPPVs, 0, false},
	} {
		var act Action
		if i == 0 {
			act = j.Start()
		} else {
			act = j.Next(tc.resp, time.Minute)
		}
		if act.Done != tc.wantEnd || act.Req.Op != tc.wantOp || act.Wait != tc.wantW {
			t.Fatalf("step %d: action = %+v; want op %s after %v", i, act, tc.wantOp, tc.wantW)
		}
		if tc.wantOp == results.OpStep && act.Req.Step != "otp" {
			t.Fatalf("step %d: Req.Step = %q; want otp", i, act.Req.Step)
		}
	}
	if j.Requests != 3 || j.Retries != 1 {
		t.Errorf("Requests, Retries = %d, %d; want 3, 1", j.Requests, j.Retries)
	}
}

// TestJourneyStepWithoutService spends a client-only step in the wait
// before listing, and gives up when that is beyond patience.
func TestJourneyStepWithoutService(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		patience time.Duration
		wantDone bool
	}{
		{"patient", time.Hour, false},
		{"impatient", time.Second, true},
	} {
		p := Policy{Backoff: time.Second, MaxBackoff: time.Second, Patience: tc.patience,
			Steps: []StepPolicy{{Name: "captcha", Delay: 5 * time.Second}}}
		act := NewJourney(stepsUser(), p).Start()
		if act.Done != tc.wantDone {
			t.Fatalf("%s: Start() = %+v; want done %v", tc.name, act, tc.wantDone)
		}
		if !tc.wantDone && (act.Req.Op != results.OpListPPVs || act.Wait != 5*time.Second) {
			t.Errorf("%s: Start() = %+v; want list_ppvs after 5s", tc.name, act)
		}
	}
}

// TestJourneyReturn brings a person who gave up back after the set time
// or at the next opening of their state, once.
func TestJourneyReturn(t *testing.T) {
	t.Parallel()
	opens := map[string][]time.Duration{"selangor": {0, 10 * time.Minute}}
	for _, tc := range []struct {
		name    string
		r       ReturnPolicy
		elapsed time.Duration
		want    time.Duration
		ok      bool
	}{
		{"after", ReturnPolicy{Share: 1, After: time.Minute}, 0, time.Minute, true},
		{"next opening", ReturnPolicy{Share: 1, AtNextOpening: true}, 4 * time.Minute, 6 * time.Minute, true},
		{"no opening left", ReturnPolicy{Share: 1, AtNextOpening: true}, 11 * time.Minute, 0, false},
		{"off", ReturnPolicy{}, 0, 0, false},
	} {
		j := NewJourney(stepsUser(), Policy{Patience: time.Minute, Returns: tc.r, Openings: opens})
		j.Start()
		got, ok := j.Return(tc.elapsed)
		if ok != tc.ok || got != tc.want {
			t.Errorf("%s: Return(%v) = %v, %v; want %v, %v", tc.name, tc.elapsed, got, ok, tc.want, tc.ok)
		}
		if !ok {
			continue
		}
		j.Revisit(tc.elapsed + got)
		if act := j.Start(); act.Done || j.Requests != 2 {
			t.Errorf("%s: revisit Start() = %+v with %d requests; want a request, 2 in all", tc.name, act, j.Requests)
		}
		if _, again := j.Return(time.Hour); again {
			t.Errorf("%s: a second Return; want one at most", tc.name)
		}
	}
}

// TestModelGatewayStepsReturns runs a small rush through the model with a
// tight gateway, a step calling a service, per-state openings and
// returns: the gateway refuses some requests (counted apart), the steps
// add requests, and each person counts once.
func TestModelGatewayStepsReturns(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	sc.Gateway = models.RateLimit{Rate: 50, Burst: 10, MaxInFlight: 20}
	sc.Journey.Steps = []scenarios.StepSpec{{Name: "login", Delay: time.Second, Fail: "10%", Service: scenarios.ServiceSpec{Limits: models.RateLimit{Rate: 500}}}}
	sc.Journey.Returns = scenarios.ReturnSpec{Share: "50%", After: 5 * time.Second}
	sc.Crowd.Openings = []scenarios.OpeningSpec{{State: sc.BuildInventory().PPVs[0].State, At: 2 * time.Second}}
	sc.Duration += 10 * time.Second
	if errs := sc.Validate(); len(errs) > 0 {
		t.Fatal(errs)
	}
	designs, err := sc.BuildDesigns([]string{"per-ppv-day"})
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := Simulate(context.Background(), sc, designs, 1)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Designs[0]
	if d.Requests.GatewayThrottled == 0 || d.Requests.GatewayThrottled > d.Requests.ByStatus["429"] {
		t.Errorf("gateway_throttled = %d of %d 429s; want some, at most the 429s", d.Requests.GatewayThrottled, d.Requests.ByStatus["429"])
	}
	if d.Users.Arrived != int64(sc.Crowd.Size) {
		t.Errorf("users arrived = %d; want %d (a return is the same person)", d.Users.Arrived, sc.Crowd.Size)
	}
	if d.LatencyMs[results.OpStep].Count == 0 {
		t.Errorf("no step requests recorded")
	}
	if got := d.Users.Booked + d.Users.GaveUp + d.Users.StillWaiting; got != d.Users.Arrived {
		t.Errorf("booked+gave_up+waiting = %d; want arrived %d", got, d.Users.Arrived)
	}
}

// TestModelGatewayRefusalHoldsNoTurn: a request the gateway refuses at its
// in-flight bound takes no turn: the one inside still holds the only
// turn, and nothing is scheduled to leave for the refusal.
func TestModelGatewayRefusalHoldsNoTurn(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "ci-smoke")
	sc.Gateway = models.RateLimit{Rate: 1000, Burst: 100, MaxInFlight: 1}
	m := newTestModelRun(t, sc, "per-ppv-day")
	if !m.gateway(0) {
		t.Fatal("the first request was refused")
	}
	if m.gateway(1) {
		t.Fatal("a second request got in past max_in_flight 1")
	}
	if gw := m.ext.gw; gw.inflight != 1 || len(gw.leaves) != 0 || gw.refused != 1 {
		t.Errorf("after a refusal: %d in flight, %d leaving, %d refused; want 1, 0, 1", gw.inflight, len(gw.leaves), gw.refused)
	}
}
