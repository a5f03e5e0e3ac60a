package check_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/internal/op/hostile"
	"github.com/claimcheck/claimcheck/internal/testsupport/leakcheck"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// demoIssuer is the one demo provider behind every hostile server of this
// package's tests: RSA key generation makes starting one the slow part.
var demoIssuer string

func TestMain(m *testing.M) {
	// op logs refused requests through slog's default logger.
	slog.SetDefault(slog.New(slog.DiscardHandler))
	p, err := demo.Start(context.Background(), demo.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	demoIssuer = p.Issuer()
	code := m.Run()
	p.Close()
	os.Exit(code)
}

const callbackPath = "/cc-callback"

// hostileCase is one thing the provider gets wrong and what claimcheck must
// make of it.
type hostileCase struct {
	name string
	// ref is the section of the specification the case follows.
	ref          string
	opts         hostile.Options
	responseType string
	// responseMode, when set, is the response_mode asked for.
	responseMode string
	groupsFrom   []string
	// setup runs once the server exists (to choose its signing key).
	setup func(*hostile.Server)
	// opener replaces the stand-in browser.
	opener      flow.Opener
	httpTimeout time.Duration
	flowTimeout time.Duration

	wantClass failure.Class // "" means the run passes
	wantMsg   string        // the message names the problem (lower case)
	// noBackChannel: a bad front channel must cause no token or userinfo request.
	noBackChannel bool
	// noListener: the run must end before anything is shown to a browser.
	noListener bool
	// clientAuth, when set, runs as the demo's confidential client with
	// this client authentication.
	clientAuth string
	// clientKey, when set, runs as the demo's confidential client
	// authenticating by private_key_jwt with this key; par and dpop are --par and --dpop.
	clientKey *flow.ClientKey
	par, dpop bool
	check     func(t *testing.T, s *hostile.Server, r *report.Report)
}

// Token editors.
func claim(name string, v any) func(*hostile.Token) {
	return func(t *hostile.Token) { t.Claims[name] = v }
}
func drop(name string) func(*hostile.Token) {
	return func(t *hostile.Token) { delete(t.Claims, name) }
}
func header(name string, v any) func(*hostile.Token) {
	return func(t *hostile.Token) {
		if v == nil {
			delete(t.Header, name)
			return
		}
		t.Header[name] = v
	}
}
func in(d time.Duration) int64 { return time.Now().Add(d).Unix() }

// jsonSerialization rewrites a compact JWS as the flattened JSON form.
func jsonSerialization(raw string) string {
	p := strings.Split(raw, ".")
	b, _ := json.Marshal(map[string]string{"protected": p[0], "payload": p[1], "signature": p[2]})
	return string(b)
}

func flipSignature(raw string) string {
	i := strings.LastIndexByte(raw, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(raw[i+1:])
	sig[len(sig)/2] ^= 0x01
	return raw[:i+1] + base64.RawURLEncoding.EncodeToString(sig)
}

func jwksOf(keys ...func(*hostile.Server) map[string]any) func(*hostile.Server, int) []map[string]any {
	return func(s *hostile.Server, _ int) []map[string]any {
		var out []map[string]any
		for _, k := range keys {
			out = append(out, k(s))
		}
		return out
	}
}
func key(i int, use string) func(*hostile.Server) map[string]any {
	return func(s *hostile.Server) map[string]any { return s.PublicJWK(i, use) }
}
func withoutKid(f func(*hostile.Server) map[string]any) func(*hostile.Server) map[string]any {
	return func(s *hostile.Server) map[string]any {
		k := f(s)
		delete(k, "kid")
		return k
	}
}

// rotation serves key 0 on the first JWKS fetch and keys 0 and 1 after.
func rotation(s *hostile.Server, n int) []map[string]any {
	if n == 1 {
		return []map[string]any{s.PublicJWK(0, "sig")}
	}
	return []map[string]any{s.PublicJWK(0, "sig"), s.PublicJWK(1, "sig")}
}

func wantCount(e hostile.Endpoint, n int64) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, s *hostile.Server, _ *report.Report) {
		if got := s.Count(e); got != n {
			t.Errorf("%s requests: %d, want %d", e, got, n)
		}
	}
}

func wantInMessage(words string) func(*testing.T, *hostile.Server, *report.Report) {
	return func(t *testing.T, _ *hostile.Server, r *report.Report) {
		if r.Error == nil || !strings.Contains(r.Error.Message, words) {
			t.Errorf("message does not say %q: %+v", words, r.Error)
		}
	}
}

// shownAndCut: the provider's error_description and error_uri are shown,
// without control characters (checked for every case) and truncated.
func shownAndCut(t *testing.T, _ *hostile.Server, r *report.Report) {
	msg := r.Error.Message
	if !strings.Contains(msg, `error_description="The user`) || !strings.Contains(msg, `error_uri="https://idp.example/help"`) {
		t.Errorf("description or uri not shown: %q", msg)
	}
	if strings.Contains(msg, strings.Repeat("x", 400)) {
		t.Errorf("description not truncated (%d bytes)", len(msg))
	}
}

func response(edit func(q url.Values)) hostile.Options {
	return hostile.Options{Response: edit}
}

func providerError(code string) func(url.Values) {
	return func(q url.Values) {
		state := q.Get("state")
		for k := range q {
			delete(q, k)
		}
		q.Set("error", code)
		q.Set("error_description", "The user\x1b[31m said\r\nno "+strings.Repeat("x", 500))
		q.Set("error_uri", "https://idp.example/help")
		q.Set("state", state)
	}
}

// never is an opener that shows the URL to nobody.
type never struct{}

func (never) Open(ctx context.Context, _ string) error {
	<-ctx.Done()
	return nil
}

// hadCHash says whether the last ID token of the c_hash baseline case
// carried one.
var hadCHash atomic.Bool

