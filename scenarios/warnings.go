package scenarios

import (
	"fmt"
	"strings"
)

// Warnings returns the settings of the scenario that another setting
// overrides or voids, each as a *FieldError naming the setting that has
// less effect than written: a hot_skew that popularity replaces for some
// PPVs (or all), a PPV whose popularity is 0, same_state without
// alternatives, waiting-room settings no design uses. A warning never
// makes a scenario invalid; Validate judges that. It returns nil when
// there is nothing to say. Safe for concurrent use.
func (s *Scenario) Warnings() []error {
	v := &validator{}
	s.warnSkew(v)
	s.warnObserved(v)
	if s.Preferences.SameState && s.Journey.Alternatives == 0 {
		v.add("preferences.same_state", "has no effect: journey.alternatives is 0, and same_state only orders the alternatives")
	}
	w := s.WaitingRoom
	if (w.AdmitPerInterval > 0 || w.MaxActive > 0) && !s.UsesWaitingRoom() {
		v.add("waiting_room", "no design uses the waiting room, so these settings are ignored: name a design with the +waiting-room suffix, such as per-ppv-day+waiting-room")
	}
	return v.errs
}

// warnSkew says when popularity overrides hot_skew, and which PPVs nobody
// chooses first because their popularity is 0.
func (s *Scenario) warnSkew(v *validator) {
	var set, zero []string
	for k, p := range s.Inventory.PPVs {
		switch {
		case p.Popularity > 0:
			set = append(set, p.ID)
		case s.zeros.hasPPV(k, "popularity"):
			zero = append(zero, p.ID)
			v.add(fmt.Sprintf("inventory.ppvs[%d].popularity", k), "is 0: nobody chooses %s first (it comes last among alternatives); omit popularity for the default weight %s",
				p.ID, trimWeight(zipf(k, s.Preferences.HotSkew)))
		}
	}
	skew := s.Preferences.HotSkew
	n := len(s.Inventory.PPVs)
	if !(skew > 0) || len(set)+len(zero) == 0 {
		return
	}
	if len(set)+len(zero) == n {
		v.add("preferences.hot_skew", "is ignored: every PPV sets its popularity, which replaces the Zipf weight hot_skew would give it")
		return
	}
	v.add("preferences.hot_skew", "weighs only the %d PPVs without a popularity; the popularity of %s replaces its Zipf weight",
		n-len(set)-len(zero), listIDs(append(set, zero...), 4))
}

// listIDs names ids, at most most of them and how many more.
func listIDs(ids []string, most int) string {
	if len(ids) <= most {
		return strings.Join(ids, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(ids[:most], ", "), len(ids)-most)
}

// trimWeight formats a weight with at most three significant digits.
func trimWeight(x float64) string { return fmt.Sprintf("%.3g", x) }

// FileWarnings returns Warnings placed at file:line:column in the file
// Parse (or Load) read the scenario from, in file order; nil for a
// scenario built in Go, or one without warnings. The list is shared:
// do not modify it. Safe for concurrent use.
func (s *Scenario) FileWarnings() ErrorList { return s.warnings }
