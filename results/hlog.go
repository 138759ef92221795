package results

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// HistogramLogValueUnit is the unit of the values in the interval logs that
// WriteHistogramLogs writes: nanoseconds, the unit HdrHistogram's tools
// (HistogramLogProcessor, HistogramLogAnalyzer, hdr-plot) assume by default,
// so their millisecond output is right without options.
const HistogramLogValueUnit = "ns"

// WriteHistogramLogs writes, for every design of r and every operation with
// a histogram, outDir/<design>.<operation>.hlog in the HdrHistogram interval
// log format (version 1.3): the version line, the start time, a comment
// naming design, operation and units, the legend, and the interval lines
// "start,length,max,histogram": start relative to the start time, length
// in seconds, max in milliseconds, the histogram V2 compressed with values
// in nanoseconds. A result with per-second histograms (DesignResult.Intervals)
// gets one line per second in which the operation completed; one without
// gets one line covering the run. It creates outDir and returns the
// paths written, sorted. Safe for concurrent use on different outDirs.
// Errors: an undecodable histogram or a failed write, naming the file.
func WriteHistogramLogs(outDir string, r *Result) ([]string, error) {
	if r == nil {
		return nil, fmt.Errorf("write histogram logs: no result")
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("write histogram logs: %w", err)
	}
	var paths []string
	used := map[string]bool{}
	for i := range r.Designs {
		d := &r.Designs[i]
		ops := make([]string, 0, len(d.Histograms))
		for op := range d.Histograms {
			ops = append(ops, op)
		}
		sort.Strings(ops)
		for _, op := range ops {
			h, err := DecodeHistogram(d.Histograms[op])
			if err != nil {
				return paths, fmt.Errorf("write histogram logs: design %s, operation %s: %w", d.Design, op, err)
			}
			name := fileSafe(d.Design) + "." + fileSafe(op)
			for n := 2; used[name]; n++ {
				name = fmt.Sprintf("%s.%s-%d", fileSafe(d.Design), fileSafe(op), n)
			}
			used[name] = true
			path := filepath.Join(outDir, name+".hlog")
			if err := writeHistogramLog(path, r, d, op, h); err != nil {
				return paths, err
			}
			paths = append(paths, path)
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// logLine is one interval line of a histogram log: start relative to the
// log's start time and length, both in seconds, and the values in µs.
type logLine struct {
	start, length float64
	us            *hdrhistogram.Histogram
}

// logLines returns the interval lines of op in d: one per second of the
// run when d has per-second histograms, else one covering the run.
func logLines(r *Result, d *DesignResult, op string, us *hdrhistogram.Histogram) ([]logLine, error) {
	var offset float64
	if !r.StartedAt.IsZero() {
		offset = float64(r.StartedAt.Nanosecond()) / 1e9
	}
	secs, err := d.IntervalHistograms(op)
	if err != nil {
		return nil, err
	}
	if secs != nil {
		lines := make([]logLine, len(secs))
		for i, h := range secs {
			lines[i] = logLine{start: offset + float64(d.Intervals[op][i].TS), length: 1, us: h}
		}
		return lines, nil
	}
	length := d.DurationS
	if length <= 0 {
		length = r.FinishedAt.Sub(r.StartedAt).Seconds()
	}
	return []logLine{{start: offset, length: max(length, 0), us: us}}, nil
}

func writeHistogramLog(path string, r *Result, d *DesignResult, op string, us *hdrhistogram.Histogram) (err error) {
	lines, err := logLines(r, d, op, us)
	if err != nil {
		return fmt.Errorf("write histogram log %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write histogram log: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("write histogram log %s: %w", path, cerr)
		}
	}()
	w := bufio.NewWriter(f)
	lw := hdrhistogram.NewHistogramLogWriter(w)
	// The start time line carries whole seconds; each interval starts
	// relative to it.
	var startSec int64
	if !r.StartedAt.IsZero() {
		startSec = r.StartedAt.Unix()
	}
	steps := []func() error{
		lw.OutputLogFormatVersion,
		func() error { return lw.OutputStartTime(startSec * 1000) },
		func() error {
			return lw.OutputComment(fmt.Sprintf("slotrush scenario=%s engine=%s design=%s operation=%s unit=%s (latency from the scheduled start of each request)",
				oneLine(r.Scenario), r.Engine, oneLine(d.Design), oneLine(op), HistogramLogValueUnit))
		},
		lw.OutputLegend,
		func() error { return writeLogLines(w, lines) },
		w.Flush,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("write histogram log %s: %w", path, err)
		}
	}
	return nil
}

// writeLogLines writes each interval line in the layout of the Java
// HistogramLogWriter, "start,length,max,histogram", max in milliseconds and
// the histogram in nanoseconds. hdrhistogram-go's OutputIntervalHistogram
// takes the histogram's millisecond timestamps as seconds and writes the
// end time where the format has the interval length, so it is not used.
func writeLogLines(w io.Writer, lines []logLine) error {
	for _, l := range lines {
		ns := microsToNanos(l.us)
		enc, err := ns.Encode(hdrhistogram.V2CompressedEncodingCookieBase)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%.3f,%.3f,%.3f,%s\n", l.start, l.length, float64(ns.Max())/hdrhistogram.MsToNsRatio, enc); err != nil {
			return err
		}
	}
	return nil
}

// microsToNanos re-records a microsecond histogram in nanoseconds. Each
// bucket's count goes to its highest equivalent value, the value percentiles
// report, so percentiles agree within the histogram's precision.
func microsToNanos(us *hdrhistogram.Histogram) *hdrhistogram.Histogram {
	ns := hdrhistogram.New(1, HistMaxMicros*1000, HistSigFigs)
	for _, b := range us.Distribution() {
		if b.Count > 0 {
			_ = ns.RecordValues(b.To*1000, b.Count) // beyond range only for corrupt input
		}
	}
	return ns
}

// oneLine keeps a comment on one line.
func oneLine(s string) string {
	out := []rune(s)
	for i, c := range out {
		if c == '\n' || c == '\r' {
			out[i] = ' '
		}
	}
	return string(out)
}

// fileSafe keeps letters, digits and "+-_" and replaces the rest with "_",
// so design and operation names stay recognisable in file names.
func fileSafe(s string) string {
	out := []rune(s)
	for i, c := range out {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '+', c == '-', c == '_':
		default:
			out[i] = '_'
		}
	}
	if len(out) == 0 {
		return "_"
	}
	return string(out)
}
