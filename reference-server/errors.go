package refserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/slotrush/slotrush/fault"
)

// Code is the machine-readable error code sent as "error" in every error
// body. Clients branch on the code, never on the message.
type Code string

// The error codes of API v1 and the HTTP status each maps to (see
// StatusOf).
const (
	CodeInvalidJSON          Code = "invalid_json"           // 400: body is not one JSON object
	CodeInvalidRequest       Code = "invalid_request"        // 400: a field, header or query parameter is wrong
	CodeUnknownPPV           Code = "unknown_ppv"            // 400: a booking names a PPV that does not exist
	CodeNoSlot               Code = "no_slot"                // 400: the PPV offers no slot that day
	CodeNotFound             Code = "not_found"              // 404: no such path, PPV or booking
	CodeWaitingRoomOff       Code = "waiting_room_off"       // 404: the design has no waiting room (queue endpoints)
	CodeTokenMissing         Code = "token_missing"          // 403: the waiting room is on and the call has no admission token
	CodeTokenInvalid         Code = "token_invalid"          // 403: the token is malformed or its signature does not verify
	CodeTokenExpired         Code = "token_expired"          // 403: the token's admission expired: join the queue again
	CodeTokenWrongPerson     Code = "token_wrong_person"     // 403: the token admits another person than the booking's
	CodeTokenWrongCentre     Code = "token_wrong_centre"     // 403: rooms per centre: the token admits to another centre
	CodeMethodNotAllowed     Code = "method_not_allowed"     // 405, with Allow
	CodeBodyTooLarge         Code = "body_too_large"         // 413
	CodeUnsupportedMediaType Code = "unsupported_media_type" // 415: Content-Type is not application/json
	CodeSoldOut              Code = "sold_out"               // 409: the slot has no place left
	CodeAlreadyBooked        Code = "already_booked"         // 409: the person holds a booking
	CodeQueueFull            Code = "queue_full"             // 409: the waiting room's queue is longer than its max_wait
	CodeIdempotencyMismatch  Code = "idempotency_mismatch"   // 422: Idempotency-Key reused with another body
	CodeThrottled            Code = "throttled"              // 429, with Retry-After: a partition's rate limit
	CodeGatewayThrottled     Code = "gateway_throttled"      // 429, with Retry-After: the gateway in front of every partition
	CodeStepFailed           Code = "step_failed"            // 422: a journey step's call failed (a wrong OTP): try it again
	CodeOverloaded           Code = "overloaded"             // 503, with Retry-After: a partition's queue is full
	CodeNotOpen              Code = "not_open"               // 503, with Retry-After: booking opens later
	CodeUnavailable          Code = "unavailable"            // 503, with Retry-After: the server is shutting down
	CodePartitionUnavailable Code = "partition_unavailable"  // 503, with Retry-After: the partition's storage is down
	CodeInternal             Code = "internal"               // 500: a real internal fault (logged, never detailed)
)

// StatusOf returns the HTTP status of code. It is the one place where codes
// map to statuses; unknown codes are 500.
func StatusOf(code Code) int {
	switch code {
	case CodeInvalidJSON, CodeInvalidRequest, CodeUnknownPPV, CodeNoSlot:
		return http.StatusBadRequest
	case CodeNotFound, CodeWaitingRoomOff:
		return http.StatusNotFound
	case CodeTokenMissing, CodeTokenInvalid, CodeTokenExpired, CodeTokenWrongPerson, CodeTokenWrongCentre:
		return http.StatusForbidden
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedMediaType:
		return http.StatusUnsupportedMediaType
	case CodeSoldOut, CodeAlreadyBooked, CodeQueueFull:
		return http.StatusConflict
	case CodeIdempotencyMismatch, CodeStepFailed:
		return http.StatusUnprocessableEntity
	case CodeThrottled, CodeGatewayThrottled:
		return http.StatusTooManyRequests
	case CodeOverloaded, CodeNotOpen, CodeUnavailable, CodePartitionUnavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Error is the server's one coded error type. Message is safe to show to
// clients; Err, the internal cause, is only logged.
type Error struct {
	// Code is sent as "error" and decides the status (StatusOf).
	Code Code
	// Message is sent as "message": human text, safe to show.
	Message string
	// RetryAfter, when positive, is sent as Retry-After (whole seconds,
	// rounded up, at least 1) and Retry-After-Ms.
	RetryAfter time.Duration
	// Allow lists the allowed methods of a 405.
	Allow string
	// Err is the internal cause, logged and never sent.
	Err error
}

// Error returns the code, the message and the cause.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

var _ error = (*Error)(nil)

// errorf returns an *Error with a formatted message.
func errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// internal wraps an unexpected fault: clients see a generic 500.
func internal(err error) *Error {
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// errorBody is the JSON body of every error.
type errorBody struct {
	Error   Code   `json:"error"`
	Message string `json:"message"`
}

// retryAfterHeaders sets Retry-After (seconds, ceil, at least 1) and
// Retry-After-Ms (milliseconds, ceil, at least 1).
func retryAfterHeaders(h http.Header, d time.Duration) {
	secs := int64(math.Ceil(d.Seconds()))
	ms := int64(math.Ceil(float64(d) / float64(time.Millisecond)))
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
	h.Set("Retry-After-Ms", strconv.FormatInt(max(ms, 1), 10))
}

// writeError writes e as a JSON error body with its status and headers, and
// logs internal faults. It returns the status written.
func writeError(w http.ResponseWriter, log *slog.Logger, r *http.Request, e *Error) int {
	status := StatusOf(e.Code)
	switch {
	case e.Code == CodeInternal && errors.Is(e.Err, fault.ErrInjected):
		// Injected on purpose (WithFaults): expected, so not an error.
		log.WarnContext(r.Context(), "injected fault", "method", r.Method, "path", r.URL.Path, "err", e.Err)
	case e.Code == CodeInternal:
		log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", e.Err)
	case e.Err != nil:
		log.DebugContext(r.Context(), "request refused", "code", e.Code, "path", r.URL.Path, "err", e.Err)
	}
	h := w.Header()
	if e.RetryAfter > 0 {
		retryAfterHeaders(h, e.RetryAfter)
	}
	if e.Allow != "" {
		h.Set("Allow", e.Allow)
	}
	writeJSON(w, status, errorBody{Error: e.Code, Message: e.Message})
	return status
}

// writeJSON writes v as a JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil { // cannot happen for the server's own types
		b = []byte(`{"error":"internal","message":"internal error"}`)
		status = http.StatusInternalServerError
	}
	writeRawJSON(w, status, b)
}

var newline = []byte{'\n'}

// writeRawJSON writes already encoded JSON with status.
func writeRawJSON(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)+1))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
	_, _ = w.Write(newline)
}
