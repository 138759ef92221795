package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reference-server/storeurl/storeurltest"
	"github.com/slotrush/slotrush/scenarios"
)

// TestServeFlags: bad flags are clear errors, never panics.
func TestServeFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", dir}, "--design is required"},
		{[]string{"--design", "per-ppv-day"}, "--data is required"},
		{[]string{"--design", "sharded", "--data", dir}, `unknown design "sharded"`},
		{[]string{"--design", "per-ppv", "--data", dir, "--addr", "nonsense"}, "listen on nonsense"},
		{[]string{"--design", "per-ppv", "--data", dir, "--scenario", "nowhere"}, `--scenario "nowhere"`},
		{[]string{"--design", "per-ppv", "--data", dir, "--shutdown-timeout", "0s"}, "must be positive"},
		{[]string{"--design", "per-ppv", "--data", dir, "extra"}, "unknown command"},
		{[]string{"--design", "per-ppv", "--data", dir, "--opens-in", "-1s"}, "must not be negative"},
		// The demo scenario has no waiting_room section: say what to set.
		{[]string{"--design", "per-ppv+waiting-room", "--data", dir}, "set, under waiting_room: in the scenario file, admit_per_interval"},
	} {
		cmd := newServeCmd()
		cmd.SetArgs(tt.args)
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SilenceUsage, cmd.SilenceErrors = true, true
		err := cmd.Execute()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("serve %v: err = %v; want it to mention %q", tt.args, err, tt.want)
		}
	}
}

// buildSlotrush builds the slotrush binary into a temporary directory.
func buildSlotrush(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the slotrush binary")
	}
	bin := filepath.Join(t.TempDir(), "slotrush")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serveProcess is a running `slotrush serve`.
type serveProcess struct {
	cmd    *exec.Cmd
	url    string
	stderr *bytes.Buffer
	done   chan struct{} // closed when the process has exited
	err    error         // the exit error, set before done is closed
}

