package refserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

// startCentreRooms starts a per-ppv-day server with a waiting room per
// centre of policy p over inv in dir (fresh when empty), on the frozen
// clock clk. Without limits, every centre admits p.AdmitPerInterval.
func startCentreRooms(t testing.TB, p models.RoomPolicy, inv models.Inventory, dir string, clk *frozenClock, opts ...Option) *testServer {
	t.Helper()
	d, err := models.ParseDesign("per-ppv-day"+models.CentreRoomsSuffix, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	d.Room = p
	return startDesign(t, d, inv, dir, append([]Option{WithNow(clk.now)}, opts...)...)
}

// joinAt joins the queue of centre ppv.
func (ts *testServer) joinAt(t testing.TB, person, ppv string) reply {
	t.Helper()
	return ts.do(t, http.MethodPost, "/api/v1/queue", strings.NewReader(fmt.Sprintf(`{"person_id":%q,"ppv":%q}`, person, ppv)),
		map[string]string{"Content-Type": "application/json"})
}

// admittedAt joins person to centre ppv's queue, runs a round and returns
// the admission token.
func admittedAt(t *testing.T, ts *testServer, clk *frozenClock, person, ppv string) string {
	t.Helper()
	q := ts.joinAt(t, person, ppv).queue(t)
	if q.State != StateAdmitted {
		clk.add(time.Second)
		q = ts.poll(t, q.Ticket).queue(t)
	}
	if q.State != StateAdmitted || q.Token == "" {
		t.Fatalf("%s at %s after a round = %+v; want admitted", person, ppv, q)
	}
	if !strings.HasPrefix(q.Ticket, ppv+".t") {
		t.Errorf("ticket %q does not name centre %s", q.Ticket, ppv)
	}
	return q.Token
}

// TestCentreRoomsTokenBoundToCentre: a token admits to its own centre's
// slots and bookings; another centre's answer 403 token_wrong_centre; the
// list of centres takes any valid token; a join must name a known centre.
func TestCentreRoomsTokenBoundToCentre(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	clk := &frozenClock{t: t0}
	ts := startCentreRooms(t, roomPolicy, inv, "", clk)
	tok := admittedAt(t, ts, clk, "ali", "wtc-kl")
	day := inv.Slots[0].Date
	auth := map[string]string{"Authorization": "Bearer " + tok}
	cases := []struct {
		name         string
		do           func() reply
		status       int
		code         string
		rejectsCount int64
	}{
		{"list centres", func() reply { return ts.do(t, http.MethodGet, "/api/v1/ppvs", nil, auth) }, 200, "", 0},
		{"list own centre", func() reply { return ts.do(t, http.MethodGet, "/api/v1/ppvs/wtc-kl/slots", nil, auth) }, 200, "", 0},
		{"list other centre", func() reply { return ts.do(t, http.MethodGet, "/api/v1/ppvs/um/slots", nil, auth) }, 403, string(CodeTokenWrongCentre), 1},
		{"book other centre", func() reply { return ts.bookWith(t, tok, "ali", "um", day) }, 403, string(CodeTokenWrongCentre), 2},
		{"book own centre", func() reply { return ts.bookWith(t, tok, "ali", "wtc-kl", day) }, 201, "", 2},
		{"join without centre", func() reply { return ts.join(t, "bob") }, 400, string(CodeInvalidRequest), 2},
		{"join unknown centre", func() reply { return ts.joinAt(t, "bob", "nowhere") }, 404, string(CodeNotFound), 2},
	}
	for _, c := range cases {
		r := c.do()
		if r.status != c.status || (c.code != "" && r.code() != c.code) {
			t.Errorf("%s = %d %s; want %d %s", c.name, r.status, r.body, c.status, c.code)
		}
		if got := ts.Stats().Room.TokensRejected[CodeTokenWrongCentre]; got != c.rejectsCount {
			t.Errorf("after %s: %d refused token_wrong_centre; want %d", c.name, got, c.rejectsCount)
		}
	}
}

// TestCentreRoomsRejoinAfterFull: a person admitted to a centre that fills
// up is told 409 sold_out by its queue, joins another centre's queue at
// the back, is admitted there and books; the first token stays bound to
// the first centre.
func TestCentreRoomsRejoinAfterFull(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	for i := range inv.Slots {
		if inv.Slots[i].PPV == "um" {
			inv.Slots[i].Capacity = 1
		}
	}
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.AdmitPerInterval = 1
	ts := startCentreRooms(t, p, inv, "", clk)
	umDays := inv.SlotsOf("um")
	var tokens []string
	for i := range len(umDays) + 1 {
		tokens = append(tokens, admittedAt(t, ts, clk, fmt.Sprint("p", i), "um"))
	}
	last := len(umDays) // admitted, but the others take every place
	for i, sl := range umDays {
		if r := ts.bookWith(t, tokens[i], fmt.Sprint("p", i), "um", sl.Date); r.status != http.StatusCreated {
			t.Fatalf("p%d books um %s = %d %s", i, sl.Date, r.status, r.body)
		}
	}
	person := fmt.Sprint("p", last)
	q := ts.joinAt(t, person, "um")
	if q.status != http.StatusConflict || q.code() != string(CodeSoldOut) {
		t.Fatalf("%s's queue at full um = %d %s; want 409 sold_out", person, q.status, q.body)
	}
	// Another centre's queue has people ahead: the rejoiner is behind them.
	for _, other := range []string{"x1", "x2"} {
		ts.joinAt(t, other, "idcc-shah-alam")
	}
	w := ts.joinAt(t, person, "idcc-shah-alam").queue(t)
	if w.State != StateWaiting || w.Position != 2 {
		t.Fatalf("%s rejoins at idcc = %+v; want waiting at position 2 (the back)", person, w)
	}
	clk.add(3 * time.Second)
	a := ts.poll(t, w.Ticket).queue(t)
	if a.State != StateAdmitted {
		t.Fatalf("%s after three rounds = %+v; want admitted", person, a)
	}
	day := inv.SlotsOf("idcc-shah-alam")[0].Date
	if r := ts.bookWith(t, tokens[last], person, "idcc-shah-alam", day); r.status != http.StatusForbidden || r.code() != string(CodeTokenWrongCentre) {
		t.Errorf("%s books idcc with um's token = %d %s; want 403 token_wrong_centre", person, r.status, r.body)
	}
	if r := ts.bookWith(t, a.Token, person, "idcc-shah-alam", day); r.status != http.StatusCreated {
		t.Errorf("%s books idcc with its token = %d %s; want 201", person, r.status, r.body)
	}
}

// TestCentreRoomsRestart: every centre's tickets, admissions and tokens
// survive a restart on the same data, each in its own centre.
func TestCentreRoomsRestart(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	dir := t.TempDir()
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.AdmitPerInterval = 2
	ts := startCentreRooms(t, p, inv, dir, clk, WithOpensAt(t0.Add(time.Second)))
	type key struct{ person, ppv string }
	before := map[key]QueueStatus{}
	for i := range 5 {
		for _, ppv := range []string{"wtc-kl", "um"} {
			ts.joinAt(t, fmt.Sprint("p", i), ppv)
		}
	}
	clk.add(2 * time.Second) // two rounds: 4 admitted at each centre
	for i := range 6 {
		for _, ppv := range []string{"wtc-kl", "um"} {
			k := key{fmt.Sprint("p", i), ppv}
			before[k] = ts.joinAt(t, k.person, ppv).queue(t)
		}
	}
	stBefore := ts.roomStats(t)
	if stBefore.Admitted != 8 || stBefore.Waiting != 4 || stBefore.Tickets != 12 {
		t.Fatalf("before restart: %+v; want 8 admitted, 4 waiting, 12 tickets", stBefore)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}
	ts2 := startCentreRooms(t, p, inv, dir, clk, WithOpensAt(t0.Add(time.Hour)))
	if st := ts2.roomStats(t); st.Admitted != stBefore.Admitted || st.Waiting != stBefore.Waiting || st.Tickets != stBefore.Tickets {
		t.Errorf("after restart: %+v; want %+v", st, stBefore)
	}
	for k, want := range before {
		got := ts2.poll(t, want.Ticket).queue(t)
		if got.Ticket != want.Ticket || got.State != want.State || got.Position != want.Position || got.Token != want.Token {
			t.Errorf("%v after restart = %+v; want %+v", k, got, want)
		}
		if want.State != StateAdmitted {
			continue
		}
		r := ts2.do(t, http.MethodGet, "/api/v1/ppvs/"+k.ppv+"/slots", nil, map[string]string{"Authorization": "Bearer " + want.Token})
		if r.status != http.StatusOK {
			t.Errorf("%v's token from before the restart at its centre = %d %s; want 200", k, r.status, r.body)
		}
	}
}

// TestCentreRoomsSteerDays: a centre's room names, in each admitted
// person's answer, a day of its centre with places left, the days in turn
// by rank; a sold-out day is skipped; the named day books.
func TestCentreRoomsSteerDays(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory() // 3 days per centre
	days := inv.SlotsOf("um")
	for i := range inv.Slots {
		if inv.Slots[i].PPV == "um" && inv.Slots[i].Date == days[0].Date {
			inv.Slots[i].Capacity = 1
		}
	}
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.AdmitPerInterval = 10
	ts := startCentreRooms(t, p, inv, "", clk)
	var got []string
	var first QueueStatus
	for i := range 4 {
		q := ts.joinAt(t, fmt.Sprint("p", i), "um").queue(t)
		if q.State != StateAdmitted {
			clk.add(time.Second)
			q = ts.poll(t, q.Ticket).queue(t)
		}
		if i == 0 {
			first = q
		}
		got = append(got, q.Date)
	}
	want := []string{days[0].Date.String(), days[1].Date.String(), days[2].Date.String(), days[0].Date.String()}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("days named to the first four admitted = %v; want %v", got, want)
	}
	if r := ts.bookWith(t, first.Token, "p0", "um", days[0].Date); r.status != http.StatusCreated {
		t.Fatalf("p0 books the day named = %d %s; want 201", r.status, r.body)
	}
	// The first day is sold out once a booking there is refused.
	if r := ts.bookWith(t, admittedAt(t, ts, clk, "p9", "um"), "p9", "um", days[0].Date); r.status != http.StatusConflict {
		t.Fatalf("p9 books the full day = %d %s; want 409", r.status, r.body)
	}
	q := ts.poll(t, first.Ticket).queue(t)
	if q.Date != days[1].Date.String() { // rank 0 of the two days left
		t.Errorf("after the first day sold out, rank 0 is named %s; want %s", q.Date, days[1].Date)
	}
	// With 2 of 3 days open, a round admits 7 of its 10 (rounded up).
	before := ts.roomStats(t).Admitted
	for i := range 20 {
		ts.joinAt(t, fmt.Sprint("w", i), "um")
	}
	clk.add(time.Second)
	if got := ts.roomStats(t).Admitted - before; got != 7 {
		t.Errorf("a round with 2 of 3 days open admits %d; want 7", got)
	}
}

