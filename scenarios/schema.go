package scenarios

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/slotrush/slotrush/models"
)

// The checker walks the YAML syntax tree alongside the Go type of Scenario
// before goccy/go-yaml decodes it. It exists because the decoder stops at the
// first error, reports bad durations and dates without a position, and
// silently truncates 1.5 into an int. The checker reports every problem with
// its position, records where each field is written (so Validate's errors
// can be placed) and which fields are written at all (so EnsureDefaults can
// tell an explicit zero from an absent field), and replaces each rejected
// value by null (and drops unknown fields) so the decoder can still fill
// everything else. It also resolves what the decoder gets wrong or cannot
// see: each alias is replaced by the value it names (whose anchor may sit
// under a dropped unknown field), and each mapping with merge keys (<<) by
// the merged mapping, with YAML's precedence (its own keys first, then the
// merged mappings in order), which the decoder would call duplicates.

const (
	maxDepth  = 64      // nesting limit, far beyond any real scenario
	maxVisits = 1 << 18 // node visits, which bounds alias expansion
)

// standardTags are the YAML core tags the decoder understands.
var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!null": true, "!!map": true, "!!seq": true,
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	dateType     = reflect.TypeFor[models.Date]()
)

// pos is a 1-based line and column.
type pos struct{ line, col int }

type checker struct {
	file    string
	errs    ErrorList
	pos     map[string]pos      // field path → where its value is written
	set     map[string]bool     // field path → written with a value other than null
	bad     []string            // field paths whose value was rejected
	anchors map[string]ast.Node // anchor name → its (checked) value
	// strs holds, for each string field written on one line without
	// escapes, where its text starts (after an opening quote), so that a
	// problem at a column of the text can be placed in the file.
	strs map[string]pos
	// merges holds, for each mapping with merge keys, the mappings merged
	// into it in order of precedence, as resolved where it is written.
	merges map[*ast.MappingNode][]*ast.MappingNode
	visits int
	tooBig bool
}

func newChecker(file string) *checker {
	return &checker{
		file: file, pos: map[string]pos{}, set: map[string]bool{}, anchors: map[string]ast.Node{}, strs: map[string]pos{},
		merges: map[*ast.MappingNode][]*ast.MappingNode{},
	}
}

// root checks the document body and returns it, or nil when the whole body
// was rejected.
func (c *checker) root(body ast.Node) ast.Node {
	c.pos[""] = nodePos(body)
	out := body
	c.check(body, reflect.TypeFor[Scenario](), "", func(n ast.Node) { out = n }, 0)
	if _, ok := out.(*ast.NullNode); ok {
		return nil
	}
	if !c.tooBig {
		done := map[*ast.MappingNode]bool{}
		for m := range c.merges {
			c.flatten(m, done)
		}
	}
	return out
}

func (c *checker) fail(n ast.Node, field, msg string) {
	p := nodePos(n)
	c.errs = append(c.errs, &Error{File: c.file, Line: p.line, Column: p.col, Field: field, Msg: msg})
	c.bad = append(c.bad, field)
}

// hasSchemaError reports whether field, one of its parents or one of its
// children holds a value the checker rejected.
func (c *checker) hasSchemaError(field string) bool {
	for _, b := range c.bad {
		if within(b, field) || within(field, b) {
			return true
		}
	}
	return false
}

// within reports whether path q is p or inside p.
func within(p, q string) bool {
	return p == q || p == "" || strings.HasPrefix(q, p+".") || strings.HasPrefix(q, p+"[")
}

// lookup returns where field (or its nearest enclosing field) is written.
func (c *checker) lookup(field string) pos {
	for {
		if p, ok := c.pos[field]; ok {
			return p
		}
		if field == "" {
			return pos{1, 1}
		}
		field = field[:max(strings.LastIndexAny(field, ".["), 0)]
	}
}

// check checks node n against Go type t. replace swaps n for another node in
// its parent; it is called with null when n is rejected.
func (c *checker) check(n ast.Node, t reflect.Type, path string, replace func(ast.Node), depth int) {
	if isNil(n) {
		return
	}
	c.visits++
	if c.tooBig || c.visits > maxVisits || depth > maxDepth {
		if !c.tooBig {
			c.tooBig = true
			c.fail(n, path, "document nested too deeply or expands too many aliases")
		}
		replace(null(n))
		return
	}
	switch n.(type) {
	case *ast.NullNode:
		return // the zero value
	case *ast.CommentGroupNode:
		return
	case *ast.TagNode, *ast.AnchorNode, *ast.AliasNode:
		c.checkIndirect(n, t, path, replace, depth)
		return
	}

	switch {
	case t == durationType:
		c.reject(n, path, replace, durationProblem(n))
	case t == dateType:
		c.reject(n, path, replace, dateProblem(n))
	case t.Kind() == reflect.Struct:
		c.checkStruct(n, t, path, replace, depth)
	case t.Kind() == reflect.Slice:
		c.checkSlice(n, t, path, replace, depth)
	default:
		c.reject(n, path, replace, scalarProblem(n, t, path))
		if sn, ok := n.(*ast.StringNode); ok && t.Kind() == reflect.String {
			c.recordText(sn, path)
		}
	}
}

