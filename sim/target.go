package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/time/rate"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/api"
	"github.com/slotrush/slotrush/results"
	"github.com/slotrush/slotrush/scenarios"
)

// This file holds what a run needs around an external target (a system
// slotrush did not start): its inventory read through its API before the
// run, what it states about itself, and the audit of its 201s through its
// API after the run. Nothing about a target is assumed that was not
// observed or stated.

// Bounds of the reads around a target's run (inventory, audit). They are
// not part of the measured load: a read answered 429, 502, 503 or 504, or
// lost to a timeout or a reset, is tried again after max(Retry-After,
// backoff), up to readAttempts times; a refused connection is not.
const (
	readAttempts   = 5
	readBackoff    = 50 * time.Millisecond
	readMaxBackoff = time.Second
	readMaxWait    = 5 * time.Second
	// inventoryWorkers bounds the slot listings read at once.
	inventoryWorkers = 4
)

// TargetInventory is a target's inventory as its API listed it before a
// run. It is plain data, safe for concurrent reads.
type TargetInventory struct {
	// Inventory holds the centres the target lists and their slots, each
	// with the capacity the target gave it.
	Inventory models.Inventory
	// Remaining holds the places each listed slot had left.
	Remaining map[models.SlotKey]int
}

// RemainingPlaces returns the places left over every listed slot: the
// capacity a run against the target can book.
func (t *TargetInventory) RemainingPlaces() int64 {
	var n int64
	for _, r := range t.Remaining {
		n += int64(max(r, 0))
	}
	return n
}

// MissingPPVs returns, sorted, the centres the crowd's preferences name
// that the target does not list: a crowd may only ask for centres the
// target has.
func (t *TargetInventory) MissingPPVs(crowd []scenarios.Arrival) []string {
	have := make(map[string]bool, len(t.Inventory.PPVs))
	for _, p := range t.Inventory.PPVs {
		have[p.ID] = true
	}
	seen := map[string]bool{}
	var missing []string
	for i := range crowd {
		for _, id := range crowd[i].PPVs {
			if !have[id] && !seen[id] {
				seen[id] = true
				missing = append(missing, id)
			}
		}
	}
	slices.Sort(missing)
	return missing
}

// ReadInventory reads the target's centres (list_ppvs) and then each
// centre's slots (list_slots, a few centres at a time) through c. It
// returns an error naming the call when one is not answered 200 with a
// body of API v1 after the retries above (a target that is down fails at
// once with the connection's error), and when the listed inventory is
// invalid (duplicate centres or slots, negative capacities).
func ReadInventory(ctx context.Context, c *Client) (*TargetInventory, error) {
	resp := readPatiently(ctx, c, nil, Request{Op: results.OpListPPVs, ReadList: true}, nil)
	if err := answerErr(resp, http.StatusOK); err != nil {
		return nil, fmt.Errorf("list centres (GET /api/v1/ppvs): %w", err)
	}
	out := &TargetInventory{
		Inventory: models.Inventory{PPVs: resp.PPVs},
		Remaining: map[models.SlotKey]int{},
	}
	slots := make([][]SlotView, len(resp.PPVs))
	errs := make([]error, len(resp.PPVs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(inventoryWorkers, len(resp.PPVs)) {
		wg.Go(func() {
			for i := range next {
				id := resp.PPVs[i].ID
				r := readPatiently(ctx, c, nil, Request{Op: results.OpListSlots, PPV: id}, nil)
				if err := answerErr(r, http.StatusOK); err != nil {
					errs[i] = fmt.Errorf("list slots of centre %q (GET /api/v1/ppvs/%s/slots): %w", id, id, err)
				}
				slots[i] = r.Slots
			}
		})
	}
	for i := range resp.PPVs {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, p := range resp.PPVs {
		for _, s := range slots[i] {
			out.Inventory.Slots = append(out.Inventory.Slots, models.Slot{PPV: p.ID, Date: s.Date, Capacity: s.Capacity})
			out.Remaining[models.SlotKey{PPV: p.ID, Date: s.Date}] = s.Remaining
		}
	}
	if errs := out.Inventory.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("the target lists an invalid inventory: %w", errors.Join(errs...))
	}
	return out, nil
}

// ReadAbout asks the target at base what it states about itself
// (GET /api/v1/about, API v1), through rt, bounding the call by timeout.
// It returns the statement, or nil and the reason the target stated
// nothing: any answer but 200 with a JSON object of api.About stating at
// least one field (a 404 from a server without the call, a page that is
// not JSON, an empty object, a transport error). A target that states
// nothing is not an error of the run.
func ReadAbout(ctx context.Context, rt http.RoundTripper, base string, timeout time.Duration) (*api.About, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/api/v1/about", http.NoBody)
	if err != nil {
		return nil, err
	}
	res, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v1/about answered %d", res.StatusCode)
	}
	var a api.About
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("GET /api/v1/about: not an about object: %w", err)
	}
	if !a.Stated() {
		return nil, errors.New("GET /api/v1/about states nothing")
	}
	return &a, nil
}

