package refserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/store"
)

// t0 is the frozen clock's start in waiting-room tests.
var t0 = time.Date(2021, 5, 26, 12, 0, 0, 0, time.UTC)

// startRoom starts a per-ppv-day server with a waiting room of policy p over
// inv in dir (a fresh one when empty), on the frozen clock clk when given.
func startRoom(t testing.TB, p models.RoomPolicy, inv models.Inventory, dir string, clk *frozenClock, opts ...Option) *testServer {
	t.Helper()
	d, err := models.ParseDesign("per-ppv-day"+models.WaitingRoomSuffix, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	d.Room = p
	if clk != nil {
		opts = append([]Option{WithNow(clk.now)}, opts...)
	}
	return startDesign(t, d, inv, dir, opts...)
}

func (c *frozenClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *frozenClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (r reply) queue(t testing.TB) QueueStatus {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("queue answer %d %s; want 200", r.status, r.body)
	}
	var q QueueStatus
	if err := json.Unmarshal(r.body, &q); err != nil {
		t.Fatalf("decode queue status %q: %v", r.body, err)
	}
	return q
}

func (ts *testServer) join(t testing.TB, person string) reply {
	t.Helper()
	return ts.do(t, http.MethodPost, "/api/v1/queue", strings.NewReader(fmt.Sprintf(`{"person_id":%q}`, person)),
		map[string]string{"Content-Type": "application/json"})
}

func (ts *testServer) poll(t testing.TB, ticket string) reply {
	t.Helper()
	return ts.do(t, http.MethodGet, "/api/v1/queue/"+ticket, nil, nil)
}

// bookWith posts a booking with an admission token ("" for none).
func (ts *testServer) bookWith(t testing.TB, token, person, ppv string, date models.Date) reply {
	t.Helper()
	body := fmt.Sprintf(`{"person_id":%q,"ppv":%q,"date":%q}`, person, ppv, date)
	h := map[string]string{"Content-Type": "application/json"}
	if token != "" {
		h["Authorization"] = "Bearer " + token
	}
	return ts.do(t, http.MethodPost, "/api/v1/bookings", strings.NewReader(body), h)
}

func (ts *testServer) roomStats(t testing.TB) RoomStats {
	t.Helper()
	st := ts.Stats().Room
	if st == nil {
		t.Fatal("Stats().Room is nil with a waiting room")
	}
	return *st
}

var roomPolicy = models.RoomPolicy{AdmitPerInterval: 5, Interval: time.Second, Order: models.RoomFIFO, TokenTTL: time.Hour}

// TestRoomTokens: with the room on, every booking API call without a valid
// admission token is refused 403 with the reason's code, before touching the
// store; a valid token works.
func TestRoomTokens(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.TokenTTL = time.Minute
	ts := startRoom(t, p, inv, "", clk)

	q := ts.join(t, "ali").queue(t)
	if q.State != StateWaiting || q.Position != 0 || q.Token != "" {
		t.Fatalf("join before the first round = %+v; want waiting at position 0 without a token", q)
	}
	clk.add(time.Second)
	q = ts.poll(t, q.Ticket).queue(t)
	if q.State != StateAdmitted || q.Token == "" || !q.ExpiresAt.Equal(t0.Add(time.Second+time.Minute)) {
		t.Fatalf("poll after a round = %+v; want admitted with a token expiring %v", q, t0.Add(time.Second+time.Minute))
	}
	good := q.Token
	bq := ts.join(t, "bob").queue(t)
	clk.add(time.Second)
	bob := ts.poll(t, bq.Ticket).queue(t).Token

	// A token of another key, for the same claims: forged.
	other := newSigner([]byte(strings.Repeat("k", 32)))
	forged := other.sign(claims{person: "ali", ticket: q.Ticket, expires: q.ExpiresAt})
	// The MAC's first character changed: forged. The last one may only
	// change unused bits, which strict decoding refuses: malformed.
	dot := strings.IndexByte(good, '.')
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	slot := inv.Slots[0]
	before := ts.audit(t)
	calls := []struct {
		name, method, path, body string
	}{
		{"list PPVs", "GET", "/api/v1/ppvs", ""},
		{"list slots", "GET", "/api/v1/ppvs/" + slot.PPV + "/slots", ""},
		{"book", "POST", "/api/v1/bookings", fmt.Sprintf(`{"person_id":"ali","ppv":%q,"date":%q}`, slot.PPV, slot.Date)},
		{"get booking", "GET", "/api/v1/bookings/b0-NOPE", ""},
	}
	for _, tt := range []struct {
		name   string
		header string // Authorization; "-" for none
		code   Code
	}{
		{"missing", "-", CodeTokenMissing},
		{"blank", "  ", CodeTokenMissing},
		{"basic scheme", "Basic YWxpOnNlY3JldA==", CodeTokenInvalid},
		{"no token", "Bearer", CodeTokenInvalid},
		{"garbage", "Bearer not-a-token", CodeTokenInvalid},
		{"two parts garbage", "Bearer a.b", CodeTokenInvalid},
		{"padded", "Bearer " + good + "=", CodeTokenInvalid},
		{"other key", "Bearer " + forged, CodeTokenInvalid},
		{"flipped payload", "Bearer " + flip(good, 3), CodeTokenInvalid},
		{"flipped MAC", "Bearer " + flip(good, dot+1), CodeTokenInvalid},
		{"truncated", "Bearer " + good[:len(good)-2], CodeTokenInvalid},
		{"long", "Bearer " + strings.Repeat("A", maxTokenLen) + "." + strings.Repeat("A", 43), CodeTokenInvalid},
	} {
		for _, c := range calls {
			h := map[string]string{"Content-Type": "application/json"}
			if tt.header != "-" {
				h["Authorization"] = tt.header
			}
			r := ts.do(t, c.method, c.path, strings.NewReader(c.body), h)
			if r.status != http.StatusForbidden || r.code() != string(tt.code) {
				t.Errorf("%s with %s token = %d %s; want 403 %s", c.name, tt.name, r.status, r.body, tt.code)
			}
		}
	}
	// Ali's token for Bob's booking: the wrong person.
	if r := ts.bookWith(t, good, "bob", slot.PPV, slot.Date); r.status != 403 || r.code() != string(CodeTokenWrongPerson) {
		t.Errorf("booking for bob with ali's token = %d %s; want 403 token_wrong_person", r.status, r.body)
	}
	// Expired: the clock past the admission's end.
	clk.set(q.ExpiresAt)
	if r := ts.bookWith(t, good, "ali", slot.PPV, slot.Date); r.status != 403 || r.code() != string(CodeTokenExpired) {
		t.Errorf("booking with an expired token = %d %s; want 403 token_expired", r.status, r.body)
	}
	if after := ts.audit(t); after.Bookings != before.Bookings || after.Booked != before.Booked {
		t.Errorf("refused calls changed the store: bookings %d → %d", before.Bookings, after.Bookings)
	}

	// Bob's token is still valid (admitted a second later): everything works.
	auth := map[string]string{"Authorization": "Bearer " + bob}
	for _, c := range calls[:2] {
		if r := ts.do(t, c.method, c.path, nil, auth); r.status != 200 {
			t.Errorf("%s with a valid token = %d %s; want 200", c.name, r.status, r.body)
		}
	}
	r := ts.bookWith(t, bob, "bob", slot.PPV, slot.Date)
	if r.status != http.StatusCreated {
		t.Fatalf("booking with a valid token = %d %s; want 201", r.status, r.body)
	}
	b := r.booking(t)
	if r := ts.do(t, "GET", "/api/v1/bookings/"+b.ID, nil, auth); r.status != 200 {
		t.Errorf("get booking with a valid token = %d %s; want 200", r.status, r.body)
	}
	// Health and metrics stay open.
	for _, path := range []string{"/healthz", "/metrics"} {
		if r := ts.do(t, "GET", path, nil, nil); r.status != 200 {
			t.Errorf("GET %s without a token = %d; want 200", path, r.status)
		}
	}
	rs := ts.roomStats(t)
	want := map[Code]int64{
		CodeTokenMissing: 2 * 4, CodeTokenInvalid: 10 * 4, CodeTokenWrongPerson: 1, CodeTokenExpired: 1,
	}
	for c, n := range want {
		if rs.TokensRejected[c] != n {
			t.Errorf("TokensRejected[%s] = %d; want %d (all: %v)", c, rs.TokensRejected[c], n, rs.TokensRejected)
		}
	}
	m := ts.do(t, "GET", "/metrics", nil, nil)
	for _, s := range []string{`slotrush_room_tokens_rejected_total{reason="token_invalid"} 40`, "slotrush_room_admitted_total 2", "slotrush_room_waiting 0", "slotrush_room_active"} {
		if !strings.Contains(string(m.body), s) {
			t.Errorf("/metrics lacks %q", s)
		}
	}
}

// admissionOrder polls every ticket round after round (the frozen clock
// moving one interval each time) until all are admitted, and returns the
// round at which each person was first seen admitted.
func admissionOrder(t *testing.T, ts *testServer, clk *frozenClock, tickets map[string]string, interval time.Duration, maxRounds int) map[string]int {
	t.Helper()
	round := map[string]int{}
	for r := 0; r < maxRounds && len(round) < len(tickets); r++ {
		for person, tk := range tickets {
			if _, done := round[person]; done {
				continue
			}
			if q := ts.poll(t, tk).queue(t); q.State == StateAdmitted {
				round[person] = r
			}
		}
		clk.add(interval)
	}
	if len(round) != len(tickets) {
		t.Fatalf("%d of %d people admitted after %d rounds", len(round), len(tickets), maxRounds)
	}
	return round
}

// TestRoomOrderAtOpening: N people join before the opening, M after. FIFO
// admits them in join order; random admits the early crowd in a shuffled
// order (a permutation of it), and everyone who came after the opening after
// all of the early crowd, in join order.
func TestRoomOrderAtOpening(t *testing.T) {
	t.Parallel()
	const n, m, k = 40, 10, 5
	for _, order := range []string{models.RoomFIFO, models.RoomRandom} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			clk := &frozenClock{t: t0}
			p := roomPolicy
			p.Order = order
			opens := t0.Add(10 * time.Second)
			ts := startRoom(t, p, models.SmallInventory(), "", clk, WithOpensAt(opens), WithRoomSeed(42))
			tickets := map[string]string{}
			var early, late []string
			for i := range n {
				person := fmt.Sprintf("early-%02d", i)
				q := ts.join(t, person).queue(t)
				// Before the opening, either order counts the others present.
				if q.Position != int64(i) {
					t.Errorf("%s's position before opening (%s) = %d; want %d", person, order, q.Position, i)
				}
				if toOpen := opens.Sub(clk.now()).Seconds(); q.EstimatedWaitS < toOpen-1e-9 {
					t.Errorf("%s's estimated wait before opening = %v s; want at least the %v s to opening", person, q.EstimatedWaitS, toOpen)
				}
				tickets[person] = q.Ticket
				early = append(early, person)
				clk.add(100 * time.Millisecond)
			}
			clk.set(opens.Add(time.Millisecond)) // the opening round ran
			for i := range m {
				person := fmt.Sprintf("late-%02d", i)
				q := ts.join(t, person).queue(t)
				if q.State != StateWaiting || q.Position != int64(n-k+i) {
					t.Errorf("%s's status after opening = %+v; want waiting at position %d", person, q, n-k+i)
				}
				tickets[person] = q.Ticket
				late = append(late, person)
			}
			round := admissionOrder(t, ts, clk, tickets, time.Second, 2*(n+m)/k)
			// Rounds are the opening, then every second: k per round.
			perRound := map[int]int{}
			for _, r := range round {
				perRound[r]++
			}
			for r, c := range perRound {
				if c != k {
					t.Errorf("round %d admitted %d; want %d", r, c, k)
				}
			}
			lastEarly := 0
			inOrder := true
			for i, person := range early {
				lastEarly = max(lastEarly, round[person])
				if round[person] != i/k {
					inOrder = false
				}
			}
			for i, person := range late {
				if round[person] <= lastEarly {
					t.Errorf("%s (after opening) admitted in round %d, not after the early crowd (last in round %d)", person, round[person], lastEarly)
				}
				if want := n/k + i/k; round[person] != want {
					t.Errorf("%s admitted in round %d; want %d (join order behind the early crowd)", person, round[person], want)
				}
			}
			switch order {
			case models.RoomFIFO:
				if !inOrder {
					t.Errorf("fifo admitted the early crowd out of join order: %v", round)
				}
			case models.RoomRandom:
				if inOrder {
					t.Errorf("random admitted the early crowd in join order: %v", round)
				}
			}
		})
	}
}

