package models

import (
	"fmt"
	"sort"
	"time"
)

// Date is a civil calendar day (no time zone), written as "2006-01-02".
// The zero Date is invalid. Date is a comparable value type.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateLayout is the textual form of a Date on the wire and in files.
const DateLayout = "2006-01-02"

// ParseDate parses s as "YYYY-MM-DD". It returns an error naming s when s is
// not a real calendar day (for example "2021-02-30").
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return Date{}, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// DateOf returns the civil day of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// String returns the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// AddDays returns d moved by n days (n may be negative).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// Before reports whether d is strictly earlier than e.
func (d Date) Before(e Date) bool {
	if d.normal() && e.normal() {
		// Real calendar days compare as (Year, Month, Day).
		if d.Year != e.Year {
			return d.Year < e.Year
		}
		if d.Month != e.Month {
			return d.Month < e.Month
		}
		return d.Day < e.Day
	}
	// Out-of-range fields are normalized by time.Date (the 32nd of a
	// month is the next month's 1st).
	return d.Time().Before(e.Time())
}

// normal reports whether d is a real calendar day that time.Date leaves as
// it is, in a range of years far from time.Time's limits.
func (d Date) normal() bool {
	if d.Year < -100000 || d.Year > 100000 || d.Month < time.January || d.Month > time.December || d.Day < 1 {
		return false
	}
	if d.Day <= 28 {
		return true
	}
	return d.Day <= daysIn(d.Month, d.Year)
}

// daysIn returns the number of days of month m of year y (proleptic
// Gregorian, as time uses).
func daysIn(m time.Month, y int) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// PPV is a vaccination centre (Pusat Pemberian Vaksin).
type PPV struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	State string `json:"state"`
}

// Slot is the bookable capacity of one PPV on one day.
type Slot struct {
	PPV      string `json:"ppv"`
	Date     Date   `json:"date"`
	Capacity int    `json:"capacity"`
}

// SlotKey identifies a slot: one PPV on one day.
type SlotKey struct {
	PPV  string
	Date Date
}

// Key returns the slot's identity.
func (s Slot) Key() SlotKey { return SlotKey{PPV: s.PPV, Date: s.Date} }

// String returns "PPV/YYYY-MM-DD".
func (k SlotKey) String() string { return k.PPV + "/" + k.Date.String() }

// Booking is one person's confirmed appointment.
type Booking struct {
	ID        string    `json:"id"`
	PersonID  string    `json:"person_id"`
	PPV       string    `json:"ppv"`
	Date      Date      `json:"date"`
	CreatedAt time.Time `json:"created_at"`
}

// Inventory is the slot inventory a server is seeded with: the PPVs and the
// capacity of each of their days. The zero Inventory is empty and valid.
// An Inventory is read-only once built and then safe for concurrent use.
type Inventory struct {
	PPVs  []PPV  `json:"ppvs"`
	Slots []Slot `json:"slots"`
}

// Validate returns every problem found: duplicate or empty PPV ids, slots of
// unknown PPVs, duplicate slots, zero dates and negative capacities.
func (inv *Inventory) Validate() []error {
	var errs []error
	ppvs := make(map[string]bool, len(inv.PPVs))
	for i, p := range inv.PPVs {
		switch {
		case p.ID == "":
			errs = append(errs, fmt.Errorf("ppv %d: empty id", i))
		case ppvs[p.ID]:
			errs = append(errs, fmt.Errorf("ppv %q: duplicate id", p.ID))
		}
		ppvs[p.ID] = true
	}
	seen := make(map[SlotKey]bool, len(inv.Slots))
	for _, s := range inv.Slots {
		switch {
		case !ppvs[s.PPV]:
			errs = append(errs, fmt.Errorf("slot %s: unknown ppv %q", s.Key(), s.PPV))
		case s.Date.IsZero():
			errs = append(errs, fmt.Errorf("slot of ppv %q: missing date", s.PPV))
		case s.Capacity < 0:
			errs = append(errs, fmt.Errorf("slot %s: negative capacity %d", s.Key(), s.Capacity))
		case seen[s.Key()]:
			errs = append(errs, fmt.Errorf("slot %s: duplicate", s.Key()))
		}
		seen[s.Key()] = true
	}
	return errs
}

// TotalCapacity returns the sum of all slot capacities.
func (inv *Inventory) TotalCapacity() int {
	n := 0
	for _, s := range inv.Slots {
		n += s.Capacity
	}
	return n
}

// PPV returns the PPV with the given id.
func (inv *Inventory) PPV(id string) (PPV, bool) {
	for _, p := range inv.PPVs {
		if p.ID == id {
			return p, true
		}
	}
	return PPV{}, false
}

// SlotsOf returns the slots of one PPV sorted by date.
func (inv *Inventory) SlotsOf(ppv string) []Slot {
	var out []Slot
	for _, s := range inv.Slots {
		if s.PPV == ppv {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date.Before(out[j].Date) })
	return out
}

// Dates returns the distinct dates of the inventory, earliest first.
func (inv *Inventory) Dates() []Date {
	seen := map[Date]bool{}
	var out []Date
	for _, s := range inv.Slots {
		if !seen[s.Date] {
			seen[s.Date] = true
			out = append(out, s.Date)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// UniformInventory returns ppvs centres ("ppv-00", "ppv-01", ...) in one
// state, each with capacity places on each of days days from 2021-06-07.
func UniformInventory(ppvs, days, capacity int) Inventory {
	var inv Inventory
	first := Date{Year: 2021, Month: time.June, Day: 7}
	for i := range ppvs {
		id := fmt.Sprintf("ppv-%02d", i)
		inv.PPVs = append(inv.PPVs, PPV{ID: id, Name: id, State: "selangor"})
		for d := range days {
			inv.Slots = append(inv.Slots, Slot{PPV: id, Date: first.AddDays(d), Capacity: capacity})
		}
	}
	return inv
}

// SmallInventory returns a small fixed inventory (3 PPVs in 2 states over 3
// days, 100 places a day each) for tests and examples.
func SmallInventory() Inventory {
	inv := Inventory{PPVs: []PPV{
		{ID: "wtc-kl", Name: "World Trade Centre KL", State: "kuala-lumpur"},
		{ID: "idcc-shah-alam", Name: "IDCC Shah Alam", State: "selangor"},
		{ID: "um", Name: "Universiti Malaya", State: "kuala-lumpur"},
	}}
	first := Date{Year: 2021, Month: time.June, Day: 7}
	for _, p := range inv.PPVs {
		for d := 0; d < 3; d++ {
			inv.Slots = append(inv.Slots, Slot{PPV: p.ID, Date: first.AddDays(d), Capacity: 100})
		}
	}
	return inv
}
