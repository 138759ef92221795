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
type validator struct {
	errs []error
	// zeros are the fields written explicitly as zero: each gets one
	// message, the first (which says why the zero is refused).
	zeros zeroSet
	said  map[string]bool
}

func (v *validator) add(field, format string, args ...any) {
	if v.zeros.has(field) {
		if v.said[field] {
			return
		}
		if v.said == nil {
			v.said = map[string]bool{}
		}
		v.said[field] = true
	}
	v.errs = append(v.errs, &FieldError{Field: field, Err: fmt.Errorf(format, args...)})
}

// addErr adds err as the problem of field.
func (v *validator) addErr(field string, err error) {
	v.errs = append(v.errs, &FieldError{Field: field, Err: err})
}

func (v *validator) positive(field string, d time.Duration) {
	if d <= 0 {
		v.add(field, "must be positive, got %v", d)
	}
	v.notTooLong(field, d)
}

func (v *validator) nonNegative(field string, d time.Duration) {
	if d < 0 {
		v.add(field, "must not be negative, got %v", d)
	}
	v.notTooLong(field, d)
}

func (v *validator) notTooLong(field string, d time.Duration) {
	if d > MaxDuration {
		v.add(field, "must be at most %s, got %v", fmtDuration(MaxDuration), d)
	}
}

func (v *validator) nonNegativeInt(field string, n int) {
	if n < 0 {
		v.add(field, "must not be negative, got %d", n)
	}
}

// count checks a count that must not be negative nor exceed most.
func (v *validator) count(field string, n, most int) {
	v.nonNegativeInt(field, n)
	v.atMost(field, n, most, "")
}

// atMost checks n <= most; unit, if any, follows most in the message.
func (v *validator) atMost(field string, n, most int, unit string) {
	if n > most {
		v.add(field, "must be at most %s%s, got %s", commas(most), unit, commas(n))
	}
}

// number checks a finite float in [lo, hi].
func (v *validator) number(field string, x, lo, hi float64) {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.add(field, "must be a finite number, got %v", x)
	case x < lo:
		if math.IsInf(hi, 1) {
			v.add(field, "must be at least %v, got %v", lo, x)
		} else {
			v.add(field, "must be between %v and %v, got %v", lo, hi, x)
		}
	case x > hi:
		v.add(field, "must be between %v and %v, got %v", lo, hi, x)
	}
}

// rate checks a finite float in [0, most], most a whole number.
func (v *validator) rate(field string, x, most float64) {
	v.number(field, x, 0, math.Inf(1))
	if x > most && !math.IsInf(x, 1) {
		v.add(field, "must be at most %s, got %v", commas(int(most)), x)
	}
}

// Validate returns every problem of the scenario as *FieldError values, or
// nil when it is valid. It never mutates s; call EnsureDefaults first, as
// zero values it would fill are reported here, as are the fields the file
// set explicitly to a zero value that makes no sense (patience: 0s), with
// the reason. Beyond each field's own range it checks what fields imply
// together: places in all, the run long enough for the crowd to arrive,
// the waiting room's token lifetime against its polls. Safe for concurrent
// use.
func (s *Scenario) Validate() []error {
	v := &validator{zeros: s.zeros}
	s.validateZeros(v)
	if strings.TrimSpace(s.Name) == "" {
		v.add("name", "required")
	}
	s.validateDuration(v)
	s.validateInventory(v)
	s.validateCrowd(v)

	v.number("preferences.hot_skew", s.Preferences.HotSkew, 0, 100)
	v.number("preferences.early_date_bias", s.Preferences.EarlyDateBias, 0, 1)

	s.validateJourney(v)
	s.validateBehaviours(v)
	s.validateDesigns(v)
	s.validateRoom(v)
	s.validateFaults(v)
	s.validateObserved(v)
	s.validateJourneyExtras(v)
	return v.errs
}

