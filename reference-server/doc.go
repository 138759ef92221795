// Package refserver is the slotrush reference booking server: a real HTTP
// server (API v1, documented in README.md beside this file)
// whose slot storage is split by a partitioning design, each partition an
// independent store with its own writer and its own capacity limits.
//
// The folder is named reference-server, which cannot be a Go package name;
// the package is refserver. Its sub-packages are store (the storage seam:
// interfaces PostgreSQL or DynamoDB-API stores can implement),
// sqlitestore (the embedded default, the only one needing cgo) and
// faultstore (storage faults injected at the seam, WithFaults).
//
// # Invariants and how they hold
//
//   - A slot is never booked beyond its capacity: the partition's single
//     writer decrements the slot's counter only while it is positive, in the
//     same transaction as the booking row (see sqlitestore).
//   - A booking answered 201 is durable: the store reports success only
//     after the commit's fsync (SQLite WAL, synchronous=FULL), so it
//     survives kill -9 and power loss.
//   - A person holds at most one booking, across partitions, without a
//     global lock: an in-process keyed lock per person is held across
//     "check the person index → book in the slot's partition → record in
//     the index". The index is memory derived from the partitions (the
//     source of truth), rebuilt by scanning them at start, so there is no
//     second commit and nothing to reconcile after a crash.
//   - A retried request with the same Idempotency-Key never books twice:
//     keys are scoped per person and stored with the person's booking; a
//     replay (even concurrent, serialized by the person's lock) answers 201
//     with the same body, the same key with another body answers 422
//     idempotency_mismatch.
//
// # Limits
//
// Each partition has the models.Limits of its design: token buckets for
// writes and reads (429 throttled with Retry-After), and an in-flight bound
// with a bounded queue and queue wait (503 overloaded with Retry-After). A
// slot listing charges every partition holding a requested day of the PPV.
// Admission costs an atomic or a channel operation per partition; no lock is
// shared between partitions.
//
// # Waiting room
//
// A design named ...+waiting-room (models.Design.WaitingRoom) puts a
// virtual waiting room in front of the booking API, with the policy
// models.Design.Room. POST /api/v1/queue gives a person their ticket (one
// per person, idempotent) and GET /api/v1/queue/{ticket} its status
// (QueueStatus: waiting with a position, an estimated wait and the advised
// polling interval as Retry-After; or admitted with a signed token). Every
// booking call then needs "Authorization: Bearer <token>": it is refused
// 403 (token_missing, token_invalid, token_expired, token_wrong_person)
// before it touches anything else.
//
// Admission runs in rounds at the opening time and every Interval; a round
// admits, in rank order, min(AdmitPerInterval, waiting, MaxActive - active)
// people, active meaning admitted, token unexpired and not booked. The
// people present at the opening are ranked in join order or in a random
// order drawn once; later arrivals queue behind them. Admission is lazy (a
// counter advanced by the rounds due at each call, one record per round),
// under one mutex never held across I/O; changes are group-committed by one
// writer through the store's Room (store.RoomStore), and an answer waits
// for the commit of what it reveals. Tokens are HMAC-SHA256 over (person,
// ticket, expiry) with a key kept in the data directory, so tickets,
// admissions and tokens survive kill -9 and restart. README.md documents
// the API, the rule, the token format and the costs.
//
// # Concurrency
//
// A Server is safe for concurrent use. New starts one writer goroutine per
// partition (owned by the store) and, with a waiting room, the room's
// writer; Close stops them after they commit what they took up.
package refserver
