package refserver

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/models"
)

// TestServerBadInput: every malformed request gets the right status and a JSON
// error body with its code, and leaves the store unchanged.
func TestServerBadInput(t *testing.T) {
	t.Parallel()
	inv := models.SmallInventory()
	ts := startServer(t, "per-ppv-day", models.Limits{}, inv, "")
	ok := ts.book(t, "ali", "um", inv.Slots[6].Date, "").booking(t)
	before := ts.audit(t)

	const good = `{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07"}`
	jsonCT := map[string]string{"Content-Type": "application/json"}
	huge := `{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07"` + strings.Repeat(" ", MaxBodyBytes) + `}`
	for _, tt := range []struct {
		name, method, path string
		body               string
		header             map[string]string
		chunked            bool // send without Content-Length
		status             int
		code               string
		allow              string
	}{
		{"malformed JSON", "POST", "/api/v1/bookings", `{"person_id":`, jsonCT, false, 400, "invalid_json", ""},
		{"bad token", "POST", "/api/v1/bookings", `{"person_id":"p1",}`, jsonCT, false, 400, "invalid_json", ""},
		{"empty body", "POST", "/api/v1/bookings", ``, jsonCT, false, 400, "invalid_json", ""},
		{"array", "POST", "/api/v1/bookings", `[` + good + `]`, jsonCT, false, 400, "invalid_json", ""},
		{"string", "POST", "/api/v1/bookings", `"hello"`, jsonCT, false, 400, "invalid_json", ""},
		{"trailing object", "POST", "/api/v1/bookings", good + `{}`, jsonCT, false, 400, "invalid_json", ""},
		{"trailing garbage", "POST", "/api/v1/bookings", good + ` x`, jsonCT, false, 400, "invalid_json", ""},
		{"missing field", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl"}`, jsonCT, false, 400, "invalid_request", ""},
		{"empty field", "POST", "/api/v1/bookings", `{"person_id":"","ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"null field", "POST", "/api/v1/bookings", `{"person_id":null,"ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"number field", "POST", "/api/v1/bookings", `{"person_id":7,"ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"object field", "POST", "/api/v1/bookings", `{"person_id":{},"ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"unknown field", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07","vip":true}`, jsonCT, false, 400, "invalid_request", ""},
		{"field case", "POST", "/api/v1/bookings", `{"Person_ID":"p1","ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"duplicate field", "POST", "/api/v1/bookings", `{"person_id":"p1","person_id":"p2","ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"control character", "POST", "/api/v1/bookings", `{"person_id":"p\u0000","ppv":"wtc-kl","date":"2021-06-07"}`, jsonCT, false, 400, "invalid_request", ""},
		{"no such day", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl","date":"2021-02-30"}`, jsonCT, false, 400, "invalid_request", ""},
		{"short date", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl","date":"2021-6-7"}`, jsonCT, false, 400, "invalid_request", ""},
		{"timestamp date", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07T00:00:00Z"}`, jsonCT, false, 400, "invalid_request", ""},
		{"unknown PPV", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"atlantis","date":"2021-06-07"}`, jsonCT, false, 400, "unknown_ppv", ""},
		{"no slot that day", "POST", "/api/v1/bookings", `{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-10"}`, jsonCT, false, 400, "no_slot", ""},
		{"huge body", "POST", "/api/v1/bookings", huge, jsonCT, false, 413, "body_too_large", ""},
		{"huge chunked body", "POST", "/api/v1/bookings", huge, jsonCT, true, 413, "body_too_large", ""},
		{"no content type", "POST", "/api/v1/bookings", good, nil, false, 415, "unsupported_media_type", ""},
		{"text content type", "POST", "/api/v1/bookings", good, map[string]string{"Content-Type": "text/plain"}, false, 415, "unsupported_media_type", ""},
		{"latin1 charset", "POST", "/api/v1/bookings", good, map[string]string{"Content-Type": "application/json; charset=latin1"}, false, 415, "unsupported_media_type", ""},
		{"long idempotency key", "POST", "/api/v1/bookings", good, map[string]string{"Content-Type": "application/json", "Idempotency-Key": strings.Repeat("k", 256)}, false, 400, "invalid_request", ""},
		{"PUT bookings", "PUT", "/api/v1/bookings", good, jsonCT, false, 405, "method_not_allowed", "POST"},
		{"GET bookings", "GET", "/api/v1/bookings", "", nil, false, 405, "method_not_allowed", "POST"},
		{"DELETE a booking", "DELETE", "/api/v1/bookings/" + ok.ID, "", nil, false, 405, "method_not_allowed", "GET, HEAD"},
		{"POST ppvs", "POST", "/api/v1/ppvs", good, jsonCT, false, 405, "method_not_allowed", "GET, HEAD"},
		{"POST slots", "POST", "/api/v1/ppvs/wtc-kl/slots", good, jsonCT, false, 405, "method_not_allowed", "GET, HEAD"},
		{"unknown path", "GET", "/api/v2/bookings", "", nil, false, 404, "not_found", ""},
		{"unknown PPV slots", "GET", "/api/v1/ppvs/atlantis/slots", "", nil, false, 404, "not_found", ""},
		{"unknown booking", "GET", "/api/v1/bookings/b0-NOPE", "", nil, false, 404, "not_found", ""},
		{"garbage booking id", "GET", "/api/v1/bookings/zzz", "", nil, false, 404, "not_found", ""},
		{"out of range booking id", "GET", "/api/v1/bookings/bzz-X", "", nil, false, 404, "not_found", ""},
		{"bad from", "GET", "/api/v1/ppvs/wtc-kl/slots?from=tomorrow", "", nil, false, 400, "invalid_request", ""},
		{"from after to", "GET", "/api/v1/ppvs/wtc-kl/slots?from=2021-06-09&to=2021-06-08", "", nil, false, 400, "invalid_request", ""},
		{"unknown query", "GET", "/api/v1/ppvs/wtc-kl/slots?day=2021-06-09", "", nil, false, 400, "invalid_request", ""},
		{"repeated query", "GET", "/api/v1/ppvs?state=a&state=b", "", nil, false, 400, "invalid_request", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				if tt.chunked {
					body = io.MultiReader(body) // hides the length: sent chunked
				}
			}
			r := ts.do(t, tt.method, tt.path, body, tt.header)
			var e map[string]string
			if err := json.Unmarshal(r.body, &e); err != nil {
				t.Fatalf("%s %s: body %q is not JSON: %v", tt.method, tt.path, r.body, err)
			}
			if r.status != tt.status || e["error"] != tt.code || e["message"] == "" || len(e) != 2 {
				t.Errorf("%s %s = %d %s; want %d with error %q and a message", tt.method, tt.path, r.status, r.body, tt.status, tt.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q; want application/json", ct)
			}
			if r.header.Get("Allow") != tt.allow {
				t.Errorf("Allow = %q; want %q", r.header.Get("Allow"), tt.allow)
			}
		})
	}
	counts := func(a *Audit) [6]int64 {
		return [6]int64{a.Capacity, a.Booked, a.Oversold, a.Bookings, a.CounterMismatches, a.DuplicatePersons}
	}
	if after := ts.audit(t); counts(after) != counts(before) || after.Bookings != 1 {
		t.Errorf("audit after bad input = %+v; want unchanged %+v", after, before)
	}
	if r := ts.book(t, "p1", "wtc-kl", inv.Slots[0].Date, ""); r.status != http.StatusCreated {
		t.Errorf("good booking after bad input: %d %s", r.status, r.body)
	}
}
