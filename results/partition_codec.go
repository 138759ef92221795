package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// The encoding of a series' seconds (PartitionSeries.Seconds): base64 of
// the zlib compression of a stream of unsigned varints:
//
//	version (1), number of seconds, then per second:
//	  t_s less the previous second's less 1 (the first: t_s itself),
//	  a byte whose bit k says answer k is counted (k in the order ok,
//	  conflict, throttled, overloaded, not_open, server_errors,
//	  transport_errors, unexpected), then each counted answer's count,
//	  the number of latency bins, then per bin its From less the
//	  previous bin's (the first: From itself) and its count.
//
// Requests is the sum of the answers; the bins count every request but
// the not_open ones.
const (
	partitionCodecVersion = 1
	// maxPartitionDecompress bounds the decoded stream of one series, so
	// that a damaged file cannot make the decoder allocate without bound.
	maxPartitionDecompress = 64 << 20
	// partitionZlibLevel trades a little size for speed: a national run
	// encodes a few hundred thousand seconds.
	partitionZlibLevel = zlib.BestSpeed
	// maxPartitionCount bounds one count, far above any run's.
	maxPartitionCount = 1 << 48
)

// zlibWriters reuses the writers of EncodePartitionSeconds: each holds
// about a megabyte of state.
var zlibWriters = newFreeList(func() *zlib.Writer {
	zw, _ := zlib.NewWriterLevel(nil, partitionZlibLevel) // a valid level: no error
	return zw
})

// EncodePartitionSeconds returns secs encoded. The seconds must be in
// increasing order of TS from 0, each consistent: counts not negative,
// Requests their sum, the bins in increasing order of From (each a
// LatencyBinFrom), with positive counts adding up to Decided.
func EncodePartitionSeconds(secs []PartitionSecond) (string, error) {
	raw := make([]byte, 0, 16*len(secs)+8)
	raw = binary.AppendUvarint(raw, partitionCodecVersion)
	raw = binary.AppendUvarint(raw, uint64(len(secs)))
	prev := -1
	for i := range secs {
		s := &secs[i]
		if s.TS <= prev {
			return "", fmt.Errorf("encode partition seconds: second %d: t_s %d after %d", i, s.TS, prev)
		}
		if err := s.check(); err != nil {
			return "", fmt.Errorf("encode partition seconds: t_s %d: %w", s.TS, err)
		}
		raw = binary.AppendUvarint(raw, uint64(s.TS-prev-1))
		prev = s.TS
		var mask byte
		answers := s.answers()
		for k, p := range answers {
			if *p != 0 {
				mask |= 1 << k
			}
		}
		raw = append(raw, mask)
		for _, p := range answers {
			if *p != 0 {
				raw = binary.AppendUvarint(raw, uint64(*p))
			}
		}
		raw = binary.AppendUvarint(raw, uint64(len(s.Latency)))
		var from int64
		for _, b := range s.Latency {
			raw = binary.AppendUvarint(raw, uint64(b.From-from))
			raw = binary.AppendUvarint(raw, uint64(b.Count))
			from = b.From
		}
	}
	var z bytes.Buffer
	zw := zlibWriters.get()
	zw.Reset(&z)
	defer zlibWriters.put(zw)
	if _, err := zw.Write(raw); err != nil {
		return "", fmt.Errorf("encode partition seconds: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("encode partition seconds: %w", err)
	}
	return base64.StdEncoding.EncodeToString(z.Bytes()), nil
}

// check reports the first inconsistency of s (see EncodePartitionSeconds).
func (s *PartitionSecond) check() error {
	for _, p := range s.answers() {
		if *p < 0 || *p > maxPartitionCount {
			return fmt.Errorf("count %d outside 0..%d", *p, int64(maxPartitionCount))
		}
	}
	if n := s.sumAnswers(); n != s.Requests {
		return fmt.Errorf("requests %d; the answers add up to %d", s.Requests, n)
	}
	var n, from int64
	for _, b := range s.Latency {
		switch {
		case b.From <= from:
			return fmt.Errorf("latency bin %d after %d: want increasing", b.From, from)
		case b.From > HistMaxMicros || LatencyBinFrom(b.From) != b.From:
			return fmt.Errorf("latency bin %d is not the lowest value of a bin", b.From)
		case b.Count <= 0 || b.Count > maxPartitionCount:
			return fmt.Errorf("latency bin %d counts %d", b.From, b.Count)
		}
		from = b.From
		n += b.Count
	}
	if n != s.Decided() {
		return fmt.Errorf("the latency bins count %d; %d bookings were decided", n, s.Decided())
	}
	return nil
}

// DecodePartitionSeconds parses the output of EncodePartitionSeconds and
// checks it as EncodePartitionSeconds does. It never panics and bounds
// what it allocates, whatever s holds.
func DecodePartitionSeconds(s string) ([]PartitionSecond, error) {
	z, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("partition seconds: not base64: %w", err)
	}
	zr, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, fmt.Errorf("partition seconds: zlib: %w", err)
	}
	defer zr.Close()
	raw, err := io.ReadAll(io.LimitReader(zr, maxPartitionDecompress+1))
	if err != nil {
		return nil, fmt.Errorf("partition seconds: zlib: %w", err)
	}
	if len(raw) > maxPartitionDecompress {
		return nil, fmt.Errorf("partition seconds: more than %d bytes decoded", maxPartitionDecompress)
	}
	secs, err := parseSeconds(raw)
	if err != nil {
		return nil, fmt.Errorf("partition seconds: %w", err)
	}
	return secs, nil
}

