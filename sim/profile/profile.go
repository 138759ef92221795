// Package profile maps the user journey's operations onto a target's HTTP
// API. A profile is a YAML file (see the README of examples/profiles and
// v1.yaml, the built-in profile of the reference server's API v1) that says,
// per operation, how to build the request (method, path, query, headers and
// body as text/template templates over a Request) and what to read from the
// answer (gjson paths), which statuses and bodies mean which outcome (sold
// out, throttled, ...), where the retry advice is, and how the waiting
// room's admission token is sent.
//
// Load and Parse compile a profile once: templates are parsed, paths
// checked, statuses mapped into a lookup table; building a request and
// decoding an answer never read profile text again. The package does not
// depend on the engines (package sim): the engines' client converts its own
// request and response types to Request and Answer.
package profile

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slotrush/slotrush/models"
)

// Kind is what an answer means to the journey and to the results, whatever
// its HTTP status: a profile maps statuses (and body fields) to kinds.
type Kind uint8

// Kinds of answers. KindUnset is the zero Kind: an answer whose kind was not
// stated (the engines derive it from the status by API v1's rules).
const (
	KindUnset Kind = iota
	// KindOK is a success: the answer holds what the operation asked for.
	KindOK
	// KindSoldOut says the slot asked for has no place left.
	KindSoldOut
	// KindAlreadyBooked says the person already holds a booking.
	KindAlreadyBooked
	// KindThrottled says the request was refused by a rate limit; retry
	// later, after the retry advice when there is one.
	KindThrottled
	// KindOverloaded says the system shed the request; retry later.
	KindOverloaded
	// KindNotAdmitted says the request needs admission by the waiting room
	// (a missing, expired or refused token).
	KindNotAdmitted
	// KindNotFound says the thing asked for does not exist.
	KindNotFound
	// KindRejected says the request itself is wrong: retrying will not
	// help.
	KindRejected
	// KindServerError is a fault of the server.
	KindServerError
	// KindUnexpected is an answer the profile gives no meaning to.
	KindUnexpected
	// KindStepFailed says a journey step's call failed by design (a wrong
	// OTP, a captcha to solve again): the step is tried again. It is
	// neither an error nor an answer outside the API.
	KindStepFailed
	// KindTransport is no answer at all: a timeout, a refused or reset
	// connection. Profiles cannot map a status to it.
	KindTransport
)

var kindNames = [...]string{
	KindUnset:         "unset",
	KindOK:            "ok",
	KindSoldOut:       "sold_out",
	KindAlreadyBooked: "already_booked",
	KindThrottled:     "throttled",
	KindOverloaded:    "overloaded",
	KindNotAdmitted:   "not_admitted",
	KindNotFound:      "not_found",
	KindRejected:      "rejected",
	KindServerError:   "server_error",
	KindUnexpected:    "unexpected",
	KindStepFailed:    "step_failed",
	KindTransport:     "transport",
}

// String returns the kind's name as a profile spells it ("sold_out").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// DefaultKind returns the kind of an answer with HTTP status st that no
// outcome rule of a profile matched: 2xx ok, 429 throttled, 503
// overloaded, other 5xx server_error, 404 not_found, 400, 403, 405, 413
// and 422 rejected, anything else unexpected.
func DefaultKind(st int) Kind {
	switch {
	case st >= 200 && st < 300:
		return KindOK
	case st == 429:
		return KindThrottled
	case st == 503:
		return KindOverloaded
	case st >= 500 && st < 600:
		return KindServerError
	case st == 404:
		return KindNotFound
	case st == 400, st == 403, st == 405, st == 413, st == 422:
		return KindRejected
	}
	return KindUnexpected
}

// Request is one journey operation to send, with the fields its templates
// may use. Templates see them as .PPV, .Date (YYYY-MM-DD, empty when zero),
// .State, .PersonID, .IdempotencyKey, .Ticket, .BookingID, .Token and .Op.
type Request struct {
	// Op is results.OpListPPVs, OpListSlots, OpBook, OpQueue (a join when
	// Ticket is empty, else a poll), OpGetBooking or OpFindBooking.
	Op             string
	PPV            string
	Date           models.Date
	State          string
	PersonID       string
	IdempotencyKey string
	Ticket         string
	BookingID      string
	// Token is the waiting room's admission token; when set it is sent as
	// the profile's token header.
	Token string
	// ReadList asks Decode for the centres of a list_ppvs answer; without
	// it they are not decoded.
	ReadList bool
	// Step and StepPath are a step op's step name and path (scenario
	// journey.steps[].service.path, default /api/v1/steps/NAME).
	Step, StepPath string
}

