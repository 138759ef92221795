package scenarios

import (
	"fmt"
	"math"
	"time"

	"github.com/slotrush/slotrush/models"
)

// Arrival shapes (ArrivalSpec.Shape).
const (
	ShapeConstant  = "constant"
	ShapeSpike     = "spike"
	ShapePiecewise = "piecewise"
)

// Waiting room orders (WaitingRoomSpec.Order).
const (
	OrderFIFO   = "fifo"
	OrderRandom = "random"
)

// AdmitAuto is WaitingRoomSpec.Admit for a room sized from the design's
// limits.
const AdmitAuto = "auto"

// Defaults filled by EnsureDefaults.
const (
	DefaultDays                = 1
	DefaultPPVsPerState        = 1
	DefaultConstantOver        = time.Minute
	DefaultSpikeDecay          = time.Minute
	DefaultRequestTimeout      = 10 * time.Second
	DefaultRefreshInterval     = time.Second
	DefaultPatience            = time.Minute
	DefaultBackoff             = 100 * time.Millisecond
	DefaultMaxBackoff          = 10 * time.Second
	DefaultWaitingRoomInterval = time.Second
	DefaultWaitingRoomOrder    = OrderFIFO
	DefaultTokenTTL            = 5 * time.Minute
)

// DefaultFirstDate is the first jab day of the 26 May 2021 round (7 June).
var DefaultFirstDate = models.Date{Year: 2021, Month: time.June, Day: 7}

// Bounds Validate enforces, so a typo cannot ask for a terabyte and every
// total derived from a scenario fits the integers the engines count in.
const (
	MaxCrowd        = 50_000_000
	MaxPPVs         = 10_000
	MaxDays         = 3660
	MaxSlots        = 1_000_000
	MaxAlternatives = 100
	// MaxDailyCapacity bounds the places a PPV offers a day and MaxPlaces
	// those of the whole inventory (PPVs x days x daily capacity): the
	// model counts a slot's places in 32 bits.
	MaxDailyCapacity = 1_000_000_000
	MaxPlaces        = 1_000_000_000
	// MaxCount bounds the other counts: a partition's bursts, in-flight
	// and queue bounds, retry attempts, the waiting room's admissions per
	// interval and active cap.
	MaxCount = 1_000_000_000
	// MaxRate bounds rates per second: a piece's arrival rate, a
	// partition's write and read rates. MaxPopularity bounds a PPV's
	// popularity weight.
	MaxRate       = 1e9
	MaxPopularity = 1e9
	// MaxDuration bounds every duration (and the last arrival), so that
	// sums of them cannot overflow.
	MaxDuration = 1000 * time.Hour
)

// DynamoDBLimits are the per-partition limits of a DynamoDB partition: 1,000
// write and 3,000 read units per second (AWS DynamoDB developer guide,
// bp-partition-key-design), with one second of burst. DynamoDB may bank up
// to 300 s of unused capacity; that is deliberately not credited.
var DynamoDBLimits = models.Limits{WriteRate: 1000, WriteBurst: 1000, ReadRate: 3000, ReadBurst: 3000}

// DefaultDesigns returns the designs a scenario without designs compares:
// monolithic, per-ppv and per-ppv-day, each partition with DynamoDBLimits.
func DefaultDesigns() []DesignSpec {
	out := make([]DesignSpec, len(models.Schemes))
	for i, sc := range models.Schemes {
		out[i] = DesignSpec{Name: string(sc), Limits: DynamoDBLimits}
	}
	return out
}

