package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/results"

	"github.com/slotrush/slotrush/reference-server/api"
)

// Client speaks the booking API v1 to one target. It is safe for concurrent
// use. A failed request is data (a Response), never an error.
type Client struct {
	base    string
	hc      *http.Client
	timeout time.Duration
}

// NewTransport returns a keep-alive HTTP/1.1 transport sized for a crowd:
// idle connections are kept per host so users reuse them, as browsers do.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        0,
		MaxIdleConnsPerHost: 8192,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// NewClient returns a client for the API at base (e.g. "http://127.0.0.1:8080")
// that bounds each request by timeout.
func NewClient(base string, rt http.RoundTripper, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad target %q: want http://host:port", base)
	}
	return &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Transport: rt}, timeout: timeout}, nil
}

// Do sends r and returns what came back.
func (c *Client) Do(ctx context.Context, r Request) Response {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return Response{Err: err}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Response{Err: err}
	}
	return decodeResponse(r, res, data)
}

// newRequest returns the HTTP request of the API call r, bound to ctx, with
// its body, headers and bearer token. It returns an error when r.Op is not
// an operation of the API or the request cannot be built.
func (c *Client) newRequest(ctx context.Context, r Request) (*http.Request, error) {
	var req *http.Request
	var err error
	switch r.Op {
	case results.OpListPPVs:
		u := c.base + "/api/v1/ppvs"
		if r.State != "" {
			u += "?state=" + url.QueryEscape(r.State)
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, u, http.NoBody)
	case results.OpListSlots:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/ppvs/"+url.PathEscape(r.PPV)+"/slots", http.NoBody)
	case results.OpBook:
		body, _ := json.Marshal(api.BookingRequest{PersonID: r.PersonID, PPV: r.PPV, Date: r.Date})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/bookings", bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			if r.IdempotencyKey != "" {
				req.Header.Set("Idempotency-Key", r.IdempotencyKey)
			}
		}
	case results.OpGetBooking:
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/bookings/"+url.PathEscape(r.BookingID), http.NoBody)
	case results.OpQueue:
		if r.Ticket == "" {
			body, _ := json.Marshal(api.QueueRequest{PersonID: r.PersonID})
			req, err = http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/api/v1/queue", bytes.NewReader(body))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
		} else {
			req, err = http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/queue/"+url.PathEscape(r.Ticket), http.NoBody)
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

// decodeResponse returns what res, the answer to an op request whose body
// is data, says: its status and retry advice, and the slots, booking,
// ticket or error code its body carries. A body that does not hold what a
// success of op should sets Err.
func decodeResponse(r Request, res *http.Response, data []byte) Response {
	out := Response{Status: res.StatusCode, RetryAfter: retryAfter(res.Header)}
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		out.Err = decodeSuccess(r, data, &out)
	case res.StatusCode >= 400:
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(data, &e) // a foreign server may send no JSON
		out.Code = e.Error
	}
	return out
}

// decodeSuccess reads the body of a 2xx answer to r into out: the centres
// (when asked), slots, booking or ticket it must hold. It returns an error
// when the body does not hold them.
func decodeSuccess(r Request, data []byte, out *Response) error {
	switch r.Op {
	case results.OpListPPVs:
		if r.ReadList {
			if err := json.Unmarshal(data, &out.PPVs); err != nil {
				return fmt.Errorf("bad centres body: %w", err)
			}
		}
	case results.OpGetBooking:
		var b models.Booking
		if err := json.Unmarshal(data, &b); err != nil || b.ID == "" {
			return errors.New("bad booking body")
		}
		out.Booking = &b
	case results.OpListSlots:
		if err := json.Unmarshal(data, &out.Slots); err != nil {
			return fmt.Errorf("bad slots body: %w", err)
		}
	case results.OpBook:
		var b struct {
			ID string `json:"id"`
		}
		err := json.Unmarshal(data, &b)
		out.BookingID = b.ID
		if err != nil || b.ID == "" {
			return errors.New("bad booking body")
		}
	case results.OpQueue:
		var q QueueStatus
		err := json.Unmarshal(data, &q)
		out.Ticket, out.Token, out.Admitted = q.Ticket, q.Token, q.State == api.StateAdmitted
		if err != nil || q.Ticket == "" {
			return errors.New("bad queue body")
		}
	}
	return nil
}

// QueueStatus is the waiting room's answer to POST /api/v1/queue and
// GET /api/v1/queue/{ticket}.
type QueueStatus = api.QueueStatus

// retryAfter reads Retry-After-Ms (precise, slotrush's own) or Retry-After
// in seconds. HTTP dates are not used by booking APIs and read as absent.
func retryAfter(h http.Header) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			return time.Duration(ms) * time.Millisecond
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.Atoi(v); err == nil && s > 0 {
			return time.Duration(s) * time.Second
		}
	}
	return 0
}
