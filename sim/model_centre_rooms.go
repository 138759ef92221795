package sim

import (
	"fmt"
	"math"

	"github.com/slotrush/slotrush/models"
)

// Rooms per centre (models.Design.CentreRooms) in the model, as the
// reference server runs them: one mroom per PPV, indexed like m.ppvs, each
// admitting what the partitions behind its centre take (models.Design.Rooms).
// A person is in one centre's room at a time (muser.croom); joining another
// centre's room leaves the first. A room whose centre has no place left
// answers its joins and polls 409 sold_out. The single room is m.room with
// croom 0; with rooms per centre m.room is the first centre's, so that
// "m.room != nil" still means "a room fronts the design".

// setUpRooms sizes the design's rooms over inv from the single room's
// policy (newModelRoom): with rooms per centre, one room per PPV; a single
// room with Auto gets its sized admission. It needs m.room and the PPVs
// built, and returns an error when a room would admit nobody.
func (m *modelRun) setUpRooms(inv *models.Inventory) error {
	d := m.design
	d.Room = m.room.policy
	rooms, err := d.Rooms(inv)
	if err != nil {
		return fmt.Errorf("model of %s: %w", d.Name, err)
	}
	if !d.CentreRooms {
		m.room.policy = rooms[0].Policy
		return nil
	}
	m.centre = make([]mroom, len(rooms))
	m.centreOpen = make([]int32, len(rooms))
	for i, r := range rooms {
		if m.ppvs[i].id != r.PPV {
			return fmt.Errorf("model of %s: room %d is centre %q, PPV %q", d.Name, i, r.PPV, m.ppvs[i].id)
		}
		m.centre[i] = mroom{policy: r.Policy, interval: m.room.interval}
	}
	m.room = &m.centre[0]
	return nil
}

// roomAt returns room id: the centre room of PPV id, or the single room.
func (m *modelRun) roomAt(id int32) *mroom {
	if m.centre != nil {
		return &m.centre[id]
	}
	return m.room
}

// startRooms schedules the first admission round of every room at the
// opening.
func (m *modelRun) startRooms() {
	n := 1
	if m.centre != nil {
		n = len(m.centre)
	}
	for i := range n {
		m.roomAt(int32(i)).ticking = true
		m.q.schedule(m.opensAt, evRoomTick, int32(i), 0)
	}
}

// centreSoldOut reports whether PPV i has no place left by the server's
// flags, which never clear: a cursor skips the slots found sold out.
func (m *modelRun) centreSoldOut(i int32) bool {
	pv := &m.ppvs[i]
	k := m.centreOpen[i]
	for int(k) < len(pv.slots) && m.slots[pv.slots[k]].soldOut {
		k++
	}
	m.centreOpen[i] = k
	return int(k) == len(pv.slots)
}

// queueRoom returns the room of user u's queue request: the single room,
// or the room of the centre the request names, which a join enters
// (leaving the room of another centre). It returns false and the answer
// to send for an unknown centre (404) or one with no place left (409).
func (m *modelRun) queueRoom(u int32) (*mroom, Response, bool) {
	if m.centre == nil {
		return m.room, Response{}, true
	}
	us := &m.users[u]
	// A poll is for the room that gave its ticket, croom: a journey drops
	// its ticket whenever it changes centre (rejoin, a refused token, a
	// return), so only a join names a new one.
	c := us.croom
	if us.join {
		c = m.lookupPPV(us.j.curPPV)
	}
	if c < 0 {
		return nil, Response{Status: 404, Code: "not_found"}, false
	}
	if m.centreSoldOut(c) {
		return nil, Response{Status: 409, Code: "sold_out"}, false
	}
	if us.join && us.croom != c {
		if us.room != roomNone {
			m.deactivate(u) // it stops counting at the centre it leaves
		}
		us.croom, us.room = c, roomNone
	}
	return &m.centre[c], Response{}, true
}

// queueFull is the answer to a join the room's MaxWait refuses, as the
// reference server's.
func (m *modelRun) queueFull() Response {
	return Response{Status: 409, Code: "queue_full"}
}

// steerDay returns the day the room of admitted user us sends them to
// book, as the reference server's: models.SteerPick of their rank (qpos
// once admitted) over their centre's days not sold out, by the server's
// flags. It is zero for the single room, and when no day is left.
func (m *modelRun) steerDay(us *muser) models.Date {
	if m.centre == nil {
		return models.Date{}
	}
	pv := &m.ppvs[us.croom]
	var a [64]bool
	open, _ := m.openDays(pv, a[:])
	if i := models.SteerPick(int64(us.qpos), open); i >= 0 {
		return m.slots[pv.slots[i]].date
	}
	return models.Date{}
}

// openDays returns, in buf, whether each day of pv has places left by
// the server's flags, and how many do.
func (m *modelRun) openDays(pv *mppv, buf []bool) ([]bool, int) {
	buf, n := buf[:0], 0
	for _, s := range pv.slots {
		o := !m.slots[s].soldOut
		buf = append(buf, o)
		if o {
			n++
		}
	}
	return buf, n
}

// roundSize returns how many people room w (of id) admits in a round:
// AdmitPerInterval (no bound when 0), and with rooms per centre in the
// share of the centre's days still open (models.SteeredAdmit), as the
// reference server's.
func (m *modelRun) roundSize(id int32, w *mroom) int {
	per := w.policy.AdmitPerInterval
	if per <= 0 {
		return math.MaxInt
	}
	if m.centre == nil {
		return per
	}
	pv := &m.ppvs[id]
	var a [64]bool
	_, n := m.openDays(pv, a[:])
	return int(models.SteeredAdmit(int64(per), n, len(pv.slots)))
}

// tokenFits reports whether user u's current request carries an admission
// token valid at now for what it asks: with rooms per centre, a listing or
// booking needs the token of its centre; listing the centres and a
// journey step take any centre's, as on the reference server.
func (m *modelRun) tokenFits(u int32, now int64) bool {
	us := &m.users[u]
	if !us.admitted(now) {
		return false
	}
	return m.centre == nil || us.op == opListPPVs || us.op == opStep || us.ppv == us.croom
}
