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

// exitError carries a specific exit code (compare uses 1 and 2).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "slotrush",
		Short:         "Prove which booking design survives a registration-day rush",
		Long:          "slotrush replays registration-day crowds live against a reference booking server\n(or any server with the same API), simulates them at national scale, and reports\nthe difference between partitioning designs in plots, HTML and CI gates.",
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, f := range commands {
		root.AddCommand(f())
	}
	return root
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
