package scenarios

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/slotrush/slotrush/models"
)

// ppvList returns the scenario's PPVs in inventory order with the weight of
// each as a first choice (see PPVWeight).
func (s *Scenario) ppvList() ([]models.PPV, []float64) {
	inv := &s.Inventory
	var ppvs []models.PPV
	var weights []float64
	if len(inv.PPVs) > 0 {
		for k, p := range inv.PPVs {
			name := p.Name
			if name == "" {
				name = p.ID
			}
			ppvs = append(ppvs, models.PPV{ID: p.ID, Name: name, State: p.State})
			weights = append(weights, s.PPVWeight(k))
		}
		return ppvs, weights
	}
	per := max(inv.PPVsPerState, 1)
	for si, st := range inv.States {
		for k := range per {
			ppvs = append(ppvs, models.PPV{
				ID:    GeneratedPPVID(st, k+1),
				Name:  fmt.Sprintf("%s PPV %02d", titleCase(st), k+1),
				State: st,
			})
			// Rank round-robin over states, so each state's first centre
			// is among the hottest.
			weights = append(weights, zipf(k*len(inv.States)+si, s.Preferences.HotSkew))
		}
	}
	return ppvs, weights
}

// GeneratedPPVID returns the id the inventory generator gives the k-th
// (from 1) centre of state, such as "selangor-03".
func GeneratedPPVID(state string, k int) string { return fmt.Sprintf("%s-%02d", state, k) }

// PPVWeight returns the weight of the k-th listed PPV (from 0) as a first
// choice: its popularity when it sets one, else the Zipf weight of its
// place in the list, 1/(k+1)^hot_skew (1 for every PPV when hot_skew is 0).
// Users choose their first PPV in proportion to the weights, so a
// popularity is on the same scale: with hot_skew 0, popularity 3 makes a
// centre three times as wanted as one without. A popularity written as 0 in
// a file (not one left out) is honoured: nobody chooses that PPV first.
// It returns 0 when k is not a listed PPV. Safe for concurrent use.
func (s *Scenario) PPVWeight(k int) float64 {
	if k < 0 || k >= len(s.Inventory.PPVs) {
		return 0
	}
	switch p := s.Inventory.PPVs[k]; {
	case p.Popularity > 0:
		return p.Popularity
	case p.Popularity < 0 || s.zeros.hasPPV(k, "popularity"):
		return 0
	}
	return zipf(k, s.Preferences.HotSkew)
}

func zipf(rank int, skew float64) float64 {
	if !(skew > 0) {
		return 1
	}
	return math.Pow(float64(rank+1), -skew)
}

func titleCase(s string) string {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' || r == ' ' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	return strings.Join(words, " ")
}

// preferences draws first choices and builds the shared preference lists of
// one crowd. Not safe for concurrent use.
type preferences struct {
	ppvs      []models.PPV
	cum       []float64 // first-choice CDF over ppvs
	alt       int       // alternatives per list
	sameState bool
	global    [][]int            // prefVariants weighted orders of all PPVs
	byState   map[string][][]int // per state, prefVariants orders of its PPVs
	lists     [][]string         // f*prefVariants+v → list, built on demand
}

func (s *Scenario) newPreferences(seed int64) *preferences {
	ppvs, w := s.ppvList()
	if len(ppvs) == 0 {
		return nil
	}
	p := &preferences{
		ppvs:      ppvs,
		cum:       make([]float64, len(ppvs)),
		alt:       min(max(s.Journey.Alternatives, 0), len(ppvs)-1),
		sameState: s.Preferences.SameState,
		lists:     make([][]string, len(ppvs)*prefVariants),
	}
	total := 0.0
	for _, x := range w {
		total += x
	}
	acc := 0.0
	for i, x := range w {
		if !(total > 0) || math.IsInf(total, 0) {
			x, total = 1, float64(len(w)) // degenerate weights: uniform
		}
		acc += x
		p.cum[i] = acc / total
	}
	if p.alt == 0 {
		return p
	}
	r := newStream(seed, streamOrders)
	all := make([]int, len(ppvs))
	for i := range all {
		all[i] = i
	}
	for range prefVariants {
		p.global = append(p.global, weightedOrder(all, w, r))
	}
	if p.sameState {
		p.byState = map[string][][]int{}
		var states []string
		members := map[string][]int{}
		for i, pv := range ppvs {
			if _, ok := members[pv.State]; !ok {
				states = append(states, pv.State)
			}
			members[pv.State] = append(members[pv.State], i)
		}
		for _, st := range states {
			for range prefVariants {
				p.byState[st] = append(p.byState[st], weightedOrder(members[st], w, r))
			}
		}
	}
	return p
}

// pick returns the first choice for the uniform draw u: PPV i owns
// [cum[i-1], cum[i]).
func (p *preferences) pick(u float64) int {
	i := sort.Search(len(p.cum), func(i int) bool { return p.cum[i] > u })
	if i == len(p.cum) { // rounding left the last bound below 1
		i--
		for i > 0 && p.cum[i] == p.cum[i-1] {
			i-- // skip zero-weight PPVs at the end
		}
	}
	return i
}

// list returns the shared preference list of first choice f, variant v.
func (p *preferences) list(f, v int) []string {
	if p.alt == 0 {
		v = 0
	}
	idx := f*prefVariants + v
	if l := p.lists[idx]; l != nil {
		return l
	}
	l := make([]string, 1, p.alt+1)
	l[0] = p.ppvs[f].ID
	if p.alt == 0 {
		p.lists[idx] = l
		return l
	}
	own := p.ppvs[f].State
	if p.sameState {
		for _, j := range p.byState[own][v] {
			if len(l) > p.alt {
				break
			}
			if j != f {
				l = append(l, p.ppvs[j].ID)
			}
		}
	}
	for _, j := range p.global[v] {
		if len(l) > p.alt {
			break
		}
		if j != f && (!p.sameState || p.ppvs[j].State != own) {
			l = append(l, p.ppvs[j].ID)
		}
	}
	p.lists[idx] = l
	return l
}

// weightedOrder returns members in a random order where heavier ones tend to
// come first (Efraimidis–Spirakis: sort by u^(1/w)); zero weights come last.
func weightedOrder(members []int, w []float64, r interface{ Uint64() uint64 }) []int {
	type keyed struct {
		i   int
		key float64
		tie uint64
	}
	ks := make([]keyed, len(members))
	for n, i := range members {
		u, tie := r.Uint64(), r.Uint64()
		key := math.Inf(-1)
		if w[i] > 0 {
			key = math.Log(unit(u)+0x1p-54) / w[i]
		}
		ks[n] = keyed{i, key, tie}
	}
	sort.Slice(ks, func(a, b int) bool {
		if ks[a].key != ks[b].key {
			return ks[a].key > ks[b].key
		}
		return ks[a].tie < ks[b].tie
	})
	out := make([]int, len(ks))
	for n, k := range ks {
		out[n] = k.i
	}
	return out
}
