// Package api holds the wire types of the booking HTTP API v1 (DESIGN.md),
// shared by the reference server, which answers with them, and by the
// engines' client, which sends and reads them. It depends on models alone
// (no storage, no cgo), so any client can import it.
package api

import (
	"time"

	"github.com/slotrush/slotrush/models"
)

// BookingRequest is the body of POST /api/v1/bookings. All fields are
// required.
type BookingRequest struct {
	// PersonID identifies the person; one booking per person.
	PersonID string `json:"person_id"`
	// PPV is the id of the vaccination centre.
	PPV string `json:"ppv"`
	// Date is the day of the slot, "YYYY-MM-DD" on the wire.
	Date models.Date `json:"date"`
}

// Slot is one entry of GET /api/v1/ppvs/{ppv}/slots.
type Slot struct {
	Date      models.Date `json:"date"`
	Capacity  int         `json:"capacity"`
	Remaining int         `json:"remaining"`
}

// QueueRequest is the body of POST /api/v1/queue.
type QueueRequest struct {
	// PersonID identifies the person joining; one ticket per person.
	PersonID string `json:"person_id"`
	// PPV is the centre whose queue to join, with rooms per centre
	// (required there); the single room ignores it.
	PPV string `json:"ppv,omitempty"`
}

// States of a waiting-room ticket (QueueStatus.State).
const (
	StateWaiting  = "waiting"
	StateAdmitted = "admitted"
)

// QueueStatus is the answer of POST /api/v1/queue and GET
// /api/v1/queue/{ticket}: the person's ticket and where it stands. With a
// waiting status the server sends Retry-After (and Retry-After-Ms) as the
// advised polling interval.
type QueueStatus struct {
	// Ticket is the ticket id to poll; one per person.
	Ticket string `json:"ticket"`
	// PersonID is the person holding the ticket.
	PersonID string `json:"person_id"`
	// State is StateWaiting or StateAdmitted. When an admission expires,
	// the person's next join or poll puts the ticket back in the queue, at
	// the back: waiting again.
	State string `json:"state"`
	// Position is the number of people ahead not yet admitted (0 once
	// admitted). Before opening in random order it is the number of other
	// people present, since places are drawn at opening.
	Position int64 `json:"position"`
	// EstimatedWaitS is the estimated wait until admission in seconds (0
	// once admitted).
	EstimatedWaitS float64 `json:"estimated_wait_s"`
	// Token, once admitted, is the admission token the booking API wants
	// as "Authorization: Bearer <token>" until ExpiresAt.
	Token string `json:"token,omitempty"`
	// ExpiresAt is when the admission (and its token) expires; zero while
	// waiting.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Date, once admitted by a centre's room (rooms per centre), is the
	// day (YYYY-MM-DD) the room sends the person to book at its centre:
	// one of the centre's days with places left, in turn
	// (models.SteerPick), so that no day's partition gets more than its
	// share. The person books it without listing the centre's slots.
	Date string `json:"date,omitempty"`
}
