// Package hostile is a misbehaving OpenID Provider for tests: an httptest
// layer in front of the embedded demo provider (internal/op/demo, a real
// OP) that can be told to get exactly one thing wrong at a time.
//
// It serves its own discovery document (the demo's, with every endpoint
// rewritten to pass through it and jwks_uri pointing at its own key set),
// forwards everything else to the demo provider, and re-signs every token on
// its way to the client with its own keys, so that a test can change any
// header or claim, the signature, the serialization or the key set. The
// authorization response is rewritten on its way back to the loopback
// redirect URI (query and fragment modes; form_post is passed through
// untouched and so is not supported). The userinfo endpoint sees the demo's
// original access token.
//
// The hybrid types "code id_token", "code token" and "code id_token token"
// are emulated (the demo provider has none): the request is passed on as
// code with response_mode=fragment, and the front-channel tokens are minted
// here for Options.HybridSubject: an access token (a JWT signed like the
// re-signed ones, edited by Options.AccessToken), and an ID token with
// c_hash, and at_hash when an access token comes with it.
//
// Every request is counted per endpoint, so a test can assert that nothing
// was sent to the token or userinfo endpoint after a bad front channel.
package hostile

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"maps"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Endpoint names one of the provider's endpoints.
type Endpoint string

// The endpoints a Break can target.
const (
	DiscoveryEndpoint Endpoint = "discovery"
	JWKSEndpoint      Endpoint = "jwks"
	TokenEndpoint     Endpoint = "token"
	UserInfoEndpoint  Endpoint = "userinfo"
	AuthorizeEndpoint Endpoint = "authorize"
)

// Breakage is how an endpoint is broken.
type Breakage int

// The ways an endpoint can be broken.
const (
	// Working is no breakage.
	Working Breakage = iota
	// Refuse points the endpoint at a loopback port nobody listens on (for
	// DiscoveryEndpoint, Issuer returns such an address).
	Refuse
	// Status500 answers 500 with a JSON error body.
	Status500
	// Garbage answers 200 application/json with bytes that are not JSON.
	Garbage
	// HTML answers 200 with an HTML page (a captive portal, a login wall).
	HTML
	// Oversized answers 200 with a JSON body of 2 MiB, without a length.
	Oversized
	// Hang accepts the request and never answers until the client gives up
	// or the server closes.
	Hang
	// InvalidGrant answers a token request 400 {"error":"invalid_grant"}.
	InvalidGrant
	// EchoRequest answers 400 {"error":"invalid_request"} with an
	// error_description that repeats the request: its form body (code,
	// PKCE verifier, client secret) and its Authorization header.
	EchoRequest
)

// Token is a JWT being re-signed: its header and claims may be edited.
type Token struct {
	Header map[string]any
	Claims map[string]any
	// Key signs RS* tokens; the server's current signing key by default.
	Key *rsa.PrivateKey
}

// Options say what the server gets wrong. The zero value gets nothing
// wrong: a flow through it passes.
type Options struct {
	// IDToken edits each ID token (front and back channel) before it is
	// signed; IDTokenWire edits the signed compact token.
	IDToken     func(*Token)
	IDTokenWire func(string) string
	// AccessToken edits each access token before it is signed.
	AccessToken func(*Token)
	// Response edits the authorization response's parameters after the
	// tokens in it were re-signed.
	Response func(url.Values)
	// SendIss adds the RFC 9207 iss parameter (the issuer) to every
	// authorization response and advertises
	// authorization_response_iss_parameter_supported.
	SendIss bool
	// TokenResponse edits the token endpoint's answer after its tokens
	// were re-signed.
	TokenResponse func(map[string]any)
	// UserInfo edits the userinfo answer.
	UserInfo func(map[string]any)
	// SignedUserInfo answers userinfo as a JWT (application/jwt) signed
	// with the current signing key, and advertises RS256 in
	// userinfo_signing_alg_values_supported.
	SignedUserInfo bool
	// Discovery edits the discovery document.
	Discovery func(map[string]any)
	// JWKS returns the key set to serve on its n-th fetch (1-based); the
	// default serves the current signing key's public JWK.
	JWKS func(s *Server, n int) []map[string]any
	// Break breaks endpoints.
	Break map[Endpoint]Breakage
	// HybridSubject is the sub of the emulated hybrid ID token; "user-alice"
	// when empty.
	HybridSubject string
	// HoldToken, when set, makes token requests wait until it is closed
	// (or the request ends), so that a test can act while a flow is
	// between its authorization response and the code exchange.
	HoldToken <-chan struct{}
	// TLS serves the provider over https with httptest's self-signed
	// certificate.
	TLS bool
}

