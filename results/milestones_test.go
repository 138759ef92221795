package results_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/results/resultstest"
)

func i64(n int64) *int64     { return &n }
func f64(x float64) *float64 { return &x }
func fmtPtr(p *int64) string { return fmtAny(p) }
func fmtAny(p any) string    { b, _ := json.Marshal(p); return string(b) }
func obs(at float64, n int64) results.Observation {
	return results.Observation{AtS: at, Counts: results.CountsPlaces, Booked: n, Source: "s"}
}

// TestMilestones computes milestones from a timeline by hand: bookings of
// second t are done by t+1; a count never reached has its value at the
// record's time and no reached_at_s; after the run's end the value is
// unknown (null) unless nobody was still trying.
func TestMilestones(t *testing.T) {
	t.Parallel()
	// 2 bookings a second in seconds 0 to 4, listed out of order: 10 in all.
	tl := []results.TimelinePoint{{TS: 3, Booked: 2}, {TS: 0, Booked: 2}, {TS: 1, Booked: 2}, {TS: 2, Booked: 2}, {TS: 4, Booked: 2}}
	waiting := results.Users{Arrived: 20, Booked: 10, StillWaiting: 3, GaveUp: 7}
	settled := results.Users{Arrived: 20, Booked: 10, GaveUp: 10}
	for _, tt := range []struct {
		name  string
		d     results.DesignResult
		o     results.Observation
		sim   *int64
		at    *float64
		after bool
	}{
		{"reached before the record", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(10, 5), i64(10), f64(3), false},
		{"reached after the record", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(2, 8), i64(4), f64(4), false},
		{"reached at the end of a second", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(3, 6), i64(6), f64(3), false},
		{"within a second", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(2.5, 1), i64(4), f64(1), false},
		{"never reached", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(4, 100), i64(8), nil, false},
		{"at the end", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(20, 100), i64(10), nil, false},
		{"after the end, people still trying", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(21, 100), nil, nil, true},
		{"after the end, reached before it", results.DesignResult{Timeline: tl, DurationS: 20, Users: waiting}, obs(60, 9), nil, f64(5), true},
		{"after the end, nobody still trying", results.DesignResult{Timeline: tl, DurationS: 20, Users: settled}, obs(21, 100), i64(10), nil, true},
		{"the timeline outlasts duration_s", results.DesignResult{Timeline: tl, DurationS: 0, Users: waiting}, obs(5, 10), i64(10), f64(5), false},
		{"no timeline", results.DesignResult{DurationS: 20, Users: waiting}, obs(5, 10), i64(0), nil, false},
	} {
		got := results.Milestones([]results.Observation{tt.o}, &tt.d)
		if len(got) != 1 {
			t.Fatalf("%s: Milestones = %v; want one", tt.name, got)
		}
		m := got[0]
		if m.AtS != tt.o.AtS || m.Observed != tt.o.Booked || m.Counts != tt.o.Counts || fmtPtr(m.Simulated) != fmtPtr(tt.sim) ||
			fmtAny(m.ReachedAtS) != fmtAny(tt.at) || m.AfterEnd != tt.after {
			t.Errorf("%s: Milestones(%v) = %s; want simulated %s, reached_at_s %s, after_end %v",
				tt.name, tt.o, fmtAny(m), fmtPtr(tt.sim), fmtAny(tt.at), tt.after)
		}
	}
	if got := results.Milestones(nil, &results.DesignResult{Timeline: tl}); got != nil {
		t.Errorf("Milestones(nil) = %v; want nil", got)
	}
}

// withRecord returns the synthetic result with two observations and its
// milestones filled.
func withRecord() *results.Result {
	r := resultstest.SyntheticResult(1)
	r.Observed = []results.Observation{
		{AtS: 10, Counts: results.CountsPlaces, Booked: 1000, Source: "a newspaper"},
		{AtS: 3600, Counts: results.CountsPeople, Booked: 5000, Source: "https://example.org/x"},
	}
	r.FillMilestones()
	return r
}

// TestMilestonesRoundTrip: observations and milestones survive writing
// and reading, a milestone after the run as "simulated": null.
func TestMilestonesRoundTrip(t *testing.T) {
	t.Parallel()
	r := withRecord()
	if errs := r.Check(); len(errs) > 0 {
		t.Fatalf("Check() = %v", errs)
	}
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{`"observed": [`, `"milestones": [`, `"simulated": null`, `"after_end": true`, `"counts": "people"`} {
		if !strings.Contains(text, want) {
			t.Errorf("result.json lacks %s", want)
		}
	}
	back, err := results.ReadResult("r.json", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Observed, r.Observed) {
		t.Errorf("observed = %+v; want %+v", back.Observed, r.Observed)
	}
	for i := range r.Designs {
		if !reflect.DeepEqual(back.Designs[i].Milestones, r.Designs[i].Milestones) {
			t.Errorf("%s: milestones = %s; want %s", r.Designs[i].Design, fmtAny(back.Designs[i].Milestones), fmtAny(r.Designs[i].Milestones))
		}
	}
}