// TestRoomRate: with AdmitPerInterval k every Interval, after t intervals
// at most k*(t+1) are admitted (the opening round, then one per interval),
// exactly that many while people wait.
func TestRoomRate(t *testing.T) {
	t.Parallel()
	const crowd, k = 40, 3
	clk := &frozenClock{t: t0}
	p := models.RoomPolicy{AdmitPerInterval: k, Interval: 250 * time.Millisecond, Order: models.RoomFIFO, TokenTTL: time.Hour}
	ts := startRoom(t, p, models.SmallInventory(), "", clk, WithOpensAt(t0.Add(time.Second)))
	var tickets []string
	for i := range crowd {
		tickets = append(tickets, ts.join(t, fmt.Sprint("p", i)).queue(t).Ticket)
	}
	clk.set(t0.Add(time.Second))
	for step := range 20 {
		want := int64(min(crowd, k*(step+1)))
		if st := ts.roomStats(t); st.Admitted != want || st.Waiting != crowd-want || st.Active != want {
			t.Errorf("after %d intervals: %+v; want %d admitted and active, %d waiting", step, st, want, crowd-want)
		}
		admitted := 0
		for i, tk := range tickets {
			q := ts.poll(t, tk).queue(t)
			if q.State == StateAdmitted {
				admitted++
				continue
			}
			if q.Position != int64(i)-want {
				t.Errorf("after %d intervals, p%d at position %d; want %d", step, i, q.Position, int64(i)-want)
			}
		}
		if int64(admitted) != want {
			t.Errorf("after %d intervals %d tickets poll admitted; want %d", step, admitted, want)
		}
		// Part of an interval admits nobody more.
		clk.add(200 * time.Millisecond)
		if st := ts.roomStats(t); st.Admitted != want {
			t.Errorf("within interval %d: %d admitted; want %d", step, st.Admitted, want)
		}
		clk.add(50 * time.Millisecond)
	}
}

