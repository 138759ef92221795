// Package sim is the crowd in motion: the user journey as one state machine
// (list PPVs → list slots → book; on 409 try another slot, on 429 wait
// Retry-After, on 5xx or timeout back off, give up when patience runs out)
// and the engines that drive it. The live engine sends real HTTP to a target
// on a real clock; journeys are paced open-model, so latency is measured from
// each request's scheduled start and a slow server cannot slow the crowd.
//
// # The model engine
//
// The model engine (Simulate) replays a scenario's crowd against a model of
// each design on a virtual clock, as a discrete-event simulation. It drives
// the very journeys the live engine drives (NewJourney, PolicyFor, Start,
// Next) for the very crowd (scenarios.Scenario.Arrivals with the same seed),
// and records through the same Recorder, so a model result has the shape of
// a live one; only its "engine" says "model". A run is deterministic: the
// same scenario, seed and parameters give the same result, byte for byte
// but for its timestamps and environment.
//
// # What is modelled
//
// A partition is one of models.Design.Partitions(inventory): the slots it
// stores, its own limits, its own store. The model of a partition follows
// the reference server's rules in the reference server's order:
//
//   - list_ppvs reads the PPV catalogue from memory: no partition is
//     charged; it takes one Front service time.
//   - list_slots charges one read token to every partition holding a day of
//     the PPV, all or nothing (per-ppv-day charges all of the PPV's days);
//     when one has none the answer is 429 with the longest wait as
//     Retry-After. It then reads the partitions one after the other, each
//     taking a turn of the partition's in-flight bound and one Read service
//     time, and answers each slot's places left at that moment.
//   - book answers 503 not_open (Retry-After: until the opening) before the
//     scenario's opening delay; 201 again (an idempotent replay, same
//     Idempotency-Key) or 409 already_booked when the person holds a
//     booking; 429 when the partition's write bucket is empty (Retry-After:
//     until the next token); 409 sold_out when the slot's sold-out flag is
//     set; then it takes a turn of the in-flight bound, the person's lock,
//     and queues for the partition's single writer. The writer takes
//     everything queued (up to MaxBatch) into one group commit lasting
//     CommitBase + n·CommitPerBooking (times a draw of CommitShape); each attempt
//     commits while its slot has places (201), else 409 sold_out. A slot is
//     never booked beyond its capacity; a person never holds two bookings.
//   - Token buckets are golang.org/x/time/rate's: full at start, refilled at
//     the rate up to the burst (burst 0: one second's worth).
//   - The in-flight bound (MaxInFlight) is a FIFO multi-server station: a
//     request finding every turn taken waits, unless MaxQueue are already
//     waiting (503 at once), and at most MaxWait (then 503). Retry-After of
//     a shed request is max(MaxWait, 1s).
//   - Retry-After reaches the client as the reference server's
//     Retry-After-Ms: rounded up to the millisecond, at least 1 ms.
//   - Each request draws a network round trip (RTT) and spends half of it
//     on the way in, half on the way out (plus, on the way out, the
//     operation's Extra). The client gives up on a request after the
//     scenario's request timeout (a transport error for the journey); the
//     server's side carries on as the reference server's does: a request
//     still waiting for a turn, for the person's lock or for the writer is
//     dropped, one being read or inside a group commit completes and may
//     commit, so a timed-out booking may hold a place and its retry gets the
//     booking back by its Idempotency-Key. Retry storms and congestion
//     collapse come out of these rules; none is assumed.
//   - A design named "+waiting-room" puts the reference server's waiting
//     room in front (models.RoomPolicy, from the scenario), and its
//     journeys join it first (Policy.WaitingRoom), as the live client does.
//     Joining gives a ticket; polls answer "waiting" with a polling
//     interval as Retry-After (until the first round that can admit the
//     person, at least one round, at most 20 s), "admitted" with a token,
//     or "expired". From the opening, a round every Interval admits up to
//     AdmitPerInterval people in queue order (a random order for everyone
//     who joined before the opening when Order is random) while fewer than
//     MaxActive are active; a person stops being active on booking or when
//     the admission expires after TokenTTL, and joins again at the back.
//     The booking API answers 403 without a valid token (the journey then
//     joins again, once). Like the server, the room cannot tell that a
//     waiting person gave up: such a person is still admitted and counts as
//     active until the admission expires. The room's own commits to its
//     store take no time in the model.
//
// # Measured and assumed
//
// The parameters (ModelParams) are the round trip and each operation's
// extra client-side time, the Front and Read service-time distributions,
// the group-commit cost and its spread, and MaxBatch. DefaultModelParams
// assumes values from the storage facts of DESIGN.md (one SQLite file with
// WAL near 3k tx/s at synchronous=FULL without batching, 16k tx/s with
// group commit; a read of 50-100 µs) and a loopback round trip.
// CalibrateModel measures them from a live result made with the in-process
// reference server: the round trip from the client's list_ppvs latency less
// the server's time for it (everything outside the server's handler:
// loopback, HTTP stacks, scheduling), what other operations cost the client
// beyond it, Front and Read from the server's service-time histograms, the
// spread of commit times from its group-commit durations (server.commit;
// older results: book service times), all resampled as measured, and the
// commit cost from the partitions' busy time, batch count and mean batch
// size. Each model result lists every parameter with its value, unit,
// whether it was measured and where it came from
// (results.DesignResult.Calibration). A calibration takes whatever the
// machine did during the live run as the system's own behaviour, so
// calibrate from a run on an otherwise idle machine. CompareAgreement
// says how a model result agrees with the live result it was calibrated
// from: the difference of booked shares in percentage points and the ratio
// of book p50 latencies; the agreement check (make agreement) accepts 10
// points and a factor of 2. Measured agreement: docs/BENCHMARKS.md.
//
// # Cost
//
// Users are structs in a slice, events 32-byte values in a calendar queue
// (or a FIFO ring when their delay is the same for all), nothing runs per
// user in its own goroutine, and requests are tallied without locks and
// merged into
// the Recorder at the end; designs run in parallel. Bookings answered
// not_open before the opening depend on the clock alone, so each user's
// run of them is answered in one loop, through the journey, without the
// event queue (ModelStats.Inline counts them). The cost is then about one
// journey step and two histogram updates per request, so a run costs in
// proportion to the requests the crowd makes, which the scenario's rules
// decide: refreshers that click again every 0.5 to 1.5 refresh intervals
// (journey.refresh_interval) before a 15-minute opening delay make
// hundreds of millions of requests at national scale,
// and a design that throttles hundreds of thousands of them for minutes
// makes more.
//
// # Not modelled
//
// The web tier's CPU (HTTP parsing, JSON, TLS) is not a shared resource in
// the model: answers that touch no store cost one Front time each, in
// parallel without bound, as if the tier scaled out, and the contention a
// live run on one machine adds is a fixed distribution (RTT, Extra)
// calibrated at that run's load, not a function of the load. The store's read
// connection pool, SQLite lock waits between readers and the writer, the
// Go scheduler, garbage collection pauses, TCP connection set-up and
// network loss are not modelled; nor are get_booking calls (no journey makes
// them). The server's answer to a request whose client went away is not
// recorded, as it is not in a live run. A listing's places left are read
// when its last partition read ends.
package sim
