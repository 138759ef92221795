package sim

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim/profile"
)

// Request is one API call a journey wants made.
type Request struct {
	// Op is one of results.OpListPPVs, OpListSlots, OpBook, OpQueue,
	// OpGetBooking or OpFindBooking.
	Op   string
	PPV  string
	Date models.Date
	// State filters list_ppvs.
	State string
	// PersonID and IdempotencyKey are set for bookings; a retry of the same
	// booking reuses its key so it can never book twice.
	PersonID       string
	IdempotencyKey string
	// Ticket is the waiting-room ticket to poll (queue op); empty joins.
	Ticket string
	// Token is the waiting room's admission token, sent as the API
	// profile says (API v1: "Authorization: Bearer <token>").
	Token string
	// BookingID is the booking to read back (get_booking).
	BookingID string
	// ReadList asks for the centres of a list_ppvs answer in
	// Response.PPVs (inventory reads); journeys leave it unset, so their
	// answers are not decoded.
	ReadList bool
	// Step and StepPath name the journey step a step op calls and the
	// path the built-in API profile sends it to (see StepPolicy).
	Step     string
	StepPath string
}

// SlotView is one entry of a list_slots answer.
type SlotView = profile.Slot

// Kind is what an answer means to the journey and to the results, whatever
// its status (see profile.Kind).
type Kind = profile.Kind

// Kinds of answers (see profile.Kind). KindUnset leaves the kind to
// Response.Classify.
const (
	KindUnset         = profile.KindUnset
	KindOK            = profile.KindOK
	KindSoldOut       = profile.KindSoldOut
	KindAlreadyBooked = profile.KindAlreadyBooked
	KindThrottled     = profile.KindThrottled
	KindOverloaded    = profile.KindOverloaded
	KindNotAdmitted   = profile.KindNotAdmitted
	KindNotFound      = profile.KindNotFound
	KindRejected      = profile.KindRejected
	KindServerError   = profile.KindServerError
	KindUnexpected    = profile.KindUnexpected
	KindStepFailed    = profile.KindStepFailed
	KindTransport     = profile.KindTransport
)

// Response is what came back for a Request. A transport failure (timeout,
// refused connection) has Status 0 and Err set.
type Response struct {
	// Status is the HTTP status the target answered, as it is (0 for no
	// answer): results count requests by it.
	Status int
	Err    error
	// Kind is what the answer means, as the target's API profile says
	// (Client sets it); when unset, Classify derives it from Status and
	// Code by API v1's rules, as the model engine's answers want.
	Kind Kind
	// Code is the error code an answer that is not ok carries, where the
	// API profile's error_code says (API v1: "sold_out", "already_booked").
	Code string
	// RetryAfter is the server's Retry-After advice, 0 when absent.
	RetryAfter time.Duration
	// Slots is the answer of a successful list_slots.
	Slots []SlotView
	// BookingID is the id of a successful booking.
	BookingID string
	// Ticket, Admitted and Token answer a queue op: the ticket to poll,
	// and once admitted the token the booking API requires.
	Ticket   string
	Admitted bool
	Token    string
	// Date, with Admitted, is the day a room per centre sends the person
	// to book; zero when the room names none.
	Date models.Date
	// PPVs is the answer of a list_ppvs with Request.ReadList.
	PPVs []models.PPV
	// Booking is the answer of a successful get_booking or find_booking.
	Booking *models.Booking
}

// Classify returns what r means: r.Kind when set, else the kind its
// Status and Code have in API v1: 0 transport, 2xx ok, 409 already_booked
// (with that Code) or sold_out, 429 throttled, 503 overloaded, other
// statuses from 500 server_error, 403 not_admitted, 404 not_found, 400 and
// 413 rejected, anything else unexpected.
func (r *Response) Classify() Kind {
	if r.Kind != KindUnset {
		return r.Kind
	}
	switch st := r.Status; {
	case st == 0:
		return KindTransport
	case st >= 200 && st < 300:
		return KindOK
	case st == 409 && r.Code == "already_booked":
		return KindAlreadyBooked
	case st == 409:
		return KindSoldOut
	case st == 429:
		return KindThrottled
	case st == 503:
		return KindOverloaded
	case st >= 500:
		return KindServerError
	case st == 403:
		return KindNotAdmitted
	case st == 404:
		return KindNotFound
	case st == 400 || st == 413:
		return KindRejected
	case st == 422 && r.Code == CodeStepFailed:
		return KindStepFailed
	}
	return KindUnexpected
}

