package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// Event kinds of the model.
const (
	evArrive    uint8 = iota + 1 // a request reaches the server (id: user, aux: request number)
	evSpanDone                   // a partition read of a listing ends (id: server request, aux: generation)
	evBatchDone                  // a partition's group commit ends (id: partition)
	evTimeout                    // a client's request timeout (id: user, aux: request number)
	evShed                       // a queued request reaches MaxWait (id: server request, aux: generation)
	evRoomTick                   // the waiting room admits a round
	evTokenEnd                   // a waiting-room token expires (id: user, aux: admission number)
)

// FIFO rings: every event of a ring has the same delay from when it is
// scheduled, so its times never decrease.
const (
	ringTimeout = 0
	ringShed    = 1
	ringToken   = 2
)

// Operation codes, indexes of opNames.
const (
	opListPPVs uint8 = iota
	opListSlots
	opBook
	opQueue
)

var opNames = [...]string{results.OpListPPVs, results.OpListSlots, results.OpBook, results.OpQueue, results.OpStep}

// Client phases of a user.
const (
	phaseIdle uint8 = iota // not arrived yet
	phaseSent              // a request is out
	phaseDone              // the journey ended
)

// Server request states.
const (
	srFree    uint8 = iota
	srGateQ         // waiting for a turn of the partition's in-flight bound
	srReading       // reading one partition of a listing
	srLockQ         // booking: holding a turn, waiting for the person's lock
	srWriterQ       // booking: queued for the partition's writer
	srBatch         // booking: inside a group commit
)

// errModelTimeout is the transport error of a request that timed out.
var errModelTimeout = errors.New("request timeout (model)")

// muser is one user of a model run.
type muser struct {
	// The fields every request reads come first, then the journey (its own
	// hot fields first): handling a user's event touches a few adjacent
	// cache lines, which the run loop fetches ahead (see run): a national
	// crowd is a million users reached at random.
	arrivedAt  int64
	due        int64  // scheduled start of the current request
	back       int64  // the current request's answer takes this long to reach the client
	sreq       int32  // the server request serving the current request, -1 when none
	seq        uint32 // number of the current request
	armed      uint32 // request number whose timeout is scheduled
	slot       int32  // book: the slot asked for
	ppv        int32  // list_slots and book: the PPV asked for
	bookedPart int32  // the partition of bookedKey's booking
	op         uint8
	phase      uint8
	join       bool   // queue: the request joins the room (no ticket)
	hasToken   bool   // the request carries the room's admission token
	key        string // book: the Idempotency-Key of the current request
	// bookedKey is the Idempotency-Key of the person's booking (the
	// server's person index); empty while the person holds none.
	bookedKey string
	j         Journey

	lock  int32 // the server request holding the person's lock, -1 when none
	lockQ desList
	// The waiting room's view of the person: not seen, waiting (at qpos of
	// its queue) or admitted (token valid until tokenExp; active while it
	// counts against MaxActive), and how many times admitted.
	room     uint8
	active   bool
	admits   uint32
	qpos     int32
	croom    int32 // the room: the centre's with rooms per centre, else 0
	tokenExp int64
}

// admitted reports whether the current request carries an admission token
// that is valid at now.
func (us *muser) admitted(now int64) bool {
	return us.hasToken && us.room == roomAdmitted && now < us.tokenExp
}

// sreq is the server's side of one request that does not get its answer at
// once: a listing reading its partitions, or a booking on its way to the
// writer.
type sreq struct {
	user    int32
	useq    uint32
	gen     uint32
	part    int32 // the partition it holds or waits for
	slot    int32
	span    int32 // listing: the span being read
	ppv     int32
	op      uint8
	state   uint8
	held    bool // holds a turn of part's gate
	dropped bool // its client went away while it queued for the writer
	key     string
}

// bucket is a token bucket with the semantics of golang.org/x/time/rate's
// Limiter as the reference server uses it: it starts full, refills at rate
// per second up to burst, and a request takes one token when at least one
// is there. It is written out rather than a rate.Limiter because the model
// asks it hundreds of millions of times on virtual int64 time, where the
// Limiter would take a mutex and a time.Time each time.
type bucket struct {
	rate   float64 // tokens per second; 0: unlimited
	burst  float64
	tokens float64
	last   int64
}

func newBucket(rate float64, burst int) bucket {
	if rate <= 0 {
		return bucket{}
	}
	if burst <= 0 {
		burst = max(1, int(math.Ceil(rate)))
	}
	return bucket{rate: rate, burst: float64(burst), tokens: float64(burst), last: math.MinInt64}
}

// at returns the tokens at now.
func (b *bucket) at(now int64) float64 {
	if b.last == math.MinInt64 || now <= b.last {
		return b.tokens
	}
	return min(b.burst, b.tokens+float64(now-b.last)*1e-9*b.rate)
}

// wait returns how long from now until a token will be there: 0 when one
// is (or the bucket is unlimited), else rounded up to the nanosecond, as
// the reference server computes it.
func (b *bucket) wait(now int64) int64 {
	if b.rate == 0 {
		return 0
	}
	return b.waitFor(b.at(now))
}

// waitFor returns how long until a token will be there with t tokens now.
func (b *bucket) waitFor(t float64) int64 {
	if t >= 1 {
		return 0
	}
	return int64(math.Ceil((1 - t) / b.rate * 1e9))
}

// allow takes a token at now or returns how long until one will be there.
func (b *bucket) allow(now int64) (wait int64, ok bool) {
	if b.rate == 0 {
		return 0, true
	}
	t := b.at(now)
	if w := b.waitFor(t); w > 0 {
		return w, false
	}
	b.tokens, b.last = t-1, max(now, b.last)
	return 0, true
}

// mpart is the model of one partition.
type mpart struct {
	key         models.PartitionKey
	idx         int32
	write, read bucket
	gate        desGate
	writerQ     desList
	writerBusy  bool
	batch       []int32

	stats PartitionModelStats
}

// mslot is one slot.
type mslot struct {
	part      int32
	remaining int32
	capacity  int32
	soldOut   bool // the server's flag: set once the store reported no place left
	date      models.Date
	// view is the slot's entry in modelRun.views.
	view int32
}

