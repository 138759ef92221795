package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/scenarios"
)

func init() { addCommand(newScenariosCmd) }

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show, validate and plan scenarios",
		Long: `A scenario is a YAML file describing one registration-day rush: the slot
inventory, the crowd and when it arrives, what people want, how they retry,
and the designs to compare with their per-partition limits. Built-in presets
can be named wherever a scenario file is expected.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScenariosListCmd(), newScenariosShowCmd(), newScenariosValidateCmd(), newScenariosPlanCmd())
	return cmd
}

func newScenariosListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return listScenarios(cmd.OutOrStdout())
		},
	}
}

func listScenarios(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tUSERS\tPPVS\tDAYS\tCAPACITY\tDESIGNS\tDESCRIPTION")
	for _, name := range scenarios.Presets() {
		s, err := scenarios.Load(name)
		if err != nil {
			return fmt.Errorf("preset %s: %w", name, err)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Crowd.Size, s.NumPPVs(), s.Inventory.Days,
			s.TotalCapacity(), strings.Join(s.DesignNames(), ","), s.Description)
	}
	return tw.Flush()
}

func newScenariosShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a scenario's YAML, comments and sources included",
		Long: `show prints a built-in scenario exactly as embedded, with the comments that
give the source of every figure, or a scenario file as written once it is
valid (its problems otherwise, as validate reports them, exit code 2). The
warnings validate gives go to stderr. Save a preset to start a scenario of
your own, and plan it before running it:

  slotrush scenarios show demo > my-rush.yaml
  slotrush scenarios plan my-rush.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badRunInput(fmt.Errorf("scenarios show: want one preset NAME, got %d arguments (or one scenario FILE; slotrush scenarios list names the presets)", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return showScenario(cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0])
		},
	}
}

// showScenario writes the YAML of the preset or file ref to stdout, and
// its warnings to stderr; an invalid scenario is a bad input.
func showScenario(stdout, stderr io.Writer, ref string) error {
	if _, err := scenarios.Preset(ref); err != nil {
		if _, serr := os.Stat(ref); errors.Is(serr, fs.ErrNotExist) {
			return badRunInput(fmt.Errorf("%w, nor a scenario file", err))
		}
	}
	s, err := scenarios.Load(ref)
	if err != nil {
		return badRunInput(err)
	}
	data, err := scenarios.Preset(ref)
	if err != nil {
		if data, err = os.ReadFile(ref); err != nil {
			return badRunInput(fmt.Errorf("show scenario: %w", err))
		}
	}
	printWarnings(stderr, s.FileWarnings())
	_, err = stdout.Write(data)
	return err
}

// printWarnings writes each warning as FILE:LINE:COLUMN: warning: FIELD: PROBLEM.
func printWarnings(w io.Writer, warnings scenarios.ErrorList) {
	for _, e := range warnings {
		fmt.Fprintf(w, "%s:%d:%d: warning: %s: %s\n", e.File, e.Line, e.Column, e.Field, e.Msg)
	}
}

func newScenariosValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE...",
		Short: "Check scenario files and report every problem with file:line:column",
		Long: `validate decodes each scenario file strictly (unknown fields, wrong types, bad
durations and dates are errors), fills defaults and checks every value. It
prints "FILE: ok" for a valid file and every problem of an invalid one, one per
line as FILE:LINE:COLUMN: FIELD: PROBLEM, and exits 2 (bad input) when any
file is invalid. A valid file may also get warnings, on stderr as
FILE:LINE:COLUMN: warning: FIELD: PROBLEM, for a setting that another one
overrides or voids (hot_skew where PPVs set a popularity, same_state without
alternatives, a waiting room no design uses); warnings do not make a file
invalid. Preset names are accepted too.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return badRunInput(errors.New("scenarios validate: give at least one scenario FILE (or preset name)"))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return validateScenarios(cmd.OutOrStdout(), cmd.ErrOrStderr(), args)
		},
	}
}

// validateScenarios prints "FILE: ok" to stdout for each valid file and the
// problems of the others to stderr; it returns a bad input (exit 2) when any
// file is invalid.
func validateScenarios(stdout, stderr io.Writer, refs []string) error {
	bad := 0
	for _, ref := range refs {
		s, err := scenarios.Load(ref)
		if err == nil {
			printWarnings(stderr, s.FileWarnings())
			fmt.Fprintf(stdout, "%s: ok\n", ref)
			continue
		}
		bad++
		var list scenarios.ErrorList
		if errors.As(err, &list) {
			fmt.Fprintln(stderr, list.Error())
		} else {
			fmt.Fprintf(stderr, "%s: %v\n", ref, err)
		}
	}
	if bad > 0 {
		return badRunInput(fmt.Errorf("%d of %d scenario files invalid", bad, len(refs)))
	}
	return nil
}

// scenariosPlanOptions are the flags of `scenarios plan`.
type scenariosPlanOptions struct {
	scale   float64
	seed    int64
	seedSet bool
	format  string
}

func newScenariosPlanCmd() *cobra.Command {
	o := &scenariosPlanOptions{}
	cmd := &cobra.Command{
		Use:   "plan NAME|FILE [--scale F] [--seed N] [--format text|json]",
		Short: "Print what a scenario implies before it runs: peak rates, hottest partitions, room sizing, warnings",
		Long: `plan computes, without running anything, the figures that say whether a
scenario is sensible: people against places; the peak arrival rate and when
it comes; the requests per second it brings at the peak (each person making
the journey's calls, list_ppvs, list_slots and book, once: retries,
alternatives, refreshes and waiting-room polls come on top and are not
known before a run); for each design its partitions and its hottest
partition (the one a "hottest" fault picks) with the booking attempts and
listings per second it gets at the peak against its write_rate and
read_rate; the waiting room's admission rate, what it brings the hottest
partition and how long the crowd takes to get through; and warnings: a run
that ends within the last arrivals' patience, centres nobody chooses first,
a room that keeps people longer than their patience or past the end.

--scale means what it means to simulate: the crowd, the daily capacities and
piecewise arrival rates multiplied, the limits and the room kept. --seed
draws the crowd's first choices from another seed (default: the
scenario's). A bad scenario, scale or format exits 2, a scenario's problems
given as FILE:LINE:COLUMN: FIELD: PROBLEM.`,
		Example: `  slotrush scenarios plan demo
  slotrush scenarios plan jkjav-az-2021-05-26 --scale 0.1
  slotrush scenarios plan my-rush.yaml --format json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badRunInput(fmt.Errorf("scenarios plan: want one preset NAME or scenario FILE, got %d arguments", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.seedSet = cmd.Flags().Changed("seed")
			return o.run(cmd.OutOrStdout(), args[0])
		},
	}
	f := cmd.Flags()
	f.Float64Var(&o.scale, "scale", 1, scaleFlagUsage+", as simulate does")
	f.Int64Var(&o.seed, "seed", 0, "draw the crowd from seed N instead of the scenario's")
	f.StringVar(&o.format, "format", "text", "output format: text or json")
	return cmd
}

// run plans the scenario ref and writes the plan in the chosen format.
// Every error is a bad input.
func (o *scenariosPlanOptions) run(w io.Writer, ref string) error {
	if o.format != "text" && o.format != "json" {
		return badRunInput(fmt.Errorf("--format %q: want text or json", o.format))
	}
	s, err := scenarios.Load(ref)
	if err != nil {
		return badRunInput(err)
	}
	if o.seedSet {
		c := *s
		c.Seed = o.seed
		s = &c
	}
	p, err := s.Plan(o.scale)
	if err != nil {
		return badRunInput(err)
	}
	if o.format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return writePlan(w, p)
}

