package refserver

import (
	"net/http"

	"github.com/slotrush/slotrush/reference-server/api"
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
		Store:       api.AboutStore{Engine: s.st.Describe(), Durability: Durability},
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
