package main

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/reference-server/storeurl"
	"github.com/slotrush/slotrush/reference-server/storeurl/storeurltest"
	"github.com/slotrush/slotrush/results"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestStoreUnreachable: serve and run over a store nobody answers fail
// fast (well within the connect timeout of a few seconds, not the request
// timeout), exit 1, and name the engine, the address and what to check.
func TestStoreUnreachable(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	for _, tt := range []struct {
		store, engine string
	}{
		{"postgres://slotrush@" + addr + "/slotrush?sslmode=disable", "postgresql"},
		{"dynamodb://" + addr, "dynamodb"},
	} {
		for _, args := range [][]string{
			{"serve", "--design", "per-ppv", "--store", tt.store, "--addr", "127.0.0.1:0"},
			{"run", "--scenario", "ci-smoke", "--design", "per-ppv", "--store", tt.store, "--out", t.TempDir(), "-q"},
		} {
			start := time.Now()
			_, _, err := runMisuse(t, args...)
			took := time.Since(start)
			if err == nil {
				t.Fatalf("%v succeeded; want a failure", args)
			}
			msg := err.Error()
			if exitCode(err) != 1 || !strings.Contains(msg, tt.engine) || !strings.Contains(msg, addr) {
				t.Errorf("%v: exit %d %q; want exit 1 naming %s and %s", args, exitCode(err), msg, tt.engine, addr)
			}
			if took > time.Minute {
				t.Errorf("%v took %v to fail; want it to fail fast", args, took)
			}
		}
	}
}

// TestRunOnEngines runs the ci-smoke crowd against every design on
// PostgreSQL and DynamoDB: the result names the engine and its version,
// says the limits are slotrush's, and the store's audit finds nothing
// oversold and no 201 missing.
func TestRunOnEngines(t *testing.T) {
	t.Parallel()
	for _, engine := range []string{storeurl.PostgreSQL, storeurl.DynamoDB} {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			url := storeurltest.URL(t, engine)
			out := t.TempDir()
			if _, stderr, err := runMisuse(t, "run", "--scenario", "ci-smoke", "--store", url, "--out", out, "-q", "--no-report"); err != nil {
				t.Fatalf("run: %v\n%s", err, stderr)
			}
			b, err := os.ReadFile(filepath.Join(out, "result.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res results.Result
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Designs) != 3 {
				t.Fatalf("%d designs; want 3", len(res.Designs))
			}
			var booked int64
			for _, d := range res.Designs {
				a, s := d.Assumptions, d.Slots
				if a.Engine != engine || a.EngineVersion == "" || a.LimitsBy != results.LimitsBySlotrush {
					t.Errorf("%s: engine %q %q, limits by %q; want %s with a version, slotrush's limits", d.Design, a.Engine, a.EngineVersion, a.LimitsBy, engine)
				}
				// A booking whose answer timed out is stored without a 201.
				if s.Oversold != 0 || s.Missing != 0 || s.Persisted < s.Answered201 || s.Audit != results.AuditStore {
					t.Errorf("%s: slots %+v; want every 201 persisted, none oversold", d.Design, s)
				}
				booked += s.Answered201
			}
			if booked == 0 {
				t.Error("no booking answered 201 in any design")
			}
		})
	}
}
