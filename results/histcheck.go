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

// Bounds of the histograms a result may hold. They are wide (slotrush writes
// 1 µs to 1 h at 3 digits) but keep a damaged file from making the decoder
// allocate gigabytes.
const (
	maxHistHighest     = int64(1) << 43 // ~8.8e12, an hour in ns with room
	maxHistLowest      = int64(1) << 20
	maxHistDecompress  = 16 << 20   // bytes of decompressed counts
	v2CompressedCookie = 0x1c849304 // hdrhistogram.V2CompressedEncodingCookieBase
	v2Cookie           = 0x1c849303 // hdrhistogram.V2EncodingCookieBase
	histHeaderSize     = 40
)

// checkHistogramEncoding validates the framing and header of a base64 V2
// compressed HdrHistogram without trusting any length in it.
func checkHistogramEncoding(s string) error {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("not base64: %w", err)
	}
	if len(raw) < 8 {
		return errors.New("too short")
	}
	cookie := int32(binary.BigEndian.Uint32(raw[0:4])) &^ 0xf0
	if cookie != v2CompressedCookie {
		return fmt.Errorf("not a V2 compressed histogram (cookie %#x)", uint32(cookie))
	}
	n := int32(binary.BigEndian.Uint32(raw[4:8]))
	if n < 0 || int(n) > len(raw)-8 {
		return fmt.Errorf("compressed length %d outside 0..%d", n, len(raw)-8)
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8 : 8+int(n)]))
	if err != nil {
		return fmt.Errorf("zlib: %w", err)
	}
	defer zr.Close()
	body, err := io.ReadAll(io.LimitReader(zr, maxHistDecompress+1))
	if err != nil {
		return fmt.Errorf("zlib: %w", err)
	}
	if len(body) > maxHistDecompress {
		return fmt.Errorf("decompressed counts exceed %d bytes", maxHistDecompress)
	}
	if len(body) < histHeaderSize {
		return errors.New("header too short")
	}
	if c := int32(binary.BigEndian.Uint32(body[0:4])) &^ 0xf0; c != v2Cookie {
		return fmt.Errorf("inner cookie %#x is not V2", uint32(c))
	}
	payload := int32(binary.BigEndian.Uint32(body[4:8]))
	if int(payload) != len(body)-histHeaderSize {
		return fmt.Errorf("payload length %d; have %d bytes", payload, len(body)-histHeaderSize)
	}
	digits := int32(binary.BigEndian.Uint32(body[12:16]))
	lowest := int64(binary.BigEndian.Uint64(body[16:24]))
	highest := int64(binary.BigEndian.Uint64(body[24:32]))
	switch {
	case digits < 1 || digits > 5:
		return fmt.Errorf("significant digits %d outside 1..5", digits)
	case lowest < 1 || lowest > maxHistLowest:
		// A large lowest value overflows the bucket arithmetic of
		// hdrhistogram.New, which then loops forever.
		return fmt.Errorf("lowest trackable value %d outside 1..%d", lowest, maxHistLowest)
	case highest < 2*lowest || highest > maxHistHighest:
		return fmt.Errorf("highest trackable value %d outside %d..%d", highest, 2*lowest, maxHistHighest)
	}
	return nil
}