// Server is a running misbehaving provider.
type Server struct {
	opts  Options
	demo  string
	srv   *httptest.Server
	proxy *httputil.ReverseProxy
	// transport carries the requests to the demo provider; Close closes
	// its connections.
	transport *http.Transport
	dead      string
	closed    chan struct{}
	keys      []*rsa.PrivateKey
	signer    atomic.Int32

	counts sync.Map // Endpoint -> *atomic.Int64

	mu     sync.Mutex
	tokens map[string]string // re-signed access token -> the demo's
	issued []string          // every secret this server handed out
	hybrid map[string]hybridReq
}

type hybridReq struct {
	clientID, nonce, scope string
	idToken, token         bool
}

// Keys are generated once per process: RSA generation is slow.
var (
	keysOnce sync.Once
	keyPool  []*rsa.PrivateKey
)

func testKeys() []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for range 2 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keyPool = append(keyPool, k)
		}
	})
	return keyPool
}

// New starts a server in front of the demo provider at demoIssuer. Close it
// when done.
func New(demoIssuer string, o Options) (*Server, error) {
	target, err := url.Parse(demoIssuer)
	if err != nil {
		return nil, err
	}
	dead, err := deadAddress()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opts: o, demo: strings.TrimSuffix(demoIssuer, "/"), dead: dead,
		closed: make(chan struct{}), keys: testKeys(),
		tokens: map[string]string{}, hybrid: map[string]hybridReq{},
	}
	s.transport = http.DefaultTransport.(*http.Transport).Clone()
	s.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: s.modifyResponse,
		Transport:      s.transport,
	}
	if o.TLS {
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	} else {
		s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	}
	return s, nil
}

// deadAddress returns a loopback http URL on a port that was just free.
func deadAddress() (string, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr, nil
}

// Issuer is the issuer URL to hand to claimcheck.
func (s *Server) Issuer() string {
	if s.opts.Break[DiscoveryEndpoint] == Refuse {
		return s.dead
	}
	return s.srv.URL
}

