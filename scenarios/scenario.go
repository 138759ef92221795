// Package scenarios defines the slotrush scenario format (YAML), loads it with
// errors that name file:line:column, embeds the built-in presets, and generates
// the crowd of a scenario deterministically from its seed.
//
// Load a preset or a file with Load (or bytes with Parse): it decodes
// strictly, fills defaults (Scenario.EnsureDefaults) and validates
// (Scenario.Validate), reporting every problem at once as an ErrorList. From
// a loaded Scenario, BuildInventory and BuildDesigns give what the reference
// server and the simulator are built from, Arrivals the crowd, Scaled a
// smaller or larger copy, Parameters the facts a report prints, Plan the
// figures that say before a run whether the scenario is sensible, and
// Warnings the settings another setting overrides. The
// format and the presets are described in README.md next to this file.
//
// The package imports models, fault (the grammar of the faults a scenario
// may carry) and github.com/goccy/go-yaml only; it needs no cgo.
package scenarios

import (
	"time"

	"github.com/slotrush/slotrush/models"
)

// Scenario is one registration-day rush: the slot inventory, the crowd, how
// users behave, and the designs to compare. It is plain serialized config:
// call EnsureDefaults, then Validate, before use (Parse and Load do both).
// Not safe for concurrent mutation; safe for concurrent reads.
//
// Zero values that EnsureDefaults fills are listed in its doc comment; every
// other zero value means what it says (0 think time = none, 0 hot skew =
// uniform, 0 alternatives = none). In a file, only an absent field (or
// null) takes a default: a scenario Parse decodes remembers which of those
// fields its file set explicitly to zero, and Validate refuses them with
// the reason.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Seed makes the crowd reproducible; --seed overrides it.
	Seed int64 `yaml:"seed"`
	// Duration bounds a live run per design (arrivals plus the journeys in
	// flight); whatever has not finished by then is counted still waiting.
	// Default: long enough for the last arrival (or the opening, if later)
	// to run out of patience, plus one request timeout.
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
	// Faults are storage faults injected into the partitions of a live
	// run's in-process server, each written in the grammar of package
	// fault ("partition=hottest,down,start=2s,for=15s"), run's --fault
	// flags adding to them. A partition is hottest (HottestPartition, per
	// design) or a key of one of the scenario's designs. Empty: none.
	Faults []string `yaml:"faults"`
	// Gateway is a limiter in front of every partition of every design
	// (a CDN, a WAF, an API gateway), refusing with its own 429
	// (gateway_throttled). It is the scenario's, not a design's: the site
	// in front is the same whatever the partitioning behind it. Zero: none.
	Gateway models.RateLimit `yaml:"gateway"`
	// Observed are milestones of the real event the scenario replays,
	// each with its source; results set each design's bookings beside
	// them. Empty: none (a made-up rush has no record).
	Observed []ObservedSpec `yaml:"observed"`

	// scale is the factor Scaled applied to the scenario as written (0:
	// none); Parameters names it.
	scale float64

	// zeros holds the fields the file set explicitly to a zero value
	// EnsureDefaults would otherwise replace; nil for a scenario built in
	// Go, where a zero value is an absent one.
	zeros zeroSet
	// warnings are Warnings placed in the file Parse read; see
	// FileWarnings.
	warnings ErrorList
}

// InventorySpec describes the slots: either listed PPVs, or a generator that
// makes PPVsPerState centres in each state. Every PPV offers DailyCapacity
// places (unless it sets its own) on each of Days days from FirstDate.
type InventorySpec struct {
	// FirstDate is the first day with places (default 2021-06-07, the first
	// jab day of the 26 May 2021 round).
	FirstDate models.Date `yaml:"first_date"`
	// Days is the number of consecutive days with places (default 1).
	Days          int       `yaml:"days"`
	DailyCapacity int       `yaml:"daily_capacity"`
	PPVs          []PPVSpec `yaml:"ppvs"`
	// Generator, used when PPVs is empty: PPVsPerState (default 1) centres
	// in each state, with ids "<state>-01", "<state>-02", ...
	States       []string `yaml:"states"`
	PPVsPerState int      `yaml:"ppvs_per_state"`
}

