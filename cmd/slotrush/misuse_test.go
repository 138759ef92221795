package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	refserver "github.com/slotrush/slotrush/reference-server"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// misuseArgsEnv makes the test binary run as slotrush with these arguments
// (a JSON list): TestMisuseHelperProcess.
const misuseArgsEnv = "SLOTRUSH_MISUSE_ARGS"

// TestMisuseHelperProcess is slotrush itself when misuseArgsEnv is set:
// TestMisuse runs the test binary so to see main's exit code and output.
func TestMisuseHelperProcess(t *testing.T) {
	raw := os.Getenv(misuseArgsEnv)
	if raw == "" {
		t.Skip("runs as slotrush for TestMisuse only")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	os.Args = append([]string{"slotrush"}, args...)
	main()
	os.Exit(0)
}

// runMisuse runs `slotrush args...` in-process and returns its stdout,
// stderr and error.
func runMisuse(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// Every bad input, usage errors included, exits 2 in every command, with one
// message saying what is wrong, and never a stack trace: run in-process
// (the error and its exit code) and as a process (main's exit status and
// what it prints).
func TestMisuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badYAML := write("bad.yaml", "crowd:\n  size: -5\n")
	file := write("file.txt", "not a folder\n")
	locked := filepath.Join(dir, "locked-data")
	holdStore(t, locked, "per-ppv")

	tests := []struct {
		args []string
		want string
	}{
		// The root command.
		{[]string{"nosuch"}, `unknown command "nosuch" for "slotrush"`},
		{[]string{"scenario"}, `did you mean "scenarios"?`},
		{[]string{"--bogus"}, "unknown flag: --bogus"},
		{[]string{"help", "nosuch"}, `help: unknown command "nosuch"`},
		{[]string{"help", "scenarios", "bogus"}, `help: unknown command "scenarios bogus"`},
		// run
		{[]string{"run", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"run", "--seed", "abc"}, `invalid argument "abc" for "--seed"`},
		{[]string{"run", "--scenario"}, "flag needs an argument: --scenario"},
		{[]string{"run", "stray"}, `unknown command "stray" for "slotrush run"`},
		{[]string{"run", "--scenario", "no-such-preset"}, "no-such-preset"},
		{[]string{"run", "--scenario", badYAML}, "bad.yaml:2:"},
		{[]string{"run", "--scenario", "ci-smoke", "--design", "sharded"}, `design "sharded" is not in scenario`},
		{[]string{"run", "--scenario", "ci-smoke", "--grace", "-1s"}, "--grace -1s"},
		{[]string{"run", "--scenario", "ci-smoke", "--reset", "true"}, "--reset runs before each target's run: give --target"},
		{[]string{"run", "--scenario", "ci-smoke", "--target", "ftp://x"}, "--target"},
		{[]string{"run", "--scenario", "ci-smoke", "--out", ""}, "--out is empty: give a folder for the results"},
		{[]string{"run", "--scenario", "ci-smoke", "--segment", "1/2", "--target", "http://127.0.0.1:1", "--target", "http://127.0.0.1:2"}, "--segment drives one --target"},
		{[]string{"run", "--scenario", "ci-smoke", "--store", "mysql://h/db"}, `--store "mysql://h/db": unknown engine "mysql"`},
		{[]string{"run", "--scenario", "ci-smoke", "--store", "dynamodb://localhost"}, "want dynamodb://HOST:PORT"},
		{[]string{"run", "--scenario", "ci-smoke", "--store", "postgres://h/db", "--target", "http://127.0.0.1:1"}, "a --target runs on its own store"},
		{[]string{"run", "--scenario", "ci-smoke", "--out", file}, "is a file, not a folder"},
		{[]string{"run", "--scenario", "ci-smoke", "--fault", "partition=x,dwn,for=1s"}, `--fault "partition=x,dwn,for=1s": column 13: unknown term "dwn": want down, slow=DURATION or errors=PERCENT`},
		{[]string{"run", "--scenario", "ci-smoke", "--design", "per-ppv-day,monolithic", "--fault", "partition=ppv-um-2021-06-07,down,for=1s"}, `design monolithic has no partition "ppv-um-2021-06-07" (its one partition is all)`},
		{[]string{"run", "--scenario", "ci-smoke", "--target", "http://127.0.0.1:1", "--fault", "partition=all,down,for=1s"}, "a --target's faults are its own"},
		{[]string{"run", "--scenario", "ci-smoke", "--out", filepath.Join(file, "sub")}, "cannot create the folder (not a directory)"},
		// serve
		{[]string{"serve", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"serve", "--data", dir}, "--design is required"},
		{[]string{"serve", "--design", "per-ppv"}, "--data is required"},
		{[]string{"serve", "--design", "per-ppv", "--store", "postgres://u:pw@/db"}, "has no host"},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "stray"}, `unknown command "stray" for "slotrush serve"`},
		{[]string{"serve", "--design", "sharded", "--data", dir}, `unknown design "sharded"`},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--scenario", badYAML}, "bad.yaml:2:"},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--shutdown-timeout", "0s"}, "--shutdown-timeout 0s"},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--opens-in", "-1s"}, "--opens-in -1s"},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--opens-in", "soon"}, `invalid argument "soon"`},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--scenario", "ci-smoke", "--addr", "127.0.0.1:http-alt-nope"}, "--addr: cannot listen on 127.0.0.1:http-alt-nope"},
		{[]string{"serve", "--design", "per-ppv", "--data", locked, "--scenario", "ci-smoke", "--addr", "127.0.0.1:0"}, "in use by another process"},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--fault", "partition=all,down"}, `serve: --fault "partition=all,down": column 1: missing for=DURATION`},
		{[]string{"serve", "--design", "per-ppv", "--data", dir, "--scenario", "ci-smoke", "--fault", "partition=all,down,for=1s"}, `design per-ppv has no partition "all" (its 3 partitions include ppv-idcc-shah-alam, ppv-um, ppv-wtc-kl)`},
		// attack
		{[]string{"attack", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"attack"}, "--url is required"},
		{[]string{"attack", "--url", "http://127.0.0.1:1", "--connections", "0"}, "--connections 0: want at least 1"},
		{[]string{"attack", "--url", "http://127.0.0.1:1", "--rate", "fast"}, `invalid argument "fast"`},
		{[]string{"attack", "--url", "http://127.0.0.1:1", "stray"}, "unexpected arguments"},
		// scenarios
		{[]string{"scenarios", "bogus"}, `unknown command "bogus" for "slotrush scenarios"`},
		{[]string{"scenarios", "valdate"}, `did you mean "validate"?`},
		{[]string{"scenarios", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"scenarios", "list", "extra"}, `unknown command "extra" for "slotrush scenarios list"`},
		{[]string{"scenarios", "show"}, "want one preset NAME, got 0"},
		{[]string{"scenarios", "show", "demo", "ci-smoke"}, "want one preset NAME, got 2"},
		{[]string{"scenarios", "show", "nope"}, `unknown preset "nope"`},
		{[]string{"scenarios", "validate"}, "give at least one scenario FILE"},
		{[]string{"scenarios", "validate", badYAML}, "1 of 1 scenario files invalid"},
		{[]string{"scenarios", "validate", "--strict"}, "unknown flag: --strict"},
		// simulate, compare, report and merge: their usage errors.
		{[]string{"simulate", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"simulate", "stray"}, `unknown command "stray" for "slotrush simulate"`},
		{[]string{"simulate", "--scenario", "no-such-preset"}, "no-such-preset"},
		{[]string{"compare", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"compare", "only-one.json"}, "want BASELINE.json CURRENT.json"},
		{[]string{"report"}, "give at least one RESULT.json"},
		{[]string{"report", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"merge", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"merge"}, "give at least one PART.json"},
		{[]string{"merge", "--allow-partial=maybe", "x.json"}, "invalid argument \"maybe\""},
		// k8s and k8s segment.
		{[]string{"k8s", "--bogus"}, "unknown flag: --bogus"},
		{[]string{"k8s", "--segments", "two"}, "invalid argument \"two\""},
		{[]string{"k8s", "--scenario", "ci-smoke", "--segments", "2"}, "--target NAME=URL is required"},
		{[]string{"k8s", "--scenario", "ci-smoke", "--segments", "0", "--target", "a=http://b"}, "--segments 0"},
		{[]string{"k8s", "--scenario", "no-such-preset", "--segments", "2", "--target", "a=http://b"}, "no-such-preset"},
		{[]string{"k8s", "--scenario", "ci-smoke", "--segments", "2", "--target", "a=http://b", "--start-in", "soon"}, "invalid argument \"soon\""},
		{[]string{"k8s", "segment", "--of", "0", "--parts", "/tmp", "--", "--scenario", "ci-smoke"}, "--of 0: want the number of segments"},
		{[]string{"k8s", "segment", "--bogus"}, "unknown flag: --bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, err := runMisuse(t, tt.args...)
			if code := exitCode(err); code != 2 || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("slotrush %q: exit %d, %v; want exit 2 and a message with %q", tt.args, code, err, tt.want)
			}
			checkNoTrace(t, tt.args, stdout+stderr+errString(err))

			args, _ := json.Marshal(tt.args)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMisuseHelperProcess$")
			cmd.Env = append(os.Environ(), misuseArgsEnv+"="+string(args))
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("process slotrush %q: %v; want exit status 2\nstderr: %s", tt.args, err, errOut.String())
			}
			if got := errOut.String(); !strings.Contains(got, "slotrush: ") || !strings.Contains(got, tt.want) || strings.Contains(got, "Usage:") {
				t.Errorf("process slotrush %q: stderr %q; want slotrush: and %q, without the usage", tt.args, got, tt.want)
			}
			checkNoTrace(t, tt.args, out.String()+errOut.String())
		})
	}
}