// mspan is the run of consecutive days of a PPV held by one partition.
type mspan struct {
	part int32
}

// mppv is one PPV: its slots in date order and the partitions that hold them.
type mppv struct {
	id     string
	slots  []int32 // by date
	spans  []mspan
	byDate map[models.Date]int32
	// views is the list_slots answer of the PPV, kept up to date as places
	// are booked (a window of modelRun.views); nil when not kept.
	views []SlotView
}

// Waiting-room states of a person.
const (
	roomNone uint8 = iota
	roomWaiting
	roomAdmitted
)

// mroom is the waiting room in front of a design.
type mroom struct {
	policy   models.RoomPolicy
	queue    []int32 // user indexes in admission order from head; stale entries are skipped
	head     int
	active   int
	opened   bool
	interval int64
	ticking  bool
	// base counts the places dropped from the front of queue: a place's
	// rank, as the reference server ranks tickets, is base plus its index.
	// Kept in the person's qpos once admitted, it names the day a room per
	// centre sends them to book (steerDay).
	base int64
}

// touch reads fields at most 64 bytes apart from the start of us to its
// end (muser's and its journey's hot fields, then the waiting room's view
// of the person), so that every cache line of us is fetched wherever the
// record starts in a line, and returns a sum of them, which the caller
// keeps so the loads are not optimised away.
func (us *muser) touch() uint32 {
	return uint32(us.arrivedAt) + us.seq + uint32(len(us.bookedKey)) + uint32(us.j.attempts) + uint32(len(us.j.curPPV)) +
		uint32(len(us.j.token)) + uint32(us.lock) + uint32(us.tokenExp)
}

// modelRun is one simulation of one design. Not safe for concurrent use.
type modelRun struct {
	sc     *scenarios.Scenario
	design models.Design
	p      ModelParams
	crowd  []scenarios.Arrival
	rec    *Recorder
	epoch  time.Time
	rng    *rand.Rand
	q      desQueue

	users []muser
	reqs  []sreq
	free  []int32
	links desLinks
	ready []int32 // server requests given a turn or a lock, to resume now

	parts  []mpart
	slots  []mslot
	ppvs   []mppv
	ppvIdx map[string]int32

	policies map[scenarios.Behaviour]*Policy
	room     *mroom
	// centre holds the rooms per centre by PPV index (nil without), and
	// centreOpen each one's cursor of sold-out slots; see setUpRooms.
	centre     []mroom
	centreOpen []int32

	timeout, opensAt, end   int64
	maxQueue                int
	maxWait                 int64
	shedRetry               int64
	views                   []SlotView // every PPV's list_slots answer, one after the other
	tally                   modelTally
	front, read, rtt, shape sampler
	shapeMean               float64 // CommitShape's mean (ns); 0: no noise
	extra                   [len(opNames)]int64
	lastEvent               int64
	requests                int64
	inline                  uint64 // request arrivals handled without an event (notOpen)
	touched                 uint32 // sink of the loads that fetch the next event's user early
	// faults are the design's injected faults (resolved), pfaults those of
	// each partition; nil without faults.
	faults  []fault.Spec
	pfaults [][]fault.Spec
	track   faultTrack
	// ext is the gateway, step services and per-state openings
	// (model_journey.go); nil when the scenario sets none.
	ext *modelExtras
}

