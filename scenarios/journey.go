package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
)

// StepSpec is one step of the journey before booking (journey.steps[]): a
// login, an OTP, a captcha. The user spends Delay on it (typing, waiting for
// the SMS), then either calls its service (when Service sets a path or a
// limit: the reference server's POST /api/v1/steps/NAME, which fails the
// Fail share of calls and applies the service's limits) or, without a
// service, fails it by itself with the Fail share (a captcha solved
// wrong). A failed step is tried again, after the retry policy's backoff
// and the Delay again, while patience lasts.
type StepSpec struct {
	// Name is login, otp, captcha or a name of your own: a lower-case
	// letter, then lower-case letters, digits, '_' or '-'.
	Name  string        `yaml:"name"`
	Delay time.Duration `yaml:"delay"`
	// Fail is the share of attempts that fail, written as a percent
	// ("5%"); empty: none.
	Fail    string      `yaml:"fail"`
	Service ServiceSpec `yaml:"service"`
}

// ServiceSpec is the service a step calls. Path is given to API profiles
// as .StepPath (default /api/v1/steps/NAME; the built-in profile posts to
// the reference server's /api/v1/steps/NAME whatever it says); Limits are
// the service's own, whatever the design. A step whose service sets
// neither makes no call.
type ServiceSpec struct {
	Path   string           `yaml:"path"`
	Limits models.RateLimit `yaml:"limits"`
}

// Calls reports whether the step calls its service.
func (st StepSpec) Calls() bool { return st.Service.Path != "" || st.Service.Limits.On() }

// CallPath is the path of the step's call: Service.Path or the reference
// server's /api/v1/steps/NAME.
func (st StepSpec) CallPath() string {
	if st.Service.Path != "" {
		return st.Service.Path
	}
	return "/api/v1/steps/" + st.Name
}

// FailShare is Fail as a share in [0,1]; 0 when empty or invalid
// (Validate reports it).
func (st StepSpec) FailShare() float64 {
	x, _ := ParsePercent(st.Fail)
	return x
}

// ReturnSpec is who comes back after giving up (journey.returns): Share of
// the people who gave up return, with the same person id, either After
// their giving up or at the next opening of their state
// (crowd.openings, the API's opening for states without one) after it.
// A return is one more visit of the same person: the person counts once
// among the users who arrived, and the requests of every visit count.
// Each person returns at most once.
type ReturnSpec struct {
	// Share is a percent ("30%"); empty: nobody returns.
	Share         string        `yaml:"share"`
	After         time.Duration `yaml:"after"`
	AtNextOpening bool          `yaml:"at_next_opening"`
}

// ShareValue is Share as a share in [0,1]; 0 when empty or invalid.
func (r ReturnSpec) ShareValue() float64 {
	x, _ := ParsePercent(r.Share)
	return x
}

// OpeningSpec is when booking opens for the centres of one state
// (crowd.openings[]), from the announced opening (t=0). A state may be
// listed more than once: booking opens at its first opening, and each
// later one is an announced opening people who gave up may come back to
// (journey.returns.at_next_opening). States not listed open at
// crowd.opening_delay.
type OpeningSpec struct {
	State string        `yaml:"state"`
	At    time.Duration `yaml:"at"`
}

