package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slotrush/slotrush/models"
	"github.com/slotrush/slotrush/reference-server/sqlitestore"
)

// The open files a design run in-process needs are estimated, and checked
// against the process's limit (RLIMIT_NOFILE), before its server starts:
// a design of 10,000 partitions opens 50,000 SQLite files, and beyond the
// limit every open fails ("too many open files").

const (
	// inProcessMaxConns bounds the HTTP connections run opens to its
	// in-process server (http.Transport.MaxConnsPerHost): the idle pool's
	// bound (sim.NewTransport's MaxIdleConnsPerHost), so every connection
	// can be kept and reused, and the files a run needs stay bounded.
	inProcessMaxConns = 8192
	// otherFiles is room for the files that are neither the store's nor
	// connections: standard streams, the runtime's poller, the listener,
	// lock files, a manifest being read, ...
	otherFiles = 64
)

// errNoFileLimit is returned by openFileLimit where there is no limit on
// open files to read (not unix).
var errNoFileLimit = errors.New("no limit on open files to read here")

// fileNeed is the estimate of the open files one design needs.
type fileNeed struct {
	design     string
	scheme     models.Scheme
	partitions int
	// store is the SQLite files: the store's at open and, with conns, the
	// read connections its requests can open.
	store int
	// conns is the HTTP connections: two files each in-process (the
	// client's end and the server's).
	conns int
	// coarser is the need of each coarser scheme over the same
	// inventory and crowd, for the refusal's advice.
	coarser []fileNeed
}

// total returns the open files the design needs.
func (n fileNeed) total() int { return n.store + 2*n.conns + otherFiles }

// designFiles estimates the open files design d over inv needs when run
// in-process against users users: the store's files (sqlitestore.OpenFiles)
// and, each request in flight being a connection and at most one read,
// up to min(users, inProcessMaxConns) connections and as many more read
// connections as the partitions can open. users 0 counts the store at open
// alone (serve: its clients are unknown).
func designFiles(d models.Design, inv *models.Inventory, users int) fileNeed {
	n := schemeFiles(d.Scheme, d.WaitingRoom, inv, users)
	n.design = d.Name
	for _, s := range []models.Scheme{models.PerPPV, models.Monolithic} {
		if s != d.Scheme && (d.Scheme == models.PerPPVDay || s == models.Monolithic) {
			c := schemeFiles(s, d.WaitingRoom, inv, users)
			c.design = string(s)
			n.coarser = append(n.coarser, c)
		}
	}
	return n
}

// schemeFiles is designFiles of a design of scheme s, with or without a
// waiting room.
func schemeFiles(s models.Scheme, room bool, inv *models.Inventory, users int) fileNeed {
	d := models.Design{Scheme: s}
	keys := map[models.PartitionKey]bool{}
	for _, slot := range inv.Slots {
		keys[d.Key(slot.Key())] = true
	}
	atOpen, most := sqlitestore.OpenFiles(len(keys), room)
	conns := min(users, inProcessMaxConns)
	return fileNeed{scheme: s, partitions: len(keys), store: atOpen + min(most-atOpen, 2*conns), conns: conns}
}

// fileLimit reads and raises the process's limit on open files. The
// functions are fields so that tests can give a machine's limit.
type fileLimit struct {
	// get returns the soft and hard limits, errNoFileLimit when there is
	// none to read.
	get func() (soft, hard uint64, err error)
	// raise sets the soft limit to n.
	raise func(n uint64) error
}

// systemFileLimit is this process's limit (RLIMIT_NOFILE).
var systemFileLimit = fileLimit{get: openFileLimit, raise: raiseOpenFileLimit}

// check returns nil when the process may open the files every need in
// needs wants (one at a time: designs run one after another), raising the
// soft limit toward the hard limit when that is needed and enough. It
// returns a bad input naming the biggest need, the limit and what to do
// when even the hard limit is too low, and nil when there is no limit to
// read.
func (l fileLimit) check(needs ...fileNeed) error {
	if len(needs) == 0 {
		return nil
	}
	big := needs[0]
	for _, n := range needs[1:] {
		if n.total() > big.total() {
			big = n
		}
	}
	soft, hard, err := l.get()
	if errors.Is(err, errNoFileLimit) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the limit on open files: %w", err)
	}
	need := uint64(big.total())
	if need <= soft {
		return nil
	}
	if need > hard {
		return badRunInput(big.refusal(soft, hard))
	}
	// Raise the soft limit to the hard one; where that is refused (an
	// unlimited hard limit), to what is needed.
	if l.raise(hard) == nil {
		return nil
	}
	if err := l.raise(need); err != nil {
		return badRunInput(fmt.Errorf("%w (raising the soft limit to %d failed: %w)", big.refusal(soft, hard), need, err))
	}
	return nil
}

// refusal is the message of a need above the limits soft and hard.
func (n fileNeed) refusal(soft, hard uint64) error {
	parts := []string{fmt.Sprintf("%s partitions: %s SQLite files", withCommas(n.partitions), withCommas(n.store))}
	if n.partitions == 1 {
		parts[0] = fmt.Sprintf("1 partition: %s SQLite files", withCommas(n.store))
	}
	if n.conns > 0 {
		parts = append(parts, fmt.Sprintf("%s HTTP connections: %s", withCommas(n.conns), withCommas(2*n.conns)))
	}
	parts = append(parts, fmt.Sprintf("%d other", otherFiles))
	// ulimit -n wants a round figure with some room.
	ask := (n.total() + 1023) / 1024 * 1024
	var alts []string
	for _, c := range n.coarser {
		alts = append(alts, fmt.Sprintf("%s needs about %s", c.design, withCommas(c.total())))
	}
	coarser := ""
	if len(alts) > 0 {
		coarser = ", or run a coarser design with fewer partitions (" + strings.Join(alts, ", ") + ")"
	}
	return fmt.Errorf("design %s needs about %s open files (%s), more than this process may open (limit %s, hard limit %s): "+
		"raise the limit, e.g. 'ulimit -n %d' in the shell that starts slotrush (beyond the hard limit only root can: nofile in /etc/security/limits.conf, LimitNOFILE= for a systemd unit)%s",
		n.design, withCommas(n.total()), strings.Join(parts, "; "), limitString(soft), limitString(hard), ask, coarser)
}

// limitString formats a limit on open files; RLIM_INFINITY is "unlimited".
func limitString(n uint64) string {
	if n > 1<<40 {
		return "unlimited"
	}
	return withCommas(int(n))
}

// withCommas formats n with commas: 82,832.
func withCommas(n int) string {
	if n < 0 {
		return "-" + withCommas(-n)
	}
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
