package refserver

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Waiting-room constants.
const (
	// roomRetryCommit is how long the room's writer waits before retrying
	// a failed commit.
	roomRetryCommit = 100 * time.Millisecond
)

// Queue states of a ticket (QueueStatus.State).
const (
	StateWaiting  = api.StateWaiting
	StateAdmitted = api.StateAdmitted
)

// QueueStatus is the answer of the queue endpoints (see api.QueueStatus).
type QueueStatus = api.QueueStatus

// errRoomClosed is returned by the room after close.
var errRoomClosed = errors.New("waiting room closed")

// errCentreFull is returned by a centre's room when the centre has no
// place left: its queue leads nowhere.
var errCentreFull = errors.New("the centre has no place left")

// errQueueFull is returned by a join that the room's MaxWait refuses
// (models.RoomPolicy.Refuses).
var errQueueFull = errors.New("the queue is longer than the room's max_wait")

// ticket is a person's place in the room. Its fields are guarded by the
// room's mu.
type ticket struct {
	id, person string
	seq        int64 // join sequence of the current entry
	rank       int64 // place in the admission order; -1 before opening
	pos        int64 // before opening: place among the people present, in join order
	joinedAt   time.Time
	booked     bool   // booked during its current admission
	ver        uint32 // bumped by every change
	durableVer uint32 // the last version committed
}

func (t *ticket) row() store.Ticket {
	return store.Ticket{ID: t.id, PersonID: t.person, Seq: t.seq, Rank: t.rank, JoinedAt: t.joinedAt}
}

// round is one admission round: the ranks [from, to) admitted at at, whose
// tokens expire at expires. Guarded by the room's mu.
type round struct {
	from, to    int64
	at, expires time.Time
	booked      int64 // people of the round who booked before it expired
	durable     bool
}

// flush is one commit of the room's writer; done is closed once err is set.
type flush struct {
	done chan struct{}
	err  error
}

func newFlush() *flush { return &flush{done: make(chan struct{})} }

// pendingTicket is a ticket handed to the writer at version ver.
type pendingTicket struct {
	t   *ticket
	ver uint32
}

// room is the waiting room in front of a design. Admission is computed
// lazily: every call first advances the room to the current time, running
// the admission rounds due since the last call (opensAt, then every
// interval), each admitting up to perRound of the people waiting, in rank
// order, while fewer than maxActive are active. Ranks below admitted are
// admitted; the room keeps one record per round, not per person. Changes
// are collected under mu and committed by one writer goroutine in batches
// (group commit); an answer that reveals a change waits for its commit,
// never holding mu. It is safe for concurrent use.
type room struct {
	policy models.RoomPolicy
	ppv    string // the centre of a room per centre, "" for the single room
	// days are a centre room's days: it admits in the share of them open
	// and names one to each person admitted; nil for the single room.
	days      *centreDays
	interval  time.Duration // length of a round
	perRound  int64         // people admitted per round at most (MaxInt64: no rate)
	maxActive int64         // 0: no cap
	seed      uint64        // random order at opening
	signer    *signer
	st        store.Room
	log       *slog.Logger

	kick     chan struct{} // buffered 1: wakes the writer
	stop     chan struct{} // closed by close
	stopped  chan struct{} // closed by the writer when it exits
	stopOnce sync.Once
	commits  atomic.Int64 // commits run by the writer

	mu       sync.Mutex // guards everything below, and the tickets and rounds
	closed   bool
	resume   time.Time // the server's start: no round runs before it
	opensAt  time.Time
	opened   bool
	last     time.Time // the latest time seen: the room's clock never goes back
	byID     map[string]*ticket
	byPerson map[string]*ticket
	pre      []*ticket // before opening: the people present, in join order
	nextSeq  int64
	nextRank int64 // ranks below are taken
	admitted int64 // ranks below are admitted
	rounds   []*round
	expHead  int   // rounds[:expHead] have expired
	active   int64 // admitted, unexpired, not booked
	nextTick time.Time

	// Changes not yet handed to the writer: the opening, the tickets
	// touched (a ticket may repeat), the admission rounds.
	pendingOpening *store.Opening
	pendingT       []*ticket
	pendingR       []*round
	next           *flush // the flush that will carry them
}

