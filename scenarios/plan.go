package scenarios

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/slotrush/slotrush/models"
)

// Plan is what a scenario implies before anything runs: how many people
// come for how many places, the peak of their arrivals and the requests it
// brings, what each design's hottest partition must take against its
// limits, how fast a waiting room lets the crowd through, and warnings
// about what would make a run misleading. Scenario.Plan computes it; it is
// arithmetic on the scenario and its crowd's first choices, not a
// measurement: retries, alternatives and refreshers' clicks come on top.
// Figures are rounded to 4 significant digits.
type Plan struct {
	// Scenario, Scale and Seed say what was planned: the scenario at
	// `simulate --scale Scale`, its crowd drawn from Seed.
	Scenario string  `json:"scenario"`
	Scale    float64 `json:"scale"`
	Seed     int64   `json:"seed"`
	// People arrive for Places places: PPVs x Days slots.
	People         int     `json:"people"`
	Places         int     `json:"places"`
	PPVs           int     `json:"ppvs"`
	Days           int     `json:"days"`
	PeoplePerPlace float64 `json:"people_per_place"`
	// PeakArrivalRate (people/s) is the arrival curve's highest rate,
	// first reached PeakAt after t=0; LastArrival is when the last person
	// arrives.
	PeakArrivalRate float64 `json:"peak_arrival_rate"`
	PeakAt          Seconds `json:"peak_at_s"`
	LastArrival     Seconds `json:"last_arrival_s"`
	// OpeningDelay is when the booking API opens; EarlyArrivals people
	// arrive before it and are refused until then.
	OpeningDelay  Seconds `json:"opening_delay_s"`
	EarlyArrivals int     `json:"early_arrivals"`
	// Patience and Duration are the journey's patience and the run's
	// length.
	Patience Seconds `json:"patience_s"`
	Duration Seconds `json:"duration_s"`
	// Calls are the requests of one journey that goes well: each person
	// makes each once. PeakRequestRate is PeakArrivalRate times as many:
	// requests/s at the peak before any retry, alternative (another
	// list_slots and book each), refresh or waiting-room poll.
	Calls           []string `json:"calls"`
	PeakRequestRate float64  `json:"peak_request_rate"`
	// Designs has one entry per design of the scenario, in order.
	Designs []DesignPlan `json:"designs"`
	// Warnings say what would make a run of the scenario misleading.
	Warnings []Warning `json:"warnings"`
}

// DesignPlan is what one design's hottest partition must take at the peak
// of arrivals, each person booking their first choice once.
type DesignPlan struct {
	Design     string `json:"design"`
	Partitions int    `json:"partitions"`
	// Hottest is the partition with the most first-choice demand, the one
	// Scenario.HottestPartition names for the crowd (a fault's "hottest");
	// HottestShare is its share of the crowd's bookings.
	Hottest      models.PartitionKey `json:"hottest"`
	HottestShare float64             `json:"hottest_share"`
	// PeakBookings is the booking attempts/s the hottest partition gets at
	// the peak (behind a waiting room: at the room's admission rate when
	// it is lower), against WriteRate, its write limit (0 = unlimited);
	// WriteLoad is their ratio (0 when unlimited).
	PeakBookings float64 `json:"peak_bookings_per_s"`
	WriteRate    float64 `json:"write_rate"`
	WriteLoad    float64 `json:"write_load"`
	// ReadShare is the share of the crowd whose listing of slots reads the
	// hottest partition (a listing reads every partition holding a day of
	// its PPV); PeakReads, ReadRate and ReadLoad are as for writes.
	ReadShare float64 `json:"read_share"`
	PeakReads float64 `json:"peak_reads_per_s"`
	ReadRate  float64 `json:"read_rate"`
	ReadLoad  float64 `json:"read_load"`
	// Room sizes the waiting room of a design that has one; nil otherwise.
	Room *RoomPlan `json:"room,omitempty"`
}