// writePlan writes plan p as text: the crowd, a table of the designs, the
// waiting rooms and the warnings.
func writePlan(w io.Writer, p *scenarios.Plan) error {
	fmt.Fprintf(w, "scenario %s at scale %s, seed %d\n\n", p.Scenario, num(p.Scale), p.Seed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "people\t%s for %s places (%d PPVs x %d days): %s per place\n", thousands(float64(p.People)), thousands(float64(p.Places)), p.PPVs, p.Days, num(p.PeoplePerPlace))
	fmt.Fprintf(tw, "peak arrivals\t%s people/s at %v; the last arrives at %v\n", num(p.PeakArrivalRate), p.PeakAt, p.LastArrival)
	if p.OpeningDelay > 0 {
		fmt.Fprintf(tw, "opening\tthe booking API opens at %v; %s people arrive before it\n", p.OpeningDelay, thousands(float64(p.EarlyArrivals)))
	}
	fmt.Fprintf(tw, "requests at peak\t%s/s: %d calls a person (%s), before retries, alternatives, refreshes and room polls\n",
		num(p.PeakRequestRate), len(p.Calls), strings.Join(p.Calls, ", "))
	fmt.Fprintf(tw, "run\t%v, patience %v\n", p.Duration, p.Patience)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESIGN\tPARTITIONS\tHOTTEST\tSHARE\tBOOK/S AT PEAK\tWRITE LIMIT\tLOAD\tREAD/S AT PEAK\tREAD LIMIT\tLOAD")
	for _, d := range p.Designs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.Design, thousands(float64(d.Partitions)), d.Hottest, percent(d.HottestShare),
			num(d.PeakBookings), limit(d.WriteRate), times(d.WriteLoad), num(d.PeakReads), limit(d.ReadRate), times(d.ReadLoad))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	writeRooms(w, p)
	fmt.Fprintln(w)
	if len(p.Warnings) == 0 {
		fmt.Fprintln(w, "warnings: none")
		return nil
	}
	fmt.Fprintln(w, "warnings:")
	for _, x := range p.Warnings {
		fmt.Fprintf(w, "  %s: %s\n", x.Code, x.Message)
	}
	return nil
}

// writeRooms writes the sizing of each design's waiting room, if any.
func writeRooms(w io.Writer, p *scenarios.Plan) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := false
	for _, d := range p.Designs {
		r := d.Room
		if r == nil {
			continue
		}
		if !header {
			fmt.Fprintln(w)
			fmt.Fprintln(tw, "WAITING ROOM\tADMITS\tHOTTEST GETS\tWRITE LIMIT\tLOAD\tALL PARTITIONS\tLAST ADMITTED\tLONGEST WAIT\tNOT ADMITTED\tREFUSED")
			header = true
		}
		fmt.Fprintf(tw, "%s\t%s/s\t%s/s\t%s\t%s\t%s\t%v\t%v\t%s\t%s\n", d.Design, num(r.AdmitRate), num(r.HottestBookings), limit(d.WriteRate), times(r.WriteLoad),
			limit(r.AllWriteRate), r.LastAdmitted, r.LongestWait, thousands(float64(r.NotAdmitted)), thousands(float64(r.Refused)))
	}
	tw.Flush() //nolint:errcheck // the caller's next write fails too
}

// num formats x to 3 significant digits, without an exponent, and from
// 100 on as a whole number with thousands separators: 844.8 → "845",
// 0.4209 → "0.421", 2534 → "2,534".
func num(x float64) string {
	if math.Abs(x) >= 100 || x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return thousands(x)
	}
	decimals := min(max(2-int(math.Floor(math.Log10(math.Abs(x)))), 0), 6)
	out := strconv.FormatFloat(x, 'f', decimals, 64)
	if strings.Contains(out, ".") {
		out = strings.TrimRight(strings.TrimRight(out, "0"), ".")
	}
	return out
}

// percent formats a share in [0,1] as a percentage: 0.4209 → "42.1%".
func percent(x float64) string { return num(x*100) + "%" }

// times formats a load: 5.632 → "5.63x"; 0 (no limit) → "-".
func times(x float64) string {
	if x == 0 {
		return "-"
	}
	return num(x) + "x"
}

// limit formats a rate limit per second; 0 reads "unlimited".
func limit(x float64) string {
	if x == 0 {
		return "unlimited"
	}
	return num(x) + "/s"
}