// validateZeros reports each field the file set explicitly to a zero value
// that makes no sense, saying why and what an absent field would get.
func (s *Scenario) validateZeros(v *validator) {
	if len(s.zeros) == 0 {
		return
	}
	for _, f := range zeroFields {
		if s.zeros.has(f) {
			if msg := s.zeroReason(f); msg != "" {
				v.add(f, "%s", msg)
			}
		}
	}
	for i := range s.Inventory.PPVs {
		if s.zeros.hasPPV(i, "name") {
			v.add(fmt.Sprintf("inventory.ppvs[%d].name", i), "must not be empty (omit it to use the id %q)", s.Inventory.PPVs[i].ID)
		}
		if s.zeros.hasPPV(i, "daily_capacity") {
			v.add(fmt.Sprintf("inventory.ppvs[%d].daily_capacity", i), "must be > 0, got 0 (omit it to take inventory.daily_capacity)")
		}
	}
}

// zeroFields are the fields (other than the listed PPVs') whose explicit
// zero validateZeros judges, in the order of the file format.
var zeroFields = []string{
	"name", "duration",
	"inventory.days", "inventory.daily_capacity", "inventory.ppvs_per_state",
	"crowd.arrival.shape", "crowd.arrival.over", "crowd.arrival.decay", "crowd.arrival.pieces",
	"journey.request_timeout", "journey.patience", "journey.refresh_interval",
	"journey.retry.backoff", "journey.retry.max_backoff",
	"behaviours", "designs",
	"waiting_room.interval", "waiting_room.order", "waiting_room.token_ttl",
}

// zeroReason says why the explicit zero value of field is refused, or ""
// when it is honoured (ramp_up: 0s) or another check judges it (a field
// the shape does not use).
func (s *Scenario) zeroReason(field string) string { //nolint:cyclop // one case per field, in the order of the file
	a := s.Crowd.Arrival
	switch field {
	case "name":
		return "must not be empty (omit name to name the scenario after its file)"
	case "duration":
		return fmt.Sprintf("must be positive, got 0s (omit it to run until the last arrival has had its patience and a request timeout: %v)", fmtDuration(s.defaultDuration()))
	case "inventory.days":
		return fmt.Sprintf("must be between 1 and %d, got 0 (omit it for %d day)", MaxDays, DefaultDays)
	case "inventory.daily_capacity":
		return "must be > 0, got 0 (the places a PPV offers each day, unless it sets its own)"
	case "inventory.ppvs_per_state":
		return fmt.Sprintf("must be between 1 and %s, got 0 (omit it for %d a state)", commas(MaxPPVs), DefaultPPVsPerState)
	case "crowd.arrival.shape":
		return fmt.Sprintf("must not be empty: want %s, %s or %s (omit it to infer the shape)", ShapeConstant, ShapeSpike, ShapePiecewise)
	case "crowd.arrival.over":
		switch a.Shape {
		case ShapeConstant:
			return fmt.Sprintf("must be positive, got 0s: all %s users would arrive at the same instant (omit it for the default %v)", commas(s.Crowd.Size), fmtDuration(DefaultConstantOver))
		case ShapeSpike:
			return fmt.Sprintf("must be longer than ramp_up (%v), got 0s (omit it to let the spike's tail run out)", a.RampUp)
		}
	case "crowd.arrival.decay":
		if a.Shape == ShapeSpike {
			return fmt.Sprintf("must be positive, got 0s (omit it for the default %v)", fmtDuration(DefaultSpikeDecay))
		}
	case "crowd.arrival.pieces":
		if a.Shape == ShapePiecewise {
			return "must not be empty: give at least one {at, rate}"
		}
	case "journey.request_timeout":
		return fmt.Sprintf("must be positive, got 0s: every request would time out at once (omit it for the default %v)", fmtDuration(DefaultRequestTimeout))
	case "journey.patience":
		return fmt.Sprintf("must be positive, got 0s: users would give up before their first answer (omit it for the default %v)", fmtDuration(DefaultPatience))
	case "journey.refresh_interval":
		return fmt.Sprintf("must be positive, got 0s: refreshers would click again without a pause (omit it for the default %v)", fmtDuration(DefaultRefreshInterval))
	case "journey.retry.backoff":
		return fmt.Sprintf("must be positive, got 0s: clients would retry at once, again and again (omit it for the default %v)", fmtDuration(DefaultBackoff))
	case "journey.retry.max_backoff":
		return fmt.Sprintf("must be at least backoff (%v), got 0s (omit it for the default %v)", s.Journey.Retry.Backoff, fmtDuration(max(DefaultMaxBackoff, s.Journey.Retry.Backoff)))
	case "behaviours":
		return "must not be empty: list {behaviour, share} (omit behaviours to make everyone patient)"
	case "designs":
		return "must not be empty: list {name, limits} (omit designs to compare monolithic, per-ppv and per-ppv-day)"
	case "waiting_room.interval":
		return fmt.Sprintf("must be positive, got 0s (omit it for the default %v)", fmtDuration(DefaultWaitingRoomInterval))
	case "waiting_room.order":
		return fmt.Sprintf("must not be empty: want %s or %s (omit it for %s)", OrderFIFO, OrderRandom, DefaultWaitingRoomOrder)
	case "waiting_room.token_ttl":
		return fmt.Sprintf("must be positive, got 0s: every admission token would expire at once (omit it for the default %v)", fmtDuration(DefaultTokenTTL))
	}
	return ""
}