// StatedAssumptions returns the assumptions a target's statement a
// supports, with Source results.SourceStated, or, for a nil a, empty
// assumptions with Source results.SourceUnstated. A field a does not state
// stays zero; the store's engine and version are joined into Store.
func StatedAssumptions(a *api.About) results.Assumptions {
	if a == nil {
		return results.Assumptions{Source: results.SourceUnstated}
	}
	out := results.Assumptions{
		Scheme: a.Scheme, Partitions: a.Partitions, Durability: a.Store.Durability,
		Store: strings.TrimSpace(a.Store.Engine + " " + a.Store.Version), Source: results.SourceStated,
	}
	if a.Limits != nil {
		out.Limits = *a.Limits
	}
	if a.WaitingRoom != nil {
		out.WaitingRoom = *a.WaitingRoom
	}
	return out
}

// APIAudit is the audit of the bookings a target answered 201, read back
// one by one through its API (get_booking). Answered201 = Found + Missing +
// Unread. It is plain data once AuditBookings returned.
type APIAudit struct {
	// Answered201 is the number of booking ids audited.
	Answered201 int64
	// Found counts the bookings read back (200).
	Found int64
	// Missing counts the bookings the target does not know (404): 201s
	// that were not kept.
	Missing int64
	// Unread counts the bookings the audit could not read: any other
	// answer, after the retries, or the audit cut short by its context.
	Unread int64
	// FirstUnread says why the first unread booking could not be read
	// ("" when none was).
	FirstUnread string
	// BySlot counts the bookings found per slot, as the target answered.
	BySlot map[models.SlotKey]int64
	// Latency holds the time of every answered get_booking (µs), retries
	// included.
	Latency *hdrhistogram.Histogram
}

// AuditBookings reads back every booking in ids through c, with workers
// goroutines sharing a limit of perSecond reads a second (unlimited when
// perSecond <= 0), so that the audit is not a second load test. Reads the
// target throttles or loses are tried again as ReadInventory's; what is
// still unread when the retries or ctx end is counted Unread. It returns no
// error: a failed read is data.
func AuditBookings(ctx context.Context, c *Client, ids []string, perSecond float64, workers int) *APIAudit {
	lim := rate.NewLimiter(rate.Inf, 1)
	if perSecond > 0 {
		lim = rate.NewLimiter(rate.Limit(perSecond), 1)
	}
	workers = max(1, min(workers, len(ids)))
	parts := make([]*APIAudit, workers)
	next := make(chan string)
	var wg sync.WaitGroup
	for w := range parts {
		part := newAPIAudit()
		parts[w] = part
		wg.Go(func() {
			for id := range next {
				part.read(ctx, c, lim, id)
			}
		})
	}
	for _, id := range ids {
		next <- id
	}
	close(next)
	wg.Wait()
	out := newAPIAudit()
	for _, p := range parts {
		out.merge(p)
	}
	return out
}

func newAPIAudit() *APIAudit {
	return &APIAudit{BySlot: map[models.SlotKey]int64{}, Latency: results.NewLatencyHistogram()}
}

// read audits booking id into a.
func (a *APIAudit) read(ctx context.Context, c *Client, lim *rate.Limiter, id string) {
	a.Answered201++
	resp := readPatiently(ctx, c, lim, Request{Op: results.OpGetBooking, BookingID: id}, func(d time.Duration) {
		_ = a.Latency.RecordValue(max(d.Microseconds(), results.HistMinMicros)) // beyond an hour: clipped by the client's timeout
	})
	switch {
	case resp.Status == http.StatusOK && resp.Err == nil && resp.Booking != nil:
		a.Found++
		a.BySlot[models.SlotKey{PPV: resp.Booking.PPV, Date: resp.Booking.Date}]++
	case resp.Status == http.StatusNotFound:
		a.Missing++
	default:
		a.Unread++
		if a.FirstUnread == "" {
			a.FirstUnread = fmt.Sprintf("booking %s: %v", id, answerErr(resp, http.StatusOK))
		}
	}
}

// merge adds b's counts to a; a keeps its own FirstUnread when it has one.
func (a *APIAudit) merge(b *APIAudit) {
	a.Answered201 += b.Answered201
	a.Found += b.Found
	a.Missing += b.Missing
	a.Unread += b.Unread
	if a.FirstUnread == "" {
		a.FirstUnread = b.FirstUnread
	}
	for k, n := range b.BySlot {
		a.BySlot[k] += n
	}
	a.Latency.Merge(b.Latency) // same bounds: drops nothing
}

// Oversold returns the bookings found beyond the places their slot had
// left at the start of the run, summed over slots: a slot the target
// answered 201 for more often than it had places (a slot it did not list
// had none).
func (a *APIAudit) Oversold(inv *TargetInventory) int64 {
	var n int64
	for k, found := range a.BySlot {
		n += max(0, found-int64(max(inv.Remaining[k], 0)))
	}
	return n
}

