package scenarios

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"

	"github.com/slotrush/slotrush/fault"
)

// Error is one problem in a scenario file, at a position. Its text is
// "file:line:col: field: problem" (without "field: " when the problem is not
// about one field, such as a syntax error).
type Error struct {
	// File is the name the file was parsed under.
	File string
	// Line and Column are 1-based.
	Line, Column int
	// Field is the YAML path of the field, such as "crowd.size" or
	// "designs[1].limits.write_rate"; empty for syntax errors.
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

// ErrorList is every problem found in one scenario file, sorted by position.
// Parse and Load return it (as error) whenever the file is invalid.
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

// Load returns the scenario ref names: a built-in preset when ref is a preset
// name (see Presets), else the YAML file at path ref. A file that happens to
// share a preset's name can be loaded as "./name". The scenario is decoded,
// defaulted and validated as by Parse.
//
// Load returns an ErrorList for an invalid scenario, and a plain error when
// the file cannot be read or ref is neither a preset nor a file.
func Load(ref string) (*Scenario, error) {
	if data, err := Preset(ref); err == nil {
		return Parse(presetDir+"/"+ref+".yaml", data)
	}
	data, err := readFile(ref)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(ref, `/\.`) {
			return nil, fmt.Errorf("unknown scenario %q: not a preset (%s) nor a file", ref, strings.Join(Presets(), ", "))
		}
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	return Parse(ref, data)
}

// readFile reads the file at path, but no more than one byte beyond
// MaxFileSize: enough for Parse to refuse it.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return data, err
}

// Parse decodes the YAML scenario data read from the file called name, fills
// defaults (EnsureDefaults) and validates it (Validate). Decoding is strict:
// unknown fields, values of the wrong type, bad durations ("30s", "1m30s")
// and bad dates ("2021-06-07") are errors. Anchors, aliases and merge keys
// work as YAML says: a mapping's own keys win over merged ones (<<: *base
// then write_rate: 5 is an override, not a duplicate). Only an absent field
// (or null) takes a default: a field written as 0, 0s, "" or [] is kept,
// and Validate says why when it makes no sense. When the scenario has no
// name, Parse names it after the file (base name without extension).
//
// Every problem found is reported at once, as an ErrorList whose entries name
// name:line:column and the field; Validate's problems are placed at the
// field's node in the file (or its nearest enclosing node when the field is
// absent). Parse never panics on any input. A file beyond MaxFileSize,
// MaxNesting, MaxMappingKeys or MaxDocuments is refused before it is
// parsed, with one Error where it crosses the limit.
func Parse(name string, data []byte) (*Scenario, error) {
	return parseSafe(name, data, defaultLimits)
}

// parseSafe is Parse with the limits lim.
func parseSafe(name string, data []byte, lim fileLimits) (s *Scenario, err error) {
	// goccy/go-yaml can panic on some malformed input; a scenario file
	// must never crash the caller.
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, ErrorList{{File: name, Line: 1, Column: 1, Msg: fmt.Sprintf("cannot decode the YAML (decoder failure: %v)", r)}}
		}
	}()
	return parse(name, data, lim)
}

