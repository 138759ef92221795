package models

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Scheme is how a design splits the slot inventory into partitions.
type Scheme string

// The partitioning schemes.
const (
	// Monolithic keeps every slot in one partition: one store, one lock.
	Monolithic Scheme = "monolithic"
	// PerPPV gives each vaccination centre its own partition.
	PerPPV Scheme = "per-ppv"
	// PerPPVDay gives each centre-day its own partition.
	PerPPVDay Scheme = "per-ppv-day"
)

// Schemes lists the known schemes in the order reports show them.
var Schemes = []Scheme{Monolithic, PerPPV, PerPPVDay}

// WaitingRoomSuffix turns a waiting room on in front of a design when it ends
// the design's name, as in "per-ppv-day+waiting-room".
const WaitingRoomSuffix = "+waiting-room"

// CentreRoomsSuffix puts one waiting room in front of each PPV (centre) of a
// design when it ends the design's name, as in "per-ppv-day+centre-rooms":
// a person queues for the centre they want, and the admission token is
// bound to that centre (see Design.CentreRooms).
const CentreRoomsSuffix = "+centre-rooms"

// PartitionKey names one partition of a design. It is safe as a file name.
type PartitionKey string

// Limits are the capacity limits of ONE partition, the way a partitioned store
// such as DynamoDB provisions each partition separately. Zero means unlimited
// for rates and bounds.
type Limits struct {
	// WriteRate is the sustained booking attempts per second a partition
	// admits (token bucket); beyond it the server answers 429 with Retry-After.
	WriteRate float64 `json:"write_rate" yaml:"write_rate"`
	// WriteBurst is the token bucket depth for writes.
	WriteBurst int `json:"write_burst" yaml:"write_burst"`
	// ReadRate is the sustained reads per second a partition admits.
	ReadRate float64 `json:"read_rate" yaml:"read_rate"`
	// ReadBurst is the token bucket depth for reads.
	ReadBurst int `json:"read_burst" yaml:"read_burst"`
	// MaxInFlight bounds the requests a partition works on at once.
	MaxInFlight int `json:"max_in_flight" yaml:"max_in_flight"`
	// MaxQueue bounds the requests waiting for MaxInFlight; beyond it the
	// server answers 503 with Retry-After at once.
	MaxQueue int `json:"max_queue" yaml:"max_queue"`
	// MaxWait bounds how long a request may wait in the queue before the
	// server gives up on it with 503.
	MaxWait time.Duration `json:"max_wait" yaml:"max_wait"`
}

// Validate returns every problem of the limits.
func (l Limits) Validate() []error {
	var errs []error
	if l.WriteRate < 0 {
		errs = append(errs, fmt.Errorf("write_rate %v is negative", l.WriteRate))
	}
	if l.ReadRate < 0 {
		errs = append(errs, fmt.Errorf("read_rate %v is negative", l.ReadRate))
	}
	if l.WriteBurst < 0 || l.ReadBurst < 0 {
		errs = append(errs, fmt.Errorf("burst is negative"))
	}
	if l.MaxInFlight < 0 || l.MaxQueue < 0 {
		errs = append(errs, fmt.Errorf("max_in_flight and max_queue must not be negative"))
	}
	if l.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("max_wait %v is negative", l.MaxWait))
	}
	return errs
}

// Design is a partitioning design: a scheme, the limits each of its partitions
// gets, and whether a waiting room fronts it. A Design is a value; it is safe
// for concurrent use.
type Design struct {
	// Name is the design's name as users write it, e.g. "per-ppv-day".
	Name string `json:"design"`
	// Scheme maps slots to partitions.
	Scheme Scheme `json:"scheme"`
	// Limits apply to each partition separately.
	Limits Limits `json:"limits"`
	// WaitingRoom reports whether a waiting room fronts the design.
	WaitingRoom bool `json:"waiting_room,omitempty"`
	// CentreRooms reports whether the waiting room is one queue per PPV
	// (CentreRoomsSuffix); it implies WaitingRoom. Each centre's room admits
	// at the rate its partitions take (Design.AdmitRates).
	CentreRooms bool `json:"centre_rooms,omitempty"`
	// Room is how the waiting room admits people, when WaitingRoom is set.
	Room RoomPolicy `json:"room,omitzero"`
}

// Waiting-room orders for the people present at opening.
const (
	// RoomFIFO admits everyone in the order they joined.
	RoomFIFO = "fifo"
	// RoomRandom gives everyone who joined before opening a random place;
	// later arrivals queue behind them in the order they join.
	RoomRandom = "random"
)

// Rules of a waiting room shared by the reference server and the
// simulator's model of it.
const (
	// RoomDefaultInterval is the admission round of a policy that sets no
	// Interval (it admits by MaxActive alone).
	RoomDefaultInterval = time.Second
	// RoomMaxPoll bounds the polling interval a room advises, as a waiting
	// page refreshes (Cloudflare's Waiting Room: about every 20 s).
	RoomMaxPoll = 20 * time.Second
)

// RoomPolicy is how a waiting room admits people: AdmitPerInterval new
// people every Interval and/or at most MaxActive admitted people holding an
// unexpired token who have not booked yet (0 = no cap). Admission tokens
// are valid for TokenTTL. Order is RoomFIFO or RoomRandom. With Auto, the
// admission per interval is sized from the design's limits instead
// (Design.AdmitRates, scaled by Headroom); centre rooms are always sized so.
// With MaxWait, a room refuses a join when the people ahead would take
// longer than MaxWait to admit (Refuses): a queue no longer than the wait
// people are told they may face.
type RoomPolicy struct {
	AdmitPerInterval int           `json:"admit_per_interval"`
	Interval         time.Duration `json:"interval"`
	MaxActive        int           `json:"max_active"`
	Order            string        `json:"order"`
	TokenTTL         time.Duration `json:"token_ttl"`
	Auto             bool          `json:"auto,omitempty"`
	Headroom         float64       `json:"headroom,omitempty"`
	MaxWait          time.Duration `json:"max_wait,omitempty"`
}

