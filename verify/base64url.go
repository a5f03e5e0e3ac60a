package verify

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
)

// decodeBase64URL decodes src, unpadded base64url (RFC 7515 section 2), into
// dst, which must be base64.RawURLEncoding.DecodedLen(len(src)) bytes long:
// the segments of every token are decoded here, and encoding/base64's
// decoder, which must also handle padding and skip line breaks, is the
// larger part of parsing a token. It reports false for any byte outside
// the alphabet (a line break included, which encoding/base64 skips and
// a JWS segment cannot hold) and for a length that leaves one character
// over. Like encoding/base64 without Strict, it ignores the unused bits of
// the last character: canonicalBase64 checks those. FuzzDecodeBase64URL
// holds it to encoding/base64.
func decodeBase64URL(dst []byte, src string) bool {
	if len(dst) != len(src)*6/8 || len(src)%4 == 1 {
		return false
	}
	si, di := 0, 0
	// Eight characters at a time, written as one 8-byte store of which
	// six bytes are kept, while dst has room for all eight.
	for ; len(src)-si >= 8 && len(dst)-di >= 8; si, di = si+8, di+6 {
		s := src[si : si+8]
		a, b, c, d := base64URLDecode[s[0]], base64URLDecode[s[1]], base64URLDecode[s[2]], base64URLDecode[s[3]]
		e, f, g, h := base64URLDecode[s[4]], base64URLDecode[s[5]], base64URLDecode[s[6]], base64URLDecode[s[7]]
		// A byte outside the alphabet decodes to 0xff, every other to
		// less than 64.
		if a|b|c|d|e|f|g|h >= 64 {
			return false
		}
		binary.BigEndian.PutUint64(dst[di:], uint64(a)<<58|uint64(b)<<52|uint64(c)<<46|uint64(d)<<40|
			uint64(e)<<34|uint64(f)<<28|uint64(g)<<22|uint64(h)<<16)
	}
	for ; len(src)-si >= 4; si, di = si+4, di+3 {
		s := src[si : si+4]
		a, b, c, d := base64URLDecode[s[0]], base64URLDecode[s[1]], base64URLDecode[s[2]], base64URLDecode[s[3]]
		if a|b|c|d >= 64 {
			return false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		dst[di], dst[di+1], dst[di+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	switch len(src) - si {
	case 2:
		a, b := base64URLDecode[src[si]], base64URLDecode[src[si+1]]
		if a|b >= 64 {
			return false
		}
		dst[di] = a<<2 | b>>4
	case 3:
		a, b, c := base64URLDecode[src[si]], base64URLDecode[src[si+1]], base64URLDecode[src[si+2]]
		if a|b|c >= 64 {
			return false
		}
		v := uint32(a)<<12 | uint32(b)<<6 | uint32(c)
		dst[di], dst[di+1] = byte(v>>10), byte(v>>2)
	}
	return true
}

// decodeBase64URLString is decodeBase64URL into a new string, the one
// allocation it makes: a token's payload is decoded into the string its
// claims are read from, and the claims' strings are slices of it.
func decodeBase64URLString(src string) (string, bool) {
	var b strings.Builder
	b.Grow(base64.RawURLEncoding.DecodedLen(len(src)))
	// In pieces on the stack, each but the last a whole number of
	// 4-character groups, copied on into the string's array.
	var piece [768]byte
	for len(src) > 0 {
		part := src[:min(len(src), 1024)]
		src = src[len(part):]
		out := piece[:len(part)*6/8]
		if !decodeBase64URL(out, part) {
			return "", false
		}
		b.Write(out)
	}
	return b.String(), true
}

// base64URLDecode holds, by byte, its value in the base64url alphabet, or
// 0xff for a byte outside it.
const base64URLDecode = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x3e\xff\xff\x34\x35\x36\x37\x38\x39\x3a\x3b\x3c\x3d\xff\xff\xff\xff\xff\xff" +
	"\xff\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\xff\xff\xff\xff\x3f" +
	"\xff\x1a\x1b\x1c\x1d\x1e\x1f\x20\x21\x22\x23\x24\x25\x26\x27\x28\x29\x2a\x2b\x2c\x2d\x2e\x2f\x30\x31\x32\x33\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff" +
	"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"
