// Package profiletest holds test fixtures for API profiles: Server, an
// in-memory booking server whose API is shaped unlike the reference
// server's API v1, as examples/profiles/other-shape.yaml describes it.
package profiletest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
)

// Centre is one centre of a Server.
type Centre struct {
	Code, Title, Region string
}

// Config shapes a Server.
type Config struct {
	// Centres each have Capacity places on each of Days (YYYY-MM-DD).
	Centres  []Centre
	Days     []string
	Capacity int
	// ThrottleEvery answers every n-th reservation attempt 503
	// {"reason":"BUSY","retry_in_ms":RetryInMs}; 0 never does.
	ThrottleEvery int
	RetryInMs     int
	// Lobby requires an admitted pass's key (header X-Lobby-Key) on every
	// call but the lobby's; a pass is admitted at its AdmitAfter-th look
	// (join or poll), its first when AdmitAfter is 0 or 1.
	Lobby      bool
	AdmitAfter int
}

// Stats counts what a Server answered to reservation attempts.
type Stats struct {
	Reserved, Replayed, Full, Duplicate, Busy, NoPass int
}

// Reservation is one reservation a Server holds.
type Reservation struct {
	Ref     string `json:"ref"`
	Citizen string `json:"citizen"`
	Centre  string `json:"centre"`
	Day     string `json:"day"`
}

// reply is an answer kept for an X-Request-Id, to replay.
type reply struct {
	status int
	body   any
}

type pass struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Key    string `json:"key,omitempty"`
	looks  int
}

// Server is an in-memory booking server with a capacity per centre and
// day, at most one reservation per citizen, idempotent reservations (by
// X-Request-Id), optional throttling and an optional lobby. Its API:
//
//	GET  /centres[?region=]               200 {"data":{"items":[{"code","title","region"}]}}
//	GET  /centres/{code}/availability     200 {"data":{"items":[{"day","total","free"}]}}; 410 UNKNOWN_CENTRE
//	POST /reservations {"citizen","centre","day"}, X-Request-Id
//	                                      200 {"reservation":{"ref","citizen","centre","day"}};
//	                                      410 FULL; 422 DUPLICATE; 503 BUSY with retry_in_ms; 400 BAD_INPUT
//	GET  /reservations/{ref}              200 {"reservation":...}; 404 NOT_FOUND
//	GET  /citizens/{id}/reservation       200 {"reservation":...}; 404 NOT_FOUND
//	POST /lobby {"citizen"}, GET /lobby/{id}
//	                                      200 {"pass":{"id","status":"WAIT"|"IN","key"}}
//
// Error bodies are {"reason": CODE}; without a pass key the lobby's
// server answers 401 NO_PASS. It is safe for concurrent use.
type Server struct {
	cfg Config
	mux *http.ServeMux

	mu        sync.Mutex              // guards everything below
	free      map[string]int          // centre/day → places left
	byCitizen map[string]*Reservation // citizen → reservation
	byRef     map[string]*Reservation
	replies   map[string]reply // X-Request-Id → first final answer
	attempts  int
	passes    map[string]*pass // id → pass
	passOf    map[string]*pass // citizen → pass
	keys      map[string]bool  // admitted passes' keys
	stats     Stats
}

// NewServer returns a server shaped by cfg.
func NewServer(cfg Config) *Server {
	s := &Server{
		cfg: cfg, mux: http.NewServeMux(), free: map[string]int{},
		byCitizen: map[string]*Reservation{}, byRef: map[string]*Reservation{}, replies: map[string]reply{},
		passes: map[string]*pass{}, passOf: map[string]*pass{}, keys: map[string]bool{},
	}
	for _, c := range cfg.Centres {
		for _, d := range cfg.Days {
			s.free[c.Code+"/"+d] = cfg.Capacity
		}
	}
	s.mux.HandleFunc("GET /centres", s.guard(s.centres))
	s.mux.HandleFunc("GET /centres/{code}/availability", s.guard(s.availability))
	s.mux.HandleFunc("POST /reservations", s.guard(s.reserve))
	s.mux.HandleFunc("GET /reservations/{ref}", s.guard(s.reservation))
	s.mux.HandleFunc("GET /citizens/{id}/reservation", s.guard(s.citizen))
	s.mux.HandleFunc("POST /lobby", s.join)
	s.mux.HandleFunc("GET /lobby/{id}", s.poll)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Stats returns the counts of answers to reservation attempts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Reservations returns every reservation held, by reference.
func (s *Server) Reservations() []Reservation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Reservation, 0, len(s.byRef))
	for _, r := range s.byRef {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref < out[j].Ref })
	return out
}

// Free returns the places left at centre on day, -1 for no such slot.
func (s *Server) Free(centre, day string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.free[centre+"/"+day]; ok {
		return n
	}
	return -1
}

