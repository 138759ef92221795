package sim

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/scenarios"
)

var updateScripts = flag.Bool("update", false, "rewrite the expected output of the behaviour scripts in testdata/")

// Behaviour scripts (testdata/*.txt) are small readable cases of the model
// in the style of cockroachdb/datadriven:
//
//	# comment
//	define
//	<scenario YAML>
//	----
//
//	run design=monolithic rtt=1ms front=0 read=0 commit=0 per=0 show=timeline
//	----
//	<expected output>
//
// A directive is a command with key=value arguments, its input up to a line
// "----", then its expected output up to a blank line. `go test ./sim -run
// TestScripts -update` rewrites the expected outputs.
//
// Commands:
//
//	define                 the input is a scenario (YAML) for the next runs
//	run                    simulates it and prints what happened; arguments:
//	  design=a,b           designs (default: the scenario's)
//	  seed=N               crowd seed (default: the scenario's)
//	  rtt, front, read, commit, per=DURATION  model parameters made
//	                       constant (front, read) or set (RTT, commit
//	                       base and per booking; commit noise is then 0)
//	  show=timeline,partitions  extra lines: bookings per second, and every
//	                       partition's counters (default: only partitions
//	                       that did something)
func TestScripts(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			t.Parallel()
			runScript(t, f)
		})
	}
}

// scriptCase is one directive of a script.
type scriptCase struct {
	line     int // 1-based line of the directive
	cmd      string
	args     map[string]string
	input    string
	expected string
	// outFrom, outTo are the lines [from, to) of the expected output.
	outFrom, outTo int
}

