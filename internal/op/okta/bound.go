package okta

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// What Okta publishes for client assertions and DPoP proofs.
var (
	authMethods = []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}
	// assertionAlgs is token_endpoint_auth_signing_alg_values_supported.
	assertionAlgs = []jose.SignatureAlgorithm{
		jose.HS256, jose.HS384, jose.HS512, jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512,
	}
	// dpopAlgs is dpop_signing_alg_values_supported.
	dpopAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}
)

const (
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// maxAssertionLife: Okta refuses a client assertion whose exp is more
	// than an hour away.
	maxAssertionLife = time.Hour
	// proofWindow is how far a DPoP proof's iat may be from now.
	proofWindow = 5 * time.Minute
	// nonceLifetime is how long a DPoP-Nonce the server gave is accepted.
	nonceLifetime = 10 * time.Minute
	// parLifetime is the expires_in of a pushed request's request_uri.
	parLifetime      = 600 * time.Second
	requestURIPrefix = "urn:okta:"
)

// Okta's words for refused requests.
const (
	descClientAuth   = "Client authentication failed. Either the client or the client credentials are invalid."
	descAudience     = "The audience claim for client_assertion must be the endpoint invoked for the request."
	descKid          = "The client_assertion JWT kid is invalid."
	descSignature    = "The client_assertion signature is invalid."
	descAssertion    = "The client_assertion token is invalid."
	descAssertionExp = "The client_assertion token has an expiration too far into the future."
	descAssertionJTI = "The client_assertion token has already been used."
	descProofMissing = "The DPoP proof JWT header is missing."
	descProofInvalid = "The DPoP proof JWT is invalid."
	descNonce        = "Authorization server requires nonce in DPoP proof."
	descPARRequired  = "Pushed Authorization Request (PAR) is required for this client: the authorize request must carry a request_uri."
	descRequestURI   = "The request_uri is invalid, expired or already used."
)

// oauthError writes an OAuth error body (RFC 6749 §5.2).
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

// binding is what one authorization server remembers of client
// assertions, DPoP proofs and nonces, and pushed requests.
type binding struct {
	mu     sync.Mutex
	jtis   map[string]time.Time // used assertion and proof jti, until they expire
	nonces map[string]time.Time
	pushed map[string]pushedRequest
}

type pushedRequest struct {
	params  url.Values
	expires time.Time
}

func newBinding() *binding {
	return &binding{jtis: map[string]time.Time{}, nonces: map[string]time.Time{}, pushed: map[string]pushedRequest{}}
}

// spend records jti until until and reports whether it was new.
func (b *binding) spend(jti string, until time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	for k, t := range b.jtis {
		if now.After(t) {
			delete(b.jtis, k)
		}
	}
	if _, used := b.jtis[jti]; used {
		return false
	}
	b.jtis[jti] = until
	return true
}

func (b *binding) newNonce() string {
	n := randomString(24)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.nonces[n] = time.Now().Add(nonceLifetime)
	return n
}

func (b *binding) validNonce(n string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	exp, ok := b.nonces[n]
	return ok && time.Now().Before(exp)
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// readForm parses a POST body and puts it back for the next handler.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "The endpoint does not support the provided HTTP method.")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid.")
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not valid.")
		return nil, false
	}
	return form, true
}

// setForm makes form r's body.
func setForm(r *http.Request, form url.Values) {
	body := form.Encode()
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Form, r.PostForm = nil, nil
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
}