// Outcome is how a journey ended.
type Outcome int8

// Journey outcomes. StillWaiting is the engine's verdict when a run ends
// before the journey does.
const (
	Pending Outcome = iota
	Booked
	GaveUp
	StillWaiting
)

func (o Outcome) String() string {
	switch o {
	case Booked:
		return "booked"
	case GaveUp:
		return "gave_up"
	case StillWaiting:
		return "still_waiting"
	default:
		return "pending"
	}
}

// Action is the journey's next step: wait Wait, then send Req; or, when Done,
// stop with Outcome.
type Action struct {
	Done    bool
	Outcome Outcome
	// Reason says why a journey gave up ("patience", "attempts", "sold_out").
	Reason string
	Wait   time.Duration
	Req    Request
}

// Policy is how a user retries. Behaviours map to policies in PolicyFor.
type Policy struct {
	HonourRetryAfter bool
	// Immediate clicks again on errors, and reloads the waiting room, after
	// 0.5 to 1.5 times Refresh instead of backing off (the 2021 refreshers).
	Immediate   bool
	Refresh     time.Duration
	Backoff     time.Duration
	MaxBackoff  time.Duration
	Jitter      float64
	MaxAttempts int // per request; 0 = no limit
	Patience    time.Duration
	ThinkTime   time.Duration
	Alts        int
	// WaitingRoom makes the journey join the room and wait for admission
	// before anything else.
	WaitingRoom bool
	// RoomPatience is how long a user waits in the room before leaving,
	// from arriving (PolicyFor: the patience); 0 waits until admitted (or
	// the run ends).
	RoomPatience time.Duration
	// CentreRooms makes the room one queue per centre (with WaitingRoom):
	// the journey joins the queue of the centre it wants, and when that
	// centre is full joins the queue of its next alternative, at the back.
	CentreRooms bool
	// Steps come before listing centres, after the waiting room;
	// Returns brings some who gave up back; Openings are the announced
	// openings of each state (from t=0) a return may aim at. See
	// WithJourneyExtras.
	Steps    []StepPolicy
	Returns  ReturnPolicy
	Openings map[string][]time.Duration
}

// PolicyFor returns the retry policy of behaviour b under the scenario's
// journey settings: patient users follow the scenario's retry policy
// (exponential backoff with jitter, and when they honour Retry-After, never
// sooner than it says);
// refreshers ignore Retry-After and click again after 0.5 to 1.5 refresh
// intervals, without an attempt limit; abandoners follow the policy but
// leave after a quarter of the patience. Everyone's patience runs in the
// waiting room too (RoomPatience): nobody waits there longer than they
// would wait for the booking site.
func PolicyFor(b scenarios.Behaviour, js scenarios.JourneySpec) Policy {
	p := Policy{
		HonourRetryAfter: js.Retry.HonourRetryAfter,
		Backoff:          js.Retry.Backoff,
		MaxBackoff:       js.Retry.MaxBackoff,
		Jitter:           js.Retry.Jitter,
		MaxAttempts:      js.Retry.MaxAttempts,
		Patience:         js.Patience,
		RoomPatience:     js.Patience,
		ThinkTime:        js.ThinkTime,
		Alts:             js.Alternatives,
	}
	switch b {
	case scenarios.Refresher:
		p.HonourRetryAfter = false
		p.Immediate = true
		p.Refresh = js.RefreshInterval
		if p.Refresh <= 0 {
			p.Refresh = scenarios.DefaultRefreshInterval
		}
		p.MaxAttempts = 0
	case scenarios.Abandoner:
		p.Patience = js.Patience / 4
		p.RoomPatience = p.Patience
	}
	return p
}

type step int8

const (
	stepListPPVs step = iota
	stepListSlots
	stepBook
	stepQueue
	stepStep
)

