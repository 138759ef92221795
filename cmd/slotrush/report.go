package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/slotrush/slotrush/results"

	"github.com/spf13/cobra"

	"github.com/slotrush/slotrush/reports"
)

func init() { addCommand(newReportCmd) }

// reportOpts are the flags of report.
type reportOpts struct {
	out string
}

func newReportCmd() *cobra.Command {
	o := &reportOpts{}
	cmd := &cobra.Command{
		Use:   "report RESULT.json... [--out DIR]",
		Short: "Render the HTML report and plots of one or more result files",
		Long: `report reads result files written by run or simulate and writes into --out:
index.html, one self-contained page with the verdict in plain words, the
assumptions of each design, a side-by-side table and the plots; the plots
as PNG and SVG under plots/; and the latency histograms as HdrHistogram
interval logs under hlog/. Several files combine into one comparison;
a design that appears in several is labelled with scenario, engine and date.

It prints the path of index.html. It exits 2 when a file cannot be read,
naming the file and, for JSON errors, the line and column.`,
		Example: `  slotrush report out/demo/result.json --out out/demo-report
  slotrush report live.json model.json --out out/both`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: 2, err: errors.New("report: give at least one RESULT.json")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.OutOrStdout(), args)
		},
	}
	cmd.SetFlagErrorFunc(usageError)
	cmd.Flags().StringVarP(&o.out, "out", "o", "report", "directory for index.html, plots/ and hlog/")
	return cmd
}

func (o *reportOpts) run(stdout io.Writer, paths []string) error {
	loaded, err := loadResults(paths)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	index, err := reports.Render(o.out, loaded...)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, index)
	return err
}

// loadResults reads every file and returns all problems at once, each
// naming its file.
func loadResults(paths []string) ([]*results.Result, error) {
	var (
		out  []*results.Result
		errs []error
	)
	for _, p := range paths {
		r, err := results.LoadResult(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, r)
	}
	return out, errors.Join(errs...)
}

// usageError makes a flag error exit 2, like any bad input.
func usageError(_ *cobra.Command, err error) error {
	return &exitError{code: 2, err: err}
}
