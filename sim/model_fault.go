package sim

import (
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/results"
)

// modelFaultRetry is the Retry-After of a down partition's 503
// partition_unavailable, as the reference server sends it.
const modelFaultRetry = int64(time.Second)

// setFaults gives the partitions of m the faults specs (resolved: each names
// a partition key of the design; one naming no partition is ignored).
func (m *modelRun) setFaults(specs []fault.Spec) {
	if len(specs) == 0 {
		return
	}
	m.pfaults = make([][]fault.Spec, len(m.parts))
	for _, sp := range specs {
		for i := range m.parts {
			if string(m.parts[i].key) == sp.Partition {
				m.pfaults[i] = append(m.pfaults[i], sp)
			}
		}
	}
	m.faults = specs
	m.track = faultTrack{hit: make([]bool, len(m.users)), doneAt: make([]int64, len(m.users))}
	for i := range m.track.doneAt {
		m.track.doneAt[i] = -1
	}
}

// faultOf returns what partition pi's faults do at virtual time now: down,
// the delay each store operation waits, and the share of operations failed
// (the largest of the active faults').
func (m *modelRun) faultOf(pi int32, now int64) (down bool, delay int64, share float64) {
	if m.pfaults == nil || pi < 0 {
		return false, 0, 0
	}
	since := time.Duration(now - m.opensAt)
	for _, sp := range m.pfaults[pi] {
		if !sp.Active(since) {
			continue
		}
		switch sp.Mode {
		case fault.Down:
			down = true
		case fault.Slow:
			delay += int64(sp.Delay)
		case fault.Errors:
			share = max(share, sp.Share)
		}
	}
	return down, delay, share
}

// isDown reports whether partition pi is down at now.
func (m *modelRun) isDown(pi int32, now int64) bool {
	d, _, _ := m.faultOf(pi, now)
	return d
}

// listingOf returns the list_slots answer of PPV pv at now: its days less
// those of down partitions, which the reference server leaves out. ok is
// false when every partition of the PPV is down (503 partition_unavailable).
func (m *modelRun) listingOf(pv *mppv, now int64) (views []SlotView, ok bool) {
	if m.pfaults == nil {
		return pv.views, true
	}
	anyDown, allDown := false, true
	for _, sp := range pv.spans {
		if m.isDown(sp.part, now) {
			anyDown = true
		} else {
			allDown = false
		}
	}
	if !anyDown {
		return pv.views, true
	}
	if allDown && len(pv.spans) > 0 {
		return nil, false
	}
	views = make([]SlotView, 0, len(pv.views))
	for k, si := range pv.slots {
		if !m.isDown(m.slots[si].part, now) {
			views = append(views, pv.views[k])
		}
	}
	return views, true
}

// faultTrack is what a model run with faults keeps of each person for the
// blast radius: whether a fault-caused answer reached them, and when their
// journey ended (-1: not yet).
type faultTrack struct {
	hit    []bool
	doneAt []int64
}

// noteAnswer records, with faults, whether answer resp to user u, for the
// request sent at due (a booking: on partition part), was caused by a
// fault: any 503 partition_unavailable (only a down partition answers it,
// a listing too), or a booking refused (5xx but not_open, a timeout) by a
// faulted partition, sent within a fault's window or up to the request
// timeout after it.
func (m *modelRun) noteAnswer(u int32, op uint8, part int32, resp *Response, due int64) {
	if m.pfaults == nil || m.track.hit[u] {
		return
	}
	if resp.Code == "partition_unavailable" {
		m.track.hit[u] = true
		return
	}
	if op != opBook || part < 0 || len(m.pfaults[part]) == 0 {
		return
	}
	if refused := resp.Status == 0 || (resp.Status >= 500 && resp.Code != "not_open"); !refused {
		return
	}
	for _, sp := range m.pfaults[part] {
		start, end := sp.Window()
		if since := due - m.opensAt; since >= int64(start) && since <= int64(end)+m.timeout {
			m.track.hit[u] = true
			return
		}
	}
}

// blastRadius returns the blast radius of the run's faults over dr (filled).
func (m *modelRun) blastRadius(dr *results.DesignResult) *results.BlastRadius {
	if len(m.faults) == 0 {
		return nil
	}
	b := &results.BlastRadius{}
	var windows []results.FaultWindow
	for _, sp := range m.faults {
		b.Faults = append(b.Faults, sp.String())
		start, end := sp.Window()
		windows = append(windows, results.FaultWindow{StartS: start.Seconds(), EndS: end.Seconds()})
	}
	for u := range m.users {
		us := &m.users[u]
		if m.track.hit[u] {
			b.PeopleHit++
		}
		if us.phase == phaseIdle {
			continue
		}
		for _, sp := range m.faults {
			start, end := sp.Window()
			done := m.track.doneAt[u]
			if us.arrivedAt < m.opensAt+int64(end) && (done < 0 || done >= m.opensAt+int64(start)) {
				b.PeopleInWindow++
				break
			}
		}
	}
	if dr.Users.Arrived > 0 {
		b.PeopleHitShare = float64(b.PeopleHit) / float64(dr.Users.Arrived)
	}
	b.RecoverS = results.RecoverySeconds(dr.Timeline, windows, time.Duration(m.opensAt).Seconds())
	return b
}