// FillTargetSlots writes the slots of a run against a target into d: the
// places remaining at the start as capacity (results.InventoryAPI), the
// distinct bookings answered 201 as booked, the API audit's figures
// (results.AuditAPI: persisted = found, missing = 404; bookings the audit
// could not read are in neither, so persisted + missing < answered_201
// then), as oversold the larger of the bookings found beyond their slot's
// remaining places and the distinct 201s beyond the places remaining at
// the start (counted with or without an audit: the target answered them,
// so booked ≤ capacity + oversold holds, as results.Check wants), lost
// (Recorder.LostBookings) as unknown outcomes, and the audit's get_booking
// latencies. A nil audit (the run was not audited) leaves persisted at -1
// with results.AuditNone. It returns the histogram encoder's error.
func FillTargetSlots(d *results.DesignResult, inv *TargetInventory, ids []string, audit *APIAudit, lost []int) error {
	d.Slots = results.Slots{
		Capacity: inv.RemainingPlaces(), Booked: int64(len(ids)), Answered201: int64(len(ids)),
		Persisted: -1, UnknownOutcome: int64(len(lost)), Inventory: results.InventoryAPI, Audit: results.AuditNone,
	}
	// 201s beyond the places on offer at the start were sold beyond them.
	d.Slots.Oversold = max(0, d.Slots.Booked-d.Slots.Capacity)
	if audit == nil {
		return nil
	}
	d.Slots.Persisted, d.Slots.Missing, d.Slots.Audit = audit.Found, audit.Missing, results.AuditAPI
	d.Slots.Oversold = max(d.Slots.Oversold, audit.Oversold(inv))
	if audit.Latency.TotalCount() == 0 {
		return nil
	}
	enc, err := results.EncodeHistogram(audit.Latency)
	if err != nil {
		return err
	}
	if d.LatencyMs == nil {
		d.LatencyMs = map[string]results.LatencySummary{}
	}
	if d.Histograms == nil {
		d.Histograms = map[string]string{}
	}
	d.LatencyMs[results.OpGetBooking] = results.Summarize(audit.Latency)
	d.Histograms[results.OpGetBooking] = enc
	return nil
}

// readPatiently sends r through c, waiting for lim (when set) before each
// try, and tries again after a throttled, overloaded or lost answer (see
// readAttempts). It calls answered, when set, with the time of each try
// that got an answer.
func readPatiently(ctx context.Context, c *Client, lim *rate.Limiter, r Request, answered func(time.Duration)) Response {
	backoff := readBackoff
	for attempt := 1; ; attempt++ {
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				return Response{Err: err}
			}
		}
		start := time.Now()
		resp := c.Do(ctx, r)
		if resp.Status != 0 && answered != nil {
			answered(time.Since(start))
		}
		if attempt == readAttempts || ctx.Err() != nil || !worthRetrying(resp) {
			return resp
		}
		wait := min(max(resp.RetryAfter, backoff), readMaxWait)
		backoff = min(2*backoff, readMaxBackoff)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp
		case <-t.C:
		}
	}
}

// worthRetrying reports whether a read answered resp may succeed if tried
// again: throttled, overloaded or unavailable, or lost on the way (but not
// refused: nothing listens there).
func worthRetrying(resp Response) bool {
	switch resp.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case 0:
		return resp.Err != nil && !errors.Is(resp.Err, syscall.ECONNREFUSED)
	}
	return false
}

// answerErr returns nil when resp is a want answer with a readable body,
// else an error saying what came back instead.
func answerErr(resp Response, want int) error {
	switch {
	case resp.Status == 0 && resp.Err != nil:
		return resp.Err
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		return fmt.Errorf("answered %d %s: the target wants credentials or a waiting-room token for this read, which slotrush does not hold", resp.Status, resp.Code)
	case resp.Status != want && resp.Code != "":
		return fmt.Errorf("answered %d %s", resp.Status, resp.Code)
	case resp.Status != want:
		return fmt.Errorf("answered %d", resp.Status)
	case resp.Err != nil:
		return fmt.Errorf("answered %d with a body API v1 does not have: %w", resp.Status, resp.Err)
	}
	return nil
}

// ResolveLost asks target c, through its profile's find_booking, whether
// each person whose booking answer was lost holds a booking, at perSecond
// reads a second. It returns the persons it could not resolve (no such
// operation in the profile, or no clear answer) and the ids of the
// bookings it found. Safe for concurrent use when c is.
func ResolveLost(ctx context.Context, c *Client, persons []string, perSecond float64) (unresolved, found []string) {
	if !c.Profile().Has(results.OpFindBooking) {
		return persons, nil
	}
	lim := rate.NewLimiter(rate.Limit(perSecond), 1)
	for _, p := range persons {
		resp := readPatiently(ctx, c, lim, Request{Op: results.OpFindBooking, PersonID: p}, nil)
		switch {
		case resp.Err == nil && resp.Booking != nil:
			found = append(found, resp.Booking.ID)
		case resp.Classify() == KindNotFound:
		default:
			unresolved = append(unresolved, p)
		}
	}
	return unresolved, found
}
