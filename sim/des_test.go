package sim

import (
	"cmp"
	"container/heap"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// erlangC returns the probability that an arrival waits in an M/M/c queue
// with offered load a = λ/μ (Erlang's C formula).
func erlangC(c int, a float64) float64 {
	// Erlang B by the stable recursion, then C from B.
	b := 1.0
	for k := 1; k <= c; k++ {
		b = a * b / (float64(k) + a*b)
	}
	rho := a / float64(c)
	return b / (1 - rho + rho*b)
}

// mmcResult is what simulateMMc measured.
type mmcResult struct {
	meanWait    float64 // mean time in queue
	meanSojourn float64 // mean time in system
	utilisation float64 // busy server time / (c × horizon)
	meanInSys   float64 // time-average number in system
	throughput  float64 // departures per unit time
}

// simulateMMc drives the engine's queue primitives (desQueue and desGate)
// as an M/M/c queue: n Poisson arrivals of rate lambda, exponential service
// of rate mu, c servers, FIFO. The first warm customers are left out of the
// waiting-time means; the time averages cover the whole run, which starts
// and ends empty.
func simulateMMc(n, warm, c int, lambda, mu float64, seed uint64) mmcResult {
	const (
		evArr = 1
		evDep = 2
	)
	rng := rand.New(rand.NewPCG(seed, 0xdecade))
	var q desQueue
	g := newDesGate(c)
	var links desLinks
	links.grow(n)
	arrivedAt := make([]float64, n)
	// Times are float seconds scaled to integer nanoseconds for the queue.
	toNs := func(s float64) int64 { return int64(s * 1e9) }
	next := 0
	t := 0.0
	scheduleArrival := func() {
		if next < n {
			t += rng.ExpFloat64() / lambda
			q.schedule(toNs(t), evArr, int32(next), 0)
			next++
		}
	}
	startService := func(id int32) {
		q.schedule(q.now+toNs(rng.ExpFloat64()/mu), evDep, id, 0)
	}
	scheduleArrival()
	var sumWait, sumSojourn float64
	var counted int
	var inSys, busy int
	var areaInSys, areaBusy float64
	last := int64(0)
	admitted := make([]float64, n)
	for {
		e, ok := q.pop()
		if !ok {
			break
		}
		dt := float64(e.at-last) / 1e9
		areaInSys += dt * float64(inSys)
		areaBusy += dt * float64(busy)
		last = e.at
		now := float64(e.at) / 1e9
		switch e.kind {
		case evArr:
			arrivedAt[e.id] = now
			inSys++
			if g.enter() {
				busy++
				admitted[e.id] = now
				startService(e.id)
			} else {
				g.wait(&links, e.id)
			}
			scheduleArrival()
		case evDep:
			inSys--
			if int(e.id) >= warm {
				sumWait += admitted[e.id] - arrivedAt[e.id]
				sumSojourn += now - arrivedAt[e.id]
				counted++
			}
			if nx := g.leave(&links); nx >= 0 {
				admitted[nx] = now
				startService(nx)
			} else {
				busy--
			}
		}
	}
	horizon := float64(last) / 1e9
	return mmcResult{
		meanWait:    sumWait / float64(counted),
		meanSojourn: sumSojourn / float64(counted),
		utilisation: areaBusy / (float64(c) * horizon),
		meanInSys:   areaInSys / horizon,
		throughput:  float64(n) / horizon,
	}
}

// TestQueueClosedForms checks the engine's queue against queueing theory:
// M/M/1 and M/M/c mean waiting time (Erlang C) and utilisation within 3%,
// and Little's law L = λW on the simulation's own output within 1%.
func TestQueueClosedForms(t *testing.T) {
	t.Parallel()
	// A million customers a queue: enough for the means to settle within
	// 3% at these loads (the seeds are fixed, so the test is not flaky).
	const n = 1_000_000
	for _, tt := range []struct {
		name       string
		c          int
		lambda, mu float64
		seed       uint64
	}{
		{"M/M/1 rho=0.5", 1, 0.5, 1, 1},
		{"M/M/1 rho=0.8", 1, 0.8, 1, 2},
		{"M/M/4 rho=0.75", 4, 3, 1, 3},
		{"M/M/16 rho=0.9", 16, 14.4, 1, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := simulateMMc(n, n/100, tt.c, tt.lambda, tt.mu, tt.seed)
			a := tt.lambda / tt.mu
			rho := a / float64(tt.c)
			wantWait := erlangC(tt.c, a) / (float64(tt.c)*tt.mu - tt.lambda)
			t.Logf("%s: Wq %.4f (Erlang C %.4f, %+.2f%%), utilisation %.4f (%.4f, %+.2f%%), L %.4f, λW %.4f",
				tt.name, got.meanWait, wantWait, 100*(got.meanWait/wantWait-1), got.utilisation, rho, 100*(got.utilisation/rho-1),
				got.meanInSys, got.throughput*got.meanSojourn)
			if rel := math.Abs(got.meanWait/wantWait - 1); rel > 0.03 {
				t.Errorf("mean wait = %.4f; want %.4f ± 3%% (off by %.1f%%)", got.meanWait, wantWait, 100*rel)
			}
			if rel := math.Abs(got.utilisation/rho - 1); rel > 0.03 {
				t.Errorf("utilisation = %.4f; want %.4f ± 3%%", got.utilisation, rho)
			}
			if lw := got.throughput * got.meanSojourn; math.Abs(got.meanInSys/lw-1) > 0.01 {
				t.Errorf("Little's law: L = %.4f; λW = %.4f", got.meanInSys, lw)
			}
		})
	}
}

