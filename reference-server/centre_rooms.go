package refserver

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Rooms per centre (models.Design.CentreRooms): one waiting room per PPV,
// each with the admission machinery of the single room (room.go) and its
// own durable state (store.CentreRoomStore), all signing with one key.
//
//   - POST /api/v1/queue {"person_id", "ppv"} joins the queue of centre
//     ppv (required: 400 without it, 404 for an unknown centre); polls are
//     GET /api/v1/queue/{ticket} as with the single room: a ticket id names
//     its centre ("<ppv>.t<random>"), and so does the token, which carries
//     the ticket under the signature.
//   - A listing of centre X's slots or a booking at X needs a token of X's
//     room: another centre's answers 403 token_wrong_centre. Listing the
//     centres needs a valid token of any room.
//   - A centre with no place left (every slot sold out, by the server's
//     flags) answers joins and polls of its queue 409 sold_out: whoever
//     waits there may join the queue of another centre, at its back (the
//     place earned is lost: ranks are contiguous, see room).
//   - Each room admits what the partitions behind its centre take
//     (models.Design.Rooms, with the policy's headroom), and names in each
//     admitted answer the day to book (centreSteer): the centre's days
//     with places, in turn.
//   - With the policy's MaxWait, a join behind a longer queue answers 409
//     queue_full (room.joinLocked), as with the single room.

// maxCentreID bounds the PPV ids of a design with rooms per centre: a
// ticket id ("<ppv>.t" and 26 characters) must fit in a token (255 bytes).
const maxCentreID = 200

// roomOn reports whether a waiting room (single, or per centre) fronts the
// design.
func (s *Server) roomOn() bool { return s.room != nil || s.centres != nil }

// tokenSigner returns the signer of admission tokens: every room signs
// with the one key of the store's rooms.
func (s *Server) tokenSigner() *signer {
	if s.room != nil {
		return s.room.signer
	}
	return s.anyCentre.signer
}

// queueRoom returns the room a join of centre ppv goes to: the single
// room (whatever ppv says), or ppv's room; an *Error when rooms per centre
// are on and ppv is empty (400) or unknown (404).
func (s *Server) queueRoom(ppv string) (*room, *Error) {
	if s.centres == nil {
		return s.room, nil
	}
	if ppv == "" {
		return nil, errorf(CodeInvalidRequest, "missing field \"ppv\": this design has a waiting room per centre; name the centre to queue for")
	}
	rm := s.centres[ppv]
	if rm == nil {
		return nil, errorf(CodeNotFound, "unknown PPV %q", truncate(ppv))
	}
	return rm, nil
}

// ticketRoom returns the room of ticket id, nil when no room could hold
// it.
func (s *Server) ticketRoom(id string) *room {
	if s.centres == nil {
		return s.room
	}
	return s.centres[ticketCentre(id)]
}

// queueFault maps an error of room rm's join or poll to its answer: 409
// sold_out for a centre with no place left, else as s.fault does.
func (s *Server) queueFault(r *http.Request, rm *room, err error) *Error {
	switch {
	case errors.Is(err, errCentreFull):
		return errorf(CodeSoldOut, "centre %q has no place left: queue for another centre", truncate(rm.ppv))
	case errors.Is(err, errQueueFull) && rm.ppv != "":
		return errorf(CodeQueueFull, "the queue of centre %q is longer than %v: queue for another centre", truncate(rm.ppv), rm.policy.MaxWait)
	case errors.Is(err, errQueueFull):
		return errorf(CodeQueueFull, "the queue is longer than %v: try again later", rm.policy.MaxWait)
	}
	return s.fault(r, err)
}

// checkCentre refuses, with rooms per centre, a listing or booking at
// centre ppv under the token of another centre's room.
func (s *Server) checkCentre(ctx context.Context, ppv string) *Error {
	if s.centres == nil {
		return nil
	}
	if c, _ := ctx.Value(claimsKey{}).(claims); ticketCentre(c.ticket) != ppv {
		s.rejectToken(CodeTokenWrongCentre)
		return errorf(CodeTokenWrongCentre, "the admission token was issued by the room of centre %q, not %q: queue for that centre", truncate(ticketCentre(c.ticket)), truncate(ppv))
	}
	return nil
}

// centreSlots returns the slots of centre ppv in date order, and their
// dates.
func (s *Server) centreSlots(ppv string) ([]*slot, []models.Date) {
	var mine []*slot
	var dates []models.Date
	for _, sl := range s.inv.SlotsOf(ppv) {
		if x := s.slots[sl.Key()]; x != nil {
			mine, dates = append(mine, x), append(dates, sl.Date)
		}
	}
	return mine, dates
}

