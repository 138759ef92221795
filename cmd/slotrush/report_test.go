package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/results"
)

func TestReportCmd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	live := writeResult(t, dir, "live.json", fixture(t))
	m := fixture(t)
	m.Engine = results.EngineModel
	model := writeResult(t, dir, "model.json", m)
	outDir := filepath.Join(dir, "report")

	out, err := runCmd(t, "report", live, model, "--out", outDir)
	if err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(outDir, "index.html")
	if strings.TrimSpace(out) != index {
		t.Errorf("stdout = %q; want the path of index.html %q", out, index)
	}
	html, err := os.ReadFile(index)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"Live and SIMULATED (model) results", "per-ppv-day (synthetic-rush, model)", "SIMULATED (model): synthetic-rush (15,000 people, seed 1)"} {
		if !strings.Contains(string(html), w) {
			t.Errorf("index.html lacks %q", w)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(outDir, "plots", "*.png")); len(pngs) == 0 {
		t.Error("no plots written")
	}
}

func TestReportCmdBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"format\": 1,\n  \"engine\": live\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.json")
	_, err := runCmd(t, "report", bad, missing, "--out", filepath.Join(dir, "out"))
	if code := exitCode(err); code != 2 {
		t.Fatalf("exit %d (%v); want 2", code, err)
	}
	if !regexp.MustCompile(regexp.QuoteMeta(bad) + `:3:\d+`).MatchString(err.Error()) {
		t.Errorf("error %q does not name %s with line:col", err, bad)
	}
	if !strings.Contains(err.Error(), missing) {
		t.Errorf("error %q does not name %s", err, missing)
	}
	if _, err := runCmd(t, "report"); exitCode(err) != 2 {
		t.Errorf("report with no file: %v; want exit 2", err)
	}
}