// varints reads unsigned varints from b, remembering the first error.
type varints struct {
	b   []byte
	err error
}

func (v *varints) next(limit uint64) uint64 {
	if v.err != nil {
		return 0
	}
	x, n := binary.Uvarint(v.b)
	switch {
	case n <= 0:
		v.err = errors.New("truncated or malformed")
		return 0
	case x > limit:
		v.err = fmt.Errorf("value %d over %d", x, limit)
		return 0
	}
	v.b = v.b[n:]
	return x
}

func (v *varints) byte() byte {
	if v.err != nil {
		return 0
	}
	if len(v.b) == 0 {
		v.err = errors.New("truncated")
		return 0
	}
	c := v.b[0]
	v.b = v.b[1:]
	return c
}

// parseSeconds parses the decompressed stream.
func parseSeconds(raw []byte) ([]PartitionSecond, error) {
	v := &varints{b: raw}
	if ver := v.next(1 << 16); v.err == nil && ver != partitionCodecVersion {
		return nil, fmt.Errorf("version %d; this build reads %d", ver, partitionCodecVersion)
	}
	// Each second takes at least 3 bytes: n cannot be more than that.
	n := v.next(uint64(len(raw)) / 3)
	if v.err != nil {
		return nil, v.err
	}
	secs := make([]PartitionSecond, 0, n)
	prev := -1
	for range n {
		var s PartitionSecond
		s.TS = prev + 1 + int(v.next(1<<31-1-uint64(prev+1)))
		prev = s.TS
		mask := v.byte()
		for k, p := range s.answers() {
			if mask&(1<<k) != 0 {
				*p = int64(v.next(maxPartitionCount))
				s.Requests += *p
			}
		}
		nb := v.next(uint64(len(v.b)) / 2)
		if nb > 0 {
			s.Latency = make([]LatencyBin, 0, nb)
		}
		var from int64
		for range nb {
			from += int64(v.next(uint64(HistMaxMicros)))
			s.Latency = append(s.Latency, LatencyBin{From: from, Count: int64(v.next(maxPartitionCount))})
		}
		if v.err != nil {
			return nil, fmt.Errorf("second %d: %w", len(secs), v.err)
		}
		if err := s.check(); err != nil {
			return nil, fmt.Errorf("t_s %d: %w", s.TS, err)
		}
		secs = append(secs, s)
	}
	if len(v.b) > 0 {
		return nil, fmt.Errorf("%d bytes after the last second", len(v.b))
	}
	return secs, nil
}