// TestRoomRateRealClock: on the real clock, whatever the scheduling delays,
// the room never admits more than the rate allows.
func TestRoomRateRealClock(t *testing.T) {
	t.Parallel()
	const crowd, k = 200, 4
	interval := 50 * time.Millisecond
	p := models.RoomPolicy{AdmitPerInterval: k, Interval: interval, Order: models.RoomRandom, TokenTTL: time.Hour}
	start := time.Now()
	ts := startRoom(t, p, models.SmallInventory(), "", nil)
	var tickets [crowd]string
	parallel(crowd, func(i int) { tickets[i] = ts.join(t, fmt.Sprint("p", i)).queue(t).Ticket })
	for range 10 {
		time.Sleep(interval / 2)
		parallel(20, func(i int) { ts.poll(t, tickets[i*7%crowd]) })
		st := ts.roomStats(t)
		limit := int64(k) * (int64(time.Since(start)/interval) + 1)
		if st.Admitted > limit || st.Admitted+st.Waiting != crowd {
			t.Errorf("%v after start: %+v; want at most %d admitted of %d", time.Since(start), st, limit, crowd)
		}
	}
}

// TestRoomMaxActive: MaxActive caps the active people; a booking frees a
// place at once, an expiry frees them all.
func TestRoomMaxActive(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	clk := &frozenClock{t: t0}
	p := models.RoomPolicy{AdmitPerInterval: 100, Interval: time.Second, MaxActive: 3, Order: models.RoomFIFO, TokenTTL: time.Minute}
	ts := startRoom(t, p, inv, "", clk, WithOpensAt(t0.Add(time.Second)))
	tickets := map[string]string{}
	for i := range 10 {
		person := fmt.Sprint("p", i)
		tickets[person] = ts.join(t, person).queue(t).Ticket
	}
	clk.set(t0.Add(time.Second))
	check := func(when string, admitted, active int64) {
		t.Helper()
		if st := ts.roomStats(t); st.Admitted != admitted || st.Active != active {
			t.Errorf("%s: %+v; want %d admitted, %d active", when, st, admitted, active)
		}
	}
	check("at opening", 3, 3)
	clk.add(5 * time.Second)
	check("5 rounds later, nobody booked", 3, 3)

	q := ts.poll(t, tickets["p0"]).queue(t)
	slot := inv.Slots[0]
	if r := ts.bookWith(t, q.Token, "p0", slot.PPV, slot.Date); r.status != http.StatusCreated {
		t.Fatalf("p0 books = %d %s", r.status, r.body)
	}
	check("after p0 booked, before the next round", 3, 2)
	clk.add(time.Second)
	check("the round after p0 booked", 4, 3)
	if q := ts.poll(t, tickets["p3"]).queue(t); q.State != StateAdmitted {
		t.Errorf("p3 after p0 booked = %+v; want admitted", q)
	}
	// Booking again (a replay, or 409) frees nothing more.
	if r := ts.bookWith(t, q.Token, "p0", slot.PPV, slot.Date); r.status != http.StatusConflict {
		t.Errorf("p0 books again = %d %s; want 409", r.status, r.body)
	}
	clk.add(time.Second)
	check("p0 booking again", 4, 3)

	// Every admission expires a minute after its round: the next round
	// admits three more.
	clk.add(time.Minute)
	check("after the tokens expired", 7, 3)
	// Polling (or joining) after the admission expired re-enters the queue
	// at the back, with the same ticket.
	q = ts.poll(t, tickets["p1"]).queue(t)
	if q.Ticket != tickets["p1"] || q.State != StateWaiting || q.Token != "" || q.Position != 3 {
		t.Errorf("p1 polls after expiry = %+v; want waiting with ticket %s at position 3 (behind p7..p9), no token", q, tickets["p1"])
	}
	q = ts.join(t, "p2").queue(t)
	if q.Ticket != tickets["p2"] || q.State != StateWaiting || q.Position != 4 {
		t.Errorf("p2 joins after expiry = %+v; want waiting with ticket %s at position 4 (behind p7..p9, p1)", q, tickets["p2"])
	}
	if q := ts.join(t, "p1").queue(t); q.Ticket != tickets["p1"] || q.Position != 3 {
		t.Errorf("p1 joins again = %+v; want the same place", q)
	}
	check("p1 and p2 re-entered", 7, 3)
}

