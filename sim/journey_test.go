package sim

import (
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/scenarios"
)

var (
	day1 = models.Date{Year: 2021, Month: time.June, Day: 7}
	day2 = day1.AddDays(1)
)

func testUser(b scenarios.Behaviour) *scenarios.Arrival {
	return &scenarios.Arrival{Index: 3, PersonID: "p3", State: "selangor", PPVs: []string{"a", "b"}, WantsEarliest: true, Behaviour: b, Seed: 42}
}

func testSpec() scenarios.JourneySpec {
	return scenarios.JourneySpec{
		Patience: 60 * time.Second, Alternatives: 2,
		Retry: scenarios.RetrySpec{MaxAttempts: 5, Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, HonourRetryAfter: true},
	}
}

// journeyAt drives a fresh journey of user u to the step named by prefix
// responses, returning it and the last action.
func journeyAt(u *scenarios.Arrival, spec scenarios.JourneySpec, prefix ...Response) (*Journey, Action) {
	j := NewJourney(u, PolicyFor(u.Behaviour, spec))
	act := j.Start()
	for _, r := range prefix {
		act = j.Next(r, time.Second)
	}
	return j, act
}

var (
	okPPVs  = Response{Status: 200}
	okSlots = Response{Status: 200, Slots: []SlotView{{Date: day2, Capacity: 10, Remaining: 3}, {Date: day1, Capacity: 10, Remaining: 1}}}
)