// EnsureDefaults fills zero values with their defaults, except those the
// scenario's file set explicitly (Parse records them; Validate refuses them,
// or honours them, as ramp_up: 0s): only an absent field takes a default.
//
//	inventory.first_date      2021-06-07 (DefaultFirstDate)
//	inventory.days            1
//	inventory.ppvs_per_state  1 (generator only)
//	inventory.ppvs[].name     the PPV's id
//	crowd.arrival.shape       inferred: piecewise with pieces, spike with
//	                          ramp_up or decay, else constant
//	crowd.arrival.over        1m (constant only)
//	crowd.arrival.decay       1m (spike only)
//	journey.request_timeout   10s
//	journey.patience          1m
//	journey.retry.backoff     100ms
//	journey.retry.max_backoff 10s (at least backoff)
//	behaviours                all patient
//	designs                   DefaultDesigns()
//	waiting_room.interval     1s
//	waiting_room.order        fifo
//	waiting_room.token_ttl    5m
//	duration                  max(last arrival, opening delay) + patience
//	                          + request timeout
//
// A listed PPV without daily_capacity takes the inventory's when building;
// it is not copied. EnsureDefaults is idempotent. Not safe for concurrent use.
func (s *Scenario) EnsureDefaults() {
	z := s.zeros
	s.Inventory.ensureDefaults(z)
	s.Crowd.Arrival.ensureDefaults(z)
	s.Journey.ensureDefaults(z)
	if len(s.Behaviours) == 0 && !z.has("behaviours") {
		s.Behaviours = []BehaviourShare{{Behaviour: Patient, Share: 1}}
	}
	if len(s.Designs) == 0 && !z.has("designs") {
		s.Designs = DefaultDesigns()
	}
	s.WaitingRoom.ensureDefaults(z)
	if s.Duration == 0 && !z.has("duration") {
		s.Duration = s.defaultDuration()
	}
}

// defaultDuration is the duration of a scenario that sets none: the last
// arrival (or the opening, if later) plus patience and a request timeout,
// at most the largest Duration.
func (s *Scenario) defaultDuration() time.Duration {
	d := max(s.ArrivalWindow(), s.Crowd.OpeningDelay)
	for _, x := range []time.Duration{s.Journey.Patience, s.Journey.RequestTimeout} {
		if x > 0 && d > math.MaxInt64-x {
			return math.MaxInt64
		}
		d += x
	}
	return d
}

// ensureDefaults fills the inventory's unset dates, days, PPVs per state
// and PPV names.
func (inv *InventorySpec) ensureDefaults(z zeroSet) {
	if inv.FirstDate.IsZero() {
		inv.FirstDate = DefaultFirstDate
	}
	if inv.Days == 0 && !z.has("inventory.days") {
		inv.Days = DefaultDays
	}
	if len(inv.PPVs) == 0 && len(inv.States) > 0 && inv.PPVsPerState == 0 && !z.has("inventory.ppvs_per_state") {
		inv.PPVsPerState = DefaultPPVsPerState
	}
	for i := range inv.PPVs {
		if inv.PPVs[i].Name == "" && !z.hasPPV(i, "name") {
			inv.PPVs[i].Name = inv.PPVs[i].ID
		}
	}
}

// ensureDefaults picks the arrival shape its other fields imply and fills
// that shape's unset figures.
func (a *ArrivalSpec) ensureDefaults(z zeroSet) {
	const f = "crowd.arrival."
	if a.Shape == "" && !z.has(f+"shape") {
		switch {
		case len(a.Pieces) > 0 || z.has(f+"pieces"):
			a.Shape = ShapePiecewise
		case a.RampUp != 0 || a.Decay != 0 || z.has(f+"ramp_up") || z.has(f+"decay"):
			a.Shape = ShapeSpike
		default:
			a.Shape = ShapeConstant
		}
	}
	switch a.Shape {
	case ShapeConstant:
		if a.Over == 0 && !z.has(f+"over") {
			a.Over = DefaultConstantOver
		}
	case ShapeSpike:
		if a.Decay == 0 && !z.has(f+"decay") {
			a.Decay = DefaultSpikeDecay
		}
	}
}

