package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/tidwall/gjson"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// HTTP statuses a profile may name.
const (
	minStatus = 100
	maxStatus = 599
)

// Operations of a profile, by index.
const (
	opListPPVs = iota
	opListSlots
	opBook
	opQueueJoin
	opQueuePoll
	opGetBooking
	opFindBooking
	opStep
	numOps
)

// opKeys are the operations' names in a profile file.
var opKeys = [numOps]string{"list_ppvs", "list_slots", "book", "queue_join", "queue_poll", "get_booking", "find_booking", "step"}

// opIndex returns the index of the journey operation op (a results.Op*
// name); a queue operation is a join without a ticket, else a poll.
func opIndex(op, ticket string) (int, bool) {
	switch op {
	case results.OpListPPVs:
		return opListPPVs, true
	case results.OpListSlots:
		return opListSlots, true
	case results.OpBook:
		return opBook, true
	case results.OpQueue:
		if ticket == "" {
			return opQueueJoin, true
		}
		return opQueuePoll, true
	case results.OpGetBooking:
		return opGetBooking, true
	case results.OpFindBooking:
		return opFindBooking, true
	case results.OpStep:
		return opStep, true
	}
	return 0, false
}

// operation is one compiled operation.
type operation struct {
	key     string
	method  string
	path    *tmpl
	query   []header
	headers []header
	body    *tmpl
	read    reader
}

// header is a header (or query parameter) name and its value's template.
// An empty value is not sent.
type header struct {
	name  string // canonical for a header, query-escaped for a parameter
	value *tmpl
}

// reader holds the gjson paths of what is read from an ok answer; an
// operation uses those that apply to it, "" is not read.
type reader struct {
	list                      string
	id, name, state           string
	date, capacity, remaining string
	ticket, token             string
	admitted                  *matcher
	person, ppv, createdAt    string
}

// matcher matches a body whose value at path exists and, when hasEquals,
// has the text equals.
type matcher struct {
	path      string
	equals    string
	hasEquals bool
}

// retrySource is where retry advice may be: a header or a body path.
type retrySource struct {
	header string // canonical
	body   string
	unit   time.Duration
}

// rule is a compiled outcome rule.
type rule struct {
	kind  Kind
	ops   uint8 // mask of 1 << operation index
	when  *matcher
	retry []retrySource
}

const allOps = 1<<numOps - 1

var kindByName = func() map[string]Kind {
	m := map[string]Kind{}
	for k := KindOK; k < KindTransport; k++ {
		m[k.String()] = k
	}
	return m
}()

// sample is the request templates are tried with when compiled.
var sample = Request{
	Op: "op", PPV: "PPV-1", Date: models.Date{Year: 2021, Month: 6, Day: 7}, State: "Selangor",
	PersonID: "P000001", IdempotencyKey: "P000001-1", Ticket: "T-1", BookingID: "B-1", Token: "token",
}

type compiler struct {
	d *decoder
}