// checkNoTrace fails when output holds a stack trace or a panic.
func checkNoTrace(t *testing.T, args []string, output string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic"} {
		if strings.Contains(output, bad) {
			t.Errorf("slotrush %q printed %q:\n%s", args, bad, output)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// holdStore opens the reference server of design over ci-smoke's inventory
// in dir, holding the directory's lock until the test ends.
func holdStore(t *testing.T, dir, design string) {
	t.Helper()
	sc, err := scenarios.Load("ci-smoke")
	if err != nil {
		t.Fatal(err)
	}
	d, err := models.ParseDesign(design, models.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := refserver.New(d, sc.BuildInventory(), dir, refserver.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	closeAtCleanup(t, srv)
}

// writeFiles writes files (path relative to dir: content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// A run into a folder another slotrush is using is refused (exit 2, naming
// the folder) and touches nothing there; the lock goes with its holder.
func TestRunRefusesLockedOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := map[string]string{
		"result.json": "the first run's result\n", "index.html": "<p>first</p>\n", "plots/a.png": "png",
		"hlog/a.hlog": "hlog", "data/per-ppv/part.db": "db",
	}
	writeFiles(t, dir, first)
	release, err := lockOutDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = runCmd(t, "run", "--scenario", "ci-smoke", "--out", dir, "--quiet")
	want := "--out " + dir + ": another slotrush is using this folder"
	if exitCode(err) != 2 || !strings.Contains(err.Error(), want) {
		t.Errorf("second run: exit %d, %v; want exit 2 and %q", exitCode(err), err, want)
	}
	for name, data := range first {
		if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || string(got) != data {
			t.Errorf("%s = %q, %v after the refused run; want it untouched (%q)", name, got, err, data)
		}
	}
	if err := errors.Join(release(), release()); err != nil {
		t.Errorf("release twice: %v", err)
	}
	again, err := lockOutDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := again(); err != nil {
		t.Error(err)
	}
}

// An --out that cannot be created or written is refused before the first
// request to a target.
func TestRunOutNotWritableSendsNothing(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(ts.Close)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"file": "not a folder"})
	outs := []struct{ out, want string }{
		{filepath.Join(dir, "file", "out"), "cannot create the folder (not a directory)"},
	}
	if os.Geteuid() == 0 {
		t.Log("root writes in read-only folders: only a folder that cannot be created is tried")
	} else {
		ro := filepath.Join(dir, "read-only")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, struct{ out, want string }{ro, "cannot write in the folder (permission denied)"},
			struct{ out, want string }{filepath.Join(ro, "out"), "cannot create the folder (permission denied)"})
	}
	for _, o := range outs {
		_, err := runCmd(t, "run", "--scenario", "ci-smoke", "--target", ts.URL, "--out", o.out, "--quiet")
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "--out "+o.out+": "+o.want) {
			t.Errorf("--out %s: exit %d, %v; want exit 2 and %q", o.out, exitCode(err), err, o.want)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the target got %d requests; want none before --out is known to be writable", n)
	}
}