// newModelRun builds the model of design d for scenario sc and crowd.
func newModelRun(sc *scenarios.Scenario, d models.Design, inv *models.Inventory, crowd []scenarios.Arrival, seed int64, p ModelParams) (*modelRun, error) {
	if p.MaxBatch <= 0 {
		return nil, fmt.Errorf("model of %s: max batch %d must be positive", d.Name, p.MaxBatch)
	}
	if errs := inv.Validate(); len(errs) > 0 { // buildViews needs each slot once
		return nil, fmt.Errorf("model of %s: %w", d.Name, errors.Join(errs...))
	}
	m := newModelState(sc, d, crowd, seed, p)
	slotIdx := m.buildPartitions(d.Partitions(inv))
	m.tally.parts = newPartTally(len(m.parts))
	for i := range m.parts {
		m.tally.partKeys = append(m.tally.partKeys, string(m.parts[i].key))
	}
	m.buildPPVs(inv, slotIdx)
	m.buildViews()
	m.setupExtras()
	if d.WaitingRoom {
		room, err := newModelRoom(sc, d)
		if err != nil {
			return nil, err
		}
		m.room = room
		if err := m.setUpRooms(inv); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// newModelState returns the run of design d for scenario sc and crowd with
// its random source (seeded by seed and d's name), service-time samplers,
// timeouts, recorder, users and journey policies set up, and no partitions,
// slots or PPVs yet.
func newModelState(sc *scenarios.Scenario, d models.Design, crowd []scenarios.Arrival, seed int64, p ModelParams) *modelRun {
	h := fnv.New64a()
	h.Write([]byte(d.Name))
	m := &modelRun{
		sc: sc, design: d, p: p, crowd: crowd,
		epoch:    ModelEpoch,
		rng:      rand.New(rand.NewPCG(uint64(seed), h.Sum64())),
		users:    make([]muser, len(crowd)),
		ppvIdx:   map[string]int32{},
		policies: map[scenarios.Behaviour]*Policy{},
		timeout:  int64(sc.Journey.RequestTimeout),
		opensAt:  int64(sc.Crowd.OpeningDelay),
		end:      int64(sc.Duration),
		maxQueue: d.Limits.MaxQueue,
		maxWait:  int64(d.Limits.MaxWait),
	}
	m.front, m.read, m.rtt = newSampler(p.Front), newSampler(p.Read), newSampler(p.RTT)
	for i, op := range opNames {
		m.extra[i] = int64(max(p.Extra[op], 0))
	}
	if p.CommitShape.Kind != "" && p.CommitShape.Kind != DistConstant {
		m.shape, m.shapeMean = newSampler(p.CommitShape), float64(p.CommitShape.MeanDuration())
	}
	// A client cannot time out before its request could be answered.
	m.timeout = max(m.timeout, int64(p.RTT.Quantile(0.999))+1)
	m.shedRetry = int64(max(d.Limits.MaxWait, time.Second))
	m.rec = NewRecorder(m.epoch, len(crowd))
	for i := range m.users {
		m.users[i].sreq, m.users[i].lock = -1, -1
		m.users[i].lockQ = newDesList()
	}
	for _, b := range []scenarios.Behaviour{scenarios.Patient, scenarios.Refresher, scenarios.Abandoner} {
		m.policy(b)
	}
	return m
}

// buildPartitions models the design's partitions parts, with their limits,
// and the slots each holds, in order. It returns the index in m.slots of
// each slot by key.
func (m *modelRun) buildPartitions(parts []models.Partition) map[models.SlotKey]int32 {
	m.parts = make([]mpart, len(parts))
	slotIdx := map[models.SlotKey]int32{}
	for i, pt := range parts {
		mp := &m.parts[i]
		mp.key, mp.idx = pt.Key, int32(i)
		mp.write = newBucket(pt.Limits.WriteRate, pt.Limits.WriteBurst)
		mp.read = newBucket(pt.Limits.ReadRate, pt.Limits.ReadBurst)
		mp.gate = newDesGate(pt.Limits.MaxInFlight)
		mp.writerQ = newDesList()
		mp.stats.Key = string(pt.Key)
		for _, s := range pt.Slots {
			slotIdx[s.Key()] = int32(len(m.slots))
			m.slots = append(m.slots, mslot{part: int32(i), remaining: int32(s.Capacity), capacity: int32(s.Capacity), date: s.Date, soldOut: s.Capacity == 0})
			mp.stats.Capacity += int64(s.Capacity)
		}
	}
	return slotIdx
}

// buildPPVs models the PPVs of inv: each PPV's slots in date order (found
// in m.slots through slotIdx), and the runs of them each partition holds
// (the spans a listing reads, as the reference server groups them). The
// partitions must be built.
func (m *modelRun) buildPPVs(inv *models.Inventory, slotIdx map[models.SlotKey]int32) {
	for _, pv := range inv.PPVs {
		m.ppvIdx[pv.ID] = int32(len(m.ppvs))
		m.ppvs = append(m.ppvs, mppv{id: pv.ID, byDate: map[models.Date]int32{}})
	}
	for _, s := range inv.Slots {
		if i, ok := m.ppvIdx[s.PPV]; ok {
			m.ppvs[i].slots = append(m.ppvs[i].slots, slotIdx[s.Key()])
		}
	}
	for i := range m.ppvs {
		mp := &m.ppvs[i]
		sort.SliceStable(mp.slots, func(a, b int) bool { return m.slots[mp.slots[a]].date.Before(m.slots[mp.slots[b]].date) })
		for k, si := range mp.slots {
			mp.byDate[m.slots[si].date] = int32(k)
			part := m.slots[si].part
			if n := len(mp.spans); n == 0 || mp.spans[n-1].part != part {
				mp.spans = append(mp.spans, mspan{part: part})
			}
		}
	}
}

// newModelRoom returns the waiting room in front of design d: d's room
// policy, or the scenario's when d sets none. It returns an error when that
// policy is invalid.
func newModelRoom(sc *scenarios.Scenario, d models.Design) (*mroom, error) {
	rp := d.Room
	if rp == (models.RoomPolicy{}) {
		rp = sc.RoomPolicy()
	}
	if d.CentreRooms { // sized from the limits (setUpRooms)
		rp.Auto = true
	}
	if errs := rp.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("model of %s: %w", d.Name, errors.Join(errs...))
	}
	iv := rp.Interval
	if iv <= 0 {
		iv = models.RoomDefaultInterval
	}
	return &mroom{policy: rp, interval: int64(iv)}, nil
}

// buildViews keeps each PPV's list_slots answer ready, so that a listing
// hands it out as it is instead of building it. The answer is only read by
// the journey it is delivered to, before anything else happens, as the
// scratch answer it replaces. Each slot has one entry: the inventory is
// valid (newModelRun).
func (m *modelRun) buildViews() {
	n := 0
	for i := range m.ppvs {
		for _, si := range m.ppvs[i].slots {
			m.slots[si].view = int32(n)
			n++
		}
	}
	m.views = make([]SlotView, 0, n)
	for i := range m.ppvs {
		mp := &m.ppvs[i]
		lo := len(m.views)
		for _, si := range mp.slots {
			sl := &m.slots[si]
			m.views = append(m.views, SlotView{Date: sl.date, Capacity: int(sl.capacity), Remaining: int(sl.remaining)})
		}
		mp.views = m.views[lo:len(m.views):len(m.views)]
		if mp.views == nil {
			mp.views = []SlotView{}
		}
	}
}

// run simulates until every journey has ended or the scenario's duration
// has passed. It checks ctx every so often.
func (m *modelRun) run(ctx context.Context) error {
	next := 0
	crowd := m.crowd
	if m.room != nil {
		m.startRooms()
	}
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		// The next user's arrival is handled outside the event set: peek
		// no further than it.
		until := int64(math.MaxInt64)
		if next < len(crowd) {
			until = int64(crowd[next].At)
		}
		e, src := m.q.peekUntil(until)
		if next < len(crowd) && (e == nil || int64(crowd[next].At) <= e.at) {
			at := int64(crowd[next].At)
			if at > m.end {
				next = len(crowd)
				continue
			}
			m.q.now = at
			m.arrive(int32(next))
			next++
			m.drain()
			continue
		}
		if e == nil || e.at > m.end {
			break
		}
		ev := m.q.popFrom(src)
		m.lastEvent = ev.at
		if t := m.q.turned(); t != nil {
			// The wheel just brought these events near: load their users
			// now, all at once, so the processor fetches them from memory
			// in parallel (a million users fit in no cache) rather than
			// one by one as each event is handled.
			for i := range t {
				if k := t[i].kind; k == evArrive || k == evTimeout {
					m.touched += m.users[t[i].id].touch()
				}
			}
		}
		switch ev.kind {
		case evArrive:
			m.serverArrive(ev.id, ev.aux)
		case evSpanDone:
			m.spanDone(ev.id, ev.aux)
		case evBatchDone:
			m.batchDone(ev.id)
		case evTimeout:
			m.clientTimeout(ev.id, ev.aux)
		case evShed:
			m.shedWaiter(ev.id, ev.aux)
		case evRoomTick:
			m.roomTick(ev.id, next < len(crowd))
		case evTokenEnd:
			m.tokenEnd(ev.id, ev.aux)
		case evReturn:
			m.revisit(ev.id)
		}
		m.drain()
	}
	return nil
}

