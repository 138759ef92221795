package sim

import (
	"cmp"
	"math"
	"math/bits"
	"slices"
)

// The discrete-event core of the model engine: a virtual clock, an event set
// ordered by (time, sequence number), and the admission gate every partition
// model is built on. Nothing here knows about bookings; model_engine.go does.
//
// Events are small values (32 bytes), never boxed, so scheduling allocates
// nothing once the structures have grown. The event set is a calendar queue
// (desCalendar: a wheel of 67 ms buckets, each spread over 1 ms buckets
// when its turn comes, each sorted as it is served, over 4-ary heaps), so
// its cost does not grow with the hundreds of thousands of events a
// national crowd keeps pending. Events whose delay is the same for everyone (client
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

// compareEvents orders events as before does, for slices.SortFunc.
func compareEvents(e, f desEvent) int {
	if e.at != f.at {
		return cmp.Compare(e.at, f.at)
	}
	return cmp.Compare(e.seq, f.seq)
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
	var e desEvent
	h.popInto(&e)
	return e
}

// popInto removes the earliest event into *top; the heap must not be
// empty.
func (h *desHeap) popInto(top *desEvent) {
	ev := h.ev
	*top = ev[0]
	n := len(ev) - 1
	last := ev[n]
	h.ev = ev[:n]
	if n == 0 {
		return
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
}

// desCalendar is the event set: a two-level calendar queue in front of two
// heaps. The wheel has calSize coarse buckets, each 2^(calShift+calFineBits)
// ns wide (67 ms), whose events are stored unsorted in chunks; the coarse
// bucket being served is spread over calFine fine buckets of 2^calShift ns
// (1.05 ms), unsorted too. The fine bucket being served is sorted once, as
// it turns, into run, which pops in order; events scheduled into it or
// earlier after that go to the small heap near; events beyond the wheel's
// horizon wait in the heap far and move into the wheel as it turns. Each
// event is thus sorted only among the few of its own fine bucket, so
// scheduling and popping cost about O(1) however many events are pending;
// and the wheel's bookkeeping (a 24-byte list head per coarse bucket, the
// open chunk of each) stays small enough to stay in the processor's caches, where one
// wheel of fine buckets over the whole horizon would cost a cache miss on
// nearly every push.
type desCalendar struct {
	near, far desHeap
	// run holds the events of fine bucket cur as turnFine sorted them,
	// those from runAt on still pending; near holds the events pushed at
	// or before cur since.
	run   []desEvent
	runAt int
	// fine holds the fine buckets of the coarse bucket curC (index: the
	// fine bucket's number modulo calFine); fineBits has bit i set when
	// fine[i] holds events.
	fine     [calFine][]desEvent
	fineBits uint64
	// coarse holds the coarse buckets after curC within the horizon (index:
	// the number modulo calSize); coarseBits has bit i%64 of word i/64 set
	// when coarse[i] holds events.
	coarse     []desChunkList
	coarseBits []uint64
	free       *desChunk // emptied chunks, for the buckets that fill next
	cur        int64     // the fine bucket being served (at >> calShift)
	curC       int64     // the coarse bucket being served
	inFine     int
	inCoarse   int
	// turned holds the events of the fine bucket advance last moved into
	// run, until the owner reads it (see desQueue.turned).
	turned []desEvent
}

const (
	calShift    = 20 // fine buckets of 1.05 ms
	calFineBits = 6  // 64 fine buckets to a coarse bucket of 67 ms
	calFine     = 1 << calFineBits
	calBits     = 11 // 2,048 coarse buckets: a horizon of 137 s, beyond a minute's backoff
	calSize     = 1 << calBits
	calChunk    = 128 // events per chunk of a coarse bucket
)

// desChunk is a block of a coarse bucket's events; full chunks are linked
// from the bucket's first to its last, which is being filled.
type desChunk struct {
	ev   [calChunk]desEvent
	next *desChunk
}

// desChunkList is a coarse bucket: its chunks, first to last, and the
// events in the last (kept here, not in the chunk, so that a push reads
// no line of the chunk but the one it writes).
type desChunkList struct {
	head, tail *desChunk
	n          int
}

func (c *desCalendar) len() int {
	return c.near.len() + len(c.run) - c.runAt + c.far.len() + c.inFine + c.inCoarse
}

func (c *desCalendar) push(e desEvent) {
	k := e.at >> calShift
	switch kc := k >> calFineBits; {
	case k <= c.cur:
		c.near.push(e)
	case kc == c.curC:
		i := k & (calFine - 1)
		c.fine[i] = append(c.fine[i], e)
		c.fineBits |= 1 << i
		c.inFine++
	case kc < c.curC+calSize:
		c.pushCoarse(kc, e)
	default:
		c.far.push(e)
	}
}

// pushCoarse appends e to coarse bucket kc, within the horizon.
func (c *desCalendar) pushCoarse(kc int64, e desEvent) {
	if c.coarse == nil {
		c.coarse = make([]desChunkList, calSize)
		c.coarseBits = make([]uint64, calSize/64)
	}
	i := kc & (calSize - 1)
	l := &c.coarse[i]
	if l.tail == nil || l.n == calChunk {
		ch := c.free
		if ch != nil {
			c.free = ch.next
			ch.next = nil
		} else {
			ch = new(desChunk)
		}
		if l.tail == nil {
			l.head = ch
			c.coarseBits[i>>6] |= 1 << (i & 63)
		} else {
			l.tail.next = ch
		}
		l.tail, l.n = ch, 0
	}
	l.tail.ev[l.n] = e
	l.n++
	c.inCoarse++
}

// min returns the earliest event, or nil when none is at or before until
// (it may return a later one). It turns the wheel, but never to a bucket
// that starts after until: events the caller then schedules between until
// and that bucket still go to their own buckets, not to near. A caller that
// moves the clock only forward from until on (the model's crowd arrivals)
// thus keeps run and near down to a bucket's events.
func (c *desCalendar) min(until int64) *desEvent {
	if c.runAt == len(c.run) && c.near.len() == 0 && !c.advance(until) {
		return nil
	}
	if c.fromRun() {
		return &c.run[c.runAt]
	}
	return &c.near.ev[0]
}

// fromRun reports whether the earliest event is run's next rather than
// near's; one of them must hold events.
func (c *desCalendar) fromRun() bool {
	return c.runAt < len(c.run) && (c.near.len() == 0 || c.run[c.runAt].before(&c.near.ev[0]))
}

// popInto removes the earliest event into *e; min must have returned one.
func (c *desCalendar) popInto(e *desEvent) {
	if c.fromRun() {
		*e = c.run[c.runAt]
		c.runAt++
		return
	}
	c.near.popInto(e)
}

// advance turns the wheel until run holds events: to the next fine bucket
// holding events, else to the next coarse bucket, as long as that bucket
// starts at or before until. It reports whether run holds events. Call
// with run and near empty.
func (c *desCalendar) advance(until int64) bool {
	for c.runAt == len(c.run) && c.near.len() == 0 {
		if c.fineBits != 0 {
			i := int64(bits.TrailingZeros64(c.fineBits))
			if (c.curC<<calFineBits|i)<<calShift > until {
				return false
			}
			c.turnFine(i)
			continue
		}
		if !c.turnCoarse(until) {
			return false
		}
	}
	return true
}

// turnFine sorts fine bucket i, the first holding events, into run and
// serves it. Every fine bucket holding events is after cur.
func (c *desCalendar) turnFine(i int64) {
	c.cur = c.curC<<calFineBits | i
	b := c.fine[i]
	sortEvents(b)
	c.run, c.runAt = b, 0
	c.turned = b
	c.inFine -= len(b)
	// The array is fine[i]'s again once run is spent: no push reaches
	// fine bucket i before the next coarse bucket, which comes after.
	c.fine[i] = b[:0]
	c.fineBits &^= 1 << i
}

// sortEvents sorts b, the events of one fine bucket, by desEvent.before.
// A fine bucket is mostly short, or in order already; a longer one is
// sorted by a quicksort written for events, whose comparisons inline,
// unlike those of slices.SortFunc.
func sortEvents(b []desEvent) {
	for k := 1; k < len(b); k++ {
		if b[k].before(&b[k-1]) {
			quickSortEvents(b, 2*bits.Len(uint(len(b))))
			return
		}
	}
}

// quickSortEvents sorts b, falling back on slices.SortFunc after depth
// levels of partitioning, which bounds the work by n log n whatever the
// order. Events are all distinct: (time, sequence number) is unique.
func quickSortEvents(b []desEvent, depth int) {
	for len(b) > 24 {
		if depth == 0 {
			slices.SortFunc(b, compareEvents)
			return
		}
		depth--
		// Hoare's partition around the median of the first, middle and
		// last events: b[:j+1] before the pivot or it, b[j+1:] after.
		lo, mid, hi := 0, len(b)/2, len(b)-1
		if b[mid].before(&b[lo]) {
			b[mid], b[lo] = b[lo], b[mid]
		}
		if b[hi].before(&b[mid]) {
			b[hi], b[mid] = b[mid], b[hi]
			if b[mid].before(&b[lo]) {
				b[mid], b[lo] = b[lo], b[mid]
			}
		}
		pivot := b[mid]
		i, j := -1, len(b)
		for {
			i++
			for b[i].before(&pivot) {
				i++
			}
			j--
			for pivot.before(&b[j]) {
				j--
			}
			if i >= j {
				break
			}
			b[i], b[j] = b[j], b[i]
		}
		// Recurse into the shorter side, loop on the longer.
		if j+1 < len(b)-j-1 {
			quickSortEvents(b[:j+1], depth)
			b = b[j+1:]
		} else {
			quickSortEvents(b[j+1:], depth)
			b = b[:j+1]
		}
	}
	for i := 1; i < len(b); i++ {
		e := b[i]
		j := i
		for ; j > 0 && e.before(&b[j-1]); j-- {
			b[j] = b[j-1]
		}
		b[j] = e
	}
}

// turnCoarse makes the next coarse bucket holding events (in the wheel, or
// when the wheel is empty the far heap's first) the one being served: it
// spreads the bucket's events over the fine buckets and moves far events
// now within the horizon into the wheel. It reports false when the wheel
// and far are empty, or that bucket starts after until. Call with the fine
// buckets empty.
func (c *desCalendar) turnCoarse(until int64) bool {
	var next int64
	switch {
	case c.inCoarse > 0:
		next = c.nextCoarse()
	case c.far.len() > 0:
		next = c.far.ev[0].at >> (calShift + calFineBits)
	default:
		return false
	}
	if next<<(calShift+calFineBits) > until {
		return false
	}
	// Before the bucket's first fine bucket: its events all go to fine.
	c.curC, c.cur = next, next<<calFineBits-1
	if c.inCoarse > 0 {
		i := next & (calSize - 1)
		l := &c.coarse[i]
		for ch := l.head; ch != nil; {
			n := calChunk
			if ch == l.tail {
				n = l.n
			}
			for _, e := range ch.ev[:n] {
				f := (e.at >> calShift) & (calFine - 1)
				c.fine[f] = append(c.fine[f], e)
				c.fineBits |= 1 << f
			}
			c.inFine += n
			c.inCoarse -= n
			nx := ch.next
			ch.next = c.free
			c.free = ch
			ch = nx
		}
		*l = desChunkList{}
		c.coarseBits[i>>6] &^= 1 << (i & 63)
	}
	// Far events now within the horizon join the wheel.
	for c.far.len() > 0 && c.far.ev[0].at>>(calShift+calFineBits) < c.curC+calSize {
		c.push(c.far.pop())
	}
	return true
}

// nextCoarse returns the first coarse bucket after curC holding events; the
// wheel must hold some.
func (c *desCalendar) nextCoarse() int64 {
	start := (c.curC + 1) & (calSize - 1)
	w := start >> 6
	word := c.coarseBits[w] &^ (1<<(start&63) - 1)
	for {
		if word != 0 {
			i := w<<6 + int64(bits.TrailingZeros64(word))
			// Distance from start, modulo the wheel.
			return c.curC + 1 + (i-start+calSize)&(calSize-1)
		}
		w = (w + 1) & (calSize/64 - 1)
		word = c.coarseBits[w]
	}
}

// desRing is a FIFO of events pushed in non-decreasing time order. Its
// buffer's length is a power of two, so that positions wrap with a mask.
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
			nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = e
	r.n++
	r.last = e.at
}

