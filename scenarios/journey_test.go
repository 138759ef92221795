package scenarios

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePercent(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want float64
		err  bool
	}{
		{"", 0, false},
		{"30%", 0.3, false},
		{"2.5%", 0.025, false},
		{"100%", 1, false},
		{"30", 0, true},
		{"-1%", 0, true},
		{"101%", 0, true},
		{"NaN%", 0, true},
		{"x%", 0, true},
	} {
		got, err := ParsePercent(tc.in)
		if (err != nil) != tc.err || (err == nil && got != tc.want) {
			t.Errorf("ParsePercent(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzParsePercent(f *testing.F) {
	for _, s := range []string{"", "5%", "100%", "1e2%", " 3 %", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		x, err := ParsePercent(s)
		if err == nil && !(x >= 0 && x <= 1) {
			t.Fatalf("ParsePercent(%q) = %v; want a share in [0,1]", s, x)
		}
	})
}

// TestJourneyExtrasMessages places each problem of the steps, returns,
// openings and gateway at its file:line:col.
func TestJourneyExtrasMessages(t *testing.T) {
	t.Parallel()
	const doc = `inventory: {daily_capacity: 10, states: [x]}
crowd:
  size: 400
  arrival: {over: 2s}
  openings:
    - {state: nowhere, at: 1s}
journey:
  steps:
    - {name: Login, fail: 5}
    - {name: otp, fail: 150%}
  returns: {share: 30%}
gateway: {rate: -1}
`
	_, err := Parse("t.yaml", []byte(doc))
	if err == nil {
		t.Fatal("Parse: no error")
	}
	for _, want := range []string{
		`t.yaml:6:15: crowd.openings[0].state: "nowhere" is the state of no centre`,
		`t.yaml:9:14: journey.steps[0].name: "Login"`,
		`t.yaml:9:27: journey.steps[0].fail: want a string, got`,
		`t.yaml:10:25: journey.steps[1].fail: want a percent between 0% and 100%`,
		`t.yaml:11:20: journey.returns.share: say when people come back`,
		`t.yaml:12:17: gateway.rate: must be at least 0, got -1`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
}

func TestCowinPreset(t *testing.T) {
	t.Parallel()
	sc, err := Load("cowin-2021-04-28")
	if err != nil {
		t.Fatal(err)
	}
	if !sc.Gateway.On() || len(sc.Journey.Steps) != 3 || len(sc.StepServices()) != 2 || len(sc.StateOpenings()) != 4 {
		t.Errorf("cowin preset: gateway %+v, %d steps, %d services, %d state openings; want a gateway, 3 steps, 2 services, 4 states",
			sc.Gateway, len(sc.Journey.Steps), len(sc.StepServices()), len(sc.StateOpenings()))
	}
	small := sc.Scaled(0.1)
	if small.Gateway.Rate != sc.Gateway.Rate*0.1 || sc.Journey.Steps[0].Service.Limits.Rate == small.Journey.Steps[0].Service.Limits.Rate {
		t.Errorf("Scaled(0.1) gateway rate %v, login rate %v; want both a tenth, the original untouched", small.Gateway.Rate, small.Journey.Steps[0].Service.Limits.Rate)
	}
}

// A journey of more than MaxSteps steps is refused at journey.steps.
func TestJourneyTooManySteps(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("inventory: {daily_capacity: 10, states: [x]}\ncrowd: {size: 10, arrival: {over: 2s}}\njourney:\n  steps:\n")
	for i := range MaxSteps + 1 {
		fmt.Fprintf(&b, "    - {name: s%d, delay: 1s}\n", i)
	}
	_, err := Parse("t.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("t.yaml:4:3: journey.steps: %d steps: want at most %d", MaxSteps+1, MaxSteps)) {
		t.Errorf("Parse: %v; want journey.steps: too many steps, placed", err)
	}
}

// A room sized from its partitions' limits, in front of partitions with
// no write_rate or read_rate, would admit nobody: refused, placed.
func TestRoomSizedFromNoLimits(t *testing.T) {
	t.Parallel()
	const doc = `inventory: {daily_capacity: 10, states: [x]}
crowd: {size: 10, arrival: {over: 2s}}
designs:
  - name: per-ppv-day+centre-rooms
    limits: {max_in_flight: 4}
`
	_, err := Parse("t.yaml", []byte(doc))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:5:5: designs[0].limits: the waiting room is sized from the partitions' write_rate and read_rate") {
		t.Errorf("Parse: %v; want the room's sizing refused at designs[0].limits", err)
	}
}
