package flow

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// DPoP (RFC 9449): the client proves possession of a key with a signed
// proof on every request, and the provider binds the tokens to that key.
const (
	// TokenTypeDPoP is the token_type of a DPoP-bound access token.
	TokenTypeDPoP = "DPoP"
	// DPoPProofType is the typ header of a DPoP proof.
	DPoPProofType = "dpop+jwt"
	// DPoPNonceRetries is how many times one request is sent again with a
	// new nonce (RFC 9449 §8 and §9) before the provider's repeated
	// use_dpop_nonce answer ends the run.
	DPoPNonceRetries = 2
)

// DPoPKey is the key DPoP proofs are signed with. Neither its private part
// nor the file it came from ever appears in a message. A DPoPKey also
// remembers the last nonce each server gave (DPoP-Nonce), for the next
// proof sent there; it is safe for concurrent use.
type DPoPKey struct {
	signer crypto.Signer
	alg    string
	// File is the file the key was read from; empty for a generated key.
	File string

	mu     sync.Mutex
	nonces map[string]string // by origin
}

// NewDPoPKey generates a fresh ES256 (P-256) key, for one run.
func NewDPoPKey() (*DPoPKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, failure.New(failure.Usage, "DPoP key", "generating a P-256 key: %w", err)
	}
	return &DPoPKey{signer: k, alg: "ES256"}, nil
}

// LoadDPoPKey reads a DPoP key from file, in any form LoadClientKey takes
// (PEM or a JWK). Its proofs use the key's usual algorithm: ES256, ES384
// or ES512 for EC, RS256 for RSA, EdDSA for Ed25519. Errors are
// LoadClientKey's, failure.Usage naming the file.
func LoadDPoPKey(file string) (*DPoPKey, error) {
	ck, err := LoadClientKey(file, "")
	if err != nil {
		return nil, err
	}
	return &DPoPKey{signer: ck.signer, alg: ck.Algorithms()[0], File: file}, nil
}

// Alg is the JWS algorithm of the key's proofs.
func (k *DPoPKey) Alg() string { return k.alg }

// Public is the public half of the key.
func (k *DPoPKey) Public() crypto.PublicKey { return k.signer.Public() }

// JWK is the public key as a JWK, the jwk header of every proof.
func (k *DPoPKey) JWK() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.signer.Public(), Algorithm: k.alg, Use: "sig"}
}

// Thumbprint is the key's JWK SHA-256 thumbprint (RFC 7638), base64url
// without padding: the dpop_jkt of the authorization request and the
// cnf.jkt of a bound token.
func (k *DPoPKey) Thumbprint() string {
	t, err := Thumbprint(k.JWK())
	if err != nil {
		return "" // not for a key LoadDPoPKey or NewDPoPKey accepted
	}
	return t
}

// Thumbprint is jwk's SHA-256 thumbprint (RFC 7638 §3): the hash of the
// JSON object of its required members (crv, kty, x, y for EC; e, kty, n for
// RSA; crv, kty, x for OKP) in lexicographic order, without white space,
// base64url without padding.
func Thumbprint(jwk jose.JSONWebKey) (string, error) {
	b, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("JWK thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// DPoPProof is the content of one proof, as NewProof signs it.
type DPoPProof struct {
	// Method and URL are htm and htu: the request's method and its URL
	// without query and fragment (RFC 9449 §4.2).
	Method, URL string
	// AccessToken, when not empty, is the access token the request
	// carries; the proof's ath is its SHA-256 hash (RFC 9449 §4.2).
	AccessToken string
	// Nonce is the server's DPoP-Nonce, when it gave one.
	Nonce string
}

// htu is u without query and fragment (RFC 9449 §4.2).
func htu(u *url.URL) string {
	c := *u
	c.RawQuery, c.ForceQuery, c.Fragment, c.RawFragment, c.User = "", false, "", "", nil
	return c.String()
}

// NewProof signs a DPoP proof for p: header typ dpop+jwt, alg, jwk the
// public key; claims jti (128 random bits), htm, htu, iat now, and ath and
// nonce when p has them.
func (k *DPoPKey) NewProof(p DPoPProof) (string, error) {
	const op = "DPoP proof"
	u, err := url.Parse(p.URL)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "", failure.New(failure.Usage, op, "the request URL is not absolute")
	}
	opts := (&jose.SignerOptions{}).WithType(DPoPProofType).WithHeader("jwk", k.JWK())
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.alg), Key: k.signer}, opts)
	if err != nil {
		return "", failure.New(failure.Usage, op, "cannot sign with %s: %w", k.alg, err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	claims := map[string]any{
		"jti": base64.RawURLEncoding.EncodeToString(id),
		"htm": p.Method,
		"htu": htu(u),
		"iat": time.Now().Unix(),
	}
	if p.AccessToken != "" {
		h := sha256.Sum256([]byte(p.AccessToken))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(h[:])
	}
	if p.Nonce != "" {
		claims["nonce"] = p.Nonce
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", failure.New(failure.Usage, op, "claims: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", failure.New(failure.Usage, op, "signing: %w", err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		return "", failure.New(failure.Usage, op, "signing: %w", err)
	}
	return s, nil
}

func origin(u *url.URL) string { return strings.ToLower(u.Scheme + "://" + u.Host) }

func (k *DPoPKey) nonce(u *url.URL) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nonces[origin(u)]
}