func TestJourneyTransitions(t *testing.T) {
	t.Parallel()
	slowFail := Response{Status: 503, RetryAfter: 2 * time.Second}
	tests := []struct {
		name     string
		b        scenarios.Behaviour
		prefix   []Response
		resp     Response
		elapsed  time.Duration
		wantDone bool
		outcome  Outcome
		wantOp   string
		wantPPV  string
		wantDate models.Date
		waitMin  time.Duration
		waitMax  time.Duration
	}{
		{name: "ppvs 200 -> list slots of first choice", resp: okPPVs, wantOp: results.OpListSlots, wantPPV: "a"},
		{name: "slots 200 -> book earliest open date", prefix: []Response{okPPVs}, resp: okSlots, wantOp: results.OpBook, wantPPV: "a", wantDate: day1},
		{name: "slots all full -> next ppv", prefix: []Response{okPPVs}, resp: Response{Status: 200, Slots: []SlotView{{Date: day1, Capacity: 5}}}, wantOp: results.OpListSlots, wantPPV: "b"},
		{name: "slots 404 -> next ppv", prefix: []Response{okPPVs}, resp: Response{Status: 404}, wantOp: results.OpListSlots, wantPPV: "b"},
		{name: "book 201 -> booked", prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 201, BookingID: "x"}, wantDone: true, outcome: Booked},
		{name: "book 409 already_booked -> booked", prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 409, Code: "already_booked"}, wantDone: true, outcome: Booked},
		{name: "book 409 sold_out -> relist same ppv", prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 409, Code: "sold_out"}, wantOp: results.OpListSlots, wantPPV: "a"},
		{name: "book 429 honoured -> wait retry-after, same request", prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 429, RetryAfter: time.Second}, wantOp: results.OpBook, wantPPV: "a", wantDate: day1, waitMin: time.Second, waitMax: time.Second},
		{name: "book 429 short retry-after -> own backoff is the floor", prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 429, RetryAfter: 10 * time.Millisecond}, wantOp: results.OpBook, wantPPV: "a", wantDate: day1, waitMin: 100 * time.Millisecond, waitMax: 100 * time.Millisecond},
		{name: "book 429 refresher -> clicks again, ignoring retry-after", b: scenarios.Refresher, prefix: []Response{okPPVs, okSlots}, resp: Response{Status: 429, RetryAfter: 5 * time.Second}, wantOp: results.OpBook, wantDate: day1, wantPPV: "a", waitMin: 500 * time.Millisecond, waitMax: 1500 * time.Millisecond},
		{name: "503 without retry-after -> backoff", resp: Response{Status: 503}, wantOp: results.OpListPPVs, waitMin: 100 * time.Millisecond, waitMax: 100 * time.Millisecond},
		{name: "timeout -> backoff", resp: Response{Err: errors.New("timeout")}, wantOp: results.OpListPPVs, waitMin: 100 * time.Millisecond, waitMax: 100 * time.Millisecond},
		{name: "500 -> backoff", resp: Response{Status: 500}, wantOp: results.OpListPPVs, waitMin: 100 * time.Millisecond, waitMax: 100 * time.Millisecond},
		{name: "retry past patience -> give up", resp: slowFail, elapsed: 59 * time.Second, wantDone: true, outcome: GaveUp},
		{name: "abandoner gives up sooner", b: scenarios.Abandoner, resp: slowFail, elapsed: 14 * time.Second, wantDone: true, outcome: GaveUp},
		{name: "patient with same elapsed retries", resp: slowFail, elapsed: 14 * time.Second, wantOp: results.OpListPPVs, waitMin: 2 * time.Second, waitMax: 2 * time.Second},
		{name: "400 -> give up", resp: Response{Status: 400}, wantDone: true, outcome: GaveUp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.b
			if b == "" {
				b = scenarios.Patient
			}
			j, _ := journeyAt(testUser(b), testSpec(), tt.prefix...)
			elapsed := tt.elapsed
			if elapsed == 0 {
				elapsed = time.Second
			}
			act := j.Next(tt.resp, elapsed)
			if act.Done != tt.wantDone || act.Outcome != tt.outcome {
				t.Fatalf("Next(%+v) = done %v outcome %v (%s); want done %v outcome %v", tt.resp, act.Done, act.Outcome, act.Reason, tt.wantDone, tt.outcome)
			}
			if act.Done {
				return
			}
			if act.Req.Op != tt.wantOp || act.Req.PPV != tt.wantPPV || act.Req.Date != tt.wantDate {
				t.Errorf("Next(%+v) sends %s %s %s; want %s %s %s", tt.resp, act.Req.Op, act.Req.PPV, act.Req.Date, tt.wantOp, tt.wantPPV, tt.wantDate)
			}
			if act.Wait < tt.waitMin || (tt.waitMax > 0 && act.Wait > tt.waitMax) || (tt.waitMax == 0 && tt.waitMin == 0 && act.Wait != 0) {
				t.Errorf("Next(%+v) waits %v; want in [%v, %v]", tt.resp, act.Wait, tt.waitMin, tt.waitMax)
			}
		})
	}
}

func TestJourneyRetryKeepsIdempotencyKey(t *testing.T) {
	t.Parallel()
	j, book := journeyAt(testUser(scenarios.Patient), testSpec(), okPPVs, okSlots)
	retry := j.Next(Response{Err: errors.New("timeout")}, time.Second)
	if book.Req.IdempotencyKey == "" || retry.Req.IdempotencyKey != book.Req.IdempotencyKey {
		t.Errorf("retry key %q; want the first attempt's %q", retry.Req.IdempotencyKey, book.Req.IdempotencyKey)
	}
	// A different slot after a 409 is a different booking: new key.
	j.Next(Response{Status: 409, Code: "sold_out"}, time.Second)
	other := j.Next(okSlots, time.Second)
	if other.Req.Op != results.OpBook || other.Req.Date != day2 || other.Req.IdempotencyKey == book.Req.IdempotencyKey {
		t.Errorf("after 409 got %s %s key %q; want book of %s with a new key", other.Req.Op, other.Req.Date, other.Req.IdempotencyKey, day2)
	}
}