func (r *desRing) peek() *desEvent { return &r.buf[r.head] }

// popInto removes the first event into *e.
func (r *desRing) popInto(e *desEvent) {
	*e = r.buf[r.head]
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
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
	// last is the event popFrom took out last. Events move into it as a
	// whole: returned by value through calls, one would be written field
	// by field and read back in wider loads, which stall the processor.
	last desEvent
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
func (q *desQueue) peekSrc() (*desEvent, int) { return q.peekUntil(math.MaxInt64) }

// peekUntil is peekSrc for a caller that will move the clock to until
// itself when no event comes first: it returns nil when no event is at or
// before until, and turns the calendar's wheel no further (see
// desCalendar.min).
func (q *desQueue) peekUntil(until int64) (*desEvent, int) {
	src := -1
	best := q.heap.min(until)
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
// scheduled since, advances the clock to it and returns it (in q.last,
// until the next popFrom).
func (q *desQueue) popFrom(src int) *desEvent {
	if src < 0 {
		q.heap.popInto(&q.last)
	} else {
		q.rings[src].popInto(&q.last)
	}
	q.now = q.last.at
	q.popped++
	return &q.last
}

// pop removes the earliest pending event and advances the clock to it. It
// reports false when no event is left.
func (q *desQueue) pop() (desEvent, bool) {
	e, src := q.peekSrc()
	if e == nil {
		return desEvent{}, false
	}
	return *q.popFrom(src), true
}

// turned returns the events the last turn of the wheel brought near (into
// run), once, then nil until the wheel turns again. It is a hint, never
// the event set: the events are already in run, and the array may since
// hold events pushed into a bucket that reused it. The engine uses it to fetch the
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
