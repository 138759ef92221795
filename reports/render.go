package reports

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

//go:embed report.html.tmpl
var reportTemplate string

var pageTmpl = template.Must(template.New("report").Parse(reportTemplate))

// Render writes a report comparing every design of every result into
// outDir: the plots as PNG and SVG under outDir/plots/, the HdrHistogram
// interval logs under outDir/hlog/ (one folder per result when there are
// several), and outDir/index.html, one self-contained page (plots embedded
// as data: URIs, no script, no network) with the verdict, the assumptions,
// a side-by-side table, the plots, the scenario parameters and the
// environment. Designs that appear in several results are labelled with
// scenario, engine and start time. It returns the path of index.html.
//
// A plot that cannot be drawn is left out and named in the page; Render
// fails only when there is nothing to report or a file cannot be written.
// Safe for concurrent use on different outDirs.
func Render(outDir string, rs ...*results.Result) (indexPath string, err error) {
	return render(outDir, pngDPI, rs)
}

// render is Render with the PNG resolution as a parameter (tests use a low
// one: rasterising is slow under the race detector).
func render(outDir string, dpi int, in []*results.Result) (string, error) {
	var rs []*results.Result
	for _, r := range in {
		if r != nil {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return "", errors.New("render report: no results")
	}
	ss := collect(rs)
	if len(ss) == 0 {
		return "", errors.New("render report: the results hold no designs")
	}
	plotDir := filepath.Join(outDir, "plots")
	if err := os.MkdirAll(plotDir, 0o755); err != nil {
		return "", fmt.Errorf("render report: %w", err)
	}
	groups := groupSeries(ss)
	pg := buildPage(rs, groups)
	figs, owner := groupFigures(groups)
	views, errs := writeFigures(plotDir, figs, dpi)
	for i, fv := range views {
		if errs[i] != nil {
			pg.Problems = append(pg.Problems, errs[i].Error())
			continue
		}
		g := &pg.Groups[owner[i]]
		if fv.Series == "" {
			g.Cross = append(g.Cross, fv)
		} else {
			g.addDesignFigure(fv)
		}
	}
	pg.HLogs, pg.Problems = writeHLogs(outDir, rs, pg.Problems)
	var buf bytes.Buffer
	if err := pageTmpl.Execute(&buf, pg); err != nil {
		return "", fmt.Errorf("render report: %w", err)
	}
	indexPath := filepath.Join(outDir, "index.html")
	if err := writeFileAtomic(indexPath, buf.Bytes()); err != nil {
		return "", fmt.Errorf("render report: %w", err)
	}
	return indexPath, nil
}

// groupFigures returns the plots of every group, in order, and the index
// of each plot's group. With several groups the plots across designs are
// named after their group, so their files do not clash.
func groupFigures(groups []reportGroup) ([]*figure, []int) {
	var figs []*figure
	var owner []int
	for gi, g := range groups {
		for _, f := range figures(g.series) {
			if len(groups) > 1 && f.Series == "" {
				f.Name = g.slug() + "-" + f.Name
			}
			figs = append(figs, f)
			owner = append(owner, gi)
		}
	}
	return figs, owner
}

// writeFigures draws figs on every core, keeping their order.
func writeFigures(plotDir string, figs []*figure, dpi int) ([]figView, []error) {
	views := make([]figView, len(figs))
	errs := make([]error, len(figs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, f := range figs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			views[i], errs[i] = writeFigure(plotDir, f, dpi)
		}()
	}
	wg.Wait()
	return views, errs
}

// writeHLogs writes the interval logs of rs under outDir/hlog (a folder
// per result, named after its crowd and engine, when there are several)
// and returns their paths relative to outDir, and problems with the
// failures added.
func writeHLogs(outDir string, rs []*results.Result, problems []string) ([]string, []string) {
	var out []string
	for i, r := range rs {
		dir := filepath.Join(outDir, "hlog")
		if len(rs) > 1 {
			dir = filepath.Join(dir, fmt.Sprintf("%d-%s", i+1, slugify(keyOf(r).short())))
		}
		paths, err := results.WriteHistogramLogs(dir, r)
		if err != nil {
			problems = append(problems, err.Error())
		}
		for _, p := range paths {
			rel, err := filepath.Rel(outDir, p)
			if err != nil {
				rel = p
			}
			out = append(out, filepath.ToSlash(rel))
		}
	}
	return out, problems
}

func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeFigure writes f as PNG and SVG and returns its view with the PNG
// embedded.
func writeFigure(dir string, f *figure, dpi int) (figView, error) {
	var png, svg bytes.Buffer
	if err := f.render(&png, "png", dpi); err != nil {
		return figView{}, err
	}
	if err := f.render(&svg, "svg", 0); err != nil {
		return figView{}, err
	}
	for ext, b := range map[string][]byte{".png": png.Bytes(), ".svg": svg.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, f.Name+ext), b, 0o644); err != nil {
			return figView{}, fmt.Errorf("plot %s: %w", f.Name, err)
		}
	}
	return figView{
		Name: f.Name, Title: f.Title, Caption: f.Caption, Series: f.Series,
		Src: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png.Bytes())),
		PNG: "plots/" + f.Name + ".png", SVG: "plots/" + f.Name + ".svg",
	}, nil
}