// fail reports a problem of field, unless the decoder already rejected
// its value (the problem would be a consequence).
func (c *compiler) fail(field, format string, args ...any) {
	if c.d.isBad(field) {
		return
	}
	p := c.d.lookup(field)
	c.d.errs = append(c.d.errs, &Error{File: c.d.file, Line: p.line, Column: p.col, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) compile(s *fileSpec) *Profile {
	p := &Profile{name: s.Name}
	p.headers = c.headers(s.Headers, "headers")
	tok := tokenSpec{Header: "Authorization", Value: "Bearer {{.Token}}"}
	if s.Token != nil {
		tok = *s.Token
		if tok.Header == "" {
			c.fail("token.header", "missing: want the header that carries the admission token, such as Authorization")
		}
		if tok.Value == "" {
			c.fail("token.value", `missing: want its value, such as "Bearer {{.Token}}"`)
		}
	}
	switch {
	case tok.Header == "":
	case !validToken(tok.Header):
		c.fail("token.header", "bad header name %q", clip(tok.Header))
	default:
		if hs := c.headers(pairs{{Name: tok.Header, Value: tok.Value, field: "token.value"}}, "token"); len(hs) == 1 {
			p.token = &hs[0]
		}
	}
	p.code = c.path("error_code", s.ErrorCode, false)
	p.retry = c.retrySources("retry_after", s.RetryAfter)
	c.operations(p, &s.Operations)
	for i := range s.Outcomes {
		c.outcome(p, fmt.Sprintf("outcomes[%d]", i), &s.Outcomes[i])
	}
	return p
}

func (c *compiler) operations(p *Profile, o *operationsSpec) {
	const f = "operations"
	p.ops[opListPPVs] = compileOp(c, o.ListPPVs, opListPPVs, true, func(r ppvsRead, at string) reader {
		return reader{list: c.path(at+".list", r.List, true), id: c.path(at+".id", r.ID, true),
			name: c.path(at+".name", r.Name, false), state: c.path(at+".state", r.State, false)}
	})
	p.ops[opListSlots] = compileOp(c, o.ListSlots, opListSlots, true, func(r slotsRead, at string) reader {
		return reader{list: c.path(at+".list", r.List, true), date: c.path(at+".date", r.Date, true),
			capacity: c.path(at+".capacity", r.Capacity, false), remaining: c.path(at+".remaining", r.Remaining, true)}
	})
	p.ops[opBook] = compileOp(c, o.Book, opBook, true, func(r bookRead, at string) reader {
		return reader{id: c.path(at+".id", r.ID, true)}
	})
	queue := func(r queueRead, at string) reader {
		rd := reader{ticket: c.path(at+".ticket", r.Ticket, true), token: c.path(at+".token", r.Token, true),
			date: c.path(at+".date", r.Date, false)}
		if r.Admitted == nil {
			c.fail(at+".admitted", "missing: want the path and value that mean admitted, such as {path: state, equals: admitted}")
		} else {
			rd.admitted = c.matcher(at+".admitted", r.Admitted)
		}
		return rd
	}
	p.ops[opQueueJoin] = compileOp(c, o.QueueJoin, opQueueJoin, false, queue)
	p.ops[opQueuePoll] = compileOp(c, o.QueuePoll, opQueuePoll, false, queue)
	if (p.ops[opQueueJoin] == nil) != (p.ops[opQueuePoll] == nil) {
		c.fail(f, "want both queue_join and queue_poll, or neither")
	}
	booking := func(r bookingRead, at string) reader {
		return reader{id: c.path(at+".id", r.ID, true), person: c.path(at+".person", r.Person, false),
			ppv: c.path(at+".ppv", r.PPV, false), date: c.path(at+".date", r.Date, false),
			createdAt: c.path(at+".created_at", r.CreatedAt, false)}
	}
	p.ops[opGetBooking] = compileOp(c, o.GetBooking, opGetBooking, false, booking)
	p.ops[opFindBooking] = compileOp(c, o.FindBooking, opFindBooking, false, booking)
	p.ops[opStep] = compileOp(c, o.Step, opStep, false, func(stepRead, string) reader { return reader{} })
}

// compileOp compiles operation i from o, whose read block read compiles.
// It returns nil when o is absent (an error when required).
func compileOp[R any](c *compiler, o *opSpec[R], i int, required bool, read func(R, string) reader) *operation {
	key := opKeys[i]
	at := "operations." + key
	if o == nil {
		if required {
			c.fail(at, "missing: every profile maps list_ppvs, list_slots and book")
		}
		return nil
	}
	op := &operation{key: key, method: strings.ToUpper(o.Method)}
	switch op.method {
	case "":
		op.method = http.MethodGet
		if o.Body != "" {
			op.method = http.MethodPost
		}
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		c.fail(at+".method", "unknown method %q: want GET, POST, PUT, PATCH or DELETE", o.Method)
	}
	op.path = c.pathTemplate(at+".path", o.Path)
	for _, q := range o.Query {
		if t := c.template(q.field, q.Value, escapeNone); t != nil {
			op.query = append(op.query, header{name: url.QueryEscape(q.Name), value: t})
		}
	}
	op.headers = c.headers(o.Headers, at+".headers")
	if o.Body != "" {
		op.body = c.template(at+".body", o.Body, escapeNone)
		if op.body != nil {
			r := sample
			r.Op = key
			if b, err := op.body.appendTo(nil, &r); err == nil && !json.Valid(b) {
				c.fail(at+".body", "renders as %q for sample values, which is not JSON (write string fields as {{json .PersonID}})", clip(string(b)))
			}
		}
	}
	op.read = read(o.Read, at+".read")
	return op
}

// template compiles the template src of field, and checks that it renders
// for sample values. It returns nil after a problem.
func (c *compiler) template(field, src string, esc escaping) *tmpl {
	t, err := newTemplate(field, src, esc)
	if err != nil {
		c.fail(field, "bad template: %s", templateError(err))
		return nil
	}
	r := sample
	if _, err := t.appendTo(nil, &r); err != nil {
		c.fail(field, "template does not render: %s", templateError(err))
		return nil
	}
	return t
}

var (
	unknownFieldRE = regexp.MustCompile(`can't evaluate field (\w+) in type \S+`)
	templatePosRE  = regexp.MustCompile(`^template: [^:]*:(\d+:)?(\d+:)? ?`)
)

// templateError says what err, from text/template, means, without the
// template's internal names.
func templateError(err error) string {
	if inner := errors.Unwrap(err); inner != nil {
		err = inner // without appendTo's "render <field>: "
	}
	msg := templatePosRE.ReplaceAllString(err.Error(), "")
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown field .%s (want .PPV, .Date, .State, .PersonID, .IdempotencyKey, .Ticket, .BookingID, .Token or .Op)", m[1])
	}
	return msg
}

// pathTemplate compiles the path template of field: required, from the
// root ("/..."), without a query (the query has a field of its own).
func (c *compiler) pathTemplate(field, src string) *tmpl {
	switch {
	case src == "":
		c.fail(field, `missing: want the path from the target's base URL, such as "/api/v1/ppvs/{{.PPV}}/slots"`)
		return nil
	case !strings.HasPrefix(src, "/"):
		c.fail(field, "want a path starting with /, got %q", clip(src))
		return nil
	case strings.ContainsAny(src, "?#"):
		c.fail(field, "want a path without ? or # (write query parameters under query)")
		return nil
	}
	t := c.template(field, src, escapePath)
	if t == nil {
		return nil
	}
	r := sample
	b, _ := t.appendTo([]byte("http://target.test"), &r)
	if _, err := url.Parse(string(b)); err != nil || strings.ContainsAny(string(b), " \t\r\n") {
		c.fail(field, "renders as %q for sample values, which is not a URL path", clip(string(b)))
		return nil
	}
	return t
}

// headers compiles header templates: names are HTTP tokens, written once
// whatever their case; values render without line breaks.
func (c *compiler) headers(ps pairs, field string) []header {
	var hs []header
	seen := map[string]bool{}
	for _, p := range ps {
		at := p.field
		if at == "" {
			at = field
		}
		name := http.CanonicalHeaderKey(p.Name)
		switch {
		case !validToken(p.Name):
			c.fail(at, "bad header name %q", clip(p.Name))
			continue
		case seen[name]:
			c.fail(at, "header %s written twice", name)
			continue
		}
		seen[name] = true
		t := c.template(at, p.Value, escapeNone)
		if t == nil {
			continue
		}
		r := sample
		if b, _ := t.appendTo(nil, &r); strings.ContainsAny(string(b), "\r\n\x00") {
			c.fail(at, "header value renders with a line break or NUL for sample values")
			continue
		}
		hs = append(hs, header{name: name, value: t})
	}
	return hs
}

// validToken reports whether s is an HTTP token (RFC 9110), as header names
// must be.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) || r == 0x7f {
			return false
		}
	}
	return true
}

