package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/scenarios"
)

func init() { addCommand(newScenariosCmd) }

func newScenariosCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show and validate scenarios",
		Long: `A scenario is a YAML file describing one registration-day rush: the slot
inventory, the crowd and when it arrives, what people want, how they retry,
and the designs to compare with their per-partition limits. Built-in presets
can be named wherever a scenario file is expected.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newScenariosListCmd(), newScenariosShowCmd(), newScenariosValidateCmd())
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
		Use:   "show NAME",
		Short: "Print a built-in scenario's YAML, comments and sources included",
		Long: `show prints a built-in scenario exactly as embedded, with the comments that
give the source of every figure. Save it to start a scenario of your own:

  slotrush scenarios show demo > my-rush.yaml`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return badRunInput(fmt.Errorf("scenarios show: want one preset NAME, got %d arguments (slotrush scenarios list names them)", len(args)))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := scenarios.Preset(args[0])
			if err != nil {
				return badRunInput(err)
			}
			_, err = cmd.OutOrStdout().Write(data)
			return err
		},
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
file is invalid. Preset names are accepted too.`,
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
		_, err := scenarios.Load(ref)
		if err == nil {
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