// TestRoomIdempotentJoin: joining again, even concurrently, returns the same
// ticket.
func TestRoomIdempotentJoin(t *testing.T) {
	t.Parallel()
	ts := startRoom(t, roomPolicy, models.SmallInventory(), "", nil, WithOpensAt(time.Now().Add(time.Hour)))
	var mu sync.Mutex
	seen := map[string]int{}
	parallel(32, func(i int) {
		q := ts.join(t, fmt.Sprint("p", i%4)).queue(t)
		if q.PersonID != fmt.Sprint("p", i%4) {
			t.Errorf("join of p%d answered for %q", i%4, q.PersonID)
		}
		mu.Lock()
		seen[q.PersonID+" "+q.Ticket]++
		mu.Unlock()
	})
	if len(seen) != 4 {
		t.Errorf("4 people joining 8 times each got tickets %v; want one each", seen)
	}
	if st := ts.roomStats(t); st.Tickets != 4 || st.Waiting != 4 || st.Opened {
		t.Errorf("room = %+v; want 4 tickets waiting, not opened", st)
	}
	for key := range seen {
		person, tk, _ := strings.Cut(key, " ")
		if q := ts.poll(t, tk).queue(t); q.PersonID != person || q.Ticket != tk {
			t.Errorf("poll %s = %+v; want %s's ticket", tk, q, person)
		}
	}
}