func TestJourneyGivesUpAfterAlternativesAndAttempts(t *testing.T) {
	t.Parallel()
	j, _ := journeyAt(testUser(scenarios.Patient), testSpec(), okPPVs, okSlots)
	soldOut := Response{Status: 409, Code: "sold_out"}
	// Alternatives: 2 → after the third 409 the user gives up.
	for i := 0; i < 2; i++ {
		if act := j.Next(soldOut, time.Second); act.Done {
			t.Fatalf("gave up after %d sold-outs; want 2 alternatives", i+1)
		}
		j.Next(okSlots, time.Second)
	}
	if act := j.Next(soldOut, time.Second); !act.Done || act.Outcome != GaveUp || act.Reason != "sold_out" {
		t.Errorf("third sold-out: %+v; want gave up (sold_out)", act)
	}

	j, _ = journeyAt(testUser(scenarios.Patient), testSpec())
	var act Action
	for i := 0; i < 5; i++ {
		act = j.Next(Response{Status: 500}, time.Second)
	}
	if !act.Done || act.Reason != "attempts" {
		t.Errorf("after 5 failures: %+v; want gave up (attempts)", act)
	}
	// Refreshers never run out of attempts, only of patience.
	j, _ = journeyAt(testUser(scenarios.Refresher), testSpec())
	for i := 0; i < 50; i++ {
		if act = j.Next(Response{Status: 500}, time.Second); act.Done {
			t.Fatalf("refresher gave up after %d failures", i+1)
		}
	}
	if j.Requests != 51 {
		t.Errorf("refresher requests = %d; want 51", j.Requests)
	}
}

func TestJourneyDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []time.Duration {
		j, _ := journeyAt(testUser(scenarios.Patient), scenarios.JourneySpec{ThinkTime: time.Second, Patience: time.Hour, Alternatives: 1,
			Retry: scenarios.RetrySpec{Backoff: time.Second, MaxBackoff: 8 * time.Second, Jitter: 0.5}})
		var waits []time.Duration
		for _, r := range []Response{{Status: 500}, okPPVs, {Status: 503}, okSlots} {
			waits = append(waits, j.Next(r, time.Second).Wait)
		}
		return waits
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("waits differ between identical journeys: %v vs %v", a, b)
		}
	}
}

func TestFirstComeFairness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got  []float64
		want float64
	}{
		{[]float64{1, 1, 0, 0}, 0.894},
		{[]float64{0, 0, 1, 1}, -0.894},
		{[]float64{1, 1, 1, 1}, 0},
		{[]float64{1, 0, 0, 1}, 0},
	}
	for _, tt := range tests {
		if got := FirstComeFairness(tt.got); got < tt.want-0.001 || got > tt.want+0.001 {
			t.Errorf("FirstComeFairness(%v) = %.3f; want %.3f", tt.got, got, tt.want)
		}
	}
}

func roomSpec() (scenarios.JourneySpec, Policy) {
	spec := testSpec()
	p := PolicyFor(scenarios.Patient, spec)
	p.WaitingRoom = true
	return spec, p
}