// authenticateClient checks the client authentication of a request to
// endpoint (its absolute URL, which Okta wants as a client assertion's
// aud) and returns the client. A client registered with public keys must
// send private_key_jwt; a client with a secret may send it (basic or post)
// or client_secret_jwt; a public client sends its client_id. On success
// form carries, for op, the client's internal secret in place of any
// assertion. The refusals are Okta's 401 invalid_client.
func (s *server) authenticateClient(w http.ResponseWriter, r *http.Request, form url.Values, endpoint string) (*Client, bool) {
	refuse := func(desc string) (*Client, bool) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", desc)
		return nil, false
	}
	basicID, basicSecret, basic := r.BasicAuth()
	if a := form.Get("client_assertion"); a != "" || form.Has("client_assertion_type") {
		if basic || form.Has("client_secret") || form.Get("client_assertion_type") != assertionType || a == "" {
			return refuse(descClientAuth)
		}
		c, desc := s.verifyAssertion(a, form.Get("client_id"), endpoint)
		if c == nil {
			return refuse(desc)
		}
		return s.authenticated(form, c), true
	}
	id, secret := form.Get("client_id"), form.Get("client_secret")
	if basic {
		if id != "" && id != basicID {
			return refuse(descClientAuth)
		}
		id, secret = basicID, basicSecret
	}
	c, ok := s.dir.clients[id]
	switch {
	case !ok:
		return refuse(descClientAuth)
	case len(c.Keys) > 0:
		// "Public key / Private key" apps authenticate with an assertion only.
		return refuse(descClientAuth)
	case c.Secret == "":
		if secret != "" || basic {
			return refuse(descClientAuth)
		}
		return s.authenticated(form, c), true
	}
	a, b := sha256.Sum256([]byte(secret)), sha256.Sum256([]byte(c.Secret))
	if subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
		return refuse("The client secret supplied for a confidential client is invalid.")
	}
	return s.authenticated(form, c), true
}

// authenticated leaves in form, for op, the client's id and the secret op
// knows it by (none for a public client), and no assertion.
func (s *server) authenticated(form url.Values, c *Client) *Client {
	form.Del("client_assertion")
	form.Del("client_assertion_type")
	form.Del("client_secret")
	form.Set("client_id", c.ID)
	if sec := s.dir.internalSecret(c.ID); sec != "" {
		form.Set("client_secret", sec)
	}
	return c
}

// verifyAssertion checks a client assertion (RFC 7523 §3) as Okta does:
// signed with a registered key named by kid (or HMAC with the secret), an
// advertised alg, iss = sub = client_id, aud the endpoint invoked, exp in
// the future but within the hour, a jti not seen before. It returns the
// client, or nil and Okta's description of the refusal.
func (s *server) verifyAssertion(assertion, clientID, endpoint string) (*Client, string) {
	tok, err := jwt.ParseSigned(assertion, assertionAlgs)
	if err != nil || len(tok.Headers) != 1 {
		return nil, descAssertion
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return nil, descAssertion
	}
	if clientID == "" {
		clientID = unverified.Issuer
	}
	c, ok := s.dir.clients[clientID]
	if !ok || unverified.Issuer != clientID {
		return nil, descClientAuth
	}
	h := tok.Headers[0]
	var key any
	if strings.HasPrefix(h.Algorithm, "HS") {
		if c.Secret == "" {
			return nil, descClientAuth
		}
		key = []byte(c.Secret)
	} else {
		if len(c.Keys) == 0 {
			return nil, descClientAuth
		}
		for _, k := range c.Keys {
			if h.KeyID != "" && k.KeyID == h.KeyID {
				key = k.Public().Key
			}
		}
		if key == nil {
			return nil, descKid
		}
	}
	var claims jwt.Claims
	if err := tok.Claims(key, &claims); err != nil {
		return nil, descSignature
	}
	now := time.Now()
	switch {
	case claims.Issuer != c.ID || claims.Subject != c.ID:
		return nil, descAssertion
	case !slices.Contains([]string(claims.Audience), endpoint):
		return nil, descAudience
	case claims.Expiry == nil || !now.Before(claims.Expiry.Time()):
		return nil, descAssertion
	case claims.Expiry.Time().After(now.Add(maxAssertionLife + time.Minute)):
		return nil, descAssertionExp
	case claims.ID == "":
		return nil, descAssertion
	case !s.bound.spend("assertion "+c.ID+" "+claims.ID, claims.Expiry.Time()):
		return nil, descAssertionJTI
	}
	return c, ""
}

// proof is a verified DPoP proof (RFC 9449 §4.3).
type proof struct {
	jkt, nonce, ath string
}

