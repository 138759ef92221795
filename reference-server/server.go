package refserver

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/slotrush/slotrush/fault"
	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/faultstore"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
	"github.com/slotrush/slotrush/reference-server/store"
)

// Option configures a Server. Options are independent of their order.
type Option func(*config)

type config struct {
	opensAt  time.Time
	log      *slog.Logger
	now      func() time.Time
	opener   store.Opener
	roomSeed *uint64
	faults   []fault.Spec
	// gateway, steps and openings: see WithGateway, WithSteps,
	// WithStateOpenings (journey.go).
	gateway  models.RateLimit
	steps    []models.StepService
	openings map[string]time.Time
}

// WithOpensAt makes POST /api/v1/bookings answer 503 not_open, with
// Retry-After until t, before t (by the server's clock, see WithNow). The
// zero time means open from the start. A waiting room, if the design has
// one, begins admitting at t (at the server's start for the zero time),
// unless it already opened in an earlier run on the same data: then its
// stored opening time is the opening time of bookings too.
func WithOpensAt(t time.Time) Option { return func(c *config) { c.opensAt = t } }

// WithRoomSeed sets the seed of the waiting room's random order at opening
// (models.RoomRandom); by default it is drawn at random. The seed used is
// stored with the opening.
func WithRoomSeed(seed uint64) Option { return func(c *config) { c.roomSeed = &seed } }