// RoomPlan sizes a design's waiting room: the rate it admits people at,
// what that rate brings the hottest partition, and how long the crowd
// takes to get through.
type RoomPlan struct {
	// AdmitRate is the people admitted per second (admit_per_interval
	// every interval).
	AdmitRate float64 `json:"admit_per_s"`
	// HottestBookings is the booking attempts/s the people admitted bring
	// the hottest partition, and WriteLoad its ratio to the write limit
	// (0 when unlimited); AllWriteRate is the write limit of all the
	// design's partitions together (0 when unlimited).
	HottestBookings float64 `json:"hottest_bookings_per_s"`
	WriteLoad       float64 `json:"write_load"`
	AllWriteRate    float64 `json:"all_write_rate"`
	// LastAdmitted is when the room admits the last person and LongestWait
	// the longest anyone waits in it: first come first served from the
	// opening, without max_active's cap (which can only slow it).
	LastAdmitted Seconds `json:"last_admitted_s"`
	LongestWait  Seconds `json:"longest_wait_s"`
	// NotAdmitted is how many people the room would not admit before the
	// run ends.
	NotAdmitted int `json:"not_admitted"`
	// Refused is how many people the room turns away at the door
	// (waiting_room.max_wait): their queue was longer than that.
	Refused int `json:"refused,omitempty"`
}

// Warning is something that would make a run misleading: Code is short
// and stable (see the Warn constants), Message says what and why.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes of Plan's warnings.
const (
	// WarnDurationShort: the run ends before the last arrivals have had
	// their patience (a duration before the last arrival is an error).
	WarnDurationShort = "duration_short"
	// WarnZeroDemand: some PPVs are nobody's first choice.
	WarnZeroDemand = "zero_demand"
	// WarnRoomTooSlow: a waiting room keeps people longer than their
	// patience.
	WarnRoomTooSlow = "room_too_slow"
	// WarnRoomRefuses: waiting_room.max_wait turns people away from the
	// single room's door.
	WarnRoomRefuses = "room_refuses"
	// WarnRoomPastEnd: a waiting room would still hold people when the
	// run ends.
	WarnRoomPastEnd = "room_past_end"
)

// journeyCalls are the requests of one journey that goes well: the
// steps that call a service (step:NAME), then list_ppvs, list_slots and
// book.
func (s *Scenario) journeyCalls() []string {
	var calls []string
	for _, st := range s.Journey.Steps {
		if st.Calls() {
			calls = append(calls, "step:"+st.Name)
		}
	}
	return append(calls, "list_ppvs", "list_slots", "book")
}

// Seconds is a duration that encodes in JSON as a number of seconds.
type Seconds time.Duration

// MarshalJSON writes d in seconds, to 4 significant digits.
func (d Seconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, sig4(time.Duration(d).Seconds()), 'f', -1, 64), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Seconds) UnmarshalJSON(b []byte) error {
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(x, 0) || math.Abs(x) > MaxDuration.Seconds()*10 {
		return fmt.Errorf("seconds: want a number of seconds, got %.20q", b)
	}
	*d = Seconds(seconds(x))
	return nil
}

// String writes d as time.Duration does, rounded to 4 significant digits.
func (d Seconds) String() string {
	x := time.Duration(d)
	for _, unit := range []time.Duration{time.Hour, time.Minute, time.Second, time.Millisecond} {
		if x >= 10*unit {
			return fmtDuration(x.Round(unit / 100))
		}
	}
	return x.Round(time.Microsecond).String()
}

