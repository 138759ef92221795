package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
	"github.com/slotrush/slotrush/sim/profile"
	"github.com/slotrush/slotrush/sim/profile/profiletest"
)

// v1Canned answers every call of API v1 with a fixed body, as fast as a
// handler can: the client's own cost dominates what a benchmark measures.
func v1Canned() http.Handler {
	slots := `[{"date":"2021-06-07","capacity":100,"remaining":10},{"date":"2021-06-08","capacity":100,"remaining":0},` +
		`{"date":"2021-06-09","capacity":100,"remaining":5},{"date":"2021-06-10","capacity":100,"remaining":7}]`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/ppvs":
			_, _ = w.Write([]byte(`[{"id":"PPV1","name":"One","state":"Selangor"}]`))
		case strings.HasSuffix(r.URL.Path, "/slots"):
			_, _ = w.Write([]byte(slots))
		case r.URL.Path == "/api/v1/bookings" && r.Header.Get("Idempotency-Key") == "throttle":
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Retry-After-Ms", "250")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"error":"throttled","message":"slow down"}`))
		case r.URL.Path == "/api/v1/bookings":
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write([]byte(`{"id":"b-1","person_id":"P1","ppv":"PPV1","date":"2021-06-07","created_at":"2021-05-26T10:00:00Z"}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"not_found","message":"no such thing"}`))
		}
	})
}

// BenchmarkClientDo measures Client.Do against a canned API v1 server on
// loopback, with as many concurrent callers as a crowd's users: the
// generator's maximum rate per operation. Each operation runs through the
// v1 profile (impl=profile) and, as the peer it is compared with in the
// same run, through the hand-written v1 client it replaced (impl=legacy):
// benchstat -col /impl gives the ratio.
func BenchmarkClientDo(b *testing.B) {
	hs := httptest.NewServer(v1Canned())
	defer hs.Close()
	c, err := NewClient(hs.URL, NewTransport(), 0)
	if err != nil {
		b.Fatal(err)
	}
	legacy := &http.Client{Transport: NewTransport()}
	d := models.Date{Year: 2021, Month: 6, Day: 7}
	for _, bc := range []struct {
		name   string
		req    Request
		status int
	}{
		{"list_ppvs", Request{Op: results.OpListPPVs, State: "Selangor"}, 200},
		{"list_slots", Request{Op: results.OpListSlots, PPV: "PPV1"}, 200},
		{"book", Request{Op: results.OpBook, PPV: "PPV1", Date: d, PersonID: "P1", IdempotencyKey: "P1-1"}, 201},
		{"throttled", Request{Op: results.OpBook, PPV: "PPV1", Date: d, PersonID: "P1", IdempotencyKey: "throttle"}, 429},
	} {
		impls := []struct {
			name string
			do   func(context.Context, Request) Response
		}{
			{"profile", c.Do},
			{"legacy", func(ctx context.Context, r Request) Response { return legacyDo(ctx, legacy, hs.URL, r) }},
		}
		for _, impl := range impls {
			b.Run("op="+bc.name+"/impl="+impl.name, func(b *testing.B) {
				b.ReportAllocs()
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					ctx := context.Background()
					for pb.Next() {
						if resp := impl.do(ctx, bc.req); resp.Status != bc.status || resp.Err != nil {
							b.Errorf("Do(%+v) = %d, %v; want %d", bc.req, resp.Status, resp.Err, bc.status)
							return
						}
					}
				})
			})
		}
	}
}

// legacyDo is Client.Do as it was before API profiles: the hand-written v1
// request and decoder, over hc.
func legacyDo(ctx context.Context, hc *http.Client, base string, r Request) Response {
	req, err := legacyV1Request(base, r)
	if err != nil {
		return Response{Err: err}
	}
	res, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		return Response{Err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Response{Err: err}
	}
	return legacyV1Decode(r, res.StatusCode, res.Header, data)
}

// cannedTransport answers every request with status, header and body
// without a network: what remains is the client's own cost.
type cannedTransport struct {
	status int
	header http.Header
	body   []byte
}

func (t *cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: t.status, Header: t.header, Body: io.NopCloser(bytes.NewReader(t.body)), Request: r}, nil
}

