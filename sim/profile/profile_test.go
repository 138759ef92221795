package profile

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

const otherShapeFile = "../../examples/profiles/other-shape.yaml"

func mustLoad(t testing.TB, path string) *Profile {
	t.Helper()
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestV1(t *testing.T) {
	t.Parallel()
	p := V1()
	if p != V1() {
		t.Error("V1() returned two profiles; want one shared")
	}
	if p.Name() != "v1" {
		t.Errorf("V1().Name() = %q; want v1", p.Name())
	}
	for op, want := range map[string]bool{
		results.OpListPPVs: true, results.OpListSlots: true, results.OpBook: true, results.OpQueue: true,
		results.OpGetBooking: true, results.OpFindBooking: false, "nonsense": false,
	} {
		if got := p.Has(op); got != want {
			t.Errorf("V1().Has(%q) = %v; want %v", op, got, want)
		}
	}
	q, err := Parse("copy.yaml", V1Source())
	if err != nil || !reflect.DeepEqual(q.rules, p.rules) {
		t.Errorf("V1Source() parses as %v, %v; want the built-in profile", q, err)
	}
}

// Every example profile shipped compiles.
func TestExampleProfiles(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("../../examples/profiles/*.yaml")
	if len(files) == 0 {
		t.Fatal("no example profiles")
	}
	for _, f := range files {
		p, err := Load(f)
		if err != nil {
			t.Errorf("Load(%s): %v", f, err)
			continue
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".yaml"); p.Name() != want {
			t.Errorf("Load(%s).Name() = %q; want %q", f, p.Name(), want)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	t.Parallel()
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	var list ErrorList
	if err == nil || errors.As(err, &list) || !strings.HasPrefix(err.Error(), "load profile: ") {
		t.Errorf("Load(missing) = %v; want a plain load error", err)
	}
}

// A profile named by its file when it has no name.
func TestParseNamesAfterFile(t *testing.T) {
	t.Parallel()
	if p, err := Parse("dir/my-api.yml", []byte(minimal)); err != nil || p.Name() != "my-api" {
		t.Errorf("Parse(dir/my-api.yml) = %v, %v; want named my-api", p, err)
	}
}

// Anchors, aliases and merge keys share blocks between operations.
func TestParseMerge(t *testing.T) {
	t.Parallel()
	src := minimal + `  get_booking:
    path: /bookings/{{.BookingID}}
    headers: &h
      X-A: a
      X-B: b
    read: &r {id: ref, person: who}
  find_booking:
    path: /people/{{.PersonID}}/booking
    headers:
      <<: *h
      X-B: bee
    read:
      <<: *r
      id: reference
`
	p, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	find := p.ops[opFindBooking]
	if find.read.id != "reference" || find.read.person != "who" {
		t.Errorf("merged read = %+v; want id reference, person who", find.read)
	}
	req, err := p.NewRequest(context.Background(), "http://t", &Request{Op: results.OpFindBooking, PersonID: "P1"})
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header; got.Get("X-A") != "a" || got.Get("X-B") != "bee" {
		t.Errorf("merged headers %v; want X-A a, X-B bee", got)
	}
}

func TestNewRequest(t *testing.T) {
	t.Parallel()
	other := mustLoad(t, otherShapeFile)
	d := models.Date{Year: 2021, Month: 6, Day: 7}
	for _, c := range []struct {
		p       *Profile
		r       Request
		method  string
		url     string
		headers map[string]string
		body    string
	}{
		{other, Request{Op: results.OpListPPVs, State: "Kuala Lumpur & Co"}, "GET", "http://t/api/centres?region=Kuala+Lumpur+%26+Co",
			map[string]string{"Accept": "application/json"}, ""},
		{other, Request{Op: results.OpListPPVs}, "GET", "http://t/api/centres", nil, ""},
		{other, Request{Op: results.OpListSlots, PPV: "a b/c?d", Token: "k1"}, "GET", "http://t/api/centres/a%20b%2Fc%3Fd/availability",
			map[string]string{"X-Lobby-Key": "k1"}, ""},
		{other, Request{Op: results.OpBook, PPV: `P"1`, Date: d, PersonID: "P<1>", IdempotencyKey: "P1-1"}, "POST", "http://t/api/reservations",
			map[string]string{"X-Request-Id": "P1-1", "Content-Type": "application/json", "X-Lobby-Key": ""},
			`{"citizen": "P\u003c1\u003e", "centre": "P\"1", "day": "2021-06-07"}` + "\n"},
		{other, Request{Op: results.OpBook, PPV: "A", PersonID: "P1"}, "POST", "http://t/api/reservations",
			map[string]string{"X-Request-Id": ""}, `{"citizen": "P1", "centre": "A", "day": ""}` + "\n"},
		{other, Request{Op: results.OpQueue, PersonID: "P1"}, "POST", "http://t/api/lobby", nil, `{"citizen": "P1"}`},
		{other, Request{Op: results.OpQueue, PersonID: "P1", Ticket: "L 1"}, "GET", "http://t/api/lobby/L%201", nil, ""},
		{other, Request{Op: results.OpGetBooking, BookingID: "R-1"}, "GET", "http://t/api/reservations/R-1", nil, ""},
		{other, Request{Op: results.OpFindBooking, PersonID: "P1"}, "GET", "http://t/api/citizens/P1/reservation", nil, ""},
		{V1(), Request{Op: results.OpBook, PPV: "A", Date: d, PersonID: "P1", Token: "tok"}, "POST", "http://t/api/api/v1/bookings",
			map[string]string{"Authorization": "Bearer tok", "Idempotency-Key": ""}, `{"person_id":"P1","ppv":"A","date":"2021-06-07"}`},
	} {
		req, err := c.p.NewRequest(context.Background(), "http://t/api", &c.r)
		if err != nil {
			t.Errorf("%s NewRequest(%+v): %v", c.p.Name(), c.r, err)
			continue
		}
		var body []byte
		if req.Body != nil {
			body, _ = io.ReadAll(req.Body)
		}
		if req.Method != c.method || req.URL.String() != c.url || string(body) != c.body {
			t.Errorf("%s NewRequest(%+v) = %s %s %q; want %s %s %q", c.p.Name(), c.r, req.Method, req.URL, body, c.method, c.url, c.body)
		}
		for k, v := range c.headers {
			if got, ok := req.Header[k]; (v == "" && ok) || (v != "" && (len(got) != 1 || got[0] != v)) {
				t.Errorf("%s NewRequest(%+v) header %s = %q; want %q (empty: absent)", c.p.Name(), c.r, k, got, v)
			}
		}
	}
}

func TestNewRequestErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		r    Request
		want string
	}{
		{Request{Op: results.OpFindBooking, PersonID: "P1"}, "profile v1 has no find_booking operation"},
		{Request{Op: "dance"}, `unknown operation "dance"`},
	} {
		if _, err := V1().NewRequest(context.Background(), "http://t", &c.r); err == nil || err.Error() != c.want {
			t.Errorf("NewRequest(%+v) = %v; want %q", c.r, err, c.want)
		}
	}
}

func TestDecode(t *testing.T) {
	t.Parallel()
	other := mustLoad(t, otherShapeFile)
	custom, err := Parse("custom.yaml", []byte(minimal+`retry_after:
  - body: wait_s
  - header: X-Wait-Ms
    unit: ms
error_code: error.code
outcomes:
  - kind: sold_out
    status: 200
    when: {path: status, equals: FULL}
    ops: [book]
  - kind: throttled
    status: [429, 503]
    when: {path: error.retry}
    retry_after: [{body: error.retry, unit: ms}]
  - kind: already_booked
    status: 409
    when: {path: error.code, equals: 7}
`))
	if err != nil {
		t.Fatal(err)
	}
	book := Request{Op: results.OpBook}
	slots := Request{Op: results.OpListSlots}
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, c := range []struct {
		name   string
		p      *Profile
		r      Request
		status int
		h      http.Header
		body   string
		want   Answer
	}{
		{"410 FULL", other, book, 410, nil, `{"reason":"FULL"}`, Answer{Kind: KindSoldOut, Code: "FULL"}},
		{"410 UNKNOWN_CENTRE on slots", other, slots, 410, nil, `{"reason":"UNKNOWN_CENTRE"}`, Answer{Kind: KindNotFound, Code: "UNKNOWN_CENTRE"}},
		{"410 UNKNOWN_CENTRE on book (rule for slots only)", other, book, 410, nil, `{"reason":"UNKNOWN_CENTRE"}`, Answer{Kind: KindUnexpected, Code: "UNKNOWN_CENTRE"}},
		{"503 BUSY", other, book, 503, hdr("Retry-After", "9"), `{"reason":"BUSY","retry_in_ms":250}`, Answer{Kind: KindThrottled, Code: "BUSY", RetryAfter: 250 * time.Millisecond}},
		{"503 BUSY without advice falls back", other, book, 503, hdr("Retry-After", "9"), `{"reason":"BUSY"}`, Answer{Kind: KindThrottled, Code: "BUSY", RetryAfter: 9 * time.Second}},
		{"503 other", other, book, 503, nil, `<html>`, Answer{Kind: KindOverloaded}},
		{"422 DUPLICATE", other, book, 422, nil, `{"reason":"DUPLICATE"}`, Answer{Kind: KindAlreadyBooked, Code: "DUPLICATE"}},
		{"422 other", other, book, 422, nil, `{"reason":"BAD"}`, Answer{Kind: KindRejected, Code: "BAD"}},
		{"401 NO_PASS", other, book, 401, nil, `{"reason":"NO_PASS"}`, Answer{Kind: KindNotAdmitted, Code: "NO_PASS"}},
		{"200 reservation", other, book, 200, nil, `{"reservation":{"ref":"R-9"}}`, Answer{Kind: KindOK, BookingID: "R-9"}},
		{"200 without a ref", other, book, 200, nil, `{"reservation":{}}`, Answer{Kind: KindOK, Err: errNoID}},
		{"200 FULL is sold out", custom, book, 200, nil, `{"status":"FULL"}`, Answer{Kind: KindSoldOut}},
		{"200 FULL on slots is ok", custom, slots, 200, nil, `{"status":"FULL","items":[]}`, Answer{Kind: KindOK, Slots: []Slot{}}},
		{"slots", custom, slots, 200, nil, `{"items":[{"date":"2021-06-07","left":"4"}]}`,
			Answer{Kind: KindOK, Slots: []Slot{{Date: models.Date{Year: 2021, Month: 6, Day: 7}, Remaining: 4}}}},
		{"slot without a date", custom, slots, 200, nil, `{"items":[{"left":4}]}`, Answer{Kind: KindOK, Slots: []Slot{}, Err: errBadSlot}},
		{"slots not a list", custom, slots, 200, nil, `{"items":{}}`, Answer{Kind: KindOK, Err: errNoList}},
		{"429 with body advice in ms", custom, book, 429, nil, `{"error":{"retry":"1500","code":"x"}}`, Answer{Kind: KindThrottled, Code: "x", RetryAfter: 1500 * time.Millisecond}},
		{"503 with body advice", custom, book, 503, nil, `{"error":{"retry":20}}`, Answer{Kind: KindThrottled, RetryAfter: 20 * time.Millisecond}},
		{"429 global body advice in s", custom, book, 429, nil, `{"wait_s":0.5}`, Answer{Kind: KindThrottled, RetryAfter: 500 * time.Millisecond}},
		{"429 global header advice in ms", custom, book, 429, hdr("X-Wait-Ms", "30"), `{"wait_s":"soon"}`, Answer{Kind: KindThrottled, RetryAfter: 30 * time.Millisecond}},
		{"advice is capped", custom, book, 429, nil, `{"wait_s":1e300}`, Answer{Kind: KindThrottled, RetryAfter: maxRetryAfter}},
		{"negative advice is none", custom, book, 429, nil, `{"wait_s":-3}`, Answer{Kind: KindThrottled}},
		{"numbers match as text", custom, book, 409, nil, `{"error":{"code":7}}`, Answer{Kind: KindAlreadyBooked, Code: "7"}},
		{"409 unnamed is unexpected", custom, book, 409, nil, `{"error":{"code":8}}`, Answer{Kind: KindUnexpected, Code: "8"}},
		{"status 700", custom, book, 700, nil, ``, Answer{Kind: KindUnexpected}},
	} {
		h := c.h
		if h == nil {
			h = http.Header{}
		}
		got := c.p.Decode(&c.r, c.status, h, []byte(c.body))
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Decode = %+v; want %+v", c.name, got, c.want)
		}
	}
}