// page is what the template shows: what every result shares, then one
// group per crowd and engine (groupSeries), each with its own verdict,
// tables and plots.
type page struct {
	Title    string
	Lead     string // the h1's start: "SIMULATED (model) results: ", "Live and SIMULATED (model) results: " or ""
	Question string // the h1: which of the columns survives the rush
	Subtitle string
	// Simulated: some result comes from the model; Mixed: live ones too.
	Simulated bool
	Mixed     bool
	Groups    []groupView
	Calib     []calibView
	Results   []resultView
	HLogs     []string
	Problems  []string
	Format    int
}

// groupView is one group of the page: the results of one crowd by one
// engine.
type groupView struct {
	// ID suffixes the group's element ids: "" for the first group.
	ID string
	// Heading names the group; "" when the page has only one.
	Heading   string
	Subtitle  string
	Columns   string // "designs", "targets" or "designs and targets"
	Verdict   Verdict
	Designs   []designView
	Table     []row
	Assume    []row
	Common    []results.Parameter // assumptions shared by every design
	Cross     []figView
	PerDesign []designFigs
}

type designView struct {
	Label  string
	Color  template.CSS
	Engine string
	// URL is the target's base URL (and API profile); "" for a design
	// slotrush started or simulated.
	URL string
}

type row struct {
	Name  string
	Help  string
	Cells []cell
}

type cell struct {
	Text string
	Bad  bool
	Good bool
}

type figView struct {
	Name, Title, Caption, Series string
	Src                          template.URL
	PNG, SVG                     string
}

type designFigs struct {
	Design designView
	Figs   []figView
}

type calibView struct {
	Design string
	Params []results.CalibratedParameter
}

type resultView struct {
	Label       string
	Scenario    string
	Engine      string
	Seed        int64
	Started     string
	Finished    string
	Duration    string
	Target      string
	Interrupted bool
	Env         results.Environment
	Parameters  []results.Parameter
}

func (g *groupView) addDesignFigure(f figView) {
	for i := range g.PerDesign {
		if g.PerDesign[i].Design.Label == f.Series {
			g.PerDesign[i].Figs = append(g.PerDesign[i].Figs, f)
			return
		}
	}
}

func cssColor(s series) template.CSS {
	c := s.Color
	return template.CSS(fmt.Sprintf("#%02X%02X%02X", c.R, c.G, c.B))
}

