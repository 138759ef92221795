package models

import (
	"fmt"
	"testing"
	"time"
)

// TestRooms: centre rooms admit, each, headroom times the centre's summed
// write rates (its slowest partition's read rate when no write rate is
// set: admitted people are sent to a day and do not list); a single room
// with Auto admits headroom times the lower of the summed write and read
// rates; a partition shared by centres
// counts for each by its places; unlimited partitions fall back to
// AdmitPerInterval, or are refused when nothing is set.
func TestRooms(t *testing.T) {
	t.Parallel()
	inv := SmallInventory() // 3 centres x 3 days x 100 places
	pol := RoomPolicy{AdmitPerInterval: 7, Interval: 250 * time.Millisecond, Order: RoomFIFO, TokenTTL: time.Minute}
	cases := []struct {
		name   string
		limits Limits
		auto   bool
		head   float64
		want   []int // admitted per interval, per room
		err    bool
	}{
		{"centre rooms by writes", Limits{WriteRate: 20, ReadRate: 1000}, false, 0, []int{14, 14, 14}, false},    // 0.9 x 3 x 20 x 0.25 = 13.5
		{"centre rooms not by reads", Limits{WriteRate: 60, ReadRate: 40}, false, 0.5, []int{23, 23, 23}, false}, // 0.5 x 3 x 60 x 0.25 = 22.5
		{"centre rooms by reads alone", Limits{ReadRate: 40}, false, 0.5, []int{5, 5, 5}, false},                 // 0.5 x 40 x 0.25
		{"single room by reads", Limits{WriteRate: 60, ReadRate: 40}, true, 0.5, []int{15}, false},               // 0.5 x 3 x 40 x 0.25
		{"centre rooms unlimited", Limits{}, false, 0, []int{7, 7, 7}, false},                                    // the policy's
		{"single room auto", Limits{WriteRate: 20, ReadRate: 1000}, true, 1, []int{45}, false},                   // 9 x 20 x 0.25
		{"single room fixed", Limits{WriteRate: 20}, false, 0, []int{7}, false},                                  // the policy's
		{"monolithic centre rooms", Limits{WriteRate: 30, ReadRate: 300}, false, 1, []int{3, 3, 3}, false},       // 30 / 3 x 0.25 = 2.5
		{"nothing to size from", Limits{}, true, 0, nil, true},
	}
	for _, c := range cases {
		name := "per-ppv-day" + CentreRoomsSuffix
		switch c.name {
		case "monolithic centre rooms":
			name = "monolithic" + CentreRoomsSuffix
		case "single room auto", "single room fixed", "single room by reads", "nothing to size from":
			name = "per-ppv-day" + WaitingRoomSuffix
		}
		d, err := ParseDesign(name, c.limits)
		if err != nil {
			t.Fatal(err)
		}
		d.Room = pol
		d.Room.Auto, d.Room.Headroom = c.auto, c.head
		if c.err {
			d.Room.AdmitPerInterval = 0
		}
		rooms, err := d.Rooms(&inv)
		if (err != nil) != c.err {
			t.Errorf("%s: Rooms() error %v; want error %v", c.name, err, c.err)
			continue
		}
		var got []int
		for _, r := range rooms {
			got = append(got, r.Policy.AdmitPerInterval)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: Rooms() admit %v; want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: Rooms() admit %v; want %v", c.name, got, c.want)
				break
			}
		}
	}
}

// TestParseCentreRooms: the suffix turns on the waiting room per centre.
func TestParseCentreRooms(t *testing.T) {
	t.Parallel()
	d, err := ParseDesign("per-ppv"+CentreRoomsSuffix, Limits{})
	if err != nil || d.Scheme != PerPPV || !d.WaitingRoom || !d.CentreRooms {
		t.Errorf("ParseDesign(per-ppv+centre-rooms) = %+v, %v; want per-ppv with rooms per centre", d, err)
	}
	if _, err := ParseDesign("per-ppv+centre-rooms+waiting-room", Limits{}); err == nil {
		t.Error("ParseDesign of both suffixes succeeded")
	}
}

// TestRefuses: a room with max_wait refuses a join when the rounds needed
// for the people ahead last longer than it; without max_wait or a rate,
// never.
func TestRefuses(t *testing.T) {
	t.Parallel()
	p := RoomPolicy{AdmitPerInterval: 10, Interval: 250 * time.Millisecond, MaxWait: time.Second}
	for _, c := range []struct {
		ahead int64
		want  bool
	}{{0, false}, {49, false}, {50, true}, {1000, true}} { // 49/10 x 0.25 s = 1 s; 50/10 x 0.25 s = 1.25 s
		if got := p.Refuses(c.ahead); got != c.want {
			t.Errorf("Refuses(%d) = %v; want %v", c.ahead, got, c.want)
		}
	}
	for _, q := range []RoomPolicy{{AdmitPerInterval: 10, Interval: time.Second}, {MaxActive: 5, MaxWait: time.Second}} {
		if q.Refuses(1 << 40) {
			t.Errorf("%+v refuses a join", q)
		}
	}
}

// TestSteerPick: admissions go to the open days in turn, skipping the
// days sold out; with none open, nowhere.
func TestSteerPick(t *testing.T) {
	t.Parallel()
	open := []bool{false, true, true, false, true}
	var got []int
	for r := range int64(7) {
		got = append(got, SteerPick(r, open))
	}
	if want := []int{1, 2, 4, 1, 2, 4, 1}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SteerPick over %v = %v; want %v", open, got, want)
	}
	if SteerPick(5, []bool{false, false}) != -1 || SteerPick(0, nil) != -1 {
		t.Error("SteerPick with no open day is not -1")
	}
}

// TestSteeredAdmit: a round shrinks with the share of days open, rounded
// up, and is 0 with none.
func TestSteeredAdmit(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		per         int64
		open, total int
		want        int64
	}{{68, 5, 5, 68}, {68, 4, 5, 55}, {68, 1, 5, 14}, {68, 0, 5, 0}, {3, 1, 51, 1}, {7, 3, 0, 7}} {
		if got := SteeredAdmit(c.per, c.open, c.total); got != c.want {
			t.Errorf("SteeredAdmit(%d, %d of %d) = %d; want %d", c.per, c.open, c.total, got, c.want)
		}
	}
}
