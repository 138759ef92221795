package refserver

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/reference-server/store"
)

// routes builds the handler of API v1 on Go 1.22 ServeMux patterns. Every
// path also has a method-less pattern that answers 405 with Allow and a JSON
// body, and "/" answers a JSON 404, so no plain-text error ever leaves.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /api/v1/about", s.about)
	mux.Handle("GET /api/v1/ppvs", s.op(OpListPPVs, s.guarded(s.listPPVs)))
	mux.Handle("GET /api/v1/ppvs/{ppv}/slots", s.op(OpListSlots, s.guarded(s.listSlots)))
	mux.Handle("POST /api/v1/bookings", s.op(OpBook, s.guarded(s.createBooking)))
	mux.Handle("GET /api/v1/bookings/{id}", s.op(OpGetBooking, s.guarded(s.getBooking)))
	mux.Handle("POST /api/v1/queue", s.op(OpQueue, s.joinQueue))
	mux.Handle("GET /api/v1/queue/{ticket}", s.op(OpQueue, s.pollQueue))
	mux.Handle("POST /api/v1/steps/{name}", s.op(OpStep, s.guarded(s.step)))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	for path, allow := range map[string]string{
		"/healthz":                 "GET, HEAD",
		"/api/v1/about":            "GET, HEAD",
		"/api/v1/ppvs":             "GET, HEAD",
		"/api/v1/ppvs/{ppv}/slots": "GET, HEAD",
		"/api/v1/bookings":         "POST",
		"/api/v1/bookings/{id}":    "GET, HEAD",
		"/api/v1/queue":            "POST",
		"/api/v1/queue/{ticket}":   "GET, HEAD",
		"/api/v1/steps/{name}":     "POST",
		"/metrics":                 "GET, HEAD",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, s.log, r, &Error{Code: CodeMethodNotAllowed, Allow: allow,
				Message: fmt.Sprintf("method %s not allowed here; allowed: %s", r.Method, allow)})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, s.log, r, errorf(CodeNotFound, "no such path %q", truncate(r.URL.Path)))
	})
	return s.recoverer(s.gatewayed(mux))
}

// recoverer turns a handler panic into a logged 500 with a JSON body.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				writeError(w, s.log, r, internal(fmt.Errorf("panic: %v", v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// opFunc handles one operation and returns the status it wrote and the
// partition it touched (nil for none or several), for metrics.
type opFunc func(w http.ResponseWriter, r *http.Request) (status int, p *partition)