// BenchmarkClientCost measures what Client.Do itself costs per request,
// building the request and reading the answer, over a transport that
// answers at once: the share of the generator's CPU the client takes.
func BenchmarkClientCost(b *testing.B) {
	d := models.Date{Year: 2021, Month: 6, Day: 7}
	slots := []byte(`[{"date":"2021-06-07","capacity":100,"remaining":10},{"date":"2021-06-08","capacity":100,"remaining":0},` +
		`{"date":"2021-06-09","capacity":100,"remaining":5},{"date":"2021-06-10","capacity":100,"remaining":7}]`)
	for _, bc := range []struct {
		name string
		req  Request
		tr   *cannedTransport
	}{
		{"list_ppvs", Request{Op: results.OpListPPVs, State: "Selangor"},
			&cannedTransport{200, http.Header{}, []byte(`[{"id":"PPV1","name":"One","state":"Selangor"}]`)}},
		{"list_slots", Request{Op: results.OpListSlots, PPV: "PPV1"}, &cannedTransport{200, http.Header{}, slots}},
		{"book", Request{Op: results.OpBook, PPV: "PPV1", Date: d, PersonID: "P1", IdempotencyKey: "P1-1", Token: "tok"},
			&cannedTransport{201, http.Header{}, []byte(`{"id":"b-1","person_id":"P1","ppv":"PPV1","date":"2021-06-07","created_at":"2021-05-26T10:00:00Z"}`)}},
		{"throttled", Request{Op: results.OpBook, PPV: "PPV1", Date: d, PersonID: "P1", IdempotencyKey: "P1-1"},
			&cannedTransport{429, http.Header{"Retry-After": {"1"}, "Retry-After-Ms": {"250"}}, []byte(`{"error":"throttled","message":"slow down"}`)}},
	} {
		c, err := NewClient("http://fake.test", bc.tr, 0)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			for b.Loop() {
				if resp := c.Do(ctx, bc.req); resp.Status != bc.tr.status || resp.Err != nil {
					b.Fatalf("Do(%+v) = %d, %v; want %d", bc.req, resp.Status, resp.Err, bc.tr.status)
				}
			}
		})
	}
}

// legacyV1Request is how the client built API v1 requests before API
// profiles (sim/client.go up to commit 1e58ca0), kept as the oracle the
// built-in v1 profile must agree with.
func legacyV1Request(base string, r Request) (*http.Request, error) {
	var req *http.Request
	var err error
	switch r.Op {
	case results.OpListPPVs:
		u := base + "/api/v1/ppvs"
		if r.State != "" {
			u += "?state=" + url.QueryEscape(r.State)
		}
		req, err = http.NewRequest(http.MethodGet, u, http.NoBody)
	case results.OpListSlots:
		req, err = http.NewRequest(http.MethodGet, base+"/api/v1/ppvs/"+url.PathEscape(r.PPV)+"/slots", http.NoBody)
	case results.OpBook:
		body, _ := json.Marshal(api.BookingRequest{PersonID: r.PersonID, PPV: r.PPV, Date: r.Date})
		req, err = http.NewRequest(http.MethodPost, base+"/api/v1/bookings", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			if r.IdempotencyKey != "" {
				req.Header.Set("Idempotency-Key", r.IdempotencyKey)
			}
		}
	case results.OpGetBooking:
		req, err = http.NewRequest(http.MethodGet, base+"/api/v1/bookings/"+url.PathEscape(r.BookingID), http.NoBody)
	case results.OpQueue:
		if r.Ticket == "" {
			body, _ := json.Marshal(api.QueueRequest{PersonID: r.PersonID})
			req, err = http.NewRequest(http.MethodPost, base+"/api/v1/queue", bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		} else {
			req, err = http.NewRequest(http.MethodGet, base+"/api/v1/queue/"+url.PathEscape(r.Ticket), http.NoBody)
		}
	default:
		return nil, fmt.Errorf("unknown operation %q", r.Op)
	}
	if err != nil {
		return nil, err
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	return req, nil
}

// legacyV1Decode is how the client read API v1 answers before API
// profiles: the oracle of the built-in v1 profile's decoding.
func legacyV1Decode(r Request, status int, h http.Header, data []byte) Response {
	out := Response{Status: status}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			out.RetryAfter = time.Duration(ms) * time.Millisecond
		}
	}
	if v := h.Get("Retry-After"); v != "" && out.RetryAfter == 0 {
		if s, err := strconv.Atoi(v); err == nil && s > 0 {
			out.RetryAfter = time.Duration(s) * time.Second
		}
	}
	switch {
	case status >= 200 && status < 300:
		switch r.Op {
		case results.OpListPPVs:
			if r.ReadList && json.Unmarshal(data, &out.PPVs) != nil {
				out.Err = errors.New("bad centres body")
			}
		case results.OpGetBooking:
			var b models.Booking
			if err := json.Unmarshal(data, &b); err != nil || b.ID == "" {
				out.Err = errors.New("bad booking body")
			} else {
				out.Booking = &b
			}
		case results.OpListSlots:
			if err := json.Unmarshal(data, &out.Slots); err != nil {
				out.Err = errors.New("bad slots body")
			}
		case results.OpBook:
			var b struct {
				ID string `json:"id"`
			}
			err := json.Unmarshal(data, &b)
			out.BookingID = b.ID
			if err != nil || b.ID == "" {
				out.Err = errors.New("bad booking body")
			}
		case results.OpQueue:
			var q api.QueueStatus
			err := json.Unmarshal(data, &q)
			out.Ticket, out.Token, out.Admitted = q.Ticket, q.Token, q.State == api.StateAdmitted
			if err != nil || q.Ticket == "" {
				out.Err = errors.New("bad queue body")
			}
		}
	case status >= 400:
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e)
		out.Code = e.Error
	}
	return out
}