func TestJourneyWaitingRoom(t *testing.T) {
	t.Parallel()
	_, p := roomSpec()
	j := NewJourney(testUser(scenarios.Patient), p)
	join := j.Start()
	if join.Req.Op != results.OpQueue || join.Req.Ticket != "" || join.Req.PersonID != "p3" {
		t.Fatalf("Start() = %+v; want a queue join for p3", join.Req)
	}
	poll := j.Next(Response{Status: 200, Ticket: "t1", RetryAfter: 5 * time.Second}, time.Second)
	if poll.Req.Op != results.OpQueue || poll.Req.Ticket != "t1" || poll.Wait != 5*time.Second {
		t.Fatalf("waiting answer -> %+v wait %v; want a poll of t1 after the 5s hint", poll.Req, poll.Wait)
	}
	// A patient user waits in the room within their patience (60 s).
	poll = j.Next(Response{Status: 200, Ticket: "t1", RetryAfter: 5 * time.Second}, 50*time.Second)
	if poll.Done {
		t.Fatalf("patient user left the room after 50 s: %+v", poll)
	}
	list := j.Next(Response{Status: 200, Ticket: "t1", Admitted: true, Token: "tok"}, 55*time.Second)
	if list.Req.Op != results.OpListPPVs || list.Req.Token != "tok" {
		t.Fatalf("admitted -> %+v; want list_ppvs with the token", list.Req)
	}
	// Patience now counts from admission (55 s), not arrival: at 105 s
	// the user is 50 s past admission.
	slots := j.Next(okPPVs, 105*time.Second)
	if slots.Done || slots.Req.Token != "tok" {
		t.Fatalf("after admission: %+v; want list_slots with the token", slots)
	}
	book := j.Next(okSlots, 106*time.Second)
	if book.Req.Op != results.OpBook || book.Req.Token != "tok" {
		t.Fatalf("-> %+v; want book with the token", book.Req)
	}
	// A refused token sends the user back to the room, once in a row.
	rejoin := j.Next(Response{Status: 403, Code: "token_expired"}, 107*time.Second)
	if rejoin.Req.Op != results.OpQueue || rejoin.Req.Ticket != "" || rejoin.Req.Token != "" {
		t.Fatalf("403 -> %+v; want a fresh queue join without token", rejoin.Req)
	}
}

func TestJourneyWaitingRoomBehaviours(t *testing.T) {
	t.Parallel()
	spec, _ := roomSpec()
	waiting := Response{Status: 200, Ticket: "t1", RetryAfter: 5 * time.Second}

	p := PolicyFor(scenarios.Refresher, spec)
	p.WaitingRoom = true
	j := NewJourney(testUser(scenarios.Refresher), p)
	j.Start()
	if act := j.Next(waiting, time.Second); act.Wait < 500*time.Millisecond || act.Wait > 1500*time.Millisecond {
		t.Errorf("refresher polls after %v; want a reload within 0.5-1.5 refresh intervals (1s), not the 5s hint", act.Wait)
	}

	p = PolicyFor(scenarios.Abandoner, spec)
	p.WaitingRoom = true
	j = NewJourney(testUser(scenarios.Abandoner), p)
	j.Start()
	if act := j.Next(waiting, 14*time.Second); !act.Done || act.Outcome != GaveUp || act.Reason != "waiting_room" {
		t.Errorf("abandoner after 14s in the room (patience 15s, next poll in 5s): %+v; want gave up (waiting_room)", act)
	}
}

// TestJourneyCountsRetries: only a booking-API request sent again after an
// error is a retry; a new request after a 409 is not, nor is a waiting-room
// poll. Sent leaves out a request that was decided but never sent.
func TestJourneyCountsRetries(t *testing.T) {
	t.Parallel()
	throttled := Response{Status: 429, RetryAfter: 10 * time.Millisecond}
	soldOut := Response{Status: 409, Code: "sold_out"}
	j, act := journeyAt(testUser(scenarios.Patient), testSpec(),
		okPPVs, throttled, okSlots, throttled, throttled, soldOut, okSlots)
	if act.Done || act.Req.Op != results.OpBook {
		t.Fatalf("after the script: %+v; want a booking", act)
	}
	// list_ppvs, list_slots x2, book x3, list_slots, book: 8 requests, 3 of
	// them retries after a 429.
	if j.Requests != 8 || j.Retries != 3 {
		t.Errorf("Requests %d, Retries %d; want 8 and 3", j.Requests, j.Retries)
	}
	if r, re := j.Sent(true); r != 8 || re != 3 {
		t.Errorf("Sent(true) = %d, %d; want 8, 3", r, re)
	}
	if r, re := j.Sent(false); r != 7 || re != 3 {
		t.Errorf("Sent(false) = %d, %d; want 7, 3 (the last booking was a first try)", r, re)
	}
	act = j.Next(throttled, 2*time.Second)
	if r, re := j.Sent(false); act.Done || r != 8 || re != 3 {
		t.Errorf("a retry decided, not sent: Sent(false) = %d, %d; want 8, 3", r, re)
	}

	// The waiting room: a join, two polls and an admission, then the
	// booking API; none of the room's requests is a retry.
	p := PolicyFor(scenarios.Patient, testSpec())
	p.WaitingRoom = true
	w := NewJourney(testUser(scenarios.Patient), p)
	w.Start()
	for _, r := range []Response{
		{Status: 202, Ticket: "t1", RetryAfter: time.Second},
		{Status: 202, Ticket: "t1", RetryAfter: time.Second},
		{Status: 200, Ticket: "t1", Admitted: true, Token: "tok"},
		throttled,
	} {
		w.Next(r, time.Second)
	}
	if w.Requests != 5 || w.Retries != 1 {
		t.Errorf("behind the room: Requests %d, Retries %d; want 5 (3 to the room) and 1", w.Requests, w.Retries)
	}
}

