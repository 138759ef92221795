package scenarios

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
)

// FieldError is a problem with one field of a scenario, named by its YAML
// path ("crowd.size", "designs[1].limits.write_rate"). Validate returns
// them; Parse places them at file:line:column.
type FieldError struct {
	Field string
	Err   error
}

// Error returns "field: problem".
func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the problem.
func (e *FieldError) Unwrap() error { return e.Err }

// idPattern is what PPV ids and generated states may contain: they become
// part of partition keys and file names.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// validator collects FieldErrors.
type validator struct{ errs []error }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
}

func (v *validator) positive(field string, d time.Duration) {
	if d <= 0 {
		v.add(field, "must be positive, got %v", d)
	}
}

func (v *validator) nonNegative(field string, d time.Duration) {
	if d < 0 {
		v.add(field, "must not be negative, got %v", d)
	}
}

func (v *validator) nonNegativeInt(field string, n int) {
	if n < 0 {
		v.add(field, "must not be negative, got %d", n)
	}
}

// number checks a finite float in [lo, hi].
func (v *validator) number(field string, x, lo, hi float64) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.add(field, "must be a finite number, got %v", x)
	case x < lo || x > hi:
		if math.IsInf(hi, 1) {
			v.add(field, "must be at least %v, got %v", lo, x)
		} else {
			v.add(field, "must be between %v and %v, got %v", lo, hi, x)
		}
	}
}

// Validate returns every problem of the scenario as *FieldError values, or
// nil when it is valid. It never mutates s; call EnsureDefaults first, as
// zero values it would fill are reported here. Safe for concurrent use.
func (s *Scenario) Validate() []error {
	v := &validator{}
	if strings.TrimSpace(s.Name) == "" {
		v.add("name", "required")
	}
	v.positive("duration", s.Duration)
	s.validateInventory(v)
	s.validateCrowd(v)

	v.number("preferences.hot_skew", s.Preferences.HotSkew, 0, 100)
	v.number("preferences.early_date_bias", s.Preferences.EarlyDateBias, 0, 1)

	j := s.Journey
	v.nonNegative("journey.think_time", j.ThinkTime)
	v.positive("journey.request_timeout", j.RequestTimeout)
	v.nonNegative("journey.patience", j.Patience)
	v.positive("journey.refresh_interval", j.RefreshInterval)
	if j.Alternatives < 0 || j.Alternatives > MaxAlternatives {
		v.add("journey.alternatives", "must be between 0 and %d, got %d", MaxAlternatives, j.Alternatives)
	}
	v.nonNegativeInt("journey.retry.max_attempts", j.Retry.MaxAttempts)
	v.positive("journey.retry.backoff", j.Retry.Backoff)
	if j.Retry.MaxBackoff < j.Retry.Backoff {
		v.add("journey.retry.max_backoff", "must be at least backoff (%v), got %v", j.Retry.Backoff, j.Retry.MaxBackoff)
	}
	v.number("journey.retry.jitter", j.Retry.Jitter, 0, 1)

	s.validateBehaviours(v)
	s.validateDesigns(v)
	return v.errs
}

