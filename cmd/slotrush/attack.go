package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/sim"
)

func init() { addCommand(newAttackCmd) }

type attackOptions struct {
	url         string
	rate        float64
	duration    time.Duration
	connections int
	timeout     time.Duration
}

func newAttackCmd() *cobra.Command {
	o := &attackOptions{}
	cmd := &cobra.Command{
		Use:   "attack --url URL [--rate R] [--duration D] [--connections N]",
		Short: "GET one URL at a constant rate (or as fast as possible) and report latency",
		Long: `attack is the raw load generator under run: a constant-rate open-model pacer
(latency measured from each request's scheduled start) or, with --rate 0, as many
closed-loop workers as --connections. It is what make bench compares with vegeta.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return o.run(ctx, cmd)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "", "URL to GET (required)")
	f.Float64Var(&o.rate, "rate", 0, "requests per second; 0 = as fast as the connections allow")
	f.DurationVar(&o.duration, "duration", 10*time.Second, "how long to send")
	f.IntVar(&o.connections, "connections", 64, "most requests in flight (and connections)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	_ = cmd.MarkFlagRequired("url")
	return cmd
}

func (o *attackOptions) run(ctx context.Context, cmd *cobra.Command) error {
	if _, err := sim.NewClient(o.url, nil, 0); err != nil {
		return fmt.Errorf("--url: %w", err)
	}
	res, err := sim.Attack(ctx, sim.AttackOptions{URL: o.url, Rate: o.rate, Duration: o.duration, MaxWorkers: o.connections, Timeout: o.timeout})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "requests      %d in %.2fs, rate %.1f/s, late starts %d\n", res.Sent, res.Elapsed.Seconds(), res.Rate, res.Late)
	ms := func(q float64) float64 { return float64(res.Latency.ValueAtQuantile(q)) / 1000 }
	fmt.Fprintf(w, "latency (ms)  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", ms(50), ms(90), ms(99), float64(res.Latency.Max())/1000)
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
	return nil
}