// Without a kind, Classify reads a response as API v1 (the model engine's
// answers): what the journey and the recorder keyed on before profiles.
// With one, the kind is what the response means, whatever its status.
func TestResponseClassify(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		resp Response
		want Kind
	}{
		{Response{Err: errors.New("timeout")}, KindTransport},
		{Response{Status: 200}, KindOK},
		{Response{Status: 201, BookingID: "b"}, KindOK},
		{Response{Status: 204}, KindOK},
		{Response{Status: 409, Code: "sold_out"}, KindSoldOut},
		{Response{Status: 409}, KindSoldOut},
		{Response{Status: 409, Code: "already_booked"}, KindAlreadyBooked},
		{Response{Status: 429}, KindThrottled},
		{Response{Status: 503}, KindOverloaded},
		{Response{Status: 500}, KindServerError},
		{Response{Status: 504}, KindServerError},
		{Response{Status: 403, Code: "not_admitted"}, KindNotAdmitted},
		{Response{Status: 404}, KindNotFound},
		{Response{Status: 400}, KindRejected},
		{Response{Status: 413}, KindRejected},
		{Response{Status: 401}, KindUnexpected},
		{Response{Status: 302}, KindUnexpected},
		{Response{Status: 410, Kind: KindSoldOut}, KindSoldOut},
		{Response{Status: 503, Kind: KindThrottled}, KindThrottled},
		{Response{Status: 200, Kind: KindSoldOut}, KindSoldOut},
		{Response{Status: 409, Code: "already_booked", Kind: KindUnexpected}, KindUnexpected},
	} {
		if got := c.resp.Classify(); got != c.want {
			t.Errorf("Classify(%+v) = %v; want %v", c.resp, got, c.want)
		}
	}
}

