package sqlitestore

import "runtime"

// OpenFiles returns how many file descriptors a store of design with
// partitions partitions, opened with opts, holds: when it has just opened
// (atOpen), and at most (most), once reads have opened every partition's
// read connections. Every connection holds the database file and its -wal
// file, and each database one -shm file shared by its connections; a
// partition opens its writer and one read connection, and further read
// connections on demand, up to WithReadConns. The waiting room (room) adds
// room.db with its -wal and -shm; the directory lock adds one. Callers use
// it to check the process's limit on open files (RLIMIT_NOFILE) before
// opening a store of many partitions. It is safe for concurrent use.
func OpenFiles(partitions int, room bool, opts ...Option) (atOpen, most int) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	const perConn, shm, lock = 2, 1, 1
	atOpen = partitions*(2*perConn+shm) + lock
	if room {
		atOpen += perConn + shm
	}
	return atOpen, atOpen + partitions*(cfg.readConns-1)*perConn
}

// defaultConfig returns the tunables before Options.
func defaultConfig() config {
	return config{maxBatch: 512, readConns: max(2, runtime.GOMAXPROCS(0)), queueLen: 1024}
}