// arrive starts user u's visit at the current time.
func (m *modelRun) arrive(u int32) {
	now := m.q.now
	us := &m.users[u]
	us.arrivedAt = now
	m.rec.Arrived(int(u), m.at(now))
	a := &m.crowd[u]
	initJourney(&us.j, a, m.policy(a.Behaviour))
	m.act(u, us.j.start(), now)
}

// policy returns the policy of behaviour b, shared by its journeys.
func (m *modelRun) policy(b scenarios.Behaviour) *Policy {
	if p, ok := m.policies[b]; ok {
		return p
	}
	p := PolicyFor(b, m.sc.Journey)
	p.WaitingRoom = m.design.WaitingRoom
	p.CentreRooms = m.design.CentreRooms
	WithJourneyExtras(&p, m.sc.Journey, m.sc.Crowd.OpeningDelay, m.sc.StateOpenings())
	m.policies[b] = &p
	return &p
}

// at converts virtual nanoseconds to the recorder's time.
func (m *modelRun) at(ns int64) time.Time { return m.epoch.Add(time.Duration(ns)) }

// act carries out a journey's move decided at client time t: end the
// journey, or send its current request, which reaches the server one way
// later.
func (m *modelRun) act(u int32, mv move, t int64) {
	if at, ok := m.prepare(u, mv, t); ok {
		m.q.schedule(at, evArrive, u, m.users[u].seq)
	}
}

// prepare ends the journey when mv is done, else makes the journey's
// current request user u's current one and returns when it reaches the
// server.
func (m *modelRun) prepare(u int32, mv move, t int64) (int64, bool) {
	us := &m.users[u]
	if mv.done {
		if !m.comeBack(u, mv, t) {
			m.finish(u, mv.outcome, t)
		}
		return 0, false
	}
	j := &us.j
	us.seq++
	us.due = t + int64(mv.wait)
	us.phase = phaseSent
	us.sreq = -1
	us.hasToken = m.room != nil && j.token != "" // read only with a room
	switch j.curOp {
	case reqQueue:
		us.op = opQueue
		us.join = j.ticket == ""
	case reqListPPVs:
		us.op = opListPPVs
	case reqStep:
		us.op = opStep
	case reqListSlots:
		if us.op != opListSlots || us.ppv < 0 || m.ppvs[us.ppv].id != j.curPPV {
			us.ppv = m.lookupPPV(j.curPPV)
		}
		us.op = opListSlots
	case reqBook:
		// A retry repeats the request with its Idempotency-Key: the slot
		// is the one already looked up.
		if us.op != opBook || us.key == "" || j.curKey != us.key {
			us.ppv = m.lookupPPV(j.curPPV)
			us.slot = -1
			if us.ppv >= 0 {
				if i, ok := m.ppvs[us.ppv].byDate[j.curDate]; ok {
					us.slot = m.ppvs[us.ppv].slots[i]
				}
			}
			us.key = j.curKey
		}
		us.op = opBook
	}
	rtt := m.rtt.sample(m.rng)
	us.back = rtt - rtt/2 + m.extra[us.op]
	return us.due + rtt/2, true
}

func (m *modelRun) lookupPPV(id string) int32 {
	if i, ok := m.ppvIdx[id]; ok {
		return i
	}
	return -1
}

// finish ends user u's journey at client time t.
func (m *modelRun) finish(u int32, o Outcome, t int64) {
	us := &m.users[u]
	m.rec.Finished(int(u), o, &us.j, true, time.Duration(t-us.arrivedAt))
	if m.pfaults != nil {
		m.track.doneAt[u] = t
	}
	us.phase = phaseDone
	us.j = Journey{} // its strings and slices go to the collector
	us.key = ""
}

// reply answers user u's request number seq with resp, sent by the server
// at time ts (not before now). The client gets it one way later, unless its
// timeout comes first.
func (m *modelRun) reply(u int32, seq uint32, resp Response, ts int64) {
	m.gatewayLeave(ts)
	m.answer(u, seq, resp, ts)
}

// answer is reply for a request that holds no turn of the gateway (one
// the gateway refused).
func (m *modelRun) answer(u int32, seq uint32, resp Response, ts int64) {
	us := &m.users[u]
	if us.seq != seq || us.phase != phaseSent {
		return // the client is no longer waiting for this answer
	}
	recv := ts + us.back
	if deadline := us.due + m.timeout; recv > deadline {
		m.arm(u)
		return
	}
	us.sreq = -1
	m.deliver(u, resp, recv)
}

// deliver hands resp to user u's journey at client time recv.
func (m *modelRun) deliver(u int32, resp Response, recv int64) {
	us := &m.users[u]
	m.requests++
	m.tally.record(us.op, m.bookPart(u), &resp, recv-us.due, recv)
	m.noteAnswer(u, us.op, m.bookPart(u), &resp, us.due)
	m.act(u, us.j.next(resp, time.Duration(recv-us.arrivedAt)), recv)
}

// bookPart returns the partition of the slot user u's current request
// books, -1 when it is not a booking of a slot of the inventory.
func (m *modelRun) bookPart(u int32) int32 {
	if us := &m.users[u]; us.op == opBook && us.slot >= 0 {
		return m.slots[us.slot].part
	}
	return -1
}