// recordText records where the text of the string at path starts, when
// it is written on one line without escapes (its columns are then the
// text's).
func (c *checker) recordText(n *ast.StringNode, path string) {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return
	}
	p := nodePos(n)
	switch strings.TrimSpace(tk.Origin) {
	case n.Value:
		c.strs[path] = p
	case `"` + n.Value + `"`, "'" + n.Value + "'":
		if !strings.ContainsAny(n.Value, `'"`) {
			c.strs[path] = pos{p.line, p.col + 1}
		}
	}
}

// reject reports msg at node n of field path and replaces n by null in its
// parent. It does nothing when msg is empty.
func (c *checker) reject(n ast.Node, path string, replace func(ast.Node), msg string) {
	if msg == "" {
		return
	}
	c.fail(n, path, msg)
	replace(null(n))
}

// checkIndirect checks a tagged, anchored or aliased node n against Go type
// t: it rejects tags the decoder does not understand and unknown aliases,
// checks the value a tag or an anchor wraps, records anchors, and checks an
// alias's target as the value at path and puts it in the alias's place.
func (c *checker) checkIndirect(n ast.Node, t reflect.Type, path string, replace func(ast.Node), depth int) {
	switch v := n.(type) {
	case *ast.TagNode:
		if tag := tokenValue(v); !standardTags[tag] {
			c.reject(n, path, replace, fmt.Sprintf("unsupported tag %q (scenario files need no tags)", tag))
			return
		}
		c.check(v.Value, t, path, func(nn ast.Node) { v.Value = nn }, depth+1)
	case *ast.AnchorNode:
		c.check(v.Value, t, path, func(nn ast.Node) { v.Value = nn }, depth+1)
		if name := tokenValue(v.Name); name != "" {
			c.anchors[name] = v.Value
		}
	case *ast.AliasNode:
		target, ok := c.anchors[tokenValue(v.Value)]
		if !ok {
			c.reject(n, path, replace, fmt.Sprintf("unknown alias %q", "*"+tokenValue(v.Value)))
			return
		}
		// Problems inside the anchored value were reported (and nulled)
		// where it is defined; only a value of the wrong shape for this
		// use is new (or, for an anchor under an unknown field, any).
		out := target
		c.check(target, t, path, func(nn ast.Node) { out = nn }, depth+1)
		replace(out) // the decoder may not see the anchor: see anchorsIn
	}
}

// checkStruct checks node n, which should be a mapping, against struct type
// t, field by field.
func (c *checker) checkStruct(n ast.Node, t reflect.Type, path string, replace func(ast.Node), depth int) {
	switch v := n.(type) {
	case *ast.MappingNode:
		c.mapping(v, t, path, depth, map[string]bool{})
	case *ast.MappingValueNode:
		// A mapping of one entry, as in a flow list: [a: b].
		m := ast.Mapping(v.GetToken(), true, v)
		c.mapping(m, t, path, depth, map[string]bool{})
		switch _, merges := c.merges[m]; {
		case len(m.Values) == 0:
			replace(null(n))
		case merges:
			replace(m)
		}
	default:
		c.reject(n, path, replace, fmt.Sprintf("want a mapping of fields, got %s", describe(n)))
	}
}

// checkSlice checks node n, which should be a sequence, against slice type
// t, element by element, and records where each element is written.
func (c *checker) checkSlice(n ast.Node, t reflect.Type, path string, replace func(ast.Node), depth int) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		c.reject(n, path, replace, fmt.Sprintf("want a list, got %s", describe(n)))
		return
	}
	for i, e := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		c.pos[p] = nodePos(e)
		c.check(e, t.Elem(), p, func(nn ast.Node) {
			seq.Values[i] = nn
			if i < len(seq.Entries) && seq.Entries[i] != nil {
				seq.Entries[i].Value = nn
			}
		}, depth+1)
	}
}