// tinyScenario is a two-design scenario that runs live in about a second
// a design.
const tinyScenario = `name: tiny
seed: 1
duration: 2s
inventory:
  days: 1
  daily_capacity: 20
  ppvs:
    - {id: a, name: A, state: s1}
    - {id: b, name: B, state: s2}
crowd:
  size: 60
  arrival: {shape: constant, over: 1s}
journey:
  request_timeout: 1s
  patience: 1s
designs:
  - name: monolithic
  - name: per-ppv
`

// A run writes each design's result as it finishes, so a later design's
// failure loses none; it starts by clearing what an earlier run left (and
// nothing else); off a terminal it prints plain progress lines.
func TestRunKeepsFinishedDesigns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"tiny.yaml": tinyScenario})
	out := filepath.Join(dir, "out")
	writeFiles(t, out, map[string]string{
		"result.json": "{}", "index.html": "old", "hlog/old.hlog": "old", "plots/old.png": "old",
		"data/monolithic/old.db": "old", "keep.txt": "mine", "data/mine/keep.db": "mine",
	})
	var (
		seen    *results.Result
		seenErr error
		lockErr error
	)
	// The second design's store fails to open; by then the first design's
	// result must be on disk, and the folder locked.
	opener := func(ctx context.Context, data string, d models.Design, inv models.Inventory) (store.Store, error) {
		if d.Name != "per-ppv" {
			return sqlitestore.Opener()(ctx, data, d, inv)
		}
		seen, seenErr = results.LoadResult(filepath.Join(out, "result.json"))
		var release func() error
		if release, lockErr = lockOutDir(out); release != nil {
			_ = release()
		}
		return nil, errors.New("disk on fire")
	}
	o := &runOptions{scenario: filepath.Join(dir, "tiny.yaml"), out: out, noReport: true,
		openStore: opener, progressEvery: 200 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := o.run(ctx, &stdout, &stderr, false)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "design per-ppv") || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("run: exit %d, %v; want exit 1 naming per-ppv's failure\n%s", exitCode(err), err, stderr.String())
	}
	if seenErr != nil || len(seen.Designs) != 1 || seen.Designs[0].Design != "monolithic" || !seen.Interrupted {
		t.Errorf("result.json when per-ppv started: %v; want monolithic alone, marked interrupted", seenErr)
	}
	if exitCode(lockErr) != 2 {
		t.Errorf("lock during the run: %v; want refused, exit 2", lockErr)
	}
	r, err := results.LoadResult(filepath.Join(out, "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Designs) != 1 || r.Designs[0].Design != "monolithic" || !r.Interrupted {
		t.Errorf("result.json: %d designs, interrupted %v; want monolithic alone, interrupted", len(r.Designs), r.Interrupted)
	}
	checkLiveResult(t, r, true)
	for _, gone := range []string{"index.html", "hlog", "plots", "data/monolithic/old.db"} {
		if _, err := os.Stat(filepath.Join(out, gone)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v; want the earlier run's removed", gone, err)
		}
	}
	for _, kept := range []string{"keep.txt", "data/mine/keep.db"} {
		if _, err := os.Stat(filepath.Join(out, kept)); err != nil {
			t.Errorf("%s: %v; want what is not slotrush's kept", kept, err)
		}
	}
	log := stderr.String()
	for _, re := range []string{
		`(?m)^slotrush run: design monolithic: started, 60 users over 2s$`,
		`(?m)^slotrush run: design monolithic: \S+ of 2s: \d+ requests, \d+ errors, \d+/40 booked, \d+ users arrived$`,
		`(?m)^slotrush run: design monolithic: ended after \S+: \d+ requests, \d+ errors, \d+/40 booked, 60 users arrived$`,
		`(?m)^slotrush run: design per-ppv failed; writing the designs already run$`,
	} {
		if !regexp.MustCompile(re).MatchString(log) {
			t.Errorf("stderr lacks a line matching %s:\n%s", re, log)
		}
	}
}