// PPVSpec is one listed centre. The ID must be unique and made of letters,
// digits, '-', '_' and '.' (it becomes part of partition and file names);
// Name defaults to the ID, DailyCapacity to the inventory's.
type PPVSpec struct {
	ID            string `yaml:"id"`
	Name          string `yaml:"name"`
	State         string `yaml:"state"`
	DailyCapacity int    `yaml:"daily_capacity"`
	// Popularity is the centre's weight as a first choice: users choose
	// their first centre in proportion to the weights. A centre without
	// one gets the weight hot_skew gives its place in the list,
	// 1/k^hot_skew for the k-th (1 for every centre when hot_skew is 0),
	// so setting it on some centres never leaves the others without
	// demand. Written as 0 in a file it is honoured (nobody chooses the
	// centre first) and Warnings says so. See Scenario.PPVWeight.
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
	// Openings are per-state openings of booking (see OpeningSpec); empty:
	// every state opens at OpeningDelay.
	Openings []OpeningSpec `yaml:"openings"`
}

// ArrivalSpec shapes arrivals. Shapes:
//   - "constant": Size users spread evenly over Over (default 1m);
//   - "spike": rate ramps linearly from 0 to its peak over RampUp (0 = starts
//     at the peak), then decays exponentially with time constant Decay
//     (default 1m): the registration-day curve. The peak is chosen so that
//     exactly Size users arrive; when Over is set the tail is cut at Over, so
//     every user has arrived by then;
//   - "piecewise": the rate follows Pieces, each a rate held from At until the
//     next piece (the last is held for ever); arrivals stop when Size users
//     have come. Before the first piece the rate is 0.
//
// An empty Shape is inferred: "piecewise" when Pieces are set, "spike" when
// RampUp or Decay is, else "constant". Arrival times are measured from the
// announced opening (t=0), not from CrowdSpec.OpeningDelay.
type ArrivalSpec struct {
	Shape  string        `yaml:"shape"`
	Over   time.Duration `yaml:"over"`
	RampUp time.Duration `yaml:"ramp_up"`
	Decay  time.Duration `yaml:"decay"`
	Pieces []RatePiece   `yaml:"pieces"`
	// Poisson draws the arrival times as a Poisson process following the
	// curve (conditioned on exactly Size arrivals) instead of spacing users
	// deterministically.
	Poisson bool `yaml:"poisson"`
}

// RatePiece holds an arrival rate (users/s) from At on.
type RatePiece struct {
	At   time.Duration `yaml:"at"`
	Rate float64       `yaml:"rate"`
}

// PreferencesSpec is what users want.
type PreferencesSpec struct {
	// HotSkew is the Zipf exponent over PPVs (0 = uniform; 1.2 = a few hot):
	// the k-th PPV in inventory order (generated inventories: the k-th in
	// round-robin order over states) is wanted first with weight 1/k^HotSkew.
	// A listed PPV that sets a Popularity takes that weight instead; the
	// others keep theirs (Warnings says when popularity overrides it).
	HotSkew float64 `yaml:"hot_skew"`
	// EarlyDateBias in [0,1] is the probability a user wants the earliest
	// date with places left rather than any date.
	EarlyDateBias float64 `yaml:"early_date_bias"`
	// SameState puts PPVs of the user's own state (the state of their first
	// choice) first among their alternatives.
	SameState bool `yaml:"same_state"`
}