// TestRoomRestart: a server restarted on the same data keeps every ticket,
// its place (the random order drawn at opening included) and its admitted
// state, and accepts the tokens it issued before.
func TestRoomRestart(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	dir := t.TempDir()
	clk := &frozenClock{t: t0}
	p := roomPolicy
	p.Order = models.RoomRandom
	opens := t0.Add(time.Second)
	ts := startRoom(t, p, inv, dir, clk, WithOpensAt(opens), WithRoomSeed(7))
	var people []string
	for i := range 30 {
		people = append(people, fmt.Sprint("p", i))
		ts.join(t, people[i])
	}
	clk.set(opens.Add(2 * time.Second)) // three rounds: 15 admitted
	for i := 30; i < 35; i++ {
		people = append(people, fmt.Sprint("p", i))
		ts.join(t, people[i])
	}
	before := map[string]QueueStatus{}
	for _, person := range people {
		before[person] = ts.join(t, person).queue(t)
	}
	slot := inv.Slots[0]
	var booker string
	for _, person := range people {
		if before[person].State == StateAdmitted {
			booker = person
			break
		}
	}
	if r := ts.bookWith(t, before[booker].Token, booker, slot.PPV, slot.Date); r.status != http.StatusCreated {
		t.Fatalf("%s books = %d %s", booker, r.status, r.body)
	}
	stBefore := ts.roomStats(t)
	if stBefore.Admitted != 15 || stBefore.Active != 14 {
		t.Fatalf("before restart: %+v; want 15 admitted, 14 active", stBefore)
	}
	if err := ts.Close(); err != nil {
		t.Fatal(err)
	}

	// Restart: another seed and opening time are ignored, since the room
	// opened already.
	ts2 := startRoom(t, p, inv, dir, clk, WithOpensAt(t0.Add(time.Hour)), WithRoomSeed(8))
	if st := ts2.roomStats(t); st.Admitted != stBefore.Admitted || st.Active != stBefore.Active || st.Waiting != stBefore.Waiting || st.Tickets != stBefore.Tickets {
		t.Errorf("after restart: %+v; want %+v", st, stBefore)
	}
	for _, person := range people {
		got, want := ts2.poll(t, before[person].Ticket).queue(t), before[person]
		if got.Ticket != want.Ticket || got.PersonID != person || got.State != want.State || got.Position != want.Position ||
			got.Token != want.Token || !got.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("%s after restart = %+v; want %+v", person, got, want)
		}
		if want.State != StateAdmitted {
			continue
		}
		r := ts2.do(t, "GET", "/api/v1/ppvs", nil, map[string]string{"Authorization": "Bearer " + want.Token})
		if r.status != http.StatusOK {
			t.Errorf("%s's token from before the restart = %d %s; want 200", person, r.status, r.body)
		}
	}
	if r := ts2.bookWith(t, before[booker].Token, booker, slot.PPV, slot.Date); r.status != http.StatusConflict {
		t.Errorf("%s books again after restart = %d %s; want 409 already_booked", booker, r.status, r.body)
	}
	if fi, err := os.Stat(filepath.Join(dir, "room.key")); err != nil {
		t.Errorf("room.key: %v", err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Errorf("room.key mode %v; want 0600", fi.Mode())
	}
	// Admission goes on from where it was, in the stored order.
	clk.add(time.Second)
	if st := ts2.roomStats(t); st.Admitted != stBefore.Admitted+5 {
		t.Errorf("a round after restart: %d admitted; want %d", st.Admitted, stBefore.Admitted+5)
	}
	var ranks []int64
	for _, person := range people {
		if before[person].State == StateWaiting {
			q := ts2.poll(t, before[person].Ticket).queue(t)
			if q.State == StateWaiting {
				ranks = append(ranks, q.Position)
			} else if before[person].Position >= 5 {
				t.Errorf("%s was at position %d, admitted in the first round after restart", person, before[person].Position)
			}
		}
	}
	slices.Sort(ranks)
	for i, r := range ranks {
		if r != int64(i) {
			t.Errorf("positions after a round = %v; want 0..%d", ranks, len(ranks)-1)
			break
		}
	}
}