// roomConfig is what newRoom needs besides the stored state.
type roomConfig struct {
	policy  models.RoomPolicy
	opensAt time.Time // used unless the stored room has opened
	start   time.Time // the server's start: admission resumes here
	seed    uint64
	// ppv is the centre of a room per centre ("" for the single room),
	// and days are its days (nil: the single room).
	ppv  string
	days *centreDays
	// bookedAt returns when person booked, if they hold a booking.
	bookedAt func(person string) (time.Time, bool)
	log      *slog.Logger
}

// newRoom restores the room from its stored state and starts its writer.
// It returns an error for a key shorter than 32 bytes and for a stored
// state that is not consistent (a person or ticket twice, an unranked
// ticket after opening, admissions that are not contiguous).
func newRoom(st store.Room, state store.RoomState, cfg roomConfig) (*room, error) {
	p := cfg.policy
	if len(st.Key()) < 32 {
		return nil, fmt.Errorf("waiting room key has %d bytes; want at least 32", len(st.Key()))
	}
	r := &room{
		policy: p, ppv: cfg.ppv, days: cfg.days,
		interval: p.Interval, perRound: int64(p.AdmitPerInterval), maxActive: int64(p.MaxActive),
		seed: cfg.seed, signer: newSigner(st.Key()), st: st, log: cfg.log,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), stopped: make(chan struct{}),
		opensAt: cfg.opensAt.Round(0).UTC(), resume: cfg.start.Round(0).UTC(),
		byID: map[string]*ticket{}, byPerson: map[string]*ticket{},
		next: newFlush(),
	}
	if r.perRound <= 0 {
		r.perRound = math.MaxInt64
		if r.interval <= 0 {
			r.interval = models.RoomDefaultInterval
		}
	}
	r.restoreOpening(state.Opening)
	joined, err := r.restoreTickets(state.Tickets)
	if err != nil {
		return nil, err
	}
	admitted, err := r.restoreAdmissions(state.Admissions)
	if err != nil {
		return nil, err
	}
	r.restoreActive(cfg.bookedAt)
	if r.opened {
		r.resumeRounds(later(joined, admitted))
	}
	go r.run()
	return r, nil
}

// restoreOpening takes the stored opening, if the room opened in an earlier
// run: its time replaces the configured one, and its order is kept even if
// the policy now names another (logged). It runs before the room is shared.
func (r *room) restoreOpening(o *store.Opening) {
	if o == nil {
		return
	}
	r.opened, r.opensAt = true, o.At.UTC()
	if o.Order != r.policy.Order {
		r.log.Warn("waiting room already opened with another order; keeping it", "stored", o.Order, "policy", r.policy.Order)
	}
}

// restoreTickets indexes the stored tickets by id and person, sets the next
// join sequence and rank, and lines up the unranked tickets of a room not
// yet open in join order. It returns the latest join time, and an error
// when a ticket or person appears twice or a ticket has no rank although
// the room opened. It runs before the room is shared.
func (r *room) restoreTickets(rows []store.Ticket) (time.Time, error) {
	var latest time.Time
	for _, row := range rows {
		t := &ticket{id: row.ID, person: row.PersonID, seq: row.Seq, rank: row.Rank, joinedAt: row.JoinedAt.UTC(), ver: 1, durableVer: 1}
		if r.byID[t.id] != nil || r.byPerson[t.person] != nil {
			return time.Time{}, fmt.Errorf("waiting room holds ticket %s or person %q twice", t.id, t.person)
		}
		r.byID[t.id], r.byPerson[t.person] = t, t
		r.nextSeq = max(r.nextSeq, t.seq+1)
		switch {
		case t.rank >= 0:
			r.nextRank = max(r.nextRank, t.rank+1)
		case r.opened:
			// Ranks commit in the opening's transaction, and later joins
			// are ranked as they join.
			return time.Time{}, fmt.Errorf("waiting room ticket %s has no place although the room opened", t.id)
		default:
			t.pos = int64(len(r.pre))
			r.pre = append(r.pre, t)
		}
		if t.joinedAt.After(latest) {
			latest = t.joinedAt
		}
	}
	return latest, nil
}