// buildPage returns the page of rs, whose series are grouped in groups.
// Its title says what the results are: live, simulated or both.
func buildPage(rs []*results.Result, groups []reportGroup) *page {
	pg := &page{Format: results.FormatVersion}
	var scenarios []string
	for _, r := range rs {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
	}
	var all []series
	for _, g := range groups {
		all = append(all, g.series...)
	}
	columns := columnsNoun(all)
	pg.Question = map[string]string{
		"designs": "Which booking design survives the rush?", "targets": "Which target survives the rush?",
		"designs and targets": "Which design or target survives the rush?",
	}[columns]
	mix := engineMix(rs)
	pg.Simulated, pg.Mixed = mix != "live", mix == "mixed"
	pg.Title = "slotrush report: " + strings.Join(scenarios, ", ")
	switch mix {
	case "simulated":
		pg.Lead = "SIMULATED (model) results: "
		pg.Title = "SIMULATED (model) results — " + pg.Title
	case "mixed":
		pg.Lead = "Live and SIMULATED (model) results: "
		pg.Title = "Live and SIMULATED (model) results — " + pg.Title
	}
	for i, g := range groups {
		gv := buildGroup(g)
		if len(groups) > 1 {
			gv.Heading = g.heading()
			if i > 0 {
				gv.ID = fmt.Sprintf("-%d", i+1)
			}
		}
		pg.Groups = append(pg.Groups, gv)
	}
	pg.Subtitle = pg.Groups[0].Subtitle
	if len(groups) > 1 {
		pg.Subtitle = fmt.Sprintf("%d results in %d groups, one per crowd (scenario, scale, seed, people) and engine. Each group has its own verdict, tables and plots: designs are compared only with designs that faced the same crowd the same way.",
			len(rs), len(groups))
	}
	for _, s := range all {
		if len(s.Design.Calibration) > 0 {
			pg.Calib = append(pg.Calib, calibView{Design: s.Label, Params: s.Design.Calibration})
		}
	}
	for _, r := range rs {
		pg.Results = append(pg.Results, viewOf(r))
	}
	return pg
}

// buildGroup returns the view of one group: its verdict, its tables and
// the subtitle that lists its runs.
func buildGroup(g reportGroup) groupView {
	ss := g.series
	stats := statsOfAll(ss)
	gv := groupView{Verdict: judge(g.results, stats), Columns: columnsNoun(ss)}
	var runs []string
	for _, r := range g.results {
		runs = append(runs, fmt.Sprintf("scenario %s, %s engine, started %s", keyOf(r).crowd, r.Engine, stamp(r.StartedAt)))
	}
	gv.Subtitle = fmt.Sprintf("%s; %d %s compared.", strings.Join(runs, "; "), len(ss), gv.Columns)
	if len(ss) == 1 {
		gv.Subtitle = strings.Join(runs, "; ") + "."
	}
	for _, s := range ss {
		dv := designView{Label: s.Label, Color: cssColor(s), Engine: s.Result.Engine, URL: targetURL(s.Design)}
		gv.Designs = append(gv.Designs, dv)
		gv.PerDesign = append(gv.PerDesign, designFigs{Design: dv})
	}
	gv.Table = comparisonTable(stats)
	for _, r := range assumptionTable(ss) {
		if len(ss) > 1 && allEqual(r.Cells) {
			gv.Common = append(gv.Common, results.Parameter{Name: r.Name, Value: r.Cells[0].Text})
			continue
		}
		gv.Assume = append(gv.Assume, r)
	}
	return gv
}