// Plan returns the plan of the scenario at `simulate --scale scale` (the
// crowd, daily capacities and piecewise arrival rates multiplied by scale,
// as Scaled does), its crowd drawn from the scenario's Seed. The demand on
// each partition counts the first choices of that crowd as
// HottestPartition does; the crowd itself is not built, so a plan of
// millions of people takes a second, not gigabytes. It returns an error
// when the scale is not a positive finite number or the scaled scenario
// would be invalid (see CheckScale), or when the scenario is invalid.
// Safe for concurrent use.
func (s *Scenario) Plan(scale float64) (*Plan, error) {
	if err := s.CheckScale(scale); err != nil {
		return nil, err
	}
	sc := s
	if scale != 1 {
		sc = s.Scaled(scale)
	}
	if errs := sc.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("scenario %s at scale %g: %w", s.Name, scale, errors.Join(errs...))
	}
	cv, _ := newCurve(sc.Crowd.Arrival, sc.Crowd.Size)
	p := &Plan{
		Scenario: sc.Name, Scale: scale, Seed: sc.Seed,
		People: sc.Crowd.Size, Places: sc.TotalCapacity(), PPVs: sc.NumPPVs(), Days: sc.Inventory.Days,
		PeakArrivalRate: sig4(cv.peakRate()), PeakAt: Seconds(seconds(cv.peakAt())), LastArrival: Seconds(sc.ArrivalWindow()),
		OpeningDelay: Seconds(sc.Crowd.OpeningDelay), EarlyArrivals: sc.Crowd.Size - sc.lateArrivals(sc.Crowd.OpeningDelay),
		Patience: Seconds(sc.Journey.Patience), Duration: Seconds(sc.Duration),
		Calls:           s.journeyCalls(),
		PeakRequestRate: sig4(cv.peakRate() * float64(len(s.journeyCalls()))),
		Warnings:        []Warning{},
	}
	if sc.Crowd.OpeningDelay <= 0 {
		p.EarlyArrivals = 0
	}
	if p.Places > 0 {
		p.PeoplePerPlace = sig4(float64(p.People) / float64(p.Places))
	}
	inv := sc.BuildInventory()
	fd := sc.countFirstChoices(len(inv.PPVs))
	var room *roomQueue
	for _, ds := range sc.Designs {
		d, err := models.ParseDesign(ds.Name, ds.Limits)
		if err != nil {
			return nil, fmt.Errorf("scenario %s: %w", sc.Name, err) // Validate refuses it first
		}
		dp := sc.planDesign(d, &inv, fd, cv.peakRate())
		// TODO: plan the queues of sized rooms (per centre, admit: auto).
		if d.WaitingRoom && !d.CentreRooms && sc.WaitingRoom.Admit != AdmitAuto {
			if room == nil {
				room = sc.queueThroughRoom(cv)
			}
			dp.Room = sc.planRoom(&dp, room)
		}
		p.Designs = append(p.Designs, dp)
	}
	p.Warnings = append(p.Warnings, sc.planWarnings(&inv, fd, room)...)
	return p, nil
}

// countFirstChoices counts the first choices of the crowd Arrivals would
// draw from the scenario's seed, per PPV, without building it.
func (s *Scenario) countFirstChoices(ppvs int) firstDemand {
	fd := newFirstDemand(ppvs)
	ch := s.newChooser(s.Seed)
	for range max(s.Crowd.Size, 0) {
		if f, _, early := ch.next(); f >= 0 && f < ppvs {
			fd.add(f, early)
		}
	}
	return fd
}

// planDesign returns the plan of design d without its room: its hottest
// partition's share of the crowd's bookings and listings, and what they
// come to at the peak rate against its limits.
func (s *Scenario) planDesign(d models.Design, inv *models.Inventory, fd firstDemand, peak float64) DesignPlan {
	demand, l := fd.partitions(d, inv)
	key, hot := hottest(d, inv, demand)
	parts := d.Partitions(inv)
	dp := DesignPlan{Design: d.Name, Partitions: len(parts), Hottest: key, WriteRate: d.Limits.WriteRate, ReadRate: d.Limits.ReadRate}
	n := float64(max(s.Crowd.Size, 1))
	dp.HottestShare = float64(hot) / float64(l) / n
	readers := map[string]bool{}
	var hotPart models.Partition
	for _, pt := range parts {
		if pt.Key == key {
			hotPart = pt
			for _, sl := range pt.Slots {
				readers[sl.PPV] = true
			}
		}
	}
	var reads int64
	for i, pv := range inv.PPVs {
		if readers[pv.ID] {
			reads += fd.users(i)
		}
	}
	dp.ReadShare = float64(reads) / n
	rate := peak
	if d.WaitingRoom && s.WaitingRoom.Interval > 0 {
		rate = min(rate, s.designAdmitRate(d, inv))
	}
	dp.PeakBookings = sig4(rate * dp.HottestShare)
	dp.PeakReads = sig4(rate * dp.ReadShare)
	if d.CentreRooms && s.WaitingRoom.Interval > 0 {
		// Each centre's room sends its admissions to its days in turn,
		// and nobody it admits lists the centre.
		c := s.centreRate(d, inv, hotPart)
		dp.PeakBookings, dp.PeakReads = sig4(min(peak*dp.HottestShare, c)), 0
	}
	dp.WriteLoad = load(dp.PeakBookings, dp.WriteRate)
	dp.ReadLoad = load(dp.PeakReads, dp.ReadRate)
	dp.HottestShare, dp.ReadShare = sig4(dp.HottestShare), sig4(dp.ReadShare)
	return dp
}

