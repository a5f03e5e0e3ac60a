package hostile

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// par answers a pushed authorization request (RFC 9126 §2.2): 201 with a
// request_uri and expires_in, edited by Options.PARResponse, or
// Options.PARBody instead. The parameters are kept for unpush.
func (s *Server) par(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if _, pw, ok := r.BasicAuth(); ok {
		s.remember(pw)
	}
	s.remember(r.PostForm.Get("client_secret"), r.PostForm.Get("client_assertion"))
	params := url.Values{}
	for k, v := range r.PostForm {
		switch k {
		case "client_secret", "client_assertion", "client_assertion_type":
		default:
			params[k] = v
		}
	}
	if u, _, ok := r.BasicAuth(); ok && params.Get("client_id") == "" {
		params.Set("client_id", u)
	}
	id := make([]byte, 16)
	rand.Read(id)
	uri := "urn:ietf:params:oauth:request_uri:" + b64(id)
	s.mu.Lock()
	s.pushed[uri] = params
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	if s.opts.PARBody != "" {
		io.WriteString(w, s.opts.PARBody)
		return
	}
	m := map[string]any{"request_uri": uri, "expires_in": 60}
	if s.opts.PARResponse != nil {
		s.opts.PARResponse(m)
	}
	json.NewEncoder(w).Encode(m)
}

// unpush replaces an authorize request's request_uri with the parameters
// pushed under it, once (a request_uri is single use, RFC 9126 §4).
func (s *Server) unpush(r *http.Request) {
	q := r.URL.Query()
	uri := q.Get("request_uri")
	if uri == "" {
		return
	}
	s.mu.Lock()
	params, ok := s.pushed[uri]
	delete(s.pushed, uri)
	s.mu.Unlock()
	if !ok || params.Get("client_id") != q.Get("client_id") {
		return
	}
	r.URL.RawQuery = params.Encode()
}

// dpopToken handles a token request's DPoP proof: with DPoPNonceLoop it
// answers use_dpop_nonce (RFC 9449 §8) and returns false; otherwise it
// binds the tokens to come to the proof's key and returns true. The proof
// is not verified: this server tests clients, and a client's proof is its
// own to get right.
func (s *Server) dpopToken(w http.ResponseWriter, r *http.Request) bool {
	proof := r.Header.Get("DPoP")
	if proof == "" {
		return true
	}
	s.remember(proof)
	if s.opts.DPoPNonceLoop {
		nonce := make([]byte, 12)
		rand.Read(nonce)
		w.Header().Set("DPoP-Nonce", b64(nonce))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof."}`)
		return false
	}
	jkt := proofThumbprint(proof)
	s.mu.Lock()
	s.jkt = jkt
	s.mu.Unlock()
	r.Header.Del("DPoP")
	return true
}

func (s *Server) boundKey() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.jkt
}

// proofThumbprint is the RFC 7638 thumbprint of the jwk in a DPoP proof's
// header, "" when there is none.
func proofThumbprint(proof string) string {
	h, _, ok := strings.Cut(proof, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return ""
	}
	var hdr struct {
		JWK map[string]any `json:"jwk"`
	}
	if json.Unmarshal(raw, &hdr) != nil || hdr.JWK == nil {
		return ""
	}
	return JWKThumbprint(hdr.JWK)
}

// JWKThumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK (EC,
// RSA or OKP): its required members in lexicographic order, no spaces.
func JWKThumbprint(jwk map[string]any) string {
	var members []string
	switch jwk["kty"] {
	case "EC":
		members = []string{"crv", "kty", "x", "y"}
	case "RSA":
		members = []string{"e", "kty", "n"}
	case "OKP":
		members = []string{"crv", "kty", "x"}
	default:
		return ""
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range members {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m)
		v, _ := json.Marshal(jwk[m])
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	sum := sha256.Sum256(b.Bytes())
	return b64(sum[:])
}

// swapIntrospected puts the demo's original access token in place of the
// re-signed one an introspection request asks about.
func (s *Server) swapIntrospected(r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	r.Body.Close()
	if err != nil {
		return
	}
	if _, pw, ok := r.BasicAuth(); ok {
		s.remember(pw)
	}
	v, err := url.ParseQuery(string(body))
	if err == nil {
		s.mu.Lock()
		orig, ok := s.tokens[v.Get("token")]
		s.mu.Unlock()
		if ok {
			v.Set("token", orig)
			body = []byte(v.Encode())
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
}

// introspection adds cnf.jkt to an active token's introspection answer
// when tokens are DPoP-bound, then applies Options.Introspection.
func (s *Server) introspection(body []byte) []byte {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return body
	}
	if jkt := s.boundKey(); jkt != "" && m["active"] == true {
		m["cnf"] = map[string]any{"jkt": jkt}
		m["token_type"] = "DPoP"
	}
	if s.opts.Introspection != nil {
		s.opts.Introspection(m)
	}
	out, _ := json.Marshal(m)
	return bytes.ReplaceAll(out, []byte(s.demo), []byte(s.srv.URL))
}
