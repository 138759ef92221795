package scenarios

import (
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

// Bounds Validate enforces, so a typo cannot ask for a terabyte.
const (
	MaxCrowd        = 50_000_000
	MaxPPVs         = 10_000
	MaxDays         = 3660
	MaxSlots        = 1_000_000
	MaxAlternatives = 100
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

// EnsureDefaults fills zero values with their defaults:
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
	s.Inventory.ensureDefaults()
	s.Crowd.Arrival.ensureDefaults()
	s.Journey.ensureDefaults()
	if len(s.Behaviours) == 0 {
		s.Behaviours = []BehaviourShare{{Behaviour: Patient, Share: 1}}
	}
	if len(s.Designs) == 0 {
		s.Designs = DefaultDesigns()
	}
	s.WaitingRoom.ensureDefaults()
	if s.Duration == 0 {
		s.Duration = max(s.ArrivalWindow(), s.Crowd.OpeningDelay) + s.Journey.Patience + s.Journey.RequestTimeout
	}
}

// ensureDefaults fills the inventory's unset dates, days, PPVs per state
// and PPV names.
func (inv *InventorySpec) ensureDefaults() {
	if inv.FirstDate.IsZero() {
		inv.FirstDate = DefaultFirstDate
	}
	if inv.Days == 0 {
		inv.Days = DefaultDays
	}
	if len(inv.PPVs) == 0 && len(inv.States) > 0 && inv.PPVsPerState == 0 {
		inv.PPVsPerState = DefaultPPVsPerState
	}
	for i := range inv.PPVs {
		if inv.PPVs[i].Name == "" {
			inv.PPVs[i].Name = inv.PPVs[i].ID
		}
	}
}

// ensureDefaults picks the arrival shape its other fields imply and fills
// that shape's unset figures.
func (a *ArrivalSpec) ensureDefaults() {
	if a.Shape == "" {
		switch {
		case len(a.Pieces) > 0:
			a.Shape = ShapePiecewise
		case a.RampUp != 0 || a.Decay != 0:
			a.Shape = ShapeSpike
		default:
			a.Shape = ShapeConstant
		}
	}
	switch a.Shape {
	case ShapeConstant:
		if a.Over == 0 {
			a.Over = DefaultConstantOver
		}
	case ShapeSpike:
		if a.Decay == 0 {
			a.Decay = DefaultSpikeDecay
		}
	}
}

// ensureDefaults fills the journey's unset timeout, patience, refresh
// interval and backoffs.
func (j *JourneySpec) ensureDefaults() {
	if j.RequestTimeout == 0 {
		j.RequestTimeout = DefaultRequestTimeout
	}
	if j.Patience == 0 {
		j.Patience = DefaultPatience
	}
	if j.RefreshInterval == 0 {
		j.RefreshInterval = DefaultRefreshInterval
	}
	if j.Retry.Backoff == 0 {
		j.Retry.Backoff = DefaultBackoff
	}
	if j.Retry.MaxBackoff == 0 {
		j.Retry.MaxBackoff = max(DefaultMaxBackoff, j.Retry.Backoff)
	}
}

// ensureDefaults fills the waiting room's unset interval, order and token
// lifetime.
func (w *WaitingRoomSpec) ensureDefaults() {
	if w.Interval == 0 {
		w.Interval = DefaultWaitingRoomInterval
	}
	if w.Order == "" {
		w.Order = DefaultWaitingRoomOrder
	}
	if w.TokenTTL == 0 {
		w.TokenTTL = DefaultTokenTTL
	}
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