// v1Requests are requests of every operation, with values that need
// escaping in paths, queries and JSON.
func v1Requests() []Request {
	d := models.Date{Year: 2021, Month: 6, Day: 7}
	var out []Request
	for _, s := range []string{"plain", "with space", `q"uote/slash?&=#%`, "ünïcode", ""} {
		out = append(out,
			Request{Op: results.OpListPPVs, State: s},
			Request{Op: results.OpListPPVs, State: s, Token: "tok-" + s, ReadList: true},
			Request{Op: results.OpListSlots, PPV: s},
			Request{Op: results.OpListSlots, PPV: s, Token: "t"},
			Request{Op: results.OpBook, PPV: s, Date: d, PersonID: "P-" + s, IdempotencyKey: s},
			Request{Op: results.OpBook, PPV: s, Date: d, PersonID: s, IdempotencyKey: "k", Token: "tok"},
			Request{Op: results.OpQueue, PersonID: s},
			Request{Op: results.OpQueue, PersonID: "p", Ticket: s + "t"},
			Request{Op: results.OpGetBooking, BookingID: s + "b"},
		)
	}
	return out
}

// The built-in v1 profile builds, for every operation, the very request
// the client built before API profiles: method, URL, headers and body.
func TestClientV1RequestsMatchLegacy(t *testing.T) {
	t.Parallel()
	var got *http.Request
	var gotBody []byte
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r
		gotBody, _ = io.ReadAll(r.Body)
		return &http.Response{StatusCode: 204, Body: http.NoBody, Request: r}, nil
	})
	const base = "http://target.test:8080/prefix"
	c, err := NewClient(base+"/", rt, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v1Requests() {
		want, err := legacyV1Request(base, r)
		if err != nil {
			t.Fatal(err)
		}
		wantBody, _ := io.ReadAll(want.Body)
		if resp := c.Do(context.Background(), r); resp.Status != 204 {
			t.Fatalf("Do(%+v) = %d, %v; want it sent", r, resp.Status, resp.Err)
		}
		if got.Method != want.Method || got.URL.String() != want.URL.String() {
			t.Errorf("Do(%+v) sent %s %s; want %s %s", r, got.Method, got.URL, want.Method, want.URL)
		}
		if g, w := got.Header.Clone(), want.Header; !reflect.DeepEqual(g, w) {
			t.Errorf("Do(%+v) sent headers %v; want %v", r, g, w)
		}
		if !jsonEqual(gotBody, wantBody) {
			t.Errorf("Do(%+v) sent body %s; want %s", r, gotBody, wantBody)
		}
		if got.ContentLength != want.ContentLength {
			t.Errorf("Do(%+v) sent Content-Length %d; want %d", r, got.ContentLength, want.ContentLength)
		}
	}
}

