package profile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"text/template"
	"text/template/parse"

	"github.com/tidwall/gjson"

	"github.com/slotrush/slotrush/models"
)

// A template is compiled once. Most are text and plain field references
// ("/api/v1/ppvs/{{.PPV}}/slots", "Bearer {{.Token}}", a JSON body of
// {{json .PersonID}} and such): those are kept as a list of parts and
// rendered by appending, without reflection. Any other template is
// rendered by text/template.

// field is a Request field a template refers to.
type field uint8

const (
	fieldNone field = iota // a literal part
	fieldOp
	fieldPPV
	fieldDate
	fieldState
	fieldPersonID
	fieldIdempotencyKey
	fieldTicket
	fieldBookingID
	fieldToken
	fieldStep
	fieldStepPath
)

var fieldByName = map[string]field{
	"Op": fieldOp, "PPV": fieldPPV, "Date": fieldDate, "State": fieldState,
	"PersonID": fieldPersonID, "IdempotencyKey": fieldIdempotencyKey,
	"Ticket": fieldTicket, "BookingID": fieldBookingID, "Token": fieldToken,
	"Step": fieldStep, "StepPath": fieldStepPath,
}

// escaping is how a template's field values are written.
type escaping uint8

const (
	escapeNone escaping = iota
	escapePath          // url.PathEscape: path segments
)

// part is literal text, or a field's value, raw or as a JSON string.
type part struct {
	lit   string
	field field
	json  bool
}

type tmpl struct {
	src   string
	esc   escaping
	parts []part     // the fast form, when the template has one
	t     *templateT // otherwise
}

// funcs are the functions a template may call besides text/template's
// own: json writes a value as JSON (a string quoted and escaped).
var funcs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// data is what text/template renders: the request's fields as strings.
type data struct {
	Op, PPV, Date, State, PersonID, IdempotencyKey, Ticket, BookingID, Token string
	Step, StepPath                                                           string
}

// templateT is a parsed text/template.
type templateT = template.Template

// newTextTemplate parses src as a text/template with the profile's
// functions.
func newTextTemplate(name, src string) (*templateT, error) {
	return template.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
}

// newTemplate parses src, escaping field values by esc.
func newTemplate(name, src string, esc escaping) (*tmpl, error) {
	t, err := newTextTemplate(name, src)
	if err != nil {
		return nil, err
	}
	tp := &tmpl{src: src, esc: esc, t: t}
	if t.Tree == nil || t.Root == nil {
		tp.parts = []part{}
		tp.t = nil
		return tp, nil
	}
	if parts, ok := fastParts(t.Root); ok && len(t.Templates()) <= 1 {
		tp.parts, tp.t = parts, nil
	}
	return tp, nil
}

// fastParts returns the parts of a template made of text, {{.Field}} and
// {{json .Field}} alone, or false.
func fastParts(root *parse.ListNode) ([]part, bool) {
	var parts []part
	for _, n := range root.Nodes {
		switch x := n.(type) {
		case *parse.TextNode:
			parts = append(parts, part{lit: string(x.Text)})
		case *parse.ActionNode:
			p, ok := fastAction(x)
			if !ok {
				return nil, false
			}
			parts = append(parts, p)
		default:
			return nil, false
		}
	}
	return parts, true
}

func fastAction(a *parse.ActionNode) (part, bool) {
	if a.Pipe == nil || len(a.Pipe.Decl) > 0 || len(a.Pipe.Cmds) != 1 {
		return part{}, false
	}
	args := a.Pipe.Cmds[0].Args
	asJSON := false
	if len(args) == 2 {
		id, ok := args[0].(*parse.IdentifierNode)
		if !ok || id.Ident != "json" {
			return part{}, false
		}
		asJSON, args = true, args[1:]
	}
	if len(args) != 1 {
		return part{}, false
	}
	fn, ok := args[0].(*parse.FieldNode)
	if !ok || len(fn.Ident) != 1 {
		return part{}, false
	}
	f, ok := fieldByName[fn.Ident[0]]
	if !ok {
		return part{}, false
	}
	return part{field: f, json: asJSON}, true
}

// appendTo renders the template for r after dst.
func (t *tmpl) appendTo(dst []byte, r *Request) ([]byte, error) {
	if t.t == nil {
		for i := range t.parts {
			p := &t.parts[i]
			if p.field == fieldNone {
				dst = append(dst, p.lit...)
				continue
			}
			dst = t.appendField(dst, p, r)
		}
		return dst, nil
	}
	d := data{
		Op: r.Op, PPV: r.PPV, State: r.State, PersonID: r.PersonID, IdempotencyKey: r.IdempotencyKey,
		Ticket: r.Ticket, BookingID: r.BookingID, Token: r.Token, Step: r.Step, StepPath: r.StepPath,
	}
	if !r.Date.IsZero() {
		d.Date = r.Date.String()
	}
	if t.esc == escapePath {
		for _, s := range []*string{&d.Op, &d.PPV, &d.Date, &d.State, &d.PersonID, &d.IdempotencyKey, &d.Ticket, &d.BookingID, &d.Token, &d.Step} {
			*s = url.PathEscape(*s)
		}
	}
	var b bytes.Buffer
	if err := t.t.Execute(&b, &d); err != nil {
		return dst, fmt.Errorf("render %s: %w", t.t.Name(), err)
	}
	return append(dst, b.Bytes()...), nil
}

// appendField appends the value of p's field in r.
func (t *tmpl) appendField(dst []byte, p *part, r *Request) []byte {
	var s string
	switch p.field {
	case fieldDate:
		if r.Date.IsZero() {
			if p.json {
				return append(dst, `""`...)
			}
			return dst
		}
		if p.json {
			return append(appendDate(append(dst, '"'), r.Date), '"')
		}
		return appendDate(dst, r.Date)
	case fieldOp:
		s = r.Op
	case fieldPPV:
		s = r.PPV
	case fieldState:
		s = r.State
	case fieldPersonID:
		s = r.PersonID
	case fieldIdempotencyKey:
		s = r.IdempotencyKey
	case fieldTicket:
		s = r.Ticket
	case fieldBookingID:
		s = r.BookingID
	case fieldToken:
		s = r.Token
	case fieldStep:
		s = r.Step
	case fieldStepPath:
		// A path of its own (scenarios check it): kept as it is.
		if p.json {
			return gjson.AppendJSONString(dst, r.StepPath)
		}
		return append(dst, r.StepPath...)
	}
	if t.esc == escapePath {
		s = url.PathEscape(s)
	}
	if p.json {
		return gjson.AppendJSONString(dst, s)
	}
	return append(dst, s...)
}

// appendDate appends d as YYYY-MM-DD (models.Date.String, without fmt).
func appendDate(dst []byte, d models.Date) []byte {
	pad := func(dst []byte, v, width int) []byte {
		if v < 0 {
			dst = append(dst, '-')
			v = -v
		}
		for w := 10; width > 1; width-- {
			if v < w {
				dst = append(dst, '0')
			}
			w *= 10
		}
		return strconv.AppendInt(dst, int64(v), 10)
	}
	dst = pad(dst, d.Year, 4)
	dst = append(dst, '-')
	dst = pad(dst, int(d.Month), 2)
	dst = append(dst, '-')
	return pad(dst, d.Day, 2)
}