// Journey is one user's way through the booking site. It is a pure state
// machine: the engine feeds it responses and elapsed time, it answers with the
// next action. It is deterministic given the user's seed. Not safe for
// concurrent use.
type Journey struct {
	// The fields every answer reads or writes come first, so that a journey
	// handling an answer touches as few cache lines as possible: a national
	// simulation holds a million of them and reaches each at random.
	user   *scenarios.Arrival
	policy *Policy // shared by the journeys of a behaviour; read only
	// pcg is the journey's source, drawn from directly: float64 and intN
	// reproduce rand.Rand's Float64 and IntN on it, bit for bit.
	pcg rand.PCG
	// admitted is the elapsed time at admission: patience counts from it.
	admitted time.Duration
	ppv      int32 // index into user.PPVs
	alts     int32 // alternatives tried after the first choice
	attempts int32 // failed attempts of the current request
	bookSeq  int32
	// Requests counts the requests the journey asked for; Retries those of
	// them that repeated a booking-API request after an error (429, 5xx,
	// a timeout), not counting the waiting room's.
	Requests int
	Retries  int

	step step
	// stepIdx is the journey step under way (Policy.Steps); returned is
	// set once the person came back (Return).
	stepIdx  int8
	returned bool
	// steer is the day a room per centre sent the person to book
	// (packDay), 0 when none: booked after the steps, without listing.
	steer int32
	// visit is when the current visit began (0, or the return's time):
	// the room's patience counts from it.
	visit time.Duration
	// The current request, kept to send it again; request() builds it.
	// The fields the op does not use are zero.
	curOp   requestOp
	curDate models.Date
	curPPV  string
	curKey  string // book: the Idempotency-Key
	ticket  string
	token   string

	// tried holds the slots answered sold out, each once.
	tried []models.SlotKey
	// BookingID is set once booked.
	BookingID string
}

// requestOp is the operation of a journey's current request.
type requestOp uint8

const (
	reqListPPVs requestOp = iota
	reqListSlots
	reqBook
	reqQueue
	reqStep
)

// move is what the journey decided, before its request is spelled out:
// the engines turn it into an Action (the model engine reads the current
// request from the journey instead, without building it).
type move struct {
	done    bool
	outcome Outcome
	reason  string
	wait    time.Duration
}

// NewJourney returns the journey of user a under policy p.
func NewJourney(a *scenarios.Arrival, p Policy) *Journey {
	j := &Journey{}
	initJourney(j, a, &p)
	return j
}

// initJourney makes j the fresh journey of user a under policy p, which it
// keeps (and never writes).
func initJourney(j *Journey, a *scenarios.Arrival, p *Policy) {
	*j = Journey{user: a, policy: p}
	j.pcg.Seed(a.Seed, uint64(a.Index))
}

// action spells out mv as an Action.
func (j *Journey) action(mv move) Action {
	if mv.done {
		return Action{Done: true, Outcome: mv.outcome, Reason: mv.reason}
	}
	return Action{Wait: mv.wait, Req: j.request()}
}

// request returns the current request.
func (j *Journey) request() Request {
	switch j.curOp {
	case reqQueue:
		return Request{Op: results.OpQueue, PPV: j.curPPV, PersonID: j.user.PersonID, Ticket: j.ticket, Token: j.token}
	case reqStep:
		st := &j.policy.Steps[j.stepIdx]
		return Request{Op: results.OpStep, Step: st.Name, StepPath: st.Path, PersonID: j.user.PersonID, Token: j.token}
	case reqListSlots:
		return Request{Op: results.OpListSlots, PPV: j.curPPV, Token: j.token}
	case reqBook:
		return Request{Op: results.OpBook, PPV: j.curPPV, Date: j.curDate, PersonID: j.user.PersonID, IdempotencyKey: j.curKey, Token: j.token}
	default:
		return Request{Op: results.OpListPPVs, State: j.user.State, Token: j.token}
	}
}

// float64 is rand.New(&j.pcg).Float64().
func (j *Journey) float64() float64 {
	return float64(j.pcg.Uint64()<<11>>11) / (1 << 53)
}