func TestDefaultKind(t *testing.T) {
	t.Parallel()
	for st, want := range map[int]Kind{
		200: KindOK, 201: KindOK, 299: KindOK, 429: KindThrottled, 503: KindOverloaded, 500: KindServerError,
		599: KindServerError, 404: KindNotFound, 400: KindRejected, 403: KindRejected, 405: KindRejected,
		413: KindRejected, 422: KindRejected, 409: KindUnexpected, 401: KindUnexpected, 302: KindUnexpected,
		100: KindUnexpected, 600: KindUnexpected, 0: KindUnexpected,
	} {
		if got := DefaultKind(st); got != want {
			t.Errorf("DefaultKind(%d) = %v; want %v", st, got, want)
		}
	}
}

// Templates in the fast form render exactly as text/template renders them.
func TestTemplateFastFormMatchesTextTemplate(t *testing.T) {
	t.Parallel()
	reqs := []Request{
		sample,
		{},
		{Op: "book", PPV: "a b/c?d%e", Date: models.Date{Year: 987, Month: 1, Day: 2}, State: `"quoted" & <tagged>`, PersonID: "ü", Token: "t\\k"},
	}
	for _, src := range []string{
		"", "plain", "/x/{{.PPV}}/y/{{.Ticket}}", "Bearer {{.Token}}", "{{.Date}}", "{{.Op}}{{.State}}{{.BookingID}}{{.IdempotencyKey}}",
		`{"a":{{json .PersonID}},"d":{{json .Date}},"s":{{json .State}}}`,
	} {
		for _, esc := range []escaping{escapeNone, escapePath} {
			fast, err := newTemplate("t", src, esc)
			if err != nil {
				t.Fatal(err)
			}
			if fast.t != nil {
				t.Errorf("template %q is not in the fast form", src)
				continue
			}
			slow := &tmpl{src: src, esc: esc, t: mustTextTemplate(t, src)}
			for _, r := range reqs {
				a, err1 := fast.appendTo(nil, &r)
				b, err2 := slow.appendTo(nil, &r)
				if err1 != nil || err2 != nil || string(a) != string(b) {
					t.Errorf("template %q (escaping %d) for %+v: fast %q (%v), text/template %q (%v)", src, esc, r, a, err1, b, err2)
				}
			}
		}
	}
}

