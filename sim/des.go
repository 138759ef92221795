package sim

import "math/bits"

// The discrete-event core of the model engine: a virtual clock, an event set
// ordered by (time, sequence number), and the admission gate every partition
// model is built on. Nothing here knows about bookings; model_engine.go does.
//
// Events are small values (32 bytes), never boxed, so scheduling allocates
// nothing once the structures have grown. The event set is a calendar queue
// (desCalendar: a timing wheel of 1 ms buckets over 4-ary heaps), so its
// cost does not grow with the hundreds of thousands of events a national
// crowd keeps pending. Events whose delay is the same for everyone (client
// timeouts, queue-wait bounds, waiting-room tokens) arrive in the order they
// are scheduled; they go to FIFO rings instead, which is O(1). Ties are
// broken by the sequence number given at scheduling, so a run is a pure
// function of its inputs.

// desEvent is one scheduled event: at virtual time at (nanoseconds), of a
// kind, about an id (a user, a server request or a partition) with an
// auxiliary number (a generation or request number for staleness checks).
type desEvent struct {
	at   int64
	seq  uint64
	id   int32
	aux  uint32
	kind uint8
}

// before orders events by time, then by scheduling order.
func (e *desEvent) before(f *desEvent) bool {
	return e.at < f.at || (e.at == f.at && e.seq < f.seq)
}

// desHeap is a 4-ary min-heap of events: shallower than a binary heap, and
// a node's children share a cache line or two.
type desHeap struct{ ev []desEvent }

func (h *desHeap) len() int { return len(h.ev) }

func (h *desHeap) push(e desEvent) {
	h.ev = append(h.ev, e)
	ev := h.ev
	i := len(ev) - 1
	for i > 0 {
		p := (i - 1) / 4
		if !e.before(&ev[p]) {
			break
		}
		ev[i] = ev[p]
		i = p
	}
	ev[i] = e
}

// pop removes and returns the earliest event; the heap must not be empty.
func (h *desHeap) pop() desEvent {
	ev := h.ev
	top := ev[0]
	n := len(ev) - 1
	last := ev[n]
	h.ev = ev[:n]
	if n == 0 {
		return top
	}
	ev = ev[:n]
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		m := c
		end := min(c+4, n)
		for k := c + 1; k < end; k++ {
			if ev[k].before(&ev[m]) {
				m = k
			}
		}
		if !ev[m].before(&last) {
			break
		}
		ev[i] = ev[m]
		i = m
	}
	ev[i] = last
	return top
}

// desCalendar is the event set: a calendar queue (a timing wheel of
// buckets 2^calShift ns wide, 2^calBits of them) in front of two heaps.
// Events of the bucket being served, or earlier, are in the small heap near;
// events of the next buckets within the wheel's horizon are appended,
// unsorted, to their bucket; events beyond it wait in the heap far and move
// into the wheel as it turns. Each event is thus sorted only among the few
// of its own bucket, so scheduling and popping cost about O(1) however many
// events are pending, where one big heap pays O(log n) cache misses.
type desCalendar struct {
	near, far desHeap
	buckets   [][]desEvent
	bitmap    []uint64 // bit k%calSize set: bucket k holds events
	cur       int64    // the bucket being served (at >> calShift)
	inWheel   int
	// turned holds the events of the bucket advance last moved into near,
	// until the owner reads it (see desQueue.turned).
	turned []desEvent
	// spare holds emptied bucket arrays too big to stay with their bucket,
	// for buckets that fill next: a storm reuses them instead of making a
	// garbage collector's worth of new ones.
	spare [][]desEvent
}

const (
	calShift  = 20 // buckets of 1.05 ms
	calBits   = 17 // 131,072 buckets: a horizon of 137 s, beyond a minute's backoff
	calSize   = 1 << calBits
	calKeep   = 16   // bucket capacity kept after a bucket is served
	calSpares = 1024 // big bucket arrays kept for reuse
)

func (c *desCalendar) len() int { return c.near.len() + c.far.len() + c.inWheel }

func (c *desCalendar) push(e desEvent) {
	k := e.at >> calShift
	switch {
	case k <= c.cur:
		c.near.push(e)
	case k < c.cur+calSize:
		if c.buckets == nil {
			c.buckets = make([][]desEvent, calSize)
			c.bitmap = make([]uint64, calSize/64)
		}
		i := k & (calSize - 1)
		if c.buckets[i] == nil && len(c.spare) > 0 {
			c.buckets[i] = c.spare[len(c.spare)-1]
			c.spare[len(c.spare)-1] = nil
			c.spare = c.spare[:len(c.spare)-1]
		}
		c.buckets[i] = append(c.buckets[i], e)
		c.bitmap[i>>6] |= 1 << (i & 63)
		c.inWheel++
	default:
		c.far.push(e)
	}
}