// WithLogger sets the logger of internal faults and lifecycle events
// (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithNow sets the clock that decides opening time, rate limits and
// created_at (default time.Now). Service times are always measured with the
// real clock.
func WithNow(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithFaults injects the storage faults specs (package fault) into the
// partitions they name, at the store seam (package faultstore): a down
// partition answers 503 partition_unavailable, an errors one 500 internal,
// a slow one late. Their windows are measured from the opening of bookings
// (WithOpensAt, or the server's start; with a waiting room, the room's
// opening) by the server's clock (WithNow). The specs must name
// partitions by key: New refuses fault.Hottest (resolve it first with
// fault.Resolve) and a key the design does not have. The start-up scan and
// Audit read the partitions past their faults.
func WithFaults(specs []fault.Spec) Option {
	return func(c *config) { c.faults = append([]fault.Spec(nil), specs...) }
}

// WithStoreOpener replaces the embedded SQLite store (sqlitestore) by
// another implementation of the store seam.
func WithStoreOpener(o store.Opener) Option {
	return func(c *config) {
		if o != nil {
			c.opener = o
		}
	}
}

// Server is the reference booking server of one design over one inventory.
// It is safe for concurrent use; call Close when done.
type Server struct {
	design  models.Design
	inv     models.Inventory
	st      store.Store
	parts   []*partition
	slots   map[models.SlotKey]*slot // read-only after New
	ppvs    map[string]*ppvInfo      // read-only after New
	ppvJSON map[string][]byte        // state ("" for all) -> encoded PPV list; read-only after New
	persons *persons                 // nil when shared keeps the rule
	shared  store.SharedStore        // nil unless the store keeps one booking per person itself
	room    *room                    // nil: no single waiting room
	jx      *journeyExtras           // nil: no gateway, steps nor state openings
	opensAt time.Time
	now     func() time.Time
	log     *slog.Logger
	m       *metrics
	handler http.Handler

	// centres holds the rooms per centre by PPV id (nil without), and
	// anyCentre one of them; read-only after New.
	centres   map[string]*room
	anyCentre *room

	tokensRejected [len(tokenReasons)]atomic.Int64 // by tokenReasons

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// partition is the server's side of one store partition: its limits, its
// admission state and its metrics.
type partition struct {
	idx   int
	key   models.PartitionKey
	st    store.Partition
	write *rate.Limiter // nil: unlimited
	read  *rate.Limiter // nil: unlimited
	gate  *gate         // nil: unlimited
	m     partMetrics
	// faults counts what the partition's injected faults did; nil when
	// none is injected into it (WithFaults).
	faults faultstore.Counter

	inFlight, soldOut, throttledW, throttledR, shedW, shedR atomic.Int64
}

// slot is one slot of the inventory and where it lives.
type slot struct {
	part     *partition
	capacity int
	soldOut  atomic.Bool // set once the store reported no place left; capacity never grows
}

// ppvInfo is a PPV and, for each partition holding some of its days, those
// days (sorted), so a slot listing touches only the partitions it needs.
type ppvInfo struct {
	ppv   models.PPV
	spans []ppvSpan
}

type ppvSpan struct {
	part  *partition
	first models.Date
	last  models.Date
}

// New opens (creating and seeding when absent) the store of design over
// inv in dataDir and returns a server for it. It rebuilds the person index
// from the partitions' bookings, so it takes time in proportion to the
// bookings already stored. With a waiting room (design.WaitingRoom) it
// also restores the room's tickets, admissions and key from the store (a
// store.RoomStore) and starts its writer. It returns an error for an
// invalid inventory, limits or waiting-room policy, a store that cannot
// keep a waiting room, and the store's errors (a data directory in use by
// another server or holding another design or inventory, wrapping
// store.ErrLocked or store.ErrMismatch).
func New(design models.Design, inv models.Inventory, dataDir string, opts ...Option) (*Server, error) {
	cfg := config{log: slog.Default(), now: time.Now, opener: sqlitestore.Opener()}
	for _, o := range opts {
		o(&cfg)
	}
	if errs := inv.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("reference server: invalid inventory: %w", errors.Join(errs...))
	}
	if errs := design.Limits.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("reference server: design %s: invalid limits: %w", design.Name, errors.Join(errs...))
	}
	if design.WaitingRoom {
		if errs := design.Room.Validate(); len(errs) > 0 {
			return nil, fmt.Errorf("reference server: design %s: invalid waiting room: %w", design.Name, errors.Join(errs...))
		}
	}
	ctx := context.Background()
	st, err := cfg.opener(ctx, dataDir, design, inv)
	if err != nil {
		return nil, fmt.Errorf("reference server: %w", err)
	}
	s := &Server{
		design: design, inv: inv, st: st,
		slots: map[models.SlotKey]*slot{}, ppvs: map[string]*ppvInfo{},
		opensAt: cfg.opensAt, now: cfg.now, log: cfg.log,
	}
	if sh, ok := st.(store.SharedStore); ok {
		s.shared = sh
	} else {
		s.persons = newPersons()
	}
	if err := s.build(ctx); err != nil {
		return nil, fmt.Errorf("reference server: %w", errors.Join(err, st.Close()))
	}
	if design.CentreRooms {
		if err := s.openCentreRooms(ctx, cfg); err != nil {
			return nil, fmt.Errorf("reference server: %w", errors.Join(err, st.Close()))
		}
	} else if design.WaitingRoom {
		if err := s.openRoom(ctx, cfg); err != nil {
			return nil, fmt.Errorf("reference server: %w", errors.Join(err, st.Close()))
		}
	}
	if err := s.injectFaults(cfg.faults); err != nil {
		return nil, fmt.Errorf("reference server: %w", errors.Join(err, st.Close()))
	}
	if s.jx, err = setupJourney(cfg); err != nil {
		return nil, fmt.Errorf("reference server: %w", errors.Join(err, st.Close()))
	}
	s.m = newMetrics(s)
	s.registerJourneyMetrics()
	s.handler = s.routes()
	return s, nil
}

// build sets up partitions, slots and PPVs, and loads the person index and
// the sold-out flags from the store.
func (s *Server) build(ctx context.Context) error {
	if err := s.buildPartitions(); err != nil {
		return err
	}
	s.buildPPVs()
	if err := s.encodePPVLists(); err != nil {
		return err
	}
	return s.loadBookings(ctx)
}

