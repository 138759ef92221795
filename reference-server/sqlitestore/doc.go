// Package sqlitestore is the embedded SQLite implementation of the reference
// server's store (package store), built on mattn/go-sqlite3. It is the only
// slotrush package that needs cgo.
//
// # Layout of a data directory
//
//	DIR/LOCK            flock(2)ed while a store is open: one process per DIR
//	DIR/manifest.json   design scheme + SHA-256 of the slot inventory
//	DIR/<partition>.db  one SQLite database per partition of the design
//	                    (plus its -wal and -shm files)
//	DIR/room.db         the waiting room's tickets, admissions and opening
//	                    (only for designs with a waiting room; see Room)
//	DIR/room.key        the room's token signing key: 32 random bytes, 0600
//
// Each partition of the design (models.Design.Partitions) is an independent
// SQLite file, created and seeded with its slots' capacity in one transaction
// the first time, and reopened without reseeding afterwards. Open refuses,
// with ErrMismatch, a directory whose manifest names another partitioning
// scheme or another slot inventory; limits and the waiting room are runtime
// settings and may change between runs.
//
// # Durability
//
// Databases run in WAL mode with synchronous=FULL: every commit fsyncs the
// write-ahead log before Book returns, so a booking Book reported as stored
// survives kill -9 of the process and also a power loss or kernel crash
// (as far as the disk honours fsync). synchronous=NORMAL would survive only
// a process crash.
//
// # Writes: one writer per partition, group commit
//
// Each partition has exactly one writer goroutine owning the only write
// connection. Book queues the attempt and waits; the writer takes everything
// queued (up to a bound), runs it in ONE transaction (per attempt: decrement
// the slot's remaining places if positive, insert the booking), commits with
// one fsync, and then answers each attempt. Under load the fsync is shared by
// the whole batch, which is how a single SQLite file with synchronous=FULL
// reaches the commit rate of synchronous=NORMAL. There is never a second
// writer, so there are no "database is locked" waits.
//
// The slot's remaining counter in the database is the authority: an attempt
// whose decrement touches no row is sold out, so a slot can never go below
// zero, whatever the caller does. A CHECK constraint backs this up.
//
// # Waiting room
//
// Store implements store.RoomStore: Room opens DIR/room.db (WAL,
// synchronous=FULL, one connection) and the signing key DIR/room.key,
// created once with mode 0600 and refused if readable by others. The
// reference server batches the room's changes (new tickets, admission
// rounds, the opening order) and commits each batch with Room.Commit in one
// transaction and one fsync, so joins group-commit like bookings do.
//
// # Reads
//
// Reads (slot states, bookings, scans, audits) use a separate pool of
// query-only connections; in WAL mode they run concurrently with the writer
// and see the last committed state.
package sqlitestore