// validateDuration checks the run's duration, and that it is long enough
// for the crowd to arrive and the booking API to open.
func (s *Scenario) validateDuration(v *validator) {
	window := s.ArrivalWindow()
	d, open := s.Duration, s.Crowd.OpeningDelay
	if window > MaxDuration || (d == 0 && len(s.zeros) > 0 && !s.zeros.has("duration")) {
		// The default follows from fields reported already: the arrival
		// curve, or patience and request_timeout written as 0s.
		return
	}
	if d <= 0 {
		v.add("duration", "must be positive, got %v", d)
		return
	}
	if d != s.defaultDuration() { // a default is as long as its parts, each bounded
		v.notTooLong("duration", d)
	}
	if d > MaxDuration || open < 0 || open > MaxDuration {
		return
	}
	from := "the last arrival"
	if open > window {
		from = "the opening"
	}
	fit := fmt.Sprintf("or omit duration for %s (%s plus patience and a request timeout)", fmtDuration(s.defaultDuration()), from)
	switch {
	case open > 0 && d <= open:
		v.add("duration", "%v ends before the booking API opens at %v (crowd.opening_delay): nobody could book; want more than %v, %s", d, open, open, fit)
	case d < window:
		late, about := s.lateArrivals(d), ""
		if s.Crowd.Arrival.Poisson {
			about = "about "
		}
		n := s.Crowd.Size
		v.add("duration", "%v ends before the crowd has arrived: %s%s of %s users (%s%%) would never arrive; want at least %v, when the last one arrives, %s",
			d, about, commas(late), commas(n), trimFloat(100*float64(late)/float64(n)), ceilDuration(window, time.Millisecond), fit)
	}
}

