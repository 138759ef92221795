package reports

import (
	"strings"

	"github.com/slotrush/slotrush/results"
)

// This file holds what reports need to know of a column beyond its
// figures: whether it is a design slotrush built or an external target,
// where its assumptions come from, where its places came from and which
// checks its audit could make.

// notStated is what the report shows for a fact a target did not state.
const notStated = "not stated by the target"

// columnName returns the name a column goes by: its design, or the name of
// its target when a result left Design empty. Compare matches columns by it.
func columnName(d *results.DesignResult) string {
	if d.Design == "" && d.Target != nil {
		return d.Target.Name
	}
	return d.Design
}

// isTarget reports whether d ran against a system slotrush did not start.
func isTarget(d *results.DesignResult) bool { return d.Target != nil }

// columnNoun is "target" for a target, else "design".
func columnNoun(d *results.DesignResult) string {
	if isTarget(d) {
		return "target"
	}
	return "design"
}

// columnKinds reports whether designs and targets are among ss.
func columnKinds(ss []series) (designs, targets bool) {
	for _, s := range ss {
		if isTarget(s.Design) {
			targets = true
		} else {
			designs = true
		}
	}
	return designs, targets
}

// columnsNoun names the columns of ss in the plural: "designs", "targets",
// or "designs and targets" when both are among them.
func columnsNoun(ss []series) string {
	switch designs, targets := columnKinds(ss); {
	case designs && targets:
		return "designs and targets"
	case targets:
		return "targets"
	}
	return "designs"
}

// everyColumn names all the columns of ss at once: "every design", "every
// target" or "every design and target".
func everyColumn(ss []series) string {
	switch designs, targets := columnKinds(ss); {
	case designs && targets:
		return "every design and target"
	case targets:
		return "every target"
	}
	return "every design"
}

// targetURL returns the URL of d's target, with its API profile when the
// result names one; "" for a design slotrush started or simulated.
func targetURL(d *results.DesignResult) string {
	if d.Target == nil {
		return ""
	}
	if d.Target.Profile != "" {
		return d.Target.URL + " (API profile " + d.Target.Profile + ")"
	}
	return d.Target.URL
}

// stated returns text marked with where it comes from: unchanged when
// slotrush built the design, "… (stated by the target)" when the target
// stated it, and notStated when the target stated nothing or left this
// fact empty (empty is true when the field is its zero value, which for
// a stated source means the target did not state it).
func stated(d *results.DesignResult, text string, empty bool) string {
	switch d.Assumptions.Source {
	case results.SourceKnown:
		return text
	case results.SourceStated:
		if empty {
			return notStated
		}
		return text + " (" + results.SourceStated + ")"
	}
	return notStated
}

// audited201s reports whether the audit checked that every 201 was kept:
// in the store or read back through the API. A result written before
// Slots.Audit existed says so with Persisted ≥ 0.
func audited201s(d *results.DesignResult) bool {
	switch d.Slots.Audit {
	case results.AuditStore, results.AuditAPI:
		return true
	case results.AuditNone:
		return false
	}
	return d.Slots.Persisted >= 0
}

// checkedOversold reports whether oversold places were checked: by a store
// audit, or by an API audit (bookings read back beyond the places their
// slot had left at the start). An oversold count above 0 stands whatever
// the audit: a target that answered 201 beyond the places it had at the
// start sold them, audited or not. Results written before Slots.Audit
// existed read as they always did: their Oversold count stands.
func checkedOversold(d *results.DesignResult) bool {
	return d.Slots.Audit != results.AuditNone || d.Slots.Oversold > 0
}

// unread201s returns the bookings answered 201 that an API audit could not
// read back (neither found nor missing); 0 for any other audit.
func unread201s(d *results.DesignResult) int64 {
	sl := d.Slots
	if sl.Audit != results.AuditAPI || sl.Persisted < 0 {
		return 0
	}
	return max(sl.Answered201-sl.Persisted-sl.Missing, 0)
}

// auditText says which checks were possible after d's run.
func auditText(d *results.DesignResult) string {
	switch {
	case d.Slots.Audit == results.AuditAPI:
		return "API audit: every 201 read back through the API, and oversold places counted from the bookings read back; one booking per person and the store's counters could not be checked"
	case d.Slots.Audit == results.AuditNone:
		return "none: nothing could be checked after the run"
	case d.Slots.Audit == results.AuditStore, d.Slots.Persisted >= 0:
		return "store audit: oversold places, counters, one booking per person, every 201 persisted"
	}
	return "none: the store was not audited"
}

// inventoryText says how many places were on offer and where that figure
// came from. Results written before Slots.Inventory existed took it from
// the scenario.
func inventoryText(d *results.DesignResult) string {
	n := commas(d.Slots.Capacity)
	if d.Slots.Inventory == results.InventoryAPI {
		return n + " remaining at the start, " + results.InventoryAPI
	}
	return n + ", from the scenario"
}

// anyDesign reports whether ok holds for the result of any of ss.
func anyDesign(ss []series, ok func(*results.DesignResult) bool) bool {
	for _, s := range ss {
		if ok(s.Design) {
			return true
		}
	}
	return false
}

// joinLabels lists labels as prose: "a", "a and b", "a, b and c".
func joinLabels(labels []string) string {
	if len(labels) < 2 {
		return strings.Join(labels, "")
	}
	return strings.Join(labels[:len(labels)-1], ", ") + " and " + labels[len(labels)-1]
}
