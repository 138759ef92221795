package refserver

import (
	"net/http"

	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/reference-server/store"
	"github.com/slotrush/slotrush/results"
)

// Durability is what a booking the reference server answered 201 survives,
// as it states it in GET /api/v1/about: every store behind the seam reports
// a booking only once it is durable (store.Partition.Book), and the SQLite
// store fsyncs the commit before that.
const Durability = "a 201 survives kill -9 and power loss (fsync before the answer)"

// About returns what the server states about itself in GET /api/v1/about:
// its design, scheme, partitions, the limits of each partition, whether a
// waiting room fronts it, and its store. It is safe for concurrent use.
func (s *Server) About() api.About {
	limits := s.design.Limits
	room := s.design.WaitingRoom
	return api.About{
		Design:      s.design.Name,
		Scheme:      s.design.Scheme,
		Partitions:  len(s.parts),
		Limits:      &limits,
		WaitingRoom: &room,
		Store:       api.AboutStore{Engine: s.st.Describe(), Version: s.Engine().Version, Durability: s.Durability()},
	}
}

// about answers GET /api/v1/about. The facts are configuration, so it
// charges no partition and needs no waiting-room token; like /healthz it
// answers 503 once the server is closing.
func (s *Server) about(w http.ResponseWriter, r *http.Request) {
	if s.closed.Load() {
		writeError(w, s.log, r, unavailable())
		return
	}
	writeJSON(w, http.StatusOK, s.About())
}

// Engine returns what the store says of its engine; a store that says
// nothing is described by its one-line description.
func (s *Server) Engine() store.Engine {
	if es, ok := s.st.(store.EngineStore); ok {
		return es.Engine()
	}
	return store.Engine{Name: s.st.Describe()}
}

// Durability says what a booking the server answered 201 survives over its
// store: Durability for the embedded SQLite store; over a database server,
// the API server's crash (the booking is committed before the answer) and
// the engine's own durability setting.
func (s *Server) Durability() string {
	e := s.Engine()
	if e.Name == "sqlite" || e.Durability == "" {
		return Durability
	}
	return "a 201 survives kill -9 of the API server (committed before the answer); " + e.Name + ": " + e.Durability
}

// LimitsBy says who enforces the partition limits of the design: nobody
// (""), the engine, or slotrush's per-process token buckets.
func (s *Server) LimitsBy() string {
	l := s.design.Limits
	switch {
	case s.Engine().LimitsEnforced:
		return results.LimitsByEngine
	case l.WriteRate > 0 || l.ReadRate > 0 || l.MaxInFlight > 0:
		return results.LimitsBySlotrush
	}
	return ""
}