func parse(name string, data []byte, lim fileLimits) (*Scenario, error) {
	c := newChecker(name)
	body, err := c.parseAndCheck(data, lim)
	if err != nil {
		return nil, err
	}
	var s Scenario
	if err := decodeBody(body, &s); err != nil {
		// The checker should have caught everything goccy rejects; if it
		// did not, goccy's own (single) error still carries a position.
		if len(c.errs) == 0 {
			c.errs = append(c.errs, yamlError(name, err))
		}
		c.errs.sort()
		return nil, c.errs
	}
	s.zeros = s.explicitZeros(func(field string) bool { return c.set[field] })
	if s.Name == "" && !s.zeros.has("name") {
		base := filepath.Base(name)
		s.Name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	s.EnsureDefaults()
	c.validate(&s)
	if len(c.errs) > 0 {
		c.errs.sort()
		return nil, c.errs
	}
	s.warnings = c.place(s.Warnings())
	return &s, nil
}

// place returns the warnings of a valid scenario, each a *FieldError,
// placed at their fields in c's file and sorted by position.
func (c *checker) place(warnings []error) ErrorList {
	var out ErrorList
	for _, w := range warnings {
		var fe *FieldError
		field, msg := "", w.Error()
		if errors.As(w, &fe) {
			field, msg = fe.Field, fe.Err.Error()
		}
		p := c.lookup(field)
		out = append(out, &Error{File: c.file, Line: p.line, Column: p.col, Field: field, Msg: msg})
	}
	out.sort()
	return out
}

// parseAndCheck checks data against the limits lim, parses it and runs the
// checker over its one document. It returns the checked body (nil when
// empty or rejected whole) to decode, or an ErrorList when there is
// nothing to decode.
func (c *checker) parseAndCheck(data []byte, lim fileLimits) (ast.Node, error) {
	name := c.file
	le := lim.checkSize(data)
	if le == nil {
		le = lim.scanRaw(data)
	}
	if le != nil {
		p := position(data, le.off)
		return nil, ErrorList{{File: name, Line: p.line, Column: p.col, Msg: le.msg}}
	}
	tokens := lexer.Tokenize(string(data))
	if tk, msg := lim.checkTokens(tokens); tk != nil {
		return nil, ErrorList{{File: name, Line: max(tk.Position.Line, 1), Column: max(tk.Position.Column, 1), Msg: msg}}
	}
	file, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil, ErrorList{yamlError(name, err)}
	}
	docs := file.Docs[:0:0]
	for _, d := range file.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d)
		}
	}
	switch {
	case len(docs) == 0:
		return nil, ErrorList{{File: name, Line: 1, Column: 1, Msg: "empty scenario: want a YAML mapping with at least crowd and inventory"}}
	case len(docs) > 1:
		p := nodePos(docs[1].Body)
		return nil, ErrorList{{File: name, Line: p.line, Column: p.col, Msg: fmt.Sprintf("found %d YAML documents; want one scenario per file", len(docs))}}
	}
	body := c.root(docs[0].Body)
	if c.tooBig { // decoding would expand the same aliases
		c.errs.sort()
		return nil, c.errs
	}
	return body, nil
}

// decodeBody decodes the checked body into s; a nil body leaves s zero.
func decodeBody(body ast.Node, s *Scenario) error {
	if body == nil {
		return nil
	}
	return yaml.NodeToValue(body, s, yaml.Strict())
}

// validate adds Validate's problems with s to c's, each placed at its
// field, except those that follow from a value c rejected.
func (c *checker) validate(s *Scenario) {
	reported := map[string]bool{}
	for _, err := range s.Validate() {
		var fe *FieldError
		field, msg := "", err.Error()
		if errors.As(err, &fe) {
			field, msg = fe.Field, fe.Err.Error()
		}
		if c.hasSchemaError(field) {
			continue // a consequence of a value the checker already rejected
		}
		p := c.lookup(field)
		var pe *fault.ParseError
		if text, ok := c.strs[field]; ok && errors.As(err, &pe) {
			// A fault's problem is at a column of its text.
			p, msg = pos{text.line, text.col + pe.Column - 1}, pe.Msg
		}
		// A value shared through an alias fails once per use; say it once.
		key := fmt.Sprintf("%d:%d: %s", p.line, p.col, msg)
		if reported[key] {
			continue
		}
		reported[key] = true
		c.errs = append(c.errs, &Error{File: c.file, Line: p.line, Column: p.col, Field: field, Msg: msg})
	}
}

// yamlError turns an error of goccy/go-yaml into an Error at its token.
func yamlError(name string, err error) *Error {
	e := &Error{File: name, Line: 1, Column: 1, Msg: err.Error()}
	var ye yaml.Error
	if errors.As(err, &ye) {
		e.Msg = ye.GetMessage()
		switch {
		case strings.Contains(e.Msg, "'\t'"):
			e.Msg = strings.ReplaceAll(e.Msg, "'\t'", `'\t'`) + " (indent YAML with spaces, not tabs)"
		case strings.Contains(e.Msg, "not allowed in this context") || strings.Contains(e.Msg, "indent"):
			e.Msg += " (is a line indented too far or not enough?)"
		}
		if tk := ye.GetToken(); tk != nil && tk.Position != nil {
			e.Line, e.Column = max(tk.Position.Line, 1), max(tk.Position.Column, 1)
		}
	}
	return e
}
