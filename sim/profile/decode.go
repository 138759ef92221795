package profile

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Error is one problem in a profile file, at a position. Its text is
// "file:line:col: field: problem" (without "field: " when the problem is
// not about one field, such as a syntax error).
type Error struct {
	// File is the name the file was parsed under.
	File string
	// Line and Column are 1-based.
	Line, Column int
	// Field is the YAML path of the field, such as "operations.book.path"
	// or "outcomes[1].status"; empty for syntax errors.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d:%d: ", e.File, e.Line, e.Column)
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one profile file, sorted by
// position. Parse and Load return it (as error) whenever the file is
// invalid.
type ErrorList []*Error

// Error lists the problems one per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

func (l ErrorList) sort() {
	sort.SliceStable(l, func(i, j int) bool {
		if l[i].Line != l[j].Line {
			return l[i].Line < l[j].Line
		}
		return l[i].Column < l[j].Column
	})
}

// The decoder fills the file format's types (spec.go) from the YAML syntax
// tree of goccy/go-yaml, field by field, rather than through the library's
// decoder: that one stops at the first problem and does not say where a
// field is written. This one reports every problem with its position,
// records where each field is written (so the compiler can place its own
// problems), and goes on with the rest of the file.

const (
	maxDepth  = 64      // nesting limit, far beyond any real profile
	maxVisits = 1 << 16 // node visits, which bounds alias expansion
)

// standardTags are the YAML core tags a profile may carry.
var standardTags = map[string]bool{
	"!!str": true, "!!int": true, "!!float": true, "!!bool": true,
	"!!null": true, "!!map": true, "!!seq": true,
}

var (
	pairsType      = reflect.TypeFor[pairs]()
	statusListType = reflect.TypeFor[statusList]()
	scalarType     = reflect.TypeFor[scalar]()
)

// pos is a 1-based line and column.
type pos struct{ line, col int }

type decoder struct {
	file    string
	errs    ErrorList
	pos     map[string]pos      // field path → where its value is written
	bad     []string            // field paths whose value was rejected
	anchors map[string]ast.Node // anchor name → its value
	visits  int
	tooBig  bool
}

// decodeFile decodes the profile data of file name. It returns the
// decoder, whose problems the compiler adds to, or the syntax errors that
// left nothing to decode.
func decodeFile(name string, data []byte) (*fileSpec, *decoder, ErrorList) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, nil, ErrorList{yamlError(name, err)}
	}
	var docs []*ast.DocumentNode
	for _, d := range file.Docs {
		if d != nil && !isNil(d.Body) {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, nil, ErrorList{{File: name, Line: 1, Column: 1, Msg: "empty profile: want a YAML mapping with at least operations"}}
	case len(docs) > 1:
		p := nodePos(docs[1].Body)
		return nil, nil, ErrorList{{File: name, Line: p.line, Column: p.col, Msg: fmt.Sprintf("found %d YAML documents; want one profile per file", len(docs))}}
	}
	d := &decoder{file: name, pos: map[string]pos{}, anchors: map[string]ast.Node{}}
	d.pos[""] = nodePos(docs[0].Body)
	spec := &fileSpec{}
	d.decode(docs[0].Body, reflect.ValueOf(spec).Elem(), "", 0)
	return spec, d, nil
}

// fail reports msg about field at node n and marks the field bad.
func (d *decoder) fail(n ast.Node, field, msg string) {
	p := nodePos(n)
	d.errs = append(d.errs, &Error{File: d.file, Line: p.line, Column: p.col, Field: field, Msg: msg})
	d.bad = append(d.bad, field)
}