// Refuses reports whether a room with policy p refuses a join behind ahead
// people not yet admitted: p sets MaxWait and admits AdmitPerInterval
// people every Interval, and the rounds needed for those ahead,
// ahead/AdmitPerInterval of them, last longer than MaxWait. Both the
// reference server and the model refuse by it.
func (p RoomPolicy) Refuses(ahead int64) bool {
	if p.MaxWait <= 0 || p.AdmitPerInterval <= 0 || p.Interval <= 0 {
		return false
	}
	return time.Duration(ahead/int64(p.AdmitPerInterval))*p.Interval > p.MaxWait
}

// String describes p in words: "admits 30 every 250ms, at most 100 active,
// fifo order, tokens valid 30s", leaving out a rate or cap that is not set.
func (p RoomPolicy) String() string {
	var parts []string
	if p.Auto {
		parts = append(parts, fmt.Sprintf("admits what the partitions take x %g every %v", p.headroom(), p.Interval))
	} else if p.AdmitPerInterval > 0 {
		parts = append(parts, fmt.Sprintf("admits %d every %v", p.AdmitPerInterval, p.Interval))
	}
	if p.MaxActive > 0 {
		parts = append(parts, fmt.Sprintf("at most %d active", p.MaxActive))
	}
	parts = append(parts, p.Order+" order", fmt.Sprintf("tokens valid %v", p.TokenTTL))
	if p.MaxWait > 0 {
		parts = append(parts, fmt.Sprintf("no queue longer than %v", p.MaxWait))
	}
	return strings.Join(parts, ", ")
}

// Validate reports every problem of p: nothing to admit, a missing round
// interval, a negative max_active, an unknown order, a token lifetime that
// is not positive. It never mutates p.
func (p RoomPolicy) Validate() []error {
	var errs []error
	if p.AdmitPerInterval <= 0 && p.MaxActive <= 0 && !p.Auto {
		errs = append(errs, fmt.Errorf("waiting room admits nobody: set admit_per_interval or max_active"))
	}
	if (p.AdmitPerInterval > 0 || p.Auto) && p.Interval <= 0 {
		errs = append(errs, fmt.Errorf("waiting room interval %v: want > 0", p.Interval))
	}
	if p.MaxActive < 0 {
		errs = append(errs, fmt.Errorf("waiting room max_active %d is negative", p.MaxActive))
	}
	if p.Order != RoomFIFO && p.Order != RoomRandom {
		errs = append(errs, fmt.Errorf("waiting room order %q: want %q or %q", p.Order, RoomFIFO, RoomRandom))
	}
	if p.TokenTTL <= 0 {
		errs = append(errs, fmt.Errorf("waiting room token_ttl %v: want > 0", p.TokenTTL))
	}
	if !(p.Headroom >= 0 && p.Headroom <= 1) {
		errs = append(errs, fmt.Errorf("waiting room headroom %v: want a share in (0, 1], or 0 for %v", p.Headroom, DefaultRoomHeadroom))
	}
	if p.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("waiting room max_wait %v is negative", p.MaxWait))
	}
	return errs
}

// ParseDesign returns the design named name ("monolithic", "per-ppv",
// "per-ppv-day", each optionally followed by "+waiting-room" or
// "+centre-rooms") with the given per-partition limits. It returns an error
// naming the unknown design.
func ParseDesign(name string, limits Limits) (Design, error) {
	d := Design{Name: name, Limits: limits}
	base := name
	switch {
	case strings.HasSuffix(base, WaitingRoomSuffix):
		d.WaitingRoom = true
		base = strings.TrimSuffix(base, WaitingRoomSuffix)
	case strings.HasSuffix(base, CentreRoomsSuffix):
		d.WaitingRoom, d.CentreRooms = true, true
		base = strings.TrimSuffix(base, CentreRoomsSuffix)
	}
	for _, s := range Schemes {
		if string(s) == base {
			d.Scheme = s
			return d, nil
		}
	}
	return Design{}, fmt.Errorf("unknown design %q (want one of monolithic, per-ppv, per-ppv-day, optionally with %s or %s)", name, WaitingRoomSuffix, CentreRoomsSuffix)
}

// Key returns the partition that stores slot k.
func (d Design) Key(k SlotKey) PartitionKey {
	switch d.Scheme {
	case PerPPV:
		return PartitionKey("ppv-" + k.PPV)
	case PerPPVDay:
		return PartitionKey("ppv-" + k.PPV + "-" + k.Date.String())
	default:
		return PartitionKey("all")
	}
}

// Partitions returns the partitions of inv under d, sorted, each with the
// slots it stores.
func (d Design) Partitions(inv *Inventory) []Partition {
	byKey := map[PartitionKey]*Partition{}
	var keys []PartitionKey
	for _, s := range inv.Slots {
		k := d.Key(s.Key())
		p, ok := byKey[k]
		if !ok {
			p = &Partition{Key: k, Limits: d.Limits}
			byKey[k] = p
			keys = append(keys, k)
		}
		p.Slots = append(p.Slots, s)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	out := make([]Partition, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}

// Partition is one partition of a design: its key, its limits and the slots
// it stores.
type Partition struct {
	Key    PartitionKey
	Limits Limits
	Slots  []Slot
}

// Capacity returns the total places of the partition's slots.
func (p Partition) Capacity() int {
	n := 0
	for _, s := range p.Slots {
		n += s.Capacity
	}
	return n
}