// Certificate is the https server's certificate, PEM encoded (nil without TLS).
func (s *Server) Certificate() []byte {
	if s.srv.Certificate() == nil {
		return nil
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// Client is an http.Client that trusts the server (for the stand-in browser).
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Count returns how many requests reached endpoint e.
func (s *Server) Count(e Endpoint) int64 {
	v, ok := s.counts.Load(e)
	if !ok {
		return 0
	}
	return v.(*atomic.Int64).Load()
}

func (s *Server) count(e Endpoint) {
	v, _ := s.counts.LoadOrStore(e, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// Secrets returns every token and code this server handed out (original
// and re-signed), for tests that check that none is printed.
func (s *Server) Secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

func (s *Server) remember(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range secrets {
		if x != "" {
			s.issued = append(s.issued, x)
		}
	}
}

// UseKey makes key i (0 or 1) the signing key of the tokens that follow.
func (s *Server) UseKey(i int) { s.signer.Store(int32(i)) }

// KeyID is the kid of key i.
func KeyID(i int) string { return fmt.Sprintf("hostile-%d", i) }

// PublicJWK is key i's public JWK with the given use ("" leaves it out).
func (s *Server) PublicJWK(i int, use string) map[string]any {
	pub := s.keys[i].PublicKey
	k := map[string]any{
		"kty": "RSA", "kid": KeyID(i), "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
	if use != "" {
		k["use"] = use
	}
	return k
}

// Close stops the server; hanging handlers return.
func (s *Server) Close() {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.transport.CloseIdleConnections()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	e := s.endpointOf(r.URL.Path)
	s.count(e)
	if b := s.opts.Break[e]; b != Working && b != Refuse {
		s.broken(w, r, b)
		return
	}
	switch r.URL.Path {
	case "/.well-known/openid-configuration":
		s.discovery(w, r)
	case "/hostile/jwks":
		s.jwks(w)
	default:
		if e == AuthorizeEndpoint {
			s.authorize(r)
		}
		if e == UserInfoEndpoint {
			s.swapBearer(r)
		}
		if e == TokenEndpoint {
			s.recordTokenRequest(r)
			if s.opts.HoldToken != nil {
				select {
				case <-s.opts.HoldToken:
				case <-r.Context().Done():
					return
				case <-s.closed:
					return
				}
			}
		}
		s.proxy.ServeHTTP(w, r)
	}
}

func (s *Server) endpointOf(path string) Endpoint {
	switch {
	case path == "/.well-known/openid-configuration":
		return DiscoveryEndpoint
	case path == "/hostile/jwks":
		return JWKSEndpoint
	case strings.HasSuffix(path, "/token"):
		return TokenEndpoint
	case strings.HasSuffix(path, "/userinfo"):
		return UserInfoEndpoint
	case strings.HasSuffix(path, "/authorize"):
		return AuthorizeEndpoint
	}
	return Endpoint(path)
}

func (s *Server) broken(w http.ResponseWriter, r *http.Request, b Breakage) {
	switch b {
	case Status500:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, `{"error":"server_error","error_description":"SECRET-BODY-TEXT"}`)
	case Garbage:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "\x00\x01garbage SECRET-BODY-TEXT {{{")
	case HTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!doctype html><html><body><h1>Sign in to the Wi-Fi</h1>SECRET-BODY-TEXT</body></html>")
	case Oversized:
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"pad":"`)
		chunk := bytes.Repeat([]byte("a"), 64<<10)
		for range 32 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		io.WriteString(w, `"}`)
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
	case InvalidGrant:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"the code was already used"}`)
	case EchoRequest:
		s.recordTokenRequest(r)
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{
			"error":             "invalid_request",
			"error_description": "bad request " + string(body) + " with Authorization: " + r.Header.Get("Authorization"),
		})
	}
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request) {
	doc, err := s.demoDiscovery(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	doc["jwks_uri"] = s.srv.URL + "/hostile/jwks"
	doc["id_token_signing_alg_values_supported"] = []any{"RS256"}
	doc["response_types_supported"] = append(doc["response_types_supported"].([]any), "code id_token", "code token", "code id_token token")
	for e, field := range map[Endpoint]string{JWKSEndpoint: "jwks_uri", TokenEndpoint: "token_endpoint", UserInfoEndpoint: "userinfo_endpoint"} {
		if s.opts.Break[e] == Refuse {
			u, _ := url.Parse(doc[field].(string))
			doc[field] = s.dead + u.Path
		}
	}
	if s.opts.SendIss {
		doc["authorization_response_iss_parameter_supported"] = true
	}
	if s.opts.SignedUserInfo {
		doc["userinfo_signing_alg_values_supported"] = []any{"RS256"}
	}
	if s.opts.Discovery != nil {
		s.opts.Discovery(doc)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(doc)
}

func (s *Server) demoDiscovery(ctx context.Context) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.demo+"/.well-known/openid-configuration", nil)
	if err != nil {
		return nil, err
	}
	resp, err := (&http.Client{Transport: s.transport, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(s.demo), []byte(s.srv.URL))
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	return doc, nil
}

func (s *Server) jwks(w http.ResponseWriter) {
	n := int(s.Count(JWKSEndpoint))
	var keys []map[string]any
	if s.opts.JWKS != nil {
		keys = s.opts.JWKS(s, n)
	} else {
		keys = []map[string]any{s.PublicJWK(int(s.signer.Load()), "sig")}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"keys": keys})
}

// authorize turns an emulated hybrid request into one the demo serves.
func (s *Server) authorize(r *http.Request) {
	q := r.URL.Query()
	words := strings.Fields(q.Get("response_type"))
	if !slices.Contains(words, "code") || len(words) < 2 {
		return
	}
	s.mu.Lock()
	s.hybrid[q.Get("state")] = hybridReq{
		clientID: q.Get("client_id"), nonce: q.Get("nonce"), scope: q.Get("scope"),
		idToken: slices.Contains(words, "id_token"), token: slices.Contains(words, "token"),
	}
	s.mu.Unlock()
	q.Set("response_type", "code")
	if q.Get("response_mode") == "" {
		q.Set("response_mode", "fragment")
	}
	r.URL.RawQuery = q.Encode()
}

// recordTokenRequest remembers the code, PKCE verifier and client secret of
// a token request (and the client's HTTP Basic credential), for Secrets.
func (s *Server) recordTokenRequest(r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if v, err := url.ParseQuery(string(body)); err == nil {
		s.remember(v.Get("code"), v.Get("code_verifier"), v.Get("client_secret"))
	}
	if _, pw, ok := r.BasicAuth(); ok {
		basic, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
		s.remember(pw, url.QueryEscape(pw), basic)
	}
}

func (s *Server) swapBearer(r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return
	}
	s.mu.Lock()
	orig, has := s.tokens[tok]
	s.mu.Unlock()
	if has {
		r.Header.Set("Authorization", "Bearer "+orig)
	}
}

func (s *Server) modifyResponse(resp *http.Response) error {
	if loc := resp.Header.Get("Location"); loc != "" {
		loc = strings.ReplaceAll(loc, s.demo, s.srv.URL)
		if u, err := url.Parse(loc); err == nil && u.Host != "" && u.Host != s.srv.Listener.Addr().String() {
			loc = s.frontChannel(u)
		}
		resp.Header.Set("Location", loc)
	}
	e := s.endpointOf(resp.Request.URL.Path)
	ct := resp.Header.Get("Content-Type")
	if e != TokenEndpoint && e != UserInfoEndpoint && !strings.HasPrefix(ct, "text/html") {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return err
	}
	switch {
	case e == TokenEndpoint && resp.StatusCode == http.StatusOK:
		body = s.tokenResponse(body)
	case e == UserInfoEndpoint && resp.StatusCode == http.StatusOK:
		body = s.userinfo(body)
		if s.opts.SignedUserInfo {
			body = []byte(s.SignClaims(payloadOf(body)))
			resp.Header.Set("Content-Type", "application/jwt")
		}
	default:
		body = bytes.ReplaceAll(body, []byte(s.demo), []byte(s.srv.URL))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return nil
}

// frontChannel re-signs the tokens of an authorization response on its way
// to the redirect URI and applies Options.Response.
func (s *Server) frontChannel(u *url.URL) string {
	fragment := u.Fragment != ""
	raw := u.RawQuery
	if fragment {
		raw = u.Fragment
	}
	q, err := url.ParseQuery(raw)
	if err != nil || !q.Has("state") {
		return u.String()
	}
	s.remember(q.Get("code"))
	at := q.Get("access_token")
	if at != "" {
		at = s.resignAccess(at)
		q.Set("access_token", at)
	}
	if id := q.Get("id_token"); id != "" {
		q.Set("id_token", s.resignID(id, at))
	}
	s.mu.Lock()
	h, hybrid := s.hybrid[q.Get("state")]
	s.mu.Unlock()
	if hybrid && q.Get("code") != "" {
		at := ""
		if h.token {
			at = s.mintHybridAccess(h)
			q.Set("access_token", at)
			q.Set("token_type", "Bearer")
			q.Set("expires_in", "300")
		}
		if h.idToken {
			q.Set("id_token", s.mintHybrid(h, q.Get("code"), at))
		}
	}
	if s.opts.SendIss {
		q.Set("iss", s.srv.URL)
	}
	if s.opts.Response != nil {
		s.opts.Response(q)
	}
	enc := q.Encode()
	if fragment {
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#" + enc
	}
	u.RawQuery = enc
	return u.String()
}

func (s *Server) tokenResponse(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	at, _ := m["access_token"].(string)
	s.remember(at)
	if rt, _ := m["refresh_token"].(string); rt != "" {
		s.remember(rt)
	}
	if at != "" {
		at = s.resignAccess(at)
		m["access_token"] = at
	}
	if id, _ := m["id_token"].(string); id != "" {
		m["id_token"] = s.resignID(id, at)
	}
	if s.opts.TokenResponse != nil {
		s.opts.TokenResponse(m)
	}
	out, _ := json.Marshal(m)
	return out
}

// SignClaims is a JWT of claims signed with the current signing key, with
// iss the server's issuer unless claims has one: a userinfo answer, or
// aggregated claims (OpenID Connect Core 5.6.2) a test puts in a token.
func (s *Server) SignClaims(claims map[string]any) string {
	c := maps.Clone(claims)
	if c == nil {
		c = map[string]any{}
	}
	if _, has := c["iss"]; !has {
		c["iss"] = s.srv.URL
	}
	out := Sign(s.newToken(c))
	s.remember(out)
	return out
}

func payloadOf(body []byte) map[string]any {
	var m map[string]any
	json.Unmarshal(body, &m)
	return m
}

func (s *Server) userinfo(body []byte) []byte {
	if s.opts.UserInfo == nil {
		return body
	}
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	s.opts.UserInfo(m)
	out, _ := json.Marshal(m)
	return out
}

func (s *Server) newToken(claims map[string]any) *Token {
	i := int(s.signer.Load())
	return &Token{
		Header: map[string]any{"alg": "RS256", "typ": "JWT", "kid": KeyID(i)},
		Claims: claims,
		Key:    s.keys[i],
	}
}

func (s *Server) resignAccess(orig string) string {
	claims := payload(orig)
	if claims == nil {
		return orig
	}
	s.remember(orig)
	claims["iss"] = s.srv.URL
	t := s.newToken(claims)
	if s.opts.AccessToken != nil {
		s.opts.AccessToken(t)
	}
	out := Sign(t)
	s.remember(out)
	s.mu.Lock()
	s.tokens[out] = orig
	s.mu.Unlock()
	return out
}

func (s *Server) resignID(orig, accessToken string) string {
	claims := payload(orig)
	if claims == nil {
		return orig
	}
	s.remember(orig)
	claims["iss"] = s.srv.URL
	if accessToken != "" {
		claims["at_hash"] = HalfHash(accessToken)
	}
	return s.finishID(claims)
}

func (s *Server) hybridSubject() string {
	if s.opts.HybridSubject == "" {
		return "user-alice"
	}
	return s.opts.HybridSubject
}

// mintHybrid is the front-channel ID token: c_hash binds the code, and
// at_hash the access token when one comes too (OpenID Core 3.3.2.11).
func (s *Server) mintHybrid(h hybridReq, code, accessToken string) string {
	now := time.Now().Unix()
	claims := map[string]any{
		"iss": s.srv.URL, "sub": s.hybridSubject(), "aud": h.clientID, "exp": now + 300, "iat": now,
		"nonce": h.nonce, "c_hash": HalfHash(code),
	}
	if accessToken != "" {
		claims["at_hash"] = HalfHash(accessToken)
	}
	return s.finishID(claims)
}

// mintHybridAccess is the front-channel access token, shaped like the
// demo's (RFC 9068 claims, aud the client).
func (s *Server) mintHybridAccess(h hybridReq) string {
	now := time.Now().Unix()
	jti := make([]byte, 12)
	rand.Read(jti)
	t := s.newToken(map[string]any{
		"iss": s.srv.URL, "sub": s.hybridSubject(), "aud": []string{h.clientID}, "client_id": h.clientID,
		"exp": now + 300, "iat": now, "nbf": now, "jti": b64(jti), "scope": h.scope,
	})
	if s.opts.AccessToken != nil {
		s.opts.AccessToken(t)
	}
	out := Sign(t)
	s.remember(out)
	return out
}

func (s *Server) finishID(claims map[string]any) string {
	t := s.newToken(claims)
	if s.opts.IDToken != nil {
		s.opts.IDToken(t)
	}
	out := Sign(t)
	if s.opts.IDTokenWire != nil {
		out = s.opts.IDTokenWire(out)
	}
	s.remember(out)
	return out
}

// HalfHash is the at_hash / c_hash of value for RS256 (OpenID Core 3.1.3.6).
func HalfHash(value string) string {
	sum := sha256.Sum256([]byte(value))
	return b64(sum[:16])
}

// Sign serializes t in the JWS compact form, signed as its alg header says:
// RS256/384/512 with t.Key, HS256 with t.Key's public key in PEM as the MAC
// secret (the key-confusion attack), none with an empty signature.
func Sign(t *Token) string {
	h, _ := json.Marshal(t.Header)
	c, _ := json.Marshal(t.Claims)
	input := b64(h) + "." + b64(c)
	alg, _ := t.Header["alg"].(string)
	var sig []byte
	rsaSign := func(hf crypto.Hash, newHash func() hash.Hash) {
		d := newHash()
		d.Write([]byte(input))
		sig, _ = rsa.SignPKCS1v15(rand.Reader, t.Key, hf, d.Sum(nil))
	}
	switch alg {
	case "RS256":
		rsaSign(crypto.SHA256, sha256.New)
	case "RS384":
		rsaSign(crypto.SHA384, sha512.New384)
	case "RS512":
		rsaSign(crypto.SHA512, sha512.New)
	case "HS256":
		der, _ := x509.MarshalPKIXPublicKey(&t.Key.PublicKey)
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(input))
		sig = m.Sum(nil)
	}
	return input + "." + b64(sig)
}

func payload(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