// durationProblem says what is wrong with n as a time.Duration, or returns
// "" when n is a duration string.
func durationProblem(n ast.Node) string {
	s, ok := n.(*ast.StringNode)
	if !ok {
		return fmt.Sprintf(`want a duration such as "30s" or "1m30s", got %s`, describe(n))
	}
	if _, err := time.ParseDuration(s.Value); err != nil {
		return fmt.Sprintf(`bad duration %q: want a number with a unit, such as "250ms", "30s" or "1m30s"`, s.Value)
	}
	return ""
}

// dateProblem says what is wrong with n as a models.Date, or returns "" when
// n is a calendar day written as YYYY-MM-DD.
func dateProblem(n ast.Node) string {
	s, ok := n.(*ast.StringNode)
	if !ok {
		return fmt.Sprintf(`want a date such as "2021-06-07", got %s`, describe(n))
	}
	if _, err := models.ParseDate(s.Value); err != nil {
		return fmt.Sprintf("bad date %q: want a real calendar day as YYYY-MM-DD", s.Value)
	}
	return ""
}

// scalarProblem says what is wrong with n as a value of the string, boolean
// or numeric type t of the field at path, or returns "" when n fits t (or t
// is of another kind, left to the decoder to judge).
func scalarProblem(n ast.Node, t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.String:
		switch n.(type) {
		case *ast.StringNode, *ast.LiteralNode:
			return ""
		}
		return fmt.Sprintf("want a string, got %s (quote it to make it one)", describe(n))
	case reflect.Bool:
		if _, ok := n.(*ast.BoolNode); !ok {
			return fmt.Sprintf("want true or false, got %s", describe(n))
		}
		return ""
	default:
		return numberProblem(n, t, path)
	}
}

// numberProblem says what is wrong with n as a value of the integer or
// floating-point type t of the field at path, or returns "" when n fits t
// (or t is not numeric: no other kinds occur in Scenario, so the decoder
// judges them).
func numberProblem(n ast.Node, t reflect.Type, path string) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		iv, ok := n.(*ast.IntegerNode)
		if !ok {
			// goccy keeps an integer beyond 64 bits a plain string.
			if sv, ok := n.(*ast.StringNode); ok && !isQuoted(sv) && integerLiteral.MatchString(sv.Value) {
				return outOfRange(sv.Value, t, path)
			}
			return fmt.Sprintf("want a whole number, got %s", describe(n))
		}
		if !fitsInt(iv.Value, t.Bits()) {
			return outOfRange(tokenValue(n), t, path)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		iv, ok := n.(*ast.IntegerNode)
		if !ok || !fitsUint(iv.Value, t.Bits()) {
			return fmt.Sprintf("want a whole number >= 0, got %s", describe(n))
		}
	case reflect.Float32, reflect.Float64:
		switch v := n.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		case *ast.StringNode:
			// goccy keeps 1e3 a plain string yet decodes it as a number.
			if _, err := strconv.ParseFloat(v.Value, 64); err != nil || isQuoted(v) {
				return fmt.Sprintf("want a number, got %s", describe(n))
			}
		default:
			return fmt.Sprintf("want a finite number, got %s", describe(n))
		}
	}
	return ""
}

// mapping checks the entries of mapping m decoded into struct type t and
// keeps those to decode (unknown fields are dropped). seen holds the fields
// set so far, explicitly or by an earlier merge: a merged value (<<) does
// not take their place; seen gains the fields m sets.
func (c *checker) mapping(m *ast.MappingNode, t reflect.Type, path string, depth int, seen map[string]bool) {
	fields := fieldsOf(t)
	kept := make([]*ast.MappingValueNode, 0, len(m.Values))
	var merged []*ast.MappingNode
	hasMerge := false
	for _, mv := range m.Values {
		if mv == nil || isNil(mv.Key) {
			continue
		}
		if mv.Key.IsMergeKey() {
			hasMerge = true
			c.merge(mv.Value, t, path, depth+1, seen, &merged)
			kept = append(kept, mv)
			continue
		}
		ks, ok := mv.Key.(*ast.StringNode)
		if !ok {
			c.fail(mv.Key, join(path, "?"), fmt.Sprintf("want a field name, got %s", describe(mv.Key)))
			continue
		}
		ft, ok := fields.types[ks.Value]
		if !ok {
			c.fail(mv.Key, join(path, ks.Value), unknownField(ks.Value, fields.names))
			// Its value is not checked, but an alias elsewhere may name an
			// anchor inside it.
			c.anchorsIn(mv.Value, join(path, ks.Value), depth+1)
			continue
		}
		fp := join(path, ks.Value)
		seen[ks.Value] = true
		c.pos[fp] = valuePos(mv)
		c.check(mv.Value, ft, fp, func(nn ast.Node) { mv.Value = nn }, depth+1)
		c.set[fp] = !isNullValue(mv.Value)
		kept = append(kept, mv)
	}
	m.Values = kept
	if _, ok := c.merges[m]; hasMerge && !ok {
		c.merges[m] = merged
	}
}

