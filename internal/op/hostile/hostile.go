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
// JARM (response_mode jwt, query.jwt, fragment.jwt, form_post.jwt) is
// emulated the same way: the demo is asked for a plain response, whose
// parameters are then sent as the claims of a response JWT (with iss, aud,
// exp and iat) signed like the re-signed tokens and edited by
// Options.ResponseJWT; form_post.jwt answers with the auto-submitting form
// page of OAuth 2.0 Form Post Response Mode. The discovery document
// advertises the JARM modes and authorization_signing_alg_values_supported.
//
// Options.PAR adds a pushed authorization request endpoint (RFC 9126) the
// demo lacks: pushed parameters are kept and put back into the authorize
// request that names their request_uri. Options.DPoP emulates DPoP-bound
// tokens (RFC 9449): a token request's proof key becomes the access token's
// cnf.jkt (and introspection's), token_type DPoP, and userinfo takes
// Authorization: DPoP.
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
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"html"
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
	// PAREndpoint exists with Options.PAR.
	PAREndpoint           Endpoint = "par"
	IntrospectionEndpoint Endpoint = "introspection"
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
	// OAuthError400 answers 400 {"error":"invalid_request"} with a
	// description, as a provider refusing a request does.
	OAuthError400
	// InvalidClient answers 401 {"error":"invalid_client"}, as a provider
	// refusing the client's authentication (a key it does not hold) does.
	InvalidClient
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
	// ResponseJWT edits the JARM response JWT before it is signed;
	// ResponseJWTWire edits the signed compact JWT.
	ResponseJWT     func(*Token)
	ResponseJWTWire func(string) string
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
	// ClientCAs, with TLS, makes the server ask every client for a TLS
	// certificate and verify one given against these CAs (mutual TLS,
	// RFC 8705); the token endpoint, and every path under /mtls/ (which
	// is served as the path without the prefix, for
	// mtls_endpoint_aliases set with Discovery), then refuse a request
	// without one with 401 invalid_client.
	ClientCAs *x509.CertPool
	// PAR advertises and serves a pushed authorization request endpoint;
	// PARResponse edits its 201 answer, and PARBody, when set, replaces
	// the answer's body.
	PAR         bool
	PARResponse func(map[string]any)
	PARBody     string
	// DPoP advertises dpop_signing_alg_values_supported and binds tokens
	// to the key of the token request's proof. DPoPNonceLoop answers every
	// token request use_dpop_nonce with a new nonce, however often asked.
	DPoP          bool
	DPoPNonceLoop bool
	// Introspection edits the introspection answer.
	Introspection func(map[string]any)
}

// MTLSPrefix is the path prefix of the endpoints that require a client
// certificate whatever they are (Options.ClientCAs).
const MTLSPrefix = "/mtls"

// MTLSEndpoint counts the requests that arrived under MTLSPrefix.
const MTLSEndpoint Endpoint = "mtls"

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
	certs  []string          // x5t#S256 of each client certificate presented
	hybrid map[string]hybridReq
	jarm   map[string]jarmReq
	pushed map[string]url.Values // request_uri -> parameters
	jkt    string                // thumbprint of the last token request's proof key
}

// jarmReq is a JARM request: the client the response JWT is for, and the
// mode it goes back in.
type jarmReq struct{ clientID, mode string }

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
		tokens: map[string]string{}, hybrid: map[string]hybridReq{}, jarm: map[string]jarmReq{},
		pushed: map[string]url.Values{},
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
	switch {
	case o.TLS && o.ClientCAs != nil:
		s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
		s.srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: o.ClientCAs}
		s.srv.StartTLS()
	case o.TLS:
		s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	default:
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

// CertThumbprints returns the x5t#S256 (RFC 8705 §3.1) of the client
// certificate of each request to the token endpoint or under MTLSPrefix
// that presented one, in order.
func (s *Server) CertThumbprints() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.certs...)
}

// requireCert answers a request without a verified client certificate
// 401 invalid_client, and records the thumbprint of one with it.
func (s *Server) requireCert(w http.ResponseWriter, r *http.Request) bool {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"no TLS client certificate"}`)
		return false
	}
	sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
	s.mu.Lock()
	s.certs = append(s.certs, base64.RawURLEncoding.EncodeToString(sum[:]))
	s.mu.Unlock()
	return true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if s.opts.ClientCAs != nil {
		if rest, ok := strings.CutPrefix(r.URL.Path, MTLSPrefix+"/"); ok {
			s.count(MTLSEndpoint)
			if !s.requireCert(w, r) {
				return
			}
			r.URL.Path, r.URL.RawPath = "/"+rest, ""
		} else if s.endpointOf(r.URL.Path) == TokenEndpoint && !s.requireCert(w, r) {
			s.count(TokenEndpoint)
			return
		}
	}
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
	case "/hostile/par":
		s.par(w, r)
	default:
		if e == AuthorizeEndpoint {
			s.unpush(r)
			s.authorize(r)
		}
		if e == UserInfoEndpoint {
			s.swapBearer(r)
		}
		if e == IntrospectionEndpoint {
			s.swapIntrospected(r)
		}
		if e == TokenEndpoint {
			s.recordTokenRequest(r)
			if s.opts.DPoP && !s.dpopToken(w, r) {
				return
			}
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
	case path == "/hostile/par":
		return PAREndpoint
	case strings.HasSuffix(path, "/introspect"):
		return IntrospectionEndpoint
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
	case OAuthError400:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"redirect_uri is not registered for this client"}`)
	case InvalidClient:
		s.recordTokenRequest(r)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_client"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}`)
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
	modes, _ := doc["response_modes_supported"].([]any)
	doc["response_modes_supported"] = append(modes, "jwt", "query.jwt", "fragment.jwt", "form_post.jwt")
	doc["authorization_signing_alg_values_supported"] = []any{"RS256"}
	if s.opts.PAR {
		doc["pushed_authorization_request_endpoint"] = s.srv.URL + "/hostile/par"
	}
	if s.opts.DPoP {
		doc["dpop_signing_alg_values_supported"] = []any{"ES256", "RS256"}
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

// authorize turns an emulated hybrid or JARM request into one the demo
// serves.
func (s *Server) authorize(r *http.Request) {
	q := r.URL.Query()
	words := strings.Fields(q.Get("response_type"))
	if mode := q.Get("response_mode"); mode == "jwt" || strings.HasSuffix(mode, ".jwt") {
		if mode == "jwt" {
			mode = "fragment.jwt"
			if len(words) == 1 && words[0] == "code" {
				mode = "query.jwt"
			}
		}
		s.mu.Lock()
		s.jarm[q.Get("state")] = jarmReq{clientID: q.Get("client_id"), mode: mode}
		s.mu.Unlock()
		plain := "fragment"
		if len(words) == 1 && words[0] == "code" {
			plain = "query"
		}
		q.Set("response_mode", plain)
		r.URL.RawQuery = q.Encode()
	}
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
		s.remember(v.Get("code"), v.Get("code_verifier"), v.Get("client_secret"), v.Get("client_assertion"))
	}
	if _, pw, ok := r.BasicAuth(); ok {
		basic, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Basic ")
		s.remember(pw, url.QueryEscape(pw), basic)
	}
}