func (k *DPoPKey) setNonce(u *url.URL, n string) {
	if n == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.nonces == nil {
		k.nonces = map[string]string{}
	}
	k.nonces[origin(u)] = n
}

// DPoPTransport returns a RoundTripper that adds a new DPoP proof to every
// request it carries, over next (http.DefaultTransport when nil). A request
// with "Authorization: DPoP TOKEN" gets a proof with ath. The transport
// keeps each server's DPoP-Nonce for the next proof, and a request the
// server answers with use_dpop_nonce (a 400 with that OAuth error from an
// authorization server, a 401 with that WWW-Authenticate DPoP error from a
// resource server) is sent again with the new nonce, at most
// DPoPNonceRetries times; a server that still asks is a failure.Provider
// error saying so. onProof, when not nil, is called with each proof before
// it is sent (for a scrubber).
func (k *DPoPKey) DPoPTransport(next http.RoundTripper, onProof func(proof string)) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &dpopTransport{next: next, key: k, onProof: onProof}
}

type dpopTransport struct {
	next    http.RoundTripper
	key     *DPoPKey
	onProof func(string)
}

// dpopNonceError matches a WWW-Authenticate DPoP challenge asking for a
// nonce (RFC 9449 §9).
var dpopNonceError = regexp.MustCompile(`(?i)(^|[\s,])error\s*=\s*"?use_dpop_nonce"?`)

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	token := ""
	if a := req.Header.Get("Authorization"); len(a) > 5 && strings.EqualFold(a[:5], "DPoP ") {
		token = strings.TrimSpace(a[5:])
	}
	for try := 0; ; try++ {
		r := req.Clone(req.Context())
		if try > 0 {
			if req.GetBody != nil {
				body, err := req.GetBody()
				if err != nil {
					return nil, fmt.Errorf("DPoP: sending the request again: %w", err)
				}
				r.Body = body
			} else if req.Body != nil && req.Body != http.NoBody {
				return nil, failure.New(failure.Usage, "DPoP", "the request cannot be sent again with the server's nonce")
			}
		}
		proof, err := t.key.NewProof(DPoPProof{Method: req.Method, URL: req.URL.String(), AccessToken: token, Nonce: t.key.nonce(req.URL)})
		if err != nil {
			return nil, err
		}
		if t.onProof != nil {
			t.onProof(proof)
		}
		r.Header.Set("DPoP", proof)
		resp, err := t.next.RoundTrip(r)
		if err != nil {
			return nil, err
		}
		t.key.setNonce(req.URL, resp.Header.Get("DPoP-Nonce"))
		asks, err := wantsNonce(resp)
		if err != nil || !asks {
			return resp, err
		}
		if resp.Header.Get("DPoP-Nonce") == "" {
			// Asked for a nonce without giving one: sending again would
			// change nothing.
			return resp, nil
		}
		if try == DPoPNonceRetries {
			resp.Body.Close()
			return nil, failure.New(failure.Provider, "DPoP", "%s asked for a new DPoP nonce (use_dpop_nonce) %d times in a row: the provider does not accept its own nonces", displayEndpoint(req.URL), try+1)
		}
		resp.Body.Close()
	}
}

// wantsNonce says whether resp asks for a DPoP nonce, leaving its body
// readable.
func wantsNonce(resp *http.Response) (bool, error) {
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, v := range resp.Header.Values("WWW-Authenticate") {
			if dpopNonceError.MatchString(v) {
				return true, nil
			}
		}
		return false, nil
	case http.StatusBadRequest:
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse+1))
		resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return false, nil // the caller's read reports it
		}
		var e struct {
			Error string `json:"error"`
		}
		return json.Unmarshal(body, &e) == nil && e.Error == "use_dpop_nonce", nil
	}
	return false, nil
}

// displayEndpoint is u without user info, query and fragment.
func displayEndpoint(u *url.URL) string { return htu(u) }

// dpopClient wraps client's transport with c.DPoPKey's, registering each
// proof with sc; client unchanged when c has no DPoP key.
func (c Config) dpopClient(client *http.Client, sc *scrub.Scrubber) *http.Client {
	if c.DPoPKey == nil {
		return client
	}
	cp := *client
	cp.Transport = c.DPoPKey.DPoPTransport(client.Transport, func(p string) {
		sc.Add(scrub.DPoPProof, p)
		if c.OnDPoPProof != nil {
			c.OnDPoPProof(p)
		}
	})
	return &cp
}