func write(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func fail(w http.ResponseWriter, status int, reason string) {
	write(w, status, map[string]any{"reason": reason})
}

// guard answers 401 NO_PASS, when the server has a lobby, to a request
// without an admitted pass's key.
func (s *Server) guard(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Lobby {
			s.mu.Lock()
			ok := s.keys[r.Header.Get("X-Lobby-Key")]
			if !ok && r.Method == http.MethodPost {
				s.stats.NoPass++
			}
			s.mu.Unlock()
			if !ok {
				fail(w, http.StatusUnauthorized, "NO_PASS")
				return
			}
		}
		h(w, r)
	}
}

func (s *Server) centres(w http.ResponseWriter, r *http.Request) {
	region := r.URL.Query().Get("region")
	items := []map[string]string{}
	for _, c := range s.cfg.Centres {
		if region == "" || c.Region == region {
			items = append(items, map[string]string{"code": c.Code, "title": c.Title, "region": c.Region})
		}
	}
	write(w, http.StatusOK, map[string]any{"data": map[string]any{"items": items}})
}

func (s *Server) availability(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	s.mu.Lock()
	defer s.mu.Unlock()
	items := []map[string]any{}
	for _, d := range s.cfg.Days {
		n, ok := s.free[code+"/"+d]
		if !ok {
			fail(w, http.StatusGone, "UNKNOWN_CENTRE")
			return
		}
		items = append(items, map[string]any{"day": d, "total": s.cfg.Capacity, "free": n})
	}
	write(w, http.StatusOK, map[string]any{"data": map[string]any{"items": items}})
}

func (s *Server) reserve(w http.ResponseWriter, r *http.Request) {
	var in struct{ Citizen, Centre, Day string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Citizen == "" || in.Centre == "" || in.Day == "" {
		fail(w, http.StatusBadRequest, "BAD_INPUT")
		return
	}
	id := r.Header.Get("X-Request-Id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if rep, ok := s.replies[id]; ok && id != "" {
		s.stats.Replayed++
		write(w, rep.status, rep.body)
		return
	}
	s.attempts++
	if s.cfg.ThrottleEvery > 0 && s.attempts%s.cfg.ThrottleEvery == 0 {
		s.stats.Busy++
		write(w, http.StatusServiceUnavailable, map[string]any{"reason": "BUSY", "retry_in_ms": s.cfg.RetryInMs})
		return
	}
	key := in.Centre + "/" + in.Day
	var rep reply
	switch n, ok := s.free[key]; {
	case !ok:
		fail(w, http.StatusBadRequest, "BAD_INPUT")
		return
	case s.byCitizen[in.Citizen] != nil:
		s.stats.Duplicate++
		rep = reply{http.StatusUnprocessableEntity, map[string]any{"reason": "DUPLICATE"}}
	case n == 0:
		s.stats.Full++
		rep = reply{http.StatusGone, map[string]any{"reason": "FULL"}}
	default:
		s.free[key] = n - 1
		res := &Reservation{Ref: fmt.Sprintf("R-%d", len(s.byRef)+1), Citizen: in.Citizen, Centre: in.Centre, Day: in.Day}
		s.byRef[res.Ref], s.byCitizen[in.Citizen] = res, res
		s.stats.Reserved++
		rep = reply{http.StatusOK, map[string]any{"reservation": res}}
	}
	if id != "" {
		s.replies[id] = rep
	}
	write(w, rep.status, rep.body)
}

func (s *Server) reservation(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	res := s.byRef[r.PathValue("ref")]
	s.mu.Unlock()
	s.answer(w, res)
}

func (s *Server) citizen(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	res := s.byCitizen[r.PathValue("id")]
	s.mu.Unlock()
	s.answer(w, res)
}

func (s *Server) answer(w http.ResponseWriter, res *Reservation) {
	if res == nil {
		fail(w, http.StatusNotFound, "NOT_FOUND")
		return
	}
	write(w, http.StatusOK, map[string]any{"reservation": res})
}

func (s *Server) join(w http.ResponseWriter, r *http.Request) {
	var in struct{ Citizen string }
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Citizen == "" {
		fail(w, http.StatusBadRequest, "BAD_INPUT")
		return
	}
	s.mu.Lock()
	p := s.passOf[in.Citizen]
	if p == nil {
		p = &pass{ID: fmt.Sprintf("L-%d", len(s.passes)+1), Status: "WAIT"}
		s.passes[p.ID], s.passOf[in.Citizen] = p, p
	}
	s.look(w, p)
}

func (s *Server) poll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.passes[r.PathValue("id")]
	if p == nil {
		s.mu.Unlock()
		fail(w, http.StatusNotFound, "NOT_FOUND")
		return
	}
	s.look(w, p)
}

// look counts a look at pass p, admits it when its time has come, answers
// where it stands, and unlocks s.mu.
func (s *Server) look(w http.ResponseWriter, p *pass) {
	p.looks++
	if p.Status == "WAIT" && p.looks >= s.cfg.AdmitAfter {
		p.Status, p.Key = "IN", "key-"+p.ID
		s.keys[p.Key] = true
	}
	out := *p
	s.mu.Unlock()
	if out.Status == "WAIT" {
		w.Header().Set("Retry-After", "1")
	}
	write(w, http.StatusOK, map[string]any{"pass": out})
}
