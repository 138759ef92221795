package models

import (
	"fmt"
	"regexp"
	"time"
)

// RateLimit is a limiter in front of something other than one partition:
// the gateway in front of every partition of a design (a CDN, a WAF, an API
// gateway), or the service a journey step calls (a login or OTP provider, a
// captcha). Rate and Burst make a token bucket (requests per second, its
// depth; 0 Burst: the rate rounded up, at least 1); MaxInFlight bounds the
// requests inside at once. Zero means unlimited for each. A refusal is a
// 429 with Retry-After, never a queue.
type RateLimit struct {
	Rate        float64 `json:"rate,omitempty" yaml:"rate"`
	Burst       int     `json:"burst,omitempty" yaml:"burst"`
	MaxInFlight int     `json:"max_in_flight,omitempty" yaml:"max_in_flight"`
}

// On reports whether the limit limits anything.
func (l RateLimit) On() bool { return l.Rate > 0 || l.MaxInFlight > 0 }

// Validate returns every problem of the limit.
func (l RateLimit) Validate() []error {
	var errs []error
	if !(l.Rate >= 0) {
		errs = append(errs, fmt.Errorf("rate %v is negative", l.Rate))
	}
	if l.Burst < 0 {
		errs = append(errs, fmt.Errorf("burst %d is negative", l.Burst))
	}
	if l.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("max_in_flight %d is negative", l.MaxInFlight))
	}
	return errs
}

// StepService is the server's side of one journey step that calls a
// service (POST /api/v1/steps/{name} on the reference server): the step's
// name, the share of calls that fail (a wrong OTP, a captcha to solve
// again) and the service's own limits.
type StepService struct {
	Name string
	// Fail in [0,1] is the share of calls answered as failed.
	Fail   float64
	Limits RateLimit
}

// stepName is what a step name may hold: it becomes part of a path.
var stepName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidStepName reports whether name may name a step: a lower-case letter,
// then up to 31 lower-case letters, digits, '_' or '-'.
func ValidStepName(name string) bool { return stepName.MatchString(name) }

// Validate returns every problem of the step service.
func (s StepService) Validate() []error {
	var errs []error
	if !ValidStepName(s.Name) {
		errs = append(errs, fmt.Errorf("step name %q: want a lower-case letter, then lower-case letters, digits, '_' or '-'", s.Name))
	}
	if !(s.Fail >= 0 && s.Fail <= 1) {
		errs = append(errs, fmt.Errorf("step %s: fail %v is not in [0, 1]", s.Name, s.Fail))
	}
	return append(errs, s.Limits.Validate()...)
}

// StateOpening is when booking opens for the centres of one state,
// measured from the announced opening (t=0).
type StateOpening struct {
	State string
	At    time.Duration
}