// TestRoomOff: without a waiting room the queue answers 404
// waiting_room_off and the booking API wants no token.
func TestRoomOff(t *testing.T) {
	t.Parallel()
	ts := startServer(t, "per-ppv", models.Limits{}, models.SmallInventory(), "")
	if r := ts.join(t, "ali"); r.status != 404 || r.code() != string(CodeWaitingRoomOff) {
		t.Errorf("POST /api/v1/queue without a room = %d %s; want 404 waiting_room_off", r.status, r.body)
	}
	if r := ts.poll(t, "t123"); r.status != 404 || r.code() != string(CodeWaitingRoomOff) {
		t.Errorf("GET /api/v1/queue/t123 without a room = %d %s; want 404 waiting_room_off", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/api/v1/ppvs", nil, map[string]string{"Authorization": "Bearer junk"}); r.status != 200 {
		t.Errorf("GET /api/v1/ppvs with a junk token and no room = %d; want 200", r.status)
	}
	if ts.Stats().Room != nil {
		t.Error("Stats().Room is set without a room")
	}
}

// TestRoomQueueBadInput: malformed queue calls get the right status and
// code and make no ticket.
func TestRoomQueueBadInput(t *testing.T) {
	t.Parallel()
	ts := startRoom(t, roomPolicy, models.SmallInventory(), "", nil)
	known := ts.join(t, "ali").queue(t)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	huge := `{"person_id":"p1"` + strings.Repeat(" ", MaxBodyBytes) + `}`
	for _, tt := range []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     Code
		allow                    string
	}{
		{"malformed JSON", "POST", "/api/v1/queue", `{"person_id":`, jsonCT, 400, CodeInvalidJSON, ""},
		{"empty body", "POST", "/api/v1/queue", ``, jsonCT, 400, CodeInvalidJSON, ""},
		{"array", "POST", "/api/v1/queue", `[{"person_id":"p1"}]`, jsonCT, 400, CodeInvalidJSON, ""},
		{"trailing data", "POST", "/api/v1/queue", `{"person_id":"p1"} {}`, jsonCT, 400, CodeInvalidJSON, ""},
		{"missing field", "POST", "/api/v1/queue", `{}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"unknown field", "POST", "/api/v1/queue", `{"person_id":"p1","vip":"yes"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"field case", "POST", "/api/v1/queue", `{"Person_ID":"p1"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"duplicate field", "POST", "/api/v1/queue", `{"person_id":"p1","person_id":"p2"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"null", "POST", "/api/v1/queue", `{"person_id":null}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"number", "POST", "/api/v1/queue", `{"person_id":7}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"empty person", "POST", "/api/v1/queue", `{"person_id":""}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"long person", "POST", "/api/v1/queue", `{"person_id":"` + strings.Repeat("p", 129) + `"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"control character", "POST", "/api/v1/queue", `{"person_id":"p\u0007"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"surrounding space", "POST", "/api/v1/queue", `{"person_id":" p1"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"query parameter", "POST", "/api/v1/queue?vip=1", `{"person_id":"p1"}`, jsonCT, 400, CodeInvalidRequest, ""},
		{"huge body", "POST", "/api/v1/queue", huge, jsonCT, 413, CodeBodyTooLarge, ""},
		{"no content type", "POST", "/api/v1/queue", `{"person_id":"p1"}`, nil, 415, CodeUnsupportedMediaType, ""},
		{"text content type", "POST", "/api/v1/queue", `{"person_id":"p1"}`, map[string]string{"Content-Type": "text/plain"}, 415, CodeUnsupportedMediaType, ""},
		{"GET queue", "GET", "/api/v1/queue", ``, nil, 405, CodeMethodNotAllowed, "POST"},
		{"PUT queue", "PUT", "/api/v1/queue", `{"person_id":"p1"}`, jsonCT, 405, CodeMethodNotAllowed, "POST"},
		{"DELETE ticket", "DELETE", "/api/v1/queue/" + known.Ticket, ``, nil, 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"POST ticket", "POST", "/api/v1/queue/" + known.Ticket, `{"person_id":"p1"}`, jsonCT, 405, CodeMethodNotAllowed, "GET, HEAD"},
		{"unknown ticket", "GET", "/api/v1/queue/tNOPE", ``, nil, 404, CodeNotFound, ""},
		{"long ticket", "GET", "/api/v1/queue/" + strings.Repeat("t", 500), ``, nil, 404, CodeNotFound, ""},
		{"ticket query", "GET", "/api/v1/queue/" + known.Ticket + "?x=1", ``, nil, 400, CodeInvalidRequest, ""},
		{"no ticket", "GET", "/api/v1/queue/", ``, nil, 404, CodeNotFound, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, tt.method, tt.path, strings.NewReader(tt.body), tt.header)
			if r.status != tt.status || r.code() != string(tt.code) || r.header.Get("Allow") != tt.allow {
				t.Errorf("%s %s %q = %d %s (Allow %q); want %d %s (Allow %q)", tt.method, tt.path, tt.body,
					r.status, r.body, r.header.Get("Allow"), tt.status, tt.code, tt.allow)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
		})
	}
	if st := ts.roomStats(t); st.Tickets != 1 {
		t.Errorf("bad input made tickets: %+v; want only ali's", st)
	}
	// A good join answers the QueueStatus shape with polling advice.
	r := ts.join(t, "bob")
	var raw map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ticket", "person_id", "state", "position", "estimated_wait_s"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("join answer %s lacks %q", r.body, k)
		}
	}
	if q := r.queue(t); q.State == StateWaiting && (r.header.Get("Retry-After") == "" || r.header.Get("Retry-After-Ms") == "") {
		t.Errorf("a waiting answer lacks Retry-After/Retry-After-Ms: %v", r.header)
	}
}

// TestRoomRush: a crowd joins, polls at the advised interval, and books
// with its token, all at once on the real clock. Whatever the timing: every
// person gets one ticket, the room never has more than MaxActive active, no
// slot is oversold, and everyone admitted in time books.
func TestRoomRush(t *testing.T) {
	t.Parallel()
	const crowd = 120
	inv := models.SmallInventory()
	p := models.RoomPolicy{AdmitPerInterval: 10, Interval: 20 * time.Millisecond, MaxActive: 15, Order: models.RoomRandom, TokenTTL: time.Minute}
	ts := startRoom(t, p, inv, "", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	var maxActive int64
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			maxActive = max(maxActive, ts.roomStats(t).Active)
		}
	}()
	var got tally
	parallel(crowd, func(i int) {
		person := fmt.Sprint("rush-", i)
		q := ts.join(t, person).queue(t)
		for q.State != StateAdmitted {
			if ctx.Err() != nil {
				t.Errorf("%s not admitted in time: %+v", person, q)
				return
			}
			time.Sleep(5 * time.Millisecond)
			q = ts.poll(t, q.Ticket).queue(t)
		}
		s := inv.Slots[i%len(inv.Slots)]
		got.add(ts.bookWith(t, q.Token, person, s.PPV, s.Date))
	})
	close(stop)
	watch.Wait()
	st := ts.roomStats(t)
	if maxActive > 15 || st.Tickets != crowd || st.Admitted != crowd || st.Waiting != 0 {
		t.Errorf("room = %+v, at most %d active; want %d tickets all admitted, at most 15 active", st, maxActive, crowd)
	}
	if a := ts.audit(t); !a.OK() || a.Oversold != 0 || a.Bookings != int64(got.get("201")) {
		t.Errorf("audit = %+v with outcomes %v; want sound", a, &got)
	}
	if got.get("403 token_expired") > 0 || got.get("403 token_invalid") > 0 {
		t.Errorf("outcomes = %v; want no refused token", &got)
	}
}