// merge checks the value of a merge key (<<: *anchor or a list of them)
// and appends the mappings it merges to merged.
func (c *checker) merge(n ast.Node, t reflect.Type, path string, depth int, seen map[string]bool, merged *[]*ast.MappingNode) {
	if isNil(n) || c.tooBig {
		return
	}
	c.visits++
	if c.visits > maxVisits || depth > maxDepth {
		c.tooBig = true
		c.fail(n, path, "document nested too deeply or expands too many aliases")
		return
	}
	switch v := n.(type) {
	case *ast.AliasNode:
		if target, ok := c.anchors[tokenValue(v.Value)]; ok {
			c.merge(target, t, path, depth+1, seen, merged)
		} else {
			c.fail(n, path, fmt.Sprintf("unknown alias %q", "*"+tokenValue(v.Value)))
		}
	case *ast.AnchorNode:
		c.merge(v.Value, t, path, depth+1, seen, merged)
		if name := tokenValue(v.Name); name != "" {
			c.anchors[name] = v.Value
		}
	case *ast.SequenceNode:
		for _, e := range v.Values {
			c.merge(e, t, path, depth+1, seen, merged)
		}
	case *ast.MappingNode:
		c.mergeMapping(v, t, path, depth, seen)
		*merged = append(*merged, v)
	default:
		c.fail(n, path, fmt.Sprintf("want a mapping or an alias of one after <<, got %s", describe(n)))
	}
}

// mergeMapping checks mapping m merged into the mapping at path. Where and
// whether a field is written stay as recorded for the fields in seen.
func (c *checker) mergeMapping(m *ast.MappingNode, t reflect.Type, path string, depth int, seen map[string]bool) {
	savedPos, savedSet := map[string]pos{}, map[string]bool{}
	for k := range seen {
		fp := join(path, k)
		if p, ok := c.pos[fp]; ok {
			savedPos[k] = p
		}
		savedSet[k] = c.set[fp]
	}
	own := map[string]bool{}
	c.mapping(m, t, path, depth, own)
	for k := range own {
		if _, ok := savedSet[k]; !ok {
			seen[k] = true
		}
	}
	for k, p := range savedPos {
		c.pos[join(path, k)] = p
	}
	for k, set := range savedSet {
		c.set[join(path, k)] = set
	}
}

// flatten replaces the merge keys of m by the fields they merge: m's own
// fields first, then those of each merged mapping (flattened first) that m
// does not have yet, earlier merges first, as YAML says. done marks the
// mappings flattened.
func (c *checker) flatten(m *ast.MappingNode, done map[*ast.MappingNode]bool) {
	if done[m] {
		return
	}
	done[m] = true
	out := make([]*ast.MappingValueNode, 0, len(m.Values))
	have := map[string]bool{}
	add := func(mv *ast.MappingValueNode) {
		if k := tokenValue(mv.Key); !mv.Key.IsMergeKey() && !have[k] {
			out = append(out, mv)
			have[k] = true
		}
	}
	for _, mv := range m.Values {
		add(mv)
	}
	for _, src := range c.merges[m] {
		c.flatten(src, done)
		for _, mv := range src.Values {
			add(mv)
		}
	}
	m.Values = out
}

// anchorsIn records the anchors inside n, the value of an unknown field at
// path, which is otherwise not checked (and dropped before decoding: the
// aliases naming them are replaced by their values).
func (c *checker) anchorsIn(n ast.Node, path string, depth int) {
	if isNil(n) || c.tooBig {
		return
	}
	c.visits++
	if c.visits > maxVisits || depth > maxDepth {
		c.tooBig = true
		c.fail(n, path, "document nested too deeply or expands too many aliases")
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		c.anchorsIn(v.Value, path, depth+1)
		if name := tokenValue(v.Name); name != "" {
			c.anchors[name] = v.Value
		}
	case *ast.TagNode:
		c.anchorsIn(v.Value, path, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			c.anchorsIn(mv, path, depth+1)
		}
	case *ast.MappingValueNode:
		c.anchorsIn(v.Value, path, depth+1)
	case *ast.SequenceNode:
		for _, e := range v.Values {
			c.anchorsIn(e, path, depth+1)
		}
	}
}