// startServe starts `slotrush serve` on a free port of 127.0.0.1, with the
// extra flags given, and waits for the address it prints. where is a --data
// directory, or a --store URL when it holds "://".
func startServe(t *testing.T, bin, design, where string, extra ...string) *serveProcess {
	t.Helper()
	flag := "--data"
	if strings.Contains(where, "://") {
		flag = "--store"
	}
	args := append([]string{"serve", "--design", design, flag, where, "--addr", "127.0.0.1:0", "--unlimited"}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProcess{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stderr = &syncWriter{w: p.stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // fails only if serve has already exited
		<-p.done
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		io.Copy(io.Discard, stdout) //nolint:errcheck // drains the pipe so serve never blocks writing; it ends with an error when serve exits
	}()
	go func() { p.err = cmd.Wait(); close(p.done) }()
	select {
	case line := <-lines:
		const marker = "listening on "
		i := strings.Index(line, marker)
		if i < 0 || !strings.Contains(line, "design "+design) {
			t.Fatalf("serve printed %q; want the design and %q", line, marker+"URL")
		}
		p.url = line[i+len(marker):]
	case <-p.done:
		t.Fatalf("serve exited early: %v\n%s", p.err, p.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not print its address\n%s", p.stderr)
	}
	return p
}

type syncWriter struct {
	mu sync.Mutex // guards w
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// TestServeDurability books under concurrent load, kill -9s the server in
// the middle, restarts it on the same store and finds every booking that
// was answered 201, with no slot oversold. Then it checks graceful
// shutdown. It runs on every engine (SQLite files, PostgreSQL, DynamoDB).
func TestServeDurability(t *testing.T) {
	t.Parallel()
	bin := buildSlotrush(t)
	for _, engine := range storeurltest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			where := storeurltest.URL(t, engine)
			if engine == storeurl.SQLite {
				where = t.TempDir()
			}
			testServeDurability(t, bin, where)
		})
	}
}

func testServeDurability(t *testing.T, bin, data string) {
	const design = "per-ppv-day"
	inv := models.SmallInventory() // its PPVs and days are also in the demo scenario that serve loads
	p := startServe(t, bin, design, data)

	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
	var (
		mu        sync.Mutex // guards answered
		answered  = map[string]models.Booking{}
		attempts  atomic.Int64
		killed    atomic.Bool
		killAfter = 200
		wg        sync.WaitGroup
	)
	killNow := make(chan struct{})
	var once sync.Once
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !killed.Load(); n++ {
				s := inv.Slots[(w+n)%len(inv.Slots)]
				body := fmt.Sprintf(`{"person_id":"dur-%d-%d","ppv":%q,"date":%q}`, w, n, s.PPV, s.Date)
				req, _ := http.NewRequest("POST", p.url+"/api/v1/bookings", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", fmt.Sprintf("k-%d-%d", w, n))
				attempts.Add(1)
				resp, err := client.Do(req)
				if err != nil {
					continue // killed mid-request: outcome unknown, not counted
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusCreated {
					if resp.StatusCode != http.StatusConflict {
						t.Errorf("POST %s = %d %s", body, resp.StatusCode, b)
					}
					continue
				}
				var bk models.Booking
				if err := json.Unmarshal(b, &bk); err != nil {
					t.Errorf("decode 201 body %s: %v", b, err)
					continue
				}
				mu.Lock()
				answered[bk.ID] = bk
				if len(answered) >= killAfter {
					once.Do(func() { close(killNow) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-killNow:
	case <-time.After(2 * time.Minute):
		t.Error("load did not reach the kill point in time")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done // the process is gone; connections fail from here
	killed.Store(true)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("killed after %d attempts, %d answered 201", attempts.Load(), len(answered))

	// Restart on the same data: every 201 is there.
	p2 := startServe(t, bin, design, data)
	for id, want := range answered {
		resp, err := client.Get(p2.url + "/api/v1/bookings/" + id)
		if err != nil {
			t.Fatal(err)
		}
		var got models.Booking
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || !got.CreatedAt.Equal(want.CreatedAt) || got.PersonID != want.PersonID {
			t.Errorf("GET booking %s after kill -9 = %d %+v (%v); want 200 %+v", id, resp.StatusCode, got, err, want)
		}
	}
	// A person answered 201 before the kill is still booked.
	for _, b := range answered {
		body := fmt.Sprintf(`{"person_id":%q,"ppv":%q,"date":%q}`, b.PersonID, b.PPV, b.Date)
		resp, err := client.Post(p2.url+"/api/v1/bookings", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusConflict {
			t.Errorf("rebooking %s after restart = %d; want 409 already_booked", b.PersonID, resp.StatusCode)
		}
		break
	}

	// Graceful shutdown: SIGTERM, exit 0.
	if err := p2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p2.done:
		if p2.err != nil {
			t.Errorf("serve after SIGTERM: %v\n%s", p2.err, p2.stderr)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not stop on SIGTERM")
	}

	// Audit the data in process: nothing oversold, every 201 stored.
	sc, err := scenarios.Load("demo")
	if err != nil {
		t.Fatal(err)
	}
	d, _ := models.ParseDesign(design, models.Limits{})
	spec, err := storeurl.Parse(data)
	if !strings.Contains(data, "://") {
		spec, err = storeurl.Parse("sqlite")
	}
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.New(d, sc.BuildInventory(), data, refserver.WithStoreOpener(spec.Opener()),
		refserver.WithLogger(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))))
	if err != nil {
		t.Fatal(err)
	}
	closeAtCleanup(t, srv)
	a, err := srv.Audit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !a.OK() || a.Oversold != 0 || a.Bookings < int64(len(answered)) {
		t.Errorf("audit = %+v; want sound, none oversold, at least %d bookings", a, len(answered))
	}
	// At most the requests in flight at the kill were stored without a 201.
	if extra := a.Bookings - int64(len(answered)); extra > 16 {
		t.Errorf("%d bookings stored beyond the %d answered 201; want at most the 16 in flight", extra, len(answered))
	}
	for id := range answered {
		if !a.HasBooking(id) {
			t.Errorf("booking %s answered 201 is missing", id)
		}
	}
}

// TestServeWaitingRoomDurability: people join the waiting room of a served
// design and are admitted; after kill -9 and a restart on the same data
// their tickets and admitted states are the same and the tokens issued
// before still verify (or, if their time ran out meanwhile, are refused as
// expired, never as forged).
func TestServeWaitingRoomDurability(t *testing.T) {
	t.Parallel()
	bin := buildSlotrush(t)
	data := t.TempDir()
	const design, people = "per-ppv-day+waiting-room", 30
	p := startServe(t, bin, design, data, "--scenario", "refresh-storm") // admits 30 every 250 ms, tokens valid 30 s
	client := &http.Client{Timeout: 30 * time.Second}
	type status struct {
		Ticket    string    `json:"ticket"`
		PersonID  string    `json:"person_id"`
		State     string    `json:"state"`
		Token     string    `json:"token"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	call := func(method, url, body, token string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	join := func(base, person string) status {
		t.Helper()
		code, b := call("POST", base+"/api/v1/queue", fmt.Sprintf(`{"person_id":%q}`, person), "")
		var st status
		if code != http.StatusOK || json.Unmarshal(b, &st) != nil || st.Ticket == "" {
			t.Fatalf("join %s = %d %s; want 200 with a ticket", person, code, b)
		}
		return st
	}
	before := map[string]status{}
	deadline := time.Now().Add(time.Minute)
	for i := range people {
		person := fmt.Sprint("wr-", i)
		st := join(p.url, person)
		for st.State != "admitted" && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			code, b := call("GET", p.url+"/api/v1/queue/"+st.Ticket, "", "")
			if code != http.StatusOK || json.Unmarshal(b, &st) != nil {
				t.Fatalf("poll %s = %d %s", st.Ticket, code, b)
			}
		}
		if st.State != "admitted" || st.Token == "" {
			t.Fatalf("%s not admitted: %+v", person, st)
		}
		before[person] = st
	}
	booker := before["wr-0"]
	if code, b := call("POST", p.url+"/api/v1/bookings", `{"person_id":"wr-0","ppv":"um","date":"2021-06-07"}`, booker.Token); code != http.StatusCreated {
		t.Fatalf("wr-0 books = %d %s; want 201", code, b)
	}
	if code, _ := call("GET", p.url+"/api/v1/ppvs", "", ""); code != http.StatusForbidden {
		t.Errorf("GET /api/v1/ppvs without a token = %d; want 403", code)
	}

	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
	p2 := startServe(t, bin, design, data, "--scenario", "refresh-storm")
	for person, want := range before {
		got := join(p2.url, person)
		expired := !time.Now().Before(want.ExpiresAt)
		switch {
		case got.Ticket != want.Ticket:
			t.Errorf("%s's ticket after kill -9 = %s; want %s", person, got.Ticket, want.Ticket)
		case !expired && (got.State != "admitted" || got.Token != want.Token || !got.ExpiresAt.Equal(want.ExpiresAt)):
			t.Errorf("%s after kill -9 = %+v; want admitted with the same token until %v", person, got, want.ExpiresAt)
		}
		code, b := call("GET", p2.url+"/api/v1/ppvs", "", want.Token)
		expired = !time.Now().Before(want.ExpiresAt)
		refusedExpired := expired && code == http.StatusForbidden && strings.Contains(string(b), "token_expired")
		if code != http.StatusOK && !refusedExpired {
			t.Errorf("%s's token from before kill -9 = %d %s; want 200 (or 403 token_expired after %v)", person, code, b, want.ExpiresAt)
		}
	}
	code, b := call("POST", p2.url+"/api/v1/bookings", `{"person_id":"wr-0","ppv":"um","date":"2021-06-08"}`, booker.Token)
	refusedExpired := code == http.StatusForbidden && !time.Now().Before(booker.ExpiresAt)
	if code != http.StatusConflict && !refusedExpired {
		t.Errorf("wr-0 books again after kill -9 = %d %s; want 409 already_booked", code, b)
	}
}
