package refserver

import (
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/slotrush/slotrush/models"
)

// OpStep is a call of a journey step's service (POST /api/v1/steps/{name}).
const OpStep = "step"

// WithGateway puts a gateway in front of every partition: every call of
// the booking API (/api/v1/..., but /api/v1/about) first takes a token of
// its bucket (lim.Rate, lim.Burst) and a turn of its in-flight bound
// (lim.MaxInFlight), and is refused at once with 429 gateway_throttled and
// Retry-After when either is missing, before any partition, the waiting
// room or the step services see it. A zero lim is no gateway.
func WithGateway(lim models.RateLimit) Option {
	return func(c *config) { c.gateway = lim }
}

// WithSteps serves POST /api/v1/steps/{name} for each step: the step's
// service limits (429 throttled with Retry-After beyond its rate or its
// in-flight bound), then its failure share (422 step_failed), else 200
// {"step": name, "status": "ok"}. Behind the gateway and, with a waiting
// room, the admission token. Unknown names answer 404.
func WithSteps(steps []models.StepService) Option {
	return func(c *config) { c.steps = append([]models.StepService(nil), steps...) }
}

// WithStateOpenings opens booking per state: a booking of a PPV whose
// state has an opening here is refused 503 not_open (Retry-After until
// then) before it; other states open at WithOpensAt's time. The state is
// the PPV's, from the inventory: the booking request needs no more.
func WithStateOpenings(opens map[string]time.Time) Option {
	return func(c *config) {
		c.openings = make(map[string]time.Time, len(opens))
		for k, v := range opens {
			c.openings[k] = v
		}
	}
}

// limiter is a gateway's or a step service's limits: a token bucket and an
// in-flight bound, both refusing at once. Safe for concurrent use.
type limiter struct {
	bucket   *rate.Limiter // nil: unlimited
	max      int64         // 0: unlimited
	inFlight atomic.Int64
	refused  atomic.Int64
}

func newRateLimit(l models.RateLimit) *limiter {
	return &limiter{bucket: newLimiter(l.Rate, l.Burst), max: int64(l.MaxInFlight)}
}

// enter takes a turn at now, or says how long to wait; a caller that
// entered calls exit.
func (l *limiter) enter(now time.Time) (time.Duration, bool) {
	if l.max > 0 && l.inFlight.Add(1) > l.max {
		l.inFlight.Add(-1)
		l.refused.Add(1)
		return time.Second, false
	}
	if wait, ok := allow(l.bucket, now); !ok {
		if l.max > 0 {
			l.inFlight.Add(-1)
		}
		l.refused.Add(1)
		return wait, false
	}
	return 0, true
}

func (l *limiter) exit() {
	if l.max > 0 {
		l.inFlight.Add(-1)
	}
}

// journeyExtras is the server's gateway, step services and per-state
// openings; read only after New but for the limiters' counters.
type journeyExtras struct {
	gateway  *limiter // nil: none
	steps    map[string]*stepService
	openings map[string]time.Time // by state
}

type stepService struct {
	svc models.StepService
	lim *limiter
}

// setupJourney builds the extras from cfg; nil when there are none.
func setupJourney(cfg config) (*journeyExtras, error) {
	if !cfg.gateway.On() && len(cfg.steps) == 0 && len(cfg.openings) == 0 {
		return nil, nil
	}
	if errs := cfg.gateway.Validate(); len(errs) > 0 {
		return nil, errs[0]
	}
	x := &journeyExtras{steps: map[string]*stepService{}, openings: cfg.openings}
	if cfg.gateway.On() {
		x.gateway = newRateLimit(cfg.gateway)
	}
	for _, st := range cfg.steps {
		if errs := st.Validate(); len(errs) > 0 {
			return nil, errs[0]
		}
		x.steps[st.Name] = &stepService{svc: st, lim: newRateLimit(st.Limits)}
	}
	return x, nil
}

// registerJourneyMetrics exports the gateway's refusals.
func (s *Server) registerJourneyMetrics() {
	if s.jx == nil || s.jx.gateway == nil {
		return
	}
	c := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "slotrush_gateway_throttled_total",
		Help: "Requests the gateway in front of every partition refused with 429 gateway_throttled.",
	}, func() float64 { return float64(s.jx.gateway.refused.Load()) })
	s.m.reg.MustRegister(c)
}

// gatewayed puts the gateway in front of the booking API's paths.
func (s *Server) gatewayed(next http.Handler) http.Handler {
	if s.jx == nil || s.jx.gateway == nil {
		return next
	}
	g := s.jx.gateway
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") || r.URL.Path == "/api/v1/about" {
			next.ServeHTTP(w, r)
			return
		}
		wait, ok := g.enter(s.now())
		if !ok {
			writeError(w, s.log, r, &Error{Code: CodeGatewayThrottled, RetryAfter: wait,
				Message: "the gateway in front of the booking API is at its limit; retry after the delay in Retry-After"})
			return
		}
		defer g.exit()
		next.ServeHTTP(w, r)
	})
}

// step answers POST /api/v1/steps/{name}.
func (s *Server) step(w http.ResponseWriter, r *http.Request) (int, *partition) {
	if s.closed.Load() {
		return writeError(w, s.log, r, unavailable()), nil
	}
	name := r.PathValue("name")
	var st *stepService
	if s.jx != nil {
		st = s.jx.steps[name]
	}
	if st == nil {
		return writeError(w, s.log, r, errorf(CodeNotFound, "no step %q", truncate(name))), nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxBodyBytes))
	wait, ok := st.lim.enter(s.now())
	if !ok {
		return writeError(w, s.log, r, &Error{Code: CodeThrottled, RetryAfter: wait,
			Message: "the " + name + " service is at its limit; retry after the delay in Retry-After"}), nil
	}
	defer st.lim.exit()
	if st.svc.Fail > 0 && mrand.Float64() < st.svc.Fail {
		return writeError(w, s.log, r, errorf(CodeStepFailed, "step %s failed: try it again", name)), nil
	}
	writeRawJSON(w, http.StatusOK, []byte(`{"step":"`+name+`","status":"ok"}`))
	return http.StatusOK, nil
}

// opensFor returns when booking opens at ppv: its state's opening, or the
// server's.
func (s *Server) opensFor(ppv string) time.Time {
	if s.jx == nil || s.jx.openings == nil {
		return s.opensAt
	}
	if info, ok := s.ppvs[ppv]; ok {
		if t, ok := s.jx.openings[info.ppv.State]; ok {
			return t
		}
	}
	return s.opensAt
}

// GatewayThrottled returns how many requests the gateway refused (0
// without a gateway). Safe for concurrent use.
func (s *Server) GatewayThrottled() int64 {
	if s.jx == nil || s.jx.gateway == nil {
		return 0
	}
	return s.jx.gateway.refused.Load()
}
