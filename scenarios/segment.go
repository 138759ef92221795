package scenarios

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
)

// Segment returns instance i of n (1-based, as the CLI's --segment I/N and
// a Kubernetes Indexed Job's JOB_COMPLETION_INDEX+1) of crowd: its share of
// the people, each Arrival unchanged (Index and PersonID included, so user
// records and person ids stay distinct across segments), in crowd order.
// The n segments together are exactly crowd, each person in one segment.
//
// The rule interleaves, as k6's execution segments do, per centre (a
// person's first choice, PPVs[0]; the State when they have none): the
// people of one centre, in crowd order, are dealt round-robin to the
// segments, starting at segment (the centre's ordinal of first appearance)
// mod n. So in each (centre, second of arrival) group, as in each centre,
// the segments' counts differ by at most 1 and the first person of the
// groups rotates over the segments; the segments' totals, and their counts
// within one second, differ by at most the number of centres (in that
// second). No segment gets a whole spike.
//
// The rule depends only on the crowd's order and first choices, so every
// machine that generates the crowd from the same scenario and seed computes
// the same segments. It returns an error when n < 1 or i is outside 1..n.
// It does not modify crowd and is safe for concurrent use.
func Segment(crowd []Arrival, i, n int) ([]Arrival, error) {
	if n < 1 {
		return nil, fmt.Errorf("segment %d/%d: want at least 1 segment", i, n)
	}
	if i < 1 || i > n {
		return nil, fmt.Errorf("segment %d/%d: want a segment from 1 to %d", i, n, n)
	}
	if n == 1 {
		return crowd, nil
	}
	out := make([]Arrival, 0, len(crowd)/n+1)
	for k, s := range segmentOf(crowd, n) {
		if s == i-1 {
			out = append(out, crowd[k])
		}
	}
	return out, nil
}

// segmentOf returns, for each person of crowd, its segment from 0 to n-1.
func segmentOf(crowd []Arrival, n int) []int {
	next := map[string]int{} // per centre: the segment of its next person
	seg := make([]int, len(crowd))
	for k := range crowd {
		c := centre(&crowd[k])
		s, ok := next[c]
		if !ok {
			s = len(next) % n
		}
		seg[k] = s
		next[c] = (s + 1) % n
	}
	return seg
}

// centre is the centre a person's arrival counts for when spreading a
// crowd over segments: the first choice, else the state.
func centre(a *Arrival) string {
	if len(a.PPVs) > 0 {
		return a.PPVs[0]
	}
	return a.State
}

// CrowdHash returns "sha256:" and the hex SHA-256 of what defines a crowd:
// every person's index, id, arrival time, state, preference order,
// date wish, behaviour and seed, in order. Two machines that generated the
// same crowd get the same hash, so a segment's result can name the crowd it
// belongs to and a merge can refuse parts of different crowds. Safe for
// concurrent use.
func CrowdHash(crowd []Arrival) string {
	h := sha256.New()
	var buf [8]byte
	num := func(v uint64) {
		binary.BigEndian.PutUint64(buf[:], v)
		h.Write(buf[:])
	}
	for k := range crowd {
		a := &crowd[k]
		num(uint64(a.Index))
		writeString(h, num, a.PersonID)
		num(uint64(a.At))
		writeString(h, num, a.State)
		num(uint64(len(a.PPVs)))
		for _, p := range a.PPVs {
			writeString(h, num, p)
		}
		early := uint64(0)
		if a.WantsEarliest {
			early = 1
		}
		num(early)
		writeString(h, num, string(a.Behaviour))
		num(a.Seed)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// writeString writes s length-prefixed, so that no two sequences of
// strings hash the same bytes.
func writeString(h hash.Hash, num func(uint64), s string) {
	num(uint64(len(s)))
	h.Write([]byte(s))
}
