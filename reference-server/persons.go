package refserver

import (
	"context"
	"hash/maphash"
	"sync"

	"github.com/slotrush/slotrush/reference-server/store"
)

// personShards is the number of shards of the person index. Each shard has
// its own mutex, held only for a map operation, never across I/O.
const personShards = 256

// persons is the in-process index of who holds a booking, and a keyed lock
// per person. The index is derived from the partitions (rebuilt by a scan at
// start) and kept current by the booking path, which holds the person's lock
// across "check the index → book in the slot's partition → record in the
// index". It is safe for concurrent use.
type persons struct {
	seed   maphash.Seed
	shards [personShards]personShard
}

type personShard struct {
	mu     sync.Mutex              // guards booked and locks
	booked map[string]store.Record // person id -> the person's booking
	locks  map[string]*personLock  // person id -> lock, while someone holds or waits for it
}

// personLock is a mutex that can be waited for with a context. refs counts
// holders and waiters; the lock leaves its shard's map at zero.
type personLock struct {
	ch   chan struct{} // holds a token while locked
	refs int           // guarded by the shard's mu
}

func newPersons() *persons {
	p := &persons{seed: maphash.MakeSeed()}
	for i := range p.shards {
		p.shards[i].booked = map[string]store.Record{}
		p.shards[i].locks = map[string]*personLock{}
	}
	return p
}

func (p *persons) shard(id string) *personShard {
	return &p.shards[maphash.String(p.seed, id)%personShards]
}

// get returns the booking person id holds, if any.
func (p *persons) get(id string) (store.Record, bool) {
	sh := p.shard(id)
	sh.mu.Lock()
	rec, ok := sh.booked[id]
	sh.mu.Unlock()
	return rec, ok
}

// put records rec as the booking of its person unless the person already
// holds one; it reports whether rec was recorded.
func (p *persons) put(rec store.Record) bool {
	sh := p.shard(rec.PersonID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.booked[rec.PersonID]; ok {
		return false
	}
	sh.booked[rec.PersonID] = rec
	return true
}

// lock waits until it holds the lock of person id or ctx ends. On success
// the caller must call the returned unlock exactly once.
func (p *persons) lock(ctx context.Context, id string) (unlock func(), err error) {
	sh := p.shard(id)
	sh.mu.Lock()
	l := sh.locks[id]
	if l == nil {
		l = &personLock{ch: make(chan struct{}, 1)}
		sh.locks[id] = l
	}
	l.refs++
	sh.mu.Unlock()

	release := func() {
		sh.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(sh.locks, id)
		}
		sh.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
