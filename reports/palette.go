package reports

import (
	"fmt"
	"image/color"
	"sort"
	"strings"

	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/models"
)

// The colours come from the Okabe–Ito palette and Paul Tol's muted scheme,
// both chosen to stay distinct for the common forms of colour blindness.
var (
	colVermillion = color.RGBA{0xD5, 0x5E, 0x00, 0xFF}
	colOrange     = color.RGBA{0xE6, 0x9F, 0x00, 0xFF}
	colBlue       = color.RGBA{0x00, 0x72, 0xB2, 0xFF}
	colPurple     = color.RGBA{0xCC, 0x79, 0xA7, 0xFF}
	colWine       = color.RGBA{0x88, 0x22, 0x55, 0xFF}
	colIndigo     = color.RGBA{0x33, 0x22, 0x88, 0xFF}
	colSky        = color.RGBA{0x56, 0xB4, 0xE9, 0xFF}
	colGreen      = color.RGBA{0x00, 0x9E, 0x73, 0xFF}
	colOlive      = color.RGBA{0x99, 0x99, 0x33, 0xFF}
	colGrey       = color.RGBA{0x99, 0x99, 0x99, 0xFF}
	colLightGrey  = color.RGBA{0xBB, 0xBB, 0xBB, 0xFF}
	colBlack      = color.RGBA{0x00, 0x00, 0x00, 0xFF}
)

// designColors fixes the colour of each known design, so a design looks the
// same in every plot and every report: monolithic red, per-ppv amber,
// per-ppv-day blue, waiting-room variants in purples.
var designColors = map[string]color.RGBA{
	string(models.Monolithic):                            colVermillion,
	string(models.PerPPV):                                colOrange,
	string(models.PerPPVDay):                             colBlue,
	string(models.PerPPVDay) + models.WaitingRoomSuffix:  colPurple,
	string(models.PerPPV) + models.WaitingRoomSuffix:     colWine,
	string(models.Monolithic) + models.WaitingRoomSuffix: colIndigo,
}

// fallbackColors go, in order, to designs without a fixed colour and to the
// second and later copies of a design when several results are combined.
var fallbackColors = []color.RGBA{colSky, colGreen, colOlive, colBlack, colGrey, colPurple, colWine, colIndigo}

// Outcome colours, the same in every per-design plot.
var (
	colOK        = colGreen     // 2xx
	colConflict  = colLightGrey // 409
	colThrottled = colOrange    // 429
	colServerErr = colVermillion
	colTransport = colBlack
	colOther4xx  = colSky
)

// opStyle is how one operation is drawn in the per-design plots.
type opStyle struct {
	Color  color.RGBA
	Dashes []float64 // in points; nil is solid
}

var opStyles = map[string]opStyle{
	results.OpBook:      {Color: colBlack},
	results.OpListSlots: {Color: colBlue, Dashes: []float64{6, 3}},
	results.OpListPPVs:  {Color: colGreen, Dashes: []float64{2, 2}},
	results.OpQueue:     {Color: colPurple, Dashes: []float64{8, 3, 2, 3}},
}

var opFallback = []opStyle{
	{Color: colOlive, Dashes: []float64{4, 4}},
	{Color: colSky, Dashes: []float64{1, 3}},
	{Color: colWine, Dashes: []float64{10, 2}},
}

// opOrder is the order operations appear in: the user journey, then others.
var opOrder = map[string]int{results.OpQueue: 0, results.OpListPPVs: 1, results.OpListSlots: 2, results.OpBook: 3}