// lateArrivals returns how many users arrive after d (deterministic
// spacing; about as many with Poisson arrivals).
func (s *Scenario) lateArrivals(d time.Duration) int {
	n := s.Crowd.Size
	cv, ok := newCurve(s.Crowd.Arrival, n)
	if !ok {
		return 0
	}
	// The first user to arrive after d, by bisection on the arrival order.
	lo, hi := 0, n
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if seconds(cv.inv(float64(mid))) > d {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return n - lo
}

// validateInventory checks the inventory's dates, PPVs and capacities.
func (s *Scenario) validateInventory(v *validator) {
	inv := s.Inventory
	if inv.FirstDate.IsZero() {
		v.add("inventory.first_date", "required")
	}
	if inv.Days <= 0 || inv.Days > MaxDays {
		v.add("inventory.days", "must be between 1 and %d, got %d", MaxDays, inv.Days)
	}
	v.nonNegativeInt("inventory.daily_capacity", inv.DailyCapacity)
	v.atMost("inventory.daily_capacity", inv.DailyCapacity, MaxDailyCapacity, " places a day")

	nPPVs := len(inv.PPVs)
	switch {
	case len(inv.PPVs) > 0 && (len(inv.States) > 0 || inv.PPVsPerState != 0):
		field := "inventory.states"
		if len(inv.States) == 0 {
			field = "inventory.ppvs_per_state"
		}
		v.add(field, "set either ppvs or the generator (states, ppvs_per_state), not both")
	case len(inv.PPVs) > 0:
		s.validatePPVs(v)
	case len(inv.States) > 0:
		nPPVs = s.validateStates(v)
	default:
		v.add("inventory", "no PPVs: list ppvs, or give states to generate them")
	}
	switch {
	case nPPVs > MaxPPVs:
		v.add("inventory", "%s PPVs; at most %s", commas(nPPVs), commas(MaxPPVs))
	case inv.Days > 0 && nPPVs*inv.Days > MaxSlots:
		v.add("inventory", "%s PPVs x %d days = %s slots; at most %s", commas(nPPVs), inv.Days, commas(nPPVs*inv.Days), commas(MaxSlots))
	case inv.Days > 0 && inv.Days <= MaxDays:
		s.validatePlaces(v, nPPVs)
	}
}

// validatePPVs checks the listed PPVs.
func (s *Scenario) validatePPVs(v *validator) {
	inv := s.Inventory
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
		case p.DailyCapacity == 0 && inv.DailyCapacity <= 0 && !s.zeros.has("inventory.daily_capacity"):
			// (An explicit inventory.daily_capacity: 0 is reported there.)
			v.add(f+".daily_capacity", "required (or set inventory.daily_capacity)")
		}
		v.atMost(f+".daily_capacity", p.DailyCapacity, MaxDailyCapacity, " places a day")
		v.number(f+".popularity", p.Popularity, 0, math.Inf(1))
		if p.Popularity > MaxPopularity && !math.IsInf(p.Popularity, 1) {
			v.add(f+".popularity", "must be at most %s, got %v", commas(MaxPopularity), p.Popularity)
		}
	}
	for k := range inv.PPVs {
		if s.PPVWeight(k) > 0 || !(inv.PPVs[k].Popularity >= 0) { // (a negative one is reported above)
			return
		}
	}
	v.add("inventory.ppvs", "every PPV has popularity 0: nobody would choose one first; give one a popularity above 0, or omit popularity for the default weight")
}

// validateStates checks the generator's states and PPVs per state, and
// returns how many PPVs it makes (0 when unknown).
func (s *Scenario) validateStates(v *validator) int {
	inv := s.Inventory
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
	if inv.DailyCapacity <= 0 {
		v.add("inventory.daily_capacity", "must be positive for generated PPVs, got %d", inv.DailyCapacity)
	}
	if inv.PPVsPerState <= 0 || inv.PPVsPerState > MaxPPVs {
		v.add("inventory.ppvs_per_state", "must be between 1 and %s, got %d", commas(MaxPPVs), inv.PPVsPerState)
		return 0
	}
	return len(inv.States) * inv.PPVsPerState
}

// validatePlaces checks the places of the whole inventory, nPPVs PPVs over
// its days, once each capacity is within its bounds.
func (s *Scenario) validatePlaces(v *validator, nPPVs int) {
	days := s.Inventory.Days
	total, uniform := 0, true
	for i := range nPPVs {
		c := s.dailyCapacity(i)
		if c < 0 || c > MaxDailyCapacity {
			return // reported where it is written
		}
		total += c
		uniform = uniform && c == s.dailyCapacity(0)
	}
	total *= days // at most 1e9 x MaxPPVs x MaxDays: no overflow
	if total <= MaxPlaces {
		return
	}
	if uniform {
		v.add("inventory", "%s PPVs x %d days x %s places a day = %s places; at most %s: lower daily_capacity or days",
			commas(nPPVs), days, commas(s.dailyCapacity(0)), commas(total), commas(MaxPlaces))
		return
	}
	v.add("inventory", "%s places in all (%s PPVs over %d days); at most %s: lower the daily capacities or days",
		commas(total), commas(nPPVs), days, commas(MaxPlaces))
}