// min returns the earliest event, or nil. It may turn the wheel.
func (c *desCalendar) min() *desEvent {
	if c.near.len() == 0 && !c.advance() {
		return nil
	}
	return &c.near.ev[0]
}

// pop removes the earliest event; min must have returned one.
func (c *desCalendar) pop() desEvent { return c.near.pop() }

// advance turns the wheel to the next bucket holding events, moving them
// into near, and reports whether there was one.
func (c *desCalendar) advance() bool {
	next := int64(-1)
	if c.inWheel > 0 {
		next = c.nextBucket()
	} else if c.far.len() > 0 {
		next = c.far.ev[0].at >> calShift
	}
	if next < 0 {
		return false
	}
	c.cur = next
	if c.inWheel > 0 {
		i := next & (calSize - 1)
		b := c.buckets[i]
		for _, e := range b {
			c.near.push(e)
		}
		c.turned = b
		c.inWheel -= len(b)
		// Keep small buckets' arrays; pass big ones on to the next buckets
		// that fill (a few: more would hold a storm's peak for the whole
		// run), or a storm would leave every bucket of the wheel holding
		// its peak.
		if cap(b) <= calKeep {
			c.buckets[i] = b[:0]
		} else {
			c.buckets[i] = nil
			if len(c.spare) < calSpares {
				c.spare = append(c.spare, b[:0])
			}
		}
		c.bitmap[i>>6] &^= 1 << (i & 63)
	}
	// Far events now within the horizon join the wheel (or near).
	for c.far.len() > 0 && c.far.ev[0].at>>calShift < c.cur+calSize {
		c.push(c.far.pop())
	}
	return c.near.len() > 0
}

// nextBucket returns the first bucket after cur holding events; the wheel
// must hold some.
func (c *desCalendar) nextBucket() int64 {
	start := (c.cur + 1) & (calSize - 1)
	w := start >> 6
	word := c.bitmap[w] &^ (1<<(start&63) - 1)
	for n := 0; ; n++ {
		if word != 0 {
			i := w<<6 + int64(bits.TrailingZeros64(word))
			// Distance from start, modulo the wheel.
			return c.cur + 1 + (i-start+calSize)&(calSize-1)
		}
		w = (w + 1) & (calSize/64 - 1)
		word = c.bitmap[w]
	}
}

// desRing is a FIFO of events pushed in non-decreasing time order.
type desRing struct {
	buf  []desEvent
	head int
	n    int
	last int64
}

