package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/results"
)

// attack --out writes the result as JSON: every request due is sent or
// dropped (4 at 20/s for 200ms), every one sent is answered (the ones in
// flight at the end are waited for) and in the histogram. Real clock on a
// shared machine: no timing assertions.
func TestAttackCmdWritesJSON(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	path := filepath.Join(t.TempDir(), "attack.json")
	out, err := runCmd(t, "attack", "--url", srv.URL, "--rate", "20", "--duration", "200ms", "--connections", "4", "--out", path)
	if err != nil {
		t.Fatalf("attack: %v\n%s", err, out)
	}
	for _, w := range []string{"requests ", "dropped ", "latency (ms)", "204:", "transport errors:0", "result: " + path} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep attackReport
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	if rep.Format != 1 || rep.URL != srv.URL || rep.TargetRate != 20 || rep.DurationS != 0.2 || rep.GraceS != 30 {
		t.Errorf("report header %+v; want format 1, the url, rate 20, 0.2s, grace 30s (--timeout)", rep)
	}
	if rep.Sent+rep.Dropped != 4 || rep.ByStatus["204"] != rep.Sent || rep.TransportErrors != 0 || rep.Latency.Count != rep.Sent {
		t.Errorf("sent %d, dropped %d, by status %v, transport %d, latency count %d; want sent+dropped 4, all sent answered 204",
			rep.Sent, rep.Dropped, rep.ByStatus, rep.TransportErrors, rep.Latency.Count)
	}
	if (rep.DroppedLate != nil) != (rep.Dropped > 0) {
		t.Errorf("dropped %d with lateness %+v; want a summary iff any dropped", rep.Dropped, rep.DroppedLate)
	}
	h, err := results.DecodeHistogram(rep.Histogram)
	if err != nil || h.TotalCount() != rep.Sent || results.Summarize(h) != rep.Latency {
		t.Errorf("histogram: %v, %d values; want %d values summarised as latency_ms", err, h.TotalCount(), rep.Sent)
	}
	for _, key := range []string{`"sent"`, `"by_status"`, `"transport_errors"`, `"dropped"`, `"late_starts"`, `"rate"`, `"elapsed_s"`, `"latency_ms"`, `"p99"`, `"histogram"`} {
		if !strings.Contains(string(data), key) {
			t.Errorf("%s lacks key %s", path, key)
		}
	}
}

// Bad flags exit 2 with a message naming the flag, before any request.
func TestAttackCmdBadFlags(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "--url is required"},
		{[]string{"--url", "ftp://example.com"}, "--url"},
		{[]string{"--url", "http://127.0.0.1:1", "--rate", "-1"}, "--rate -1"},
		{[]string{"--url", "http://127.0.0.1:1", "--duration", "0s"}, "--duration 0s"},
		{[]string{"--url", "http://127.0.0.1:1", "--duration", "soon"}, "soon"},
		{[]string{"--url", "http://127.0.0.1:1", "--connections", "0"}, "--connections 0"},
		{[]string{"--url", "http://127.0.0.1:1", "--timeout", "-1s"}, "--timeout -1s"},
		{[]string{"--url", "http://127.0.0.1:1", "--grace", "-1s"}, "--grace -1s"},
		{[]string{"--url", "http://127.0.0.1:1", "--out", filepath.Join(t.TempDir(), "no", "such", "a.json")}, "--out"},
		{[]string{"--url", "http://127.0.0.1:1", "--nope"}, "--nope"},
		{[]string{"--url", "http://127.0.0.1:1", "http://127.0.0.1:2"}, "unexpected arguments"},
	} {
		_, err := runCmd(t, append([]string{"attack"}, c.args...)...)
		if code := exitCode(err); code != 2 || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("attack %q: exit %d, %v; want exit 2 and an error mentioning %q", c.args, code, err, c.want)
		}
	}
}