func sortOps(ops []string) {
	sort.SliceStable(ops, func(i, j int) bool {
		ri, iok := opOrder[ops[i]]
		rj, jok := opOrder[ops[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		default:
			return ops[i] < ops[j]
		}
	})
}

// designRank orders designs as reports show them: the known schemes from the
// most to the least contended, each followed by its waiting-room variant,
// then unknown designs by name.
func designRank(name string) int {
	base, wr := strings.CutSuffix(name, models.WaitingRoomSuffix)
	for i, s := range models.Schemes {
		if string(s) == base {
			r := 2 * i
			if wr {
				r++
			}
			return r
		}
	}
	return 1 << 20
}

// lineDashes are the dash patterns (in points) that tell apart lines of
// one plot once every colour is taken: solid first.
var lineDashes = [][]float64{nil, {7, 3}, {2, 2}, {9, 3, 2, 3}}

// series is one design of one result as a report shows it.
type series struct {
	Label  string // unique within the report
	Slug   string // unique, safe as a file name
	Design *results.DesignResult
	Result *results.Result
	Color  color.RGBA
	// Dashes is the dash pattern of the series' lines (nil: solid); with
	// Color it is unique within the series' group.
	Dashes []float64
	// Group is the index of the series' group: the results of one crowd
	// by one engine (groupKey), numbered in the order of the results.
	Group int
}

// groupKey is what a report groups results by: the crowd they faced
// (scenario, scale, seed, people) and the engine, live or model. Designs
// are ranked, plotted on shared axes and given colours only within one
// group.
type groupKey struct {
	crowd  results.Crowd
	engine string
}

func keyOf(r *results.Result) groupKey {
	return groupKey{crowd: r.Crowd(), engine: r.Engine}
}

// short names the group in a label: "demo ×10, model".
func (k groupKey) short() string {
	return scaledName(k.crowd) + ", " + k.engine
}

// scaledName names a crowd's scenario and its scale, when not 1: "demo
// ×10".
func scaledName(c results.Crowd) string {
	if c.Scale != 1 && c.Scale > 0 {
		return c.Scenario + " ×" + results.FormatNumber(c.Scale)
	}
	return c.Scenario
}

// columnRank orders a column as reports show it: a design by designRank,
// a target after every design (its name may be a design's, but it is not
// that design).
func columnRank(d *results.DesignResult) int {
	if isTarget(d) {
		return 1 << 21
	}
	return designRank(d.Design)
}

// collect lists the designs of every result, grouped by crowd and engine
// (groupKey, groups in the order of the results) and in report order
// within a group. It labels them uniquely: by name (a target by its
// name); a name in several groups adds the group ("per-ppv (demo ×10,
// model)"), a name twice in one group the start time. It gives each its
// colour and dashes, unique within its group: a known design its fixed
// colour, the others the next free one, then the colours again dashed.
func collect(rs []*results.Result) []series {
	var out []series
	var keys []groupKey
	index := map[groupKey]int{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		k := keyOf(r)
		g, ok := index[k]
		if !ok {
			g = len(keys)
			index[k] = g
			keys = append(keys, k)
		}
		for i := range r.Designs {
			out = append(out, series{Design: &r.Designs[i], Result: r, Group: g})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Group != out[j].Group {
			return out[i].Group < out[j].Group
		}
		if ra, rb := columnRank(out[i].Design), columnRank(out[j].Design); ra != rb {
			return ra < rb
		}
		return columnName(out[i].Design) < columnName(out[j].Design)
	})
	labelSeries(out, keys)
	for g := range keys {
		var in []*series
		for i := range out {
			if out[i].Group == g {
				in = append(in, &out[i])
			}
		}
		colorGroup(in)
	}
	return out
}

// labelSeries gives each series of out a unique label and slug (see
// collect); keys are the groups' keys by index.
func labelSeries(out []series, keys []groupKey) {
	groupsOf := map[string]map[int]bool{}
	inGroup := map[string]map[int]int{}
	for _, s := range out {
		name := columnName(s.Design)
		if groupsOf[name] == nil {
			groupsOf[name], inGroup[name] = map[int]bool{}, map[int]int{}
		}
		groupsOf[name][s.Group] = true
		inGroup[name][s.Group]++
	}
	usedLabel := map[string]bool{}
	usedSlug := map[string]bool{}
	for i := range out {
		s := &out[i]
		name := columnName(s.Design)
		var quals []string
		if len(groupsOf[name]) > 1 {
			quals = append(quals, keys[s.Group].short())
		}
		if inGroup[name][s.Group] > 1 {
			quals = append(quals, s.Result.StartedAt.UTC().Format("2006-01-02 15:04"))
		}
		if name == "" {
			name = "design"
		}
		label := name
		if len(quals) > 0 {
			label += " (" + strings.Join(quals, ", ") + ")"
		}
		base := label
		for n := 2; usedLabel[label]; n++ {
			label = fmt.Sprintf("%s #%d", base, n)
		}
		usedLabel[label] = true
		s.Label = label
		slug := slugify(label)
		base = slug
		for n := 2; usedSlug[slug]; n++ {
			slug = fmt.Sprintf("%s-%d", base, n)
		}
		usedSlug[slug] = true
		s.Slug = slug
	}
}

// style is a line's colour and dash pattern.
type style struct {
	color  color.RGBA
	dashes int // index in lineDashes
}

// colorGroup gives the series of one group their styles, unique within
// it: fixed colours first, so the first copy of a known design keeps its
// colour whatever else is in the report; then the free fallback colours,
// solid; then every colour again with the next dash pattern.
func colorGroup(in []*series) {
	used := map[style]bool{}
	assigned := make([]bool, len(in))
	for i, s := range in {
		c, ok := designColors[s.Design.Design]
		if ok && !isTarget(s.Design) && !used[style{c, 0}] {
			s.Color = c
			used[style{c, 0}] = true
			assigned[i] = true
		}
	}
	var order []style
	for d := range lineDashes {
		for _, c := range fallbackColors {
			order = append(order, style{c, d})
		}
		if d == 0 {
			continue
		}
		for _, c := range designColors {
			order = append(order, style{c, d})
		}
	}
	// designColors is a map: sort the dashed fixed colours for a stable order.
	sortStyles(order)
	next := 0
	for i, s := range in {
		if assigned[i] {
			continue
		}
		st := style{colGrey, len(lineDashes) - 1}
		for ; next < len(order); next++ {
			if !used[order[next]] {
				st = order[next]
				break
			}
		}
		used[st] = true
		s.Color, s.Dashes = st.color, lineDashes[st.dashes]
	}
}

// sortStyles orders styles by dash pattern, the fallback colours first in
// their order, then the fixed colours by value.
func sortStyles(ss []style) {
	rank := func(c color.RGBA) int {
		for i, f := range fallbackColors {
			if f == c {
				return i
			}
		}
		return len(fallbackColors) + int(c.R)<<16 + int(c.G)<<8 + int(c.B)
	}
	sort.SliceStable(ss, func(i, j int) bool {
		if ss[i].dashes != ss[j].dashes {
			return ss[i].dashes < ss[j].dashes
		}
		return rank(ss[i].color) < rank(ss[j].color)
	})
}

func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+':
			b.WriteRune(c)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if out == "" {
		return "design"
	}
	return out
}

// resultLabel names a result in lists: "demo, live, 2021-05-23 10:00
// UTC", "demo ×10, model, 2021-05-23 10:00 UTC".
func resultLabel(r *results.Result) string {
	return fmt.Sprintf("%s, %s, %s", scaledName(r.Crowd()), r.Engine, r.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
}