func TestErlangC(t *testing.T) {
	t.Parallel()
	// M/M/1: P(wait) = rho. Textbook M/M/2 with a = 1: C = 1/3.
	if got := erlangC(1, 0.7); math.Abs(got-0.7) > 1e-12 {
		t.Errorf("erlangC(1, 0.7) = %v; want 0.7", got)
	}
	if got := erlangC(2, 1); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("erlangC(2, 1) = %v; want 1/3", got)
	}
}

// TestQueueOrder checks that events come out by time, ties in scheduling
// order, whether they sit in the heap or a FIFO ring.
func TestQueueOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 7))
	var q desQueue
	type item struct {
		at  int64
		seq int
	}
	var want []item
	var ringAt [desRings]int64 // the last time pushed to each ring
	for i := range 20000 {
		var at int64
		if i%3 == 0 {
			// Every ring in turn; now and then an event earlier than its
			// ring's last, which must go to the heap and still come out
			// in order.
			r := (i / 3) % desRings
			if ringAt[r] > 5 && rng.IntN(8) == 0 {
				at = ringAt[r] - 1 - int64(rng.IntN(5))
			} else {
				ringAt[r] += int64(rng.IntN(5))
				at = ringAt[r]
			}
			q.scheduleFIFO(r, at, 1, int32(i), 0)
		} else {
			at = int64(rng.IntN(20000))
			q.schedule(at, 1, int32(i), 0)
		}
		want = append(want, item{at, i})
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].at < want[j].at })
	for i, w := range want {
		e, ok := q.pop()
		if !ok {
			t.Fatalf("queue empty after %d events; want %d", i, len(want))
		}
		if e.at != w.at || int(e.id) != w.seq {
			t.Fatalf("event %d = (at %d, id %d); want (at %d, id %d)", i, e.at, e.id, w.at, w.seq)
		}
		if q.now != e.at {
			t.Fatalf("clock %d after popping an event at %d", q.now, e.at)
		}
	}
	if _, ok := q.pop(); ok {
		t.Error("queue not empty at the end")
	}
}

// TestGateFIFO checks the in-flight bound: turns pass to the longest waiter,
// removed waiters never get one.
func TestGateFIFO(t *testing.T) {
	t.Parallel()
	var l desLinks
	l.grow(10)
	g := newDesGate(2)
	for id := int32(0); id < 2; id++ {
		if !g.enter() {
			t.Fatalf("enter %d: no turn with a free server", id)
		}
	}
	if g.enter() {
		t.Fatal("enter with every server busy succeeded")
	}
	for id := int32(2); id < 6; id++ {
		g.wait(&l, id)
	}
	g.cancel(&l, 3)
	if g.waiting() != 3 {
		t.Fatalf("waiting = %d; want 3", g.waiting())
	}
	var got []int32
	for range 5 {
		got = append(got, g.leave(&l))
	}
	want := []int32{2, 4, 5, -1, -1}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("leave order = %v; want %v", got, want)
		}
	}
	if g.busy != 0 {
		t.Errorf("busy = %d after everyone left; want 0", g.busy)
	}
}