func mustTextTemplate(t *testing.T, src string) *templateT {
	t.Helper()
	tt, err := newTextTemplate("t", src)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// Templates beyond the fast form work too, by text/template.
func TestTemplateSlowForm(t *testing.T) {
	t.Parallel()
	tp, err := newTemplate("t", `{{if .Token}}Bearer {{.Token}}{{else}}none{{end}} {{printf "%.3s" .PersonID}}`, escapeNone)
	if err != nil || tp.t == nil {
		t.Fatalf("newTemplate = %+v, %v; want the text/template form", tp, err)
	}
	for r, want := range map[Request]string{{Token: "k", PersonID: "P12345"}: "Bearer k P12", {PersonID: "Q"}: "none Q"} {
		if got, err := tp.appendTo(nil, &r); err != nil || string(got) != want {
			t.Errorf("render for %+v = %q, %v; want %q", r, got, err, want)
		}
	}
}

// TestStepOperation maps a journey step onto a profile's step operation:
// the v1 profile posts to /api/v1/steps/NAME, a profile of its own may
// use .StepPath as it is.
func TestStepOperation(t *testing.T) {
	t.Parallel()
	own, err := Parse("own.yaml", []byte("name: own\noperations:\n  list_ppvs: {path: /p, read: {list: a, id: b}}\n  list_slots: {path: /s, read: {list: a, date: d, remaining: r}}\n  book: {method: POST, path: /b, read: {id: i}}\n  step: {method: POST, path: \"/auth{{.StepPath}}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    *Profile
		want string
	}{
		{"v1", V1(), "http://h/api/v1/steps/otp"},
		{"own", own, "http://h/auth/x/otp"},
	} {
		r := Request{Op: results.OpStep, Step: "otp", StepPath: "/x/otp", PersonID: "p"}
		req, err := tc.p.NewRequest(context.Background(), "http://h", &r)
		if err != nil {
			t.Fatalf("%s: NewRequest: %v", tc.name, err)
		}
		if got := req.URL.String(); got != tc.want || req.Method != "POST" {
			t.Errorf("%s: step request = %s %s; want POST %s", tc.name, req.Method, got, tc.want)
		}
	}
}
