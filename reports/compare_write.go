package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// The writers of a Comparison: an aligned text table for a terminal,
// Markdown for a pull request, JUnit XML for CI systems.

func (c *Comparison) headline() string {
	reg := len(c.Regressions())
	runs := func(n int) string {
		if n == 1 {
			return "1 run"
		}
		return fmt.Sprintf("%d runs", n)
	}
	verdict := "no regression"
	switch {
	case reg == 1:
		verdict = "1 regression"
	case reg > 1:
		verdict = fmt.Sprintf("%d regressions", reg)
	}
	return fmt.Sprintf("slotrush compare: %s in %d checks (baseline %s, current %s)", verdict, len(c.Checks), runs(c.BaselineRuns), runs(c.CurrentRuns))
}

// WriteText writes the comparison as an aligned table for a terminal.
func (c *Comparison) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, c.headline())
	for _, n := range c.Notes {
		fmt.Fprintln(ew, "note:", n)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DESIGN\tMETRIC\tBASELINE\tCURRENT\tCHANGE\tLIMIT\tSIGNIFICANT\tSTATUS")
	for _, ch := range c.Checks {
		st := string(ch.Status)
		if ch.Status == StatusRegression {
			st = "REGRESSION"
		}
		if ch.Note != "" {
			st += " (" + ch.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ch.designText(), ch.Metric, ch.spreadText(ch.Baseline), ch.spreadText(ch.Current),
			ch.changeText(), ch.limitText(), ch.significantText(), st)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(ew)
	for _, l := range c.Rule() {
		fmt.Fprintln(ew, l)
	}
	return ew.err
}

// WriteMarkdown writes the comparison as a Markdown table for a pull
// request comment or a GitHub job summary.
func (c *Comparison) WriteMarkdown(w io.Writer) error {
	ew := &errWriter{w: w}
	mark := "✅"
	if len(c.Regressions()) > 0 {
		mark = "❌"
	}
	fmt.Fprintf(ew, "### %s %s\n\n", mark, mdEscape(c.headline()))
	for _, n := range c.Notes {
		fmt.Fprintf(ew, "> note: %s\n", mdEscape(n))
	}
	if len(c.Notes) > 0 {
		fmt.Fprintln(ew)
	}
	fmt.Fprintln(ew, "| design | metric | baseline | current | change | limit | significant | status |")
	fmt.Fprintln(ew, "| --- | --- | ---: | ---: | ---: | ---: | :---: | --- |")
	for _, ch := range c.Checks {
		st := string(ch.Status)
		if ch.Status == StatusRegression {
			st = "**regression**"
		}
		if ch.Note != "" {
			st += " (" + mdEscape(ch.Note) + ")"
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mdEscape(ch.designText()), mdEscape(ch.Metric),
			mdEscape(ch.spreadText(ch.Baseline)), mdEscape(ch.spreadText(ch.Current)), mdEscape(ch.changeText()),
			mdEscape(ch.limitText()), ch.significantText(), st)
	}
	fmt.Fprintln(ew)
	fmt.Fprintln(ew, "<details><summary>How a regression is decided</summary>")
	fmt.Fprintln(ew)
	for _, l := range c.Rule() {
		fmt.Fprintln(ew, mdEscape(strings.TrimSpace(l))+"<br>")
	}
	fmt.Fprintln(ew)
	fmt.Fprintln(ew, "</details>")
	return ew.err
}

// designText is the design column of a check: "(run)" for a check of a
// run as a whole.
func (ch Check) designText() string {
	if ch.Design == "" {
		return "(run)"
	}
	return ch.Design
}

func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;")
	return r.Replace(s)
}

// JUnit XML, as read by CI systems: one testcase per design and metric.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the comparison as JUnit XML: one testcase per design
// and metric, with a <failure> for each regression.
func (c *Comparison) WriteJUnit(w io.Writer) error {
	suite := junitSuite{Name: "slotrush compare", Tests: len(c.Checks), SystemOut: strings.Join(append(c.Rule(), c.Notes...), "\n")}
	o := c.Options
	suite.Properties = []junitProperty{
		{"p50", fmt.Sprint(o.P50)}, {"p99", fmt.Sprint(o.P99)}, {"error-rate-pp", fmt.Sprint(o.ErrorRatePP)},
		{"booked-share-pp", fmt.Sprint(o.BookedSharePP)}, {"min-latency-ms", fmt.Sprint(o.MinLatencyMs)},
		{"baseline-runs", fmt.Sprint(c.BaselineRuns)}, {"current-runs", fmt.Sprint(c.CurrentRuns)},
	}
	for _, ch := range c.Checks {
		class := "slotrush.compare"
		if ch.Design != "" {
			class += "." + ch.Design
		}
		tc := junitCase{ClassName: class, Name: ch.Metric,
			SystemOut: fmt.Sprintf("baseline %s; current %s; change %s; limit %s; significant %s; status %s",
				ch.spreadText(ch.Baseline), ch.spreadText(ch.Current), ch.changeText(), ch.limitText(), ch.significantText(), ch.Status)}
		if ch.Status == StatusRegression {
			suite.Failures++
			tc.Failure = &junitFailure{Message: ch.Sentence(), Type: "regression", Text: tc.SystemOut}
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return writeJUnitSuite(w, suite)
}

// errWriter keeps the first write error so formatting code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, nil
}

// writeJUnitSuite writes suite as a JUnit XML document (the XML header,
// then <testsuites name="slotrush compare"> around it): the format of
// both the results' and the capacity comparisons.
func writeJUnitSuite(w io.Writer, suite junitSuite) error {
	doc := junitSuites{Name: "slotrush compare", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