// arm schedules the timeout of user u's current request, once. It is
// called when the request reaches the server, so deadlines come in order.
func (m *modelRun) arm(u int32) {
	us := &m.users[u]
	if us.armed == us.seq {
		return
	}
	us.armed = us.seq
	m.q.scheduleFIFO(ringTimeout, us.due+m.timeout, evTimeout, u, us.seq)
}

// clientTimeout ends user u's request number seq with a transport error,
// when it is still out. The server's side goes on as the reference server's
// does: a request still queued is dropped, one being served completes.
func (m *modelRun) clientTimeout(u int32, seq uint32) {
	us := &m.users[u]
	if us.seq != seq || us.phase != phaseSent {
		return
	}
	if s := us.sreq; s >= 0 {
		us.sreq = -1
		m.abandon(s)
	}
	m.deliver(u, Response{Err: errModelTimeout}, m.q.now)
}

// modelRetryAfter is what the client reads from the server's Retry-After-Ms:
// the delay rounded up to the millisecond, at least 1 ms.
func modelRetryAfter(d int64) time.Duration {
	ms := (d + int64(time.Millisecond) - 1) / int64(time.Millisecond)
	return time.Duration(max(ms, 1)) * time.Millisecond
}

// serverArrive handles user u's request number seq reaching the server.
func (m *modelRun) serverArrive(u int32, seq uint32) {
	us := &m.users[u]
	if us.seq != seq || us.phase != phaseSent {
		return
	}
	now := m.q.now
	if !m.gateway(u) {
		return
	}
	if m.room != nil && us.op != opQueue && !m.tokenFits(u, now) {
		// The booking API wants a valid admission token.
		m.reply(u, seq, Response{Status: 403, Code: "not_admitted"}, now+m.front.sample(m.rng))
		return
	}
	switch us.op {
	case opQueue:
		m.queueOp(u)
	case opListPPVs:
		// The PPV catalogue is in memory: no partition is charged.
		m.reply(u, seq, Response{Status: 200}, now+m.front.sample(m.rng))
	case opListSlots:
		m.listSlots(u)
	case opBook:
		m.book(u)
	case opStep:
		m.stepOp(u)
	}
}

// listSlots charges a read to every partition holding a day of the PPV, all
// or nothing, then reads them one after the other.
func (m *modelRun) listSlots(u int32) {
	us := &m.users[u]
	now := m.q.now
	if us.ppv < 0 {
		m.reply(u, us.seq, Response{Status: 404, Code: "not_found"}, now+m.front.sample(m.rng))
		return
	}
	pv := &m.ppvs[us.ppv]
	if _, ok := m.listingOf(pv, now); !ok {
		// Every partition of the PPV is down: refused before any read is
		// charged, as the reference server does.
		for _, sp := range pv.spans {
			m.parts[sp.part].stats.Faulted++
		}
		m.reply(u, us.seq, Response{Status: 503, Code: "partition_unavailable", RetryAfter: modelRetryAfter(modelFaultRetry)}, now+m.front.sample(m.rng))
		return
	}
	var worst int64
	blocked := false
	for _, sp := range pv.spans {
		if w := m.parts[sp.part].read.wait(now); w > 0 {
			blocked = true
			worst = max(worst, w)
		}
	}
	if blocked {
		for _, sp := range pv.spans {
			if p := &m.parts[sp.part]; p.read.wait(now) > 0 {
				p.stats.ThrottledReads++
			}
		}
		m.reply(u, us.seq, Response{Status: 429, Code: "throttled", RetryAfter: modelRetryAfter(worst)}, now+m.front.sample(m.rng))
		return
	}
	for _, sp := range pv.spans {
		m.parts[sp.part].read.allow(now)
		m.parts[sp.part].stats.Reads++
	}
	s := m.alloc(u, opListSlots)
	m.reqs[s].ppv = us.ppv
	m.readSpan(s)
}

// readSpan reads the current span of listing s: it takes a turn of the
// partition's in-flight bound (or waits for one, or is shed), then reads.
// Without in-flight bounds the remaining spans are read in one go.
func (m *modelRun) readSpan(s int32) {
	r := &m.reqs[s]
	pv := &m.ppvs[r.ppv]
	p := &m.parts[pv.spans[r.span].part]
	r.part = p.idx
	if p.gate.servers <= 0 {
		var d int64
		for _, sp := range pv.spans[r.span:] {
			d += m.read.sample(m.rng)
			if m.pfaults != nil {
				_, delay, _ := m.faultOf(sp.part, m.q.now)
				d += delay
			}
		}
		r.span = int32(len(pv.spans) - 1)
		r.state = srReading
		m.q.schedule(m.q.now+d+m.front.sample(m.rng), evSpanDone, s, r.gen)
		return
	}
	if !m.enterGate(s) {
		return
	}
	m.startRead(s)
}

func (m *modelRun) startRead(s int32) {
	r := &m.reqs[s]
	r.state = srReading
	d := m.read.sample(m.rng)
	if m.pfaults != nil {
		_, delay, _ := m.faultOf(r.part, m.q.now)
		d += delay
	}
	if int(r.span) == len(m.ppvs[r.ppv].spans)-1 {
		d += m.front.sample(m.rng)
	}
	m.q.schedule(m.q.now+d, evSpanDone, s, r.gen)
}

// spanDone ends the read of one span of listing s.
func (m *modelRun) spanDone(s int32, gen uint32) {
	r := &m.reqs[s]
	if r.gen != gen || r.state != srReading {
		return
	}
	if r.held {
		m.leaveGate(s)
	}
	pv := &m.ppvs[r.ppv]
	r.span++
	if int(r.span) < len(pv.spans) {
		m.readSpan(s)
		return
	}
	u, seq := r.user, r.useq
	m.freeReq(s)
	views, ok := m.listingOf(pv, m.q.now)
	if !ok {
		m.reply(u, seq, Response{Status: 503, Code: "partition_unavailable", RetryAfter: modelRetryAfter(modelFaultRetry)}, m.q.now)
		return
	}
	m.reply(u, seq, Response{Status: 200, Slots: views}, m.q.now)
}