// ensureDefaults fills the journey's unset timeout, patience, refresh
// interval and backoffs.
func (j *JourneySpec) ensureDefaults(z zeroSet) {
	const f = "journey."
	if j.RequestTimeout == 0 && !z.has(f+"request_timeout") {
		j.RequestTimeout = DefaultRequestTimeout
	}
	if j.Patience == 0 && !z.has(f+"patience") {
		j.Patience = DefaultPatience
	}
	if j.RefreshInterval == 0 && !z.has(f+"refresh_interval") {
		j.RefreshInterval = DefaultRefreshInterval
	}
	if j.Retry.Backoff == 0 && !z.has(f+"retry.backoff") {
		j.Retry.Backoff = DefaultBackoff
	}
	if j.Retry.MaxBackoff == 0 && !z.has(f+"retry.max_backoff") {
		j.Retry.MaxBackoff = max(DefaultMaxBackoff, j.Retry.Backoff)
	}
}

// ensureDefaults fills the waiting room's unset interval, order and token
// lifetime.
func (w *WaitingRoomSpec) ensureDefaults(z zeroSet) {
	const f = "waiting_room."
	if w.Interval == 0 && !z.has(f+"interval") {
		w.Interval = DefaultWaitingRoomInterval
	}
	if w.Order == "" && !z.has(f+"order") {
		w.Order = DefaultWaitingRoomOrder
	}
	if w.TokenTTL == 0 && !z.has(f+"token_ttl") {
		w.TokenTTL = DefaultTokenTTL
	}
}

// zeroSet holds the fields a scenario file set explicitly to their zero
// value (0, 0s, "" or an empty list) where an absent field would take a
// default; see Scenario.zeros. A nil zeroSet is empty.
type zeroSet map[string]bool

func (z zeroSet) has(field string) bool { return z[field] }

// hasPPV reports whether field of the i-th listed PPV is in z.
func (z zeroSet) hasPPV(i int, field string) bool {
	return len(z) > 0 && z[fmt.Sprintf("inventory.ppvs[%d].%s", i, field)]
}

// explicitZeros returns the fields of s, as decoded, that hold their zero
// value although written reports them written (with a value other than
// null): those EnsureDefaults must not fill.
func (s *Scenario) explicitZeros(written func(field string) bool) zeroSet {
	var z zeroSet
	mark := func(field string, zero bool) {
		if zero && written(field) {
			if z == nil {
				z = zeroSet{}
			}
			z[field] = true
		}
	}
	mark("name", s.Name == "")
	mark("duration", s.Duration == 0)
	inv := &s.Inventory
	mark("inventory.days", inv.Days == 0)
	mark("inventory.daily_capacity", inv.DailyCapacity == 0)
	mark("inventory.ppvs_per_state", inv.PPVsPerState == 0)
	for i, p := range inv.PPVs {
		f := fmt.Sprintf("inventory.ppvs[%d].", i)
		mark(f+"name", p.Name == "")
		mark(f+"daily_capacity", p.DailyCapacity == 0)
		mark(f+"popularity", p.Popularity == 0)
	}
	a := &s.Crowd.Arrival
	mark("crowd.arrival.shape", a.Shape == "")
	mark("crowd.arrival.over", a.Over == 0)
	mark("crowd.arrival.ramp_up", a.RampUp == 0)
	mark("crowd.arrival.decay", a.Decay == 0)
	mark("crowd.arrival.pieces", len(a.Pieces) == 0)
	j := &s.Journey
	mark("journey.request_timeout", j.RequestTimeout == 0)
	mark("journey.patience", j.Patience == 0)
	mark("journey.refresh_interval", j.RefreshInterval == 0)
	mark("journey.retry.backoff", j.Retry.Backoff == 0)
	mark("journey.retry.max_backoff", j.Retry.MaxBackoff == 0)
	mark("behaviours", len(s.Behaviours) == 0)
	mark("designs", len(s.Designs) == 0)
	w := &s.WaitingRoom
	mark("waiting_room.interval", w.Interval == 0)
	mark("waiting_room.order", w.Order == "")
	mark("waiting_room.token_ttl", w.TokenTTL == 0)
	return z
}

// UsesWaitingRoom reports whether any of the scenario's designs ends in
// "+waiting-room".
func (s *Scenario) UsesWaitingRoom() bool {
	for _, d := range s.Designs {
		if dd, err := models.ParseDesign(d.Name, d.Limits); err == nil && dd.WaitingRoom {
			return true
		}
	}
	return false
}
