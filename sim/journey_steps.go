package sim

import (
	"sort"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

// StepPolicy is one journey step before listing centres (see
// scenarios.StepSpec): the user spends Delay, then calls the step's
// service at Path when Call is set (the server decides whether the call
// fails), else fails the step by itself with the Fail share. A failed step
// is tried again after the retry policy's backoff and Delay again, while
// patience (and the retry policy's attempts) last.
type StepPolicy struct {
	Name  string
	Path  string
	Delay time.Duration
	Fail  float64
	Call  bool
}

// ReturnPolicy brings back Share of the people who gave up, once, with the
// same person id: After their giving up, or at their state's next
// announced opening when AtNextOpening (see scenarios.ReturnSpec).
type ReturnPolicy struct {
	Share         float64
	After         time.Duration
	AtNextOpening bool
}

// CodeStepFailed is the error code of a step's call that failed (a wrong
// OTP, a captcha to solve again): the reference server answers it 422.
const CodeStepFailed = "step_failed"

// WithJourneyExtras sets p's steps and returns from js, and the openings a
// return may aim at: each state's (scenarios.Scenario.StateOpenings), or
// opensAt for every state when openings is nil. Both engines call it on
// the policy of each behaviour; with no steps and no returns, p is left as
// PolicyFor made it.
func WithJourneyExtras(p *Policy, js scenarios.JourneySpec, opensAt time.Duration, openings map[string][]time.Duration) {
	p.Steps = nil
	for _, st := range js.Steps {
		p.Steps = append(p.Steps, StepPolicy{Name: st.Name, Path: st.CallPath(), Delay: st.Delay, Fail: st.FailShare(), Call: st.Calls()})
	}
	r := js.Returns
	p.Returns = ReturnPolicy{Share: r.ShareValue(), After: r.After, AtNextOpening: r.AtNextOpening}
	p.Openings = openings
	if p.Returns.AtNextOpening && openings == nil {
		p.Openings = map[string][]time.Duration{"": {opensAt}}
	}
}

// begin starts the steps before listing centres, at elapsed (after
// admission, with a waiting room), or lists the centres at once.
func (j *Journey) begin(elapsed time.Duration) move {
	if len(j.policy.Steps) == 0 {
		return j.afterSteps(elapsed, 0)
	}
	j.stepIdx = 0
	// Out of the room: patience now counts from the admission (or the
	// arrival), as for the rest of the journey.
	j.step = stepStep
	return j.runSteps(elapsed, 0)
}

// runSteps carries out the steps from j.stepIdx on, wait from elapsed: a
// step without a service is spent here (its delay, and for each failure
// drawn a backoff and the delay again); one with a service is sent after
// its delay. When none is left, the centres are listed.
func (j *Journey) runSteps(elapsed, wait time.Duration) move {
	steps := j.policy.Steps
	for int(j.stepIdx) < len(steps) {
		st := &steps[j.stepIdx]
		wait += st.Delay
		if !j.patient(elapsed + wait) {
			return j.giveUp("patience")
		}
		if st.Call {
			j.step = stepStep
			return j.send(wait, reqStep, "", models.Date{}, "")
		}
		for st.Fail > 0 && j.float64() < st.Fail {
			j.attempts++
			if j.policy.MaxAttempts > 0 && int(j.attempts) >= j.policy.MaxAttempts {
				return j.giveUp("attempts")
			}
			wait += j.backoff() + st.Delay
			if !j.patient(elapsed + wait) {
				return j.giveUp("patience")
			}
		}
		j.attempts = 0
		j.stepIdx++
	}
	return j.afterSteps(elapsed, wait)
}

// afterSteps lists the centres after wait, or, when a room per centre
// named the day to book (steer), books it at the current centre after
// the time to read the page.
func (j *Journey) afterSteps(elapsed, wait time.Duration) move {
	if j.steer == 0 {
		j.step = stepListPPVs
		return j.send(wait, reqListPPVs, "", models.Date{}, "")
	}
	d := unpackDay(j.steer)
	j.steer = 0
	wait += j.think()
	j.step = stepBook // out of the room: patience counts from the admission
	if !j.patient(elapsed + wait) {
		return j.giveUp("patience")
	}
	j.bookSeq++
	return j.send(wait, reqBook, j.user.PPVs[j.ppv], d, idempotencyKey(j.user.PersonID, int(j.bookSeq)))
}

// packDay is d as one number, yyyymmdd; unpackDay is its inverse.
func packDay(d models.Date) int32 {
	return int32(d.Year*10000 + int(d.Month)*100 + d.Day)
}

func unpackDay(n int32) models.Date {
	return models.Date{Year: int(n / 10000), Month: time.Month(n / 100 % 100), Day: int(n % 100)}
}

// stepAnswered handles the answer to a step's call: on to the next step,
// back to the waiting room when the token was refused, or the step again
// (a failure, a refusal by the service's or the gateway's limits, a
// timeout), a failure after the step's delay again.
func (j *Journey) stepAnswered(resp Response, elapsed time.Duration) move {
	switch resp.Classify() {
	case KindOK:
		j.attempts = 0
		j.stepIdx++
		return j.runSteps(elapsed, 0)
	case KindNotAdmitted:
		if j.policy.WaitingRoom && j.attempts == 0 {
			j.attempts++
			j.token, j.ticket = "", ""
			j.step = stepQueue
			return j.send(0, reqQueue, j.queuePPV(), models.Date{}, "")
		}
	}
	mv := j.retry(resp, elapsed)
	if !mv.done && resp.Code == CodeStepFailed {
		mv.wait += j.policy.Steps[j.stepIdx].Delay
	}
	return mv
}

// Return decides, for a journey that just gave up elapsed after the
// person first arrived, whether the person comes back: once, with the
// Returns share, after Returns.After or at the next opening of their
// state after now. It returns how long after elapsed the new visit
// starts; it draws from the journey's own source only when returns are on.
// Call Revisit to start the visit.
func (j *Journey) Return(elapsed time.Duration) (time.Duration, bool) {
	r := &j.policy.Returns
	if r.Share <= 0 || j.returned {
		return 0, false
	}
	if j.float64() >= r.Share {
		return 0, false
	}
	if !r.AtNextOpening {
		return r.After, true
	}
	now := j.user.At + elapsed
	opens, ok := j.policy.Openings[j.user.State]
	if !ok {
		opens = j.policy.Openings[""]
	}
	i := sort.Search(len(opens), func(i int) bool { return opens[i] > now })
	if i == len(opens) {
		return 0, false
	}
	return opens[i] - now, true
}

// Revisit makes j the journey of the person's return at elapsed (after
// their first arrival): a fresh start, with the requests and retries of
// the first visit kept (they count), its random source and its booking
// sequence carried on (a return never reuses an Idempotency-Key), and
// patience counting from the return. Call Start next.
func (j *Journey) Revisit(elapsed time.Duration) {
	*j = Journey{user: j.user, policy: j.policy, pcg: j.pcg, Requests: j.Requests, Retries: j.Retries, bookSeq: j.bookSeq,
		returned: true, visit: elapsed, admitted: elapsed}
}

// WithOpenings gives a live run the announced openings a return at the
// next opening aims at: opensAt for every state, or each state's own
// (scenarios.Scenario.StateOpenings) when openings is not nil.
func WithOpenings(opensAt time.Duration, openings map[string][]time.Duration) LiveOption {
	return func(l *Live) { l.opensAt, l.openings = opensAt, openings }
}