func parseScript(t *testing.T, path string, lines []string) []scriptCase {
	var cases []scriptCase
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		c := scriptCase{line: i + 1, args: map[string]string{}}
		fields := strings.Fields(l)
		c.cmd = fields[0]
		for _, a := range fields[1:] {
			k, v, _ := strings.Cut(a, "=")
			c.args[k] = v
		}
		i++
		var in []string
		for ; i < len(lines) && lines[i] != "----"; i++ {
			in = append(in, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("%s:%d: %s: no ---- line", path, c.line, c.cmd)
		}
		i++
		c.input = strings.Join(in, "\n")
		c.outFrom = i
		var out []string
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			out = append(out, lines[i])
		}
		c.outTo = i
		c.expected = strings.Join(out, "\n")
		cases = append(cases, c)
	}
	return cases
}

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	cases := parseScript(t, path, lines)
	var sc *scenarios.Scenario
	outputs := make([]string, len(cases))
	for i, c := range cases {
		var got string
		switch c.cmd {
		case "define":
			sc, err = scenarios.Parse(fmt.Sprintf("%s:%d", path, c.line), []byte(c.input))
			if err != nil {
				t.Fatalf("%s:%d: define: %v", path, c.line, err)
			}
			got = fmt.Sprintf("scenario %s: %d users, %d places, %d design(s)", sc.Name, sc.Crowd.Size, sc.TotalCapacity(), len(sc.Designs))
		case "run":
			if sc == nil {
				t.Fatalf("%s:%d: run before define", path, c.line)
			}
			got, err = scriptRun(sc, c.args)
			if err != nil {
				t.Fatalf("%s:%d: run: %v", path, c.line, err)
			}
		default:
			t.Fatalf("%s:%d: unknown command %q", path, c.line, c.cmd)
		}
		outputs[i] = got
		if !*updateScripts && got != c.expected {
			t.Errorf("%s:%d: %s %v:\n got:\n%s\nwant:\n%s", path, c.line, c.cmd, c.args, got, c.expected)
		}
	}
	if !*updateScripts {
		return
	}
	var b strings.Builder
	prev := 0
	for i, c := range cases {
		for _, l := range lines[prev:c.outFrom] {
			b.WriteString(l + "\n")
		}
		if outputs[i] != "" {
			b.WriteString(outputs[i] + "\n")
		}
		prev = c.outTo
	}
	for _, l := range lines[prev:] {
		b.WriteString(l + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// scriptRun simulates sc as the run arguments say and describes the result.
func scriptRun(sc *scenarios.Scenario, args map[string]string) (string, error) {
	var names []string
	if d := args["design"]; d != "" {
		names = strings.Split(d, ",")
	}
	designs, err := sc.BuildDesigns(names)
	if err != nil {
		return "", err
	}
	seed := sc.Seed
	if s, ok := args["seed"]; ok {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
	}
	p := DefaultModelParams()
	dur := func(k string, set func(time.Duration)) error {
		v, ok := args[k]
		if !ok {
			return nil
		}
		d, err := time.ParseDuration(v) // "0" parses too
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		set(d)
		return nil
	}
	for k, set := range map[string]func(time.Duration){
		"rtt":    func(d time.Duration) { p.RTT = ConstantDist(d) },
		"front":  func(d time.Duration) { p.Front = ConstantDist(d) },
		"read":   func(d time.Duration) { p.Read = ConstantDist(d) },
		"commit": func(d time.Duration) { p.CommitBase, p.CommitShape = d, Dist{} },
		"per":    func(d time.Duration) { p.CommitPerBooking, p.CommitShape = d, Dist{} },
	} {
		if err := dur(k, set); err != nil {
			return "", err
		}
	}
	show := map[string]bool{}
	for _, s := range strings.Split(args["show"], ",") {
		show[s] = true
	}
	inv := sc.BuildInventory()
	crowd := sc.Arrivals(seed)
	var b strings.Builder
	for _, d := range designs {
		dr, st, err := SimulateDesign(context.Background(), sc, d, &inv, crowd, seed, p)
		if err != nil {
			return "", err
		}
		describe(&b, dr, st, show)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// describe writes a design's result for a script, in words a reader can
// check by hand.
func describe(b *strings.Builder, d *results.DesignResult, st ModelStats, show map[string]bool) {
	u := d.Users
	fmt.Fprintf(b, "%s: arrived %d, booked %d, gave up %d, still waiting %d; slots booked %d of %d, oversold %d\n",
		d.Design, u.Arrived, u.Booked, u.GaveUp, u.StillWaiting, d.Slots.Booked, d.Slots.Capacity, d.Slots.Oversold)
	codes := make([]string, 0, len(d.Requests.ByStatus))
	for c := range d.Requests.ByStatus {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	var parts []string
	for _, c := range codes {
		parts = append(parts, fmt.Sprintf("%s×%d", c, d.Requests.ByStatus[c]))
	}
	if d.Requests.TransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("timeout×%d", d.Requests.TransportErrors))
	}
	perUser := func(n int64) float64 {
		if u.Arrived == 0 {
			return 0
		}
		return float64(n) / float64(u.Arrived)
	}
	book := d.LatencyMs[results.OpBook]
	fmt.Fprintf(b, "  requests %d (%.2f a user, book %.2f a user): %s\n", d.Requests.Total, u.RequestsPerUser, perUser(book.Count), strings.Join(parts, " "))
	if book.Count > 0 {
		fmt.Fprintf(b, "  book ms: p50 %.1f, p99 %.1f, max %.1f\n", book.P50, book.P99, book.Max)
	}
	if q, ok := d.LatencyMs[results.OpQueue]; ok {
		fmt.Fprintf(b, "  waiting-room requests %d (%.2f a user)\n", q.Count, perUser(q.Count))
	}
	if h, err := results.DecodeHistogram(u.TimeToBook); err == nil && h.TotalCount() > 0 {
		fmt.Fprintf(b, "  time to book s: p50 %.2f, max %.2f\n", float64(h.ValueAtQuantile(50))/1e6, float64(h.Max())/1e6)
	}
	for _, p := range st.Partitions {
		busy := p.Committed+p.SoldOut+p.Throttled+p.ThrottledReads+p.Shed+p.ShedReads > 0
		if !busy && !show["partitions"] {
			continue
		}
		fmt.Fprintf(b, "  partition %s: committed %d/%d, throttled %d writes %d reads, shed %d writes %d reads, sold out %d, %d group commits\n",
			p.Key, p.Committed, p.Capacity, p.Throttled, p.ThrottledReads, p.Shed, p.ShedReads, p.SoldOut, p.Batches)
	}
	if show["timeline"] {
		var secs []string
		last := 0
		for i, tp := range d.Timeline {
			secs = append(secs, strconv.FormatInt(tp.Booked, 10))
			if tp.Booked > 0 {
				last = i + 1
			}
		}
		fmt.Fprintf(b, "  booked per second: %s\n", strings.Join(secs[:last], " "))
	}
}
