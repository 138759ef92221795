package refserver

import (
	"strings"
	"testing"
	"time"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestTokenRoundTrip(t *testing.T) {
	t.Parallel()
	s := newSigner(testKey)
	for _, c := range []claims{
		{person: "900101-14-5678", ticket: "tABCDEFGHIJKLMNOPQRSTUVWXYZ", expires: t0.Add(time.Minute)},
		{person: "p", ticket: "t", expires: time.UnixMilli(0).UTC()},
		{person: strings.Repeat("é", 64), ticket: "t" + strings.Repeat("T", 26), expires: t0.Add(123 * time.Millisecond)},
	} {
		tok := s.sign(c)
		if len(tok) > maxTokenLen {
			t.Errorf("sign(%+v) is %d bytes; want at most %d", c, len(tok), maxTokenLen)
		}
		got, err := s.verify(tok)
		if err != nil || got != c {
			t.Errorf("verify(sign(%+v)) = %+v, %v; want the claims", c, got, err)
		}
		if _, err := newSigner([]byte(strings.Repeat("x", 32))).verify(tok); err != errTokenForged {
			t.Errorf("verify with another key: err = %v; want errTokenForged", err)
		}
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   []string
		tok  string
		code Code
	}{
		{nil, "", CodeTokenMissing},
		{[]string{""}, "", CodeTokenMissing},
		{[]string{"Bearer abc"}, "abc", ""},
		{[]string{"bearer  abc "}, "abc", ""},
		{[]string{"Bearer abc", "Bearer abc"}, "", CodeTokenInvalid},
		{[]string{"Bearer a b"}, "", CodeTokenInvalid},
		{[]string{"Bearer"}, "", CodeTokenInvalid},
		{[]string{"Token abc"}, "", CodeTokenInvalid},
	} {
		tok, e := bearer(tt.in)
		var code Code
		if e != nil {
			code = e.Code
		}
		if tok != tt.tok || code != tt.code {
			t.Errorf("bearer(%q) = %q, %v; want %q, %q", tt.in, tok, code, tt.tok, tt.code)
		}
	}
}

// FuzzTokenVerify: verify never panics, and whatever it accepts is exactly
// the token the server would sign for the claims it returns (so only the
// server's own tokens verify).
func FuzzTokenVerify(f *testing.F) {
	s := newSigner(testKey)
	good := s.sign(claims{person: "ali", ticket: "tTICKET", expires: t0})
	f.Add(good)
	f.Add(good + "=")
	f.Add("")
	f.Add(".")
	f.Add("AQ.AQ")
	f.Add(strings.Repeat("A", 600))
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.verify(tok)
		if err != nil {
			return
		}
		if again := s.sign(c); again != tok {
			t.Fatalf("verify accepted %q (claims %+v), which the server signs as %q", tok, c, again)
		}
	})
}

// FuzzTokenMutation: a valid token with any one byte changed never
// verifies.
func FuzzTokenMutation(f *testing.F) {
	s := newSigner(testKey)
	f.Add("ali", "tTICKET", int64(1622030400000), 0, byte('B'))
	f.Add("900101-14-5678", "tABC", int64(0), 40, byte('_'))
	f.Add("p", "t", int64(-1), 5, byte('.'))
	f.Fuzz(func(t *testing.T, person, ticket string, ms int64, at int, b byte) {
		if person == "" || ticket == "" || len(ticket) > 255 || len(person) > maxIDLen {
			return
		}
		tok := s.sign(claims{person: person, ticket: ticket, expires: time.UnixMilli(ms).UTC()})
		at = (at%len(tok) + len(tok)) % len(tok)
		if tok[at] == b {
			return
		}
		mutated := tok[:at] + string([]byte{b}) + tok[at+1:]
		if c, err := s.verify(mutated); err == nil {
			t.Fatalf("mutated token %q (byte %d of %q) verified as %+v", mutated, at, tok, c)
		}
	})
}
