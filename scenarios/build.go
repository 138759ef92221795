package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
)

// BuildInventory returns the slot inventory of the scenario: the listed PPVs
// (or the generated ones, "<state>-01" ...) in order, each with a slot on
// each of Days days from FirstDate. A PPV without its own daily capacity
// takes the inventory's. Safe for concurrent use; expects a valid scenario.
func (s *Scenario) BuildInventory() models.Inventory {
	ppvs, _ := s.ppvList()
	inv := models.Inventory{PPVs: ppvs}
	days := max(s.Inventory.Days, 0)
	dates := make([]models.Date, days)
	for d := range dates {
		dates[d] = s.Inventory.FirstDate.AddDays(d)
	}
	inv.Slots = make([]models.Slot, 0, len(ppvs)*days)
	for i, p := range ppvs {
		c := s.dailyCapacity(i)
		for _, d := range dates {
			inv.Slots = append(inv.Slots, models.Slot{PPV: p.ID, Date: d, Capacity: c})
		}
	}
	return inv
}

// dailyCapacity returns the daily places of the i-th PPV in inventory order.
func (s *Scenario) dailyCapacity(i int) int {
	if i < len(s.Inventory.PPVs) && s.Inventory.PPVs[i].DailyCapacity > 0 {
		return s.Inventory.PPVs[i].DailyCapacity
	}
	return s.Inventory.DailyCapacity
}

// NumPPVs returns how many PPVs the inventory has (listed or generated).
func (s *Scenario) NumPPVs() int {
	if len(s.Inventory.PPVs) > 0 {
		return len(s.Inventory.PPVs)
	}
	return len(s.Inventory.States) * max(s.Inventory.PPVsPerState, 0)
}

// TotalCapacity returns the places of the whole inventory, without building
// it.
func (s *Scenario) TotalCapacity() int {
	n, total := s.NumPPVs(), 0
	for i := range n {
		total += s.dailyCapacity(i)
	}
	return total * max(s.Inventory.Days, 0)
}

// DesignNames returns the names of the scenario's designs in order.
func (s *Scenario) DesignNames() []string {
	out := make([]string, len(s.Designs))
	for i, d := range s.Designs {
		out[i] = d.Name
	}
	return out
}

// BuildDesigns returns the designs called names, in that order and each once,
// with the limits the scenario gives them; no names means all of the
// scenario's designs in order. Names are trimmed and empty ones skipped, so
// a split "--design a,b" can be passed as is. It returns an error naming the
// scenario's designs when a name is not one of them, and the parse error of
// a design that is not valid.
func (s *Scenario) BuildDesigns(names []string) ([]models.Design, error) {
	if len(names) == 0 {
		names = s.DesignNames()
	}
	var out []models.Design
	seen := map[string]bool{}
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		i := slices.IndexFunc(s.Designs, func(d DesignSpec) bool { return d.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("design %q is not in scenario %q (it has %s)", name, s.Name, strings.Join(s.DesignNames(), ", "))
		}
		d, err := models.ParseDesign(name, s.Designs[i].Limits)
		if err != nil {
			return nil, fmt.Errorf("scenario %q: %w", s.Name, err)
		}
		if d.WaitingRoom {
			d.Room = s.RoomPolicy()
			d.Room.Auto = d.Room.Auto || d.CentreRooms // rooms per centre are sized
		}
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("scenario %q: no designs to run", s.Name)
	}
	return out, nil
}

// RoomPolicy returns the scenario's waiting-room settings as the policy a
// design with a waiting room runs with.
func (s *Scenario) RoomPolicy() models.RoomPolicy {
	w := s.WaitingRoom
	return models.RoomPolicy{AdmitPerInterval: w.AdmitPerInterval, Interval: w.Interval, MaxActive: w.MaxActive, Order: w.Order, TokenTTL: w.TokenTTL,
		Auto: w.Admit == AdmitAuto, Headroom: w.Headroom, MaxWait: w.MaxWait}
}