// isBad reports whether field, one of its parents or one of its children
// holds a value the decoder rejected.
func (d *decoder) isBad(field string) bool {
	for _, b := range d.bad {
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
func (d *decoder) lookup(field string) pos {
	for {
		if p, ok := d.pos[field]; ok {
			return p
		}
		if field == "" {
			return pos{1, 1}
		}
		field = field[:max(strings.LastIndexAny(field, ".["), 0)]
	}
}

// decode fills v from node n, the value of field path.
func (d *decoder) decode(n ast.Node, v reflect.Value, path string, depth int) {
	if isNil(n) || d.tooBig {
		return
	}
	d.visits++
	if d.visits > maxVisits || depth > maxDepth {
		d.tooBig = true
		d.fail(n, path, "document nested too deeply or expands too many aliases")
		return
	}
	switch x := n.(type) {
	case *ast.NullNode, *ast.CommentGroupNode:
		return // the zero value
	case *ast.TagNode:
		if tag := tokenValue(x); !standardTags[tag] {
			d.fail(n, path, fmt.Sprintf("unsupported tag %q (profiles need no tags)", tag))
			return
		}
		d.decode(x.Value, v, path, depth+1)
		return
	case *ast.AnchorNode:
		if name := tokenValue(x.Name); name != "" {
			d.anchors[name] = x.Value
		}
		d.decode(x.Value, v, path, depth+1)
		return
	case *ast.AliasNode:
		target, ok := d.anchors[tokenValue(x.Value)]
		if !ok {
			d.fail(n, path, fmt.Sprintf("unknown alias %q", "*"+tokenValue(x.Value)))
			return
		}
		d.decode(target, v, path, depth+1)
		return
	}
	d.value(n, v, path, depth)
}

// value fills v from node n, which is neither null, tagged, anchored nor an
// alias.
func (d *decoder) value(n ast.Node, v reflect.Value, path string, depth int) {
	switch v.Type() {
	case pairsType:
		d.pairs(n, v.Addr().Interface().(*pairs), path, depth)
		return
	case statusListType:
		d.statuses(n, v.Addr().Interface().(*statusList), path)
		return
	case scalarType:
		if s, ok := scalarText(n); ok {
			v.SetString(s)
		} else {
			d.fail(n, path, fmt.Sprintf("want a string, a number or a boolean, got %s", describe(n)))
		}
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path, depth)
	case reflect.Struct:
		d.structure(n, v, path, depth)
	case reflect.Slice:
		d.list(n, v, path, depth)
	case reflect.String:
		switch x := n.(type) {
		case *ast.StringNode:
			v.SetString(x.Value)
		case *ast.LiteralNode:
			v.SetString(x.Value.Value)
		default:
			d.fail(n, path, fmt.Sprintf("want a string, got %s (quote it to make it one)", describe(n)))
		}
	default:
		// The format has no other kinds of values.
		d.fail(n, path, fmt.Sprintf("cannot decode %s here", describe(n)))
	}
}

// entries returns the entries of a mapping node, or false when n is not a
// mapping.
func entries(n ast.Node) ([]*ast.MappingValueNode, bool) {
	switch x := n.(type) {
	case *ast.MappingNode:
		return x.Values, true
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{x}, true
	}
	return nil, false
}

// structure fills struct v from mapping n. Merged values (<<: *anchor) are
// filled first, so the fields written explicitly win.
func (d *decoder) structure(n ast.Node, v reflect.Value, path string, depth int) {
	mvs, ok := entries(n)
	if !ok {
		d.fail(n, path, fmt.Sprintf("want a mapping of fields, got %s", describe(n)))
		return
	}
	fields := fieldsOf(v.Type())
	for _, mv := range mvs {
		if mv != nil && !isNil(mv.Key) && mv.Key.IsMergeKey() {
			d.merge(mv.Value, func(m ast.Node, depth int) { d.structure(m, v, path, depth) }, path, depth+1)
		}
	}
	for _, mv := range mvs {
		if mv == nil || isNil(mv.Key) || mv.Key.IsMergeKey() {
			continue
		}
		key, ok := keyName(mv.Key)
		if !ok {
			d.fail(mv.Key, join(path, "?"), fmt.Sprintf("want a field name, got %s", describe(mv.Key)))
			continue
		}
		i, ok := fields.index[key]
		if !ok {
			d.fail(mv.Key, join(path, key), unknownField(key, fields.names))
			continue
		}
		fp := join(path, key)
		d.pos[fp] = valuePos(mv)
		d.decode(mv.Value, v.Field(i), fp, depth+1)
	}
}

// merge calls fill with each mapping the value n of a merge key stands
// for: an alias of one, or a list of them.
func (d *decoder) merge(n ast.Node, fill func(ast.Node, int), path string, depth int) {
	if isNil(n) || d.tooBig {
		return
	}
	d.visits++
	if d.visits > maxVisits || depth > maxDepth {
		d.tooBig = true
		d.fail(n, path, "document nested too deeply or expands too many aliases")
		return
	}
	switch x := n.(type) {
	case *ast.AliasNode:
		target, ok := d.anchors[tokenValue(x.Value)]
		if !ok {
			d.fail(n, path, fmt.Sprintf("unknown alias %q", "*"+tokenValue(x.Value)))
			return
		}
		d.merge(target, fill, path, depth+1)
	case *ast.AnchorNode:
		if name := tokenValue(x.Name); name != "" {
			d.anchors[name] = x.Value
		}
		d.merge(x.Value, fill, path, depth+1)
	case *ast.SequenceNode:
		for _, e := range x.Values {
			d.merge(e, fill, path, depth+1)
		}
	case *ast.MappingNode, *ast.MappingValueNode:
		fill(n, depth)
	default:
		d.fail(n, path, fmt.Sprintf("want a mapping or an alias of one after <<, got %s", describe(n)))
	}
}

// list fills slice v from sequence n, element by element.
func (d *decoder) list(n ast.Node, v reflect.Value, path string, depth int) {
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		d.fail(n, path, fmt.Sprintf("want a list, got %s", describe(n)))
		return
	}
	for i, e := range seq.Values {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = nodePos(e)
		ev := reflect.New(v.Type().Elem()).Elem()
		d.decode(e, ev, p, depth+1)
		v.Set(reflect.Append(v, ev))
	}
}