// buildPartitions pairs each partition of the design with the store's
// partition of the same index, gives it its admission limits, and maps
// every slot to it. It returns an error when the store's partitions are not
// the design's.
func (s *Server) buildPartitions() error {
	defs := s.design.Partitions(&s.inv)
	sps := s.st.Partitions()
	if len(defs) != len(sps) {
		return fmt.Errorf("store has %d partitions; design %s has %d", len(sps), s.design.Name, len(defs))
	}
	for i, def := range defs {
		if sps[i].Key() != def.Key {
			return fmt.Errorf("store partition %d is %q; design wants %q", i, sps[i].Key(), def.Key)
		}
		p := &partition{
			idx: i, key: def.Key, st: sps[i],
			write: newLimiter(def.Limits.WriteRate, def.Limits.WriteBurst),
			read:  newLimiter(def.Limits.ReadRate, def.Limits.ReadBurst),
			gate:  newGate(def.Limits),
		}
		s.parts = append(s.parts, p)
		for _, sl := range def.Slots {
			s.slots[sl.Key()] = &slot{part: p, capacity: sl.Capacity}
		}
	}
	return nil
}

// injectFaults puts the faults specs in front of the partitions they name,
// once the start-up reads are done, their windows measured from the
// opening of bookings (the server's start when it has none). It returns an
// error for a spec naming a partition the design does not have.
func (s *Server) injectFaults(specs []fault.Spec) error {
	if len(specs) == 0 {
		return nil
	}
	byKey := make(map[string]*partition, len(s.parts))
	for _, p := range s.parts {
		byKey[string(p.key)] = p
	}
	for _, sp := range specs {
		if byKey[sp.Partition] == nil {
			return fmt.Errorf("fault %q: design %s has no partition %q (%s)", sp, s.design.Name, sp.Partition, fault.FewKeys(s.design.Partitions(&s.inv), 3))
		}
	}
	opensAt := s.opensAt
	if opensAt.IsZero() {
		opensAt = s.now()
	}
	for _, p := range s.parts {
		w := faultstore.Wrap(p.st, specs, opensAt, s.now)
		if c, ok := w.(faultstore.Counter); ok {
			p.st, p.faults = w, c
			s.log.Info("fault injected", "partition", p.key, "opens_at", opensAt)
		}
	}
	return nil
}

// buildPPVs records, for each PPV, the runs of consecutive days held by one
// partition, so a slot listing reads only the partitions it needs. It needs
// the slots mapped by buildPartitions.
func (s *Server) buildPPVs() {
	for _, ppv := range s.inv.PPVs {
		info := &ppvInfo{ppv: ppv}
		for _, sl := range s.inv.SlotsOf(ppv.ID) { // sorted by date
			p := s.slots[sl.Key()].part
			if n := len(info.spans); n > 0 && info.spans[n-1].part == p {
				info.spans[n-1].last = sl.Date
				continue
			}
			info.spans = append(info.spans, ppvSpan{part: p, first: sl.Date, last: sl.Date})
		}
		s.ppvs[ppv.ID] = info
	}
}

// encodePPVLists encodes once the answers of GET /api/v1/ppvs: every PPV
// (under "") and the PPVs of each state, sorted by id.
func (s *Server) encodePPVLists() error {
	s.ppvJSON = map[string][]byte{}
	byState := map[string][]models.PPV{"": {}}
	for _, p := range s.inv.PPVs {
		byState[""] = append(byState[""], p)
		byState[p.State] = append(byState[p.State], p)
	}
	for state, list := range byState {
		sort.SliceStable(list, func(i, j int) bool { return list[i].ID < list[j].ID })
		b, err := json.Marshal(list)
		if err != nil {
			return fmt.Errorf("encode PPVs: %w", err)
		}
		s.ppvJSON[state] = b
	}
	return nil
}