// Scaled returns a copy of s for `simulate --scale f`: the crowd size, every
// daily capacity and every piecewise arrival rate multiplied by f (rounded,
// and at least 1 where it was positive), so the arrival curve keeps its
// timing. Per-partition limits and the waiting room are properties of the
// store and the operator and are not scaled: scaling the crowd up against
// the same limits is the point. Name, seed and duration are kept. Scaled
// panics when f is not a positive finite number; call CheckScale first,
// which also says when the scaled counts would be beyond Validate's bounds
// (Scaled keeps them within 32 bits, and Validate refuses them). s is not
// modified.
func (s *Scenario) Scaled(f float64) *Scenario {
	if !(f > 0) || math.IsInf(f, 0) {
		panic(fmt.Sprintf("scenarios: Scaled(%v): scale must be a positive finite number", f))
	}
	c := s.clone()
	c.scale = s.Scale() * f
	c.Crowd.Size = scaleCount(c.Crowd.Size, f)
	c.Inventory.DailyCapacity = scaleCount(c.Inventory.DailyCapacity, f)
	for i := range c.Inventory.PPVs {
		c.Inventory.PPVs[i].DailyCapacity = scaleCount(c.Inventory.PPVs[i].DailyCapacity, f)
	}
	for i := range c.Crowd.Arrival.Pieces {
		c.Crowd.Arrival.Pieces[i].Rate *= f
	}
	c.Observed = s.scaledObserved(f, c)
	c.scaleJourneyLimits(f)
	return c
}

// Scale returns the factor Scaled applied to the scenario as written: 1
// when it was not scaled.
func (s *Scenario) Scale() float64 {
	if s.scale == 0 {
		return 1
	}
	return s.scale
}

// scaleCount returns n scaled by f as Scaled does: rounded, at least 1
// where n was positive, at most math.MaxInt32.
func scaleCount(n int, f float64) int {
	if n <= 0 {
		return n
	}
	x := math.Round(float64(n) * f)
	if x >= math.MaxInt32 {
		return math.MaxInt32
	}
	return max(int(x), 1)
}

// CheckScale returns an error saying why Scaled(f) would not give a valid
// scenario, or nil: f is not a positive finite number, or a scaled count
// would be beyond what Validate accepts (MaxCrowd users, MaxDailyCapacity
// places a day at a PPV, MaxPlaces in all, MaxRate arrivals a second). The
// error names the count, what it would become and the largest scale that
// fits. s should be valid. Safe for concurrent use.
func (s *Scenario) CheckScale(f float64) error {
	if !(f > 0) || math.IsInf(f, 0) {
		return fmt.Errorf("scale %v: want a positive finite number, such as 0.1 or 2", f)
	}
	type bound struct {
		what         string
		value, limit float64
	}
	days := float64(max(s.Inventory.Days, 0))
	maxCap, places, maxRate := 0, 0.0, 0.0
	for i := range s.NumPPVs() {
		c := s.dailyCapacity(i)
		maxCap = max(maxCap, c)
		if c > 0 {
			places += max(math.Round(float64(c)*f), 1) * days
		}
	}
	for _, p := range s.Crowd.Arrival.Pieces {
		maxRate = max(maxRate, p.Rate)
	}
	bounds := []bound{
		{"users", float64(s.Crowd.Size), MaxCrowd},
		{"places a day at a PPV", float64(maxCap), MaxDailyCapacity},
		{"places in all", float64(s.TotalCapacity()), MaxPlaces},
		{"arrivals a second", maxRate, MaxRate},
	}
	scaled := []float64{math.Round(bounds[0].value * f), math.Round(bounds[1].value * f), places, bounds[3].value * f}
	var worst *bound
	fits := math.Inf(1)
	for i := range bounds {
		b := &bounds[i]
		if b.value <= 0 || scaled[i] <= b.limit {
			continue
		}
		if m := b.limit / b.value; worst == nil || m < fits {
			worst, fits = b, m
		}
	}
	if worst == nil {
		return nil
	}
	return fmt.Errorf("scale %v is too large for scenario %s: its %s %s would become %s, beyond %s; the largest scale that fits is %s",
		f, s.Name, bigCount(worst.value), worst.what, bigCount(worst.value*f), bigCount(worst.limit), fmtScale(fits))
}