// JourneySpec is the user journey's timing and retry policy.
type JourneySpec struct {
	// ThinkTime is the mean pause between a user's steps (exponential);
	// 0 means none.
	ThinkTime time.Duration `yaml:"think_time"`
	// RequestTimeout bounds each HTTP request (default 10s).
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Patience is how long a user keeps trying before giving up (default 1m).
	Patience time.Duration `yaml:"patience"`
	// Alternatives is how many other slots a user tries after a 409; it also
	// sets how many alternative PPVs each generated user lists (capped by the
	// number of PPVs).
	Alternatives int `yaml:"alternatives"`
	// RefreshInterval is the mean time between a refresher's clicks: on an
	// error it clicks again, and in a waiting room it reloads the page,
	// after a delay drawn uniformly from 0.5 to 1.5 times this (default 1s).
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	// Retry is the policy on 429, 5xx and timeouts.
	Retry RetrySpec `yaml:"retry"`
	// Steps come before listing centres, in order (see StepSpec); empty:
	// none.
	Steps []StepSpec `yaml:"steps"`
	// Returns bring back a share of those who gave up (see ReturnSpec).
	Returns ReturnSpec `yaml:"returns"`
}

// RetrySpec is exponential backoff with jitter.
type RetrySpec struct {
	// MaxAttempts bounds the attempts per request; 0 means no bound but
	// the user's patience.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the first wait (default 100ms); each retry doubles it up
	// to MaxBackoff (default 10s, and never below Backoff).
	Backoff    time.Duration `yaml:"backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
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

// DesignSpec is one design to compare and its per-partition limits. Its Name
// is parsed by models.ParseDesign. A scenario without designs gets
// DefaultDesigns.
type DesignSpec struct {
	Name   string        `yaml:"name"`
	Limits models.Limits `yaml:"limits"`
}

// WaitingRoomSpec configures admission through the waiting room. It must be
// set (AdmitPerInterval > 0, or Admit "auto") when a design ends in
// "+waiting-room"; rooms per centre ("+centre-rooms") are sized from the
// limits, with AdmitPerInterval as the fallback for unlimited partitions.
type WaitingRoomSpec struct {
	// AdmitPerInterval users are admitted every Interval (default 1s).
	AdmitPerInterval int           `yaml:"admit_per_interval"`
	Interval         time.Duration `yaml:"interval"`
	// MaxActive caps admitted users holding a valid token (0 = no cap).
	MaxActive int `yaml:"max_active"`
	// Order is "fifo" (default) or "random" for everyone present at opening.
	Order string `yaml:"order"`
	// TokenTTL is how long an admission token stays valid (default 5m).
	TokenTTL time.Duration `yaml:"token_ttl"`
	// Admit is "auto" to size the room's admission from the design's
	// limits (models.Design.RoomSizes: what the partitions behind it take,
	// times Headroom) instead of AdmitPerInterval. Rooms per centre
	// (+centre-rooms) are always sized so.
	Admit string `yaml:"admit"`
	// Headroom is the share of what the partitions take that a sized room
	// admits, in (0, 1] (default models.DefaultRoomHeadroom, 0.9).
	Headroom float64 `yaml:"headroom"`
	// MaxWait, when set, makes a room refuse a join (409 queue_full) when
	// the people ahead would take longer than MaxWait to admit: with rooms
	// per centre the person queues for their next centre instead
	// (models.RoomPolicy.Refuses).
	MaxWait time.Duration `yaml:"max_wait"`
}

// Arrival is one user of a generated crowd (see Scenario.Crowd). Arrivals
// are values; the PPVs slice is shared between users and must not be
// modified.
type Arrival struct {
	// Index is the user's arrival order, from 0.
	Index int
	// PersonID is unique within the crowd.
	PersonID string
	// At is when the user arrives, from the announced opening (t=0).
	At time.Duration
	// State is the user's home state.
	State string
	// PPVs is the user's preference order over centres, most wanted first:
	// the first choice, then up to JourneySpec.Alternatives alternatives.
	// Shared with other users: read only.
	PPVs []string
	// WantsEarliest reports whether the user takes the earliest date with
	// places left (else a random date with places).
	WantsEarliest bool
	// Behaviour is the user's client behaviour, drawn by share.
	Behaviour Behaviour
	// Seed seeds this user's own random stream (think times, jitter), so a
	// journey is the same however the engine schedules users.
	Seed uint64
}