// op measures an operation: count by status, service time per partition
// (Prometheus) and per operation (HdrHistogram, see Stats).
func (s *Server) op(name string, f opFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		status, p := f(w, r)
		var obs prometheus.Observer
		if p != nil {
			switch name {
			case OpBook:
				obs = p.m.bookDur
			case OpGetBooking:
				obs = p.m.getDur
			case OpListSlots:
				obs = p.m.slotsRead
			}
		}
		s.m.count(name, status, time.Since(start), obs)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.closed.Load() {
		writeError(w, s.log, r, unavailable())
		return
	}
	writeRawJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// listPPVs answers GET /api/v1/ppvs[?state=]. The PPV catalogue is static
// configuration held in memory, not partition data, so it charges no
// partition.
func (s *Server) listPPVs(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if s.closed.Load() {
		return writeError(w, s.log, r, unavailable()), nil
	}
	q := r.URL.Query()
	if e := onlyParams(q, "state"); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	b, ok := s.ppvJSON[q.Get("state")]
	if !ok {
		b = []byte("[]")
	}
	writeRawJSON(w, http.StatusOK, b)
	return http.StatusOK, nil
}

// listSlots answers GET /api/v1/ppvs/{ppv}/slots[?from=&to=]: it reads every
// partition holding a day of the PPV within [from, to], charging each a read
// (all or nothing: when one partition throttles, none is charged) and taking
// a turn in each in-flight bound, one partition after the other.
func (s *Server) listSlots(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if s.closed.Load() {
		return writeError(w, s.log, r, unavailable()), nil
	}
	info, ok := s.ppvs[r.PathValue("ppv")]
	if !ok {
		return writeError(w, s.log, r, errorf(CodeNotFound, "unknown PPV %q", truncate(r.PathValue("ppv")))), nil
	}
	if e := s.checkCentre(r.Context(), info.ppv.ID); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	q := r.URL.Query()
	if e := onlyParams(q, "from", "to"); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	var from, to models.Date
	for _, x := range []struct {
		name string
		dst  *models.Date
	}{{"from", &from}, {"to", &to}} {
		if v := q.Get(x.name); v != "" {
			d, err := models.ParseDate(v)
			if err != nil {
				return writeError(w, s.log, r, errorf(CodeInvalidRequest, "query %s=%q is not a calendar day written YYYY-MM-DD", x.name, truncate(v))), nil
			}
			*x.dst = d
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return writeError(w, s.log, r, errorf(CodeInvalidRequest, "query from=%s is after to=%s", from, to)), nil
	}
	spans := make([]ppvSpan, 0, len(info.spans))
	for _, sp := range info.spans {
		if (!from.IsZero() && sp.last.Before(from)) || (!to.IsZero() && to.Before(sp.first)) {
			continue
		}
		spans = append(spans, sp)
	}
	var single *partition
	if len(spans) == 1 {
		single = spans[0].part
	}
	if e := allDown(info.ppv.ID, spans); e != nil {
		return writeError(w, s.log, r, e), single
	}
	if e := s.chargeReads(spans, s.now()); e != nil {
		return writeError(w, s.log, r, e), single
	}
	out, partial, e := s.readSpans(r, info.ppv.ID, spans, from, to)
	if e != nil {
		return writeError(w, s.log, r, e), single
	}
	if partial {
		w.Header().Set(PartialHeader, PartialUnavailable)
	}
	writeJSON(w, http.StatusOK, out)
	return http.StatusOK, single
}

// The header a slot listing carries when it leaves out the days of
// partitions whose storage is unavailable, and its value.
const (
	PartialHeader      = "Slotrush-Partial"
	PartialUnavailable = "unavailable partitions left out"
)

// readSpans reads the slots of ppv within [from, to] from each span's
// partition, one after the other, taking a turn in each in-flight bound.
// A partition whose storage is unavailable (store.ErrUnavailable) is left
// out and partial is set: the other partitions still answer, which is
// what partitioning is for. When none answered, it returns 503
// partition_unavailable; any other failure fails the whole listing.
func (s *Server) readSpans(r *http.Request, ppv string, spans []ppvSpan, from, to models.Date) (out []api.Slot, partial bool, _ *Error) {
	out = make([]api.Slot, 0, len(spans))
	var down error
	answered := 0
	for _, sp := range spans {
		p := sp.part
		if e := s.enter(r.Context(), p, false); e != nil {
			return nil, false, e
		}
		lo, hi := sp.first, sp.last
		if !from.IsZero() && lo.Before(from) {
			lo = from
		}
		if !to.IsZero() && to.Before(hi) {
			hi = to
		}
		states, err := p.st.Slots(r.Context(), ppv, lo, hi)
		s.leave(p)
		switch {
		case errors.Is(err, store.ErrUnavailable) && !s.closed.Load():
			down = err
			continue
		case err != nil:
			return nil, false, s.fault(r, fmt.Errorf("list slots of %s: %w", ppv, err))
		}
		answered++
		for _, x := range states {
			out = append(out, api.Slot{Date: x.Date, Capacity: x.Capacity, Remaining: x.Remaining})
		}
	}
	if down == nil {
		return out, false, nil
	}
	if answered == 0 {
		return nil, false, partitionUnavailable(fmt.Errorf("list slots of %s: %w", ppv, down))
	}
	return out, true, nil
}

// allDown returns 503 partition_unavailable, before any read is charged,
// when the storage of every span's partition is down (an injected fault):
// storage that is down answers at once, whatever its throughput budget.
// Nil otherwise: a listing with some partitions up charges and reads them
// (readSpans leaves the down ones out).
func allDown(ppv string, spans []ppvSpan) *Error {
	if len(spans) == 0 {
		return nil
	}
	for _, sp := range spans {
		if sp.part.faults == nil || !sp.part.faults.Down() {
			return nil
		}
	}
	var err error
	for _, sp := range spans {
		err = errors.Join(err, sp.part.faults.Refuse())
	}
	if err == nil { // the faults ended between the two looks
		return nil
	}
	return partitionUnavailable(fmt.Errorf("list slots of %s: %w", ppv, err))
}

// chargeReads takes one read token from each span's partition, all or
// nothing: when one has none left, the tokens taken are given back and the
// answer is 429 with the longest wait.
func (s *Server) chargeReads(spans []ppvSpan, now time.Time) *Error {
	if len(spans) == 1 {
		p := spans[0].part
		if wait, ok := allow(p.read, now); !ok {
			p.throttledR.Add(1)
			p.m.throttledR.Inc()
			return throttledRead(wait)
		}
		return nil
	}
	var taken []*rate.Reservation
	var blocked []*partition
	var worst time.Duration
	for _, sp := range spans {
		if sp.part.read == nil {
			continue
		}
		res := sp.part.read.ReserveN(now, 1) // OK: bursts are at least 1
		if d := res.DelayFrom(now); d > 0 {
			res.CancelAt(now)
			worst = max(worst, d)
			blocked = append(blocked, sp.part)
			continue
		}
		taken = append(taken, res)
	}
	if len(blocked) == 0 {
		return nil
	}
	for _, res := range taken {
		res.CancelAt(now)
	}
	for _, p := range blocked {
		p.throttledR.Add(1)
		p.m.throttledR.Inc()
	}
	return throttledRead(worst)
}

func throttledRead(wait time.Duration) *Error {
	return &Error{Code: CodeThrottled, RetryAfter: wait,
		Message: "too many reads for this PPV's partitions; retry after the delay in Retry-After"}
}

// onlyParams refuses query parameters other than names.
func onlyParams(q map[string][]string, names ...string) *Error {
	for k, v := range q {
		known := false
		for _, n := range names {
			known = known || k == n
		}
		if !known && len(names) == 0 {
			return errorf(CodeInvalidRequest, "unknown query parameter %q (this path takes none)", truncate(k))
		}
		if !known {
			return errorf(CodeInvalidRequest, "unknown query parameter %q (allowed: %s)", truncate(k), strings.Join(names, ", "))
		}
		if len(v) > 1 {
			return errorf(CodeInvalidRequest, "query parameter %q given %d times", k, len(v))
		}
	}
	return nil
}

// createBooking answers POST /api/v1/bookings.
func (s *Server) createBooking(w http.ResponseWriter, r *http.Request) (int, *partition) {
	idemKey := r.Header.Get("Idempotency-Key")
	if e := checkIdempotencyKey(idemKey); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	req, e := decodeBody(w, r, DecodeBookingRequest)
	if e != nil {
		return writeError(w, s.log, r, e), nil
	}
	if e := s.checkPerson(r.Context(), req.PersonID); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	if e := s.checkCentre(r.Context(), req.PPV); e != nil {
		return writeError(w, s.log, r, e), nil
	}
	rec, replayed, p, e := s.book(r.Context(), req, idemKey)
	if e != nil {
		return writeError(w, s.log, r, e), p
	}
	if !replayed {
		s.bookedWithToken(r.Context())
	}
	h := w.Header()
	h.Set("Location", "/api/v1/bookings/"+rec.ID)
	if replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusCreated, rec.Booking)
	return http.StatusCreated, p
}

// checkJSONContentType accepts application/json, with an optional utf-8
// charset.
func checkJSONContentType(ct string) *Error {
	if ct == "" {
		return errorf(CodeUnsupportedMediaType, "missing Content-Type: want application/json")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return errorf(CodeUnsupportedMediaType, "Content-Type %q: want application/json", truncate(ct))
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return errorf(CodeUnsupportedMediaType, "Content-Type %q: want application/json with no parameter but charset=utf-8", truncate(ct))
		}
	}
	return nil
}

