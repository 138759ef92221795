package refserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"strings"
	"sync"
	"time"
)

// Admission tokens.
//
// A token is two base64url (RFC 4648 §5, no padding, canonical) strings
// joined by a dot: PAYLOAD "." MAC, where
//
//	PAYLOAD = version (1 byte, 1)
//	          | expiry, Unix milliseconds (8 bytes, big endian)
//	          | length of the ticket id (1 byte) | ticket id
//	          | person id (the rest)
//	MAC     = HMAC-SHA256(key, "slotrush-room-token\x00" | PAYLOAD)
//
// The key is the room's secret (store.Room.Key: 32 random bytes kept in the
// data directory), so a server restarted on the same data verifies the
// tokens it issued before. Tokens are not stored: the room recomputes a
// person's token from the admission it recorded.

const (
	tokenVersion = 1
	// maxTokenLen bounds the token text a client may send; the longest
	// token the server issues (128-byte person id) is about 250 bytes.
	maxTokenLen = 512
	tokenMACLen = sha256.Size
	tokenLabel  = "slotrush-room-token\x00"
)

var b64 = base64.RawURLEncoding.Strict()

// claims is what an admission token says: person holds ticket, admitted
// until expires (exclusive, millisecond precision).
type claims struct {
	person  string
	ticket  string
	expires time.Time
}

// Reasons a token fails to parse or verify.
var (
	errTokenMalformed = errors.New("malformed token")
	errTokenForged    = errors.New("token signature does not verify")
)

// signer signs and verifies admission tokens with one key. It is safe for
// concurrent use.
type signer struct {
	key  []byte
	macs sync.Pool // of hash.Hash (HMAC-SHA256 keyed with key)
}

func newSigner(key []byte) *signer {
	s := &signer{key: append([]byte(nil), key...)}
	s.macs.New = func() any { return hmac.New(sha256.New, s.key) }
	return s
}

func (s *signer) mac(payload []byte) []byte {
	h := s.macs.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(tokenLabel))
	h.Write(payload)
	sum := h.Sum(make([]byte, 0, tokenMACLen))
	s.macs.Put(h)
	return sum
}

// sign returns the token of c. Ticket ids are at most 255 bytes (the
// server's are 27).
func (s *signer) sign(c claims) string {
	payload := make([]byte, 0, 10+len(c.ticket)+len(c.person))
	payload = append(payload, tokenVersion)
	payload = binary.BigEndian.AppendUint64(payload, uint64(c.expires.UnixMilli()))
	payload = append(payload, byte(len(c.ticket)))
	payload = append(payload, c.ticket...)
	payload = append(payload, c.person...)
	return b64.EncodeToString(payload) + "." + b64.EncodeToString(s.mac(payload))
}

// verify returns the claims of tok when its MAC verifies. It returns
// errTokenMalformed for text that is not a token and errTokenForged for a
// token whose MAC does not verify. Expiry is the caller's concern. It never
// panics, whatever tok holds.
func (s *signer) verify(tok string) (claims, error) {
	if len(tok) > maxTokenLen {
		return claims{}, errTokenMalformed
	}
	p64, m64, ok := strings.Cut(tok, ".")
	if !ok || p64 == "" || m64 == "" || !isB64URL(p64) || !isB64URL(m64) {
		return claims{}, errTokenMalformed
	}
	payload, err := b64.DecodeString(p64)
	if err != nil {
		return claims{}, errTokenMalformed
	}
	mac, err := b64.DecodeString(m64)
	if err != nil || len(mac) != tokenMACLen {
		return claims{}, errTokenMalformed
	}
	if !hmac.Equal(mac, s.mac(payload)) {
		return claims{}, errTokenForged
	}
	// The payload is ours; check its shape anyway.
	if len(payload) < 11 || payload[0] != tokenVersion {
		return claims{}, errTokenMalformed
	}
	ms := int64(binary.BigEndian.Uint64(payload[1:9]))
	n := int(payload[9])
	rest := payload[10:]
	if n == 0 || n >= len(rest) {
		return claims{}, errTokenMalformed
	}
	return claims{ticket: string(rest[:n]), person: string(rest[n:]), expires: time.UnixMilli(ms).UTC()}, nil
}

// isB64URL reports whether s holds only the base64url alphabet. The decoder
// alone is not enough: even in strict mode it skips CR and LF, so without
// this check "AB\rCD" would decode as "ABCD" and one token would have many
// spellings that all verify.
func isB64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// bearer extracts the token of an Authorization header: "Bearer TOKEN",
// the scheme case-insensitive. It returns CodeTokenMissing when there is no
// header (or only white space) and CodeTokenInvalid for anything else that
// is not one bearer token.
func bearer(values []string) (string, *Error) {
	if len(values) == 0 || (len(values) == 1 && strings.TrimSpace(values[0]) == "") {
		return "", errorf(CodeTokenMissing, "this call needs the waiting room's admission token: join POST /api/v1/queue, then send Authorization: Bearer <token>")
	}
	if len(values) > 1 {
		return "", errorf(CodeTokenInvalid, "more than one Authorization header")
	}
	scheme, tok, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", errorf(CodeTokenInvalid, "Authorization must be \"Bearer <token>\"")
	}
	tok = strings.TrimLeft(tok, " ")
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", errorf(CodeTokenInvalid, "Authorization must be \"Bearer <token>\"")
	}
	return tok, nil
}