// Slot is one entry of a list_slots answer.
type Slot struct {
	Date      models.Date `json:"date"`
	Capacity  int         `json:"capacity"`
	Remaining int         `json:"remaining"`
}

// Answer is what Decode read from an answer.
type Answer struct {
	// Kind is what the answer means (never KindUnset or KindTransport).
	Kind Kind
	// Err is set when an answer of kind ok lacks what the operation must
	// read from it (a booking without an id).
	Err error
	// Code is the error code the profile's error_code path reads from an
	// answer that is not ok; empty when there is none.
	Code string
	// RetryAfter is the retry advice, 0 when absent.
	RetryAfter time.Duration
	// PPVs answers list_ppvs with Request.ReadList.
	PPVs []models.PPV
	// Slots answers list_slots.
	Slots []Slot
	// BookingID answers book.
	BookingID string
	// Ticket, Admitted and Token answer queue, and Date, when the room
	// names one, is the day an admitted person is sent to book (zero
	// otherwise).
	Ticket   string
	Admitted bool
	Token    string
	Date     models.Date
	// Booking answers get_booking and find_booking.
	Booking *models.Booking
}

// Profile is a compiled API profile. It is immutable and safe for
// concurrent use.
type Profile struct {
	name    string
	ops     [numOps]*operation
	headers []header
	token   *header
	code    string        // gjson path of the error code; "" for none
	retry   []retrySource // global retry advice, tried in order
	// rules[st-minStatus] lists the outcome rules of status st in file
	// order; the first that matches the operation and body decides.
	rules [maxStatus - minStatus + 1][]*rule
}

// Name returns the profile's name (its name field, else its file's base
// name without extension).
func (p *Profile) Name() string { return p.name }

// Has reports whether the profile maps operation op (a results.Op* name;
// results.OpQueue needs both queue_join and queue_poll).
func (p *Profile) Has(op string) bool {
	switch i, ok := opIndex(op, ""); {
	case !ok:
		return false
	case i == opQueueJoin:
		return p.ops[opQueueJoin] != nil && p.ops[opQueuePoll] != nil
	default:
		return p.ops[i] != nil
	}
}

//go:embed v1.yaml
var v1YAML []byte

// V1File is the file name under which the built-in profile is parsed (and
// errors in it, which there are none, would be reported).
const V1File = "v1.yaml"

var v1 = sync.OnceValue(func() *Profile {
	p, err := Parse(V1File, v1YAML)
	if err != nil {
		panic("profile: built-in v1.yaml: " + err.Error())
	}
	return p
})

// V1 returns the built-in profile of the reference server's API v1, the
// default of the engines' client. It is compiled once, on first use, and
// shared.
func V1() *Profile { return v1() }

// V1Source returns the text of the built-in profile, a starting point for
// a profile of one's own.
func V1Source() []byte { return append([]byte(nil), v1YAML...) }

// Load reads and compiles the profile file at path. It returns an ErrorList
// for an invalid profile (see Parse), and a plain error when the file
// cannot be read.
func Load(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load profile: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and compiles the YAML profile data read from the file
// called name. Decoding is strict (unknown fields and values of the wrong
// type are errors), templates must parse and render for sample values,
// a body must render as JSON, answer paths must be gjson paths and statuses
// HTTP statuses. Every problem is reported at once, as an ErrorList whose
// entries name name:line:column and the field. Parse never panics.
func Parse(name string, data []byte) (p *Profile, err error) {
	defer func() {
		// goccy/go-yaml can panic on some malformed input; a profile
		// must never crash the caller.
		if r := recover(); r != nil {
			p, err = nil, ErrorList{{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot decode the YAML (decoder failure: %v)", r)}}
		}
	}()
	spec, d, errs := decodeFile(name, data)
	if errs != nil {
		return nil, errs
	}
	if spec.Name == "" {
		base := filepath.Base(name)
		spec.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	c := &compiler{d: d}
	p = c.compile(spec)
	if len(c.d.errs) > 0 {
		c.d.errs.sort()
		return nil, c.d.errs
	}
	return p, nil
}