func hostileCases() []hostileCase {
	const idtt = "id_token token"
	v := failure.Verification
	var cases []hostileCase
	// verification (4): the front-channel ID token of an implicit
	// "id_token token" response, so that no token endpoint or userinfo
	// request may follow a bad one.
	for _, c := range []struct {
		name, ref, msg string
		id             func(*hostile.Token)
		wire           func(string) string
	}{
		{"bad signature", "OpenID Core 3.2.2.11 / RP Basic rp-id_token-bad-sig-rs256", "signature", nil, flipSignature},
		{"alg none", "RFC 9700 4.14 (JWT alg confusion) / RP rp-id_token-sig-none", "none", header("alg", "none"), nil},
		{"HS256 keyed with the RSA public key", "RFC 8725 2.1 and 3.1 / RFC 9700 4.14", "hs256", header("alg", "HS256"), nil},
		{"alg not advertised (RS512)", "OpenID Core 3.1.3.7 step 7 / Discovery id_token_signing_alg_values_supported", "rs512", header("alg", "RS512"), nil},
		{"wrong iss", "OpenID Core 3.1.3.7 step 2 / RP rp-id_token-issuer-mismatch", "iss", claim("iss", "https://evil.example"), nil},
		{"wrong aud", "OpenID Core 3.1.3.7 step 3 / RP rp-id_token-aud", "aud", claim("aud", "another-client"), nil},
		{"several aud without azp", "OpenID Core 3.1.3.7 step 4", "azp", func(t *hostile.Token) {
			t.Claims["aud"] = []string{demo.PublicClientID, "another-client"}
			delete(t.Claims, "azp")
		}, nil},
		{"azp names another client", "OpenID Core 3.1.3.7 step 5", "azp", func(t *hostile.Token) {
			t.Claims["aud"] = []string{demo.PublicClientID, "another-client"}
			t.Claims["azp"] = "another-client"
		}, nil},
		{"expired", "OpenID Core 3.1.3.7 step 9", "expired", claim("exp", in(-time.Hour)), nil},
		{"exp missing", "OpenID Core 2 (exp REQUIRED) / RP rp-id_token-missing-exp", "exp", drop("exp"), nil},
		{"iat missing", "OpenID Core 2 (iat REQUIRED) / RP rp-id_token-iat", "iat", drop("iat"), nil},
		{"iat beyond skew in the future", "OpenID Core 3.1.3.7 step 10", "iat", claim("iat", in(time.Hour)), nil},
		{"sub missing", "OpenID Core 2 (sub REQUIRED) / RP rp-id_token-sub", "sub", drop("sub"), nil},
		{"nonce missing", "OpenID Core 3.2.2.11 / RP Implicit rp-nonce-invalid", "nonce", drop("nonce"), nil},
		{"nonce different", "OpenID Core 3.1.3.7 step 11 / RP rp-nonce-invalid", "nonce", claim("nonce", "not-the-nonce"), nil},
		{"at_hash wrong", "OpenID Core 3.2.2.9 / RP Implicit rp-id_token-bad-at_hash", "at_hash", claim("at_hash", "AAAAAAAAAAAAAAAAAAAAAA"), nil},
		{"at_hash missing on id_token token", "OpenID Core 3.2.2.10 (at_hash REQUIRED with token) / RP rp-id_token-missing-at_hash", "at_hash", drop("at_hash"), nil},
		{"kid not in the JWKS after a refetch", "OpenID Core 10.1.1 / RP rp-id_token-kid-absent-multiple-jwks", "not in the jwks", header("kid", "no-such-key"), nil},
		{"JWS JSON serialization", "RFC 7519 7.2 step 1 (compact only)", "json serialization", nil, jsonSerialization},
		{"2 segments", "RFC 7519 7.2 / RFC 7515 7.1", "2 dot-separated segments", nil, func(s string) string { return s[:strings.LastIndexByte(s, '.')] }},
		{"4 segments", "RFC 7519 7.2 / RFC 7515 7.1", "4 dot-separated segments", nil, func(s string) string { return s + ".AAAA" }},
	} {
		hc := hostileCase{
			name: c.name, ref: c.ref, responseType: idtt,
			opts:      hostile.Options{IDToken: c.id, IDTokenWire: c.wire},
			wantClass: v, wantMsg: c.msg, noBackChannel: true,
		}
		switch c.name {
		case "kid not in the JWKS after a refetch":
			hc.check = wantCount(hostile.JWKSEndpoint, 2)
		case "bad signature":
			// A known key that does not verify is no reason to refetch
			// (go-oidc's RemoteKeySet refetches on every failure).
			hc.check = wantCount(hostile.JWKSEndpoint, 1)
		}
		cases = append(cases, hc)
	}
	cases = append(cases,
		hostileCase{
			name: "JWKS with only use:enc keys", ref: "RFC 7517 4.2 (use) / RP rp-id_token-sig+enc",
			responseType: idtt, opts: hostile.Options{JWKS: jwksOf(key(0, "enc"))},
			wantClass: v, wantMsg: "enc", noBackChannel: true,
		},
		hostileCase{
			name: "c_hash wrong (hybrid code id_token)", ref: "OpenID Core 3.3.2.11 / RP Hybrid rp-id_token-bad-c_hash",
			responseType: "code id_token", opts: hostile.Options{IDToken: claim("c_hash", "AAAAAAAAAAAAAAAAAAAAAA")},
			wantClass: v, wantMsg: "c_hash", noBackChannel: true,
		},
		// Issue 11 item 5: c_hash is checked wherever it is present.
		hostileCase{
			name: "c_hash wrong in the token endpoint's ID token (code)", ref: "OpenID Core 3.3.2.11 / 3.1.3.6 (c_hash binds the code)",
			responseType: "code", opts: hostile.Options{IDToken: claim("c_hash", "AAAAAAAAAAAAAAAAAAAAAA")},
			wantClass: v, wantMsg: "c_hash", check: wantCount(hostile.UserInfoEndpoint, 0),
		},
		// Issue 11 item 7: only Bearer access tokens are accepted.
		hostileCase{
			name: "token_type mac from the token endpoint", ref: "RFC 6749 5.1 and 7.1 / RFC 6750",
			responseType: "code", groupsFrom: []string{"userinfo"},
			opts:      hostile.Options{TokenResponse: func(m map[string]any) { m["token_type"] = "mac" }},
			wantClass: v, wantMsg: `token_type "mac" is not bearer`, check: wantCount(hostile.UserInfoEndpoint, 0),
		},
		hostileCase{
			name: "token_type N_A in the authorization response", ref: "RFC 6749 4.2.2 and 7.1 / RFC 8693 (N_A)",
			responseType: idtt, opts: response(func(q url.Values) { q.Set("token_type", "N_A") }),
			wantClass: v, wantMsg: `token_type "n_a" is not bearer`, noBackChannel: true,
		},
		hostileCase{
			name: "bad signature from the token endpoint", ref: "OpenID Core 3.1.3.7 step 6 / RP Basic rp-id_token-bad-sig-rs256",
			responseType: "code", opts: hostile.Options{IDTokenWire: flipSignature},
			wantClass: v, wantMsg: "signature", check: wantCount(hostile.UserInfoEndpoint, 0),
		},
		hostileCase{
			name: "userinfo sub differs", ref: "OpenID Core 5.3.2 / RP rp-userinfo-bad-sub-claim",
			responseType: "code", groupsFrom: []string{"userinfo"},
			opts:      hostile.Options{UserInfo: func(m map[string]any) { m["sub"] = "user-mallory" }},
			wantClass: v, wantMsg: "sub",
		},
		hostileCase{
			name: "hybrid: token endpoint ID token for another sub", ref: "OpenID Core 3.3.3.6 (iss and sub MUST be identical)",
			responseType: "code id_token", opts: hostile.Options{HybridSubject: "user-bob"},
			wantClass: v, wantMsg: "sub",
		},
		hostileCase{
			// Not a failure by design: an access token that cannot be
			// verified locally is reported as such (the verified ID token's
			// at_hash still binds it), and never shown as verified.
			name: "access token alg none: reported unverifiable", ref: "RFC 9068 4 / RFC 8725 3.1 / OpenID Core 3.2.2.9",
			responseType: idtt, opts: hostile.Options{AccessToken: header("alg", "none")},
			check: func(t *testing.T, _ *hostile.Server, r *report.Report) {
				if at := r.Tokens[report.AccessToken]; at == nil || at.Verified || !strings.Contains(at.Note, "unsigned") {
					t.Errorf("unsigned access token: %+v, want unverified with a note", at)
				}
			},
		},
		hostileCase{
			name: "access token expired", ref: "RFC 9068 4 (exp)",
			responseType: idtt, opts: hostile.Options{AccessToken: claim("exp", in(-time.Hour))},
			wantClass: v, wantMsg: "expired",
		},
		hostileCase{
			name: "access token with a wrong iss", ref: "RFC 9068 4 (iss)",
			responseType: idtt, opts: hostile.Options{AccessToken: claim("iss", "https://evil.example")},
			wantClass: v, wantMsg: "iss",
		},
		hostileCase{
			name: "discovery issuer differs", ref: "OpenID Discovery 4.3 / RP Config rp-discovery-issuer-not-matching-config",
			responseType: "code", opts: hostile.Options{Discovery: func(d map[string]any) { d["issuer"] = "https://evil.example" }},
			wantClass: v, wantMsg: "issuer", noListener: true,
		},
		// Issue 11 item 4: metadata that is not what the protocol says
		// is the provider's failure (4), naming the document and field,
		// not a usage error; nothing is sent to the bad endpoint.
		hostileCase{
			name: "authorization_endpoint javascript:", ref: "RFC 6749 3.1 / OpenID Discovery 3",
			responseType: "code", opts: hostile.Options{Discovery: func(d map[string]any) { d["authorization_endpoint"] = "javascript:alert(1)" }},
			wantClass: v, wantMsg: "authorization_endpoint in the document at", noListener: true,
			check: wantInMessage("/.well-known/openid-configuration"),
		},
		hostileCase{
			name: "token_endpoint file:", ref: "RFC 6749 3.2 / OpenID Discovery 3",
			responseType: "code", opts: hostile.Options{Discovery: func(d map[string]any) { d["token_endpoint"] = "file:///etc/passwd" }},
			wantClass: v, wantMsg: `token_endpoint in the document at`, noListener: true,
			check: wantInMessage(`has scheme "file"`),
		},
	)
	// must pass
	cases = append(cases,
		hostileCase{name: "baseline code", ref: "OpenID Core 3.1", responseType: "code"},
		hostileCase{name: "baseline id_token token", ref: "OpenID Core 3.2", responseType: idtt},
		hostileCase{name: "baseline hybrid code id_token", ref: "OpenID Core 3.3", responseType: "code id_token"},
		hostileCase{
			name: "key rotation: one refetch, then accept", ref: "OpenID Core 10.1.1 / RP rp-key-rotation-op-sign-key",
			responseType: "code", opts: hostile.Options{JWKS: rotation},
			setup: func(s *hostile.Server) { s.UseKey(1) },
			check: wantCount(hostile.JWKSEndpoint, 2),
		},
		hostileCase{
			name: "no kid, one key", ref: "OpenID Core 10.1 / RP rp-id_token-kid-absent-single-jwks",
			responseType: idtt, opts: hostile.Options{IDToken: header("kid", nil), JWKS: jwksOf(withoutKid(key(0, "sig")))},
		},
		hostileCase{
			name: "no kid, several keys", ref: "OpenID Core 10.1 (kid absent, several keys: try each)",
			responseType: idtt, opts: hostile.Options{IDToken: header("kid", nil), JWKS: jwksOf(key(0, "sig"), key(1, "sig"))},
			setup: func(s *hostile.Server) { s.UseKey(1) },
		},
		hostileCase{
			name: "second unknown kid: no second refetch", ref: "RFC 9700 4.14 / OpenID Core 10.1.1 (rate-limited refetch)",
			responseType: idtt, opts: hostile.Options{JWKS: rotation, AccessToken: header("kid", "unknown-at-key")},
			setup: func(s *hostile.Server) { s.UseKey(1) },
			check: func(t *testing.T, s *hostile.Server, r *report.Report) {
				wantCount(hostile.JWKSEndpoint, 2)(t, s, r)
				if at := r.Tokens[report.AccessToken]; at == nil || at.Verified {
					t.Errorf("access token with an unknown kid reported verified: %+v", at)
				}
			},
		},
		hostileCase{
			name: "iss parameter equal to the issuer", ref: "RFC 9207 2.4",
			responseType: "code", opts: hostile.Options{SendIss: true},
		},
		hostileCase{
			// Issue 11 item 3: the report prints endpoints as messages do,
			// without user info and query.
			name: "endpoints with user info and a query: not printed", ref: "RFC 3986 3.2.1 (user info is deprecated) / RFC 6750 5.3",
			responseType: "code", groupsFrom: []string{"userinfo"},
			opts: hostile.Options{Discovery: func(d map[string]any) {
				for _, f := range []string{"jwks_uri", "userinfo_endpoint"} {
					d[f] = strings.Replace(d[f].(string), "http://", "http://u:PASSWORD-IN-URL@", 1) + "?x=QUERY-SECRET"
				}
			}},
			check: func(t *testing.T, _ *hostile.Server, r *report.Report) {
				var text, js bytes.Buffer
				r.WriteText(&text, report.TextOptions{})
				r.WriteJSON(&js)
				for _, s := range []string{"PASSWORD-IN-URL", "QUERY-SECRET"} {
					if strings.Contains(text.String()+js.String(), s) {
						t.Errorf("the report prints %s:\n%s", s, text.String())
					}
				}
				if !strings.Contains(r.Request.Endpoints["jwks"], "/hostile/jwks") {
					t.Errorf("endpoints %v", r.Request.Endpoints)
				}
			},
		},
		hostileCase{
			name: "token_type bearer in lower case", ref: "RFC 6749 5.1 (token_type is case-insensitive)",
			responseType: "code", opts: hostile.Options{TokenResponse: func(m map[string]any) { m["token_type"] = "bearer" }},
		},
		hostileCase{
			// The demo's ID token from the token endpoint carries a c_hash;
			// it is now checked, and right.
			name: "baseline code: the token endpoint's c_hash checked", ref: "OpenID Core 3.1.3.6",
			responseType: "code", opts: hostile.Options{IDToken: func(tok *hostile.Token) { hadCHash.Store(tok.Claims["c_hash"] != nil) }},
			check: func(t *testing.T, _ *hostile.Server, _ *report.Report) {
				if !hadCHash.Load() {
					t.Errorf("the demo provider's ID token has no c_hash: the case proves nothing")
				}
			},
		},
		hostileCase{
			name: "iss missing next to an ID token (oidc-provider)", ref: "RFC 9207 2.4 / OpenID Core 3.2.2.11",
			responseType: idtt, opts: hostile.Options{
				Discovery: func(d map[string]any) { d["authorization_response_iss_parameter_supported"] = true },
			},
		},
	)
	// flow (3)
	fl := failure.Flow
	cases = append(cases,
		// A response that cannot be tied to the run is ignored (400) and
		// the wait goes on: any web page could have sent it. When the
		// provider only ever sends such a response, the run times out and
		// the message counts what was ignored. TestForgedResponsesBeforeReal
		// has the real response follow the forged ones.
		hostileCase{name: "state missing: ignored, then timeout", ref: "RFC 9700 4.7.1 / RFC 6749 10.12 / RP rp-response-state", responseType: "code",
			opts: response(func(q url.Values) { q.Del("state") }), flowTimeout: 3 * time.Second,
			wantClass: fl, wantMsg: "1 without a state", noBackChannel: true},
		hostileCase{name: "state different: ignored, then timeout", ref: "RFC 9700 4.7.1 / RFC 6749 10.12", responseType: "code",
			opts: response(func(q url.Values) { q.Set("state", "forged") }), flowTimeout: 3 * time.Second,
			wantClass: fl, wantMsg: "1 with a state that is not this run's", noBackChannel: true},
		hostileCase{name: "error with a wrong state: ignored, then timeout", ref: "RFC 9700 4.7.1 (error responses are untrusted without state)", responseType: "code",
			opts:        response(func(q url.Values) { providerError("access_denied")(q); q.Set("state", "forged") }),
			flowTimeout: 3 * time.Second, wantClass: fl, wantMsg: "1 with a state that is not this run's", noBackChannel: true,
			check: func(t *testing.T, _ *hostile.Server, r *report.Report) {
				if strings.Contains(r.Error.Message, "access_denied") || strings.Contains(r.Error.Message, "The user") {
					t.Errorf("the message believes an error response with a wrong state: %q", r.Error.Message)
				}
			}},
		hostileCase{name: "error=access_denied", ref: "RFC 6749 4.1.2.1 / OpenID Core 3.1.2.6", responseType: "code",
			opts: response(providerError("access_denied")), wantClass: fl, wantMsg: "access_denied", noBackChannel: true, check: shownAndCut},
		hostileCase{name: "error=invalid_scope", ref: "RFC 6749 4.1.2.1", responseType: "code",
			opts: response(providerError("invalid_scope")), wantClass: fl, wantMsg: "invalid_scope", noBackChannel: true, check: shownAndCut},
		hostileCase{name: "error=login_required", ref: "OpenID Core 3.1.2.6", responseType: idtt,
			opts: response(providerError("login_required")), wantClass: fl, wantMsg: "login_required", noBackChannel: true, check: shownAndCut},
		hostileCase{name: "code and error together", ref: "RFC 9700 4.7 / RFC 6749 4.1.2", responseType: "code",
			opts: response(func(q url.Values) { q.Set("error", "access_denied") }), wantClass: fl, wantMsg: "both", noBackChannel: true},
		hostileCase{name: "repeated parameter", ref: "RFC 6749 3.1 (parameters MUST NOT be repeated)", responseType: "code",
			opts: response(func(q url.Values) { q.Add("code", "injected") }), wantClass: fl, wantMsg: "appears 2 times", noBackChannel: true},
		hostileCase{name: "iss parameter differs (mix-up)", ref: "RFC 9207 2.4 / RFC 9700 4.4", responseType: "code",
			opts: response(func(q url.Values) { q.Set("iss", "https://evil.example") }), wantClass: fl, wantMsg: "iss", noBackChannel: true},
		hostileCase{name: "iss missing where the metadata promises it", ref: "RFC 9207 2.4 / RFC 9207 3", responseType: "code",
			opts:      hostile.Options{Discovery: func(d map[string]any) { d["authorization_response_iss_parameter_supported"] = true }},
			wantClass: fl, wantMsg: "no iss", noBackChannel: true},
		hostileCase{name: "token endpoint invalid_grant", ref: "RFC 6749 5.2", responseType: "code",
			opts:      hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{hostile.TokenEndpoint: hostile.InvalidGrant}},
			wantClass: fl, wantMsg: "invalid_grant"},
		// Issue 11 item 3: what the provider says is shown, without what
		// claimcheck sent (noSecrets checks the code, the verifier, the
		// secret and the Basic credential are in no output).
		hostileCase{name: "token endpoint echoes the request (client_secret_basic)", ref: "RFC 6749 5.2 / RFC 6819 5.1.4.1", responseType: "code",
			opts: hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{hostile.TokenEndpoint: hostile.EchoRequest}}, clientAuth: "client_secret_basic",
			wantClass: fl, wantMsg: "[redacted client secret]", check: wantInMessage("[redacted code]")},
		hostileCase{name: "token endpoint echoes the request (client_secret_post)", ref: "RFC 6749 5.2 / RFC 6819 5.1.4.1", responseType: "code",
			opts: hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{hostile.TokenEndpoint: hostile.EchoRequest}}, clientAuth: "client_secret_post",
			wantClass: fl, wantMsg: "[redacted client secret]", check: wantInMessage("[redacted PKCE verifier]")},
		hostileCase{name: "sign-in never finishes (--timeout)", ref: "RFC 8252 7.3", responseType: "code",
			opener: never{}, flowTimeout: 300 * time.Millisecond, wantClass: fl, wantMsg: "timed out", noBackChannel: true},
	)
	// provider (5): every endpoint broken every way.
	endpointWords := map[hostile.Endpoint]string{
		hostile.DiscoveryEndpoint: "discovery", hostile.JWKSEndpoint: "jwks", hostile.TokenEndpoint: "token endpoint", hostile.UserInfoEndpoint: "userinfo",
	}
	for _, e := range []hostile.Endpoint{hostile.DiscoveryEndpoint, hostile.JWKSEndpoint, hostile.TokenEndpoint, hostile.UserInfoEndpoint} {
		for _, b := range []struct {
			name string
			b    hostile.Breakage
		}{{"refuses connections", hostile.Refuse}, {"answers 500", hostile.Status500}, {"answers garbage", hostile.Garbage},
			{"answers HTML", hostile.HTML}, {"answers 2 MiB", hostile.Oversized}, {"never answers", hostile.Hang}} {
			hc := hostileCase{
				name: fmt.Sprintf("%s %s", e, b.name), ref: "RFC 9700 4.15 (resource exhaustion) / OpenID Discovery 4",
				responseType: "code", groupsFrom: []string{"userinfo"},
				opts:      hostile.Options{Break: map[hostile.Endpoint]hostile.Breakage{e: b.b}},
				wantClass: failure.Provider, wantMsg: endpointWords[e],
				noListener: e == hostile.DiscoveryEndpoint,
			}
			if b.b == hostile.Hang {
				hc.httpTimeout = 300 * time.Millisecond
				hc.check = wantInMessage("timed out")
			}
			if b.b == hostile.Oversized {
				hc.check = wantInMessage(" large")
			}
			cases = append(cases, hc)
		}
	}
	return append(append(cases, jarmHostileCases()...), clientCases()...)
}

