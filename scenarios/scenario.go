// Package scenarios defines the slotrush scenario format (YAML), loads it with
// errors that name file:line:column, embeds the built-in presets, and generates
// the crowd of a scenario deterministically from its seed.
package scenarios

import (
	"time"

	"github.com/slotrush/slotrush/models"
)

// Scenario is one registration-day rush: the slot inventory, the crowd, how
// users behave, and the designs to compare. It is plain serialized config:
// call EnsureDefaults, then Validate, before use. Not safe for concurrent
// mutation; safe for concurrent reads.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Seed makes the crowd reproducible; --seed overrides it.
	Seed int64 `yaml:"seed"`
	// Duration bounds a live run per design (arrivals plus the journeys in
	// flight); whatever has not finished by then is counted still waiting.
	Duration time.Duration `yaml:"duration"`

	Inventory   InventorySpec   `yaml:"inventory"`
	Crowd       CrowdSpec       `yaml:"crowd"`
	Preferences PreferencesSpec `yaml:"preferences"`
	Journey     JourneySpec     `yaml:"journey"`
	// Behaviours mixes client behaviours by share; empty means all patient.
	Behaviours []BehaviourShare `yaml:"behaviours"`
	// Designs lists the designs to compare, each with per-partition limits.
	Designs []DesignSpec `yaml:"designs"`
	// WaitingRoom configures the waiting room of designs named "+waiting-room".
	WaitingRoom WaitingRoomSpec `yaml:"waiting_room"`
}

// InventorySpec describes the slots: either listed PPVs, or a generator that
// makes PPVsPerState centres in each state. Every PPV offers DailyCapacity
// places (unless it sets its own) on each of Days days from FirstDate.
type InventorySpec struct {
	FirstDate     models.Date `yaml:"first_date"`
	Days          int         `yaml:"days"`
	DailyCapacity int         `yaml:"daily_capacity"`
	PPVs          []PPVSpec   `yaml:"ppvs"`
	// Generator, used when PPVs is empty.
	States       []string `yaml:"states"`
	PPVsPerState int      `yaml:"ppvs_per_state"`
}

// PPVSpec is one listed centre.
type PPVSpec struct {
	ID            string `yaml:"id"`
	Name          string `yaml:"name"`
	State         string `yaml:"state"`
	DailyCapacity int    `yaml:"daily_capacity"`
	// Popularity weights how many users want this centre first; when no PPV
	// sets it, the preferences' hot skew (Zipf) decides.
	Popularity float64 `yaml:"popularity"`
}

// CrowdSpec is who comes and when.
type CrowdSpec struct {
	// Size is the number of users who arrive.
	Size int `yaml:"size"`
	// Arrival is the shape of the arrival rate over time.
	Arrival ArrivalSpec `yaml:"arrival"`
	// OpeningDelay is how late the booking API opens after the announced
	// time (t=0); users keep arriving meanwhile (26 May 2021: ~15-20 min).
	OpeningDelay time.Duration `yaml:"opening_delay"`
}

// ArrivalSpec shapes arrivals. Shapes:
//   - "constant": Size users spread evenly over Over;
//   - "spike": rate ramps linearly from 0 to its peak over RampUp, then
//     decays exponentially with time constant Decay (the registration-day curve);
//   - "piecewise": the rate follows Pieces, each a rate held from At until the
//     next piece; arrivals stop when Size users have come.
type ArrivalSpec struct {
	Shape  string        `yaml:"shape"`
	Over   time.Duration `yaml:"over"`
	RampUp time.Duration `yaml:"ramp_up"`
	Decay  time.Duration `yaml:"decay"`
	Pieces []RatePiece   `yaml:"pieces"`
	// Poisson draws exponential gaps around the curve instead of spacing
	// users deterministically.
	Poisson bool `yaml:"poisson"`
}

// RatePiece holds an arrival rate (users/s) from At on.
type RatePiece struct {
	At   time.Duration `yaml:"at"`
	Rate float64       `yaml:"rate"`
}

// PreferencesSpec is what users want.
type PreferencesSpec struct {
	// HotSkew is the Zipf exponent over PPVs (0 = uniform; 1.2 = a few hot).
	HotSkew float64 `yaml:"hot_skew"`
	// EarlyDateBias in [0,1] is the probability a user wants the earliest
	// date with places left rather than any date.
	EarlyDateBias float64 `yaml:"early_date_bias"`
	// SameState keeps alternatives in the user's own state.
	SameState bool `yaml:"same_state"`
}

// JourneySpec is the user journey's timing and retry policy.
type JourneySpec struct {
	// ThinkTime is the mean pause between a user's steps (exponential).
	ThinkTime time.Duration `yaml:"think_time"`
	// RequestTimeout bounds each HTTP request.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Patience is how long a user keeps trying before giving up.
	Patience time.Duration `yaml:"patience"`
	// Alternatives is how many other slots a user tries after a 409.
	Alternatives int `yaml:"alternatives"`
	// Retry is the policy on 429, 5xx and timeouts.
	Retry RetrySpec `yaml:"retry"`
}

// RetrySpec is exponential backoff with jitter.
type RetrySpec struct {
	MaxAttempts int           `yaml:"max_attempts"`
	Backoff     time.Duration `yaml:"backoff"`
	MaxBackoff  time.Duration `yaml:"max_backoff"`
	// Jitter in [0,1] is the share of each backoff drawn at random.
	Jitter float64 `yaml:"jitter"`
	// HonourRetryAfter makes clients wait what Retry-After says.
	HonourRetryAfter bool `yaml:"honour_retry_after"`
}

// Behaviour names a client behaviour.
type Behaviour string

// Client behaviours (issue 6).
const (
	Patient   Behaviour = "patient"
	Refresher Behaviour = "refresher"
	Abandoner Behaviour = "abandoner"
)

// BehaviourShare is the share of users with a behaviour.
type BehaviourShare struct {
	Behaviour Behaviour `yaml:"behaviour"`
	Share     float64   `yaml:"share"`
}

// DesignSpec is one design to compare and its per-partition limits.
type DesignSpec struct {
	Name   string        `yaml:"name"`
	Limits models.Limits `yaml:"limits"`
}

// WaitingRoomSpec configures admission through the waiting room.
type WaitingRoomSpec struct {
	// AdmitPerInterval users are admitted every Interval.
	AdmitPerInterval int           `yaml:"admit_per_interval"`
	Interval         time.Duration `yaml:"interval"`
	// MaxActive caps admitted users holding a valid token (0 = no cap).
	MaxActive int `yaml:"max_active"`
	// Order is "fifo" or "random" for everyone present at opening.
	Order string `yaml:"order"`
	// TokenTTL is how long an admission token stays valid.
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// Arrival is one user of a generated crowd.
type Arrival struct {
	// Index is the user's arrival order, from 0.
	Index int
	// PersonID is unique within the crowd.
	PersonID string
	// At is when the user arrives, from the announced opening (t=0).
	At time.Duration
	// State is the user's home state.
	State string
	// PPVs is the user's preference order over centres, most wanted first.
	PPVs []string
	// WantsEarliest reports whether the user takes the earliest date with
	// places left (else a random date with places).
	WantsEarliest bool
	Behaviour     Behaviour
	// Seed seeds this user's own random stream (think times, jitter), so a
	// journey is the same however the engine schedules users.
	Seed uint64
}