// loadBookings rebuilds the person index from the partitions, the source of
// truth, and the sold-out flags from the slots' counters, logging people
// who hold more than one booking. Over a shared store, which keeps the rule
// itself, it loads only the sold-out flags. It returns the store's read
// errors.
func (s *Server) loadBookings(ctx context.Context) error {
	start := time.Now()
	var n, dup int
	for _, p := range s.parts {
		if s.shared != nil {
			break
		}
		err := p.st.Scan(ctx, func(rec store.Record) error {
			n++
			if !s.persons.put(rec) {
				dup++
				s.log.Error("person holds more than one booking", "person_id", rec.PersonID, "booking", rec.ID, "partition", p.key)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("rebuild person index: %w", err)
		}
	}
	if err := s.loadSoldOut(ctx); err != nil {
		return err
	}
	s.log.Info("reference server ready", "design", s.design.Name, "partitions", len(s.parts),
		"bookings", n, "duplicate_persons", dup, "recovery", time.Since(start).Round(time.Millisecond))
	return nil
}

// loadSoldOut sets the sold-out flag of every slot the store holds with no
// place left. It returns the store's read errors.
func (s *Server) loadSoldOut(ctx context.Context) error {
	for _, ppv := range s.ppvs {
		for _, sp := range ppv.spans {
			states, err := sp.part.st.Slots(ctx, ppv.ppv.ID, sp.first, sp.last)
			if err != nil {
				return fmt.Errorf("load slot states: %w", err)
			}
			for _, x := range states {
				if sl := s.slots[models.SlotKey{PPV: x.PPV, Date: x.Date}]; sl != nil && x.Remaining == 0 {
					sl.soldOut.Store(true)
				}
			}
		}
	}
	return nil
}

// openRoom restores the waiting room from the store and starts it.
func (s *Server) openRoom(ctx context.Context, cfg config) error {
	rs, ok := s.st.(store.RoomStore)
	if !ok {
		return fmt.Errorf("design %s has a waiting room but the store (%s) cannot keep one", s.design.Name, s.st.Describe())
	}
	st, err := rs.Room(ctx)
	if err != nil {
		return err
	}
	state, err := st.Load(ctx)
	if err != nil {
		return fmt.Errorf("load waiting room: %w", err)
	}
	rooms, err := s.design.Rooms(&s.inv) // sizes a policy with Auto
	if err != nil {
		return err
	}
	rc := s.roomBase(cfg)
	rc.policy = rooms[0].Policy
	s.room, err = newRoom(st, state, rc)
	if err != nil {
		return err
	}
	// Bookings open with the room: a token is only issued after its
	// opening, which a restart keeps.
	s.opensAt = s.room.opensAt
	rst := s.room.stats(rc.start)
	s.log.Info("waiting room ready", "policy", fmt.Sprintf("%+v", s.design.Room), "opened", rst.Opened,
		"opens_at", s.room.opensAt, "tickets", rst.Tickets, "admitted", rst.Admitted, "waiting", rst.Waiting)
	return nil
}

// roomBase returns what every room of the server starts with: now as the
// start, the configured opening (now when unset), the configured seed
// (else a random one), the logger and the booking lookup.
func (s *Server) roomBase(cfg config) roomConfig {
	start := s.now()
	opensAt := s.opensAt
	if opensAt.IsZero() {
		opensAt = start
	}
	seed := mrand.Uint64()
	if cfg.roomSeed != nil {
		seed = *cfg.roomSeed
	}
	return roomConfig{opensAt: opensAt, start: start, seed: seed, log: s.log, bookedAt: s.bookedAt}
}

// bookedAt returns when person booked, if they hold a booking.
func (s *Server) bookedAt(person string) (time.Time, bool) {
	if s.shared == nil {
		rec, ok := s.persons.get(person)
		return rec.CreatedAt, ok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, err := s.shared.PersonBooking(ctx, person)
	return rec.CreatedAt, err == nil
}

// Handler returns the HTTP handler of API v1. It is safe for concurrent use.
func (s *Server) Handler() http.Handler { return s.handler }

// Design returns the server's design.
func (s *Server) Design() models.Design { return s.design }

// Partitions returns the keys of the server's partitions in design order.
func (s *Server) Partitions() []models.PartitionKey {
	out := make([]models.PartitionKey, len(s.parts))
	for i, p := range s.parts {
		out[i] = p.key
	}
	return out
}

// StoreDescription describes the store and its durability level, for the
// assumptions printed beside results.
func (s *Server) StoreDescription() string { return s.st.Describe() }

// Close makes the handler answer 503 unavailable, commits the waiting
// room's pending changes, lets every partition's writer commit what it has
// taken up, and closes the store. It is
// idempotent and safe for concurrent use; call it after http.Server.Shutdown
// so that no request is cut short.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeRooms() // commits what is pending
		if err := s.st.Close(); err != nil {
			s.closeErr = fmt.Errorf("close reference server: %w", err)
		}
	})
	return s.closeErr
}