// The journey acts on what an answer means, not on its status: an answer
// of another API with a kind leads to the very action the API v1 answer of
// that kind leads to.
func TestJourneyFollowsKind(t *testing.T) {
	t.Parallel()
	room := testSpec()
	for _, c := range []struct {
		name   string
		prefix []Response
		resp   Response // with a kind, in another API's statuses
		v1     Response // the same meaning in API v1
	}{
		{"410 sold out", []Response{okPPVs, okSlots}, Response{Status: 410, Kind: KindSoldOut}, Response{Status: 409, Code: "sold_out"}},
		{"200 sold out", []Response{okPPVs, okSlots}, Response{Status: 200, Kind: KindSoldOut}, Response{Status: 409, Code: "sold_out"}},
		{"422 already booked", []Response{okPPVs, okSlots}, Response{Status: 422, Kind: KindAlreadyBooked}, Response{Status: 409, Code: "already_booked"}},
		{"503 throttled with advice", []Response{okPPVs, okSlots}, Response{Status: 503, Kind: KindThrottled, RetryAfter: 700 * time.Millisecond}, Response{Status: 429, RetryAfter: 700 * time.Millisecond}},
		{"409 unexpected is retried", []Response{okPPVs, okSlots}, Response{Status: 409, Code: "sold_out", Kind: KindUnexpected}, Response{Status: 500}},
		{"200 ok", []Response{okPPVs}, Response{Status: 200, Kind: KindOK, Slots: okSlots.Slots}, okSlots},
		{"410 not found on slots", []Response{okPPVs}, Response{Status: 410, Kind: KindNotFound}, Response{Status: 404}},
		{"transport", []Response{okPPVs}, Response{Err: errors.New("reset"), Kind: KindTransport}, Response{Err: errors.New("timeout")}},
	} {
		j1, _ := journeyAt(testUser(scenarios.Patient), room, c.prefix...)
		j2, _ := journeyAt(testUser(scenarios.Patient), room, c.prefix...)
		got, want := j1.Next(c.resp, time.Second), j2.Next(c.v1, time.Second)
		if got != want {
			t.Errorf("%s: Next = %+v; want %+v", c.name, got, want)
		}
	}
	for _, c := range []struct {
		name   string
		resp   Response
		reason string
	}{
		{"422 rejected gives up", Response{Status: 422, Kind: KindRejected}, "status 422"},
		{"401 not admitted without a room gives up", Response{Status: 401, Kind: KindNotAdmitted}, "status 401"},
	} {
		j, _ := journeyAt(testUser(scenarios.Patient), room, okPPVs, okSlots)
		if act := j.Next(c.resp, time.Second); !act.Done || act.Outcome != GaveUp || act.Reason != c.reason {
			t.Errorf("%s: Next = %+v; want gave up (%s)", c.name, act, c.reason)
		}
	}
	p := PolicyFor(scenarios.Patient, room)
	p.WaitingRoom = true
	j := NewJourney(testUser(scenarios.Patient), p)
	j.Start()
	j.Next(Response{Status: 200, Ticket: "t", Admitted: true, Token: "tok"}, time.Second)
	if act := j.Next(Response{Status: 401, Kind: KindNotAdmitted}, time.Second); act.Done || act.Req.Op != results.OpQueue || act.Req.Token != "" {
		t.Errorf("401 not admitted in a room: Next = %+v; want back to the room without the token", act)
	}
}

// The recorder counts answers by what they mean and requests by the
// status observed.
func TestRecorderCountsByKind(t *testing.T) {
	t.Parallel()
	start := time.Unix(1_700_000_000, 0)
	rec := NewRecorder(start, 1)
	rec.Arrived(0, start)
	for _, resp := range []Response{
		{Status: 503, Kind: KindThrottled},
		{Status: 503, Kind: KindOverloaded},
		{Status: 503}, // the model's: overloaded
		{Status: 410, Kind: KindSoldOut},
		{Status: 422, Kind: KindAlreadyBooked},
		{Status: 200, Kind: KindSoldOut},
		{Status: 409, Kind: KindUnexpected},
		{Status: 200, Kind: KindOK, BookingID: "b1"},
		{Err: errors.New("reset"), Kind: KindTransport},
	} {
		rec.Record(0, results.OpBook, resp, start, start.Add(time.Millisecond))
	}
	var d results.DesignResult
	booked, err := rec.Fill(&d)
	if err != nil {
		t.Fatal(err)
	}
	p := d.Timeline[0]
	if p.OK != 1 || p.Booked != 1 || p.Conflict != 3 || p.Throttled != 1 || p.ServerErr != 2 || p.Transport != 1 || p.Errors != 4 {
		t.Errorf("timeline %+v; want ok 1, booked 1, conflict 3, throttled 1, server errors 2, transport 1, errors 4", p)
	}
	want := map[string]int64{"503": 3, "410": 1, "422": 1, "200": 2, "409": 1}
	if !maps.Equal(d.Requests.ByStatus, want) || d.Requests.TransportErrors != 1 || d.Requests.Total != 9 {
		t.Errorf("requests %+v; want by status %v, 1 transport error, 9 in all", d.Requests, want)
	}
	if len(booked) != 1 || booked[0] != "b1" {
		t.Errorf("booked %v; want [b1]", booked)
	}
}
