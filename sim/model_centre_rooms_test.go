package sim

import (
	"slices"
	"testing"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

// TestModelSteerDays: the model's centre rooms name the open days in turn
// by rank, and admit in the share of days open, as the reference server's
// (models.SteerPick, models.SteeredAdmit); with max_wait they refuse a
// join 409 queue_full.
func TestModelSteerDays(t *testing.T) {
	t.Parallel()
	sc := loadScenario(t, "refresh-storm") // 5 days per centre
	m := newTestModelRun(t, sc, "per-ppv-day"+models.CentreRoomsSuffix)
	pv := &m.ppvs[0]
	per := m.centre[0].policy.AdmitPerInterval
	if got := m.roundSize(0, &m.centre[0]); got != per {
		t.Errorf("round with every day open = %d; want %d", got, per)
	}
	m.slots[pv.slots[0]].soldOut = true
	us := &m.users[0]
	us.croom = 0
	var got []models.Date
	for r := range int32(5) {
		us.qpos = r
		got = append(got, m.steerDay(us))
	}
	d := func(i int) models.Date { return m.slots[pv.slots[i]].date }
	if want := []models.Date{d(1), d(2), d(3), d(4), d(1)}; !slices.Equal(got, want) {
		t.Errorf("days named by rank with the first sold out = %v; want %v", got, want)
	}
	if got, want := m.roundSize(0, &m.centre[0]), int(models.SteeredAdmit(int64(per), 4, 5)); got != want {
		t.Errorf("round with 4 of 5 days open = %d; want %d", got, want)
	}
	if r := m.queueFull(); r.Status != 409 || r.Code != "queue_full" {
		t.Errorf("queueFull() = %+v; want 409 queue_full", r)
	}
}

// newTestModelRun builds, without running it, the model of sc's design
// named design on sc's crowd and seed with the default parameters.
func newTestModelRun(t *testing.T, sc *scenarios.Scenario, design string) *modelRun {
	t.Helper()
	designs, err := sc.BuildDesigns([]string{design})
	if err != nil {
		t.Fatal(err)
	}
	inv := sc.BuildInventory()
	m, err := newModelRun(sc, designs[0], &inv, sc.Arrivals(sc.Seed), sc.Seed, DefaultModelParams())
	if err != nil {
		t.Fatal(err)
	}
	return m
}