// checkProof verifies the DPoP proof of a request for method and htu:
// one compact JWS, typ dpop+jwt, an advertised alg, a public jwk that
// verifies the signature, htm and htu those of the request, iat within
// proofWindow of now, a jti not seen before. It returns "" and the proof,
// or a description of the refusal.
func (s *server) checkProof(raw, method, htu string) (proof, string) {
	if strings.Count(raw, ".") != 2 {
		return proof{}, descProofInvalid
	}
	jws, err := jose.ParseSignedCompact(raw, dpopAlgs)
	if err != nil || len(jws.Signatures) != 1 {
		return proof{}, descProofInvalid
	}
	h := jws.Signatures[0].Protected
	jwk := h.JSONWebKey
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" || jwk == nil || !jwk.IsPublic() || !jwk.Valid() {
		return proof{}, descProofInvalid
	}
	payload, err := jws.Verify(jwk.Key)
	if err != nil {
		return proof{}, descProofInvalid
	}
	var c struct {
		JTI   string           `json:"jti"`
		HTM   string           `json:"htm"`
		HTU   string           `json:"htu"`
		IAT   *jwt.NumericDate `json:"iat"`
		Nonce string           `json:"nonce"`
		ATH   string           `json:"ath"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.JTI == "" || c.IAT == nil {
		return proof{}, descProofInvalid
	}
	iat := c.IAT.Time()
	if c.HTM != method || c.HTU != htu || time.Since(iat).Abs() > proofWindow {
		return proof{}, descProofInvalid
	}
	t, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return proof{}, descProofInvalid
	}
	jkt := base64.RawURLEncoding.EncodeToString(t)
	if !s.bound.spend("proof "+jkt+" "+c.JTI, iat.Add(proofWindow)) {
		return proof{}, descProofInvalid
	}
	return proof{jkt: jkt, nonce: c.Nonce, ath: c.ATH}, ""
}

// endpoint is the absolute URL of the server's endpoint p (/token, ...).
func (s *server) endpoint(p string) string { return s.issuer + s.authorizeBase() + p }

// token stands in front of op's token endpoint: it authenticates the
// client as Okta does (op would want the issuer as a client assertion's
// aud) and, for an app that requires DPoP, wants a proof with one of the
// server's nonces, then binds the tokens op issues to the proof's key.
func (s *server) token(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		form, ok := readForm(w, r)
		if !ok {
			return
		}
		c, ok := s.authenticateClient(w, r, form, s.endpoint("/token"))
		if !ok {
			return
		}
		r.Header.Del("Authorization")
		setForm(r, form)
		if !c.RequireDPoP {
			// Okta binds tokens only for apps with DPoP turned on.
			r.Header.Del("DPoP")
			next.ServeHTTP(w, r)
			return
		}
		raw := r.Header.Values("DPoP")
		if len(raw) == 0 {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", descProofMissing)
			return
		}
		if len(raw) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", descProofInvalid)
			return
		}
		p, desc := s.checkProof(raw[0], http.MethodPost, s.endpoint("/token"))
		if desc != "" {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", desc)
			return
		}
		if !s.bound.validNonce(p.nonce) {
			// Okta always starts with a nonce: the first proof has none.
			w.Header().Set("DPoP-Nonce", s.bound.newNonce())
			oauthError(w, http.StatusBadRequest, "use_dpop_nonce", descNonce)
			return
		}
		if m := mintOf(r.Context()); m != nil {
			m.jkt = p.jkt
		}
		r.Header.Del("DPoP")
		buf := &bufferedResponse{header: http.Header{}}
		next.ServeHTTP(buf, r)
		buf.flush(w, func(body map[string]any) {
			if _, ok := body["access_token"]; ok {
				body["token_type"] = "DPoP"
			}
		})
	})
}

// userinfo wants, for a DPoP-bound access token, the DPoP scheme and a
// proof by the bound key with ath (RFC 9449 §7); op then sees a bearer
// token. A bound token sent as a bearer token, or an unbound one with the
// DPoP scheme, is refused.
func (s *server) userinfo(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		jkt := boundKeyOf(tok)
		challenge := func(code, desc string) {
			w.Header().Set("WWW-Authenticate", `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", error="`+code+`", error_description="`+desc+`"`)
			oauthError(w, http.StatusUnauthorized, code, desc)
		}
		dpop := strings.EqualFold(scheme, "DPoP")
		switch {
		case jkt == "" && !dpop:
			next.ServeHTTP(w, r)
			return
		case jkt == "":
			challenge("invalid_token", "The access token is not DPoP-bound.")
			return
		case !dpop:
			challenge("invalid_token", "The DPoP-bound access token must be sent with the DPoP authorization scheme.")
			return
		}
		raw := r.Header.Values("DPoP")
		if len(raw) != 1 {
			challenge("invalid_dpop_proof", descProofMissing)
			return
		}
		p, desc := s.checkProof(raw[0], r.Method, s.endpoint("/userinfo"))
		sum := sha256.Sum256([]byte(tok))
		switch {
		case desc != "":
			challenge("invalid_dpop_proof", desc)
			return
		case p.jkt != jkt:
			challenge("invalid_dpop_proof", "The DPoP proof is not signed by the key the access token is bound to.")
			return
		case p.ath != base64.RawURLEncoding.EncodeToString(sum[:]):
			challenge("invalid_dpop_proof", "The DPoP proof ath claim does not match the access token.")
			return
		}
		r.Header.Del("DPoP")
		r.Header.Set("Authorization", "Bearer "+tok)
		next.ServeHTTP(w, r)
	})
}

