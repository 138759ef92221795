package sim

import (
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// WithFaults makes a live run measure the blast radius of faults injected
// into its target (DesignResult.BlastRadius, written by FillLive): specs
// name partitions of design d by key (fault.Resolve), and their windows
// count from opensAt, the opening of bookings on the target. The people hit
// are counted by the rule the model follows (see results.BlastRadius), the
// bookings lost are not (they need a run without the faults: the caller
// sets them). No specs: nothing is measured.
func WithFaults(d models.Design, specs []fault.Spec, opensAt time.Time) LiveOption {
	return func(l *Live) {
		if len(specs) == 0 {
			l.faults = nil
			return
		}
		ft := &liveFaults{design: d, specs: specs, opensAt: opensAt, timeout: l.journey.RequestTimeout,
			byKey: map[models.PartitionKey][]fault.Spec{}}
		for _, sp := range specs {
			k := models.PartitionKey(sp.Partition)
			ft.byKey[k] = append(ft.byKey[k], sp)
		}
		l.faults = ft
	}
}

// liveFaults is what a live run knows of the faults injected into its
// target, to tell fault-caused answers apart.
type liveFaults struct {
	design  models.Design
	specs   []fault.Spec
	byKey   map[models.PartitionKey][]fault.Spec
	opensAt time.Time
	timeout time.Duration
}

// caused reports whether answer resp to a request of op (a booking: of
// slot, nil when it named none) sent at due was caused by a fault: any 503
// partition_unavailable (only a down partition answers it, a listing
// too), or a booking refused (no answer, or a 5xx but not_open) by a
// faulted partition, sent within one of its faults' windows or up to the
// request timeout after its end.
func (f *liveFaults) caused(op string, slot *models.SlotKey, resp *Response, due time.Time) bool {
	if resp.Status == 503 && resp.Code == "partition_unavailable" {
		return true
	}
	if op != results.OpBook || slot == nil {
		return false
	}
	if refused := resp.Status == 0 || (resp.Status >= 500 && resp.Code != "not_open"); !refused {
		return false
	}
	since := due.Sub(f.opensAt)
	for _, sp := range f.byKey[f.design.Key(*slot)] {
		start, end := sp.Window()
		if since >= start && since <= end+f.timeout {
			return true
		}
	}
	return false
}

// windows returns the faults' windows, in seconds from the opening.
func (f *liveFaults) windows() []results.FaultWindow {
	out := make([]results.FaultWindow, len(f.specs))
	for i, sp := range f.specs {
		start, end := sp.Window()
		out[i] = results.FaultWindow{StartS: start.Seconds(), EndS: end.Seconds()}
	}
	return out
}

// blastRadius returns the blast radius of the faults of r over d (filled
// by Fill): the people hit, those active in a window (arrived before its
// end, journey not ended before its start; one still going at the end of
// the run counts as active), and the recovery, from d's timeline.
func (r *Recorder) blastRadius(d *results.DesignResult) *results.BlastRadius {
	f := r.faults
	if f == nil {
		return nil
	}
	b := &results.BlastRadius{}
	for _, sp := range f.specs {
		b.Faults = append(b.Faults, sp.String())
	}
	open := f.opensAt.Sub(r.start)
	for i := range r.users {
		u := &r.users[i]
		if !u.arrived {
			continue
		}
		if u.hit {
			b.PeopleHit++
		}
		for _, sp := range f.specs {
			start, end := sp.Window()
			if u.arrivedAt < open+end && (!u.done || u.arrivedAt+u.took >= open+start) {
				b.PeopleInWindow++
				break
			}
		}
	}
	if d.Users.Arrived > 0 {
		b.PeopleHitShare = float64(b.PeopleHit) / float64(d.Users.Arrived)
	}
	b.RecoverS = results.RecoverySeconds(d.Timeline, f.windows(), open.Seconds())
	return b
}
