package capacity

import (
	"context"
	"fmt"
)

// Confirm checks design d's boundary, found by Search on another engine,
// with run (such as the live engine) under o (the search's options: the
// same SLO, seeds and noise rule): for OutcomeFound, MaxScale must pass
// and FailScale must fail; where one does not, the scale one bisection
// step (FailScale − MaxScale) further out is tried, and the agreement is
// AgreeWithinStep when that one agrees, else AgreeNot. For
// OutcomeFailsAtMin the smallest scale must fail, for OutcomeHoldsAtMax the
// largest must pass. It returns an error of run or ctx's.
func Confirm(ctx context.Context, o Options, engine string, run StepFunc, d *Design) (*Confirmation, error) {
	c := &Confirmation{Engine: engine}
	check := func(scale float64) (bool, error) {
		st, err := RunStep(ctx, o, run, scale, PhaseConfirm)
		if err != nil {
			return false, err
		}
		c.Steps = append(c.Steps, st)
		return st.Pass, nil
	}
	switch d.Outcome {
	case OutcomeFailsAtMin, OutcomeHoldsAtMax:
		scale, want := d.FailScale, false
		if d.Outcome == OutcomeHoldsAtMax {
			scale, want = d.MaxScale, true
		}
		pass, err := check(scale)
		if err != nil {
			return nil, err
		}
		c.Agreement, c.Note = AgreeExact, fmt.Sprintf("%s %s at scale %g too", engine, verdictWord(pass), scale)
		if pass != want {
			c.Agreement, c.Note = AgreeNot, fmt.Sprintf("%s %s at scale %g, where the search's engine said %s", engine, verdictWord(pass), scale, verdictWord(want))
		}
		return c, nil
	}
	if err := c.boundary(d, check); err != nil {
		return nil, err
	}
	return c, nil
}

// boundary confirms an OutcomeFound boundary with check.
func (c *Confirmation) boundary(d *Design, check func(float64) (bool, error)) error {
	below, err := check(d.MaxScale)
	if err != nil {
		return err
	}
	above, err := check(d.FailScale)
	if err != nil {
		return err
	}
	verdicts := fmt.Sprintf("%s %s at scale %.4g (just below the boundary) and %s at %.4g (just above)",
		c.Engine, verdictWord(below), d.MaxScale, verdictWord(above), d.FailScale)
	if below && !above {
		c.Agreement, c.Note = AgreeExact, verdicts
		return nil
	}
	step := d.FailScale - d.MaxScale
	ok := true
	if !below {
		out := d.MaxScale - step
		pass := false
		if out > 0 {
			if pass, err = check(out); err != nil {
				return err
			}
		}
		ok = pass
		verdicts += fmt.Sprintf("; one step further below, at %.4g: %s", out, verdictWord(pass))
	}
	if above {
		out := d.FailScale + step
		pass, err := check(out)
		if err != nil {
			return err
		}
		ok = ok && !pass
		verdicts += fmt.Sprintf("; one step further above, at %.4g: %s", out, verdictWord(pass))
	}
	c.Agreement, c.Note = AgreeNot, verdicts
	if ok {
		c.Agreement = AgreeWithinStep
	}
	return nil
}