// book runs a booking attempt through the reference server's checks in its
// order: opening time, person index, write rate, sold-out flag, in-flight
// bound, person lock, writer.
func (m *modelRun) book(u int32) {
	us := &m.users[u]
	now := m.q.now
	front := now + m.front.sample(m.rng)
	if us.slot < 0 {
		m.reply(u, us.seq, Response{Status: 400, Code: "no_slot"}, front)
		return
	}
	if opens := m.bookOpens(u); now < opens {
		m.notOpen(u, front, opens)
		return
	}
	if us.bookedKey != "" {
		m.reply(u, us.seq, m.replay(u), front)
		return
	}
	sl := &m.slots[us.slot]
	p := &m.parts[sl.part]
	if m.pfaults != nil && m.isDown(sl.part, now) {
		// The partition's storage is down: refused at once, nothing taken.
		p.stats.Faulted++
		m.reply(u, us.seq, Response{Status: 503, Code: "partition_unavailable", RetryAfter: modelRetryAfter(modelFaultRetry)}, front)
		return
	}
	if wait, ok := p.write.allow(now); !ok {
		p.stats.Throttled++
		m.reply(u, us.seq, Response{Status: 429, Code: "throttled", RetryAfter: modelRetryAfter(wait)}, front)
		return
	}
	if sl.soldOut {
		p.stats.SoldOut++
		m.reply(u, us.seq, Response{Status: 409, Code: "sold_out"}, front)
		return
	}
	if m.pfaults != nil {
		if _, _, share := m.faultOf(sl.part, now); share > 0 && m.rng.Float64() < share {
			// An errors fault fails the store operation: nothing written.
			p.stats.Faulted++
			m.reply(u, us.seq, Response{Status: 500, Code: "server_error"}, front)
			return
		}
	}
	s := m.alloc(u, opBook)
	r := &m.reqs[s]
	r.slot, r.part, r.key = us.slot, sl.part, us.key
	if !m.enterGate(s) {
		return
	}
	m.bookAdmitted(s)
}

// notOpen answers user u's booking 503 not_open, sent at ts. The answer
// depends on the time alone, so the journey's retries that also reach the
// server before the opening are answered here in a loop, each through the
// journey and the tally as if it were an event, by the same rules, without
// the event queue.
func (m *modelRun) notOpen(u int32, ts, opens int64) {
	us := &m.users[u]
	now := m.q.now
	if m.ext != nil && m.ext.gw != nil {
		// Each request must pass the gateway: no loop.
		m.reply(u, us.seq, Response{Status: 503, Code: "not_open", RetryAfter: modelRetryAfter(opens - now)}, ts)
		return
	}
	for {
		recv := ts + us.back
		if recv > us.due+m.timeout {
			m.arm(u)
			return
		}
		resp := Response{Status: 503, Code: "not_open", RetryAfter: modelRetryAfter(opens - now)}
		m.requests++
		m.inline++
		m.tally.record(us.op, m.bookPart(u), &resp, recv-us.due, recv)
		at, ok := m.prepare(u, us.j.next(resp, time.Duration(recv-us.arrivedAt)), recv)
		if !ok {
			return
		}
		if us.op != opBook || us.slot < 0 || at > m.end || m.room != nil {
			m.q.schedule(at, evArrive, u, us.seq)
			return
		}
		if opens = m.bookOpens(u); at >= opens {
			m.q.schedule(at, evArrive, u, us.seq)
			return
		}
		now = at
		ts = now + m.front.sample(m.rng)
	}
}

// replay is the person index's answer to a person who holds a booking.
func (m *modelRun) replay(u int32) Response {
	if us := &m.users[u]; us.key == us.bookedKey {
		return Response{Status: 201, BookingID: m.bookingID(u)}
	}
	return Response{Status: 409, Code: "already_booked"}
}

// bookingID returns the id of user u's booking: "m", its partition in base
// 36, "-", the person id (a person holds at most one booking).
func (m *modelRun) bookingID(u int32) string {
	return "m" + strconv.FormatInt(int64(m.users[u].bookedPart), 36) + "-" + m.crowd[u].PersonID
}

// bookAdmitted continues booking s once it holds a turn: take the person's
// lock or wait for it.
func (m *modelRun) bookAdmitted(s int32) {
	r := &m.reqs[s]
	us := &m.users[r.user]
	if us.lock >= 0 {
		r.state = srLockQ
		us.lockQ.pushBack(&m.links, s)
		return
	}
	us.lock = s
	m.bookLocked(s)
}

// bookLocked continues booking s holding the person's lock: check the person
// index again, then queue for the partition's writer.
func (m *modelRun) bookLocked(s int32) {
	r := &m.reqs[s]
	us := &m.users[r.user]
	if us.bookedKey != "" {
		resp := Response{Status: 409, Code: "already_booked"}
		if r.key == us.bookedKey {
			resp = Response{Status: 201, BookingID: m.bookingID(r.user)}
		}
		u, seq := r.user, r.useq
		m.release(s)
		m.reply(u, seq, resp, m.q.now)
		return
	}
	p := &m.parts[r.part]
	r.state = srWriterQ
	p.writerQ.pushBack(&m.links, s)
	if !p.writerBusy {
		m.startBatch(p)
	}
}

// startBatch takes what is queued for p's writer, up to MaxBatch, into one
// group commit. Attempts whose client went away are answered at once and
// skipped, as the reference writer does.
func (m *modelRun) startBatch(p *mpart) {
	p.writerBusy = true
	p.batch = p.batch[:0]
	for p.writerQ.n > 0 && len(p.batch) < m.p.MaxBatch {
		s := p.writerQ.popFront(&m.links)
		r := &m.reqs[s]
		if r.dropped {
			m.release(s)
			m.gatewayLeave(m.q.now)
			continue
		}
		r.state = srBatch
		p.batch = append(p.batch, s)
	}
	if len(p.batch) == 0 {
		p.writerBusy = false
		return
	}
	n := len(p.batch)
	d := float64(m.p.CommitBase) + float64(n)*float64(m.p.CommitPerBooking)
	if m.shapeMean > 0 {
		d *= float64(m.shape.sample(m.rng)) / m.shapeMean
	}
	if m.pfaults != nil {
		// A slow fault delays the store operation (the group commit).
		if _, delay, _ := m.faultOf(p.idx, m.q.now); delay > 0 {
			d += float64(delay)
			p.stats.Faulted++
		}
	}
	p.stats.Batches++
	p.stats.Attempts += int64(n)
	p.stats.BusyNanos += int64(d)
	m.q.schedule(m.q.now+int64(d), evBatchDone, p.idx, 0)
}

