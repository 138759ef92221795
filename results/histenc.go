package results

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Cookies of HdrHistogram's V2 encoding, as hdrhistogram-go writes them.
const (
	v2EncodingCookie           = hdrhistogram.V2EncodingCookieBase | 0x10
	v2CompressedEncodingCookie = hdrhistogram.V2CompressedEncodingCookieBase | 0x10
)

// histEncoder holds what encoding one histogram needs, kept between
// encodings: a zlib writer at its best compression (about a megabyte of
// tables, which hdrhistogram-go's Encode allocates anew each time) and the
// buffers.
type histEncoder struct {
	zipped   bytes.Buffer
	z        *zlib.Writer
	raw, out []byte
}

var histEncoders = newFreeList(func() *histEncoder {
	e := &histEncoder{}
	e.z, _ = zlib.NewWriterLevel(&e.zipped, zlib.BestCompression) // a valid level: no error
	return e
})

// freeList keeps a few values for reuse, as a sync.Pool does but across
// garbage collections, which empty a pool: a simulation collects often,
// and what it reuses here (zlib writers) costs a megabyte to make. Safe
// for concurrent use.
type freeList[T any] struct {
	free  chan T
	fresh func() T
}

// freeListSize is the values a freeList keeps at most: about the number of
// designs a simulation encodes at once.
const freeListSize = 4

func newFreeList[T any](fresh func() T) *freeList[T] {
	return &freeList[T]{free: make(chan T, freeListSize), fresh: fresh}
}

// get returns a value kept, or a new one.
func (f *freeList[T]) get() T {
	select {
	case v := <-f.free:
		return v
	default:
		return f.fresh()
	}
}

// put keeps v for reuse, unless enough are kept.
func (f *freeList[T]) put(v T) {
	select {
	case f.free <- v:
	default:
	}
}

// encodeV2Compressed returns what h.Encode(V2CompressedEncodingCookieBase)
// returns, byte for byte: the V2 header and counts (ZigZag LEB128, a run
// of zero counts as its negated length), zlib-compressed at
// BestCompression after the compressed cookie and length, in base64.
func encodeV2Compressed(h *hdrhistogram.Histogram) (string, error) {
	e := histEncoders.get()
	defer histEncoders.put(e)
	e.raw = appendV2(e.raw[:0], h.Export())
	e.zipped.Reset()
	e.z.Reset(&e.zipped)
	if _, err := e.z.Write(e.raw); err != nil {
		return "", err
	}
	if err := e.z.Close(); err != nil {
		return "", err
	}
	var pre [8]byte
	binary.BigEndian.PutUint32(pre[0:], uint32(v2CompressedEncodingCookie))
	binary.BigEndian.PutUint32(pre[4:], uint32(e.zipped.Len()))
	e.out = append(append(e.out[:0], pre[:]...), e.zipped.Bytes()...)
	return base64.StdEncoding.EncodeToString(e.out), nil
}

// appendV2 appends the uncompressed V2 encoding of s to b: the 40-byte
// header, then the counts up to the last that is not zero, each as a
// ZigZag LEB128 number, a run of zeros as its negated length.
func appendV2(b []byte, s *hdrhistogram.Snapshot) []byte {
	var hdr [40]byte
	b = append(b, hdr[:]...)
	at := len(b) - len(hdr)
	counts := s.Counts[:countsLimit(s.Counts)]
	for i := 0; i < len(counts); {
		c := counts[i]
		i++
		if c == 0 {
			zeros := int64(1)
			for i < len(counts) && counts[i] == 0 {
				zeros++
				i++
			}
			if zeros > 1 {
				c = -zeros
			}
		}
		b = appendZigZag(b, c)
	}
	h := b[at:]
	binary.BigEndian.PutUint32(h[0:], uint32(v2EncodingCookie))
	binary.BigEndian.PutUint32(h[4:], uint32(len(h)-len(hdr))) // the payload's length
	binary.BigEndian.PutUint32(h[8:], 1)                       // hdrhistogram-go's normalizing index offset
	binary.BigEndian.PutUint32(h[12:], uint32(s.SignificantFigures))
	binary.BigEndian.PutUint64(h[16:], uint64(s.LowestTrackableValue))
	binary.BigEndian.PutUint64(h[24:], uint64(s.HighestTrackableValue))
	binary.BigEndian.PutUint64(h[32:], math.Float64bits(1)) // integer to double ratio
	return b
}

// countsLimit returns how many counts hdrhistogram-go encodes: up to the
// last that is not zero (the index of the histogram's Max), at least one.
func countsLimit(counts []int64) int {
	for i := len(counts) - 1; i > 0; i-- {
		if counts[i] != 0 {
			return i + 1
		}
	}
	return 1
}

// appendZigZag appends v as hdrhistogram-go's zig_zag_encode_i64 writes
// it: ZigZag, then LEB128 of at most 9 bytes, the ninth holding 8 bits.
func appendZigZag(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for k := 0; k < 8; k++ {
		if u>>7 == 0 {
			return append(b, byte(u))
		}
		b = append(b, byte(u&0x7f|0x80))
		u >>= 7
	}
	return append(b, byte(u))
}