// boundKeyOf is the cnf.jkt of a JWT access token, read without verifying
// it: op verifies the token after, so a forged claim gets no further.
func boundKeyOf(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	_ = json.Unmarshal(raw, &c)
	return c.Cnf.JKT
}

// par is the pushed authorization request endpoint (RFC 9126): the client
// authenticates as at the token endpoint (the assertion's aud this
// endpoint), the request is checked as far as it can be without a user,
// and kept under a one-time urn:okta: request_uri.
func (s *server) par(w http.ResponseWriter, r *http.Request) {
	form, ok := readForm(w, r)
	if !ok {
		return
	}
	c, ok := s.authenticateClient(w, r, form, s.endpoint("/par"))
	if !ok {
		return
	}
	form.Del("client_secret")
	form.Set("client_id", c.ID)
	switch {
	case form.Has("request_uri"):
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request_uri parameter is not allowed in a pushed authorization request.")
		return
	case !slices.Contains(c.RedirectURIs, form.Get("redirect_uri")):
		oauthError(w, http.StatusBadRequest, "invalid_request", "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings: "+form.Get("redirect_uri"))
		return
	case form.Get("response_type") == "":
		oauthError(w, http.StatusBadRequest, "invalid_request", "The 'response_type' parameter is required.")
		return
	}
	uri := requestURIPrefix + randomString(32)
	s.bound.mu.Lock()
	now := time.Now()
	for k, p := range s.bound.pushed {
		if now.After(p.expires) {
			delete(s.bound.pushed, k)
		}
	}
	s.bound.pushed[uri] = pushedRequest{params: form, expires: now.Add(parLifetime)}
	s.bound.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"request_uri": uri, "expires_in": int(parLifetime.Seconds())})
}

// unpush puts, for an authorize request with a request_uri, the pushed
// parameters in its place, once; the browser's sessionToken (the
// Authentication API's) is kept. The request's context then says it was
// pushed, for a client that requires PAR.
func (s *server) unpush(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		uri := q.Get("request_uri")
		if uri == "" {
			next.ServeHTTP(w, r)
			return
		}
		s.bound.mu.Lock()
		p, ok := s.bound.pushed[uri]
		delete(s.bound.pushed, uri)
		s.bound.mu.Unlock()
		if !ok || time.Now().After(p.expires) || p.params.Get("client_id") != q.Get("client_id") {
			http.Error(w, "invalid_request: "+descRequestURI, http.StatusBadRequest)
			return
		}
		params := url.Values{}
		for k, v := range p.params {
			params[k] = slices.Clone(v)
		}
		if st := q.Get("sessionToken"); st != "" {
			params.Set("sessionToken", st)
		}
		r.URL.RawQuery = params.Encode()
		r.Form = nil
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), pushedKey, true)))
	})
}

// bufferedResponse holds a handler's answer so that its JSON can be
// edited before it is sent.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }
func (b *bufferedResponse) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}
func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

// flush sends the answer, with edit applied to a 200 JSON object.
func (b *bufferedResponse) flush(w http.ResponseWriter, edit func(map[string]any)) {
	body := b.body.Bytes()
	var m map[string]any
	if b.status == http.StatusOK && json.Unmarshal(body, &m) == nil {
		edit(m)
		if out, err := json.Marshal(m); err == nil {
			body = out
		}
	}
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(body)
}

func algNames(algs []jose.SignatureAlgorithm) []string {
	out := make([]string, len(algs))
	for i, a := range algs {
		out[i] = string(a)
	}
	return out
}
