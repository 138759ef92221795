package refserver

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
)

func TestGatewayThrottled(t *testing.T) {
	t.Parallel()
	clock := &frozenClock{t: time.Date(2021, 4, 28, 16, 0, 0, 0, time.UTC)}
	inv := models.UniformInventory(2, 1, 10)
	ts := startServer(t, "per-ppv", models.Limits{}, inv, "", WithNow(clock.now),
		WithGateway(models.RateLimit{Rate: 1, Burst: 2}))
	var got []int
	for range 3 {
		got = append(got, ts.do(t, http.MethodGet, "/api/v1/ppvs", nil, nil).status)
	}
	r := ts.do(t, http.MethodGet, "/api/v1/ppvs/ppv-00/slots", nil, nil)
	want := []int{200, 200, 429}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("statuses = %v; want %v then 429", got, want)
		}
	}
	if r.status != 429 || r.code() != "gateway_throttled" || r.header.Get("Retry-After") == "" {
		t.Fatalf("list_slots past the gateway = %d %q Retry-After %q; want 429 gateway_throttled with Retry-After", r.status, r.code(), r.header.Get("Retry-After"))
	}
	if h := ts.do(t, http.MethodGet, "/healthz", nil, nil); h.status != 200 {
		t.Errorf("healthz = %d; want 200 (not behind the gateway)", h.status)
	}
	if n := ts.Stats().GatewayThrottled; n != 2 {
		t.Errorf("Stats().GatewayThrottled = %d; want 2", n)
	}
	m := ts.do(t, http.MethodGet, "/metrics", nil, nil)
	if !strings.Contains(string(m.body), "slotrush_gateway_throttled_total 2") {
		t.Errorf("/metrics lacks slotrush_gateway_throttled_total 2")
	}
}

func TestStepEndpoint(t *testing.T) {
	t.Parallel()
	clock := &frozenClock{t: time.Date(2021, 4, 28, 16, 0, 0, 0, time.UTC)}
	inv := models.UniformInventory(1, 1, 10)
	ts := startServer(t, "monolithic", models.Limits{}, inv, "", WithNow(clock.now), WithSteps([]models.StepService{
		{Name: "login", Limits: models.RateLimit{Rate: 1, Burst: 1}},
		{Name: "otp", Fail: 1},
	}))
	post := func(name string) reply {
		return ts.do(t, http.MethodPost, "/api/v1/steps/"+name, strings.NewReader(`{"person_id":"p1"}`), nil)
	}
	for _, tc := range []struct {
		step   string
		status int
		code   string
	}{
		{"login", 200, ""},
		{"login", 429, "throttled"},
		{"otp", 422, "step_failed"},
		{"nope", 404, "not_found"},
	} {
		if r := post(tc.step); r.status != tc.status || r.code() != tc.code {
			t.Errorf("POST steps/%s = %d %q; want %d %q", tc.step, r.status, r.code(), tc.status, tc.code)
		}
	}
}

func TestStateOpenings(t *testing.T) {
	t.Parallel()
	open := time.Date(2021, 4, 28, 16, 0, 0, 0, time.UTC)
	clock := &frozenClock{t: open}
	inv := models.UniformInventory(2, 1, 10)
	inv.PPVs[1].State = "johor"
	ts := startServer(t, "per-ppv", models.Limits{}, inv, "", WithNow(clock.now), WithOpensAt(open),
		WithStateOpenings(map[string]time.Time{"johor": open.Add(time.Minute)}))
	day := inv.Slots[0].Date
	if r := ts.book(t, "p1", "ppv-01", day, "k1"); r.status != 503 || r.code() != "not_open" || r.header.Get("Retry-After") != "60" {
		t.Errorf("booking in johor before its opening = %d %q Retry-After %q; want 503 not_open 60", r.status, r.code(), r.header.Get("Retry-After"))
	}
	if r := ts.book(t, "p2", "ppv-00", day, "k2"); r.status != 201 {
		t.Errorf("booking in selangor = %d %s; want 201", r.status, r.body)
	}
	clock.mu.Lock()
	clock.t = open.Add(time.Minute)
	clock.mu.Unlock()
	if r := ts.book(t, "p1", "ppv-01", day, "k1"); r.status != 201 {
		t.Errorf("booking in johor at its opening = %d %s; want 201", r.status, r.body)
	}
}