// restoreAdmissions rebuilds the admission rounds, which must be contiguous
// from rank 0, and keeps the next rank beyond the admitted ones. It returns
// the time of the latest round, and an error when the rounds leave a gap,
// overlap or are empty. It runs before the room is shared.
func (r *room) restoreAdmissions(rows []store.Admission) (time.Time, error) {
	var latest time.Time
	for _, a := range rows {
		if a.From != r.admitted || a.To <= a.From {
			return time.Time{}, fmt.Errorf("waiting room admissions are not contiguous: [%d, %d) after %d", a.From, a.To, r.admitted)
		}
		rd := &round{from: a.From, to: a.To, at: a.At.UTC(), expires: a.Expires.UTC(), durable: true}
		r.rounds = append(r.rounds, rd)
		r.admitted = a.To
		if rd.at.After(latest) {
			latest = rd.at
		}
	}
	r.nextRank = max(r.nextRank, r.admitted)
	return latest, nil
}

// restoreActive counts the people admitted and still active: an admitted
// person who booked during their round's admission (by bookedAt) no longer
// counts. It needs the tickets and rounds restored, and runs before the
// room is shared.
func (r *room) restoreActive(bookedAt func(person string) (time.Time, bool)) {
	for _, t := range r.byID {
		if t.rank < 0 || t.rank >= r.admitted {
			continue
		}
		rd := r.rounds[r.roundIndex(t.rank)]
		if at, ok := bookedAt(t.person); ok && !at.Before(rd.at) && at.Before(rd.expires) {
			t.booked = true
			rd.booked++
		}
	}
	for _, rd := range r.rounds {
		r.active += rd.to - rd.from - rd.booked
	}
}