// path checks the gjson path src of field and returns it; a missing path
// is an error when required. gjson has no path validator: a path is
// accepted when it is not blank, holds no control characters, balances its
// brackets, names existing modifiers, and gjson reads it from sample
// documents without failing.
func (c *compiler) path(field, src string, required bool) string {
	if src == "" {
		if required {
			c.fail(field, "missing: want a gjson path, such as \"id\" or \"data.items\"")
		}
		return ""
	}
	if msg := pathProblem(src); msg != "" {
		c.fail(field, "bad gjson path %q: %s", clip(src), msg)
		return ""
	}
	return src
}

// pathProblem says what is wrong with the gjson path p, or returns "".
func pathProblem(p string) string {
	if strings.TrimSpace(p) == "" {
		return "blank"
	}
	if len(p) > 512 {
		return "longer than 512 bytes"
	}
	for _, r := range p {
		if r < ' ' || r == 0x7f || r == unicode.ReplacementChar {
			return "holds a control character or invalid UTF-8"
		}
	}
	if !balanced(p) {
		return "unbalanced brackets, braces or parentheses"
	}
	for _, seg := range modifierNames(p) {
		if !gjson.ModifierExists(seg, nil) {
			return fmt.Sprintf("unknown modifier @%s", seg)
		}
	}
	if !probePath(p) {
		return "gjson cannot read it"
	}
	return ""
}