// planRoom sizes the room of the design dp plans, from how the crowd
// queues through it.
func (s *Scenario) planRoom(dp *DesignPlan, q *roomQueue) *RoomPlan {
	rate := admitRate(s.WaitingRoom)
	r := &RoomPlan{
		AdmitRate:       sig4(rate),
		HottestBookings: sig4(rate * dp.HottestShare),
		LastAdmitted:    Seconds(q.last),
		LongestWait:     Seconds(q.longest),
		NotAdmitted:     q.notAdmitted,
		Refused:         q.refused,
	}
	r.WriteLoad = load(r.HottestBookings, dp.WriteRate)
	r.AllWriteRate = sig4(float64(dp.Partitions) * dp.WriteRate)
	return r
}

// designAdmitRate is the people the rooms of design d admit per second
// over inv: what they are sized to with rooms per centre or admit: auto,
// else the waiting room's setting.
func (s *Scenario) designAdmitRate(d models.Design, inv *models.Inventory) float64 {
	if !d.CentreRooms && s.WaitingRoom.Admit != AdmitAuto {
		return admitRate(s.WaitingRoom)
	}
	d.Room = s.RoomPolicy()
	d.Room.Auto = true
	total := 0.0
	for _, sz := range d.RoomSizes(inv) {
		total += float64(sz.PerInterval) / s.WaitingRoom.Interval.Seconds()
	}
	return total
}

// centreRate is the bookings per second the rooms per centre send to
// partition pt: each centre's admissions, spread evenly over its days
// (models.SteerPick), times the share of its days pt holds.
func (s *Scenario) centreRate(d models.Design, inv *models.Inventory, pt models.Partition) float64 {
	d.Room = s.RoomPolicy()
	d.Room.Auto = true
	held := map[string]int{}
	for _, sl := range pt.Slots {
		held[sl.PPV]++
	}
	total := 0.0
	for _, sz := range d.RoomSizes(inv) {
		if days := len(inv.SlotsOf(sz.PPV)); held[sz.PPV] > 0 && days > 0 {
			total += float64(sz.PerInterval) / s.WaitingRoom.Interval.Seconds() * float64(held[sz.PPV]) / float64(days)
		}
	}
	return total
}

// admitRate is the people a waiting room admits per second.
func admitRate(w WaitingRoomSpec) float64 {
	if w.Interval <= 0 {
		return 0
	}
	return float64(w.AdmitPerInterval) / w.Interval.Seconds()
}

// load is demand over limit, 0 when the limit is 0 (unlimited).
func load(demand, limit float64) float64 {
	if !(limit > 0) {
		return 0
	}
	return sig4(demand / limit)
}

// roomQueue is how the crowd gets through the waiting room.
type roomQueue struct {
	last, longest time.Duration // the last admission, the longest wait
	notAdmitted   int           // people still waiting when the run ends
	refused       int           // people turned away by max_wait
}

// queueThroughRoom admits the crowd of curve cv through the waiting room
// first come first served: admit_per_interval people at the opening and
// at every interval after it, each no sooner than they arrive, as the
// model's room ticks; with max_wait, those who would queue behind more
// than it allows are turned away (models.RoomPolicy.Refuses). max_active's
// cap is left out.
func (s *Scenario) queueThroughRoom(cv curve) *roomQueue {
	w := s.WaitingRoom
	q := &roomQueue{}
	if w.AdmitPerInterval <= 0 || w.Interval <= 0 {
		return q
	}
	open := s.Crowd.OpeningDelay
	pol := s.RoomPolicy()
	tick, used := int64(-1), 0
	for k := range max(s.Crowd.Size, 0) {
		t := seconds(cv.inv(float64(k)))
		m := int64(0)
		if t > open {
			m = int64((t - open + w.Interval - 1) / w.Interval)
		}
		if m > tick {
			tick, used = m, 0
		}
		if pol.Refuses((tick-m)*int64(w.AdmitPerInterval) + int64(used)) {
			q.refused++
			continue
		}
		if used == w.AdmitPerInterval {
			tick, used = tick+1, 0
		}
		used++
		at := open + time.Duration(tick)*w.Interval
		q.last = max(q.last, at)
		q.longest = max(q.longest, at-t)
		if at > s.Duration {
			q.notAdmitted++
		}
	}
	return q
}