func (s *Server) swapBearer(r *http.Request) {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if dpop, isDPoP := strings.CutPrefix(h, "DPoP "); isDPoP {
		// The demo knows bearer tokens only.
		tok, ok = dpop, true
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Del("DPoP")
	}
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
		var form url.Values
		if u, err := url.Parse(loc); err == nil && u.Host != "" && u.Host != s.srv.Listener.Addr().String() {
			loc, form = s.frontChannel(u)
		}
		if form != nil {
			return formPost(resp, loc, form)
		}
		resp.Header.Set("Location", loc)
	}
	e := s.endpointOf(resp.Request.URL.Path)
	ct := resp.Header.Get("Content-Type")
	if e != TokenEndpoint && e != UserInfoEndpoint && e != IntrospectionEndpoint && !strings.HasPrefix(ct, "text/html") {
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
	case e == IntrospectionEndpoint && resp.StatusCode == http.StatusOK:
		body = s.introspection(body)
	default:
		body = bytes.ReplaceAll(body, []byte(s.demo), []byte(s.srv.URL))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return nil
}

// frontChannel re-signs the tokens of an authorization response on its way
// to the redirect URI, applies Options.Response, and wraps it in a response
// JWT for a JARM request. It returns the new location, or, for
// form_post.jwt, the redirect URI and the form to post there.
func (s *Server) frontChannel(u *url.URL) (string, url.Values) {
	fragment := u.Fragment != ""
	raw := u.RawQuery
	if fragment {
		raw = u.Fragment
	}
	q, err := url.ParseQuery(raw)
	if err != nil || !q.Has("state") {
		return u.String(), nil
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
	state := q.Get("state")
	s.mu.Lock()
	h, hybrid := s.hybrid[state]
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
	s.mu.Lock()
	j, isJARM := s.jarm[state]
	s.mu.Unlock()
	if isJARM {
		q = url.Values{"response": {s.responseJWT(j, q)}}
		u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
		switch j.mode {
		case "form_post.jwt":
			return u.String(), q
		case "query.jwt":
			fragment = false
		default:
			fragment = true
		}
	}
	enc := q.Encode()
	if fragment {
		u.Fragment, u.RawFragment = "", ""
		return u.String() + "#" + enc, nil
	}
	u.RawQuery = enc
	return u.String(), nil
}

// responseJWT is the JARM response JWT carrying the parameters q (JARM
// section 2.1): each parameter a claim, with iss, aud, exp and iat.
func (s *Server) responseJWT(j jarmReq, q url.Values) string {
	now := time.Now().Unix()
	claims := map[string]any{"iss": s.srv.URL, "aud": j.clientID, "exp": now + 300, "iat": now}
	for k := range q {
		claims[k] = q.Get(k)
	}
	t := s.newToken(claims)
	delete(t.Header, "typ")
	if s.opts.ResponseJWT != nil {
		s.opts.ResponseJWT(t)
	}
	out := Sign(t)
	if s.opts.ResponseJWTWire != nil {
		out = s.opts.ResponseJWTWire(out)
	}
	s.remember(out)
	return out
}

// formPost turns resp into the page of OAuth 2.0 Form Post Response Mode
// section 2: a form of params to action that a script submits on load.
func formPost(resp *http.Response, action string, params url.Values) error {
	var b strings.Builder
	b.WriteString(`<!doctype html><html><head><title>Submit This Form</title></head><body onload="javascript:document.forms[0].submit()"><form method="post" action="`)
	b.WriteString(html.EscapeString(action))
	b.WriteString(`">`)
	for k := range params {
		fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s"/>`, html.EscapeString(k), html.EscapeString(params.Get(k)))
	}
	b.WriteString(`<noscript><button type="submit">Continue</button></noscript></form></body></html>`)
	body := b.String()
	resp.StatusCode, resp.Status = http.StatusOK, "200 OK"
	resp.Header.Del("Location")
	resp.Header.Set("Content-Type", "text/html; charset=utf-8")
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", fmt.Sprint(len(body)))
	return nil
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
	if s.opts.DPoP {
		m["token_type"] = "DPoP"
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
	if jkt := s.boundKey(); jkt != "" {
		claims["cnf"] = map[string]any{"jkt": jkt}
	}
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