// validateCrowd checks the crowd's size, arrival shape and opening.
func (s *Scenario) validateCrowd(v *validator) {
	c := s.Crowd
	if c.Size <= 0 || c.Size > MaxCrowd {
		v.add("crowd.size", "must be between 1 and %s, got %d", commas(MaxCrowd), c.Size)
	}
	v.nonNegative("crowd.opening_delay", c.OpeningDelay)

	a := c.Arrival
	const f = "crowd.arrival"
	unused := func(field string, set bool, shapes string) {
		if set || s.zeros.has(f+"."+field) {
			v.add(f+"."+field, "only used by shape %s, not %s", shapes, a.Shape)
		}
	}
	n := len(v.errs)
	switch a.Shape {
	case ShapeConstant:
		v.positive(f+".over", a.Over)
		unused("ramp_up", a.RampUp != 0, ShapeSpike)
		unused("decay", a.Decay != 0, ShapeSpike)
		unused("pieces", len(a.Pieces) > 0, ShapePiecewise)
	case ShapeSpike:
		v.nonNegative(f+".ramp_up", a.RampUp)
		v.positive(f+".decay", a.Decay)
		if a.Over < 0 || (a.Over > 0 && a.Over <= a.RampUp) {
			v.add(f+".over", "must be longer than ramp_up (%v) or unset, got %v", a.RampUp, a.Over)
		}
		v.notTooLong(f+".over", a.Over)
		unused("pieces", len(a.Pieces) > 0, ShapePiecewise)
	case ShapePiecewise:
		unused("over", a.Over != 0, ShapeConstant+" or "+ShapeSpike)
		unused("ramp_up", a.RampUp != 0, ShapeSpike)
		unused("decay", a.Decay != 0, ShapeSpike)
		s.validatePieces(v)
	default:
		v.add(f+".shape", "unknown shape %q (want %s, %s or %s)", a.Shape, ShapeConstant, ShapeSpike, ShapePiecewise)
	}
	if len(v.errs) > n || c.Size <= 0 || c.Size > MaxCrowd {
		return
	}
	if w := s.ArrivalWindow(); w > MaxDuration {
		v.add(f, "the last of %s users would arrive at %v, beyond %s, the longest a scenario may last: raise the rates or shorten the curve",
			commas(c.Size), w.Round(time.Second), fmtDuration(MaxDuration))
	}
}

// validatePieces checks the pieces of a piecewise arrival curve.
func (s *Scenario) validatePieces(v *validator) {
	c := s.Crowd
	a := c.Arrival
	const f = "crowd.arrival"
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
		if p.At > MaxDuration {
			v.notTooLong(pf+".at", p.At)
			ok = false
		}
		if !(p.Rate >= 0) || math.IsInf(p.Rate, 0) {
			v.add(pf+".rate", "must be a finite number >= 0, got %v", p.Rate)
			ok = false
		} else if p.Rate > MaxRate {
			v.add(pf+".rate", "must be at most %s users/s, got %v", commas(MaxRate), p.Rate)
			ok = false
		}
	}
	if ok && len(a.Pieces) > 0 && c.Size > 0 {
		if _, reach := newCurve(a, c.Size); !reach {
			v.add(f+".pieces", "the rates bring fewer than crowd.size (%d) users: give the last piece a rate above 0", c.Size)
		}
	}
}