// batchDone commits p's batch in order and answers each attempt.
func (m *modelRun) batchDone(pi int32) {
	p := &m.parts[pi]
	for _, s := range p.batch {
		r := &m.reqs[s]
		sl := &m.slots[r.slot]
		us := &m.users[r.user]
		var resp Response
		if sl.remaining > 0 {
			sl.remaining--
			m.views[sl.view].Remaining = int(sl.remaining)
			if sl.remaining == 0 {
				sl.soldOut = true
			}
			p.stats.Committed++
			us.bookedKey, us.bookedPart = r.key, pi
			m.deactivate(r.user)
			resp = Response{Status: 201, BookingID: m.bookingID(r.user)}
		} else {
			sl.soldOut = true
			p.stats.SoldOut++
			resp = Response{Status: 409, Code: "sold_out"}
		}
		u, seq := r.user, r.useq
		m.release(s)
		m.reply(u, seq, resp, m.q.now)
	}
	p.batch = p.batch[:0]
	p.writerBusy = false
	if p.writerQ.n > 0 {
		m.startBatch(p)
	}
}

// alloc returns a fresh server request for user u's current request and
// arms the client's timeout, since the answer will come later.
func (m *modelRun) alloc(u int32, op uint8) int32 {
	var s int32
	if n := len(m.free); n > 0 {
		s = m.free[n-1]
		m.free = m.free[:n-1]
	} else {
		s = int32(len(m.reqs))
		m.reqs = append(m.reqs, sreq{})
		m.links.grow(len(m.reqs))
	}
	us := &m.users[u]
	r := &m.reqs[s]
	gen := r.gen + 1
	*r = sreq{user: u, useq: us.seq, gen: gen, op: op, part: -1, slot: -1}
	us.sreq = s
	m.arm(u)
	return s
}

func (m *modelRun) freeReq(s int32) {
	r := &m.reqs[s]
	if us := &m.users[r.user]; us.sreq == s {
		us.sreq = -1
	}
	r.state = srFree
	r.key = ""
	m.free = append(m.free, s)
}

// enterGate takes a turn of request s's partition. It returns true when s
// holds one now; otherwise s waits (it resumes through ready) or was shed
// with 503 (and freed).
func (m *modelRun) enterGate(s int32) bool {
	r := &m.reqs[s]
	p := &m.parts[r.part]
	if p.gate.servers <= 0 {
		return true
	}
	if p.gate.enter() {
		r.held = true
		return true
	}
	if m.maxQueue > 0 && p.gate.waiting()+1 > m.maxQueue {
		m.shed(s)
		return false
	}
	r.state = srGateQ
	p.gate.wait(&m.links, s)
	if m.maxWait > 0 {
		m.q.scheduleFIFO(ringShed, m.q.now+m.maxWait, evShed, s, r.gen)
	}
	return false
}

// shed answers s 503 overloaded and frees it.
func (m *modelRun) shed(s int32) {
	r := &m.reqs[s]
	p := &m.parts[r.part]
	if r.op == opBook {
		p.stats.Shed++
	} else {
		p.stats.ShedReads++
	}
	u, seq := r.user, r.useq
	m.freeReq(s)
	m.reply(u, seq, Response{Status: 503, Code: "overloaded", RetryAfter: modelRetryAfter(m.shedRetry)}, m.q.now)
}

// shedWaiter sheds s when it still waits for a turn after MaxWait.
func (m *modelRun) shedWaiter(s int32, gen uint32) {
	r := &m.reqs[s]
	if r.gen != gen || r.state != srGateQ {
		return
	}
	m.parts[r.part].gate.cancel(&m.links, s)
	m.shed(s)
}

// leaveGate gives back s's turn; a waiter that gets it resumes through ready.
func (m *modelRun) leaveGate(s int32) {
	r := &m.reqs[s]
	r.held = false
	if next := m.parts[r.part].gate.leave(&m.links); next >= 0 {
		m.reqs[next].held = true
		m.ready = append(m.ready, next)
	}
}

// release ends booking s on the server: give back its turn and the person's
// lock (to the person's next request waiting for it), and free it.
func (m *modelRun) release(s int32) {
	r := &m.reqs[s]
	if r.held {
		m.leaveGate(s)
	}
	us := &m.users[r.user]
	if us.lock == s {
		us.lock = -1
		if next := us.lockQ.popFront(&m.links); next >= 0 {
			us.lock = next
			m.ready = append(m.ready, next)
		}
	}
	m.freeReq(s)
}

// drain resumes the server requests that got a turn or a lock.
func (m *modelRun) drain() {
	for len(m.ready) > 0 {
		s := m.ready[0]
		m.ready = m.ready[1:]
		if len(m.ready) == 0 {
			m.ready = m.ready[:0:cap(m.ready)]
		}
		r := &m.reqs[s]
		switch r.state {
		case srGateQ: // got a turn
			if r.op == opBook {
				m.bookAdmitted(s)
			} else {
				m.startRead(s)
			}
		case srLockQ: // got the person's lock
			m.bookLocked(s)
		}
	}
}

// abandon handles the client of server request s going away.
func (m *modelRun) abandon(s int32) {
	r := &m.reqs[s]
	switch r.state {
	case srGateQ:
		m.parts[r.part].gate.cancel(&m.links, s)
		m.freeReq(s)
		m.gatewayLeave(m.q.now)
	case srLockQ:
		m.users[r.user].lockQ.remove(&m.links, s)
		m.release(s)
		m.gatewayLeave(m.q.now)
	case srWriterQ:
		r.dropped = true
	}
	// Reading or in a group commit: the work goes on and may commit.
}