// TestMilestonesOldFile: a result written before milestones existed loads
// without them, and writes none.
func TestMilestonesOldFile(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := resultstest.SyntheticResult(2).Write(&buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), `"observed"`) || strings.Contains(buf.String(), `"milestones"`) {
		t.Fatal("a result without a record writes observed or milestones")
	}
	r, err := results.ReadResult("old.json", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if r.Observed != nil || r.Designs[0].Milestones != nil {
		t.Errorf("old file: observed %v, milestones %v; want none", r.Observed, r.Designs[0].Milestones)
	}
}

// TestCheckRecord: Check refuses observations and milestones that cannot
// be right.
func TestCheckRecord(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(r *results.Result)
		want string
	}{
		{"no source", func(r *results.Result) { r.Observed[0].Source = " " }, "observed[0]: no source"},
		{"unknown count", func(r *results.Result) { r.Observed[0].Counts = "doses" }, `observed[0]: counts "doses": want "places" or "people"`},
		{"zero count, negative time", func(r *results.Result) { r.Observed[1].Booked, r.Observed[1].AtS = 0, -1 },
			"observed[1]: at_s -1 is not a time from the start; booked 0: want a count above 0"},
		{"a milestone of another record", func(r *results.Result) { r.Designs[0].Milestones[0].Observed = 7 },
			"design monolithic: milestones[0] (7 places at 10 s) matches no observed milestone of the result"},
		{"a negative count", func(r *results.Result) { r.Designs[1].Milestones[0].Simulated = i64(-1) },
			"design per-ppv: milestones[0]: simulated -1 is negative"},
		{"a bad time", func(r *results.Result) { r.Designs[1].Milestones[0].ReachedAtS = f64(-2) },
			"design per-ppv: milestones[0]: reached_at_s -2 is not a time from the start"},
	} {
		r := withRecord()
		tt.edit(r)
		if strings.HasPrefix(tt.want, "observed") {
			r.FillMilestones() // only the record is wrong
		}
		errs := r.Check()
		if len(errs) != 1 || errs[0].Error() != tt.want {
			t.Errorf("%s: Check() = %v; want [%s]", tt.name, errs, tt.want)
		}
	}
}

// TestMergeRecord: the merge keeps the parts' record and recomputes the
// milestones from the merged timeline; parts with different records are
// not of one run.
func TestMergeRecord(t *testing.T) {
	t.Parallel()
	var a, b []req
	for i := range 6 {
		a = append(a, req{op: results.OpBook, done: time.Duration(i) * time.Second, us: 1000, status: 201, user: i})
		b = append(b, req{op: results.OpBook, done: time.Duration(i)*time.Second + 100*time.Millisecond, us: 1000, status: 201, user: 100 + i})
	}
	record := []results.Observation{obs(3, 5), obs(100, 50)}
	p1, p2 := runOf(t, 0, a), runOf(t, 0, b)
	for _, p := range []*results.Result{p1, p2} {
		p.Observed = append([]results.Observation(nil), record...)
		p.FillMilestones()
	}
	m, err := results.Merge(p1, p2)
	if err != nil {
		t.Fatal(err)
	}
	want := []results.Milestone{
		{AtS: 3, Counts: results.CountsPlaces, Observed: 5, Simulated: i64(6), ReachedAtS: f64(3)},
		// Everybody booked: nothing could change after the end.
		{AtS: 100, Counts: results.CountsPlaces, Observed: 50, Simulated: i64(12), AfterEnd: true},
	}
	if !reflect.DeepEqual(m.Observed, record) || !reflect.DeepEqual(m.Designs[0].Milestones, want) {
		t.Errorf("Merge: observed %v, milestones %s; want %v, %s", m.Observed, fmtAny(m.Designs[0].Milestones), record, fmtAny(want))
	}
	p2.Observed[1].Source = "another"
	if _, err := results.Merge(p1, p2); err == nil || !strings.Contains(err.Error(), "not parts of one scenario") {
		t.Errorf("Merge with different records = %v; want an error", err)
	}
	p2.Observed = nil
	p2.FillMilestones()
	if _, err := results.Merge(p1, p2); err == nil {
		t.Error("Merge of a part with a record and one without: want an error")
	}
}