// TestRoomQueueFull: with max_wait, a join behind more people than the
// room admits in max_wait is refused 409 queue_full and makes no ticket;
// those already queued keep their place, and a join is taken again once
// the queue is short.
func TestRoomQueueFull(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.AdmitPerInterval, p.MaxWait = 2, time.Second // 4 waiting already take 2 rounds
	ts := startCentreRooms(t, p, inv, "", clk, WithOpensAt(t0.Add(time.Hour)))
	for i := range 4 {
		if q := ts.joinAt(t, fmt.Sprint("p", i), "um"); q.status != http.StatusOK {
			t.Fatalf("p%d joins = %d %s; want 200", i, q.status, q.body)
		}
	}
	r := ts.joinAt(t, "late", "um")
	if r.status != http.StatusConflict || r.code() != string(CodeQueueFull) || !strings.Contains(string(r.body), `centre \"um\"`) {
		t.Fatalf("a fifth join = %d %s; want 409 queue_full naming the centre", r.status, r.body)
	}
	if st := ts.roomStats(t); st.Tickets != 4 {
		t.Errorf("tickets after the refused join = %d; want 4", st.Tickets)
	}
	if q := ts.joinAt(t, "p0", "um"); q.status != http.StatusOK {
		t.Errorf("p0 joins again = %d %s; want 200 (its place)", q.status, q.body)
	}
	if q := ts.joinAt(t, "late", "wtc-kl"); q.status != http.StatusOK {
		t.Errorf("late joins another centre = %d %s; want 200", q.status, q.body)
	}
	clk.add(time.Hour + time.Second) // the opening and a round: all 4 admitted
	if q := ts.joinAt(t, "late", "um"); q.status != http.StatusOK {
		t.Errorf("late joins um once nobody waits = %d %s; want 200", q.status, q.body)
	}
}
