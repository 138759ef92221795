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

// series is one design of one result as a report shows it.
type series struct {
	Label  string // unique within the report
	Slug   string // unique, safe as a file name
	Design *results.DesignResult
	Result *results.Result
	Color  color.RGBA
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

// collect lists the designs of every result in report order, labels them
// uniquely by name (a target by its name; adding scenario, engine and start
// time when a name appears in several results) and gives each its colour:
// a known design its fixed one, a target the next free one.
func collect(rs []*results.Result) []series {
	var out []series
	count := map[string]int{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		for i := range r.Designs {
			out = append(out, series{Design: &r.Designs[i], Result: r})
			count[columnName(&r.Designs[i])]++
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if ra, rb := columnRank(out[i].Design), columnRank(out[j].Design); ra != rb {
			return ra < rb
		}
		return columnName(out[i].Design) < columnName(out[j].Design)
	})
	usedLabel := map[string]bool{}
	usedSlug := map[string]bool{}
	usedColor := map[color.RGBA]bool{}
	for i := range out {
		s := &out[i]
		name := columnName(s.Design)
		if name == "" {
			name = "design"
		}
		label := name
		if count[columnName(s.Design)] > 1 {
			label = fmt.Sprintf("%s (%s, %s, %s)", name, s.Result.Scenario, s.Result.Engine, s.Result.StartedAt.UTC().Format("2006-01-02 15:04"))
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
	// Fixed colours first, so the first copy of a known design keeps its
	// colour whatever else is in the report.
	assigned := make([]bool, len(out))
	for i := range out {
		if c, ok := designColors[out[i].Design.Design]; ok && !isTarget(out[i].Design) && !usedColor[c] {
			out[i].Color = c
			usedColor[c] = true
			assigned[i] = true
		}
	}
	for i := range out {
		if assigned[i] {
			continue
		}
		c := colGrey
		for _, f := range fallbackColors {
			if !usedColor[f] {
				c = f
				break
			}
		}
		usedColor[c] = true
		out[i].Color = c
	}
	return out
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

// resultLabel names a result in lists: "demo, live, 2021-05-23 10:00 UTC".
func resultLabel(r *results.Result) string {
	return fmt.Sprintf("%s, %s, %s", r.Scenario, r.Engine, r.StartedAt.UTC().Format("2006-01-02 15:04 MST"))
}