// A result that records what misled before renders with it in plain
// sight: places sold beyond the capacity in red, answers outside the API
// in a row of their own and in the verdict. One that hides places sold
// beyond its capacity is refused.
func TestReportCmdMisleadingResults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		r    *results.Result
		code int
		want []string
	}{
		{"oversold", oversoldResult(t, true), 0, []string{
			`<td class="bad">400 of 300 (133%)</td>`, `<td class="bad">100</td>`,
			"acme sold 100 places beyond capacity (oversold): the target broke the capacity invariant.",
		}},
		{"wrong path", wrongPathResult(t), 0, []string{
			"Answers outside the API", `<td class="bad">400 (100%)</td>`,
			"acme booked 0 of 300 places (0%) with 100% errors.",
			"acme answered 400 requests with 404 (not found): the API or the profile (v1) does not match this target",
			"nobody could book with acme",
		}},
		{"oversold hidden", oversoldResult(t, false), 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := writeResult(t, dir, strings.ReplaceAll(tt.name, " ", "-")+".json", tt.r)
			outDir := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			_, err := runCmd(t, "report", path, "--out", outDir)
			if code := exitCode(err); code != tt.code {
				t.Fatalf("exit %d (%v); want %d", code, err, tt.code)
			}
			if tt.code != 0 {
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, "booked 400 > capacity 300 + oversold 0") || strings.Contains(msg, "goroutine") {
					t.Errorf("error %q; want it to name %s and the places booked beyond capacity", msg, path)
				}
				return
			}
			html := readFile(t, filepath.Join(outDir, "index.html"))
			for _, w := range tt.want {
				if !strings.Contains(html, w) {
					t.Errorf("index.html lacks %q", w)
				}
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// fakeTarget is an API v1 target over inv that never lowers the places it
// lists; book answers each booking request.
type fakeTarget struct {
	inv  models.Inventory
	book func(f *fakeTarget, w http.ResponseWriter, r *http.Request)

	mu       sync.Mutex // guards bookings and byKey
	bookings map[string]models.Booking
	byKey    map[string]string
}

func startFakeTarget(t *testing.T, inv models.Inventory, book func(f *fakeTarget, w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	f := &fakeTarget{inv: inv, book: book, bookings: map[string]models.Booking{}, byKey: map[string]string{}}
	reply := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/ppvs", func(w http.ResponseWriter, _ *http.Request) { reply(w, 200, f.inv.PPVs) })
	mux.HandleFunc("GET /api/v1/ppvs/{ppv}/slots", func(w http.ResponseWriter, r *http.Request) {
		slots := []api.Slot{}
		for _, s := range f.inv.SlotsOf(r.PathValue("ppv")) {
			slots = append(slots, api.Slot{Date: s.Date, Capacity: s.Capacity, Remaining: s.Capacity})
		}
		reply(w, 200, slots)
	})
	mux.HandleFunc("POST /api/v1/bookings", func(w http.ResponseWriter, r *http.Request) { f.book(f, w, r) })
	mux.HandleFunc("GET /api/v1/bookings/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		b, ok := f.bookings[r.PathValue("id")]
		f.mu.Unlock()
		if !ok {
			reply(w, 404, map[string]string{"error": "not_found", "message": "no such booking"})
			return
		}
		reply(w, 200, b)
	})
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts.URL
}

// overselling answers 201 to every booking request.
func overselling(f *fakeTarget, w http.ResponseWriter, r *http.Request) {
	var req api.BookingRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		w.WriteHeader(400)
		return
	}
	f.mu.Lock()
	id, ok := f.byKey[r.Header.Get("Idempotency-Key")]
	if !ok {
		id = fmt.Sprintf("bk-%d", len(f.bookings)+1)
		f.byKey[r.Header.Get("Idempotency-Key")] = id
		f.bookings[id] = models.Booking{ID: id, PersonID: req.PersonID, PPV: req.PPV, Date: req.Date, CreatedAt: time.Now().UTC()}
	}
	b := f.bookings[id]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(201)
	_ = json.NewEncoder(w).Encode(b)
}

// wrongBookingPath answers 404 to every booking request, as a target
// whose booking call lives elsewhere.
func wrongBookingPath(_ *fakeTarget, w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(404)
	_, _ = w.Write([]byte("<html><body>Not Found</body></html>"))
}

// Live runs against targets that mislead: one that oversells is recorded
// as overselling (capacity at the start, 201s beyond it oversold), passes
// its own checks, reports it and fails the gate; one whose booking call
// answers 404 has a column of answers outside the API and is unusable.
func TestRunMisleadingTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("two live runs of ci-smoke take ~10 s")
	}
	t.Parallel()
	sc := loadCISmoke(t)
	inv := sc.BuildInventory()
	t.Run("oversells", func(t *testing.T) {
		t.Parallel()
		url := startFakeTarget(t, inv, overselling)
		dir := t.TempDir()
		out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dir, "--target", "acme="+url)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
		path := filepath.Join(dir, "result.json")
		r, err := results.LoadResult(path)
		if err != nil {
			t.Fatalf("the result fails its checks: %v", err)
		}
		sl := r.Designs[0].Slots
		// Under load fewer people get an answer; whatever was booked beyond
		// a slot's capacity is oversold.
		if sl.Capacity != int64(inv.TotalCapacity()) || sl.Oversold <= 0 || sl.Oversold > sl.Booked ||
			(sl.Booked > sl.Capacity && sl.Oversold < sl.Booked-sl.Capacity) {
			t.Errorf("slots %+v; want capacity %d at the start and the places booked beyond it oversold", sl, inv.TotalCapacity())
		}
		if _, err := runCmd(t, "compare", path, path); exitCode(err) != 1 || !strings.Contains(err.Error(), "acme oversold") {
			t.Errorf("compare: %v; want exit 1 on acme oversold", err)
		}
		rep := filepath.Join(dir, "report")
		if _, err := runCmd(t, "report", path, "--out", rep); err != nil {
			t.Fatalf("report: %v", err)
		}
		if html := readFile(t, filepath.Join(rep, "index.html")); !strings.Contains(html, fmt.Sprintf(`<td class="bad">%s</td>`, commasOf(sl.Oversold))) {
			t.Errorf("index.html does not show %d oversold places in red", sl.Oversold)
		}
	})
	t.Run("answers 404 to bookings", func(t *testing.T) {
		t.Parallel()
		url := startFakeTarget(t, inv, wrongBookingPath)
		dir := t.TempDir()
		out, err := runCmd(t, "run", "--scenario", "ci-smoke", "--quiet", "--no-report", "--out", dir, "--target", "acme="+url)
		// run exits 1 on an unusable column, after writing the result.
		if code := exitCode(err); code != 1 {
			t.Fatalf("run: exit %d: %v\n%s", code, err, out)
		}
		r, err := results.LoadResult(filepath.Join(dir, "result.json"))
		if err != nil {
			t.Fatal(err)
		}
		d := r.Designs[0]
		// Under load some bookings time out instead: every 404 that came
		// back is counted as an answer outside the API.
		if n := d.Requests.UnexpectedByAnswer["404 not_found"]; n != d.Requests.ByStatus["404"] || n == 0 || d.Requests.Unexpected != n {
			t.Errorf("requests %+v; want every 404 counted as 404 not_found, outside the API", d.Requests)
		}
		if bad, why := d.Unusable(); !bad || !strings.Contains(why, "acme: nobody could book") {
			t.Errorf("Unusable() = %v, %q; want true", bad, why)
		}
		if rate, floor := d.ErrorRate(), float64(d.Requests.Unexpected)/float64(d.Requests.Total); rate < floor || rate == 0 {
			t.Errorf("ErrorRate() = %v; want the 404s counted (at least %v)", rate, floor)
		}
	})
}

// commasOf formats n as the report does: 1,234.
func commasOf(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