// validateJourney checks the journey's timings, alternatives and retries.
func (s *Scenario) validateJourney(v *validator) {
	j := s.Journey
	v.nonNegative("journey.think_time", j.ThinkTime)
	v.positive("journey.request_timeout", j.RequestTimeout)
	v.nonNegative("journey.patience", j.Patience)
	v.positive("journey.refresh_interval", j.RefreshInterval)
	if j.Alternatives < 0 || j.Alternatives > MaxAlternatives {
		v.add("journey.alternatives", "must be between 0 and %d, got %d", MaxAlternatives, j.Alternatives)
	}
	v.count("journey.retry.max_attempts", j.Retry.MaxAttempts, MaxCount)
	v.positive("journey.retry.backoff", j.Retry.Backoff)
	if j.Retry.MaxBackoff < j.Retry.Backoff {
		v.add("journey.retry.max_backoff", "must be at least backoff (%v), got %v", j.Retry.Backoff, j.Retry.MaxBackoff)
	}
	v.notTooLong("journey.retry.max_backoff", j.Retry.MaxBackoff)
	v.number("journey.retry.jitter", j.Retry.Jitter, 0, 1)
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
		} else if dd.WaitingRoom && !dd.CentreRooms && s.WaitingRoom.AdmitPerInterval <= 0 && s.WaitingRoom.Admit != AdmitAuto {
			v.add(f+".name", "uses a waiting room: set waiting_room.admit_per_interval above 0, or admit: auto")
		} else if sized := dd.CentreRooms || s.WaitingRoom.Admit == AdmitAuto; dd.WaitingRoom && sized &&
			s.WaitingRoom.AdmitPerInterval <= 0 && d.Limits.WriteRate <= 0 && d.Limits.ReadRate <= 0 {
			v.add(f+".limits", "the waiting room is sized from the partitions' write_rate and read_rate, and this design sets neither: set one, or waiting_room.admit_per_interval")
		}
		if j, dup := seen[d.Name]; dup {
			v.add(f+".name", "%q repeats designs[%d]", d.Name, j)
		}
		seen[d.Name] = i
		validateLimits(v, f+".limits", d.Limits)
	}
}

// validateRoom checks the waiting room's settings, and when a design uses
// the room, its token lifetime against the waits between polls.
func (s *Scenario) validateRoom(v *validator) {
	w := s.WaitingRoom
	const f = "waiting_room"
	v.count(f+".admit_per_interval", w.AdmitPerInterval, MaxCount)
	v.count(f+".max_active", w.MaxActive, MaxCount)
	v.positive(f+".interval", w.Interval)
	v.positive(f+".token_ttl", w.TokenTTL)
	if w.Order != OrderFIFO && w.Order != OrderRandom {
		v.add(f+".order", "unknown order %q (want %s or %s)", w.Order, OrderFIFO, OrderRandom)
	}
	if w.Admit != "" && w.Admit != AdmitAuto {
		v.add(f+".admit", "unknown admission %q (want %s, or omit it to admit admit_per_interval)", w.Admit, AdmitAuto)
	}
	if !(w.Headroom >= 0 && w.Headroom <= 1) {
		v.add(f+".headroom", "must be a share in (0, 1], got %v (omit it for %v)", w.Headroom, models.DefaultRoomHeadroom)
	}
	if w.MaxWait < 0 {
		v.add(f+".max_wait", "must not be negative, got %v (omit it for a queue without a bound)", w.MaxWait)
	}
	if w.Interval <= 0 || w.TokenTTL <= 0 || !s.UsesWaitingRoom() {
		return
	}
	if msg := s.tokenTTLProblem(); msg != "" {
		v.add(f+".token_ttl", "%s", msg)
	}
}

