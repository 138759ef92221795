// Command slotrush replays registration-day crowds against partitioned
// booking designs, live or simulated, and reports the difference.
//
// The commands live one per file; each file registers its constructor with
// addCommand in an init function, so main stays thin.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Stamped at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

// commands holds the constructors of the subcommands, registered by init
// functions of the command files.
var commands []func() *cobra.Command

func addCommand(f func() *cobra.Command) { commands = append(commands, f) }

// exitError carries a specific exit code: 0 fine, 1 a regression or a
// failed check (and any other failure), 2 bad input, usage errors included
// (README.md, "Exit codes").
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// badRunInput marks err as bad input: the command exits 2.
func badRunInput(err error) error { return &exitError{code: 2, err: err} }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "slotrush",
		Short:         "Prove which booking design survives a registration-day rush",
		Long:          "slotrush replays registration-day crowds live against a reference booking server\n(or any server with the same API), simulates them at national scale, and reports\nthe difference between partitioning designs in plots, HTML and CI gates.\n\nExit codes: 0 fine, 1 a regression or a failed check, 2 bad input (usage errors\nincluded).",
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Runnable, so that an unknown command reaches Args (exit 2)
		// rather than cobra's help.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	// Subcommands inherit it unless they set their own.
	root.SetFlagErrorFunc(usageError)
	for _, f := range commands {
		root.AddCommand(f())
	}
	root.SetHelpCommand(newHelpCmd(root))
	usageArgs(root)
	return root
}

// newHelpCmd returns the help command: cobra's, except that help about an
// unknown command is a bad input (exit 2), not a note and the root's help.
func newHelpCmd(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		RunE: func(_ *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return badRunInput(fmt.Errorf("help: unknown command %q (see slotrush --help)", strings.Join(args, " ")))
			}
			return cmd.Help()
		},
	}
}

// usageArgs makes every error of the argument checks of cmd and its
// subcommands a bad input (exit 2), and has a command with subcommands and
// no check of its own refuse an unknown subcommand.
func usageArgs(cmd *cobra.Command) {
	check := cmd.Args
	if check == nil && cmd.HasSubCommands() {
		check = unknownCommand
	}
	if check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			err := check(c, args)
			var ee *exitError
			if err == nil || errors.As(err, &ee) {
				return err
			}
			return badRunInput(err)
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

// unknownCommand refuses any argument of a command that only has
// subcommands, suggesting the closest subcommand.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(": did you mean %q?", s[0])
	}
	return fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath())
}

func versionString() string {
	if commit == "" {
		return version
	}
	return version + " (" + commit + ")"
}

func main() {
	err := newRootCmd().Execute()
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil {
			os.Exit(code)
		}
	}
	fmt.Fprintln(os.Stderr, "slotrush:", err)
	os.Exit(code)
}