// failingRoom is an in-memory store.Room whose first fail commits fail.
type failingRoom struct {
	mu      sync.Mutex
	fail    int
	commits []store.RoomChange // those that succeeded
}

func (f *failingRoom) Key() []byte { return []byte(strings.Repeat("k", 32)) }

func (f *failingRoom) Load(context.Context) (store.RoomState, error) { return store.RoomState{}, nil }

func (f *failingRoom) Commit(_ context.Context, c store.RoomChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("disk full")
	}
	f.commits = append(f.commits, c)
	return nil
}

// TestRoomCommitFailure: a join whose commit fails is not answered, and
// what it changed is written with the next commit, once, ahead of what
// came since.
func TestRoomCommitFailure(t *testing.T) {
	t.Parallel()
	st := &failingRoom{fail: 1}
	r, err := newRoom(st, store.RoomState{}, roomConfig{
		policy:   models.RoomPolicy{AdmitPerInterval: 10, Interval: time.Second, Order: models.RoomFIFO, TokenTTL: time.Minute},
		opensAt:  t0.Add(time.Minute),
		start:    t0,
		seed:     1,
		bookedAt: func(string) (time.Time, bool) { return time.Time{}, false },
		log:      testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	ctx := context.Background()
	if q, _, err := r.join(ctx, "ali", t0); err == nil {
		t.Fatalf("join answered %+v although its commit failed", q)
	}
	bob, _, err := r.join(ctx, "bob", t0.Add(time.Second))
	if err != nil {
		t.Fatalf("bob's join after the failure: %v", err)
	}
	ali, _, err := r.join(ctx, "ali", t0.Add(2*time.Second))
	if err != nil {
		t.Fatalf("ali's second join: %v", err)
	}
	if ali.Position != 0 || bob.Position != 1 {
		t.Errorf("positions ali %d, bob %d; want 0 and 1 (ali joined first)", ali.Position, bob.Position)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	written := map[string]int{}
	for _, c := range st.commits {
		for _, tk := range c.Tickets {
			written[tk.PersonID]++
		}
	}
	if written["ali"] != 1 || written["bob"] != 1 {
		t.Errorf("tickets written %v; want ali's and bob's once each", written)
	}
}
