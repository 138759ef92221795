package sim

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/sim/profile"
)

// Client speaks a target's booking API, as its API profile maps the
// journey's operations onto it: API v1 of the reference server unless
// WithProfile says otherwise. It is safe for concurrent use. A failed
// request is data (a Response), never an error.
type Client struct {
	base    string
	hc      *http.Client
	timeout time.Duration
	prof    *profile.Profile
}

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithProfile makes the client speak the API profile p instead of the
// built-in API v1 (profile.V1). A nil p keeps API v1.
func WithProfile(p *profile.Profile) ClientOption {
	return func(c *Client) {
		if p != nil {
			c.prof = p
		}
	}
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

// NewClient returns a client for the API at base (e.g. "http://127.0.0.1:8080",
// or with a path prefix "https://host/prefix") that bounds each request by
// timeout (none when 0) and speaks API v1 unless an option gives another
// profile. It returns an error when base is not an http or https URL.
func NewClient(base string, rt http.RoundTripper, timeout time.Duration, opts ...ClientOption) (*Client, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad target %q: want http://host:port", base)
	}
	c := &Client{base: strings.TrimRight(base, "/"), hc: &http.Client{Transport: rt}, timeout: timeout, prof: profile.V1()}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// Profile returns the API profile the client speaks.
func (c *Client) Profile() *profile.Profile { return c.prof }

// Do sends r and returns what came back: the target's status as it is, and
// the kind, retry advice and fields the profile reads from the answer. A
// request that got no answer, or could not be built (an operation the
// profile does not map), has Status 0, Kind KindTransport and Err set.
func (c *Client) Do(ctx context.Context, r Request) Response {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	pr := profile.Request{
		Op: r.Op, PPV: r.PPV, Date: r.Date, State: r.State, PersonID: r.PersonID,
		IdempotencyKey: r.IdempotencyKey, Ticket: r.Ticket, BookingID: r.BookingID,
		Token: r.Token, ReadList: r.ReadList, Step: r.Step, StepPath: r.StepPath,
	}
	req, err := c.prof.NewRequest(ctx, c.base, &pr)
	if err != nil {
		return Response{Err: err, Kind: KindTransport}
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return Response{Err: err, Kind: KindTransport}
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return Response{Err: err, Kind: KindTransport}
	}
	a := c.prof.Decode(&pr, res.StatusCode, res.Header, data)
	return Response{
		Status: res.StatusCode, Kind: a.Kind, Err: a.Err, Code: a.Code, RetryAfter: a.RetryAfter,
		Slots: a.Slots, BookingID: a.BookingID, Ticket: a.Ticket, Admitted: a.Admitted, Token: a.Token, Date: a.Date,
		PPVs: a.PPVs, Booking: a.Booking,
	}
}

// QueueStatus is the waiting room's answer to POST /api/v1/queue and
// GET /api/v1/queue/{ticket}.
type QueueStatus = api.QueueStatus
