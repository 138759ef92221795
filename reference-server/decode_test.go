package refserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/slotrush/slotrush/models"
)

func TestDecodeBookingRequest(t *testing.T) {
	t.Parallel()
	want := BookingRequest{PersonID: "900101-14-5678", PPV: "wtc-kl", Date: models.Date{Year: 2021, Month: 6, Day: 7}}
	for _, tt := range []struct {
		in   string
		code Code // "" for accepted
	}{
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07"}`, ""},
		{" \n{ \"date\" : \"2021-06-07\", \"ppv\":\"wtc-kl\", \"person_id\":\"900101-14-5678\" }\n\t", ""},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07"`, CodeInvalidJSON},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07"}}`, CodeInvalidJSON},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07"}]`, CodeInvalidJSON},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07"} 1`, CodeInvalidJSON},
		{`null`, CodeInvalidJSON},
		{``, CodeInvalidJSON},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":"2021-06-07","x":1}`, CodeInvalidRequest},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":["2021-06-07"]}`, CodeInvalidRequest},
		{`{"person_id":"900101-14-5678","ppv":"wtc-kl","date":true}`, CodeInvalidRequest},
		{`{"person_id":" 9001","ppv":"wtc-kl","date":"2021-06-07"}`, CodeInvalidRequest},
		{`{"person_id":"` + strings.Repeat("9", 129) + `","ppv":"wtc-kl","date":"2021-06-07"}`, CodeInvalidRequest},
		{`{"person_id":"9001","ppv":"wtc-kl","date":"2021-13-01"}`, CodeInvalidRequest},
	} {
		got, err := DecodeBookingRequest(strings.NewReader(tt.in))
		var e *Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("DecodeBookingRequest(%q) = %v; want %+v", tt.in, err, want)
		case tt.code == "" && got != want:
			t.Errorf("DecodeBookingRequest(%q) = %+v; want %+v", tt.in, got, want)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
			t.Errorf("DecodeBookingRequest(%q) err = %v; want code %s", tt.in, err, tt.code)
		}
	}
	// Limited by an http.MaxBytesReader: 413.
	rec := httptest.NewRecorder()
	body := http.MaxBytesReader(rec, nopCloser{strings.NewReader(`{"person_id":"` + strings.Repeat("9", 100) + `"}`)}, 10)
	if _, err := DecodeBookingRequest(body); !errors.As(err, new(*Error)) || err.(*Error).Code != CodeBodyTooLarge {
		t.Errorf("oversized body: err = %v; want body_too_large", err)
	}
}

type nopCloser struct{ *strings.Reader }

func (nopCloser) Close() error { return nil }

// FuzzDecodeBookingRequest: the decoder never panics, every error is an
// *Error with a 4xx code, and every accepted request round-trips through
// JSON unchanged.
func FuzzDecodeBookingRequest(f *testing.F) {
	for _, s := range []string{
		`{"person_id":"p1","ppv":"wtc-kl","date":"2021-06-07"}`,
		`{"person_id":"p\u00e9","ppv":"a\"b","date":"2024-02-29"}`,
		`{"person_id":"p1","ppv":"wtc-kl","date":"2021-02-29"}`,
		`{"person_id":"p1","person_id":"p1","ppv":"x","date":"2021-06-07"}`,
		`{"person_id":"p1","ppv":"x","date":"2021-06-07"} {}`,
		`[1,2,3]`, `{`, `"`, `{"a":{"b":[]}}`, "\xff", `{"ppv":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := DecodeBookingRequest(strings.NewReader(in))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeBookingRequest(%q) error %v is not an *Error", in, err)
			}
			if s := StatusOf(e.Code); s < 400 || s > 499 {
				t.Fatalf("DecodeBookingRequest(%q) code %s maps to %d; want 4xx", in, e.Code, s)
			}
			return
		}
		if req.PersonID == "" || req.PPV == "" || req.Date.IsZero() {
			t.Fatalf("DecodeBookingRequest(%q) accepted an incomplete request %+v", in, req)
		}
		b, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("Marshal(%+v): %v", req, err)
		}
		again, err := DecodeBookingRequest(strings.NewReader(string(b)))
		if err != nil || again != req {
			t.Fatalf("round trip of %q via %s = %+v, %v; want %+v", in, b, again, err, req)
		}
	})
}

// FuzzDecodeQueueRequest: the join decoder never panics, every error is an
// *Error with a 4xx code, and every accepted request round-trips.
func FuzzDecodeQueueRequest(f *testing.F) {
	for _, s := range []string{
		`{"person_id":"p1"}`, `{"person_id":"p\u00e9"}`, `{"person_id":""}`, `{"person_id":"p1","person_id":"p1"}`,
		`{"person_id":"p1"} {}`, `[1]`, `{`, `{"person_id":null}`, "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		req, err := DecodeQueueRequest(strings.NewReader(in))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeQueueRequest(%q) error %v is not an *Error", in, err)
			}
			if s := StatusOf(e.Code); s < 400 || s > 499 {
				t.Fatalf("DecodeQueueRequest(%q) code %s maps to %d; want 4xx", in, e.Code, s)
			}
			return
		}
		if checkID("person_id", req.PersonID) != nil {
			t.Fatalf("DecodeQueueRequest(%q) accepted a bad person id %q", in, req.PersonID)
		}
		b, _ := json.Marshal(req)
		if again, err := DecodeQueueRequest(strings.NewReader(string(b))); err != nil || again != req {
			t.Fatalf("round trip of %q via %s = %+v, %v; want %+v", in, b, again, err, req)
		}
	})
}