// viewOf returns what the scenario and environment sections show of r.
func viewOf(r *results.Result) resultView {
	rv := resultView{
		Label: resultLabel(r), Scenario: r.Scenario, Engine: r.Engine, Seed: r.Seed,
		Started: stamp(r.StartedAt), Finished: stamp(r.FinishedAt), Target: r.Target,
		Interrupted: r.Interrupted, Env: r.Environment, Parameters: otherParameters(r),
	}
	if !r.StartedAt.IsZero() && r.FinishedAt.After(r.StartedAt) {
		rv.Duration = seconds(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	return rv
}

// otherParameters returns r's scenario parameters without a scenario name
// or seed, which results written before 27 Nov 2026 list there: the report
// prints the result's own above them, and the listed seed is the
// scenario's, not the one a --seed run used.
func otherParameters(r *results.Result) []results.Parameter {
	var out []results.Parameter
	for _, p := range r.Parameters {
		if p.Name == "scenario" || p.Name == "seed" {
			continue
		}
		out = append(out, p)
	}
	return out
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// comparisonTable is the side-by-side table: one column per design.
func comparisonTable(stats []designStats) []row {
	specs := append(peopleRows(), requestRows(stats)...)
	specs = append(specs, latencyRows(operationsOf(stats))...)
	specs = append(specs, integrityRows(stats)...)
	rows := make([]row, len(specs))
	for i, sp := range specs {
		rows[i] = row{Name: sp.name, Help: sp.help}
		for _, st := range stats {
			rows[i].Cells = append(rows[i].Cells, sp.cell(st))
		}
	}
	return rows
}

// rowSpec is one row of the comparison table: its name, the help under the
// name, and the cell it shows for a design.
type rowSpec struct {
	name, help string
	cell       func(designStats) cell
}

// peopleRows are the rows about places and people: places booked, who got
// a place, gave up or was still trying, how long they waited, requests per
// person and fairness.
func peopleRows() []rowSpec {
	return []rowSpec{
		{"Places booked", "of the places on offer", func(st designStats) cell {
			if st.capacity <= 0 {
				return cell{Text: commas(st.booked)}
			}
			return cell{Text: fmt.Sprintf("%s of %s (%s)", commas(st.booked), commas(st.capacity), pct(st.shareOfCapacity)), Bad: st.booked > st.capacity}
		}},
		{"People who got a place", "share of the people who arrived", func(st designStats) cell {
			if st.arrived <= 0 {
				return cell{Text: "n/a"}
			}
			return cell{Text: fmt.Sprintf("%s of %s", pct(float64(st.users)/float64(st.arrived)), commas(st.arrived))}
		}},
		{"Gave up", "people who stopped trying", func(st designStats) cell { return cell{Text: countOf(st.gaveUp, st.arrived)} }},
		{"Still trying at the end", "journeys not finished when the run ended: outcome unknown", func(st designStats) cell {
			return cell{Text: countOf(st.waiting, st.arrived), Bad: st.arrived > 0 && float64(st.waiting)/float64(st.arrived) >= warnStillWaiting}
		}},
		{"Time to know, median / p99", "from arriving to booking or giving up, of those who finished", func(st designStats) cell {
			return cell{Text: secondsPair(st.ttoP50, st.ttoP99)}
		}},
		{"Time to a booking, median / p99", "from arriving to holding a booking, of those who booked", func(st designStats) cell {
			return cell{Text: secondsPair(st.ttbP50, st.ttbP99)}
		}},
		{"Requests per person", "to the booking API, which a booking needs 3 of. In brackets: the retry amplification, requests the API received for each one people made (the rest were retries after errors). Behind a waiting room, + the room's requests (join and polls)", func(st designStats) cell {
			if st.perUser <= 0 {
				return cell{Text: "n/a"}
			}
			return cell{Text: requestsText(st.perUser, st.amp, st.polls, " "), Bad: bandOf(st.amp) == mostlyRetries}
		}},
		{"Fairness", "Spearman ρ of arrival order and getting a place, of the highest possible (strictly first come, first served); 0 = lottery", func(st designStats) cell {
			if math.IsNaN(st.fairScore) {
				return cell{Text: "n/a"}
			}
			return cell{Text: fairText(st.fair, st.fairMax)}
		}},
	}
}

// requestRows are the rows about requests: the error rate, the requests
// throttled, shed, failed and lost, all requests sent and, when any column
// has them, the requests due but never sent.
func requestRows(stats []designStats) []rowSpec {
	rows := []rowSpec{
		{"Error rate", "429, 5xx, timeouts and answers outside the API, of all requests", func(st designStats) cell {
			if st.total == 0 {
				return cell{Text: "n/a"}
			}
			return cell{Text: pct(st.errRate)}
		}},
		{"429 throttled", "", func(st designStats) cell { return cell{Text: countOf(st.s.Design.Requests.ByStatus["429"], st.total)} }},
		{"503 shed", "", func(st designStats) cell { return cell{Text: countOf(st.s.Design.Requests.ByStatus["503"], st.total)} }},
		{"Other 5xx", "real server faults", func(st designStats) cell {
			_, c5xx := statusCounts(st.s.Design.Requests)
			n := c5xx - st.s.Design.Requests.ByStatus["503"]
			return cell{Text: countOf(n, st.total), Bad: n > 0}
		}},
		{"Timeouts, network errors", "", func(st designStats) cell { return cell{Text: countOf(st.s.Design.Requests.TransportErrors, st.total)} }},
		{"Answers outside the API", "403, 404, 400, statuses the API or the profile does not define, and 2xx whose body could not be read: the target or the profile does not match the journey", func(st designStats) cell {
			return cell{Text: countOf(st.unexpected, st.total), Bad: st.unexpected > 0}
		}},
		{"Requests", "all requests sent", func(st designStats) cell { return cell{Text: commas(st.total)} }},
	}
	if anyDesign(seriesOf(stats), func(d *results.DesignResult) bool { return d.Requests.GatewayThrottled > 0 }) || hadGateway(stats) {
		rows = append(rows, gatewayRow())
	}
	if anyDesign(seriesOf(stats), func(d *results.DesignResult) bool { return d.Requests.Dropped > 0 }) {
		rows = append(rows, rowSpec{"Dropped (due, never sent)", "requests due before the run ended but never sent, not among the requests; in brackets how late the latest was", func(st designStats) cell {
			r := st.s.Design.Requests
			text := commas(r.Dropped)
			if r.DroppedLate != nil && r.DroppedLate.Max > 0 {
				text += " (the latest " + ms(r.DroppedLate.Max) + " late)"
			}
			return cell{Text: text, Bad: r.Dropped > 0}
		}})
	}
	return rows
}

// operationsOf returns every operation with a latency summary in any of
// stats' designs, in display order (sortOps).
func operationsOf(stats []designStats) []string {
	seen := map[string]bool{}
	var ops []string
	for _, st := range stats {
		for op := range st.s.Design.LatencyMs {
			if !seen[op] {
				seen[op] = true
				ops = append(ops, op)
			}
		}
	}
	sortOps(ops)
	return ops
}

// latencyRows are one row per operation of ops: its p50 and p99 latency.
func latencyRows(ops []string) []rowSpec {
	var specs []rowSpec
	for _, op := range ops {
		specs = append(specs, rowSpec{op + " p50 / p99", "half / 99 in 100 answered within, refusals included", func(st designStats) cell {
			l, ok := st.s.Design.LatencyMs[op]
			if !ok || l.Count == 0 {
				return cell{Text: "n/a"}
			}
			return cell{Text: ms(l.P50) + " / " + ms(l.P99)}
		}})
	}
	return specs
}

// integrityRows are the rows that check the run: oversold places, missing
// 201s, unknown outcomes (when any column was audited by a build that
// records them, or has some), late starts and the duration.
func integrityRows(stats []designStats) []rowSpec {
	rows := []rowSpec{
		{"Oversold places", "must be 0; through an API, bookings read back beyond the places their slot had left at the start", func(st designStats) cell {
			if !checkedOversold(st.s.Design) {
				return cell{Text: "not checked"}
			}
			n := st.s.Design.Slots.Oversold
			return cell{Text: commas(n), Bad: n > 0, Good: n == 0}
		}},
		{"Missing 201s", "answered 201 but not in the store, or not found when read back through the API; must be 0", func(st designStats) cell {
			sl := st.s.Design.Slots
			if !audited201s(st.s.Design) {
				return cell{Text: "not audited"}
			}
			if n := unread201s(st.s.Design); n > 0 {
				return cell{Text: fmt.Sprintf("%s (%s could not be read back)", commas(sl.Missing), commas(n)), Bad: true}
			}
			return cell{Text: commas(sl.Missing), Bad: sl.Missing > 0, Good: sl.Missing == 0}
		}},
	}
	if anyDesign(seriesOf(stats), func(d *results.DesignResult) bool { return d.Slots.Audit != "" || d.Slots.UnknownOutcome > 0 }) {
		rows = append(rows, rowSpec{"Unknown outcomes", "bookings whose answer was lost (a timeout or a reset) and that the audit could not resolve; should be 0", func(st designStats) cell {
			n := st.s.Design.Slots.UnknownOutcome
			return cell{Text: commas(n), Bad: n > 0, Good: n == 0}
		}})
	}
	return append(rows, []rowSpec{
		{"Late starts", "arrivals the engine started more than 10 ms late", func(st designStats) cell {
			return cell{Text: commas(st.s.Design.Users.LateStarts)}
		}},
		{"Duration", "", func(st designStats) cell {
			if st.duration <= 0 {
				return cell{Text: "n/a"}
			}
			return cell{Text: seconds(st.duration)}
		}},
	}...)
}

// countOf: "1,204 (20%)" of a total of, or "1,204" without one.
func countOf(n, of int64) string {
	if of <= 0 {
		return commas(n)
	}
	return fmt.Sprintf("%s (%s)", commas(n), pct(float64(n)/float64(of)))
}

// secondsPair: "11 s / 31 s", or "n/a".
func secondsPair(a, b float64) string {
	if math.IsNaN(a) {
		return "n/a"
	}
	return seconds(a) + " / " + seconds(b)
}

// fact is one row of the assumptions table: its name and the text it
// shows for a column.
type fact struct {
	name string
	f    func(*results.DesignResult, *results.Result) string
}

// assumptionTable lists what each column's figures rest on. A target shows
// its URL, and of its design only what it stated, marked "stated by the
// target"; what it did not state reads "not stated by the target", never a
// zero value passed off as a fact. Where the places came from and which
// checks the audit could make show when any column's result records them
// (results written before those fields existed read as before).
func assumptionTable(ss []series) []row {
	var fns []fact
	if anyDesign(ss, isTarget) {
		fns = append(fns, fact{"Target", func(d *results.DesignResult, r *results.Result) string {
			switch {
			case isTarget(d):
				return targetURL(d)
			case r.Engine == results.EngineModel:
				return "none: a model of the design"
			case r.Target != "":
				return r.Target
			}
			return "the reference server, started by slotrush"
		}})
	}
	fns = append(fns, fact{"Engine", func(_ *results.DesignResult, r *results.Result) string {
		if r.Engine == results.EngineModel {
			return "model (simulated)"
		}
		return r.Engine
	}})
	fns = append(fns, designFacts()...)
	if anyDesign(ss, func(d *results.DesignResult) bool { return d.Slots.Inventory != "" }) {
		fns = append(fns, fact{"Places on offer", func(d *results.DesignResult, _ *results.Result) string { return inventoryText(d) }})
	}
	if anyDesign(ss, func(d *results.DesignResult) bool { return d.Slots.Audit != "" }) {
		fns = append(fns, fact{"Checks after the run", func(d *results.DesignResult, _ *results.Result) string { return auditText(d) }})
	}
	rows := make([]row, len(fns))
	for i, fn := range fns {
		rows[i] = row{Name: fn.name}
		for _, s := range ss {
			rows[i].Cells = append(rows[i].Cells, cell{Text: fn.f(s.Design, s.Result)})
		}
	}
	return rows
}

// designFacts are the rows of the assumptions table about the design
// itself: scheme, partitions, waiting room, limits per partition, store
// and durability, each through stated.
func designFacts() []fact {
	rate := func(r float64, burst int) string {
		if r <= 0 {
			return "unlimited"
		}
		s := trimZero(fmt.Sprintf("%.1f", r)) + "/s"
		if burst > 0 {
			s += fmt.Sprintf(", burst %d", burst)
		}
		return s
	}
	bound := func(n int) string {
		if n <= 0 {
			return "unlimited"
		}
		return commas(int64(n))
	}
	text := func(d *results.DesignResult, s string) string {
		if s == "" {
			return stated(d, "not stated", true)
		}
		return stated(d, s, false)
	}
	// limit shows one limit; a target that stated no limits at all (zero
	// Limits) did not state this one either.
	limit := func(f func(models.Limits) string) func(*results.DesignResult, *results.Result) string {
		return func(d *results.DesignResult, _ *results.Result) string {
			l := d.Assumptions.Limits
			return stated(d, f(l), l == models.Limits{})
		}
	}
	return []fact{
		{"Scheme", func(d *results.DesignResult, _ *results.Result) string { return text(d, string(d.Assumptions.Scheme)) }},
		{"Partitions", func(d *results.DesignResult, _ *results.Result) string {
			return stated(d, commas(int64(d.Assumptions.Partitions)), d.Assumptions.Partitions <= 0)
		}},
		{"Waiting room", waitingRoomText},
		{"Writes per partition", limit(func(l models.Limits) string { return rate(l.WriteRate, l.WriteBurst) })},
		{"Reads per partition", limit(func(l models.Limits) string { return rate(l.ReadRate, l.ReadBurst) })},
		{"In flight per partition", limit(func(l models.Limits) string { return bound(l.MaxInFlight) })},
		{"Queue per partition", limit(func(l models.Limits) string {
			s := bound(l.MaxQueue)
			if l.MaxWait > 0 {
				s += ", wait ≤ " + l.MaxWait.String()
			}
			return s
		})},
		{"Store", func(d *results.DesignResult, _ *results.Result) string { return text(d, d.Assumptions.Store) }},
		{"Durability of a 201", func(d *results.DesignResult, _ *results.Result) string { return text(d, d.Assumptions.Durability) }},
		{"Partition limits enforced by", limitsByText},
	}
}

// limitsByText says who enforced the partition limits of d.
func limitsByText(d *results.DesignResult, _ *results.Result) string {
	a := d.Assumptions
	by := a.LimitsBy
	if by == "" && a.Source == results.SourceKnown {
		// slotrush's own server or model, which enforce the limits set.
		by = results.LimitsBySlotrush
		if l := a.Limits; l.WriteRate <= 0 && l.ReadRate <= 0 && l.MaxInFlight <= 0 {
			return "none set"
		}
	}
	switch by {
	case results.LimitsBySlotrush:
		return "slotrush's token buckets, per API server (the engine enforces none)"
	case results.LimitsByEngine:
		return "the storage engine"
	}
	return notStated
}

// waitingRoomText says whether a waiting room fronted d: as its
// assumptions say for a design slotrush built; for a target, yes when it
// stated one or its requests went through one, else not stated (the
// result cannot tell a target that stated "no" from one that said nothing).
func waitingRoomText(d *results.DesignResult, _ *results.Result) string {
	switch {
	case d.Assumptions.Source == results.SourceKnown && d.Assumptions.WaitingRoom:
		return "yes"
	case d.Assumptions.Source == results.SourceKnown:
		return "no"
	case d.Assumptions.WaitingRoom:
		return stated(d, "yes", false)
	case d.HasWaitingRoom():
		return "yes (seen in its requests)"
	}
	return notStated
}

func allEqual(cs []cell) bool {
	for _, c := range cs[1:] {
		if c.Text != cs[0].Text {
			return false
		}
	}
	return len(cs) > 0
}

// sortedKeys returns the keys of m sorted.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
