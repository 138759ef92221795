package profile

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"
)

// fuzzRequests are requests of every operation, for profiles the fuzzer
// made to build.
var fuzzRequests = []Request{
	{Op: results.OpListPPVs, State: "S t", ReadList: true},
	{Op: results.OpListSlots, PPV: "a/b"},
	{Op: results.OpBook, PPV: "A", Date: models.Date{Year: 2021, Month: 6, Day: 7}, PersonID: `P"1`, IdempotencyKey: "k", Token: "t"},
	{Op: results.OpQueue, PersonID: "P1"},
	{Op: results.OpQueue, PersonID: "P1", Ticket: "T1"},
	{Op: results.OpGetBooking, BookingID: "B1"},
	{Op: results.OpFindBooking, PersonID: "P1"},
	{Op: results.OpStep, Step: "o/tp", StepPath: "/auth/otp", PersonID: "P1"},
}

// FuzzParse checks that Parse never panics, that every error it returns is
// an ErrorList whose entries all name a position in the file, and that a
// profile it accepts is compiled: it builds a valid request for every
// operation it maps and decodes any answer.
func FuzzParse(f *testing.F) {
	f.Add(V1Source())
	f.Add([]byte("name: s\noperations:\n  list_ppvs: {path: /p, read: {list: a, id: b}}\n  list_slots: {path: /s, read: {list: a, date: d, remaining: r}}\n  book: {method: POST, path: /b, read: {id: i}}\n  step: {method: POST, path: \"/auth{{.StepPath}}\", body: '{\"s\":{{json .Step}}}'}\n"))
	if data, err := os.ReadFile(otherShapeFile); err == nil {
		f.Add(data)
	}
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(minimal))
	f.Add([]byte(minimal + "outcomes: [{kind: throttled, status: [429, 503], when: {path: a.b, equals: 1}, retry_after: [{body: r, unit: ms}]}]\n"))
	f.Add([]byte("a: &a [*a, *a]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("operations: {list_ppvs: {path: '/{{range .}}'}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
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
		if !p.Has(results.OpListPPVs) || !p.Has(results.OpListSlots) || !p.Has(results.OpBook) {
			t.Fatalf("accepted a profile without list_ppvs, list_slots or book")
		}
		for i := range fuzzRequests {
			r := fuzzRequests[i]
			req, err := p.NewRequest(context.Background(), "http://target.test/base", &r)
			if err != nil {
				if p.Has(r.Op) {
					// A template may still fail on values other than the
					// samples (say, printf of a missing argument), but
					// never with a panic.
					continue
				}
				continue
			}
			if req.URL.Host != "target.test" || !strings.HasPrefix(req.URL.Path, "/base/") {
				t.Fatalf("%s request to %s; want under http://target.test/base/", r.Op, req.URL)
			}
			for _, st := range []int{200, 409, 429, 503, 700} {
				p.Decode(&r, st, http.Header{"Retry-After": {"3"}}, data)
				p.Decode(&r, st, http.Header{}, []byte(`{"id":"x","items":[{"date":"2021-06-07"}]}`))
			}
		}
	})
}

// FuzzDecode checks that decoding any answer with the shipped profiles
// never panics, that an answer's kind is one a profile can state, and that
// an ok answer without an error holds what its operation reads.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(2), 201, []byte(`{"id":"b-1","person_id":"P1","ppv":"A","date":"2021-06-07"}`), "")
	f.Add(uint8(1), 200, []byte(`[{"date":"2021-06-07","capacity":10,"remaining":3}]`), "")
	f.Add(uint8(3), 200, []byte(`{"ticket":"t","state":"admitted","token":"k"}`), "1")
	f.Add(uint8(2), 410, []byte(`{"reason":"FULL"}`), "")
	f.Add(uint8(2), 503, []byte(`{"reason":"BUSY","retry_in_ms":1e308}`), "-1")
	f.Add(uint8(1), 200, []byte(`{"data":{"items":[{"day":"x"},{"day":"2021-02-30"}]}}`), "")
	profiles := []*Profile{V1()}
	if p, err := Load(otherShapeFile); err == nil {
		profiles = append(profiles, p)
	}
	f.Fuzz(func(t *testing.T, op uint8, status int, body []byte, retry string) {
		for _, p := range profiles {
			r := fuzzRequests[int(op)%len(fuzzRequests)]
			a := p.Decode(&r, status, http.Header{"Retry-After": {retry}, "Retry-After-Ms": {retry}}, body)
			if a.Kind == KindUnset || a.Kind == KindTransport || a.RetryAfter < 0 || a.RetryAfter > maxRetryAfter {
				t.Fatalf("%s: Decode(%s, %d) = kind %v, advice %v", p.Name(), r.Op, status, a.Kind, a.RetryAfter)
			}
			if a.Kind != KindOK || a.Err != nil {
				continue
			}
			switch i, _ := opIndex(r.Op, r.Ticket); i {
			case opBook:
				if a.BookingID == "" {
					t.Fatalf("%s: ok booking without an id", p.Name())
				}
			case opQueueJoin, opQueuePoll:
				if a.Ticket == "" {
					t.Fatalf("%s: ok queue answer without a ticket", p.Name())
				}
			case opGetBooking, opFindBooking:
				if a.Booking == nil || a.Booking.ID == "" {
					t.Fatalf("%s: ok booking answer without an id", p.Name())
				}
			case opListSlots:
				for _, s := range a.Slots {
					if s.Date.IsZero() {
						t.Fatalf("%s: slot without a date", p.Name())
					}
				}
			}
		}
	})
}