// pairs fills ps from mapping n of names to strings; a name written again
// (after a merge) replaces the merged value.
func (d *decoder) pairs(n ast.Node, ps *pairs, path string, depth int) {
	mvs, ok := entries(n)
	if !ok {
		d.fail(n, path, fmt.Sprintf("want a mapping of names to values, got %s", describe(n)))
		return
	}
	for _, mv := range mvs {
		if mv != nil && !isNil(mv.Key) && mv.Key.IsMergeKey() {
			d.merge(mv.Value, func(m ast.Node, depth int) { d.pairs(m, ps, path, depth) }, path, depth+1)
		}
	}
	for _, mv := range mvs {
		if mv == nil || isNil(mv.Key) || mv.Key.IsMergeKey() {
			continue
		}
		key, ok := keyName(mv.Key)
		if !ok || key == "" {
			d.fail(mv.Key, join(path, "?"), fmt.Sprintf("want a name, got %s", describe(mv.Key)))
			continue
		}
		fp := join(path, key)
		d.pos[fp] = valuePos(mv)
		var s string
		d.decode(mv.Value, reflect.ValueOf(&s).Elem(), fp, depth+1)
		ps.set(pair{Name: key, Value: s, field: fp})
	}
}

// set adds p, or replaces the pair of the same name.
func (ps *pairs) set(p pair) {
	for i := range *ps {
		if (*ps)[i].Name == p.Name {
			(*ps)[i] = p
			return
		}
	}
	*ps = append(*ps, p)
}

// statuses fills l from one integer or a list of them.
func (d *decoder) statuses(n ast.Node, l *statusList, path string) {
	want := "want an HTTP status such as 409, or a list of them such as [409, 410]"
	one := func(n ast.Node, field string) {
		iv, ok := n.(*ast.IntegerNode)
		var st int64
		if ok {
			switch x := iv.Value.(type) {
			case int64:
				st = x
			case uint64:
				st = int64(min(x, maxStatus+1))
			}
		}
		if !ok || st < minStatus || st > maxStatus {
			d.fail(n, field, fmt.Sprintf("%s, got %s", want, describe(n)))
			return
		}
		*l = append(*l, int(st))
	}
	if seq, ok := n.(*ast.SequenceNode); ok {
		for i, e := range seq.Values {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.pos[p] = nodePos(e)
			one(e, p)
		}
		return
	}
	one(n, path)
}

// scalarText returns the text of a scalar node.
func scalarText(n ast.Node) (string, bool) {
	switch x := n.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return tokenValue(n), true
	}
	return "", false
}

// keyName returns the name a mapping key spells.
func keyName(k ast.MapKeyNode) (string, bool) {
	switch x := k.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.IntegerNode, *ast.BoolNode, *ast.FloatNode:
		// A header named 42 is odd but a name all the same.
		return tokenValue(x), true
	}
	return "", false
}

// yamlError turns an error of goccy/go-yaml into an Error at its token.
func yamlError(name string, err error) *Error {
	e := &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		if strings.Contains(e.Msg, "'\t'") {
			e.Msg = strings.ReplaceAll(e.Msg, "'\t'", `'\t'`) + " (indent YAML with spaces, not tabs)"
		}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
	}
	return e
}

type structFields struct {
	index map[string]int // yaml name → field index
	names []string       // yaml names in declaration order
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{index: map[string]int{}}
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		f.index[name] = i
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
	for !isNil(v) {
		switch n := v.(type) {
		case *ast.TagNode:
			v = n.Value
			continue
		case *ast.AnchorNode:
			v = n.Value
			continue
		}
		break
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