// planWarnings returns the warnings of the plan.
func (s *Scenario) planWarnings(inv *models.Inventory, fd firstDemand, room *roomQueue) []Warning {
	var out []Warning
	start := max(s.ArrivalWindow(), s.Crowd.OpeningDelay)
	if s.Duration < start+s.Journey.Patience {
		out = append(out, Warning{WarnDurationShort, fmt.Sprintf(
			"duration %v ends %v after the last arrival (or the opening), within journey.patience %v: the last people are cut short and counted still waiting; omit duration for %v",
			fmtDuration(s.Duration), Seconds(s.Duration-start), fmtDuration(s.Journey.Patience), Seconds(s.defaultDuration()))})
	}
	if w, ok := s.zeroDemand(inv, fd); ok {
		out = append(out, w)
	}
	if room == nil {
		return out
	}
	rate := trimFloat(admitRate(s.WaitingRoom))
	if room.longest > s.Journey.Patience {
		out = append(out, Warning{WarnRoomTooSlow, fmt.Sprintf(
			"the waiting room admits %s people/s: the last of %s is admitted at %v, and someone waits %v in it, longer than journey.patience %v (abandoners leave after a quarter of it); raise waiting_room.admit_per_interval",
			rate, commas(s.Crowd.Size), Seconds(room.last), Seconds(room.longest), fmtDuration(s.Journey.Patience))})
	}
	if room.refused > 0 {
		out = append(out, Warning{WarnRoomRefuses, fmt.Sprintf(
			"the waiting room admits %s people/s and waiting_room.max_wait %v turns away %s of %s people (%s%%), who leave; raise waiting_room.admit_per_interval or max_wait if they should wait",
			rate, fmtDuration(s.WaitingRoom.MaxWait), commas(room.refused), commas(s.Crowd.Size), trimFloat(math.Round(1000*float64(room.refused)/float64(max(s.Crowd.Size, 1)))/10))})
	}
	if room.notAdmitted > 0 {
		out = append(out, Warning{WarnRoomPastEnd, fmt.Sprintf(
			"the waiting room admits %s people/s: %s of %s people would still be waiting when the run ends at %v (the last is admitted at %v); raise waiting_room.admit_per_interval or the duration",
			rate, commas(room.notAdmitted), commas(s.Crowd.Size), fmtDuration(s.Duration), Seconds(room.last))})
	}
	return out
}

// zeroDemand returns a warning naming the PPVs nobody chooses first in the
// crowd, and why, and false when every PPV is someone's first choice.
func (s *Scenario) zeroDemand(inv *models.Inventory, fd firstDemand) (Warning, bool) {
	_, w := s.ppvList()
	var zero, byWeight []string
	for i, p := range inv.PPVs {
		if fd.users(i) > 0 {
			continue
		}
		zero = append(zero, p.ID)
		if i < len(w) && w[i] == 0 {
			byWeight = append(byWeight, p.ID)
		}
	}
	if len(zero) == 0 {
		return Warning{}, false
	}
	msg := fmt.Sprintf("%d of %d PPVs are nobody's first choice: %s", len(zero), len(inv.PPVs), listIDs(zero, 6))
	switch {
	case len(byWeight) == len(zero):
		msg += " (weight 0: popularity 0, or a hot_skew so steep its Zipf weight is 0)"
	case len(byWeight) > 0:
		msg += fmt.Sprintf(" (%s by weight 0, the others by chance: a crowd of %s is small for their weights)", listIDs(byWeight, 3), commas(s.Crowd.Size))
	default:
		msg += fmt.Sprintf(" (by chance: a crowd of %s is small for their weights; lower hot_skew or raise the popularity of those PPVs)", commas(s.Crowd.Size))
	}
	return Warning{WarnZeroDemand, msg}, true
}

// sig4 rounds x to 4 significant digits (the nearest float64 to the
// decimal, so it prints without noise).
func sig4(x float64) float64 {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return x
	}
	y, err := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 4, 64), 64)
	if err != nil {
		return x
	}
	return y
}
