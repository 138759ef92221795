package sim

import (
	"context"
	"testing"
	"time"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// TestModelFaultDown: a down fault on the hottest partition of per-ppv-day
// answers bookings 503 on that partition only, and only within its window
// (answers come a front time and a one-way trip after); nothing oversold.
func TestModelFaultDown(t *testing.T) {
	sc := loadScenario(t, "demo")
	designs, err := sc.BuildDesigns([]string{"per-ppv-day"})
	if err != nil {
		t.Fatal(err)
	}
	d := designs[0]
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(1)
	sp, err := fault.Parse("partition=hottest,down,start=2s,for=5s")
	if err != nil {
		t.Fatal(err)
	}
	specs, err := fault.Resolve([]fault.Spec{sp}, d, &inv, func() models.PartitionKey { return sc.HottestPartition(d, crowd) })
	if err != nil {
		t.Fatal(err)
	}
	hot := specs[0].Partition
	res, stats, err := Simulate(context.Background(), sc, designs, 1,
		WithModelFaults(func(string) []fault.Spec { return specs }))
	if err != nil {
		t.Fatal(err)
	}
	checkModelInvariants(t, sc, res, stats)
	dr := res.Designs[0]
	if dr.Slots.Oversold != 0 {
		t.Errorf("oversold %d", dr.Slots.Oversold)
	}
	start, end := specs[0].Window()
	lo := int((sc.Crowd.OpeningDelay + start) / time.Second)
	hi := int((sc.Crowd.OpeningDelay + end + time.Second - 1) / time.Second)
	var hit int64
	var series []*results.PartitionSeries
	for i := range dr.ByPartition.Series {
		series = append(series, &dr.ByPartition.Series[i])
	}
	if dr.ByPartition.Others != nil {
		series = append(series, dr.ByPartition.Others)
	}
	for _, s := range series {
		secs, err := s.Decode()
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secs {
			if sec.Overloaded == 0 {
				continue
			}
			if s.Key != hot {
				t.Errorf("partition %q: %d 503s at %ds; only %s is down", s.Key, sec.Overloaded, sec.TS, hot)
				continue
			}
			if sec.TS < lo || sec.TS > hi {
				t.Errorf("%s: %d 503s at %ds, outside the window %d-%ds", hot, sec.Overloaded, sec.TS, lo, hi)
			}
			hit += sec.Overloaded
		}
	}
	if hit == 0 {
		t.Errorf("%s: no 503 in the window", hot)
	}
	var faulted int64
	for _, p := range stats[0].Partitions {
		if p.Faulted > 0 && p.Key != hot {
			t.Errorf("partition %s faulted %d times", p.Key, p.Faulted)
		}
		faulted += p.Faulted
	}
	b := dr.BlastRadius
	if b == nil || len(b.Faults) != 1 || b.Faults[0] != specs[0].String() || b.PeopleHit == 0 || b.PeopleHit > hit ||
		b.PeopleInWindow < b.PeopleHit || b.PeopleHitShare != float64(b.PeopleHit)/float64(dr.Users.Arrived) {
		t.Errorf("blast radius %+v; %d 503s", b, hit)
	}
	if hit > faulted {
		t.Errorf("the partition refused %d bookings, its clients got %d 503s", faulted, hit)
	}
}

// TestModelFaultDownBeforeLimits: monolithic's one partition down answers
// every booking and listing 503 before its budget is charged, as the
// reference server does: no booking is throttled inside the window, and
// nearly everyone present then is hit.
func TestModelFaultDownBeforeLimits(t *testing.T) {
	sc := loadScenario(t, "demo")
	designs, err := sc.BuildDesigns([]string{"monolithic"})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := fault.Parse("partition=all,down,start=3s,for=6s")
	if err != nil {
		t.Fatal(err)
	}
	res, _, err := Simulate(context.Background(), sc, designs, 1,
		WithModelFaults(func(string) []fault.Spec { return []fault.Spec{sp} }))
	if err != nil {
		t.Fatal(err)
	}
	dr := res.Designs[0]
	// The window's inner seconds: answers of requests sent before it may
	// come back in its first second, retries after it in its last.
	lo := int((sc.Crowd.OpeningDelay+3*time.Second)/time.Second) + 1
	hi := int((sc.Crowd.OpeningDelay+9*time.Second)/time.Second) - 2
	for _, s := range dr.ByPartition.Series {
		secs, err := s.Decode()
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secs {
			if sec.TS >= lo && sec.TS <= hi && (sec.Throttled > 0 || sec.OK > 0) {
				t.Errorf("%s at %ds: %d throttled, %d booked inside the window", s.Key, sec.TS, sec.Throttled, sec.OK)
			}
		}
	}
	b := dr.BlastRadius
	t.Logf("blast radius %+v", b)
	if b == nil || float64(b.PeopleHit) < 0.9*float64(b.PeopleInWindow) {
		t.Errorf("blast radius %+v; want nearly everyone present hit", b)
	}
}