// bigCount formats a count with thousands separators, or in scientific
// notation when it is beyond an int64's exact range.
func bigCount(x float64) string {
	if x < 1e15 && x == math.Trunc(x) {
		return commas(int(x))
	}
	switch {
	case math.IsInf(x, 1):
		return "too many to count"
	case x < 1e15:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

// fmtScale writes scale x rounded down to three significant digits, so it
// still fits.
func fmtScale(x float64) string {
	if !(x > 0) || math.IsInf(x, 0) {
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	e := math.Floor(math.Log10(x))
	p := math.Pow(10, e-2)
	out := strconv.FormatFloat(math.Floor(x/p*(1+1e-12))*p, 'f', int(max(0, 2-e)), 64)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out
}

// clone returns a deep copy of s.
func (s *Scenario) clone() *Scenario {
	c := *s
	c.Inventory.PPVs = slices.Clone(s.Inventory.PPVs)
	c.Inventory.States = slices.Clone(s.Inventory.States)
	c.Crowd.Arrival.Pieces = slices.Clone(s.Crowd.Arrival.Pieces)
	c.Faults = slices.Clone(s.Faults)
	c.Behaviours = slices.Clone(s.Behaviours)
	c.Designs = slices.Clone(s.Designs)
	return &c
}

// Parameters returns the key facts of the scenario as (name, value) pairs in
// a fixed order, for the report to print beside the verdict: crowd, arrival
// curve and peak rate, opening delay, PPVs, days, total capacity, hot skew,
// patience, retry policy, behaviours, each design's partitions and limits,
// the waiting room and its sizing when used, and the duration. The name and
// seed are not among them: a result states its own. Safe for concurrent use.
func (s *Scenario) Parameters() [][2]string {
	j := s.Journey
	p := [][2]string{
		{"crowd", commas(s.Crowd.Size) + " users"},
	}
	if f := s.Scale(); f != 1 {
		p = append(p, [2]string{"scale", fmt.Sprintf("%s× the scenario as written (crowd, daily capacities, arrival rates, gateway and step services; not the per-partition limits)", strconv.FormatFloat(f, 'g', 4, 64))})
	}
	p = append(p, [][2]string{
		{"arrival", s.describeArrival()},
		{"peak arrival rate", fmt.Sprintf("%s users/s", commas(int(math.Round(s.PeakRate()))))},
		{"opening delay", s.Crowd.OpeningDelay.String()},
		{"PPVs", s.describePPVs()},
		{"days", fmt.Sprintf("%d from %s", s.Inventory.Days, s.Inventory.FirstDate)},
		{"total capacity", commas(s.TotalCapacity()) + " places"},
		{"first choice", s.describeSkew()},
		{"early date bias", fmt.Sprintf("%g%% of users want the earliest date", roundTo(100*s.Preferences.EarlyDateBias, 2))},
		{"alternatives", fmt.Sprintf("%d other PPVs%s", j.Alternatives, yes(s.Preferences.SameState, ", own state first", ""))},
		{"patience", j.Patience.String()},
		{"think time", yes(j.ThinkTime > 0, j.ThinkTime.String()+" mean", "none")},
		{"request timeout", j.RequestTimeout.String()},
		{"retry policy", describeRetry(j.Retry)},
		{"behaviours", describeBehaviours(s.Behaviours)},
	}...)
	p = append(p, s.journeyParameters()...)
	for _, d := range s.Designs {
		p = append(p, [2]string{"design " + d.Name, fmt.Sprintf("%s, each %s", plural(s.partitions(d.Name), "partition"), DescribeLimits(d.Limits))})
	}
	if s.UsesWaitingRoom() {
		p = append(p, [2]string{"waiting room", s.RoomPolicy().String()})
		for _, d := range s.Designs {
			if sz := s.roomSizing(d.Name, d.Limits); sz != "" {
				p = append(p, [2]string{"room sizing, " + d.Name, sz})
			}
		}
	}
	p = append(p, [2]string{"duration", s.Duration.String()})
	return p
}

// partitions returns how many partitions design name splits the inventory
// into (0 for an unknown design).
func (s *Scenario) partitions(name string) int {
	d, err := models.ParseDesign(name, models.Limits{})
	if err != nil {
		return 0
	}
	switch d.Scheme {
	case models.Monolithic:
		return 1
	case models.PerPPV:
		return s.NumPPVs()
	case models.PerPPVDay:
		return s.NumPPVs() * max(s.Inventory.Days, 0)
	}
	return 0
}

// roomSizing estimates, for a design behind the waiting room, what the
// room's admission rate means for the partitions: the booking attempts per
// second the hottest partition would get from the people admitted (each
// trying their first choice once: the hottest PPV's share of first choices,
// and with per-ppv-day the share of those wanting the first date when every
// date is open), against its write rate, and the room's rate against the
// design's write rate over all partitions. It is arithmetic on the
// preferences, not a measurement: retries and alternatives add to it. It
// returns "" for a design without a room or a room that admits by a cap on
// active users only.
func (s *Scenario) roomSizing(name string, l models.Limits) string {
	d, err := models.ParseDesign(name, l)
	w := s.WaitingRoom
	if err != nil || !d.WaitingRoom || w.AdmitPerInterval <= 0 || w.Interval <= 0 {
		return ""
	}
	ppvs, weights := s.ppvList()
	total, top := 0.0, 0
	for i, x := range weights {
		total += x
		if x > weights[top] {
			top = i
		}
	}
	if len(ppvs) == 0 || !(total > 0) || math.IsInf(total, 0) {
		return ""
	}
	rate := float64(w.AdmitPerInterval) / w.Interval.Seconds()
	share := weights[top] / total
	where := "the hottest partition (" + ppvs[top].ID
	switch d.Scheme {
	case models.Monolithic:
		share, where = 1, "the one partition"
	case models.PerPPVDay:
		if days := s.Inventory.Days; days > 0 {
			b := s.Preferences.EarlyDateBias
			share *= b + (1-b)/float64(days)
			where += ", first date"
		}
	}
	if d.Scheme != models.Monolithic {
		where += ")"
	}
	hot := rate * share
	var b strings.Builder
	fmt.Fprintf(&b, "admits %s people/s; %s gets about %s booking attempts/s from them", trimFloat(rate), where, trimFloat(hot))
	if l.WriteRate > 0 {
		fmt.Fprintf(&b, ", %.0f%% of its write rate %s/s", 100*hot/l.WriteRate, trimFloat(l.WriteRate))
		if n := s.partitions(name); n > 1 {
			all := float64(n) * l.WriteRate
			fmt.Fprintf(&b, "; all %d partitions take %s bookings/s, %.0f%% of which the room fills",
				n, commas(int(math.Round(all))), 100*rate/all)
		}
	}
	b.WriteString(" (estimate from first choices, before retries)")
	return b.String()
}

// num formats a parameter rounded to 4 significant digits, without an
// exponent or trailing zeros: 1.2 (a rate scaled by 0.1 is
// 1.2000000000000002 in floating point), 150, 0.5.
func num(x float64) string {
	return strconv.FormatFloat(sig4(x), 'f', -1, 64)
}

// trimFloat formats x with at most one decimal, without a trailing ".0".
func trimFloat(x float64) string {
	return strconv.FormatFloat(roundTo(x, 1), 'f', -1, 64)
}

func (s *Scenario) describeArrival() string {
	a := s.Crowd.Arrival
	var b strings.Builder
	switch a.Shape {
	case ShapeConstant:
		fmt.Fprintf(&b, "constant over %v", a.Over)
	case ShapeSpike:
		fmt.Fprintf(&b, "spike: ramp-up %v, decay %v", a.RampUp, a.Decay)
		if a.Over > 0 {
			fmt.Fprintf(&b, ", all in by %v", a.Over)
		}
	case ShapePiecewise:
		b.WriteString("piecewise:")
		for i, p := range a.Pieces {
			fmt.Fprintf(&b, "%s %s/s from %v", yes(i > 0, ",", ""), num(p.Rate), p.At)
		}
	default:
		b.WriteString(a.Shape)
	}
	if a.Poisson {
		b.WriteString(", Poisson")
	}
	if w := s.ArrivalWindow(); w > 0 {
		fmt.Fprintf(&b, "; last arrival at %v", w.Round(time.Millisecond))
	}
	return b.String()
}

func (s *Scenario) describePPVs() string {
	ppvs, _ := s.ppvList()
	states := map[string]bool{}
	for _, p := range ppvs {
		states[p.State] = true
	}
	return fmt.Sprintf("%d in %s", len(ppvs), plural(len(states), "state"))
}

func (s *Scenario) describeSkew() string {
	ppvs, w := s.ppvList()
	if len(ppvs) == 0 {
		return "none"
	}
	total, top := 0.0, 0
	for i, x := range w {
		total += x
		if x > w[top] {
			top = i
		}
	}
	how := "Zipf, hot skew " + num(s.Preferences.HotSkew)
	if !(s.Preferences.HotSkew > 0) {
		how = "uniform"
	}
	set := 0
	for k, p := range s.Inventory.PPVs {
		if p.Popularity > 0 || s.zeros.hasPPV(k, "popularity") {
			set++
		}
	}
	switch {
	case set > 0 && set == len(s.Inventory.PPVs):
		how = "explicit popularity"
	case set > 0:
		how = fmt.Sprintf("popularity on %d of %d PPVs, the others %s", set, len(s.Inventory.PPVs), how)
	}
	if !(total > 0) {
		return how
	}
	if w[top]*float64(len(w)) == total {
		return fmt.Sprintf("uniform: each PPV wanted first by %.3g%%", 100/float64(len(w)))
	}
	return fmt.Sprintf("%s (hottest: %s, wanted first by %.0f%%)", how, ppvs[top].ID, 100*w[top]/total)
}

func describeRetry(r RetrySpec) string {
	attempts := "attempts bounded by patience"
	if r.MaxAttempts > 0 {
		attempts = fmt.Sprintf("at most %d attempts", r.MaxAttempts)
	}
	return fmt.Sprintf("exponential backoff %v to %v, jitter %s, %s Retry-After, %s",
		r.Backoff, r.MaxBackoff, num(r.Jitter), yes(r.HonourRetryAfter, "honours", "ignores"), attempts)
}

func describeBehaviours(bs []BehaviourShare) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		parts[i] = fmt.Sprintf("%s %g%%", b.Behaviour, roundTo(100*b.Share, 2))
	}
	return strings.Join(parts, ", ")
}

// DescribeLimits returns per-partition limits in words, such as
// "write 150/s (burst 50), read 600/s, 8 in flight, queue 64, wait 250ms";
// zero limits read "unlimited".
func DescribeLimits(l models.Limits) string {
	rate := func(r float64, burst int) string {
		if r == 0 {
			return "unlimited"
		}
		if burst == 0 {
			return num(r) + "/s"
		}
		return fmt.Sprintf("%s/s (burst %d)", num(r), burst)
	}
	wait := "unbounded"
	if l.MaxWait > 0 {
		wait = l.MaxWait.String()
	}
	return fmt.Sprintf("write %s, read %s, in flight %s, queue %s, wait %s",
		rate(l.WriteRate, l.WriteBurst), rate(l.ReadRate, l.ReadBurst), unlimited(l.MaxInFlight), unlimited(l.MaxQueue), wait)
}

func unlimited(n int) string {
	if n == 0 {
		return "unlimited"
	}
	return strconv.Itoa(n)
}

func yes(b bool, t, f string) string {
	if b {
		return t
	}
	return f
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return commas(n) + " " + what + "s"
}

// commas formats n with thousands separators: 1260000 → "1,260,000".
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return yes(neg, "-", "") + b.String()
}
