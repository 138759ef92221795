package models

import (
	"testing"
	"time"
)

func TestParseDesign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		scheme  Scheme
		room    bool
		wantErr bool
	}{
		{"monolithic", Monolithic, false, false},
		{"per-ppv", PerPPV, false, false},
		{"per-ppv-day", PerPPVDay, false, false},
		{"per-ppv-day+waiting-room", PerPPVDay, true, false},
		{"sharded", "", false, true},
		{"", "", false, true},
		{"+waiting-room", "", false, true},
	}
	for _, tt := range tests {
		d, err := ParseDesign(tt.name, Limits{})
		if (err != nil) != tt.wantErr {
			t.Errorf("ParseDesign(%q) err = %v; want error %v", tt.name, err, tt.wantErr)
			continue
		}
		if d.Scheme != tt.scheme || d.WaitingRoom != tt.room {
			t.Errorf("ParseDesign(%q) = %+v; want scheme %q room %v", tt.name, d, tt.scheme, tt.room)
		}
	}
}

func TestPartitionCounts(t *testing.T) {
	t.Parallel()
	inv := SmallInventory()
	for _, tt := range []struct {
		scheme Scheme
		want   int
	}{{Monolithic, 1}, {PerPPV, 3}, {PerPPVDay, 9}} {
		d := Design{Name: string(tt.scheme), Scheme: tt.scheme}
		parts := d.Partitions(&inv)
		if len(parts) != tt.want {
			t.Errorf("%s: %d partitions; want %d", tt.scheme, len(parts), tt.want)
		}
		total := 0
		for _, p := range parts {
			total += p.Capacity()
			for _, s := range p.Slots {
				if got := d.Key(s.Key()); got != p.Key {
					t.Errorf("%s: slot %s in partition %s but keyed %s", tt.scheme, s.Key(), p.Key, got)
				}
			}
		}
		if total != inv.TotalCapacity() {
			t.Errorf("%s: partitions hold %d places; want %d", tt.scheme, total, inv.TotalCapacity())
		}
	}
}

func TestDateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"2021-06-07", "2024-02-29", "1999-12-31"} {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatalf("ParseDate(%q): %v", s, err)
		}
		if d.String() != s {
			t.Errorf("ParseDate(%q).String() = %q", s, d.String())
		}
	}
	for _, s := range []string{"2021-02-30", "21-06-07", "2021/06/07", "", "2021-06-07T00:00:00Z"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) succeeded; want error", s)
		}
	}
	d := Date{2021, time.December, 31}
	if got := d.AddDays(1).String(); got != "2022-01-01" {
		t.Errorf("AddDays(1) = %s", got)
	}
}

func TestInventoryValidate(t *testing.T) {
	t.Parallel()
	inv := SmallInventory()
	if errs := inv.Validate(); len(errs) != 0 {
		t.Fatalf("SmallInventory invalid: %v", errs)
	}
	inv.PPVs = append(inv.PPVs, PPV{ID: "um"})
	inv.Slots = append(inv.Slots, Slot{PPV: "nowhere", Date: Date{2021, 6, 7}, Capacity: 1}, inv.Slots[0])
	if errs := inv.Validate(); len(errs) != 3 {
		t.Errorf("Validate() = %v; want 3 errors", errs)
	}
}

func TestUniformInventory(t *testing.T) {
	t.Parallel()
	inv := UniformInventory(10, 30, 7)
	if errs := inv.Validate(); len(errs) != 0 {
		t.Fatalf("invalid: %v", errs)
	}
	if len(inv.PPVs) != 10 || len(inv.Slots) != 300 || inv.TotalCapacity() != 2100 {
		t.Errorf("%d PPVs, %d slots, %d places; want 10, 300, 2100", len(inv.PPVs), len(inv.Slots), inv.TotalCapacity())
	}
	d := Design{Scheme: PerPPVDay}
	if n := len(d.Partitions(&inv)); n != 300 {
		t.Errorf("per-ppv-day partitions = %d; want 300", n)
	}
}

func TestRoomPolicyString(t *testing.T) {
	for _, tt := range []struct {
		p    RoomPolicy
		want string
	}{
		{RoomPolicy{AdmitPerInterval: 30, Interval: 250 * time.Millisecond, Order: RoomFIFO, TokenTTL: 30 * time.Second},
			"admits 30 every 250ms, fifo order, tokens valid 30s"},
		{RoomPolicy{MaxActive: 100, Order: RoomRandom, TokenTTL: time.Minute},
			"at most 100 active, random order, tokens valid 1m0s"},
	} {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q; want %q", tt.p, got, tt.want)
		}
	}
}
