package refserver

import (
	"context"
	"net/http"
	"time"
)

// tokenReasons are the codes of refused admission tokens, in the order of
// Server.tokensRejected.
var tokenReasons = [...]Code{CodeTokenMissing, CodeTokenInvalid, CodeTokenExpired, CodeTokenWrongPerson, CodeTokenWrongCentre}

// claimsKey keys the verified claims of a request's admission token in its
// context.
type claimsKey struct{}

// guarded wraps a booking API operation: when the waiting room is on, the
// request must carry a valid admission token (403 otherwise), checked
// before the operation charges any partition. The claims are in the
// request's context for the operation.
func (s *Server) guarded(f opFunc) opFunc {
	return func(w http.ResponseWriter, r *http.Request) (int, *partition) {
		if !s.roomOn() {
			return f(w, r)
		}
		if s.closed.Load() {
			return writeError(w, s.log, r, unavailable()), nil
		}
		c, e := s.checkToken(r.Header.Values("Authorization"), s.now())
		if e != nil {
			return writeError(w, s.log, r, e), nil
		}
		return f(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	}
}

// checkToken verifies the bearer token of an Authorization header at now.
func (s *Server) checkToken(auth []string, now time.Time) (claims, *Error) {
	tok, e := bearer(auth)
	if e == nil {
		c, err := s.tokenSigner().verify(tok)
		switch {
		case err != nil:
			e = errorf(CodeTokenInvalid, "the admission token is malformed or was not issued by this server")
		case !now.Before(c.expires):
			e = errorf(CodeTokenExpired, "the admission expired at %s: join POST /api/v1/queue again", c.expires.Format(time.RFC3339Nano))
		default:
			return c, nil
		}
	}
	s.rejectToken(e.Code)
	return claims{}, e
}

// checkPerson refuses a booking for another person than the token's.
func (s *Server) checkPerson(ctx context.Context, person string) *Error {
	if !s.roomOn() {
		return nil
	}
	if c, _ := ctx.Value(claimsKey{}).(claims); c.person != person {
		s.rejectToken(CodeTokenWrongPerson)
		return errorf(CodeTokenWrongPerson, "the admission token was issued to another person than person_id")
	}
	return nil
}

// bookedWithToken frees the waiting-room place of the token's holder after
// a booking.
func (s *Server) bookedWithToken(ctx context.Context) {
	if !s.roomOn() {
		return
	}
	if c, ok := ctx.Value(claimsKey{}).(claims); ok {
		if rm := s.ticketRoom(c.ticket); rm != nil {
			rm.booked(c.ticket, c.expires, s.now())
		}
	}
}

func (s *Server) rejectToken(code Code) {
	for i, c := range tokenReasons {
		if c == code {
			s.tokensRejected[i].Add(1)
			s.m.tokensRejected[i].Inc()
			return
		}
	}
}

func roomOff() *Error {
	return errorf(CodeWaitingRoomOff, "this design has no waiting room (designs named ...+waiting-room have one); call the booking API directly")
}

// queueCall returns why the room cannot take a queue call, or nil: no
// waiting room, the server closing, or query parameters.
func (s *Server) queueCall(r *http.Request) *Error {
	switch {
	case !s.roomOn():
		return roomOff()
	case s.closed.Load():
		return unavailable()
	}
	return onlyParams(r.URL.Query())
}

// joinQueue answers POST /api/v1/queue {"person_id"}: the person's ticket,
// made at the back of the queue on the first call, the same on later ones.
func (s *Server) joinQueue(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if e := s.queueCall(r); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	req, e := decodeBody(w, r, DecodeQueueRequest)
	if e != nil {
		return writeError(w, s.log, r, e), nil
	}
	rm, e := s.queueRoom(req.PPV)
	if e != nil {
		return writeError(w, s.log, r, e), nil
	}
	st, poll, err := rm.join(r.Context(), req.PersonID, s.now())
	if err != nil {
		return writeError(w, s.log, r, s.queueFault(r, rm, err)), nil
	}
	return writeQueueStatus(w, st, poll), nil
}

// pollQueue answers GET /api/v1/queue/{ticket}.
func (s *Server) pollQueue(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if e := s.queueCall(r); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	id := r.PathValue("ticket")
	var st QueueStatus
	var poll time.Duration
	found, err := false, error(nil)
	if rm := s.ticketRoom(id); rm != nil {
		st, poll, found, err = rm.poll(r.Context(), id, s.now())
	}
	switch {
	case err != nil:
		return writeError(w, s.log, r, s.queueFault(r, s.ticketRoom(id), err)), nil
	case !found:
		return writeError(w, s.log, r, errorf(CodeNotFound, "no ticket %q", truncate(id))), nil
	}
	return writeQueueStatus(w, st, poll), nil
}

// writeQueueStatus writes st with 200; a waiting status carries the
// advised polling interval as Retry-After and Retry-After-Ms.
func writeQueueStatus(w http.ResponseWriter, st QueueStatus, poll time.Duration) int {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	if st.State == StateWaiting && poll > 0 {
		retryAfterHeaders(h, poll)
	}
	writeJSON(w, http.StatusOK, st)
	return http.StatusOK
}