// NewHTTPServer returns an http.Server for h on addr with the timeouts and
// header bound a public booking endpoint needs: no request can hold a
// connection indefinitely (slowloris) and no handler can run unbounded.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
}

// bookingID returns a new booking id for partition idx: "b", the partition
// index in base 36, "-", and 128 random bits (base 32). The prefix routes
// GET /api/v1/bookings/{id} to its partition without a lookup; it is stable
// because the store refuses to reopen with another design or inventory.
func bookingID(idx int) string {
	return "b" + strconv.FormatInt(int64(idx), 36) + "-" + rand.Text()
}

// partitionOf returns the partition a booking id names.
func (s *Server) partitionOf(id string) (*partition, bool) {
	rest, ok := strings.CutPrefix(id, "b")
	if !ok {
		return nil, false
	}
	idx, _, ok := strings.Cut(rest, "-")
	if !ok || idx == "" || len(idx) > 6 {
		return nil, false
	}
	i, err := strconv.ParseInt(idx, 36, 32)
	if err != nil || i < 0 || int(i) >= len(s.parts) {
		return nil, false
	}
	return s.parts[i], true
}

// book runs one booking attempt: validate against the inventory, opening
// time, the person index (replay or conflict), the partition's rate limit,
// the slot's sold-out flag, the partition's in-flight bound, then, holding
// the person's lock, book in the slot's partition and record the booking in
// the person index. It returns the booking, whether it is an idempotent
// replay, and the partition for metrics (nil when none was involved).
func (s *Server) book(ctx context.Context, req BookingRequest, idemKey string) (store.Record, bool, *partition, *Error) {
	if s.closed.Load() {
		return store.Record{}, false, nil, unavailable()
	}
	key := models.SlotKey{PPV: req.PPV, Date: req.Date}
	sl := s.slots[key]
	if sl == nil {
		if _, ok := s.ppvs[req.PPV]; !ok {
			return store.Record{}, false, nil, errorf(CodeUnknownPPV, "unknown PPV %q", truncate(req.PPV))
		}
		return store.Record{}, false, nil, errorf(CodeNoSlot, "PPV %q has no slot on %s", req.PPV, req.Date)
	}
	now := s.now()
	if opens := s.opensFor(req.PPV); now.Before(opens) {
		return store.Record{}, false, nil, &Error{Code: CodeNotOpen, RetryAfter: opens.Sub(now),
			Message: "booking opens at " + opens.UTC().Format(time.RFC3339)}
	}
	// The person index answers replays and conflicts without charging the
	// partition: it is memory, like a cache in front of the store.
	if s.persons != nil {
		if prev, ok := s.persons.get(req.PersonID); ok {
			return s.replay(prev, req, idemKey)
		}
	}
	p := sl.part
	if p.faults != nil {
		// Storage that is down refuses before the partition's budget is
		// charged: its limits are its throughput, and it has none.
		if err := p.faults.Refuse(); err != nil {
			return store.Record{}, false, p, partitionUnavailable(err)
		}
	}
	if wait, ok := allow(p.write, now); !ok {
		p.throttledW.Add(1)
		p.m.throttledW.Inc()
		return store.Record{}, false, p, &Error{Code: CodeThrottled, RetryAfter: wait,
			Message: "too many booking attempts for this partition; retry after the delay in Retry-After"}
	}
	if sl.soldOut.Load() {
		return s.soldOut(ctx, p, req, idemKey)
	}
	if e := s.enter(ctx, p, true); e != nil {
		return store.Record{}, false, p, e
	}
	defer s.leave(p)
	rec := store.Record{
		Booking: models.Booking{
			ID: bookingID(p.idx), PersonID: req.PersonID, PPV: req.PPV, Date: req.Date,
			CreatedAt: now.UTC().Truncate(time.Microsecond),
		},
		IdempotencyKey: idemKey,
	}
	if s.shared != nil {
		return s.commitShared(ctx, p, sl, rec, req)
	}
	return s.commitLocal(ctx, p, sl, rec, req)
}

