package results

import (
	"encoding/json"
	"testing"
)

func TestRecoverySeconds(t *testing.T) {
	tl := []TimelinePoint{}
	for s := range 20 {
		p := TimelinePoint{TS: s, RPS: 100, Errors: 1}
		if s >= 5 && s < 12 { // fault 5-10 from opening at 0, tail 2 s
			p.Errors = 60
		}
		tl = append(tl, p)
	}
	r := RecoverySeconds(tl, []FaultWindow{{StartS: 5, EndS: 10}}, 0)
	if r == nil || *r != 2 {
		t.Fatalf("RecoverS = %v; want 2", r)
	}
	if r := RecoverySeconds(tl[:11], []FaultWindow{{StartS: 5, EndS: 10}}, 0); r != nil {
		t.Errorf("never recovered: got %v", *r)
	}
	if r := RecoverySeconds(tl, nil, 0); r != nil {
		t.Errorf("no window: got %v", *r)
	}
}

func TestBlastCheckMerge(t *testing.T) {
	d := DesignResult{Design: "x", Users: Users{Arrived: 10}, BlastRadius: &BlastRadius{Faults: []string{"f"}, PeopleHit: 11}}
	if len(d.checkBlast()) == 0 {
		t.Error("people hit beyond arrived passed")
	}
	d.BlastRadius.PeopleHit, d.BlastRadius.PeopleHitShare = 3, 0.3
	if errs := d.checkBlast(); len(errs) > 0 {
		t.Error(errs)
	}
	e := DesignResult{Design: "x", Users: Users{Arrived: 30}, BlastRadius: &BlastRadius{Faults: []string{"f"}, PeopleHit: 5}}
	m := mergeBlast([]*DesignResult{&d, &e}, 40)
	if m == nil || m.PeopleHit != 8 || m.PeopleHitShare != 0.2 || m.RecoverS != nil {
		t.Errorf("merged %+v", m)
	}
	if mergeBlast([]*DesignResult{{}}, 1) != nil {
		t.Error("merged a blast radius out of none")
	}
	var old DesignResult
	if err := json.Unmarshal([]byte(`{"design":"y"}`), &old); err != nil || old.BlastRadius != nil {
		t.Errorf("old result: %v %+v", err, old.BlastRadius)
	}
}