// nextTick returns the first admission round of the waiting room at or
// after t: the opening, then every interval.
func (m *modelRun) nextTick(t int64) int64 {
	if t <= m.opensAt {
		return m.opensAt
	}
	k := (t - m.opensAt + m.room.interval - 1) / m.room.interval
	return m.opensAt + k*m.room.interval
}

// queueOp answers user u's waiting-room request as the reference server's
// room does: join (a ticket at the back of the queue; the same ticket while
// waiting or admitted; a new place at the back once the admission expired)
// or poll. The answer is "waiting" with the advised polling interval as
// Retry-After, "admitted" with the token, or "expired" (admitted, token
// expired: only joining again helps). The ticket and the token are the
// person id; the model keeps their state.
func (m *modelRun) queueOp(u int32) {
	us := &m.users[u]
	now := m.q.now
	w, refused, ok := m.queueRoom(u)
	if !ok {
		m.reply(u, us.seq, refused, now+m.front.sample(m.rng))
		return
	}
	// The ticket and the token are the person id. A poll carries the
	// ticket the room gave (the journey keeps it in the user's record), so
	// only a join reads the crowd, whose entries are far apart in memory.
	id := us.j.ticket
	if id == "" {
		id = m.crowd[u].PersonID
	}
	if us.join && us.room != roomWaiting && (us.room != roomAdmitted || now >= us.tokenExp) {
		if w.policy.Refuses(int64(len(w.queue) - w.head)) {
			m.reply(u, us.seq, m.queueFull(), now+m.front.sample(m.rng))
			return
		}
		us.room = roomWaiting
		us.qpos = int32(len(w.queue))
		w.queue = append(w.queue, u)
		if !w.ticking {
			w.ticking = true
			m.q.schedule(m.nextTick(now), evRoomTick, us.croom, 0)
		}
	}
	resp := Response{Status: 200, Ticket: id}
	switch {
	case us.room == roomAdmitted && now < us.tokenExp:
		resp.Admitted, resp.Token = true, id
		resp.Date = m.steerDay(us)
	case us.room == roomAdmitted: // expired
	case us.room == roomWaiting:
		resp.RetryAfter = m.pollAdvice(us, now)
	default:
		resp = Response{Status: 404, Code: "not_found"}
	}
	m.reply(u, us.seq, resp, now+m.front.sample(m.rng))
}

// pollAdvice is the polling interval the room advises a waiting person, as
// the reference server computes it: the time until the first round that
// can admit them (the next round, plus a round per AdmitPerInterval people
// ahead; by MaxActive alone, a token lifetime per MaxActive ahead), at
// least one round and at most models.RoomMaxPoll, rounded up to the millisecond.
func (m *modelRun) pollAdvice(us *muser, now int64) time.Duration {
	w := m.roomAt(us.croom)
	var ahead int64
	first := m.nextTick(now + 1)
	switch {
	case w.opened:
		ahead = int64(us.qpos) - int64(w.head)
	case w.policy.Order == models.RoomRandom:
		// Places are drawn at the opening: anyone present may be ahead.
		first, ahead = m.opensAt, int64(len(w.queue)-w.head)-1
	default:
		first, ahead = m.opensAt, int64(us.qpos)-int64(w.head)
	}
	wait := first - now
	if per := w.policy.AdmitPerInterval; per > 0 {
		wait += ahead / int64(per) * w.interval
	} else if c := w.policy.MaxActive; c > 0 {
		wait += ahead / int64(c) * int64(w.policy.TokenTTL)
	}
	return modelRetryAfter(min(max(wait, w.interval), int64(models.RoomMaxPoll)))
}

// roomTick runs an admission round of room id (see roomAt): up to
// AdmitPerInterval people from the head of its queue while fewer than
// MaxActive are active. At the first round, with random order, everyone
// present gets a random place.
func (m *modelRun) roomTick(id int32, moreArrivals bool) {
	w := m.roomAt(id)
	now := m.q.now
	if !w.opened {
		w.opened = true
		if w.policy.Order == models.RoomRandom {
			q := w.queue[w.head:]
			rng := rand.New(rand.NewPCG(m.rng.Uint64(), 0x5eed))
			rng.Shuffle(len(q), func(i, j int) { q[i], q[j] = q[j], q[i] })
			for i, u := range q {
				m.users[u].qpos = int32(w.head + i)
			}
		}
	}
	admit := m.roundSize(id, w)
	for admit > 0 && w.head < len(w.queue) && (w.policy.MaxActive <= 0 || w.active < w.policy.MaxActive) {
		u := w.queue[w.head]
		w.head++
		us := &m.users[u]
		if us.room != roomWaiting || int(us.qpos) != w.head-1 || us.croom != id {
			continue // a stale place: the person joined again later
		}
		admit--
		us.qpos = int32(w.base + int64(w.head) - 1)
		us.room = roomAdmitted
		us.tokenExp = (now + int64(w.policy.TokenTTL)) / int64(time.Millisecond) * int64(time.Millisecond)
		us.active = true
		us.admits++
		w.active++
		m.q.scheduleFIFO(ringToken, us.tokenExp, evTokenEnd, u, us.admits)
	}
	if w.head > 4096 && w.head*2 > len(w.queue) {
		n := copy(w.queue, w.queue[w.head:])
		w.queue = w.queue[:n]
		for i, u := range w.queue {
			if m.users[u].croom == id { // else it queues at another centre now
				m.users[u].qpos = int32(i)
			}
		}
		w.base += int64(w.head)
		w.head = 0
	}
	if w.head < len(w.queue) || moreArrivals {
		m.q.schedule(now+w.interval, evRoomTick, id, 0)
		return
	}
	w.ticking = false
}

// tokenEnd expires user u's admission number admits.
func (m *modelRun) tokenEnd(u int32, admits uint32) {
	if m.users[u].admits == admits {
		m.deactivate(u)
	}
}

// deactivate stops counting user u against MaxActive (booked, or the token
// expired).
func (m *modelRun) deactivate(u int32) {
	if us := &m.users[u]; us.active && m.room != nil {
		us.active = false
		m.roomAt(us.croom).active--
	}
}