// getBooking answers GET /api/v1/bookings/{id}, charging a read to the
// booking's partition.
func (s *Server) getBooking(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if s.closed.Load() {
		return writeError(w, s.log, r, unavailable()), nil
	}
	id := r.PathValue("id")
	p, ok := s.partitionOf(id)
	if !ok {
		return writeError(w, s.log, r, errorf(CodeNotFound, "no booking %q", truncate(id))), nil
	}
	if wait, ok := allow(p.read, s.now()); !ok {
		p.throttledR.Add(1)
		p.m.throttledR.Inc()
		return writeError(w, s.log, r, throttledRead(wait)), p
	}
	if e := s.enter(r.Context(), p, false); e != nil {
		return writeError(w, s.log, r, e), p
	}
	rec, err := p.st.Booking(r.Context(), id)
	s.leave(p)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, rec.Booking)
		return http.StatusOK, p
	case errors.Is(err, store.ErrNotFound):
		return writeError(w, s.log, r, errorf(CodeNotFound, "no booking %q", truncate(id))), p
	default:
		return writeError(w, s.log, r, s.fault(r, fmt.Errorf("get booking %q: %w", id, err))), p
	}
}

// fault classifies a failed store read or waiting-room call: the engine
// throttling it (429), the server (or its room) closing under it, the
// partition's storage being unavailable (503 partition_unavailable), or
// the client going away, are not internal faults; an injected error
// (fault.ErrInjected) is internal, logged as a warning.
func (s *Server) fault(r *http.Request, err error) *Error {
	var te *store.ThrottledError
	switch {
	case errors.As(err, &te), errors.Is(err, store.ErrThrottled):
		return storeThrottled(te)
	case errors.Is(err, errRoomClosed), s.closed.Load():
		return unavailable()
	case errors.Is(err, store.ErrUnavailable):
		return partitionUnavailable(err)
	case r.Context().Err() != nil:
		return gone(err)
	default:
		return internal(err)
	}
}