func (r *desRing) push(e desEvent) {
	if r.n == len(r.buf) {
		nb := make([]desEvent, max(64, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = e
	r.n++
	r.last = e.at
}

func (r *desRing) peek() *desEvent { return &r.buf[r.head] }

func (r *desRing) pop() desEvent {
	e := r.buf[r.head]
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return e
}

// desRings is the number of FIFO rings of a desQueue.
const desRings = 3

// desQueue is the event set and the clock of one simulation. Not safe for
// concurrent use: one simulation runs on one goroutine.
type desQueue struct {
	now   int64
	seq   uint64
	heap  desCalendar
	rings [desRings]desRing
	// popped counts the events taken out.
	popped uint64
}

// schedule adds an event at time at (never before now).
func (q *desQueue) schedule(at int64, kind uint8, id int32, aux uint32) {
	q.seq++
	q.heap.push(desEvent{at: max(at, q.now), seq: q.seq, id: id, aux: aux, kind: kind})
}

// scheduleFIFO adds an event to ring r. Events of one ring must be pushed in
// non-decreasing time; one that is not goes to the heap instead, so order is
// always right.
func (q *desQueue) scheduleFIFO(r int, at int64, kind uint8, id int32, aux uint32) {
	at = max(at, q.now)
	ring := &q.rings[r]
	if ring.n > 0 && at < ring.last {
		q.schedule(at, kind, id, aux)
		return
	}
	q.seq++
	ring.push(desEvent{at: at, seq: q.seq, id: id, aux: aux, kind: kind})
}

// peekSrc returns the earliest pending event (nil when none is left) and
// where it is, for popFrom: a ring's index, or -1 for the heap.
func (q *desQueue) peekSrc() (*desEvent, int) {
	src := -1
	best := q.heap.min()
	for i := range q.rings {
		if r := &q.rings[i]; r.n > 0 {
			if e := r.peek(); best == nil || e.before(best) {
				best, src = e, i
			}
		}
	}
	return best, src
}

// popFrom removes the event peekSrc just returned from src, with nothing
// scheduled since, and advances the clock to it.
func (q *desQueue) popFrom(src int) desEvent {
	var e desEvent
	if src < 0 {
		e = q.heap.pop()
	} else {
		e = q.rings[src].pop()
	}
	q.now = e.at
	q.popped++
	return e
}

// pop removes the earliest pending event and advances the clock to it. It
// reports false when no event is left.
func (q *desQueue) pop() (desEvent, bool) {
	e, src := q.peekSrc()
	if e == nil {
		return desEvent{}, false
	}
	return q.popFrom(src), true
}

// turned returns the events the last turn of the wheel brought near, once,
// then nil until the wheel turns again. It is a hint, never the event set:
// the events are already in near, and the array may since hold events
// pushed into a bucket that reused it. The engine uses it to fetch the
// memory those events will need, all at once, before it handles them one
// by one.
func (q *desQueue) turned() []desEvent {
	t := q.heap.turned
	q.heap.turned = nil
	return t
}

// pending returns the number of events not yet taken out.
func (q *desQueue) pending() int {
	n := q.heap.len()
	for i := range q.rings {
		n += q.rings[i].n
	}
	return n
}

// desLinks holds the links of intrusive doubly linked lists of int32 ids
// (an id is in at most one list at a time). -1 ends a list.
type desLinks struct{ prev, next []int32 }

// grow makes room for ids below n.
func (l *desLinks) grow(n int) {
	for len(l.prev) < n {
		l.prev = append(l.prev, -1)
		l.next = append(l.next, -1)
	}
}

// desList is a FIFO of ids linked through a desLinks.
type desList struct {
	head, tail int32
	n          int32
}

func newDesList() desList { return desList{head: -1, tail: -1} }

func (q *desList) pushBack(l *desLinks, id int32) {
	l.prev[id], l.next[id] = q.tail, -1
	if q.tail >= 0 {
		l.next[q.tail] = id
	} else {
		q.head = id
	}
	q.tail = id
	q.n++
}

func (q *desList) remove(l *desLinks, id int32) {
	p, n := l.prev[id], l.next[id]
	if p >= 0 {
		l.next[p] = n
	} else {
		q.head = n
	}
	if n >= 0 {
		l.prev[n] = p
	} else {
		q.tail = p
	}
	l.prev[id], l.next[id] = -1, -1
	q.n--
}

func (q *desList) popFront(l *desLinks) int32 {
	id := q.head
	if id >= 0 {
		q.remove(l, id)
	}
	return id
}

// desGate is a multi-server FIFO station whose service the caller controls:
// up to servers ids hold a turn at once (0: unbounded), the others wait in
// arrival order. It is the partition's in-flight bound (MaxInFlight) of the
// reference server: a request takes a turn with enter or waits for one, and
// gives it back with leave, which hands it to the longest waiter. Waiters may
// be removed (shed after MaxWait, or abandoned by their client). Queue
// bounds (MaxQueue) are the caller's policy: waiting counts the waiters.
type desGate struct {
	servers int32
	busy    int32
	q       desList
}

func newDesGate(servers int) desGate { return desGate{servers: int32(servers), q: newDesList()} }

// enter takes a turn when one is free and reports whether it did.
func (g *desGate) enter() bool {
	if g.servers <= 0 {
		return true
	}
	if g.busy < g.servers {
		g.busy++
		return true
	}
	return false
}

// wait queues id for a turn.
func (g *desGate) wait(l *desLinks, id int32) { g.q.pushBack(l, id) }

// waiting returns the number of waiters.
func (g *desGate) waiting() int { return int(g.q.n) }

// cancel removes waiter id.
func (g *desGate) cancel(l *desLinks, id int32) { g.q.remove(l, id) }

// leave gives a turn back. When someone waits, the turn passes to the
// longest waiter, whose id it returns; else it returns -1.
func (g *desGate) leave(l *desLinks) int32 {
	if g.servers <= 0 {
		return -1
	}
	if id := g.q.popFront(l); id >= 0 {
		return id // the turn passes on: busy is unchanged
	}
	g.busy--
	return -1
}
