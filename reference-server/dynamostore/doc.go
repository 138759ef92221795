// Package dynamostore is the DynamoDB implementation of the reference
// server's store (package store), on aws-sdk-go-v2. It runs against
// DynamoDB on AWS or against DynamoDB Local (scripts/start-dynamodb.sh).
// Several processes may open the same tables at once: Store is a
// store.SharedStore, which keeps the one-booking-per-person rule itself.
//
// # Tables and key layout
//
// Each partitioning scheme gets one table, "<prefix>-<scheme>" (say
// slotrush-per-ppv-day), with a string partition key pk and a string sort
// key sk. The key layout is the design under test:
//
//	item      pk                         sk                  attributes
//	meta      M#meta                     M                   scheme, inventory (SHA-256), slots, seeded, ...
//	slot      P#<partition key>          S#<ppv>#<date>      ppv, date, capacity, remaining
//	booking   P#<partition key>          B#<booking id>      id, person, ppv, date, created (ns), idem, tok
//	person    U#<person id>              U                   id, person, part, ppv, date, created, idem
//
// where <partition key> is models.Design.Key's: "all" for monolithic (every
// slot and every booking under ONE partition key: the hot key of 2021),
// "ppv-<ppv>" for per-ppv and "ppv-<ppv>-<date>" for per-ppv-day. A slot's
// bookings live in its partition's item collection, so a partition's Scan
// and Audit are a Query on its pk. Person items spread over their own keys.
//
// Open creates the table when absent (race-safe: a ResourceInUseException
// means another process creates it, and Open waits until it is ACTIVE),
// writes the meta item once (attribute_not_exists) and seeds the slot items
// with conditional puts, so concurrent openers seed each slot once. A meta
// item naming another scheme or inventory is store.ErrMismatch (limits and
// the waiting room are runtime settings: designs of one scheme share the
// table). Config.TableName puts a design in a table of the caller's choice
// instead. Drop deletes a design's table.
//
// # Booking: one transaction
//
// Book is ONE TransactWriteItems of three actions: update the slot
// (remaining - 1, on condition that remaining equals the value the store
// expects), put the person item (attribute_not_exists) and put the booking
// item (attribute_not_exists). DynamoDB commits all three or none, so a slot
// can never be oversold and a person never holds two bookings, whatever
// the number of processes. Cancellation reasons map to the seam's errors:
// the slot's condition failed with no item (ReturnValuesOnConditionCheckFailure
// ALL_OLD) is store.ErrNoSlot, with remaining 0 store.ErrSoldOut; the person's
// or the booking's condition failed is store.ErrDuplicate.
//
// A booking id is unique within its partition (the booking item's key). The
// reference server's ids start with their partition's index, so they are
// unique across the store as well; the store does not spend a fourth item
// per booking to enforce it for other callers.
//
// # Places left: exact, from the slot's counter
//
// A transaction returns no values, so the store learns the places left
// from its condition: it expects the slot to hold remaining = r and, when the
// transaction commits, r-1 places are left: exact, with no read after the
// commit. Within a process, the bookings of one slot run one transaction at
// a time (a turn per slot), each expecting the count the previous one left,
// so they never fail on a stale expectation; bookings of different slots
// run concurrently. When another process booked the slot meanwhile, the
// condition fails, ALL_OLD returns the slot's real count, and the booking is
// retried at once with it (bounded; contention beyond the bound answers
// store.ErrThrottled). A slot whose count reached 0 is sold out for good
// (nothing gives a place back), so later bookings of it are refused
// without a request. DynamoDB itself lets one transaction at a time touch
// an item (concurrent ones fail with TransactionConflict), so the turn costs
// a slot no throughput the engine would give.
//
// # Retries and throttling
//
// The SDK's retryer is replaced by a bounded, deterministic one: at most 3
// attempts, without the client-side retry quota, for connection errors, HTTP
// 500/502/503/504, RequestTimeout and TransactionInProgressException only.
// Throttling is not retried: ProvisionedThroughputExceededException,
// ThrottlingException and RequestLimitExceeded (or those cancellation
// reasons) return a *store.ThrottledError at once, so that the server
// answers 429 and the run measures the engine's limits. Each transaction
// carries a ClientRequestToken (a hash of the table, the booking id, a
// per-Book nonce and the attempt, 32 hex digits), so an SDK retry of a
// transaction whose answer was lost applies once. A booking's own earlier
// write is also recognised by the token stored in the booking item. A
// TransactionConflict is retried by the store up to 6 times with jittered
// exponential backoff, then answered store.ErrThrottled. Scans, audits and
// table setup use a patient client (the SDK's standard retryer, 10 attempts,
// throttling included). The SDK's CRC32 check of responses is off: in
// service/dynamodb v1.74.0 it wraps a body already decoded, so it checks
// nothing and logs a warning per response.
//
// Once Book has sent the transaction (its slot's turn came), it waits for the
// outcome even if ctx ends (a detached context with a 30 s timeout). When an
// outcome stays unknown (the endpoint stopped answering), Book reads the
// booking item back, consistently, and reports a booking it finds as made.
//
// # Reads and durability
//
// Every read is strongly consistent (ConsistentRead): a booking whose Book
// returned nil is seen. DynamoDB acknowledges a transaction only after it is
// committed (on AWS, written to a quorum of replicas across availability
// zones); DynamoDB Local commits into its SQLite backing store, in memory
// with -inMemory (lost when it stops) or in a file with -dbPath.
package dynamostore
