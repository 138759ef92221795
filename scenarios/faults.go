package scenarios

import (
	"fmt"
	"strings"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
)

// FaultSpecs returns the scenario's faults, parsed. Validate refuses a
// scenario whose faults do not parse; on one it did not check, FaultSpecs
// returns the first problem (a *fault.ParseError, wrapped with the field).
// Safe for concurrent use.
func (s *Scenario) FaultSpecs() ([]fault.Spec, error) {
	out := make([]fault.Spec, 0, len(s.Faults))
	for i, f := range s.Faults {
		sp, err := fault.Parse(f)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		out = append(out, sp)
	}
	return out, nil
}

// HottestPartition returns the partition of design d over the scenario's
// inventory with the most first-choice demand in crowd: each arrival
// counts for its first PPV (Arrival.PPVs[0]); under per-ppv-day an arrival
// who wants the earliest date counts for the PPV's first date, and any
// other for 1/days of each of its dates. Ties go to the smallest key. It is
// deterministic, so a live run and the model fault the same partition. An
// empty crowd gives the smallest key. Safe for concurrent use.
func (s *Scenario) HottestPartition(d models.Design, crowd []Arrival) models.PartitionKey {
	inv := s.BuildInventory()
	idx := make(map[string]int, len(inv.PPVs))
	for i, p := range inv.PPVs {
		idx[p.ID] = i
	}
	fd := newFirstDemand(len(inv.PPVs))
	for _, a := range crowd {
		if len(a.PPVs) == 0 {
			continue
		}
		if i, ok := idx[a.PPVs[0]]; ok {
			fd.add(i, a.WantsEarliest)
		}
	}
	demand, _ := fd.partitions(d, &inv)
	key, _ := hottest(d, &inv, demand)
	return key
}

// firstDemand counts a crowd's first choices per PPV, in inventory order:
// the users who want its earliest date, and those who take any.
type firstDemand struct{ early, any []int64 }

func newFirstDemand(ppvs int) firstDemand {
	return firstDemand{early: make([]int64, ppvs), any: make([]int64, ppvs)}
}

func (fd firstDemand) add(ppv int, early bool) {
	if early {
		fd.early[ppv]++
	} else {
		fd.any[ppv]++
	}
}

// users returns how many users chose PPV i first.
func (fd firstDemand) users(i int) int64 { return fd.early[i] + fd.any[i] }

// partitions returns the first-choice demand of each partition of d over
// inv, in units of 1/l of an arrival, and l: the common multiple of the
// PPVs' numbers of days (one number in a scenario's inventory), so that
// sums are exact and ties are ties.
func (fd firstDemand) partitions(d models.Design, inv *models.Inventory) (map[models.PartitionKey]int64, int64) {
	dates := make([][]models.Date, len(inv.PPVs))
	l := int64(1)
	for i, p := range inv.PPVs {
		for _, sl := range inv.SlotsOf(p.ID) {
			dates[i] = append(dates[i], sl.Date)
		}
		if n := int64(len(dates[i])); n > 0 {
			l = lcm(l, n)
		}
	}
	demand := map[models.PartitionKey]int64{}
	for i, p := range inv.PPVs {
		ds := dates[i]
		if len(ds) == 0 {
			continue
		}
		if fd.early[i] > 0 {
			demand[d.Key(models.SlotKey{PPV: p.ID, Date: ds[0]})] += fd.early[i] * l
		}
		if fd.any[i] > 0 {
			for _, date := range ds {
				demand[d.Key(models.SlotKey{PPV: p.ID, Date: date})] += fd.any[i] * (l / int64(len(ds)))
			}
		}
	}
	return demand, l
}

// hottest returns the partition of d over inv with the most demand, and
// its demand; ties go to the smallest key.
func hottest(d models.Design, inv *models.Inventory, demand map[models.PartitionKey]int64) (models.PartitionKey, int64) {
	var best models.PartitionKey
	bestN := int64(-1)
	for _, p := range d.Partitions(inv) { // sorted by key: the first of equals wins
		if n := demand[p.Key]; n > bestN {
			best, bestN = p.Key, n
		}
	}
	return best, max(bestN, 0)
}

// lcm returns the least common multiple of a and b, both positive, capped
// at 1<<40 (beyond any inventory's number of days).
func lcm(a, b int64) int64 {
	x, y := a, b
	for y != 0 {
		x, y = y, x%y
	}
	return min(a/x*b, 1<<40)
}

// validateFaults checks each fault's grammar and that a partition it
// names by key is one of a design of the scenario.
func (s *Scenario) validateFaults(v *validator) {
	for i, f := range s.Faults {
		field := fmt.Sprintf("faults[%d]", i)
		sp, err := fault.Parse(f)
		if err != nil {
			v.addErr(field, err)
			continue
		}
		if sp.Partition != fault.Hottest && !s.hasPartition(sp.Partition) {
			v.add(field, "no design of the scenario has partition %q: want %s, or %s", sp.Partition, s.keyForms(), fault.Hottest)
		}
	}
}

// hasPartition reports whether key is a partition of one of the
// scenario's designs over its inventory.
func (s *Scenario) hasPartition(key string) bool {
	ppvs, _ := s.ppvList()
	first := s.Inventory.FirstDate
	for _, ds := range s.Designs {
		d, err := models.ParseDesign(ds.Name, models.Limits{})
		if err != nil {
			continue
		}
		for _, p := range ppvs {
			switch d.Scheme {
			case models.Monolithic:
				if key == "all" {
					return true
				}
			case models.PerPPV:
				if key == "ppv-"+p.ID {
					return true
				}
			case models.PerPPVDay:
				rest, ok := strings.CutPrefix(key, "ppv-"+p.ID+"-")
				date, err := models.ParseDate(rest)
				if ok && err == nil && !date.Before(first) && date.Before(first.AddDays(s.Inventory.Days)) {
					return true
				}
			}
		}
	}
	return false
}

// keyForms describes the partition keys of the scenario's designs, with
// an example from its inventory: "all (monolithic), ppv-ID (per-ppv) or
// ppv-ID-DATE (per-ppv-day, such as ppv-wtc-kl-2021-06-07)".
func (s *Scenario) keyForms() string {
	ppvs, _ := s.ppvList()
	example := "ID"
	if len(ppvs) > 0 {
		example = ppvs[0].ID
	}
	seen := map[models.Scheme]bool{}
	var forms []string
	for _, ds := range s.Designs {
		d, err := models.ParseDesign(ds.Name, models.Limits{})
		if err != nil || seen[d.Scheme] {
			continue
		}
		seen[d.Scheme] = true
		switch d.Scheme {
		case models.Monolithic:
			forms = append(forms, "all (monolithic)")
		case models.PerPPV:
			forms = append(forms, fmt.Sprintf("ppv-ID (per-ppv, such as ppv-%s)", example))
		case models.PerPPVDay:
			forms = append(forms, fmt.Sprintf("ppv-ID-DATE (per-ppv-day, such as ppv-%s-%s)", example, s.Inventory.FirstDate))
		}
	}
	return strings.Join(forms, ", ")
}