// balanced reports whether p's (), [] and {} are balanced outside quoted
// strings and escapes.
func balanced(p string) bool {
	var stack []byte
	closer := map[byte]byte{'(': ')', '[': ']', '{': '}'}
	inQuote := false
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch == '\\':
			i++
		case ch == '"':
			inQuote = !inQuote
		case inQuote:
		case closer[ch] != 0:
			stack = append(stack, closer[ch])
		case ch == ')' || ch == ']' || ch == '}':
			if len(stack) == 0 || stack[len(stack)-1] != ch {
				return false
			}
			stack = stack[:len(stack)-1]
		}
	}
	return len(stack) == 0 && !inQuote
}

// modifierNames returns the names of the modifiers p applies: "@name" at
// its start or after a pipe.
func modifierNames(p string) []string {
	var names []string
	for _, seg := range strings.Split(p, "|") {
		if strings.HasPrefix(seg, "@") {
			name := seg[1:]
			if i := strings.IndexAny(name, ":.|"); i >= 0 {
				name = name[:i]
			}
			names = append(names, name)
		}
	}
	return names
}

// probeDocs are documents of the shapes answers have, to read paths from.
var probeDocs = []string{
	`{"id":"x","data":{"items":[{"id":"a","n":1}]},"error":"e","items":[1,2]}`,
	`[{"id":"a","date":"2021-06-07","capacity":1,"remaining":1}]`,
	`{}`, `[]`, `"s"`, `0`, `null`, ``,
}

// probePath reports whether gjson reads p from the probe documents without
// a panic.
func probePath(p string) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	for _, d := range probeDocs {
		r := gjson.Get(d, p)
		r.ForEach(func(_, v gjson.Result) bool { _ = v.Get(p); return true })
	}
	return true
}

func (c *compiler) matcher(field string, m *matchSpec) *matcher {
	out := &matcher{path: c.path(field+".path", m.Path, true)}
	if m.Equals != nil {
		out.equals, out.hasEquals = string(*m.Equals), true
	}
	return out
}

func (c *compiler) retrySources(field string, rs []retrySpec) []retrySource {
	var out []retrySource
	for i, r := range rs {
		at := fmt.Sprintf("%s[%d]", field, i)
		src := retrySource{unit: time.Second}
		switch r.Unit {
		case "", "s":
		case "ms":
			src.unit = time.Millisecond
		default:
			c.fail(at+".unit", "unknown unit %q: want s or ms", clip(r.Unit))
		}
		switch {
		case r.Header != "" && r.Body != "":
			c.fail(at, "want header or body, not both")
			continue
		case r.Header != "":
			if !validToken(r.Header) {
				c.fail(at+".header", "bad header name %q", clip(r.Header))
				continue
			}
			src.header = http.CanonicalHeaderKey(r.Header)
		case r.Body != "":
			if src.body = c.path(at+".body", r.Body, true); src.body == "" {
				continue
			}
		default:
			c.fail(at, "want header (a header's name) or body (a gjson path)")
			continue
		}
		out = append(out, src)
	}
	return out
}

// outcome compiles outcome rule o at field into p's lookup table.
func (c *compiler) outcome(p *Profile, field string, o *outcomeSpec) {
	r := &rule{ops: allOps}
	var ok bool
	switch r.kind, ok = kindByName[o.Kind]; {
	case o.Kind == "":
		c.fail(field+".kind", "missing: want one of %s", strings.Join(kindNamesInFile(), ", "))
	case !ok:
		c.fail(field+".kind", "unknown kind %q: want one of %s", clip(o.Kind), strings.Join(kindNamesInFile(), ", "))
	}
	if len(o.Status) == 0 {
		c.fail(field+".status", "missing: want the HTTP status (or a list of them) that means %s", o.Kind)
	}
	if len(o.Ops) > 0 {
		r.ops = 0
		for i, name := range o.Ops {
			j := slices.Index(opKeys[:], name)
			if j < 0 {
				c.fail(fmt.Sprintf("%s.ops[%d]", field, i), "unknown operation %q: want one of %s", clip(name), strings.Join(opKeys[:], ", "))
				continue
			}
			r.ops |= 1 << j
		}
	}
	if o.When != nil {
		r.when = c.matcher(field+".when", o.When)
	}
	r.retry = c.retrySources(field+".retry_after", o.RetryAfter)
	for _, st := range o.Status {
		p.rules[st-minStatus] = append(p.rules[st-minStatus], r)
	}
}

// kindNamesInFile are the kinds an outcome rule may name.
func kindNamesInFile() []string {
	var names []string
	for k := KindOK; k < KindTransport; k++ {
		names = append(names, k.String())
	}
	return names
}

// clip shortens s for a message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
