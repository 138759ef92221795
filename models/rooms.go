package models

import (
	"fmt"
	"math"
	"time"
)

// DefaultRoomHeadroom is the share of what the partitions take that an
// auto-sized room admits when RoomPolicy.Headroom is 0: some room for the
// retries after a slot taken and for the people who were admitted at once
// (Cloudflare's Waiting Room advises admitting 75% to 90% of what the origin
// takes).
const DefaultRoomHeadroom = 0.9

// headroom returns p.Headroom, or DefaultRoomHeadroom when it is 0.
func (p RoomPolicy) headroom() float64 {
	if p.Headroom > 0 {
		return p.Headroom
	}
	return DefaultRoomHeadroom
}

// RoomSizing is what the partitions behind one waiting room take, and what
// the room admits from it.
type RoomSizing struct {
	// PPV is the centre of a centre room, "" for the single room.
	PPV string `json:"ppv,omitempty"`
	// WriteRate is the bookings per second the partitions behind the room
	// take for its centre(s); 0 when no partition limits writes.
	WriteRate float64 `json:"write_rate"`
	// ReadRate is the slot listings per second they take: a listing reads
	// every partition of the centre, so the slowest bounds it; 0 when no
	// partition limits reads.
	ReadRate float64 `json:"read_rate"`
	// Rate is the people admitted per second: for the single room,
	// Headroom times the lower of WriteRate and ReadRate (each admitted
	// person lists the centre's slots and books once), those that are 0
	// left out; for a centre room, Headroom times WriteRate (ReadRate when
	// no partition limits writes), since the room names the day an
	// admitted person books (SteerPick), so only those whose day sold out list.
	// 0 when neither limits.
	Rate float64 `json:"rate"`
	// PerInterval is Rate over one admission round, rounded, at least 1
	// when Rate is positive.
	PerInterval int `json:"per_interval"`
}

// Room is one waiting room of a design: the centre it fronts ("" for the
// single room in front of every centre), its policy with AdmitPerInterval
// resolved, and how it was sized.
type Room struct {
	PPV    string
	Policy RoomPolicy
	Sizing RoomSizing
}

// Rooms returns the waiting rooms of d over inv: none without a waiting
// room; one per PPV, in inventory order, with CentreRooms; else the single
// room. A centre room, and a single room whose policy is Auto, admits
// Sizing.PerInterval people per round, sized from the partitions behind it
// (RoomSizes); a centre room behind partitions without limits falls back to
// the policy's AdmitPerInterval. It returns an error when d's policy is
// invalid or a room would admit nobody.
func (d Design) Rooms(inv *Inventory) ([]Room, error) {
	if !d.WaitingRoom {
		return nil, nil
	}
	if errs := d.Room.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("design %s: invalid waiting room: %w", d.Name, errs[0])
	}
	sizes := d.RoomSizes(inv)
	rooms := make([]Room, len(sizes))
	for i, sz := range sizes {
		p := d.Room
		if (p.Auto || d.CentreRooms) && sz.PerInterval > 0 {
			p.AdmitPerInterval = sz.PerInterval
		}
		if p.AdmitPerInterval <= 0 && p.MaxActive <= 0 {
			what := "the single room"
			if sz.PPV != "" {
				what = fmt.Sprintf("the room of centre %q", sz.PPV)
			}
			return nil, fmt.Errorf("design %s: %s admits nobody: its partitions set no write_rate or read_rate to size it from; set waiting_room.admit_per_interval", d.Name, what)
		}
		rooms[i] = Room{PPV: sz.PPV, Policy: p, Sizing: sz}
	}
	return rooms, nil
}

// RoomSizes returns what the partitions of d over inv take behind each
// waiting room: one entry per PPV in inventory order with CentreRooms,
// else one entry (PPV "") for a single room, which takes the sum of what
// the centres take. A partition holding the places of several centres
// (monolithic, say) counts for each in proportion to its places of that
// centre. Rates are scaled by the policy's headroom into Rate and
// PerInterval (with the policy's interval, or RoomDefaultInterval).
func (d Design) RoomSizes(inv *Inventory) []RoomSizing {
	iv := d.Room.Interval
	if iv <= 0 {
		iv = RoomDefaultInterval
	}
	h := d.Room.headroom()
	centres := d.centreSizes(inv)
	if d.CentreRooms {
		for i := range centres {
			centres[i].size(h, iv, true)
		}
		return centres
	}
	var all RoomSizing
	for _, c := range centres {
		all.WriteRate += c.WriteRate
		all.ReadRate += c.ReadRate
	}
	all.size(h, iv, false)
	return []RoomSizing{all}
}

// size sets Rate and PerInterval from the rates, headroom h and round iv;
// steered (a centre room) sizes from the write rate alone when it is set.
func (s *RoomSizing) size(h float64, iv time.Duration, steered bool) {
	r := s.WriteRate
	if s.ReadRate > 0 && (r == 0 || (!steered && s.ReadRate < r)) {
		r = s.ReadRate
	}
	s.Rate = h * r
	s.PerInterval = 0
	if s.Rate > 0 {
		s.PerInterval = max(1, int(math.Round(s.Rate*iv.Seconds())))
	}
}

// centreSizes returns, per PPV of inv in order, the write and read rates
// the partitions of d take for it (unscaled).
func (d Design) centreSizes(inv *Inventory) []RoomSizing {
	idx := make(map[string]int, len(inv.PPVs))
	out := make([]RoomSizing, len(inv.PPVs))
	for i, p := range inv.PPVs {
		idx[p.ID] = i
		out[i].PPV = p.ID
	}
	for _, pt := range d.Partitions(inv) {
		// The share of the partition each centre holds: by places, or by
		// slots when it holds no place at all.
		shares := map[int]float64{}
		total := 0.0
		for _, s := range pt.Slots {
			w := float64(s.Capacity)
			if pt.Capacity() == 0 {
				w = 1
			}
			shares[idx[s.PPV]] += w
			total += w
		}
		for c, w := range shares {
			if total <= 0 {
				continue
			}
			sh := w / total
			out[c].WriteRate += pt.Limits.WriteRate * sh
			if r := pt.Limits.ReadRate * sh; r > 0 && (out[c].ReadRate == 0 || r < out[c].ReadRate) {
				out[c].ReadRate = r
			}
		}
	}
	return out
}

// SteerPick returns the index in open (a centre's days in date order,
// true for those with places left) of the day its room sends the person
// admitted at rank to book: the open days in turn, the (rank mod k)-th of
// the k open, so each open day's partition gets an equal share of the
// centre's admissions. It returns -1 when no day is open. The reference
// server and the model both pick by it.
func SteerPick(rank int64, open []bool) int {
	k := 0
	for _, o := range open {
		if o {
			k++
		}
	}
	if k == 0 {
		return -1
	}
	n := int(rank % int64(k))
	for i, o := range open {
		if o {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

// SteeredAdmit returns how many people a centre room admits in a round
// when open of its total days have places left: per, its sized round, in
// that proportion, rounded up, since the days sold out take no more
// bookings and the room sends nobody there; 0 when none is open.
func SteeredAdmit(per int64, open, total int) int64 {
	if open >= total || total <= 0 {
		return per
	}
	if open <= 0 {
		return 0
	}
	return (per*int64(open) + int64(total) - 1) / int64(total)
}
