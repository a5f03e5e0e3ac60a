package verify

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// stdDecode is what decodeBase64URL must agree with: encoding/base64's
// unpadded base64url, to exactly DecodedLen bytes, with no byte skipped
// (encoding/base64 skips line breaks; a JWS segment holds none).
func stdDecode(src string) ([]byte, bool) {
	enc := base64.RawURLEncoding
	dst := make([]byte, enc.DecodedLen(len(src)))
	n, err := enc.Decode(dst, []byte(src))
	if err != nil || n != len(dst) || strings.ContainsAny(src, "\r\n") {
		return nil, false
	}
	return dst, true
}

func checkDecode(t *testing.T, src string) {
	t.Helper()
	want, wantOK := stdDecode(src)
	got := make([]byte, base64.RawURLEncoding.DecodedLen(len(src)))
	ok := decodeBase64URL(got, src)
	if ok != wantOK {
		t.Fatalf("decodeBase64URL(%q) = %v, encoding/base64 says %v", src, ok, wantOK)
	}
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("decodeBase64URL(%q) = %x, encoding/base64 %x", src, got, want)
	}
}

func TestDecodeBase64URL(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	// Every length through two 8-character blocks and every tail, each
	// character of the alphabet at each place.
	for n := 0; n <= 20; n++ {
		for i := 0; i < len(alphabet); i++ {
			var b strings.Builder
			for j := 0; j < n; j++ {
				b.WriteByte(alphabet[(i+7*j)%len(alphabet)])
			}
			checkDecode(t, b.String())
		}
	}
	// Each byte value outside the alphabet, at each place of a block and
	// of a tail.
	for c := 0; c < 256; c++ {
		if strings.IndexByte(alphabet, byte(c)) >= 0 {
			continue
		}
		for _, base := range []string{"QUJDREVGR0hJSktM", "QUJDREVGR0g", "QUI"} {
			for i := range base {
				checkDecode(t, base[:i]+string(rune(c))[:1]+base[i+1:])
			}
		}
	}
	for _, src := range []string{
		"QU\nJD",                  // encoding/base64 skips the line break and fills dst
		"QUJD\r",                  // likewise
		"QUJDREVG\nR",             // a line break in the block loop
		"Q", "QUJDR", "QUJDREVGR", // one character over
		"QUJD=", "QUI=", "QQ==", // padding is not unpadded base64url
		"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo-_w",
	} {
		checkDecode(t, src)
	}
}

// TestDecodeBase64URLString: decoded in pieces of 1,024 characters, a long
// segment decodes as a short one does, whatever its length beside a
// piece's edge.
func TestDecodeBase64URLString(t *testing.T) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	long := strings.Repeat(alphabet, 40)
	for _, n := range []int{0, 2, 3, 4, 1021, 1022, 1023, 1024, 1025, 1026, 1027, 2048, 2049, 2050, 2051} {
		src := long[:n]
		want, wantOK := stdDecode(src)
		got, ok := decodeBase64URLString(src)
		if ok != wantOK || ok && got != string(want) {
			t.Errorf("decodeBase64URLString of %d characters = %v, encoding/base64 says %v", n, ok, wantOK)
		}
		// A byte outside the alphabet in the second piece.
		if n > 1030 {
			if _, ok := decodeBase64URLString(src[:1028] + "!" + src[1029:]); ok {
				t.Errorf("decodeBase64URLString of %d characters with a '!' at 1028 accepted", n)
			}
		}
	}
}

// FuzzDecodeBase64URL holds decodeBase64URL to encoding/base64.
func FuzzDecodeBase64URL(f *testing.F) {
	for _, s := range []string{"", "QUJD", "QU\nJD", "eyJhbGciOiJSUzI1NiJ9", "QUJDREVGR0g", "a-_b", "Q", "QQ=="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		checkDecode(t, src)
		want, wantOK := stdDecode(src)
		if got, ok := decodeBase64URLString(src); ok != wantOK || ok && got != string(want) {
			t.Fatalf("decodeBase64URLString(%q) = %q, %v; encoding/base64 %q, %v", src, got, ok, want, wantOK)
		}
	})
}

func BenchmarkDecodeBase64URL(b *testing.B) {
	// A signature of RS256 and a token's payload.
	for _, n := range []int{256, 170} {
		src := base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xa5, 0x3c, 0x7e}, n/3+1)[:n])
		dst := make([]byte, n)
		b.Run("claimcheck", func(b *testing.B) {
			for b.Loop() {
				if !decodeBase64URL(dst, src) {
					b.Fatal("refused")
				}
			}
		})
		b.Run("encoding/base64", func(b *testing.B) {
			for b.Loop() {
				if _, err := base64.RawURLEncoding.Decode(dst, []byte(src)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
