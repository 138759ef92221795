package profile

import (
	"errors"
	"strings"
	"testing"
)

// minimal is the smallest valid profile: the three operations every
// profile maps.
const minimal = `operations:
  list_ppvs:
    path: /ppvs
    read: {list: items, id: id}
  list_slots:
    path: /ppvs/{{.PPV}}/slots
    read: {list: items, date: date, remaining: left}
  book:
    method: POST
    path: /bookings
    body: '{"person": {{json .PersonID}}}'
    read: {id: id}
`

// Each bad profile is rejected with every problem in it, each naming
// file:line:col and the field.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, yaml string
		want       []string
	}{
		{"empty", "", []string{"p.yaml:1:1: empty profile: want a YAML mapping with at least operations"}},
		{"comment only", "# nothing\n", []string{"p.yaml:1:1: empty profile: want a YAML mapping with at least operations"}},
		{"two documents", minimal + "---\nname: x\n", []string{"p.yaml:14:1: found 2 YAML documents; want one profile per file"}},
		{"not a mapping", "- a\n- b\n", []string{"p.yaml:1:1: want a mapping of fields, got a list"}},
		{"syntax", "name: 'unclosed\n", []string{"p.yaml:1:7: could not find end character of single-quoted text"}},
		{"unknown field", minimal + "operatons: {}\n", []string{`p.yaml:13:1: operatons: unknown field (did you mean "operations"?)`}},
		{"missing operations", "name: x\n", []string{
			"p.yaml:1:1: operations.list_ppvs: missing: every profile maps list_ppvs, list_slots and book",
			"p.yaml:1:1: operations.list_slots: missing: every profile maps list_ppvs, list_slots and book",
			"p.yaml:1:1: operations.book: missing: every profile maps list_ppvs, list_slots and book",
		}},
		{"bad method", strings.Replace(minimal, "method: POST", "method: FETCH", 1), []string{
			`p.yaml:9:13: operations.book.method: unknown method "FETCH": want GET, POST, PUT, PATCH or DELETE`,
		}},
		{"relative path", strings.Replace(minimal, "path: /bookings", "path: bookings", 1), []string{
			`p.yaml:10:11: operations.book.path: want a path starting with /, got "bookings"`,
		}},
		{"query in path", strings.Replace(minimal, "path: /ppvs\n", "path: /ppvs?state={{.State}}\n", 1), []string{
			"p.yaml:3:11: operations.list_ppvs.path: want a path without ? or # (write query parameters under query)",
		}},
		{"template syntax", strings.Replace(minimal, "{{.PPV}}", "{{.PPV", 1), []string{
			`p.yaml:6:11: operations.list_slots.path: bad template: bad character U+002F '/'`,
		}},
		{"template field", strings.Replace(minimal, "{{.PPV}}", "{{.Centre}}", 1), []string{
			"p.yaml:6:11: operations.list_slots.path: template does not render: unknown field .Centre (want .PPV, .Date, .State, .PersonID, .IdempotencyKey, .Ticket, .BookingID, .Token or .Op)",
		}},
		{"body not JSON", strings.Replace(minimal, "{{json .PersonID}}", "{{.PersonID}}", 1), []string{
			`p.yaml:11:11: operations.book.body: renders as "{\"person\": P000001}" for sample values, which is not JSON (write string fields as {{json .PersonID}})`,
		}},
		{"gjson paths", strings.Replace(strings.Replace(minimal, "id: id}\n  list_slots", `id: "a(b"}`+"\n  list_slots", 1), "list: items, date", "list: '@nosuch', date", 1), []string{
			`p.yaml:4:29: operations.list_ppvs.read.id: bad gjson path "a(b": unbalanced brackets, braces or parentheses`,
			`p.yaml:7:18: operations.list_slots.read.list: bad gjson path "@nosuch": unknown modifier @nosuch`,
		}},
		{"missing read", strings.Replace(minimal, "    read: {id: id}\n", "", 1), []string{
			`p.yaml:8:3: operations.book.read.id: missing: want a gjson path, such as "id" or "data.items"`,
		}},
		{"wrong types", minimal + "headers: [a, b]\nerror_code: 7\n", []string{
			"p.yaml:13:10: headers: want a mapping of names to values, got a list",
			"p.yaml:14:13: error_code: want a string, got integer 7 (quote it to make it one)",
		}},
		{"header names", minimal + "headers:\n  Bad Header: x\n  X-A: a\n  x-a: b\n", []string{
			`p.yaml:14:15: headers.Bad Header: bad header name "Bad Header"`,
			"p.yaml:16:8: headers.x-a: header X-A written twice",
		}},
		{"header line break", minimal + "headers:\n  X-A: \"a\\nb\"\n", []string{
			"p.yaml:14:8: headers.X-A: header value renders with a line break or NUL for sample values",
		}},
		{"outcomes", minimal + `outcomes:
  - kind: sold-out
    status: 99
  - kind: throttled
    status: "429"
  - status: [409, 700]
    ops: [booking]
    when: {equals: FULL}
`, []string{
			`p.yaml:14:11: outcomes[0].kind: unknown kind "sold-out": want one of ok, sold_out, already_booked, throttled, overloaded, not_admitted, not_found, rejected, server_error, unexpected, step_failed`,
			"p.yaml:15:13: outcomes[0].status: want an HTTP status such as 409, or a list of them such as [409, 410], got integer 99",
			`p.yaml:17:13: outcomes[1].status: want an HTTP status such as 409, or a list of them such as [409, 410], got string "429"`,
			"p.yaml:18:5: outcomes[2].kind: missing: want one of ok, sold_out, already_booked, throttled, overloaded, not_admitted, not_found, rejected, server_error, unexpected, step_failed",
			"p.yaml:18:19: outcomes[2].status[1]: want an HTTP status such as 409, or a list of them such as [409, 410], got integer 700",
			`p.yaml:19:11: outcomes[2].ops[0]: unknown operation "booking": want one of list_ppvs, list_slots, book, queue_join, queue_poll, get_booking, find_booking, step`,
			`p.yaml:20:5: outcomes[2].when.path: missing: want a gjson path, such as "id" or "data.items"`,
		}},
		{"retry advice", minimal + `retry_after:
  - header: Retry-After
    unit: h
  - header: X-Wait
    body: wait
  - unit: ms
`, []string{
			`p.yaml:15:11: retry_after[0].unit: unknown unit "h": want s or ms`,
			"p.yaml:16:5: retry_after[1]: want header or body, not both",
			"p.yaml:18:5: retry_after[2]: want header (a header's name) or body (a gjson path)",
		}},
		{"half a room", minimal + `  queue_join:
    path: /room
    read: {ticket: t, token: k}
`, []string{
			"p.yaml:1:1: operations: want both queue_join and queue_poll, or neither",
			"p.yaml:15:5: operations.queue_join.read.admitted: missing: want the path and value that mean admitted, such as {path: state, equals: admitted}",
		}},
		{"token", minimal + "token: {value: \"{{.Token}}\"}\n", []string{
			"p.yaml:13:1: token.header: missing: want the header that carries the admission token, such as Authorization",
		}},
		{"unknown alias", minimal + "  get_booking:\n    path: /b/{{.BookingID}}\n    read: *nothing\n", []string{
			`p.yaml:15:11: operations.get_booking.read: unknown alias "*nothing"`,
		}},
		{"self merge", minimal + "token: &t {<<: *t, header: X}\n", []string{
			"p.yaml:13:16: token: document nested too deeply or expands too many aliases",
		}},
		{"merge of a list of strings", minimal + "token: {<<: [a], header: X}\n", []string{
			"p.yaml:13:14: token: want a mapping or an alias of one after <<, got string \"a\"",
		}},
		{"path characters", minimal + "error_code: \"a\\tb\"\nretry_after: [{body: 'x\"y'}, {body: '@this|@nope'}]\n", []string{
			`p.yaml:13:13: error_code: bad gjson path "a\tb": holds a control character or invalid UTF-8`,
			`p.yaml:14:22: retry_after[0].body: bad gjson path "x\"y": unbalanced brackets, braces or parentheses`,
			`p.yaml:14:37: retry_after[1].body: bad gjson path "@this|@nope": unknown modifier @nope`,
		}},
		{"token header", minimal + "token: {header: 'A B', value: x}\n", []string{
			`p.yaml:13:17: token.header: bad header name "A B"`,
		}},
		{"tag", minimal + "name: !secret x\n", []string{`p.yaml:13:7: name: unsupported tag "!secret" (profiles need no tags)`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p, err := Parse("p.yaml", []byte(c.yaml))
			var list ErrorList
			if p != nil || !errors.As(err, &list) {
				t.Fatalf("Parse = %v, %v; want an ErrorList", p, err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("Parse errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
