// Package pgstore is the PostgreSQL implementation of the reference server's
// store (package store), built on jackc/pgx/v5. It is a store.SharedStore:
// several API server processes may open the same namespace at once, and the
// store itself keeps the one-booking-per-person rule across partitions and
// processes. It is also a store.EngineStore; it keeps no waiting room (no
// store.RoomStore).
//
// # Namespace
//
// A design's data lives in one schema per storage layout,
// <prefix>_<scheme> with dashes as underscores (slotrush_per_ppv_day;
// Config.Schema names it outright instead). Designs that differ only in
// limits or waiting room share it. Open creates it the first time, in one
// transaction under a transaction-scoped advisory lock (pg_advisory_xact_lock
// on a hash of the schema name), so that processes opening at once wait for
// the first one and then find it ready; later opens check its meta table
// (scheme, SHA-256 of the slot inventory, number of shards) and refuse
// another design with store.ErrMismatch. Drop removes the schema.
//
//	meta(k, v)                          what the schema holds
//	slots(part_key, ppv, date, capacity, remaining)      PK (part_key, ppv, date)
//	bookings(part_key, id, person_id, ppv, date, created_at µs, idem_key)
//	                                    PK (part_key, id)
//	persons(person_id PK, booking_id UNIQUE, part_key, state, claimed_at)
//	booking_ids(booking_id PK, void)    several shards only
//
// Monolithic is one plain slots table and one bookings table, as the 2021
// system had: a row lock per slot, one database. per-ppv and per-ppv-day
// partition both tables with PARTITION BY LIST (part_key), one PostgreSQL
// partition (slots_p<i>, bookings_p<i>) per slotrush partition i of
// models.Design.Partitions. Their sessions plan with
// plan_cache_mode=force_custom_plan, so every statement, addressed to the
// parent table with its part_key, is pruned to one partition at planning
// (a cached generic plan would lock every partition at each execution).
//
// # Booking
//
// With one server, Book is one transaction, its statements pipelined in one
// round trip and COMMIT in a second:
//
//	BEGIN
//	INSERT INTO persons (person_id, booking_id, part_key, 'booked')  -- taken: ErrDuplicate
//	INSERT INTO bookings (...)                                        -- id taken: ErrDuplicate
//	UPDATE slots SET remaining = remaining - 1
//	  WHERE part_key = $ AND ppv = $ AND date = $ AND remaining > 0
//	  RETURNING remaining                                             -- no row: ErrSoldOut
//	COMMIT
//
// The order is the lock order: the person's key first (a second attempt of
// the same person waits there, then fails), the slot last, so the slot's row
// lock, the contended one, is held only from its UPDATE to the end of
// COMMIT, and every transaction takes its locks in the same order (no
// deadlocks between bookings). A slot absent from the partition is
// ErrNoSlot before any statement. Serialization failures and deadlocks
// (SQLSTATE 40001, 40P01) are retried up to three times.
//
// Waiting for a pooled connection is waiting to be taken up: if ctx ends
// then, Book returns ctx's error with nothing written. From the first
// statement on, Book ignores ctx and runs to its outcome, bounded by
// Config.BookTimeout; if the connection breaks during COMMIT it waits, on
// another connection, for the old server process to end and then looks the
// booking up, so that a nil error always means committed.
//
// # Durability
//
// Every session starts with synchronous_commit=on (checked at Open): COMMIT
// returns once the commit record is flushed to the WAL, so a booking Book
// reported as stored survives a crash of the server (pg_ctl stop -m
// immediate, kill -9, power loss as far as the disk honours the flush).
// Engine().Durability reports the servers' fsync setting: with fsync=off
// nothing survives a power loss.
//
// # Shards
//
// Config.URLs may name several servers (or databases): shards. The rule:
//
//   - partition i of models.Design.Partitions lives on shard i mod N, N =
//     len(URLs) (its slots, its bookings, and booking_ids of its bookings);
//   - person p's row lives on shard FNV-1a-64(p) mod N.
//
// The order of URLs is part of the data: meta records each shard's index and
// N, and Open refuses another N with ErrMismatch. With one URL everything
// is one transaction as above. With several, the one-booking-per-person
// rule uses a claim:
//
//  1. on the person's shard, INSERT a persons row (booking id, partition,
//     state 'pending', claimed_at = now()); a conflict is ErrDuplicate
//     (unless the existing claim is stale and settles void: then retry);
//  2. on the slot's shard, the booking transaction, registering the booking
//     id in booking_ids instead of inserting the person;
//  3. on success mark the claim 'booked'; on ErrSoldOut, ErrDuplicate or
//     another error with nothing written, delete it. Both with
//     synchronous_commit=off: settling redoes them after a crash.
//
// A claim left 'pending' (a process died between the steps) is settled by
// PersonBooking, by a new claim of the same person, and at Open for every
// stale one: if booking_ids on the slot's shard holds its booking id, it is
// 'booked'; if not and the claim is older than Config.ClaimTimeout (2 min),
// the id is inserted into booking_ids as void and the claim deleted. The
// void row makes a booking transaction still in flight for that id fail,
// and the insert waits for one holding the id, so a claim is never deleted
// under a booking that commits. A young pending claim is left alone: it
// keeps the person from booking elsewhere, and PersonBooking reports no
// booking. Booking ids are unique per slot shard (booking_ids) and per
// person shard (persons.booking_id); callers make them globally unique.
//
// # Connections
//
// Each shard has a pgxpool.Pool of at most Config.MaxConns connections
// (the URL's other pool_* parameters tune it), dialled on demand, each
// session started with synchronous_commit=on. The pool pings a connection
// idle for more than a second before handing it out, and closes one
// returned broken, busy or inside a transaction. Open takes the first
// connection of each pool and fails within Config.ConnectTimeout (5 s)
// when a server cannot be reached, with an error naming postgresql, the
// address (host:port/db, never the password) and what to check: the server
// and URL, the user and password, or the database. After Close, Book and
// the reads fail with store.ErrClosed; Close waits for the connections in
// use to come back.
package pgstore