// validateInventory checks the inventory's dates, PPVs and capacities.
func (s *Scenario) validateInventory(v *validator) { //nolint:cyclop // one flat check per field, in the order of the file
	inv := s.Inventory
	if inv.FirstDate.IsZero() {
		v.add("inventory.first_date", "required")
	}
	if inv.Days <= 0 || inv.Days > MaxDays {
		v.add("inventory.days", "must be between 1 and %d, got %d", MaxDays, inv.Days)
	}
	v.nonNegativeInt("inventory.daily_capacity", inv.DailyCapacity)

	nPPVs := len(inv.PPVs)
	switch {
	case len(inv.PPVs) > 0 && (len(inv.States) > 0 || inv.PPVsPerState != 0):
		field := "inventory.states"
		if len(inv.States) == 0 {
			field = "inventory.ppvs_per_state"
		}
		v.add(field, "set either ppvs or the generator (states, ppvs_per_state), not both")
	case len(inv.PPVs) > 0:
		ids := map[string]int{}
		for i, p := range inv.PPVs {
			f := fmt.Sprintf("inventory.ppvs[%d]", i)
			switch {
			case p.ID == "":
				v.add(f+".id", "required")
			case !idPattern.MatchString(p.ID):
				v.add(f+".id", "%q: use letters, digits, '-', '_' and '.' only", p.ID)
			default:
				if j, dup := ids[p.ID]; dup {
					v.add(f+".id", "%q is also the id of inventory.ppvs[%d]", p.ID, j)
				} else {
					ids[p.ID] = i
				}
			}
			if strings.TrimSpace(p.State) == "" {
				v.add(f+".state", "required")
			}
			switch {
			case p.DailyCapacity < 0:
				v.add(f+".daily_capacity", "must not be negative, got %d", p.DailyCapacity)
			case p.DailyCapacity == 0 && inv.DailyCapacity <= 0:
				v.add(f+".daily_capacity", "required (or set inventory.daily_capacity)")
			}
			v.number(f+".popularity", p.Popularity, 0, math.Inf(1))
		}
	case len(inv.States) > 0:
		seen := map[string]int{}
		for i, st := range inv.States {
			f := fmt.Sprintf("inventory.states[%d]", i)
			if !idPattern.MatchString(st) {
				v.add(f, "%q: use letters, digits, '-', '_' and '.' only (it is part of generated PPV ids)", st)
			} else if j, dup := seen[st]; dup {
				v.add(f, "%q repeats inventory.states[%d]", st, j)
			} else {
				seen[st] = i
			}
		}
		if inv.PPVsPerState <= 0 || inv.PPVsPerState > MaxPPVs {
			v.add("inventory.ppvs_per_state", "must be between 1 and %s, got %d", commas(MaxPPVs), inv.PPVsPerState)
		} else {
			nPPVs = len(inv.States) * inv.PPVsPerState
		}
		if inv.DailyCapacity <= 0 {
			v.add("inventory.daily_capacity", "must be positive for generated PPVs, got %d", inv.DailyCapacity)
		}
	default:
		v.add("inventory", "no PPVs: list ppvs, or give states to generate them")
	}
	switch {
	case nPPVs > MaxPPVs:
		v.add("inventory", "%s PPVs; at most %s", commas(nPPVs), commas(MaxPPVs))
	case inv.Days > 0 && nPPVs*inv.Days > MaxSlots:
		v.add("inventory", "%s PPVs x %d days = %s slots; at most %s", commas(nPPVs), inv.Days, commas(nPPVs*inv.Days), commas(MaxSlots))
	}
}

// validateCrowd checks the crowd's size, arrival shape and opening.
func (s *Scenario) validateCrowd(v *validator) { //nolint:cyclop // one flat check per field, in the order of the file
	c := s.Crowd
	if c.Size <= 0 || c.Size > MaxCrowd {
		v.add("crowd.size", "must be between 1 and %s, got %d", commas(MaxCrowd), c.Size)
	}
	v.nonNegative("crowd.opening_delay", c.OpeningDelay)

	a := c.Arrival
	const f = "crowd.arrival"
	unused := func(field, shapes string) {
		v.add(f+"."+field, "only used by shape %s, not %s", shapes, a.Shape)
	}
	switch a.Shape {
	case ShapeConstant:
		v.positive(f+".over", a.Over)
		if a.RampUp != 0 {
			unused("ramp_up", ShapeSpike)
		}
		if a.Decay != 0 {
			unused("decay", ShapeSpike)
		}
		if len(a.Pieces) > 0 {
			unused("pieces", ShapePiecewise)
		}
	case ShapeSpike:
		v.nonNegative(f+".ramp_up", a.RampUp)
		v.positive(f+".decay", a.Decay)
		if a.Over < 0 || (a.Over > 0 && a.Over <= a.RampUp) {
			v.add(f+".over", "must be longer than ramp_up (%v) or unset, got %v", a.RampUp, a.Over)
		}
		if len(a.Pieces) > 0 {
			unused("pieces", ShapePiecewise)
		}
	case ShapePiecewise:
		if a.Over != 0 {
			unused("over", ShapeConstant+" or "+ShapeSpike)
		}
		if a.RampUp != 0 {
			unused("ramp_up", ShapeSpike)
		}
		if a.Decay != 0 {
			unused("decay", ShapeSpike)
		}
		if len(a.Pieces) == 0 {
			v.add(f+".pieces", "required for shape piecewise")
		}
		ok := true
		for i, p := range a.Pieces {
			pf := fmt.Sprintf("%s.pieces[%d]", f, i)
			if p.At < 0 || (i > 0 && p.At <= a.Pieces[i-1].At) {
				v.add(pf+".at", "must be after the previous piece's (%v) and not negative, got %v", a.Pieces[max(i-1, 0)].At, p.At)
				ok = false
			}
			if !(p.Rate >= 0) || math.IsInf(p.Rate, 0) {
				v.add(pf+".rate", "must be a finite number >= 0, got %v", p.Rate)
				ok = false
			}
		}
		if ok && len(a.Pieces) > 0 && c.Size > 0 {
			if _, reach := newCurve(a, c.Size); !reach {
				v.add(f+".pieces", "the rates bring fewer than crowd.size (%d) users: give the last piece a rate above 0", c.Size)
			}
		}
	default:
		v.add(f+".shape", "unknown shape %q (want %s, %s or %s)", a.Shape, ShapeConstant, ShapeSpike, ShapePiecewise)
	}
}