// intN is rand.New(&j.pcg).IntN(n) for n > 0 (on 64-bit and 32-bit
// platforms alike, as rand.Rand's own uint64n).
func (j *Journey) intN(n int) int {
	if n <= 0 {
		panic("invalid argument to IntN")
	}
	if bits.UintSize == 32 {
		return rand.New(&j.pcg).IntN(n)
	}
	u := uint64(n)
	if u&(u-1) == 0 {
		return int(j.pcg.Uint64() & (u - 1))
	}
	hi, lo := bits.Mul64(j.pcg.Uint64(), u)
	if lo < u {
		thresh := -u % u
		for lo < thresh {
			hi, lo = bits.Mul64(j.pcg.Uint64(), u)
		}
	}
	return int(hi)
}

// expFloat64 is rand.New(&j.pcg).ExpFloat64().
func (j *Journey) expFloat64() float64 {
	r := rand.New(&j.pcg)
	return r.ExpFloat64()
}

// isTried reports whether slot (ppv, d) was answered sold out.
func (j *Journey) isTried(ppv string, d models.Date) bool {
	for i := range j.tried {
		if k := &j.tried[i]; k.Date == d && k.PPV == ppv {
			return true
		}
	}
	return false
}

// Start returns the first action: join the waiting room when there is one,
// else list the PPVs of the user's state.
func (j *Journey) Start() Action { return j.action(j.start()) }

func (j *Journey) start() move {
	if j.policy.WaitingRoom {
		j.step = stepQueue
		return j.send(0, reqQueue, j.queuePPV(), models.Date{}, "")
	}
	return j.begin(j.visit)
}

// send makes (op, ppv, date, key) the current request, to be sent after
// wait (the waiting-room ticket and admission token go with it).
func (j *Journey) send(wait time.Duration, op requestOp, ppv string, date models.Date, key string) move {
	j.curOp, j.curPPV, j.curDate, j.curKey = op, ppv, date, key
	return j.resend(wait)
}

// resend sends the current request again after wait.
func (j *Journey) resend(wait time.Duration) move {
	j.Requests++
	return move{wait: wait}
}

// patient reports whether the user, elapsed after arriving, still has
// patience for a further wait: in the room RoomPatience counts from arrival,
// after admission Patience counts from the admission.
func (j *Journey) patient(elapsed time.Duration) bool {
	if j.step == stepQueue {
		return j.policy.RoomPatience <= 0 || elapsed-j.visit <= j.policy.RoomPatience
	}
	return elapsed-j.admitted <= j.policy.Patience
}

// queued handles an answer of the waiting room.
func (j *Journey) queued(resp Response, elapsed time.Duration) move {
	if resp.Admitted && resp.Token != "" {
		j.token = resp.Token
		j.admitted = elapsed
		j.steer = 0
		if j.policy.CentreRooms && resp.Date != (models.Date{}) && !j.isTried(j.queuePPV(), resp.Date) {
			j.steer = packDay(resp.Date)
		}
		return j.begin(elapsed)
	}
	if resp.Ticket != "" {
		j.ticket = resp.Ticket
	}
	var wait time.Duration
	switch {
	case j.policy.Immediate:
		// Refreshers reload the waiting page again and again instead of
		// waiting for its own refresh.
		wait = j.refresh()
	case resp.RetryAfter > 0:
		wait = resp.RetryAfter + time.Duration(j.float64()*j.policy.Jitter*float64(resp.RetryAfter))
	default:
		wait = time.Second
	}
	if !j.patient(elapsed + wait) {
		return j.giveUp("waiting_room")
	}
	// The same queue again: in the queue step curPPV is queuePPV's (the
	// centre changes only through rejoin, which sends its join), without
	// reaching the user's record.
	return j.send(wait, reqQueue, j.curPPV, models.Date{}, "")
}

// queuePPV is the centre whose queue the journey joins: its current
// centre with rooms per centre, else none.
func (j *Journey) queuePPV() string {
	if j.policy.CentreRooms {
		return j.user.PPVs[j.ppv]
	}
	return ""
}

func (j *Journey) think() time.Duration {
	if j.policy.ThinkTime <= 0 {
		return 0
	}
	return time.Duration(j.expFloat64() * float64(j.policy.ThinkTime))
}

