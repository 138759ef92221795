package refserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
)

// MaxBodyBytes bounds the body of POST /api/v1/bookings and POST
// /api/v1/queue; larger bodies are answered 413 body_too_large.
const MaxBodyBytes = 4 << 10

// Field and header bounds.
const (
	maxIDLen             = 128 // person_id, ppv
	maxIdempotencyKeyLen = 255
)

// BookingRequest is the body of POST /api/v1/bookings (see
// api.BookingRequest).
type BookingRequest = api.BookingRequest

// DecodeBookingRequest strictly decodes a booking request from r: exactly
// one JSON object whose members are exactly person_id, ppv and date, each
// once, each a string (no null), matched case-sensitively; person_id and ppv
// non-empty, at most 128 bytes, without control characters or surrounding
// space; date a real calendar day written YYYY-MM-DD; nothing but white space
// after the object. It returns an *Error: CodeInvalidJSON for malformed or
// trailing JSON, CodeInvalidRequest for a wrong member, CodeBodyTooLarge when
// r is an http.MaxBytesReader that hit its limit. Whether the PPV and slot
// exist is not its concern. It is safe for concurrent use.
func DecodeBookingRequest(r io.Reader) (BookingRequest, error) {
	var req BookingRequest
	var date string
	if err := decodeStrings(r, []string{"person_id", "ppv", "date"}, []*string{&req.PersonID, &req.PPV, &date}); err != nil {
		return req, err
	}
	if err := checkID("person_id", req.PersonID); err != nil {
		return req, err
	}
	if err := checkID("ppv", req.PPV); err != nil {
		return req, err
	}
	var err error
	if req.Date, err = models.ParseDate(date); err != nil {
		return req, errorf(CodeInvalidRequest, "field \"date\": %q is not a calendar day written YYYY-MM-DD", truncate(date))
	}
	return req, nil
}

// QueueRequest is the body of POST /api/v1/queue.
type QueueRequest = api.QueueRequest

// DecodeQueueRequest strictly decodes a waiting-room join from r, by the
// rules of DecodeBookingRequest: exactly one JSON object whose members are
// person_id and optionally ppv (the centre's queue with rooms per centre),
// strings, person_id non-empty, each at most 128 bytes, without control
// characters or surrounding space. It returns an *Error (CodeInvalidJSON,
// CodeInvalidRequest, CodeBodyTooLarge). It is safe for concurrent use.
func DecodeQueueRequest(r io.Reader) (QueueRequest, error) {
	var req QueueRequest
	if err := decodeStringsRequired(r, []string{"person_id", "ppv"}, []*string{&req.PersonID, &req.PPV}, 1); err != nil {
		return req, err
	}
	if err := checkID("person_id", req.PersonID); err != nil {
		return req, err
	}
	if req.PPV != "" {
		if err := checkID("ppv", req.PPV); err != nil {
			return req, err
		}
	}
	return req, nil
}

// decodeBody decodes the JSON body of r with decode after checking its
// Content-Type and its declared length, reading at most MaxBodyBytes. The
// decoders return an *Error for every failure.
func decodeBody[T any](w http.ResponseWriter, r *http.Request, decode func(io.Reader) (T, error)) (T, *Error) {
	var zero T
	if e := checkJSONContentType(r.Header.Get("Content-Type")); e != nil {
		return zero, e
	}
	if r.ContentLength > MaxBodyBytes {
		return zero, errorf(CodeBodyTooLarge, "body larger than %d bytes", MaxBodyBytes)
	}
	v, err := decode(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			e = errorf(CodeInvalidJSON, "%v", err)
		}
		return zero, e
	}
	return v, nil
}

// decodeStrings decodes exactly one JSON object whose members are exactly
// names, each once, each a string, into dst (dst[i] receives names[i]),
// with nothing but white space after it.
func decodeStrings(r io.Reader, names []string, dst []*string) *Error {
	return decodeStringsRequired(r, names, dst, len(names))
}

// decodeStringsRequired is decodeStrings where only the first required
// names must be present; the others may be left out (their dst unset).
func decodeStringsRequired(r io.Reader, names []string, dst []*string, required int) *Error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return errorf(CodeInvalidJSON, "empty body: want a JSON object with %s", listNames(names))
		}
		return jsonError(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errorf(CodeInvalidJSON, "body is not a JSON object")
	}
	seen := make([]bool, len(names))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(err)
		}
		key, _ := tok.(string) // object keys are always strings
		i := slices.Index(names, key)
		if i < 0 {
			return errorf(CodeInvalidRequest, "unknown field %q (want %s)", truncate(key), strings.Join(names, ", "))
		}
		if seen[i] {
			return errorf(CodeInvalidRequest, "field %q given twice", key)
		}
		seen[i] = true
		tok, err = dec.Token()
		if err != nil {
			return jsonError(err)
		}
		v, ok := tok.(string)
		if !ok {
			if d, isDelim := tok.(json.Delim); isDelim && (d == '{' || d == '[') {
				return errorf(CodeInvalidRequest, "field %q must be a string, not %s", key, map[json.Delim]string{'{': "an object", '[': "an array"}[d])
			}
			return errorf(CodeInvalidRequest, "field %q must be a string, not %s", key, describe(tok))
		}
		*dst[i] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil || isSyntax(err) {
			return errorf(CodeInvalidJSON, "trailing data after the JSON object")
		}
		return jsonError(err)
	}
	for i, name := range names[:required] {
		if !seen[i] {
			return errorf(CodeInvalidRequest, "missing field %q", name)
		}
	}
	return nil
}

// listNames writes names as "a", "a and b" or "a, b and c".
func listNames(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// checkID checks a person or PPV id.
func checkID(field, v string) *Error {
	switch {
	case v == "":
		return errorf(CodeInvalidRequest, "field %q is empty", field)
	case len(v) > maxIDLen:
		return errorf(CodeInvalidRequest, "field %q is longer than %d bytes", field, maxIDLen)
	case !utf8.ValidString(v):
		return errorf(CodeInvalidRequest, "field %q is not valid UTF-8", field)
	case strings.TrimSpace(v) != v:
		return errorf(CodeInvalidRequest, "field %q has surrounding white space", field)
	case strings.IndexFunc(v, unicode.IsControl) >= 0:
		return errorf(CodeInvalidRequest, "field %q has control characters", field)
	}
	return nil
}

// checkIdempotencyKey checks the Idempotency-Key header: at most 255
// printable ASCII characters.
func checkIdempotencyKey(k string) *Error {
	if len(k) > maxIdempotencyKeyLen {
		return errorf(CodeInvalidRequest, "Idempotency-Key is longer than %d characters", maxIdempotencyKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return errorf(CodeInvalidRequest, "Idempotency-Key must be printable ASCII")
		}
	}
	return nil
}

// jsonError classifies an error of the JSON decoder.
func jsonError(err error) *Error {
	var tooBig *http.MaxBytesError
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &tooBig):
		return errorf(CodeBodyTooLarge, "body larger than %d bytes", tooBig.Limit)
	case errors.As(err, &syn):
		return errorf(CodeInvalidJSON, "malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errorf(CodeInvalidJSON, "body ends before the JSON object does")
	default:
		return &Error{Code: CodeInvalidJSON, Message: "unreadable body", Err: err}
	}
}

func isSyntax(err error) bool {
	var syn *json.SyntaxError
	return errors.As(err, &syn)
}

// describe names the JSON type of a scalar token.
func describe(tok json.Token) string {
	switch tok.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	default:
		return fmt.Sprintf("%T", tok)
	}
}

// truncate shortens client text echoed in messages.
func truncate(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}