// jsonEqual reports whether a and b are the same JSON value, or the same
// bytes when either is not JSON.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

// The built-in v1 profile reads every answer of API v1 as the client did
// before API profiles, and its kinds are those Classify derives from the
// status and code alone (what the model engine's answers rely on).
func TestClientV1AnswersMatchLegacy(t *testing.T) {
	t.Parallel()
	d := models.Date{Year: 2021, Month: 6, Day: 7}
	book := Request{Op: results.OpBook, PPV: "A", Date: d, PersonID: "P1", IdempotencyKey: "P1-1"}
	errBody := func(code string) string { return `{"error":"` + code + `","message":"m"}` }
	ra := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	for _, c := range []struct {
		req    Request
		status int
		header http.Header
		body   string
	}{
		{Request{Op: results.OpListPPVs, State: "S"}, 200, nil, `[{"id":"A","name":"a","state":"S"}]`},
		{Request{Op: results.OpListPPVs, ReadList: true}, 200, nil, `[{"id":"A","name":"a","state":"S"},{"id":"B","name":"b","state":"T"}]`},
		{Request{Op: results.OpListPPVs, ReadList: true}, 200, nil, `[]`},
		{Request{Op: results.OpListSlots, PPV: "A"}, 200, nil, `[{"date":"2021-06-07","capacity":10,"remaining":3},{"date":"2021-06-08","capacity":10,"remaining":0}]`},
		{Request{Op: results.OpListSlots, PPV: "A"}, 200, nil, `[]`},
		{Request{Op: results.OpListSlots, PPV: "A"}, 404, nil, errBody("not_found")},
		{Request{Op: results.OpListSlots, PPV: "A"}, 429, ra("Retry-After", "2"), errBody("throttled")},
		{book, 201, nil, `{"id":"b-1","person_id":"P1","ppv":"A","date":"2021-06-07","created_at":"2021-05-26T10:00:00Z"}`},
		{book, 201, nil, `{"person_id":"P1"}`},
		{book, 201, nil, `not json`},
		{book, 409, nil, errBody("sold_out")},
		{book, 409, nil, errBody("already_booked")},
		{book, 409, nil, `<html>conflict</html>`},
		{book, 429, ra("Retry-After", "1", "Retry-After-Ms", "250"), errBody("throttled")},
		{book, 429, ra("Retry-After", "3"), errBody("throttled")},
		{book, 429, ra("Retry-After-Ms", "0", "Retry-After", "1"), errBody("throttled")},
		{book, 429, ra("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"), errBody("throttled")},
		{book, 503, ra("Retry-After", "1", "Retry-After-Ms", "40"), errBody("overloaded")},
		{book, 503, nil, errBody("not_open")},
		{book, 500, nil, errBody("internal")},
		{book, 502, nil, `bad gateway`},
		{book, 400, nil, errBody("bad_request")},
		{book, 403, nil, errBody("not_admitted")},
		{book, 413, nil, errBody("body_too_large")},
		{book, 401, nil, `{}`},
		{Request{Op: results.OpQueue, PersonID: "P1"}, 200, ra("Retry-After", "1"), `{"ticket":"t1","person_id":"P1","state":"waiting","position":3}`},
		{Request{Op: results.OpQueue, PersonID: "P1", Ticket: "t1"}, 200, nil, `{"ticket":"t1","person_id":"P1","state":"admitted","token":"tok"}`},
		{Request{Op: results.OpQueue, PersonID: "P1", Ticket: "t1"}, 200, nil, `{"state":"admitted"}`},
		{Request{Op: results.OpQueue, PersonID: "P1", Ticket: "zz"}, 404, nil, errBody("not_found")},
		{Request{Op: results.OpGetBooking, BookingID: "b-1"}, 200, nil, `{"id":"b-1","person_id":"P1","ppv":"A","date":"2021-06-07","created_at":"2021-05-26T10:00:00Z"}`},
		{Request{Op: results.OpGetBooking, BookingID: "b-1"}, 200, nil, `{"person_id":"P1"}`},
		{Request{Op: results.OpGetBooking, BookingID: "b-2"}, 404, nil, errBody("not_found")},
	} {
		tr := &cannedTransport{c.status, c.header, []byte(c.body)}
		if tr.header == nil {
			tr.header = http.Header{}
		}
		cl, err := NewClient("http://target.test", tr, 0)
		if err != nil {
			t.Fatal(err)
		}
		got := cl.Do(context.Background(), c.req)
		want := legacyV1Decode(c.req, c.status, tr.header, []byte(c.body))
		name := fmt.Sprintf("%s %d %s", c.req.Op, c.status, c.body)
		if (got.Err != nil) != (want.Err != nil) {
			t.Errorf("%s: Err %v; want %v", name, got.Err, want.Err)
		}
		if wk := want.Classify(); got.Kind != wk {
			t.Errorf("%s: Kind %v; want %v (derived from status and code)", name, got.Kind, wk)
		}
		got.Err, want.Err, got.Kind = nil, nil, KindUnset
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// otherShape starts a profiletest server shaped by cfg and returns it with
// a client speaking examples/profiles/other-shape.yaml to it.
func otherShape(t testing.TB, cfg profiletest.Config) (*profiletest.Server, *Client) {
	t.Helper()
	p, err := profile.Load("../examples/profiles/other-shape.yaml")
	if err != nil {
		t.Fatal(err)
	}
	srv := profiletest.NewServer(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, nil, 5*time.Second, WithProfile(p))
	if err != nil {
		t.Fatal(err)
	}
	if c.Profile() != p {
		t.Fatalf("Profile() = %v; want the one given", c.Profile())
	}
	return srv, c
}

// The client drives every operation of an API shaped unlike v1 through the
// example profile: the target's statuses are kept as they are, and each
// answer has the kind, code, retry advice and fields the profile reads.
func TestClientOtherShape(t *testing.T) {
	t.Parallel()
	d1, d2 := "2021-06-07", "2021-06-08"
	srv, c := otherShape(t, profiletest.Config{
		Centres: []profiletest.Centre{{Code: "A", Title: "Alpha", Region: "North"}, {Code: "B b", Title: "Beta", Region: "South"}},
		Days:    []string{d1, d2}, Capacity: 1, Lobby: true, AdmitAfter: 2,
	})
	ctx := context.Background()
	date := func(s string) models.Date { d, _ := models.ParseDate(s); return d }
	do := func(r Request, status int, kind Kind) Response {
		t.Helper()
		resp := c.Do(ctx, r)
		if resp.Status != status || resp.Kind != kind || (kind == KindOK && resp.Err != nil) {
			t.Fatalf("Do(%+v) = status %d, kind %v, err %v (code %q); want %d, %v", r, resp.Status, resp.Kind, resp.Err, resp.Code, status, kind)
		}
		return resp
	}
	if r := do(Request{Op: results.OpListPPVs, State: "North"}, 401, KindNotAdmitted); r.Code != "NO_PASS" {
		t.Errorf("code without a pass = %q; want NO_PASS", r.Code)
	}
	join := do(Request{Op: results.OpQueue, PersonID: "P1"}, 200, KindOK)
	if join.Ticket != "L-1" || join.Admitted || join.Token != "" || join.RetryAfter != time.Second {
		t.Errorf("join = %+v; want ticket L-1, waiting, Retry-After 1s", join)
	}
	poll := do(Request{Op: results.OpQueue, PersonID: "P1", Ticket: join.Ticket}, 200, KindOK)
	if !poll.Admitted || poll.Token != "key-L-1" || poll.RetryAfter != 0 {
		t.Errorf("poll = %+v; want admitted with key-L-1 and no advice", poll)
	}
	tok := poll.Token
	ppvs := do(Request{Op: results.OpListPPVs, State: "North", Token: tok, ReadList: true}, 200, KindOK)
	if want := []models.PPV{{ID: "A", Name: "Alpha", State: "North"}}; !reflect.DeepEqual(ppvs.PPVs, want) {
		t.Errorf("list_ppvs = %+v; want %+v", ppvs.PPVs, want)
	}
	slots := do(Request{Op: results.OpListSlots, PPV: "B b", Token: tok}, 200, KindOK)
	if want := []SlotView{{Date: date(d1), Capacity: 1, Remaining: 1}, {Date: date(d2), Capacity: 1, Remaining: 1}}; !reflect.DeepEqual(slots.Slots, want) {
		t.Errorf("list_slots = %+v; want %+v", slots.Slots, want)
	}
	do(Request{Op: results.OpListSlots, PPV: "nowhere", Token: tok}, 410, KindNotFound)
	book := Request{Op: results.OpBook, PPV: "A", Date: date(d1), PersonID: "P1", IdempotencyKey: "P1-1", Token: tok}
	if r := do(book, 200, KindOK); r.BookingID != "R-1" {
		t.Errorf("book: id %q; want R-1", r.BookingID)
	}
	if r := do(book, 200, KindOK); r.BookingID != "R-1" {
		t.Errorf("book replayed with the same key: id %q; want R-1 again", r.BookingID)
	}
	again := book
	again.Date, again.IdempotencyKey = date(d2), "P1-2"
	if r := do(again, 422, KindAlreadyBooked); r.Code != "DUPLICATE" {
		t.Errorf("second booking: code %q; want DUPLICATE", r.Code)
	}
	other := book
	other.PersonID, other.IdempotencyKey = "P2", "P2-1"
	if r := do(other, 410, KindSoldOut); r.Code != "FULL" {
		t.Errorf("full slot: code %q; want FULL", r.Code)
	}
	bad := book
	bad.PersonID, bad.IdempotencyKey = "", "x"
	do(bad, 400, KindRejected)
	want := &models.Booking{ID: "R-1", PersonID: "P1", PPV: "A", Date: date(d1)}
	if r := do(Request{Op: results.OpGetBooking, BookingID: "R-1", Token: tok}, 200, KindOK); !reflect.DeepEqual(r.Booking, want) {
		t.Errorf("get_booking = %+v; want %+v", r.Booking, want)
	}
	if r := do(Request{Op: results.OpFindBooking, PersonID: "P1", Token: tok}, 200, KindOK); !reflect.DeepEqual(r.Booking, want) {
		t.Errorf("find_booking = %+v; want %+v", r.Booking, want)
	}
	do(Request{Op: results.OpFindBooking, PersonID: "P2", Token: tok}, 404, KindNotFound)
	if st := srv.Stats(); st.Reserved != 1 || st.Replayed != 1 || st.Duplicate != 1 || st.Full != 1 {
		t.Errorf("server stats %+v; want 1 reserved, replayed, duplicate and full", st)
	}

	_, busy := otherShape(t, profiletest.Config{
		Centres: []profiletest.Centre{{Code: "A"}}, Days: []string{d1}, Capacity: 1, ThrottleEvery: 1, RetryInMs: 250,
	})
	r := busy.Do(ctx, Request{Op: results.OpBook, PPV: "A", Date: date(d1), PersonID: "P1", IdempotencyKey: "k"})
	if r.Status != 503 || r.Kind != KindThrottled || r.RetryAfter != 250*time.Millisecond || r.Code != "BUSY" {
		t.Errorf("busy: %+v; want 503 throttled with 250ms advice from the body", r)
	}
}

// A crowd books on an API shaped unlike v1, through the example profile,
// until every slot is sold out: each place is booked once, everyone else
// gives up because the slots are sold out (the 410s count as conflicts,
// not errors), and after each throttled answer the journey waits at least
// the body's retry advice.
func TestJourneyOtherShape(t *testing.T) {
	t.Parallel()
	const users, capacity, retryMs = 40, 3, 250
	centres := []profiletest.Centre{{Code: "A", Region: "R"}, {Code: "B", Region: "R"}, {Code: "C", Region: "R"}}
	days := []string{"2021-06-07", "2021-06-08"}
	srv, c := otherShape(t, profiletest.Config{Centres: centres, Days: days, Capacity: capacity, ThrottleEvery: 4, RetryInMs: retryMs})
	spec := scenarios.JourneySpec{
		Patience: time.Hour, Alternatives: 10,
		Retry: scenarios.RetrySpec{Backoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Jitter: 0.2, HonourRetryAfter: true},
	}
	orders := [][]string{{"A", "B", "C"}, {"B", "C", "A"}, {"C", "A", "B"}}
	start := time.Now()
	rec := NewRecorder(start, users)
	outcomes := make([]Action, users)
	ids := make([]string, users)
	var throttled, shortWaits int
	var mu sync.Mutex // guards throttled and shortWaits
	var wg sync.WaitGroup
	for i := range users {
		a := &scenarios.Arrival{Index: i, PersonID: fmt.Sprintf("P%03d", i), State: "R", PPVs: orders[i%3], WantsEarliest: i%2 == 0, Behaviour: scenarios.Patient, Seed: uint64(i)}
		wg.Go(func() {
			// The live engine's loop, without sleeping the waits: the
			// server's answers do not depend on time.
			rec.Arrived(i, start)
			j := NewJourney(a, PolicyFor(a.Behaviour, spec))
			act := j.Start()
			for !act.Done {
				resp := c.Do(context.Background(), act.Req)
				rec.Record(i, act.Req.Op, resp, time.Now(), time.Now())
				act = j.Next(resp, 0)
				if resp.Kind == KindThrottled {
					mu.Lock()
					throttled++
					if !act.Done && act.Wait < retryMs*time.Millisecond {
						shortWaits++
					}
					mu.Unlock()
				}
			}
			rec.Finished(i, act.Outcome, j, true, time.Since(start))
			outcomes[i], ids[i] = act, j.BookingID
		})
	}
	wg.Wait()

	places := len(centres) * len(days) * capacity
	booked := map[string]bool{}
	for i, act := range outcomes {
		switch {
		case act.Outcome == Booked:
			booked[ids[i]] = true
		case act.Outcome != GaveUp || act.Reason != "sold_out":
			t.Errorf("user %d ended %v (%s); want booked or gave up because sold out", i, act.Outcome, act.Reason)
		}
	}
	res := srv.Reservations()
	if len(booked) != places || len(res) != places {
		t.Errorf("%d users booked, server holds %d reservations; want %d each", len(booked), len(res), places)
	}
	for _, r := range res {
		if !booked[r.Ref] {
			t.Errorf("reservation %+v not booked by any journey", r)
		}
	}
	for _, cn := range centres {
		for _, d := range days {
			if n := srv.Free(cn.Code, d); n != 0 {
				t.Errorf("%s on %s: %d places left; want 0", cn.Code, d, n)
			}
		}
	}
	st := srv.Stats()
	t.Logf("server: %+v", st)
	if st.Busy == 0 || throttled != st.Busy || shortWaits != 0 {
		t.Errorf("%d throttled answers seen of %d sent, %d followed by a wait under %dms; want some, all seen, none", throttled, st.Busy, shortWaits, retryMs)
	}
	var d results.DesignResult
	if _, err := rec.Fill(&d); err != nil {
		t.Fatal(err)
	}
	var conflicts, errs, thr int64
	for _, p := range d.Timeline {
		conflicts, errs, thr = conflicts+p.Conflict, errs+p.Errors, thr+p.Throttled
	}
	if want := int64(st.Full + st.Duplicate); conflicts != want || d.Requests.ByStatus["410"] != int64(st.Full) {
		t.Errorf("timeline counts %d conflicts and by_status %d 410s; want %d and %d", conflicts, d.Requests.ByStatus["410"], want, st.Full)
	}
	if thr != int64(st.Busy) || errs != int64(st.Busy) || d.Requests.ByStatus["503"] != int64(st.Busy) {
		t.Errorf("timeline counts %d throttled and %d errors, by_status %d 503s; want %d each", thr, errs, d.Requests.ByStatus["503"], st.Busy)
	}
	if d.Users.Booked != int64(places) || d.Users.GaveUp != users-int64(places) {
		t.Errorf("users %+v; want %d booked and %d gave up", d.Users, places, users-places)
	}
}
