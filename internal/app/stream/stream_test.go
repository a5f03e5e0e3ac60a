package stream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// countingTransport counts requests per path.
type countingTransport struct {
	mu   sync.Mutex
	hits map[string]int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.hits[r.URL.Host+r.URL.Path]++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func (c *countingTransport) count(substr string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for k, v := range c.hits {
		if strings.Contains(k, substr) {
			n += v
		}
	}
	return n
}

// demoIDToken signs in as user at a fresh demo provider and returns its
// issuer and the user's ID token.
func demoIDToken(t testing.TB, ctx context.Context, user string) (*demo.Provider, map[string]string) {
	t.Helper()
	p, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	tokens := map[string]string{}
	for _, u := range demo.DefaultUsers() {
		r, _ := check.Run(ctx, check.Config{
			Issuer: p.Issuer(), ClientID: demo.PublicClientID, RedirectURI: "http://127.0.0.1:0/callback",
			Flow: "code", Scopes: []string{"openid", "groups"}, ClockSkew: time.Minute,
			HTTPClient: &http.Client{Timeout: 10 * time.Second}, Timeout: 20 * time.Second,
			Opener: &standin.Browser{Username: u.Username, Password: u.Password}, ShowTokens: true,
		})
		if !r.OK || r.Tokens[report.IDToken] == nil {
			t.Fatalf("demo sign-in as %s: %+v", u.Username, r.Error)
		}
		tokens[u.Username] = r.Tokens[report.IDToken].Raw
	}
	return p, tokens
}

func TestVerifyStream(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p1, t1 := demoIDToken(t, ctx, "alice")
	p2, t2 := demoIDToken(t, ctx, "bob")

	// A foreign issuer: any request to it is counted, and must not happen.
	var foreignHits atomic.Int32
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreignHits.Add(1)
		http.NotFound(w, r)
	}))
	defer foreign.Close()
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "x"))
	payload, _ := json.Marshal(map[string]any{"iss": foreign.URL, "sub": "eve", "aud": demo.PublicClientID, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()})
	jws, _ := signer.Sign(payload)
	foreignTok, _ := jws.CompactSerialize()

	// Lines: the expected index, ok, class of each result.
	type want struct {
		index int
		ok    bool
		class failure.Class
	}
	var in strings.Builder
	var wants []want
	line := 0
	add := func(s string, w want) {
		line++
		in.WriteString(s + "\n")
		if w.index != 0 {
			w.index = line
			wants = append(wants, w)
		}
	}
	const rounds = 100
	for i := range rounds {
		add(t1["alice"], want{index: 1, ok: true})
		add(t2["bob"], want{index: 1, class: failure.Expectation}) // bob lacks IT
		if i%25 == 0 {
			add("", want{})                                                                    // blank: skipped
			add("not-a-jwt", want{index: 1, class: failure.Verification})                      // garbage
			add(foreignTok, want{index: 1, class: failure.Verification})                       // untrusted issuer
			add(strings.Repeat("a", MaxToken+10), want{index: 1, class: failure.Verification}) // oversize
			add("  "+t2["alice"]+"\r", want{index: 1, ok: true})                               // spaces and CRLF
		}
	}

	ct := &countingTransport{hits: map[string]int{}}
	var out bytes.Buffer
	sum, err := Verify(ctx, Config{
		ClientID: demo.PublicClientID, ClockSkew: time.Minute,
		Expect:     verify.Expectations{ExpectGroups: []string{"IT", "Everyone"}},
		HTTPClient: &http.Client{Transport: ct, Timeout: 10 * time.Second},
		Issuers:    TrustedIssuers(p1.Issuer(), p2.Issuer(), p1.Issuer()),
		Kind:       "auto", Workers: 3, Window: 5,
	}, strings.NewReader(in.String()), &out)
	if err != nil {
		t.Fatal(err)
	}

	dec := json.NewDecoder(&out)
	dec.DisallowUnknownFields()
	for i, w := range wants {
		var got streamLine
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		var class failure.Class
		if got.Class != nil {
			class = *got.Class
		}
		if got.Index != w.index || got.OK != w.ok || class != w.class || got.ExitCode != w.class.ExitCode() || (w.ok != (got.Class == nil)) {
			t.Fatalf("result %d: index %d ok %v class %q exit %d, want index %d ok %v class %q (error %+v)",
				i+1, got.Index, got.OK, class, got.ExitCode, w.index, w.ok, w.class, got.Error)
		}
		if w.ok && (got.Kind != report.IDToken || len(got.Claims) == 0 || len(got.Checks) != 3 || got.Error != nil) {
			t.Fatalf("result %d: kind %s, claims %s, checks %+v", i+1, got.Kind, got.Claims, got.Checks)
		}
		if got.Token != "" {
			t.Fatalf("result %d shows the token without --show-tokens", i+1)
		}
	}
	if dec.More() {
		t.Fatal("more result lines than tokens")
	}
	if sum.Tokens != len(wants) || sum.Worst != failure.Verification || sum.ExitCode() != 4 {
		t.Errorf("summary %+v, want %d tokens, worst verification", sum, len(wants))
	}
	for _, p := range []*demo.Provider{p1, p2} {
		host := strings.TrimPrefix(p.Issuer(), "http://")
		if n := ct.count(host + "/.well-known/openid-configuration"); n != 1 {
			t.Errorf("%s: %d discovery requests, want 1", p.Issuer(), n)
		}
		if n := ct.count(host) - ct.count(host+"/.well-known/"); n != 1 {
			t.Errorf("%s: %d JWKS requests, want 1 (%v)", p.Issuer(), n, ct.hits)
		}
	}
	if n := foreignHits.Load(); n != 0 {
		t.Errorf("%d requests to the untrusted issuer", n)
	}
}

func TestVerifyStreamProviderDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, tokens := demoIDToken(t, ctx, "alice")
	iss := p.Issuer()
	p.Close() // the issuer is gone: each of its tokens is a provider failure
	var out bytes.Buffer
	in := strings.Repeat(tokens["alice"]+"\n", 3)
	sum, err := Verify(ctx, Config{
		ClientID: demo.PublicClientID, HTTPClient: &http.Client{Timeout: 5 * time.Second},
		Issuers: []string{iss}, Kind: report.IDToken,
	}, strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Tokens != 3 || sum.Worst != failure.Provider || sum.ExitCode() != 5 {
		t.Fatalf("summary %+v, want 3 provider failures\n%s", sum, out.String())
	}
}

// failingWriter fails after n writes, like a closed pipe downstream.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, io.ErrClosedPipe
	}
	w.n--
	return len(p), nil
}

func TestVerifyStreamStopsOnWriteError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// An endless input: the stream must stop when its output is gone.
	r, w := io.Pipe()
	go func() {
		for {
			if _, err := fmt.Fprintln(w, "not-a-jwt"); err != nil {
				return
			}
		}
	}()
	defer r.Close()
	_, err := Verify(ctx, Config{
		ClientID: "c",
		Issuers:  []string{"https://issuer.example"}, Kind: "auto", Window: 4,
	}, r, &failingWriter{n: 3})
	if err == nil || !strings.Contains(err.Error(), "writing results") {
		t.Fatalf("err = %v, want a write error", err)
	}
}

// TestStreamLineJSON holds the hand-written line encoding to encoding/json.
func TestStreamLineJSON(t *testing.T) {
	class := failure.Expectation
	lines := []streamLine{
		{Index: 1, OK: true, Kind: "id_token", Issuer: "https://x.example/", Claims: rawJSON(`{"sub":"a","groups":["IT"]}`),
			Checks: []verify.Check{{Name: "id_token verified", OK: true, Source: "id_token", Detail: "ok"}}},
		{Index: 7, ExitCode: 1, Class: &class, Kind: "access_token", Issuer: "é \"<tag>\" \x00\n\xff", Checks: []verify.Check{},
			Error: &report.Error{Class: class, Message: "group IT: missing everywhere; groups present: \"x\""}, Token: "a.b.c"},
	}
	for _, l := range lines {
		want, err := json.Marshal(&l)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(l.appendJSON(nil)); got != string(want)+"\n" {
			t.Errorf("appendJSON:\n%s\nencoding/json:\n%s", got, want)
		}
	}
}

// TestAppendStringEveryByte holds appendString to encoding/json for each
// byte value, alone and between plain text, and for a few runes.
func TestAppendStringEveryByte(t *testing.T) {
	var ins []string
	for c := range 256 {
		ins = append(ins, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)})+"cd")
	}
	ins = append(ins, "", "é", "\u2028\u2029", "signature (RS256) and claims verified")
	for _, in := range ins {
		want, _ := json.Marshal(in)
		if got := appendString(nil, in); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json %s", in, got, want)
		}
	}
}

// TestVerifyStreamInteractive: a result is written as soon as its token is
// in, while the input stays open (a batch is handed on before a read that
// would wait).
func TestVerifyStreamInteractive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := Verify(ctx, Config{
			ClientID: "c",
			Issuers:  []string{"https://issuer.example"}, Kind: "auto",
		}, inR, outW)
		outW.Close()
		done <- err
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i := 1; i <= 3; i++ {
		fmt.Fprintln(inW, "not-a-jwt")
		select {
		case l := <-lines:
			if !strings.HasPrefix(l, fmt.Sprintf(`{"index":%d,`, i)) {
				t.Fatalf("line %d: %s", i, l)
			}
		case <-ctx.Done():
			t.Fatalf("no result for token %d while the input is open", i)
		}
	}
	inW.Close()
	if _, ok := <-lines; ok {
		t.Fatal("more lines than tokens")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStreamVerifiedDetail holds the stream's constant details to
// report.VerifiedDetail, for each algorithm and an unusual one.
func TestStreamVerifiedDetail(t *testing.T) {
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", ""} {
		tok := &verify.Token{Header: map[string]any{"alg": alg}}
		if got, want := streamVerifiedDetail(tok), report.VerifiedDetail(alg); got != want {
			t.Errorf("%s: %q, want %q", alg, got, want)
		}
	}
}