// outcome is what a case produced: the report and everything that was
// shown to anyone.
type outcome struct {
	r         *report.Report
	text      string
	json      string
	pages     []string
	listening bool
}

// recorder keeps every body the loopback listener served to the stand-in.
type recorder struct {
	next  http.RoundTripper
	mu    sync.Mutex
	pages []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || req.URL.Path != callbackPath {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.pages = append(r.pages, fmt.Sprint(resp.Header)+"\n"+string(body))
	r.mu.Unlock()
	return resp, err
}

// runHostile runs one whole flow (listener, stand-in sign-in, exchange,
// verification) against s and returns what came of it. ctx bounds it.
func runHostile(ctx context.Context, t *testing.T, s *hostile.Server, c hostileCase, client *http.Client) outcome {
	t.Helper()
	base := http.DefaultTransport.(*http.Transport).Clone()
	if s.Certificate() != nil {
		base.TLSClientConfig = s.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	}
	rec := &recorder{next: base}
	browser := &standin.Browser{
		Client: &http.Client{Transport: rec, Timeout: 5 * time.Second}, Username: "alice", Password: "alice-demo",
	}
	var opener flow.Opener = browser
	if c.opener != nil {
		opener = c.opener
	}
	httpTimeout := c.httpTimeout
	if httpTimeout == 0 {
		httpTimeout = 5 * time.Second
	}
	if client == nil {
		var err error
		client, err = httpclient.New(httpclient.Options{Timeout: httpTimeout})
		if err != nil {
			t.Fatal(err)
		}
	}
	flowTimeout := c.flowTimeout
	if flowTimeout == 0 {
		flowTimeout = 10 * time.Second
	}
	var o outcome
	clientID, secret := demo.PublicClientID, ""
	if c.clientAuth != "" {
		clientID, secret = demo.ConfidentialClientID, demo.ConfidentialClientSecret
	}
	if c.clientKey != nil {
		// Known to the demo's authorize endpoint; the token endpoint is
		// the hostile server's to refuse.
		clientID = demo.ConfidentialClientID
	}
	var dpopKey *flow.DPoPKey
	if c.dpop {
		var err error
		if dpopKey, err = flow.NewDPoPKey(); err != nil {
			t.Fatal(err)
		}
	}
	r, _ := check.Run(ctx, check.Config{
		Issuer: s.Issuer(), ClientID: clientID, ClientSecret: secret, AuthMethod: c.clientAuth,
		ClientKey: c.clientKey, PAR: c.par, DPoPKey: dpopKey,
		RedirectURI: "http://127.0.0.1:0" + callbackPath, ResponseType: c.responseType, ResponseMode: c.responseMode,
		Scopes:    []string{"openid", "groups"},
		Expect:    verify.Expectations{ExpectGroups: []string{"Everyone", "IT"}, GroupsFrom: c.groupsFrom},
		ClockSkew: 2 * time.Minute, HTTPClient: client, Timeout: flowTimeout, Opener: opener,
		OnListening: func(redirectURI, _ string, _ time.Time) {
			o.listening = true
			// A pushed request's authorize URL does not carry it.
			browser.RedirectURI = redirectURI
		},
	})
	base.CloseIdleConnections()
	client.CloseIdleConnections()
	var text, js bytes.Buffer
	if err := r.WriteText(&text, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	o.r, o.text, o.json, o.pages = r, text.String(), js.String(), rec.pages
	return o
}

// portFree fails t when the redirect URI's port is still bound.
func portFree(t *testing.T, r *report.Report) {
	t.Helper()
	if r.Request == nil || r.Request.RedirectURI == "" {
		return
	}
	u, err := url.Parse(r.Request.RedirectURI)
	if err != nil || u.Port() == "0" {
		return
	}
	ln, err := net.Listen("tcp4", u.Host)
	if err != nil {
		t.Errorf("port of %s still bound after the run: %v", r.Request.RedirectURI, err)
		return
	}
	ln.Close()
}

// noSecrets fails t when any output carries a token, code, verifier,
// secret or password, or a raw provider body.
func noSecrets(t *testing.T, s *hostile.Server, o outcome) {
	t.Helper()
	secrets := append(s.Secrets(), "alice-demo", demo.ConfidentialClientSecret, "SECRET-BODY-TEXT")
	outputs := map[string]string{"text report": o.text, "JSON report": o.json}
	for i, p := range o.pages {
		outputs[fmt.Sprintf("page %d", i)] = p
	}
	for where, out := range outputs {
		for _, sec := range secrets {
			if len(sec) >= 8 && strings.Contains(out, sec) {
				t.Errorf("%s carries a secret (%.12s…)", where, sec)
			}
		}
	}
}

// TestHostileProvider runs every case of issue 4 through the real flow
// against a provider that gets one thing wrong. Each case logs
// "CASE <name> | want <class> | got <class>" for the closing note's table.
func TestHostileProvider(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			before := leakcheck.Take()
			s, err := hostile.New(demoIssuer, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			if c.setup != nil {
				c.setup(s)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			o := runHostile(ctx, t, s, c, nil)
			hung := ctx.Err() != nil
			cancel()
			s.Close()
			r := o.r
			got := failure.Class("")
			msg := ""
			if r.Error != nil {
				got, msg = r.Error.Class, r.Error.Message
			}
			want := c.wantClass
			t.Logf("CASE %s | %s | want %s (%d) | got %s (%d) | %s", c.name, c.ref, orPass(want), want.ExitCode(), orPass(got), r.ExitCode, msg)
			if hung {
				t.Fatalf("the run outlived its 20s context")
			}
			if got != want {
				t.Fatalf("class %q (exit %d), want %q\n%s", got, r.ExitCode, want, o.text)
			}
			if want == "" && r.ExitCode != 0 {
				t.Fatalf("exit %d, want 0\n%s", r.ExitCode, o.text)
			}
			if strings.ContainsAny(msg, "\r\n\x1b") {
				t.Errorf("message is not one clean line: %q", msg)
			}
			if !strings.Contains(strings.ToLower(msg), c.wantMsg) {
				t.Errorf("message %q does not name the problem (%q)", msg, c.wantMsg)
			}
			if c.noBackChannel {
				for _, e := range []hostile.Endpoint{hostile.TokenEndpoint, hostile.UserInfoEndpoint} {
					if n := s.Count(e); n != 0 {
						t.Errorf("%d request(s) to the %s after a bad front channel", n, e)
					}
				}
			}
			if c.noListener && (o.listening || s.Count(hostile.AuthorizeEndpoint) != 0) {
				t.Errorf("a listener was opened or the browser sent despite bad metadata")
			}
			if c.check != nil {
				c.check(t, s, r)
			}
			for _, p := range o.pages {
				for _, h := range []string{"Cache-Control:[no-store]", "Referrer-Policy:[no-referrer]", "Content-Security-Policy:[default-src 'none'"} {
					if !strings.Contains(p, h) {
						t.Errorf("a listener page lacks %s", h)
					}
				}
			}
			// RFC 9700 4.2.4 / 4.3.2: after capture the address bar and
			// history hold the callback path only, not the code.
			if want == "" && c.responseType == "code" && !strings.HasPrefix(c.responseMode, "form_post") {
				if n := len(o.pages); n == 0 || !strings.Contains(o.pages[n-1], `history.replaceState(null, "", location.pathname)`) {
					t.Errorf("the page after a query response does not drop the code from the URL")
				}
			}
			portFree(t, r)
			noSecrets(t, s, o)
			before.Check(t, 5*time.Second)
		})
	}
}

func orPass(c failure.Class) string {
	if c == "" {
		return "pass"
	}
	return string(c)
}

// TestHostileTLS: an https issuer whose certificate the system does not
// trust fails as a provider error naming the certificate problem, with no
// insecure retry; --ca-file (httpclient.Options.CAFile) makes it pass; a
// certificate for another host fails even with the CA trusted.
// RFC 9700 4.1.1 / RFC 8252 8.1 / OpenID Core 16.17 (TLS).
func TestHostileTLS(t *testing.T) {
	before := leakcheck.Take()
	s, err := hostile.New(demoIssuer, hostile.Options{TLS: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, s.Certificate(), 0o600); err != nil {
		t.Fatal(err)
	}
	trusting, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second, CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	o := runHostile(ctx, t, s, hostileCase{responseType: "code"}, plain)
	if o.r.Error == nil || o.r.Error.Class != failure.Provider || !strings.Contains(o.r.Error.Message, "certificate") {
		t.Errorf("self-signed: %+v, want a provider error about the certificate", o.r.Error)
	}
	if o.r.Error == nil {
		t.Fatalf("self-signed: no error, exit %d", o.r.ExitCode)
	}
	t.Logf("CASE https self-signed | want provider (5) | got %s (%d) | %s", o.r.Error.Class, o.r.ExitCode, o.r.Error.Message)
	if n := s.Count(hostile.DiscoveryEndpoint); n != 0 {
		t.Errorf("%d discovery request(s) completed over an untrusted TLS connection (insecure retry?)", n)
	}

	o = runHostile(ctx, t, s, hostileCase{responseType: "code"}, trusting)
	if o.r.ExitCode != 0 {
		t.Errorf("with the CA file: exit %d, %+v", o.r.ExitCode, o.r.Error)
	}
	t.Logf("CASE https with --ca-file | want pass (0) | got exit %d", o.r.ExitCode)

	// The certificate names 127.0.0.1, ::1 and example.com, not localhost.
	u, _ := url.Parse(s.Issuer())
	wrongHost := "https://localhost:" + u.Port()
	r, _ := check.Run(ctx, check.Config{Issuer: wrongHost, ClientID: "x", RedirectURI: "http://127.0.0.1:0/cb", HTTPClient: trusting, Opener: never{}})
	if r.Error == nil || r.Error.Class != failure.Provider || !strings.Contains(r.Error.Message, "localhost") {
		t.Errorf("wrong host: %+v, want a provider error naming the host", r.Error)
	}
	if r.Error == nil {
		t.Fatalf("wrong host: no error, exit %d", r.ExitCode)
	}
	t.Logf("CASE https wrong host | want provider (5) | got %s (%d) | %s", r.Error.Class, r.ExitCode, r.Error.Message)
	trusting.CloseIdleConnections()
	plain.CloseIdleConnections()
	s.Close()
	before.Check(t, 5*time.Second)
}

// interrupter is a browser that, once the listener serves, has the person
// press Ctrl-C (cancels the run's context) and waits.
type interrupter struct{ cancel context.CancelFunc }

func (i interrupter) Open(ctx context.Context, _ string) error {
	i.cancel()
	<-ctx.Done()
	return nil
}

// TestInterruptInProcess: a run canceled while it waits for the redirect
// ends as interrupted (130) with the listener closed, its port free and no
// goroutine left (RFC 8252 §7.3).
func TestInterruptInProcess(t *testing.T) {
	before := leakcheck.Take()
	s, err := hostile.New(demoIssuer, hostile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	runCtx, interrupt := context.WithCancel(ctx)
	o := runHostile(runCtx, t, s, hostileCase{responseType: "code", opener: interrupter{interrupt}}, nil)
	if o.r.Error == nil {
		t.Fatalf("no error, exit %d; want interrupted", o.r.ExitCode)
	}
	t.Logf("CASE interrupted: context canceled while waiting | want interrupted (130) | got %s (%d)", o.r.Error.Class, o.r.ExitCode)
	if o.r.Error.Class != failure.Interrupted || o.r.ExitCode != 130 {
		t.Fatalf("%+v exit %d, want interrupted and 130", o.r.Error, o.r.ExitCode)
	}
	if ctx.Err() != nil {
		t.Fatal("the run outlived its deadline")
	}
	portFree(t, o.r)
	s.Close()
	before.Check(t, 5*time.Second)
}

// replayer is a transport for the stand-in browser that, once the listener
// has answered the authorization response, sends it again with another
// code — a second callback — and then lets the token request through.
type replayer struct {
	next   http.RoundTripper
	gate   chan struct{}
	once   sync.Once
	status int
}

func (r *replayer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil || req.URL.Path != callbackPath || !req.URL.Query().Has("code") {
		return resp, err
	}
	r.once.Do(func() {
		defer close(r.gate)
		u := *req.URL
		q := u.Query()
		q.Set("code", "second-code")
		u.RawQuery = q.Encode()
		second, err := http.NewRequestWithContext(req.Context(), http.MethodGet, u.String(), nil)
		if err != nil {
			return
		}
		if sr, err := r.next.RoundTrip(second); err == nil {
			r.status = sr.StatusCode
			sr.Body.Close()
		}
	})
	return resp, err
}

// TestSecondCallback: a second authorization response after the first is
// answered 409 and changes nothing; the first result stands (RFC 9700
// 4.5 and 4.7, RFC 6749 10.5: a code is used once).
func TestSecondCallback(t *testing.T) {
	before := leakcheck.Take()
	gate := make(chan struct{})
	s, err := hostile.New(demoIssuer, hostile.Options{HoldToken: gate})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := http.DefaultTransport.(*http.Transport).Clone()
	rp := &replayer{next: base, gate: gate}
	client, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, _ := check.Run(ctx, check.Config{
		Issuer: s.Issuer(), ClientID: demo.PublicClientID, RedirectURI: "http://127.0.0.1:0" + callbackPath,
		Scopes: []string{"openid", "groups"}, Expect: verify.Expectations{ExpectGroups: []string{"Everyone", "IT"}},
		ClockSkew: 2 * time.Minute, HTTPClient: client, Timeout: 10 * time.Second,
		Opener: &standin.Browser{Client: &http.Client{Transport: rp}, Username: "alice", Password: "alice-demo"},
	})
	base.CloseIdleConnections()
	client.CloseIdleConnections()
	t.Logf("CASE second callback after the first | want pass (0), second answered 409 | got exit %d, second answered %d", r.ExitCode, rp.status)
	if r.ExitCode != 0 {
		t.Errorf("exit %d: %+v", r.ExitCode, r.Error)
	}
	if rp.status != http.StatusConflict {
		t.Errorf("second callback answered %d, want 409", rp.status)
	}
	if n := s.Count(hostile.TokenEndpoint); n != 1 {
		t.Errorf("%d token requests, want 1 (the first code only)", n)
	}
	portFree(t, r)
	s.Close()
	before.Check(t, 5*time.Second)
}

// forger is a transport for the stand-in browser that, when the browser is
// about to deliver the real authorization response, first has it send what
// any web page could: a form POST (Origin evil.example) in a query-mode
// run, a GET with a wrong state, an error response with a wrong state and
// one without a state. It records the listener's answers to them.
type forger struct {
	next     http.RoundTripper
	once     sync.Once
	statuses []int
}

func (f *forger) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Path == callbackPath && req.URL.Query().Get("state") != "" {
		f.once.Do(func() {
			state := req.URL.Query().Get("state")
			cb := *req.URL
			cb.RawQuery = ""
			post, _ := http.NewRequestWithContext(req.Context(), http.MethodPost, cb.String(), strings.NewReader("code=forged&state="+url.QueryEscape(state)))
			post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			post.Header.Set("Origin", "http://evil.example")
			forged := []*http.Request{post}
			for _, q := range []string{"code=forged&state=xyz", "error=access_denied&state=xyz", "error=access_denied"} {
				g, _ := http.NewRequestWithContext(req.Context(), http.MethodGet, cb.String()+"?"+q, nil)
				forged = append(forged, g)
			}
			for _, fr := range forged {
				resp, err := f.next.RoundTrip(fr)
				if err != nil {
					f.statuses = append(f.statuses, 0)
					continue
				}
				resp.Body.Close()
				f.statuses = append(f.statuses, resp.StatusCode)
			}
		})
	}
	return f.next.RoundTrip(req)
}

// TestForgedResponsesBeforeReal: responses that cannot be tied to the run
// arrive before the real one (RFC 9700 4.7.1, RFC 6749 10.12: only a
// response with the run's state is the run's). Each is answered 400 and
// reported once; the real response then completes the run, exit 0, with one
// token request for the real code.
func TestForgedResponsesBeforeReal(t *testing.T) {
	before := leakcheck.Take()
	s, err := hostile.New(demoIssuer, hostile.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	base := http.DefaultTransport.(*http.Transport).Clone()
	f := &forger{next: base}
	client, err := httpclient.New(httpclient.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var mu sync.Mutex
	var warnings []string
	r, _ := check.Run(ctx, check.Config{
		Issuer: s.Issuer(), ClientID: demo.PublicClientID, RedirectURI: "http://127.0.0.1:0" + callbackPath,
		Scopes: []string{"openid", "groups"}, Expect: verify.Expectations{ExpectGroups: []string{"Everyone", "IT"}},
		ClockSkew: 2 * time.Minute, HTTPClient: client, Timeout: 10 * time.Second,
		Opener: &standin.Browser{Client: &http.Client{Transport: f}, Username: "alice", Password: "alice-demo"},
		OnIgnored: func(err error) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, err.Error())
		},
	})
	base.CloseIdleConnections()
	client.CloseIdleConnections()
	t.Logf("CASE forged responses before the real one | want pass (0), forged answered 400 | got exit %d, forged answered %v", r.ExitCode, f.statuses)
	if r.ExitCode != 0 {
		t.Errorf("exit %d: %+v", r.ExitCode, r.Error)
	}
	if len(f.statuses) != 4 {
		t.Fatalf("%d forged responses sent, want 4", len(f.statuses))
	}
	for i, st := range f.statuses {
		if st != http.StatusBadRequest {
			t.Errorf("forged response %d answered %d, want 400", i, st)
		}
	}
	if n := s.Count(hostile.TokenEndpoint); n != 1 {
		t.Errorf("%d token requests, want 1 (the real code only)", n)
	}
	mu.Lock()
	if len(warnings) != 4 {
		t.Errorf("%d warnings for 4 ignored responses: %q", len(warnings), warnings)
	}
	for _, w := range warnings {
		if strings.ContainsAny(w, "\r\n") {
			t.Errorf("warning is not one line: %q", w)
		}
	}
	mu.Unlock()
	portFree(t, r)
	s.Close()
	before.Check(t, 5*time.Second)
}