// ParsePercent parses a percent such as "30%" or "2.5%" into a share in
// [0,1]. The empty string is 0.
func ParsePercent(s string) (float64, error) {
	if s == "" {
		return 0, nil
	}
	num, ok := strings.CutSuffix(strings.TrimSpace(s), "%")
	if !ok {
		return 0, fmt.Errorf("want a percent such as \"5%%\", got %q", s)
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || math.IsNaN(x) || x < 0 || x > 100 {
		return 0, fmt.Errorf("want a percent between 0%% and 100%%, got %q", s)
	}
	return x / 100, nil
}

// StateOpenings returns each state's openings in order, from t=0: those
// crowd.openings lists, and for every other state of the inventory the
// API's opening (crowd.opening_delay). It returns nil when crowd.openings
// is empty: every state opens at crowd.opening_delay. Safe for concurrent
// use.
func (s *Scenario) StateOpenings() map[string][]time.Duration {
	if len(s.Crowd.Openings) == 0 {
		return nil
	}
	out := map[string][]time.Duration{}
	for _, o := range s.Crowd.Openings {
		out[o.State] = append(out[o.State], o.At)
	}
	for st := range out {
		sort.Slice(out[st], func(i, j int) bool { return out[st][i] < out[st][j] })
	}
	for _, pv := range s.BuildInventory().PPVs {
		if _, ok := out[pv.State]; !ok {
			out[pv.State] = []time.Duration{s.Crowd.OpeningDelay}
		}
	}
	return out
}

// StepServices returns the server's side of the steps that call a
// service: name, failure share, limits. Safe for concurrent use.
func (s *Scenario) StepServices() []models.StepService {
	var out []models.StepService
	for _, st := range s.Journey.Steps {
		if st.Calls() {
			out = append(out, models.StepService{Name: st.Name, Fail: st.FailShare(), Limits: st.Service.Limits})
		}
	}
	return out
}

// scaleRateLimit scales a global limit (the gateway, a step's service) as
// Scaled scales the crowd, so that a smaller run meets the same limits in
// proportion: rate, burst and in-flight bound times f.
func scaleRateLimit(l models.RateLimit, f float64) models.RateLimit {
	l.Rate *= f
	l.Burst = scaleCount(l.Burst, f)
	l.MaxInFlight = scaleCount(l.MaxInFlight, f)
	return l
}

// scaleJourneyLimits scales the gateway's and the step services' limits by
// f (see scaleRateLimit); Scaled calls it on its copy.
func (s *Scenario) scaleJourneyLimits(f float64) {
	s.Gateway = scaleRateLimit(s.Gateway, f)
	steps := make([]StepSpec, len(s.Journey.Steps))
	copy(steps, s.Journey.Steps)
	for i := range steps {
		steps[i].Service.Limits = scaleRateLimit(steps[i].Service.Limits, f)
	}
	if len(steps) > 0 {
		s.Journey.Steps = steps
	}
}

// validateJourneyExtras checks the steps, returns, openings and gateway.
func (s *Scenario) validateJourneyExtras(v *validator) {
	if n := len(s.Journey.Steps); n > MaxSteps {
		v.add("journey.steps", "%d steps: want at most %d", n, MaxSteps)
	}
	seen := map[string]int{}
	for i, st := range s.Journey.Steps {
		f := fmt.Sprintf("journey.steps[%d]", i)
		if !models.ValidStepName(st.Name) {
			v.add(f+".name", "%q: want a lower-case letter, then lower-case letters, digits, '_' or '-' (at most 32)", st.Name)
		} else if j, dup := seen[st.Name]; dup {
			v.add(f+".name", "%q repeats journey.steps[%d]", st.Name, j)
		}
		seen[st.Name] = i
		v.nonNegative(f+".delay", st.Delay)
		if _, err := ParsePercent(st.Fail); err != nil {
			v.add(f+".fail", "%v", err)
		} else if st.FailShare() >= 1 {
			v.add(f+".fail", "100%% would fail everyone for ever: want less")
		}
		if p := st.Service.Path; p != "" && (!strings.HasPrefix(p, "/") || strings.ContainsAny(p, " ?#")) {
			v.add(f+".service.path", "%q: want an absolute path such as /api/v1/steps/%s", p, st.Name)
		}
		validateRateLimit(v, f+".service.limits", st.Service.Limits)
	}
	s.validateReturns(v)
	states := map[string]bool{}
	for _, pv := range s.BuildInventory().PPVs {
		states[pv.State] = true
	}
	for i, o := range s.Crowd.Openings {
		f := fmt.Sprintf("crowd.openings[%d]", i)
		if !states[o.State] {
			v.add(f+".state", "%q is the state of no centre of the inventory", o.State)
		}
		v.nonNegative(f+".at", o.At)
	}
	validateRateLimit(v, "gateway", s.Gateway)
}

// validateReturns checks journey.returns: a share, and when it is above 0
// exactly one of after and at_next_opening.
func (s *Scenario) validateReturns(v *validator) {
	r := s.Journey.Returns
	const f = "journey.returns"
	if _, err := ParsePercent(r.Share); err != nil {
		v.add(f+".share", "%v", err)
		return
	}
	v.nonNegative(f+".after", r.After)
	if r.ShareValue() == 0 {
		return
	}
	switch {
	case r.After > 0 && r.AtNextOpening:
		v.add(f+".at_next_opening", "set either after or at_next_opening, not both")
	case r.After <= 0 && !r.AtNextOpening:
		v.add(f+".share", "say when people come back: set after (a duration) or at_next_opening: true")
	}
}

// validateRateLimit checks a gateway's or a service's limits.
func validateRateLimit(v *validator, f string, l models.RateLimit) {
	v.rate(f+".rate", l.Rate, MaxRate)
	v.count(f+".burst", l.Burst, MaxCount)
	v.count(f+".max_in_flight", l.MaxInFlight, MaxCount)
}

// MaxSteps is the most steps a journey may have before booking.
const MaxSteps = 32

// journeyParameters are Parameters' lines for the journey's steps, its
// returns, the per-state openings and the gateway: none when unset.
func (s *Scenario) journeyParameters() [][2]string {
	var p [][2]string
	if steps := s.Journey.Steps; len(steps) > 0 {
		parts := make([]string, len(steps))
		for i, st := range steps {
			parts[i] = st.Name + " " + st.Delay.String()
			if f := st.FailShare(); f > 0 {
				parts[i] += fmt.Sprintf(" (%s%% fail)", num(100*f))
			}
			if st.Service.Limits.On() {
				parts[i] += ", its service " + describeRateLimit(st.Service.Limits)
			}
		}
		p = append(p, [2]string{"journey steps", strings.Join(parts, "; ")})
	}
	if r := s.Journey.Returns; r.ShareValue() > 0 {
		when := "after " + r.After.String()
		if r.AtNextOpening {
			when = "at their state's next opening"
		}
		p = append(p, [2]string{"returns", fmt.Sprintf("%s%% of those who gave up come back %s", num(100*r.ShareValue()), when)})
	}
	if len(s.Crowd.Openings) > 0 {
		parts := make([]string, len(s.Crowd.Openings))
		for i, o := range s.Crowd.Openings {
			parts[i] = o.State + " at " + o.At.String()
		}
		p = append(p, [2]string{"openings", strings.Join(parts, ", ")})
	}
	if s.Gateway.On() {
		p = append(p, [2]string{"gateway", describeRateLimit(s.Gateway) + ", in front of every partition"})
	}
	return p
}

// describeRateLimit writes a gateway's or a step service's limit:
// "4,500 req/s (burst 9,000), 2,000 in flight".
func describeRateLimit(l models.RateLimit) string {
	var parts []string
	if l.Rate > 0 {
		r := num(l.Rate) + " req/s"
		if l.Rate == math.Trunc(l.Rate) && l.Rate < math.MaxInt32 {
			r = commas(int(l.Rate)) + " req/s"
		}
		if l.Burst > 0 {
			r += fmt.Sprintf(" (burst %s)", commas(l.Burst))
		}
		parts = append(parts, r)
	}
	if l.MaxInFlight > 0 {
		parts = append(parts, commas(l.MaxInFlight)+" in flight")
	}
	return strings.Join(parts, ", ")
}