// resumeRounds schedules the next admission round of a room that opened in
// an earlier run: admission resumes at the server's start, so the rounds
// missed while it was down admitted nobody, and a round already run (at or
// before latest, the last join or round stored) is never run again.
func (r *room) resumeRounds(latest time.Time) {
	r.nextTick = r.tickAtOrAfter(later(r.resume, r.opensAt))
	if !latest.Before(r.opensAt) {
		r.nextTick = later(r.nextTick, r.tickAfter(latest))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// tickAtOrAfter returns the first admission round at or after t (t not
// before opensAt).
func (r *room) tickAtOrAfter(t time.Time) time.Time {
	d := t.Sub(r.opensAt)
	if d <= 0 {
		return r.opensAt
	}
	k := (d + r.interval - 1) / r.interval
	return r.opensAt.Add(k * r.interval)
}

// tickAfter returns the first admission round strictly after t.
func (r *room) tickAfter(t time.Time) time.Time {
	d := t.Sub(r.opensAt)
	if d < 0 {
		return r.opensAt
	}
	return r.opensAt.Add((d/r.interval + 1) * r.interval)
}

// roundIndex returns the index of the round that admitted rank (which must
// be below admitted).
func (r *room) roundIndex(rank int64) int {
	return sort.Search(len(r.rounds), func(i int) bool { return r.rounds[i].to > rank })
}

// touchLocked records a change of t for the writer.
func (r *room) touchLocked(t *ticket) {
	t.ver++
	r.pendingT = append(r.pendingT, t)
}

// advanceLocked brings the room to now (never back in time) and returns the
// room's now: the opening, then every admission round due.
func (r *room) advanceLocked(now time.Time) time.Time {
	now = now.Round(0).UTC()
	if now.Before(r.last) {
		now = r.last
	}
	r.last = now
	if !r.opened {
		if now.Before(r.opensAt) {
			return now
		}
		r.openLocked()
	}
	for !r.nextTick.After(now) {
		t := r.nextTick
		r.expireLocked(t)
		per := r.perRound
		if r.days != nil {
			per = r.days.round(per)
		}
		n := min(r.nextRank-r.admitted, per)
		if r.maxActive > 0 {
			n = min(n, r.maxActive-r.active)
		}
		if n > 0 {
			r.admitLocked(n, t)
		}
		// Skip rounds that cannot admit anyone: every join, booking and
		// poll advances the room first, so nothing changes before the
		// next call but expiries.
		next := t.Add(r.interval)
		switch {
		case r.nextRank == r.admitted: // nobody waiting
			next = later(next, r.tickAfter(now))
		case r.maxActive > 0 && r.active >= r.maxActive && r.expHead < len(r.rounds): // full
			next = later(next, earlier(r.tickAtOrAfter(r.rounds[r.expHead].expires), r.tickAfter(now)))
		}
		r.nextTick = next
	}
	r.expireLocked(now)
	return now
}

// openLocked opens the room: the people present get ranks 0..n-1 in join
// order (fifo) or in an order drawn from the seed (random).
func (r *room) openLocked() {
	r.opened = true
	crowd := r.pre
	r.pre = nil
	if r.policy.Order == models.RoomRandom {
		rng := mrand.New(mrand.NewPCG(r.seed, r.seed^0x9e3779b97f4a7c15))
		rng.Shuffle(len(crowd), func(i, j int) { crowd[i], crowd[j] = crowd[j], crowd[i] })
	}
	for i, t := range crowd {
		t.rank = r.nextRank + int64(i)
		r.touchLocked(t)
	}
	r.nextRank += int64(len(crowd))
	r.nextTick = r.tickAtOrAfter(later(r.resume, r.opensAt))
	r.pendingOpening = &store.Opening{At: r.opensAt, Order: r.policy.Order, Seed: r.seed, Crowd: int64(len(crowd))}
}

// expireLocked ends the admissions expired at t: their places free up.
func (r *room) expireLocked(t time.Time) {
	for r.expHead < len(r.rounds) && !r.rounds[r.expHead].expires.After(t) {
		rd := r.rounds[r.expHead]
		r.active -= rd.to - rd.from - rd.booked
		r.expHead++
	}
}

// admitLocked admits the next n ranks at t.
func (r *room) admitLocked(n int64, t time.Time) {
	rd := &round{from: r.admitted, to: r.admitted + n, at: t, expires: t.Add(r.policy.TokenTTL).Truncate(time.Millisecond)}
	r.rounds = append(r.rounds, rd)
	r.admitted += n
	r.active += n
	r.pendingR = append(r.pendingR, rd)
}

// newTicketIDLocked returns a fresh ticket id: "t" and 128 random bits,
// after the centre's PPV id and a dot in a room per centre (ticketCentre).
func (r *room) newTicketIDLocked() string {
	prefix := "t"
	if r.ppv != "" {
		prefix = r.ppv + ".t"
	}
	for {
		if id := prefix + rand.Text(); r.byID[id] == nil {
			return id
		}
	}
}

// ticketCentre returns the centre named by the ticket id of a room per
// centre (before its last dot), "" for the single room's.
func ticketCentre(id string) string {
	if i := strings.LastIndexByte(id, '.'); i > 0 {
		return id[:i]
	}
	return ""
}

// full reports whether the room's centre has no place left.
func (r *room) full() bool { return r.days != nil && r.days.full() }

// waitingLocked returns the number of people waiting: ranked and not yet
// admitted, or present before the opening.
func (r *room) waitingLocked() int64 {
	if r.opened {
		return r.nextRank - r.admitted
	}
	return int64(len(r.pre))
}

// expiredLocked reports whether t was admitted and its admission expired
// at now.
func (r *room) expiredLocked(t *ticket, now time.Time) bool {
	return t.rank >= 0 && t.rank < r.admitted && !now.Before(r.rounds[r.roundIndex(t.rank)].expires)
}

// joinLocked returns person's ticket, making one at the back of the queue
// for a newcomer, and re-entering at the back a person whose admission
// expired. It returns errQueueFull, and changes nothing, when that new
// place would be behind more people than the policy's MaxWait allows.
func (r *room) joinLocked(person string, now time.Time) (*ticket, error) {
	t := r.byPerson[person]
	if (t == nil || r.expiredLocked(t, now)) && r.policy.Refuses(r.waitingLocked()) {
		return nil, errQueueFull
	}
	if t == nil {
		t = &ticket{id: r.newTicketIDLocked(), person: person, seq: r.nextSeq, rank: -1, joinedAt: now}
		r.nextSeq++
		if r.opened {
			t.rank = r.nextRank
			r.nextRank++
		} else {
			t.pos = int64(len(r.pre))
			r.pre = append(r.pre, t)
		}
		r.byID[t.id], r.byPerson[person] = t, t
		r.touchLocked(t)
		return t, nil
	}
	r.reenterLocked(t, now)
	return t, nil
}

// reenterLocked puts t back in the queue, at the back, if its admission
// expired: a new entry, the same ticket.
func (r *room) reenterLocked(t *ticket, now time.Time) {
	if !r.expiredLocked(t, now) {
		return
	}
	t.seq, t.rank, t.joinedAt, t.booked = r.nextSeq, r.nextRank, now, false
	r.nextSeq++
	r.nextRank++
	r.touchLocked(t)
}

// statusLocked returns t's status at now (after reenterLocked) without its
// token, the claims of
// the token when admitted, the advised polling interval when waiting, and
// the flush to wait for when the answer reveals a change not yet durable.
func (r *room) statusLocked(t *ticket, now time.Time) (QueueStatus, *claims, time.Duration, *flush) {
	st := QueueStatus{Ticket: t.id, PersonID: t.person}
	var f *flush
	if t.durableVer != t.ver {
		f = r.next
	}
	if t.rank >= 0 && t.rank < r.admitted { // unexpired: see reenterLocked
		rd := r.rounds[r.roundIndex(t.rank)]
		if !rd.durable {
			f = r.next
		}
		st.State, st.ExpiresAt = StateAdmitted, rd.expires
		if r.days != nil {
			if d, ok := r.days.steer(t.rank); ok {
				st.Date = d.String()
			}
		}
		return st, &claims{person: t.person, ticket: t.id, expires: rd.expires}, 0, f
	}
	st.State = StateWaiting
	first := r.nextTick
	if r.opened {
		st.Position = t.rank - r.admitted
	} else {
		first = r.opensAt
		if r.policy.Order == models.RoomFIFO {
			st.Position = t.pos
		} else {
			st.Position = int64(len(r.pre)) - 1
		}
	}
	wait := first.Sub(now)
	if r.perRound < math.MaxInt64 {
		wait += time.Duration(st.Position/r.perRound) * r.interval
	} else if r.maxActive > 0 {
		// Admission by the cap alone: assume each place turns over once
		// per token lifetime.
		wait += time.Duration(st.Position/r.maxActive) * r.policy.TokenTTL
	}
	wait = max(wait, 0)
	st.EstimatedWaitS = math.Round(wait.Seconds()*1000) / 1000
	poll := min(max(wait, r.interval), models.RoomMaxPoll)
	poll = (poll + time.Millisecond - 1).Truncate(time.Millisecond)
	return st, nil, poll, f
}

// join returns the status of person's ticket (see joinLocked) once what it
// reveals is durable. It returns errRoomClosed, the context's error, or
// the store's commit error.
func (r *room) join(ctx context.Context, person string, now time.Time) (QueueStatus, time.Duration, error) {
	if r.full() {
		return QueueStatus{}, 0, errCentreFull
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return QueueStatus{}, 0, errRoomClosed
	}
	now = r.advanceLocked(now)
	t, err := r.joinLocked(person, now)
	if err != nil {
		r.mu.Unlock()
		return QueueStatus{}, 0, err
	}
	st, c, poll, f := r.statusLocked(t, now)
	r.mu.Unlock()
	return r.finish(ctx, st, c, poll, f)
}

// poll returns the status of ticket id (re-entering the queue after an
// expired admission, unless MaxWait refuses it: errQueueFull), found
// false for an unknown ticket.
func (r *room) poll(ctx context.Context, id string, now time.Time) (_ QueueStatus, _ time.Duration, found bool, _ error) {
	if r.full() {
		return QueueStatus{}, 0, true, errCentreFull
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return QueueStatus{}, 0, true, errRoomClosed
	}
	now = r.advanceLocked(now)
	t := r.byID[id]
	if t == nil {
		r.mu.Unlock()
		return QueueStatus{}, 0, false, nil
	}
	if r.expiredLocked(t, now) && r.policy.Refuses(r.waitingLocked()) {
		r.mu.Unlock()
		return QueueStatus{}, 0, true, errQueueFull
	}
	r.reenterLocked(t, now)
	st, c, poll, f := r.statusLocked(t, now)
	r.mu.Unlock()
	st, poll, err := r.finish(ctx, st, c, poll, f)
	return st, poll, true, err
}

// finish waits for f, then signs the token of c.
func (r *room) finish(ctx context.Context, st QueueStatus, c *claims, poll time.Duration, f *flush) (QueueStatus, time.Duration, error) {
	if err := r.await(ctx, f); err != nil {
		return QueueStatus{}, 0, err
	}
	if c != nil {
		st.Token = r.signer.sign(*c)
	}
	return st, poll, nil
}

// booked frees the place of the person admitted under ticket id until
// expires, who just booked.
func (r *room) booked(id string, expires, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.advanceLocked(now)
	t := r.byID[id]
	if t == nil || t.booked || t.rank < 0 || t.rank >= r.admitted {
		return
	}
	i := r.roundIndex(t.rank)
	rd := r.rounds[i]
	if i < r.expHead || !rd.expires.Equal(expires) {
		return // expired already, or another admission's token
	}
	t.booked = true
	rd.booked++
	r.active--
}

// RoomStats are the waiting room's counters.
type RoomStats struct {
	// Opened reports whether admission has begun.
	Opened bool
	// Tickets counts the people holding a ticket.
	Tickets int64
	// Waiting counts the people not admitted yet.
	Waiting int64
	// Admitted counts admissions so far (a re-entry after an expired
	// admission counts again).
	Admitted int64
	// Active counts admitted people whose token is unexpired and who have
	// not booked: what MaxActive caps.
	Active int64
	// TokensRejected counts booking API calls refused 403, by error code
	// (token_missing, token_invalid, token_expired, token_wrong_person).
	TokensRejected map[Code]int64
	// Commits counts the room's durable commits (group commits of joins,
	// admission rounds and the opening).
	Commits int64
}

// stats returns the room's counters at now (without TokensRejected).
func (r *room) stats(now time.Time) RoomStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.advanceLocked(now)
	}
	st := RoomStats{Opened: r.opened, Tickets: int64(len(r.byID)), Admitted: r.admitted, Active: r.active, Commits: r.commits.Load()}
	if r.opened {
		st.Waiting = r.nextRank - r.admitted
	} else {
		st.Waiting = int64(len(r.pre))
	}
	r.poke()
	return st
}

