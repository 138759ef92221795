package results

import (
	"fmt"
	"math"
)

// BlastRadius is what a design's injected faults did to the people of a
// run (DesignResult.BlastRadius): how many noticed and how long the design
// took to recover. Absent from results without faults and from results
// written before it existed.
type BlastRadius struct {
	// Faults are the design's faults, resolved to its partitions, as
	// fault.Spec.String writes them.
	Faults []string `json:"faults"`
	// PeopleHit counts distinct people who got a fault-caused answer: any
	// 503 partition_unavailable (a listing too: only a down partition
	// answers it), or a refused booking answer (503 but not_open, 500, a
	// timeout or network error) from a faulted partition, for a request
	// sent inside a fault's window or up to the request timeout after its
	// end.
	PeopleHit int64 `json:"people_hit"`
	// PeopleHitShare is PeopleHit over Users.Arrived (0 with no arrival).
	PeopleHitShare float64 `json:"people_hit_share"`
	// PeopleInWindow counts the people active (arrived, journey not ended)
	// during any fault's window.
	PeopleInWindow int64 `json:"people_in_window"`
	// RecoverS is how many seconds after the end of the last window the
	// design's per-second error share (timeline errors over requests) was
	// first back at or below its level over the window-length before the
	// first fault began plus 1 percentage point; nil if it never was
	// before the run ended. Not recomputed by Merge (nil there).
	RecoverS *float64 `json:"recover_s,omitempty"`
	// BookingsLost is the places booked without the faults (the same
	// crowd and seed) less those booked with them: both engines run each
	// faulted design a second time without its faults (live: unless
	// run --no-baseline). Nil when not measured. Live, both runs carry the
	// machine's noise: a small negative value is noise, not a gain.
	BookingsLost *int64 `json:"bookings_lost,omitempty"`
}

// FaultWindow is one fault's window, in seconds from the opening of
// bookings.
type FaultWindow struct {
	StartS, EndS float64
}

// RecoverySeconds computes BlastRadius.RecoverS from a design's timeline:
// windows are the faults' windows from the opening of bookings, which came
// openS seconds after t_s 0. It returns nil when there is no window or the
// error share never came back to its level before the first window plus 1
// percentage point.
func RecoverySeconds(timeline []TimelinePoint, windows []FaultWindow, openS float64) *float64 {
	if len(windows) == 0 {
		return nil
	}
	start, end := math.Inf(1), math.Inf(-1)
	for _, w := range windows {
		start, end = min(start, w.StartS), max(end, w.EndS)
	}
	length := windows[0].EndS - windows[0].StartS
	for _, w := range windows {
		length = max(length, w.EndS-w.StartS)
	}
	start, end = start+openS, end+openS
	var errs, reqs float64
	for _, p := range timeline {
		if t := float64(p.TS); t >= start-length && t+1 <= start {
			errs += float64(p.Errors)
			reqs += p.RPS
		}
	}
	base := 0.0
	if reqs > 0 {
		base = errs / reqs
	}
	for _, p := range timeline {
		t := float64(p.TS)
		if t < math.Floor(end) {
			continue
		}
		share := 0.0
		if p.RPS > 0 {
			share = float64(p.Errors) / p.RPS
		}
		if share <= base+0.01 {
			r := max(t-end, 0)
			return &r
		}
	}
	return nil
}

// checkBlast checks the design's blast radius, if any, lightly.
func (d *DesignResult) checkBlast() []error {
	b := d.BlastRadius
	if b == nil {
		return nil
	}
	var errs []error
	if b.PeopleHit < 0 || b.PeopleInWindow < 0 || b.PeopleHit > d.Users.Arrived {
		errs = append(errs, fmt.Errorf("design %s: blast radius: %d people hit, %d in the window, of %d arrived", d.Design, b.PeopleHit, b.PeopleInWindow, d.Users.Arrived))
	}
	if !(b.PeopleHitShare >= 0 && b.PeopleHitShare <= 1) {
		errs = append(errs, fmt.Errorf("design %s: blast radius: people hit share %v not in [0, 1]", d.Design, b.PeopleHitShare))
	}
	if b.RecoverS != nil && !(*b.RecoverS >= 0) {
		errs = append(errs, fmt.Errorf("design %s: blast radius: recovered after %v s", d.Design, *b.RecoverS))
	}
	return errs
}

// mergeBlast adds the blast radii of one design's segments: people add
// (segments' people are disjoint), shares are recomputed over arrived;
// recovery and bookings lost are not known of the whole (nil). Nil when
// no segment has one.
func mergeBlast(parts []*DesignResult, arrived int64) *BlastRadius {
	var out *BlastRadius
	for _, p := range parts {
		b := p.BlastRadius
		if b == nil {
			continue
		}
		if out == nil {
			out = &BlastRadius{Faults: append([]string(nil), b.Faults...)}
		}
		out.PeopleHit += b.PeopleHit
		out.PeopleInWindow += b.PeopleInWindow
	}
	if out != nil && arrived > 0 {
		out.PeopleHitShare = float64(out.PeopleHit) / float64(arrived)
	}
	return out
}