// tokenTTLProblem says why the waiting room's tokens expire too soon, or
// returns "". A person waiting polls the room when it advises (at least
// one interval, plus the patient's jitter; a refresher reloads after 0.5
// to 1.5 refresh intervals instead, see sim.PolicyFor), and the room keeps
// an admission only until its token expires: a token that outlives no poll
// sends everyone admitted back to the end of the queue. Then the token
// must outlive a request.
func (s *Scenario) tokenTTLProblem() string {
	w, j := s.WaitingRoom, s.Journey
	type need struct {
		d         time.Duration
		what, fix string
	}
	const requeued = "people admitted would find their token expired at their next poll and go back to the end of the queue"
	poll := time.Duration(float64(w.Interval) * (1 + max(j.Retry.Jitter, 0)))
	what := fmt.Sprintf("waiting_room.interval %v", w.Interval)
	if j.Retry.Jitter > 0 {
		what = fmt.Sprintf("waiting_room.interval %v plus %s%% jitter", w.Interval, trimFloat(100*j.Retry.Jitter))
	}
	needs := []need{{poll, fmt.Sprintf("the longest wait between the polls of a person whose turn comes, %v (%s): %s", poll, what, requeued),
		"shorten waiting_room.interval"}}
	if s.hasRefreshers() && j.RefreshInterval > 0 {
		reload := j.RefreshInterval * 3 / 2
		needs = append(needs, need{reload, fmt.Sprintf("a refresher's longest wait between reloads, %v (1.5 x journey.refresh_interval %v): %s", reload, j.RefreshInterval, requeued),
			"shorten journey.refresh_interval"})
	}
	needs = append(needs, need{j.RequestTimeout, fmt.Sprintf("journey.request_timeout %v: a token could expire during a request, and the booking be refused", j.RequestTimeout),
		"shorten journey.request_timeout"})
	worst := -1
	for i, n := range needs {
		if w.TokenTTL <= n.d && (worst < 0 || n.d > needs[worst].d) {
			worst = i
		}
	}
	if worst < 0 {
		return ""
	}
	n := needs[worst]
	return fmt.Sprintf("%v is not longer than %s; set token_ttl above %v, or %s", w.TokenTTL, n.what, n.d, n.fix)
}

// hasRefreshers reports whether some users are refreshers.
func (s *Scenario) hasRefreshers() bool {
	for _, b := range s.Behaviours {
		if b.Behaviour == Refresher && b.Share > 0 {
			return true
		}
	}
	return false
}

// validateLimits checks each limit where it is written, then lets
// models.Limits.Validate catch anything newer.
func validateLimits(v *validator, f string, l models.Limits) {
	n := len(v.errs)
	v.rate(f+".write_rate", l.WriteRate, MaxRate)
	v.rate(f+".read_rate", l.ReadRate, MaxRate)
	v.count(f+".write_burst", l.WriteBurst, MaxCount)
	v.count(f+".read_burst", l.ReadBurst, MaxCount)
	v.count(f+".max_in_flight", l.MaxInFlight, MaxCount)
	v.count(f+".max_queue", l.MaxQueue, MaxCount)
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

// intBounds gives the range Validate accepts for each integer field with
// one (list indices written []), for the checker to name when a file
// writes an integer too large for Go's int.
var intBounds = map[string][2]int{
	"inventory.days":                  {1, MaxDays},
	"inventory.daily_capacity":        {0, MaxDailyCapacity},
	"inventory.ppvs[].daily_capacity": {0, MaxDailyCapacity},
	"inventory.ppvs_per_state":        {1, MaxPPVs},
	"crowd.size":                      {1, MaxCrowd},
	"journey.alternatives":            {0, MaxAlternatives},
	"journey.retry.max_attempts":      {0, MaxCount},
	"designs[].limits.write_burst":    {0, MaxCount},
	"designs[].limits.read_burst":     {0, MaxCount},
	"designs[].limits.max_in_flight":  {0, MaxCount},
	"designs[].limits.max_queue":      {0, MaxCount},
	"waiting_room.admit_per_interval": {0, MaxCount},
	"waiting_room.max_active":         {0, MaxCount},
	"observed[].places_booked":        {1, MaxPlaces},
	"observed[].people_booked":        {1, MaxCrowd},
}

// fieldBounds returns the range of the integer field at path, and false
// for a field without one of its own (seed).
func fieldBounds(path string) (lo, hi int, ok bool) {
	b, ok := intBounds[indexPattern.ReplaceAllString(path, "[]")]
	return b[0], b[1], ok
}

var indexPattern = regexp.MustCompile(`\[\d+\]`)

func roundTo(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// ceilDuration rounds d up to a multiple of unit.
func ceilDuration(d, unit time.Duration) time.Duration {
	if r := d % unit; r > 0 {
		return d - r + unit
	}
	return d
}

// fmtDuration writes d as time.Duration does, without zero minutes or
// seconds after larger units: "1m", "1000h", "1h30m", "1m10s".
func fmtDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