// poke wakes the writer.
func (r *room) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// await waits until flush f (nil: nothing to wait for) committed.
func (r *room) await(ctx context.Context, f *flush) error {
	if f == nil {
		return nil
	}
	r.poke()
	select {
	case <-f.done:
		return f.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run is the room's writer: woken by a kick, it hands everything pending
// to the store in one commit. What changes while it commits waits for the
// next one, so commits are batched under load and keep their order. A
// failed commit is kept and retried first by the next one.
func (r *room) run() {
	defer close(r.stopped)
	defer func() { // the last commit, on close
		if err := r.flushOnce(); err != nil {
			r.log.Error("waiting room: last commit failed", "err", err)
		}
	}()
	for {
		select {
		case <-r.kick:
		case <-r.stop:
			return
		}
		if err := r.flushOnce(); err != nil {
			r.log.Error("waiting room: commit failed; retrying", "err", err)
			select {
			case <-time.After(roomRetryCommit):
				r.poke()
			case <-r.stop:
				return
			}
		}
	}
}

// flushOnce commits what is pending and answers the flush waiting for it.
func (r *room) flushOnce() error {
	r.mu.Lock()
	// One row per ticket, as it is now; rounds do not change once made.
	c := store.RoomChange{Opening: r.pendingOpening}
	var ts []pendingTicket
	seen := make(map[*ticket]bool, len(r.pendingT))
	for _, t := range r.pendingT {
		if !seen[t] {
			seen[t] = true
			c.Tickets = append(c.Tickets, t.row())
			ts = append(ts, pendingTicket{t, t.ver})
		}
	}
	rs := r.pendingR
	for _, rd := range rs {
		c.Admissions = append(c.Admissions, store.Admission{From: rd.from, To: rd.to, At: rd.at, Expires: rd.expires})
	}
	f := r.next
	r.pendingOpening, r.pendingT, r.pendingR, r.next = nil, nil, nil, newFlush()
	r.mu.Unlock()
	var err error
	if !c.Empty() {
		if err = r.st.Commit(context.Background(), c); err == nil {
			r.commits.Add(1)
		}
	}
	r.mu.Lock()
	if err == nil {
		for _, p := range ts {
			p.t.durableVer = max(p.t.durableVer, p.ver)
		}
		for _, rd := range rs {
			rd.durable = true
		}
	} else {
		// Nothing of c was written: keep it ahead of what came since.
		if r.pendingOpening == nil {
			r.pendingOpening = c.Opening
		}
		again := make([]*ticket, 0, len(ts)+len(r.pendingT))
		for _, p := range ts {
			again = append(again, p.t)
		}
		r.pendingT = append(again, r.pendingT...)
		r.pendingR = append(rs, r.pendingR...)
	}
	r.mu.Unlock()
	f.err = err
	close(f.done)
	return err
}

// close stops the room after committing what is pending. It is idempotent.
func (r *room) close() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		r.mu.Unlock()
		close(r.stop)
	})
	<-r.stopped
}