func (s *Scenario) validateBehaviours(v *validator) {
	if len(s.Behaviours) == 0 {
		v.add("behaviours", "required (EnsureDefaults makes everyone patient)")
		return
	}
	seen := map[Behaviour]int{}
	sum, ok := 0.0, true
	for i, b := range s.Behaviours {
		f := fmt.Sprintf("behaviours[%d]", i)
		switch b.Behaviour {
		case Patient, Refresher, Abandoner:
			if j, dup := seen[b.Behaviour]; dup {
				v.add(f+".behaviour", "%q repeats behaviours[%d]", b.Behaviour, j)
			}
			seen[b.Behaviour] = i
		default:
			v.add(f+".behaviour", "unknown behaviour %q (want %s, %s or %s)", b.Behaviour, Patient, Refresher, Abandoner)
		}
		if math.IsNaN(b.Share) || b.Share < 0 || b.Share > 1 {
			v.add(f+".share", "must be between 0 and 1, got %v", b.Share)
			ok = false
		}
		sum += b.Share
	}
	if ok && math.Abs(sum-1) > 1e-6 {
		v.add("behaviours", "shares sum to %v; want 1", roundTo(sum, 6))
	}
}

func (s *Scenario) validateDesigns(v *validator) {
	if len(s.Designs) == 0 {
		v.add("designs", "required (EnsureDefaults compares the three schemes)")
	}
	seen := map[string]int{}
	for i, d := range s.Designs {
		f := fmt.Sprintf("designs[%d]", i)
		if dd, err := models.ParseDesign(d.Name, d.Limits); err != nil {
			v.add(f+".name", "%s", strings.TrimPrefix(err.Error(), "models: "))
		} else if dd.WaitingRoom && s.WaitingRoom.AdmitPerInterval <= 0 {
			v.add(f+".name", "uses a waiting room: set waiting_room.admit_per_interval above 0")
		}
		if j, dup := seen[d.Name]; dup {
			v.add(f+".name", "%q repeats designs[%d]", d.Name, j)
		}
		seen[d.Name] = i
		validateLimits(v, f+".limits", d.Limits)
	}

	w := s.WaitingRoom
	const f = "waiting_room"
	v.nonNegativeInt(f+".admit_per_interval", w.AdmitPerInterval)
	v.nonNegativeInt(f+".max_active", w.MaxActive)
	v.positive(f+".interval", w.Interval)
	v.positive(f+".token_ttl", w.TokenTTL)
	if w.Order != OrderFIFO && w.Order != OrderRandom {
		v.add(f+".order", "unknown order %q (want %s or %s)", w.Order, OrderFIFO, OrderRandom)
	}
}

// validateLimits checks each limit where it is written, then lets
// models.Limits.Validate catch anything newer.
func validateLimits(v *validator, f string, l models.Limits) {
	n := len(v.errs)
	v.number(f+".write_rate", l.WriteRate, 0, math.Inf(1))
	v.number(f+".read_rate", l.ReadRate, 0, math.Inf(1))
	v.nonNegativeInt(f+".write_burst", l.WriteBurst)
	v.nonNegativeInt(f+".read_burst", l.ReadBurst)
	v.nonNegativeInt(f+".max_in_flight", l.MaxInFlight)
	v.nonNegativeInt(f+".max_queue", l.MaxQueue)
	v.nonNegative(f+".max_wait", l.MaxWait)
	if len(v.errs) > n {
		return
	}
	if errs := l.Validate(); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		v.add(f, "%s", strings.Join(msgs, "; "))
	}
}

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}