// commitLocal books rec in p holding the person's lock of the in-process
// person index, and records it there.
func (s *Server) commitLocal(ctx context.Context, p *partition, sl *slot, rec store.Record, req BookingRequest) (store.Record, bool, *partition, *Error) {
	unlock, err := s.persons.lock(ctx, req.PersonID)
	if err != nil {
		return store.Record{}, false, p, gone(err)
	}
	defer unlock()
	if prev, ok := s.persons.get(req.PersonID); ok {
		return s.replay(prev, req, rec.IdempotencyKey)
	}
	remaining, err := p.st.Book(ctx, rec)
	if err == nil {
		s.persons.put(rec)
	} else if errors.Is(err, store.ErrDuplicate) {
		// The person index missed a booking the partition holds: a bug,
		// but the store kept the invariant.
		s.log.Error("store refused a duplicate booking the person index missed", "person_id", req.PersonID, "err", err)
		return store.Record{}, false, p, errorf(CodeAlreadyBooked, "this person already holds a booking")
	}
	return s.booked(ctx, p, sl, rec, req, remaining, err)
}

// commitShared books rec in p of a shared store, which keeps one booking
// per person itself: a duplicate is answered from the booking the store
// holds for the person (a replay or a conflict).
func (s *Server) commitShared(ctx context.Context, p *partition, sl *slot, rec store.Record, req BookingRequest) (store.Record, bool, *partition, *Error) {
	remaining, err := p.st.Book(ctx, rec)
	if errors.Is(err, store.ErrDuplicate) {
		prev, perr := s.shared.PersonBooking(ctx, req.PersonID)
		if perr != nil {
			return store.Record{}, false, p, internal(fmt.Errorf("booking of person after a duplicate: %w", perr))
		}
		return s.replay(prev, req, rec.IdempotencyKey)
	}
	return s.booked(ctx, p, sl, rec, req, remaining, err)
}

