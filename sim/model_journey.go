package sim

import (
	"container/heap"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// The model's side of the journey's extras (issue 17): the gateway in
// front of every partition, the services journey steps call, per-state
// openings of booking, and people who come back after giving up. Each is
// off unless the scenario sets it, and when off the model draws nothing
// and schedules nothing more: the results are those of a model without
// them.

// evReturn is the event of a person who gave up coming back (id: user).
const evReturn = evTokenEnd + 1

// phaseAway is a user who gave up and will come back (evReturn).
const phaseAway = phaseDone + 1

// opStep is the operation code of a journey step's call.
const opStep = opQueue + 1

// mlimit is a limiter in front of something other than a partition (the
// gateway, a step's service), as the reference server's: a token bucket
// and a bound on the requests inside at once, each refusing with 429 at
// once. The requests inside leave at the times leaves holds.
type mlimit struct {
	rate     bucket
	max      int
	inflight int
	leaves   leaveHeap
	refused  int64
}

func newLimit(l models.RateLimit) *mlimit {
	return &mlimit{rate: newBucket(l.Rate, l.Burst), max: l.MaxInFlight}
}

// admit lets a request in at now, or returns how long until it might be.
func (g *mlimit) admit(now int64) (wait int64, ok bool) {
	for len(g.leaves) > 0 && g.leaves[0] <= now {
		heap.Pop(&g.leaves)
		g.inflight--
	}
	if g.max > 0 && g.inflight >= g.max {
		// Retry in a second, as the reference server advises.
		g.refused++
		return int64(time.Second), false
	}
	if w, ok := g.rate.allow(now); !ok {
		g.refused++
		return w, false
	}
	g.inflight++
	return 0, true
}

// leave lets a request out at ts (not before now).
func (g *mlimit) leave(ts, now int64) {
	if ts <= now {
		g.inflight = max(g.inflight-1, 0)
		return
	}
	heap.Push(&g.leaves, ts)
}

// leaveHeap is a min-heap of leaving times.
type leaveHeap []int64

func (h leaveHeap) Len() int           { return len(h) }
func (h leaveHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h leaveHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }

// Push implements heap.Interface.
func (h *leaveHeap) Push(x any) { *h = append(*h, x.(int64)) }

// Pop implements heap.Interface.
func (h *leaveHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// modelExtras holds the model's gateway, step services and per-PPV
// openings; nil when the scenario sets none of them.
type modelExtras struct {
	gw *mlimit // nil: no gateway
	// steps holds, per journey step (Policy.Steps), its service (nil for a
	// step that calls none) and failure share.
	steps []mservice
	// ppvOpens is when booking opens at each PPV (its state's first
	// opening); nil: at opensAt everywhere.
	ppvOpens []int64
}

type mservice struct {
	limit *mlimit
	fail  float64
}

// setupExtras builds the model's extras from the scenario; it leaves
// m.ext nil when there are none.
func (m *modelRun) setupExtras() {
	sc := m.sc
	if !sc.Gateway.On() && len(sc.Journey.Steps) == 0 && len(sc.Crowd.Openings) == 0 {
		return
	}
	x := &modelExtras{}
	if sc.Gateway.On() {
		x.gw = newLimit(sc.Gateway)
	}
	for _, st := range sc.Journey.Steps {
		s := mservice{fail: st.FailShare()}
		if st.Calls() {
			s.limit = newLimit(st.Service.Limits)
		}
		x.steps = append(x.steps, s)
	}
	if opens := sc.StateOpenings(); opens != nil {
		state := map[string]string{}
		for _, pv := range sc.BuildInventory().PPVs {
			state[pv.ID] = pv.State
		}
		x.ppvOpens = make([]int64, len(m.ppvs))
		for i := range m.ppvs {
			x.ppvOpens[i] = m.opensAt
			if o := opens[state[m.ppvs[i].id]]; len(o) > 0 {
				x.ppvOpens[i] = int64(o[0])
			}
		}
	}
	m.ext = x
}

// gateway lets user u's request through the gateway at now; when it
// refuses, it answers 429 gateway_throttled and returns false.
func (m *modelRun) gateway(u int32) bool {
	if m.ext == nil || m.ext.gw == nil {
		return true
	}
	now := m.q.now
	wait, ok := m.ext.gw.admit(now)
	if ok {
		return true
	}
	m.answer(u, m.users[u].seq, Response{Status: 429, Code: results.CodeGatewayThrottled, RetryAfter: modelRetryAfter(max(wait, 1))}, now+m.front.sample(m.rng))
	return false
}

// gatewayLeave lets a request out of the gateway at ts (its answer is sent
// then), or now when it ends without one.
func (m *modelRun) gatewayLeave(ts int64) {
	if m.ext != nil && m.ext.gw != nil {
		m.ext.gw.leave(ts, m.q.now)
	}
}

// gatewayRefused returns how many requests the gateway refused.
func (m *modelRun) gatewayRefused() int64 {
	if m.ext == nil || m.ext.gw == nil {
		return 0
	}
	return m.ext.gw.refused
}

// stepOp answers user u's call of a journey step as the reference server's
// step endpoint does: the service's limits (429 throttled), then the
// step's failure share (422 step_failed), else 200.
func (m *modelRun) stepOp(u int32) {
	us := &m.users[u]
	now := m.q.now
	ts := now + m.front.sample(m.rng)
	idx := int(us.j.stepIdx)
	if m.ext == nil || idx >= len(m.ext.steps) {
		m.reply(u, us.seq, Response{Status: 404, Code: "not_found"}, ts)
		return
	}
	s := &m.ext.steps[idx]
	if s.limit != nil {
		if wait, ok := s.limit.admit(now); !ok {
			m.reply(u, us.seq, Response{Status: 429, Code: "throttled", RetryAfter: modelRetryAfter(max(wait, 1))}, ts)
			return
		}
		s.limit.leave(ts, now)
	}
	if s.fail > 0 && m.rng.Float64() < s.fail {
		m.reply(u, us.seq, Response{Status: 422, Code: CodeStepFailed}, ts)
		return
	}
	m.reply(u, us.seq, Response{Status: 200}, ts)
}

// bookOpens returns when booking opens for user u's current booking: its
// PPV's state's opening, or the API's.
func (m *modelRun) bookOpens(u int32) int64 {
	if m.ext == nil || m.ext.ppvOpens == nil {
		return m.opensAt
	}
	if p := m.users[u].ppv; p >= 0 && int(p) < len(m.ext.ppvOpens) {
		return m.ext.ppvOpens[p]
	}
	return m.opensAt
}

// comeBack handles user u's journey ending with mv at client time t: when
// the person gave up and returns (Journey.Return) before the run ends, the
// return is scheduled and comeBack returns true; the person is not
// finished and counts once among those who arrived.
func (m *modelRun) comeBack(u int32, mv move, t int64) bool {
	if mv.outcome != GaveUp {
		return false
	}
	us := &m.users[u]
	if us.j.policy == nil || us.j.policy.Returns.Share <= 0 {
		return false
	}
	w, ok := us.j.Return(time.Duration(t - us.arrivedAt))
	if !ok || t+int64(w) > m.end {
		return false
	}
	us.phase = phaseAway
	us.sreq = -1
	m.q.schedule(t+int64(w), evReturn, u, 0)
	return true
}

// revisit starts user u's return at the current time.
func (m *modelRun) revisit(u int32) {
	us := &m.users[u]
	if us.phase != phaseAway {
		return
	}
	now := m.q.now
	us.j.Revisit(time.Duration(now - us.arrivedAt))
	m.act(u, us.j.start(), now)
}