// isNullValue reports whether n, through tags and anchors, is null.
func isNullValue(n ast.Node) bool {
	for !isNil(n) {
		switch v := n.(type) {
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.NullNode:
			return true
		default:
			return false
		}
	}
	return true
}

type structFields struct {
	types map[string]reflect.Type // yaml name → type
	names []string                // yaml names in declaration order
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{types: map[string]reflect.Type{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(sf.Name)
		}
		f.types[name] = sf.Type
		f.names = append(f.names, name)
	}
	fieldCache.Store(t, f)
	return f
}

func unknownField(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("unknown field (did you mean %q?)", best)
	}
	return fmt.Sprintf("unknown field (want one of %s)", strings.Join(known, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// isNil reports whether n is nil or a typed nil pointer.
func isNil(n ast.Node) bool {
	if n == nil {
		return true
	}
	v := reflect.ValueOf(n)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

func tokenValue(n ast.Node) string {
	if isNil(n) {
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return ""
}

// nodePos returns where n starts; a mapping starts at its first key.
func nodePos(n ast.Node) pos {
	if isNil(n) {
		return pos{1, 1}
	}
	switch v := n.(type) {
	case *ast.MappingNode:
		if len(v.Values) > 0 && v.Values[0] != nil {
			return nodePos(v.Values[0])
		}
	case *ast.MappingValueNode:
		if !isNil(v.Key) {
			return nodePos(v.Key)
		}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return pos{1, 1}
	}
	return pos{max(tk.Position.Line, 1), max(tk.Position.Column, 1)}
}

// valuePos is where a field's problems are best shown: at a scalar value,
// else at the key.
func valuePos(mv *ast.MappingValueNode) pos {
	v := mv.Value
unwrap:
	for !isNil(v) {
		switch n := v.(type) {
		case *ast.TagNode:
			v = n.Value
		case *ast.AnchorNode:
			v = n.Value
		default:
			break unwrap
		}
	}
	if isNil(v) {
		return nodePos(mv.Key)
	}
	switch v.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode, *ast.NullNode, *ast.AliasNode:
		return nodePos(mv.Key)
	}
	return nodePos(v)
}

func null(n ast.Node) ast.Node {
	var p token.Position
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		p = *tk.Position
	}
	return ast.Null(token.New("null", "null", &p))
}

// integerLiteral matches the integers YAML writes: decimal, or 0x, 0o, 0b.
var integerLiteral = regexp.MustCompile(`^[-+]?(\d[0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$`)

// outOfRange says that the integer literal lit does not fit the field at
// path: beyond the range Validate accepts for it, or else its Go type t's.
func outOfRange(lit string, t reflect.Type, path string) string {
	lo, hi, ok := fieldBounds(path)
	if !ok {
		lo, hi = math.MinInt64>>(64-t.Bits()), math.MaxInt64>>(64-t.Bits())
	}
	if strings.HasPrefix(lit, "-") {
		return fmt.Sprintf("integer %s out of range (min %s)", lit, commas(lo))
	}
	return fmt.Sprintf("integer %s out of range (max %s)", lit, commas(hi))
}

func isQuoted(s *ast.StringNode) bool {
	return s.Token != nil && (s.Token.Type == token.SingleQuoteType || s.Token.Type == token.DoubleQuoteType)
}

func fitsInt(v any, bits int) bool {
	switch x := v.(type) {
	case int64:
		return bits >= 64 || (x >= -(1<<(bits-1)) && x < 1<<(bits-1))
	case uint64:
		return x < 1<<(bits-1)
	}
	return false
}

func fitsUint(v any, bits int) bool {
	switch x := v.(type) {
	case int64:
		return x >= 0 && (bits >= 64 || x < 1<<bits)
	case uint64:
		return bits >= 64 || x < 1<<bits
	}
	return false
}

// describe names a node's kind and value for messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case *ast.StringNode:
		s := v.Value
		if len(s) > 40 {
			s = s[:37] + "..."
		}
		return fmt.Sprintf("string %q", s)
	case *ast.IntegerNode:
		return "integer " + tokenValue(n)
	case *ast.FloatNode:
		return "number " + tokenValue(n)
	case *ast.InfinityNode, *ast.NanNode:
		return tokenValue(n)
	case *ast.BoolNode:
		return "boolean " + tokenValue(n)
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.LiteralNode:
		return "a text block"
	case *ast.NullNode:
		return "null"
	case *ast.AliasNode:
		return "alias *" + tokenValue(v.Value)
	}
	return "a " + strings.ToLower(n.Type().String())
}