// centreDays are the days of a centre's room: their slots and dates, in
// date order.
type centreDays struct {
	slots []*slot
	dates []models.Date
}

// open returns, in buf, whether each day has places left by the server's
// flags, each read once, and how many do.
func (c *centreDays) open(buf []bool) ([]bool, int) {
	buf, n := buf[:0], 0
	for _, x := range c.slots {
		o := !x.soldOut.Load()
		buf = append(buf, o)
		if o {
			n++
		}
	}
	return buf, n
}

// full reports whether every day is sold out, by the server's flags,
// which never clear.
func (c *centreDays) full() bool {
	for _, x := range c.slots {
		if !x.soldOut.Load() {
			return false
		}
	}
	return true
}

// steer returns the day the room sends the person admitted at rank to
// book (models.SteerPick over one reading of the flags), false when no
// day is left.
func (c *centreDays) steer(rank int64) (models.Date, bool) {
	var a [64]bool
	open, _ := c.open(a[:])
	if i := models.SteerPick(rank, open); i >= 0 {
		return c.dates[i], true
	}
	return models.Date{}, false
}

// round returns the people the room admits in a round sized per: in the
// share of its days still open (models.SteeredAdmit).
func (c *centreDays) round(per int64) int64 {
	if per == math.MaxInt64 {
		return per
	}
	var a [64]bool
	_, n := c.open(a[:])
	return models.SteeredAdmit(per, n, len(c.slots))
}

// openCentreRooms restores the room of every centre from the store (a
// store.CentreRoomStore) and starts them, sized by models.Design.Rooms.
// Bookings open with the first centre's room.
func (s *Server) openCentreRooms(ctx context.Context, cfg config) error {
	cs, ok := s.st.(store.CentreRoomStore)
	if !ok {
		return fmt.Errorf("design %s has rooms per centre but the store (%s) cannot keep them", s.design.Name, s.st.Describe())
	}
	rooms, err := s.design.Rooms(&s.inv)
	if err != nil {
		return err
	}
	base := s.roomBase(cfg)
	s.centres = make(map[string]*room, len(rooms))
	for i, rd := range rooms {
		rc := base
		rc.seed += uint64(i)
		rm, err := s.openCentreRoom(ctx, cs, rd, rc)
		if err != nil {
			s.closeRooms()
			return err
		}
		s.centres[rd.PPV] = rm
		if i == 0 {
			s.anyCentre = rm
			s.opensAt = rm.opensAt
		}
	}
	s.log.Info("waiting rooms per centre ready", "centres", len(rooms), "opens_at", s.opensAt)
	return nil
}

// openCentreRoom restores and starts the room of one centre rd.
func (s *Server) openCentreRoom(ctx context.Context, cs store.CentreRoomStore, rd models.Room, cfg roomConfig) (*room, error) {
	if len(rd.PPV) > maxCentreID {
		return nil, fmt.Errorf("rooms per centre: PPV id %q is longer than %d bytes", truncate(rd.PPV), maxCentreID)
	}
	st, err := cs.CentreRoom(ctx, rd.PPV)
	if err != nil {
		return nil, err
	}
	state, err := st.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("load the room of centre %q: %w", rd.PPV, err)
	}
	ppv := rd.PPV
	cfg.policy, cfg.ppv = rd.Policy, ppv
	mine, dates := s.centreSlots(ppv)
	cfg.days = &centreDays{slots: mine, dates: dates}
	rm, err := newRoom(st, state, cfg)
	if err != nil {
		return nil, fmt.Errorf("room of centre %q: %w", ppv, err)
	}
	return rm, nil
}

// closeRooms stops every room after committing what is pending.
func (s *Server) closeRooms() {
	if s.room != nil {
		s.room.close()
	}
	for _, rm := range s.centres {
		rm.close()
	}
}

// roomStats returns the counters of the rooms at now, summed over the
// centres with rooms per centre (opened when any is).
func (s *Server) roomStats() RoomStats {
	now := s.now()
	if s.room != nil {
		return s.room.stats(now)
	}
	var sum RoomStats
	for _, rm := range s.centres {
		st := rm.stats(now)
		sum.Opened = sum.Opened || st.Opened
		sum.Tickets += st.Tickets
		sum.Waiting += st.Waiting
		sum.Admitted += st.Admitted
		sum.Active += st.Active
		sum.Commits += st.Commits
	}
	return sum
}