// A run in which nobody could book because every answer was outside the
// API is written whole, then exits 1.
func TestUnusableRunExitsOne(t *testing.T) {
	t.Parallel()
	res := &results.Result{Format: results.FormatVersion, Scenario: "s", Engine: results.EngineLive,
		Designs: []results.DesignResult{{Design: "acme", Users: results.Users{Arrived: 10, GaveUp: 10},
			Requests: results.Requests{Total: 10, ByStatus: map[string]int64{"404": 10}}}}}
	dir := t.TempDir()
	err := writeOutputs(io.Discard, res, dir, true, nil)
	if exitCode(err) != 1 || !strings.Contains(err.Error(), "nobody could book") {
		t.Errorf("writeOutputs = %v (exit %d); want exit 1 saying nobody could book", err, exitCode(err))
	}
	if _, statErr := os.Stat(filepath.Join(dir, "result.json")); statErr != nil {
		t.Errorf("result.json not written: %v", statErr)
	}
}

// simulate takes the same lock on --out as run.
func TestSimulateRefusesLockedOut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	release, err := lockOutDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = release() })
	_, err = runCmd(t, "simulate", "--scenario", "ci-smoke", "--no-report", "-q", "--out", dir)
	if exitCode(err) != 2 || !strings.Contains(fmt.Sprint(err), "another slotrush is using this folder") {
		t.Errorf("simulate on a locked --out = %v (exit %d); want exit 2 naming the lock", err, exitCode(err))
	}
}
