package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
)

// fuzzLimits are limits small enough for inputs of a few hundred bytes to
// reach every one of them, size included.
var fuzzLimits = fileLimits{size: 1024, nesting: 8, keys: 6, docs: 2}

// FuzzParse checks that Parse never panics, that every error it returns is
// an ErrorList whose lines all name a position, and that whatever it accepts
// is valid and can be built; the same under fuzzLimits. It also checks the
// limits checked before parsing, under both: a file they let through parses
// into a tree no deeper, with no mapping larger and no more documents than
// they allow (so the parser's quadratic costs stay bounded), and a file
// they refuse as too deep, if it parses at all, is at least half as deep
// (the scans count by columns, as YAML does, while the parser accepts
// some malformed files by nesting or splitting their mappings otherwise).
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, name := range Presets() {
		data, _ := Preset(name)
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("crowd: {size: 1e3}\ninventory: {daily_capacity: 1, states: [x]}"))
	for _, seed := range limitSeeds() {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, data, defaultLimits)
		checkParse(t, data, fuzzLimits)
		checkLimits(t, data, defaultLimits)
		checkLimits(t, data, fuzzLimits)
	})
}

// limitSeeds are inputs shaped to reach the limits checked before parsing,
// and the YAML that could mislead a scan of the raw bytes (quotes,
// comments, block scalars, merges), each a few hundred bytes at most.
func limitSeeds() []string {
	rep := strings.Repeat
	var stairs, plainStairs strings.Builder
	for i := range 70 {
		stairs.WriteString(rep(" ", i) + "a:\n")
		plainStairs.WriteString(rep(" ", i+1) + "word\n")
	}
	var keys strings.Builder
	for i := range MaxMappingKeys + 1 {
		keys.WriteString("k" + strconv.Itoa(i) + ": 1\n")
	}
	return []string{
		rep("[", 65), rep("[", 200), rep("[", 63) + rep("]", 63),
		"a: " + rep("{a: ", 70), rep("- ", 70) + "x\n", stairs.String(),
		"a: x\n" + plainStairs.String(), keys.String(), rep("---\na: 1\n", 17),
		`{"a":"["` + rep("[", 100), `["a #", ` + rep("[", 100), "[a'b, " + rep("[", 100),
		"a: |\n  " + rep("[", 100) + "\nb: 1\n", "# " + rep("[", 100) + "\nname: x\n",
		"a: \"" + rep("[", 50) + "\n  " + rep("{", 50) + "\"\n", "&a [&b [!!seq [*a, " + rep("[", 20),
		"? - - - [x]\n: y\n", "a: 'it''s [' [[[[\n",
		"designs:\n- name: monolithic\n  limits: &l {write_rate: 1}\n- name: per-ppv\n  limits: {<<: *l, write_rate: 5}\n",
		"x: {limits: &l {write_rate: 1}}\ndesigns: [{name: monolithic, limits: *l}]\n",
		"inventory: {daily_capacity: 100000000000000000000, states: [x]}\ncrowd: {size: 10}\n",
		"inventory: {daily_capacity: 0, states: [x]}\ncrowd: {size: 10, arrival: {over: 0s}}\njourney: {patience: 0s}\n",
		"inventory: {daily_capacity: 1, states: [x]}\ncrowd: {size: 400, arrival: {over: 2s}}\nduration: 1s\n",
	}
}

// checkParse checks what parseSafe says of data under lim.
func checkParse(t *testing.T, data []byte, lim fileLimits) {
	t.Helper()
	s, err := parseSafe("fuzz.yaml", data, lim)
	if err != nil {
		var list ErrorList
		if !errors.As(err, &list) || len(list) == 0 {
			t.Fatalf("error %T %q is not a non-empty ErrorList", err, err)
		}
		for _, e := range list {
			if e.Line < 1 || e.Column < 1 || !strings.HasPrefix(e.Error(), "fuzz.yaml:") {
				t.Fatalf("error without a position: %q", e)
			}
		}
		return
	}
	if errs := s.Validate(); errs != nil {
		t.Fatalf("Parse accepted an invalid scenario: %v", errs)
	}
	if s.Crowd.Size <= 10_000 && s.NumPPVs()*s.Inventory.Days <= 10_000 {
		inv := s.BuildInventory()
		if errs := inv.Validate(); errs != nil {
			t.Fatalf("inventory of an accepted scenario invalid: %v", errs)
		}
		if got := len(s.Arrivals(1)); got != s.Crowd.Size {
			t.Fatalf("Arrivals: %d users; want %d", got, s.Crowd.Size)
		}
		_ = s.Parameters()
	}
}

// checkLimits checks that the limits lim hold for data; see FuzzParse.
func checkLimits(t *testing.T, data []byte, lim fileLimits) {
	t.Helper()
	if lim.checkSize(data) != nil || len(data) > 4096 {
		return
	}
	rawErr := lim.scanRaw(data)
	tokens := lexer.Tokenize(string(data))
	tk, msg := lim.checkTokens(tokens)
	if rawErr != nil || tk != nil {
		if rawErr != nil {
			msg = rawErr.msg
		}
		// Refused: if it parses, it must really cross the limit. (Parsing
		// a deep file costs the square of its depth: keep it small.)
		if len(data) > 1024 {
			return
		}
		file, err := parser.ParseBytes(data, 0)
		if err != nil {
			return
		}
		if depth, _ := fileShape(file); msg == lim.depthMsg() && depth < lim.nesting/2 {
			t.Fatalf("refused as nested more than %d deep (raw scan: %v), but its tree is %d deep", lim.nesting, rawErr != nil, depth)
		}
		return
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		return
	}
	// A pair outside a mapping, as in [a: b], is one more level of the
	// tree for one level of flow: hence twice the nesting.
	if depth, keys := fileShape(file); depth > 2*lim.nesting+1 || keys > lim.keys || len(file.Docs) > lim.docs+1 {
		t.Fatalf("passed the limits %+v, but its tree is %d deep, its largest mapping has %d keys, and it has %d documents", lim, depth, keys, len(file.Docs))
	}
}

// fileShape returns the deepest nesting of lists and mappings in file and
// the most keys of one mapping.
func fileShape(file *ast.File) (depth, keys int) {
	for _, d := range file.Docs {
		if d != nil {
			dd, kk := treeShape(d.Body)
			depth, keys = max(depth, dd), max(keys, kk)
		}
	}
	return depth, keys
}

// treeShape returns the deepest nesting of lists and mappings in n (a
// key-value pair outside a mapping, as in [a: b], counts as a mapping of
// one) and the most keys of one mapping.
func treeShape(n ast.Node) (depth, keys int) {
	if isNil(n) {
		return 0, 0
	}
	var kids []ast.Node
	level := 1
	switch v := n.(type) {
	case *ast.MappingNode:
		keys = len(v.Values)
		for _, mv := range v.Values {
			if mv != nil {
				kids = append(kids, mv.Key, mv.Value)
			}
		}
	case *ast.MappingValueNode:
		keys = 1
		kids = append(kids, v.Key, v.Value)
	case *ast.SequenceNode:
		kids = v.Values
	case *ast.AnchorNode:
		kids, level = []ast.Node{v.Value}, 0
	case *ast.TagNode:
		kids, level = []ast.Node{v.Value}, 0
	case *ast.MappingKeyNode:
		kids, level = []ast.Node{v.Value}, 0
	default:
		return 0, 0
	}
	for _, k := range kids {
		dd, kk := treeShape(k)
		depth, keys = max(depth, dd), max(keys, kk)
	}
	return depth + level, keys
}