// refresh is a refresher's next click: 0.5 to 1.5 times its interval.
func (j *Journey) refresh() time.Duration {
	return time.Duration((0.5 + j.float64()) * float64(j.policy.Refresh))
}

func (j *Journey) giveUp(reason string) move {
	return move{done: true, outcome: GaveUp, reason: reason}
}

// Next returns the action after resp, given the time since the user arrived.
func (j *Journey) Next(resp Response, elapsed time.Duration) Action {
	return j.action(j.next(resp, elapsed))
}

func (j *Journey) next(resp Response, elapsed time.Duration) move {
	if j.step == stepStep {
		return j.stepAnswered(resp, elapsed)
	}
	switch resp.Classify() {
	case KindOK:
		j.attempts = 0
		switch j.step {
		case stepQueue:
			return j.queued(resp, elapsed)
		case stepListPPVs:
			return j.listSlots(elapsed, j.think())
		case stepListSlots:
			return j.pickSlot(resp.Slots, elapsed)
		case stepBook:
			j.BookingID = resp.BookingID
			return move{done: true, outcome: Booked}
		}
	case KindAlreadyBooked:
		// An earlier attempt (say one that timed out) did book.
		return move{done: true, outcome: Booked}
	case KindSoldOut:
		j.attempts = 0
		if j.step == stepQueue {
			if !j.policy.CentreRooms {
				// The single room's queue is longer than its max_wait.
				return j.giveUp("queue_full")
			}
			// The centre whose room it queued for is full, or its queue
			// too long: the next one.
			if resp.Code == "queue_full" {
				return j.nextAlternativeOr(elapsed, false, "queue_full")
			}
			return j.nextPPV(elapsed)
		}
		// Try another slot.
		if !j.isTried(j.curPPV, j.curDate) {
			j.tried = append(j.tried, models.SlotKey{PPV: j.curPPV, Date: j.curDate})
		}
		return j.nextAlternative(elapsed, true)
	case KindNotFound:
		if j.step == stepListSlots {
			return j.nextPPV(elapsed)
		}
		return j.giveUp(fmt.Sprintf("status %d", resp.Status))
	case KindNotAdmitted:
		if j.policy.WaitingRoom && j.step != stepQueue && j.attempts == 0 {
			// The admission token expired or was refused: back to the
			// room, once in a row.
			j.attempts++
			j.token, j.ticket = "", ""
			j.step = stepQueue
			return j.send(0, reqQueue, j.queuePPV(), models.Date{}, "")
		}
		return j.giveUp(fmt.Sprintf("status %d", resp.Status))
	case KindRejected:
		// The client is wrong, not the load: retrying will not help.
		return j.giveUp(fmt.Sprintf("status %d", resp.Status))
	}
	// Throttled, overloaded, server errors, transport errors, unexpected
	// answers: retry the same request.
	return j.retry(resp, elapsed)
}

func (j *Journey) retry(resp Response, elapsed time.Duration) move {
	j.attempts++
	if j.policy.MaxAttempts > 0 && int(j.attempts) >= j.policy.MaxAttempts {
		return j.giveUp("attempts")
	}
	var wait time.Duration
	switch {
	case j.policy.Immediate:
		wait = j.refresh()
	case resp.RetryAfter > 0 && j.policy.HonourRetryAfter:
		// Never earlier than the server asked, nor than the client's own
		// backoff (as AWS SDKs do): a crowd that all obeys a 10 ms hint
		// would come back as one wave.
		wait = max(j.backoff(), resp.RetryAfter+time.Duration(j.float64()*j.policy.Jitter*float64(resp.RetryAfter)))
	default:
		wait = j.backoff()
	}
	if !j.patient(elapsed + wait) {
		return j.giveUp("patience")
	}
	if j.curOp != reqQueue {
		j.Retries++
	}
	return j.resend(wait)
}

// Sent returns Requests and Retries less the current request when it was
// not sent after all (the run ended first).
func (j *Journey) Sent(current bool) (requests, retries int) {
	if current {
		return j.Requests, j.Retries
	}
	requests, retries = j.Requests-1, j.Retries
	if j.attempts > 0 && j.curOp != reqQueue {
		retries--
	}
	return requests, retries
}

