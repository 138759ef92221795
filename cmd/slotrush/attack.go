package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/sim"
)

func init() { addCommand(newAttackCmd) }

type attackOptions struct {
	url         string
	rate        float64
	duration    time.Duration
	connections int
	timeout     time.Duration
	grace       time.Duration
	out         string
}

func newAttackCmd() *cobra.Command {
	o := &attackOptions{}
	cmd := &cobra.Command{
		Use:   "attack --url URL [--rate R] [--duration D] [--connections N] [--timeout D] [--grace D] [--out FILE]",
		Short: "GET one URL at a constant rate (or as fast as possible) and report latency",
		Long: `attack is the raw load generator under run: a constant-rate open-model pacer
(latency measured from each request's scheduled start) or, with --rate 0, as many
closed-loop workers as --connections. It is what make bench compares with vegeta.

At --rate R for --duration D it schedules exactly R×D requests. When D is up it
sends nothing more and waits up to --grace for the requests in flight: each is
counted with its latency, one still unanswered then as a transport error. A
request that was due but never sent (every connection busy until the end) is
counted as dropped, with how late it was at the end. Ctrl-C stops at once; the
requests it cuts short are not counted. --out writes the result as JSON.

Exit codes: 0 done, 1 the attack failed, 2 bad flags.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return &exitError{code: 2, err: fmt.Errorf("attack: unexpected arguments %q (the URL goes in --url)", args)}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return &exitError{code: 2, err: err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "URL to GET (required)")
	f.Float64Var(&o.rate, "rate", 0, "requests per second; 0 = as fast as the connections allow")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send")
	f.IntVar(&o.connections, "connections", 64, "most requests in flight (and connections)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout (0 = none)")
	f.DurationVar(&o.grace, "grace", 0, "how long to wait at the end for requests in flight (0 = --timeout)")
	f.StringVar(&o.out, "out", "", "write the result as JSON to this file")
	return cmd
}

// check returns an error naming the first bad flag, nil when all are good.
func (o *attackOptions) check() error {
	switch {
	case o.url == "":
		return errors.New("attack: --url is required")
	case o.rate < 0:
		return fmt.Errorf("attack: --rate %v: want >= 0", o.rate)
	case o.duration <= 0:
		return fmt.Errorf("attack: --duration %v: want > 0", o.duration)
	case o.connections <= 0:
		return fmt.Errorf("attack: --connections %d: want at least 1", o.connections)
	case o.timeout < 0:
		return fmt.Errorf("attack: --timeout %v: want >= 0", o.timeout)
	case o.grace < 0:
		return fmt.Errorf("attack: --grace %v: want >= 0", o.grace)
	}
	if _, err := sim.NewClient(o.url, nil, 0); err != nil {
		return fmt.Errorf("attack: --url: %w", err)
	}
	if o.out != "" {
		if st, err := os.Stat(filepath.Dir(o.out)); err != nil || !st.IsDir() {
			return fmt.Errorf("attack: --out %s: no such directory %s", o.out, filepath.Dir(o.out))
		}
	}
	return nil
}

func (o *attackOptions) run(ctx context.Context, w io.Writer) error {
	res, err := sim.Attack(ctx, sim.AttackOptions{URL: o.url, Rate: o.rate, Duration: o.duration,
		MaxWorkers: o.connections, Timeout: o.timeout, Grace: o.grace})
	if err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	printAttack(w, res)
	if ctx.Err() != nil {
		fmt.Fprintln(w, "interrupted: requests cut short are not counted")
	}
	if o.out == "" {
		return nil
	}
	rep, err := newAttackReport(o, res)
	if err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	if err := rep.writeFile(o.out); err != nil {
		return fmt.Errorf("attack: %w", err)
	}
	fmt.Fprintf(w, "result: %s\n", o.out)
	return nil
}

// printAttack writes res as text.
func printAttack(w io.Writer, res *sim.AttackResult) {
	fmt.Fprintf(w, "requests      %d in %.2fs, rate %.1f/s, late starts %d, dropped %d\n",
		res.Sent, res.Elapsed.Seconds(), res.Rate, res.Late, res.Dropped)
	lat := results.Summarize(res.Latency)
	fmt.Fprintf(w, "latency (ms)  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", lat.P50, lat.P90, lat.P99, lat.Max)
	if res.Dropped > 0 {
		d := results.Summarize(res.DroppedLate)
		fmt.Fprintf(w, "dropped late  p50 %.3f  max %.3f (ms from due to the end)\n", d.P50, d.Max)
	}
	codes := make([]int, 0, len(res.ByStatus))
	for c := range res.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	fmt.Fprint(w, "status        ")
	for _, c := range codes {
		fmt.Fprintf(w, "%s:%d  ", strconv.Itoa(c), res.ByStatus[c])
	}
	fmt.Fprintf(w, "transport errors:%d\n", res.Transport)
}

// attackReport is the JSON form of an attack's result (--out). Format 1.
// Latencies are ms from each request's scheduled start; Histogram is the
// latency HdrHistogram (µs, V2 compressed, base64), as in result.json.
type attackReport struct {
	Format          int                     `json:"format"`
	URL             string                  `json:"url"`
	TargetRate      float64                 `json:"target_rate"`
	DurationS       float64                 `json:"duration_s"`
	GraceS          float64                 `json:"grace_s"`
	Sent            int64                   `json:"sent"`
	ByStatus        map[string]int64        `json:"by_status"`
	TransportErrors int64                   `json:"transport_errors"`
	Dropped         int64                   `json:"dropped"`
	DroppedLate     *results.LatencySummary `json:"dropped_late_ms,omitempty"`
	LateStarts      int64                   `json:"late_starts"`
	Rate            float64                 `json:"rate"`
	ElapsedS        float64                 `json:"elapsed_s"`
	Latency         results.LatencySummary  `json:"latency_ms"`
	Histogram       string                  `json:"histogram"`
}

// newAttackReport returns the report of res, an attack run with o. Errors:
// the histogram cannot be encoded.
func newAttackReport(o *attackOptions, res *sim.AttackResult) (*attackReport, error) {
	hist, err := results.EncodeHistogram(res.Latency)
	if err != nil {
		return nil, err
	}
	grace := o.grace
	if grace == 0 {
		grace = o.timeout
	}
	rep := &attackReport{
		Format: 1, URL: o.url, TargetRate: o.rate, DurationS: o.duration.Seconds(), GraceS: grace.Seconds(),
		Sent: res.Sent, ByStatus: map[string]int64{}, TransportErrors: res.Transport,
		Dropped: res.Dropped, LateStarts: res.Late, Rate: res.Rate, ElapsedS: res.Elapsed.Seconds(),
		Latency: results.Summarize(res.Latency), Histogram: hist,
	}
	for st, n := range res.ByStatus {
		rep.ByStatus[strconv.Itoa(st)] = n
	}
	if res.Dropped > 0 {
		d := results.Summarize(res.DroppedLate)
		rep.DroppedLate = &d
	}
	return rep, nil
}

// writeFile writes r as indented JSON to path atomically (a temporary file
// in the same directory, then a rename).
func (r *attackReport) writeFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, errors.Join(err, os.Remove(tmp)))
	}
	return nil
}