// TestCalendarOrder interleaves scheduling and popping over times that
// span the calendar's near heap, its wheel and its far heap, and checks the
// order against container/heap.
func TestCalendarOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(11, 13))
	var q desQueue
	ref := &refHeap{}
	var seq uint64
	spans := []int64{1_000, 1 << calShift, 1 << (calShift + calFineBits), 1 << (calShift + calFineBits + calBits), 1 << (calShift + calFineBits + calBits + 3)}
	for step := 0; step < 300_000; step++ {
		if rng.IntN(3) > 0 || ref.Len() == 0 {
			at := q.now + rng.Int64N(spans[rng.IntN(len(spans))])
			q.schedule(at, 1, 0, 0)
			seq++
			heap.Push(ref, desEvent{at: at, seq: seq})
			continue
		}
		want := heap.Pop(ref).(desEvent)
		e, ok := q.pop()
		if !ok {
			t.Fatalf("step %d: queue empty with %d pending", step, ref.Len()+1)
		}
		if e.at != want.at || e.seq != want.seq {
			t.Fatalf("step %d: popped (%d, %d); want (%d, %d)", step, e.at, e.seq, want.at, want.seq)
		}
	}
	if q.pending() != ref.Len() {
		t.Errorf("pending() = %d; want %d", q.pending(), ref.Len())
	}
}

// TestCalendarUntil drives the queue as the model's run loop does, with
// outside arrivals (the crowd's) that move the clock between events, each
// scheduling an event 1 s to a minute ahead or, one in eight, within a
// millisecond: peeking
// no further than the next arrival keeps the order, and keeps the near
// heap down to about a bucket's events however far ahead the next event is.
func TestCalendarUntil(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 7))
	var q desQueue
	ref := &refHeap{}
	var seq uint64
	var arrival int64
	maxNear := 0
	for step := 0; step < 200_000; step++ {
		e, src := q.peekUntil(arrival)
		if e == nil || arrival <= e.at {
			q.now = arrival
			d := 1e9 + rng.Int64N(60e9)
			if rng.IntN(8) == 0 {
				d = rng.Int64N(1e6)
			}
			q.schedule(arrival+d, 1, 0, 0)
			seq++
			heap.Push(ref, desEvent{at: arrival + d, seq: seq})
			// The events of turned buckets: sorted (run) or pushed since.
			maxNear = max(maxNear, len(q.heap.run)-q.heap.runAt+q.heap.near.len())
			arrival += rng.Int64N(2e6)
			continue
		}
		want := heap.Pop(ref).(desEvent)
		if got := q.popFrom(src); got.at != want.at || got.seq != want.seq {
			t.Fatalf("step %d: popped (%d, %d); want (%d, %d)", step, got.at, got.seq, want.at, want.seq)
		}
	}
	if maxNear > 100 {
		t.Errorf("the turned buckets held up to %d events; want about a bucket's (a few)", maxNear)
	}
}

// refHeap is container/heap's reference ordering of events.
type refHeap []desEvent

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return h[i].before(&h[j]) }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.(desEvent)) }
func (h *refHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// TestSortEvents checks sortEvents against slices.SortFunc on events
// in random, sorted, reversed and nearly sorted orders, of twelve lengths
// from 0 to 100,000 around the insertion-sort cut-off, with ties of time
// broken by sequence.
func TestSortEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	// The oracle, written apart from compareEvents.
	cmpEv := func(e, f desEvent) int {
		if e.at != f.at {
			return cmp.Compare(e.at, f.at)
		}
		return cmp.Compare(e.seq, f.seq)
	}
	for _, n := range append([]int{0, 1, 2, 3, 24, 25, 26, 100, 300, 5000, 100_000}, rng.IntN(1000)) {
		for order := range 4 {
			b := make([]desEvent, n)
			for i := range b {
				b[i] = desEvent{at: int64(rng.IntN(max(n/4, 1))), seq: uint64(i), id: int32(i)}
			}
			switch order {
			case 1:
				slices.SortFunc(b, cmpEv)
			case 2:
				slices.SortFunc(b, cmpEv)
				slices.Reverse(b)
			case 3:
				slices.SortFunc(b, cmpEv)
				for range n / 50 {
					i, j := rng.IntN(n), rng.IntN(n)
					b[i], b[j] = b[j], b[i]
				}
			default:
				rng.Shuffle(n, func(i, j int) { b[i], b[j] = b[j], b[i] })
			}
			want := slices.Clone(b)
			slices.SortFunc(want, cmpEv)
			sortEvents(b)
			if !slices.Equal(b, want) {
				t.Fatalf("%d events in order %d: not sorted", n, order)
			}
		}
	}
	// A depth of 0 sorts through the fallback.
	b := []desEvent{}
	for i := range 100 {
		b = append(b, desEvent{at: int64(100 - i), seq: uint64(i)})
	}
	quickSortEvents(b, 0)
	if !slices.IsSortedFunc(b, cmpEv) {
		t.Error("fallback: not sorted")
	}
}