// booked answers the outcome err of booking rec in p, which left
// remaining places in sl.
func (s *Server) booked(ctx context.Context, p *partition, sl *slot, rec store.Record, req BookingRequest, remaining int, err error) (store.Record, bool, *partition, *Error) {
	var te *store.ThrottledError
	switch {
	case err == nil:
		if remaining == 0 {
			sl.soldOut.Store(true)
		}
		return rec, false, p, nil
	case errors.Is(err, store.ErrSoldOut):
		sl.soldOut.Store(true)
		return s.soldOut(ctx, p, req, rec.IdempotencyKey)
	case errors.As(err, &te), errors.Is(err, store.ErrThrottled):
		return store.Record{}, false, p, storeThrottled(te)
	case errors.Is(err, store.ErrClosed):
		return store.Record{}, false, p, unavailable()
	case errors.Is(err, store.ErrUnavailable):
		return store.Record{}, false, p, partitionUnavailable(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return store.Record{}, false, p, gone(err)
	default:
		return store.Record{}, false, p, internal(fmt.Errorf("book %s/%s: %w", req.PPV, req.Date, err))
	}
}

// soldOut answers a booking of a sold-out slot in p: 409 sold_out, unless
// over a shared store the request repeats the Idempotency-Key of the
// booking the person holds (a replay another server may have answered).
func (s *Server) soldOut(ctx context.Context, p *partition, req BookingRequest, idemKey string) (store.Record, bool, *partition, *Error) {
	p.soldOut.Add(1)
	if s.shared != nil && idemKey != "" {
		if prev, err := s.shared.PersonBooking(ctx, req.PersonID); err == nil && prev.IdempotencyKey == idemKey {
			return s.replay(prev, req, idemKey)
		}
	}
	return store.Record{}, false, p, errorf(CodeSoldOut, "no place left at %s on %s", req.PPV, req.Date)
}

// storeThrottled answers a booking the storage engine refused for lack of
// capacity: 429 with the engine's delay, or a second when it gave none.
func storeThrottled(te *store.ThrottledError) *Error {
	wait := time.Second
	if te != nil && te.RetryAfter > 0 {
		wait = te.RetryAfter
	}
	return &Error{Code: CodeThrottled, RetryAfter: wait,
		Message: "the storage engine throttled this booking; retry after the delay in Retry-After"}
}

// replay answers a booking request of a person who already holds prev: the
// same booking when the request repeats prev's Idempotency-Key and body, 422
// when it repeats the key with another body, 409 already_booked otherwise.
func (s *Server) replay(prev store.Record, req BookingRequest, idemKey string) (store.Record, bool, *partition, *Error) {
	if idemKey == "" || idemKey != prev.IdempotencyKey {
		return store.Record{}, false, nil, errorf(CodeAlreadyBooked, "this person already holds a booking")
	}
	if prev.PPV != req.PPV || prev.Date != req.Date {
		return store.Record{}, false, nil, errorf(CodeIdempotencyMismatch,
			"Idempotency-Key was already used by this person with another request body")
	}
	return prev, true, nil, nil
}

// enter admits a request to partition p's in-flight bound.
func (s *Server) enter(ctx context.Context, p *partition, write bool) *Error {
	switch p.gate.enter(ctx) {
	case admitted:
		p.inFlight.Add(1)
		p.m.inFlight.Inc()
		return nil
	case gaveUp:
		return gone(ctx.Err())
	}
	if write {
		p.shedW.Add(1)
		p.m.shedW.Inc()
	} else {
		p.shedR.Add(1)
		p.m.shedR.Inc()
	}
	return &Error{Code: CodeOverloaded, RetryAfter: p.gate.retryAfter(),
		Message: "this partition is overloaded; retry after the delay in Retry-After"}
}

// leave ends a request admitted by enter.
func (s *Server) leave(p *partition) {
	p.inFlight.Add(-1)
	p.m.inFlight.Dec()
	p.gate.leave()
}

func unavailable() *Error {
	return &Error{Code: CodeUnavailable, RetryAfter: time.Second, Message: "the server is shutting down"}
}

// partitionUnavailable is the answer to a request whose partition's
// storage is unavailable (store.ErrUnavailable): 503, retry in a second.
func partitionUnavailable(err error) *Error {
	return &Error{Code: CodePartitionUnavailable, RetryAfter: time.Second, Err: err,
		Message: "the storage of this slot's partition is unavailable; nothing was written; retry after the delay in Retry-After"}
}

// gone is the answer to a request whose client went away or timed out while
// waiting; nobody reads it, but it is logged and counted as overloaded.
func gone(err error) *Error {
	return &Error{Code: CodeOverloaded, RetryAfter: time.Second, Message: "request abandoned while waiting", Err: err}
}