// backoff is exponential from Backoff, capped at MaxBackoff, with the
// Jitter share of it drawn uniformly.
func (j *Journey) backoff() time.Duration {
	b := float64(j.policy.Backoff) * math.Pow(2, float64(j.attempts-1))
	if m := float64(j.policy.MaxBackoff); m > 0 && b > m {
		b = m
	}
	return time.Duration(b*(1-j.policy.Jitter) + j.float64()*j.policy.Jitter*b)
}

func (j *Journey) listSlots(elapsed, wait time.Duration) move {
	if !j.patient(elapsed + wait) {
		return j.giveUp("patience")
	}
	j.step = stepListSlots
	return j.send(wait, reqListSlots, j.user.PPVs[j.ppv], models.Date{}, "")
}

// pickSlot books a date with places left at the current PPV, the earliest
// when the user wants it, else one at random.
func (j *Journey) pickSlot(slots []SlotView, elapsed time.Duration) move {
	ppv := j.user.PPVs[j.ppv]
	// The dates of this PPV already tried: usually none or a few.
	var buf [8]models.Date
	skip := buf[:0]
	for i := range j.tried {
		if j.tried[i].PPV == ppv {
			skip = append(skip, j.tried[i].Date)
		}
	}
	isOpen := func(s *SlotView) bool {
		if s.Remaining <= 0 {
			return false
		}
		for _, d := range skip {
			if d == s.Date {
				return false
			}
		}
		return true
	}
	// The open slots, in their order, without collecting them: the
	// earliest (the first of equals), or the k-th of them drawn at random.
	n := 0
	var date models.Date
	for i := range slots {
		if s := &slots[i]; isOpen(s) {
			if n == 0 || (j.user.WantsEarliest && s.Date.Before(date)) {
				date = s.Date
			}
			n++
		}
	}
	if n == 0 {
		return j.nextPPV(elapsed)
	}
	if !j.user.WantsEarliest {
		k := j.intN(n)
		for i := range slots {
			if s := &slots[i]; isOpen(s) {
				if k == 0 {
					date = s.Date
					break
				}
				k--
			}
		}
	}
	wait := j.think()
	if !j.patient(elapsed + wait) {
		return j.giveUp("patience")
	}
	j.step = stepBook
	j.bookSeq++
	return j.send(wait, reqBook, ppv, date, idempotencyKey(j.user.PersonID, int(j.bookSeq)))
}

// nextAlternative spends one alternative after a 409: list the same PPV
// again for its other dates.
func (j *Journey) nextAlternative(elapsed time.Duration, samePPV bool) move {
	return j.nextAlternativeOr(elapsed, samePPV, "sold_out")
}

// nextAlternativeOr is nextAlternative, giving up for reason when none is
// left.
func (j *Journey) nextAlternativeOr(elapsed time.Duration, samePPV bool, reason string) move {
	j.alts++
	if int(j.alts) > j.policy.Alts {
		return j.giveUp(reason)
	}
	if !samePPV {
		j.ppv++
		if int(j.ppv) >= len(j.user.PPVs) {
			return j.giveUp(reason)
		}
		if j.policy.CentreRooms {
			return j.rejoin(elapsed, j.think())
		}
	}
	return j.listSlots(elapsed, j.think())
}

// rejoin joins the queue of the current centre after wait, at the back,
// with a new ticket: a centre's room admits to that centre only.
func (j *Journey) rejoin(elapsed, wait time.Duration) move {
	j.token, j.ticket = "", ""
	j.step = stepQueue
	if !j.patient(elapsed + wait) {
		return j.giveUp("waiting_room")
	}
	return j.send(wait, reqQueue, j.queuePPV(), models.Date{}, "")
}

// nextPPV moves to the user's next centre when this one has nothing left.
func (j *Journey) nextPPV(elapsed time.Duration) move {
	return j.nextAlternative(elapsed, false)
}

// idempotencyKey is fmt.Sprintf("%s-%d", person, seq), in one allocation.
func idempotencyKey(person string, seq int) string {
	var buf [64]byte
	b := append(buf[:0], person...)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(seq), 10)
	return string(b)
}
