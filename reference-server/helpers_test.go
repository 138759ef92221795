package refserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
)

// testServer is a Server behind an httptest.Server.
type testServer struct {
	*Server
	dir string
	url string
	c   *http.Client
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// startServer starts a server of design name with limits over inv in a
// fresh temporary directory (or dir when given).
func startServer(t testing.TB, name string, limits models.Limits, inv models.Inventory, dir string, opts ...Option) *testServer {
	t.Helper()
	d, err := models.ParseDesign(name, limits)
	if err != nil {
		t.Fatal(err)
	}
	return startDesign(t, d, inv, dir, opts...)
}

// startDesign starts a server of design d over inv in dir (a fresh
// temporary one when empty), logging warnings to the test.
func startDesign(t testing.TB, d models.Design, inv models.Inventory, dir string, opts ...Option) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := New(d, inv, dir, append([]Option{WithLogger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatalf("New(%s): %v", d.Name, err)
	}
	return serve(t, s, dir)
}

// serve puts s behind an httptest.Server closed (with s) at cleanup.
func serve(t testing.TB, s *Server, dir string) *testServer {
	hs := httptest.NewServer(s.Handler())
	ts := &testServer{Server: s, dir: dir, url: hs.URL,
		c: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}}
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return ts
}

// reply is an HTTP answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) code() string {
	var e errorBody
	_ = json.Unmarshal(r.body, &e) // a body that is not an error object has no code
	return string(e.Error)
}

func (r reply) booking(t testing.TB) models.Booking {
	t.Helper()
	var b models.Booking
	if err := json.Unmarshal(r.body, &b); err != nil {
		t.Fatalf("decode booking %q: %v", r.body, err)
	}
	return b
}

func (ts *testServer) do(t testing.TB, method, path string, body io.Reader, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := ts.c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return reply{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// book posts a booking request; key is the Idempotency-Key ("" for none).
func (ts *testServer) book(t testing.TB, person, ppv string, date models.Date, key string) reply {
	t.Helper()
	body := fmt.Sprintf(`{"person_id":%q,"ppv":%q,"date":%q}`, person, ppv, date)
	h := map[string]string{"Content-Type": "application/json"}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	return ts.do(t, http.MethodPost, "/api/v1/bookings", strings.NewReader(body), h)
}

func (ts *testServer) getSlots(t testing.TB, ppv, query string) []api.Slot {
	t.Helper()
	r := ts.do(t, http.MethodGet, "/api/v1/ppvs/"+ppv+"/slots"+query, nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("GET slots of %s%s = %d %s", ppv, query, r.status, r.body)
	}
	var out []api.Slot
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (ts *testServer) audit(t testing.TB) *Audit {
	t.Helper()
	a, err := ts.Audit(context.Background())
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	return a
}

// tally counts outcomes "status code" of concurrent requests.
type tally struct {
	mu sync.Mutex // guards n
	n  map[string]int
}

func (c *tally) add(r reply) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	k := fmt.Sprint(r.status)
	if code := r.code(); code != "" {
		k += " " + code
	}
	c.n[k]++
}

func (c *tally) get(k string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[k]
}

func (c *tally) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.n)
}

// parallel runs f(i) for i in [0, n) on n goroutines and waits.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

// frozenClock is a clock that only moves when told to.
type frozenClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func (c *frozenClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

var designs = []string{"monolithic", "per-ppv", "per-ppv-day"}
