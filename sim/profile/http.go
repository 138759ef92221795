package profile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/tidwall/gjson"

	"github.com/slotrush/slotrush/models"
)

// maxRetryAfter bounds retry advice: a target advising a year means "much
// later", not an overflow.
const maxRetryAfter = 24 * time.Hour

// NewRequest returns the HTTP request of r for the target at base (a URL
// without a trailing slash, such as "http://127.0.0.1:8080" or
// "https://host/prefix"), bound to ctx: the profile's method, base plus
// the path (field values URL-escaped as path segments), the query
// parameters and headers whose values are not empty, the admission token
// when r.Token is set, and the body with Content-Type application/json
// (unless the profile sets another).
//
// It returns an error when the profile does not map r.Op (see Has), when
// a template fails to render, or when the result is not a valid request.
// It is safe for concurrent use.
func (p *Profile) NewRequest(ctx context.Context, base string, r *Request) (*http.Request, error) {
	i, ok := opIndex(r.Op, r.Ticket)
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", r.Op)
	}
	op := p.ops[i]
	if op == nil {
		return nil, fmt.Errorf("profile %s has no %s operation", p.name, opKeys[i])
	}
	var scratch [128]byte
	u := append(scratch[:0], base...)
	u, err := op.path.appendTo(u, r)
	if err != nil {
		return nil, err
	}
	sep := byte('?')
	for _, q := range op.query {
		var vbuf [64]byte
		v, err := q.value.appendTo(vbuf[:0], r)
		if err != nil {
			return nil, err
		}
		if len(v) == 0 {
			continue
		}
		u = append(append(u, sep), q.name...)
		u = appendQueryEscape(append(u, '='), v)
		sep = '&'
	}
	var body io.Reader = http.NoBody
	if op.body != nil {
		b, err := op.body.appendTo(make([]byte, 0, 128), r)
		if err != nil {
			return nil, err
		}
		if len(b) > 0 {
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(ctx, op.method, string(u), body)
	if err != nil {
		return nil, err
	}
	if err := p.setHeaders(req, op, r, body != http.NoBody); err != nil {
		return nil, err
	}
	return req, nil
}

// setHeaders sets the profile's headers, op's, the token and the body's
// content type on req.
func (p *Profile) setHeaders(req *http.Request, op *operation, r *Request, hasBody bool) error {
	set := func(h *header) error {
		var vbuf [128]byte
		v, err := h.value.appendTo(vbuf[:0], r)
		if err != nil {
			return err
		}
		if len(v) > 0 {
			req.Header[h.name] = []string{string(v)}
		}
		return nil
	}
	for i := range p.headers {
		if err := set(&p.headers[i]); err != nil {
			return err
		}
	}
	for i := range op.headers {
		if err := set(&op.headers[i]); err != nil {
			return err
		}
	}
	if r.Token != "" && p.token != nil {
		if err := set(p.token); err != nil {
			return err
		}
	}
	if hasBody && req.Header["Content-Type"] == nil {
		req.Header["Content-Type"] = []string{"application/json"}
	}
	return nil
}

// appendQueryEscape appends v escaped as url.QueryEscape does.
func appendQueryEscape(dst, v []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range v {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// Decode reads the answer to r with HTTP status st, header h and body:
// its kind (the first outcome rule for st that applies to the operation
// and matches the body, else DefaultKind), its retry advice (the rule's
// sources, then the profile's), its error code when it is not ok, and,
// when it is ok, what the operation reads from it. An ok answer that
// lacks what the operation must read (a booking without an id, a list
// that is not a list) sets Answer.Err. It is safe for concurrent use.
func (p *Profile) Decode(r *Request, st int, h http.Header, body []byte) Answer {
	i, known := opIndex(r.Op, r.Ticket)
	a := Answer{Kind: DefaultKind(st)}
	var ru *rule
	if known && st >= minStatus && st <= maxStatus {
		for _, x := range p.rules[st-minStatus] {
			if x.ops&(1<<i) != 0 && (x.when == nil || x.when.match(body)) {
				ru = x
				a.Kind = x.kind
				break
			}
		}
	}
	if ru != nil {
		a.RetryAfter = retryAfter(ru.retry, h, body)
	}
	if a.RetryAfter == 0 {
		a.RetryAfter = retryAfter(p.retry, h, body)
	}
	if a.Kind != KindOK {
		if p.code != "" {
			a.Code = gjson.GetBytes(body, p.code).String()
		}
		return a
	}
	switch {
	case !known:
		a.Err = fmt.Errorf("unknown operation %q", r.Op)
	case p.ops[i] == nil:
		a.Err = fmt.Errorf("profile %s has no %s operation", p.name, opKeys[i])
	default:
		a.Err = p.ops[i].read.decode(i, r, body, &a)
	}
	return a
}

// match reports whether body matches m.
func (m *matcher) match(body []byte) bool {
	v := gjson.GetBytes(body, m.path)
	return v.Exists() && (!m.hasEquals || v.String() == m.equals)
}

// retryAfter returns the first positive advice of srcs in h or body, 0
// when there is none. A header holds a whole number; a body field a
// number or a string of one.
func retryAfter(srcs []retrySource, h http.Header, body []byte) time.Duration {
	for i := range srcs {
		s := &srcs[i]
		var v float64
		if s.header != "" {
			vs := h[s.header]
			if len(vs) == 0 {
				continue
			}
			n, err := strconv.Atoi(vs[0])
			if err != nil || n <= 0 {
				continue
			}
			v = float64(n)
		} else {
			r := gjson.GetBytes(body, s.body)
			switch r.Type {
			case gjson.Number:
				v = r.Num
			case gjson.String:
				f, err := strconv.ParseFloat(r.Str, 64)
				if err != nil {
					continue
				}
				v = f
			default:
				continue
			}
		}
		if v > 0 && !math.IsInf(v, 0) {
			return min(time.Duration(math.Min(v*float64(s.unit), float64(maxRetryAfter))), maxRetryAfter)
		}
	}
	return 0
}

var (
	errNoList    = errors.New("bad body: no list at the profile's list path")
	errNoID      = errors.New("bad body: no id at the profile's id path")
	errNoTicket  = errors.New("bad body: no ticket at the profile's ticket path")
	errBadDay    = errors.New("bad body: the day to book at the profile's date path is not YYYY-MM-DD")
	errBadSlot   = errors.New("bad body: a slot without a date (YYYY-MM-DD) at the profile's date path")
	errBadCentre = errors.New("bad body: a centre without an id at the profile's id path")
)

// decode reads what operation i reads from an ok answer's body into a.
func (rd *reader) decode(i int, r *Request, body []byte, a *Answer) error {
	switch i {
	case opListPPVs:
		if r.ReadList {
			return rd.decodePPVs(body, a)
		}
	case opListSlots:
		return rd.decodeSlots(body, a)
	case opBook:
		a.BookingID = gjson.GetBytes(body, rd.id).String()
		if a.BookingID == "" {
			return errNoID
		}
	case opQueueJoin, opQueuePoll:
		a.Ticket = gjson.GetBytes(body, rd.ticket).String()
		a.Token = gjson.GetBytes(body, rd.token).String()
		a.Admitted = rd.admitted.match(body)
		if a.Ticket == "" {
			return errNoTicket
		}
		return rd.decodeDay(body, a)
	case opGetBooking, opFindBooking:
		return rd.decodeBooking(body, a)
	}
	return nil
}

// decodeDay reads the day an admitted person is sent to book, when the
// profile has a date path and the answer a value there.
func (rd *reader) decodeDay(body []byte, a *Answer) error {
	if rd.date == "" || !a.Admitted {
		return nil
	}
	v := gjson.GetBytes(body, rd.date).String()
	if v == "" {
		return nil
	}
	d, err := models.ParseDate(v)
	if err != nil {
		return errBadDay
	}
	a.Date = d
	return nil
}

func (rd *reader) decodePPVs(body []byte, a *Answer) error {
	list := gjson.GetBytes(body, rd.list)
	if !list.IsArray() {
		return errNoList
	}
	var err error
	a.PPVs = []models.PPV{}
	list.ForEach(func(_, v gjson.Result) bool {
		c := models.PPV{ID: v.Get(rd.id).String()}
		if c.ID == "" {
			err = errBadCentre
			return true
		}
		if rd.name != "" {
			c.Name = v.Get(rd.name).String()
		}
		if rd.state != "" {
			c.State = v.Get(rd.state).String()
		}
		a.PPVs = append(a.PPVs, c)
		return true
	})
	return err
}

func (rd *reader) decodeSlots(body []byte, a *Answer) error {
	list := gjson.GetBytes(body, rd.list)
	if !list.IsArray() {
		return errNoList
	}
	var err error
	a.Slots = []Slot{}
	list.ForEach(func(_, v gjson.Result) bool {
		d, derr := models.ParseDate(v.Get(rd.date).String())
		if derr != nil {
			err = errBadSlot
			return true
		}
		s := Slot{Date: d, Remaining: int(v.Get(rd.remaining).Int())}
		if rd.capacity != "" {
			s.Capacity = int(v.Get(rd.capacity).Int())
		}
		a.Slots = append(a.Slots, s)
		return true
	})
	return err
}

func (rd *reader) decodeBooking(body []byte, a *Answer) error {
	b := &models.Booking{ID: gjson.GetBytes(body, rd.id).String()}
	if b.ID == "" {
		return errNoID
	}
	if rd.person != "" {
		b.PersonID = gjson.GetBytes(body, rd.person).String()
	}
	if rd.ppv != "" {
		b.PPV = gjson.GetBytes(body, rd.ppv).String()
	}
	if rd.date != "" {
		d, err := models.ParseDate(gjson.GetBytes(body, rd.date).String())
		if err != nil {
			return fmt.Errorf("bad booking body: %w", err)
		}
		b.Date = d
	}
	if rd.createdAt != "" {
		if v := gjson.GetBytes(body, rd.createdAt).String(); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("bad booking body: created_at %q: %w", v, err)
			}
			b.CreatedAt = t
		}
	}
	a.Booking = b
	return nil
}
