package demo

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// claimsPath is the demo's distributed claims endpoint.
const claimsPath = "/claims"

// Kinds of ClaimSource.
const (
	// SourceAggregated puts the groups in a JWT the provider signs, inside
	// the ID token's _claim_sources.
	SourceAggregated = "aggregated"
	// SourceDistributed points _claim_sources at an endpoint (the
	// provider's own /claims unless ClaimSource.Endpoint is set) that
	// answers with the groups for the source's access_token.
	SourceDistributed = "distributed"
)

// ClaimSource makes a user's groups a distributed or aggregated claim
// (OpenID Connect Core 5.6.2) in the ID token and userinfo, under the
// source name "src1", instead of a groups claim; the access token then
// carries no groups.
type ClaimSource struct {
	// Kind is SourceAggregated or SourceDistributed.
	Kind string
	// Endpoint, for SourceDistributed, replaces the provider's own claims
	// endpoint in _claim_sources (a test points it at a hostile server).
	Endpoint string
	// JWT makes the provider's claims endpoint answer with a signed JWT
	// (application/jwt) rather than JSON.
	JWT bool
	// Break spoils the signed claims: "signature" (the signature does not
	// verify), "issuer" (iss is another issuer's) or "expired".
	Break string
	// RunToken, for SourceDistributed, leaves access_token out of the
	// source: the claims endpoint then takes the user's access token from
	// this provider, as a client sends it with --claims-source-token run.
	RunToken bool
	// UserinfoOnly leaves the ID token without the groups or the source:
	// only the userinfo answer refers to it, as a provider that keeps the
	// ID token small does.
	UserinfoOnly bool
}

// ClaimSourceUsers returns demo accounts whose groups (Everyone and IT)
// come from claim sources: carol (password "carol-demo", aggregated), dave
// ("dave-demo", distributed, answered as JSON by the provider's claims
// endpoint) and erin ("erin-demo", aggregated with a broken signature).
// They are not among DefaultUsers.
func ClaimSourceUsers() []User {
	groups := []string{"Everyone", "IT"}
	return []User{
		{Username: "carol", Password: "carol-demo", Subject: "user-carol", Name: "Carol Example", Groups: groups,
			ClaimSource: &ClaimSource{Kind: SourceAggregated}},
		{Username: "dave", Password: "dave-demo", Subject: "user-dave", Name: "Dave Example", Groups: groups,
			ClaimSource: &ClaimSource{Kind: SourceDistributed}},
		{Username: "erin", Password: "erin-demo", Subject: "user-erin", Name: "Erin Example", Groups: groups,
			ClaimSource: &ClaimSource{Kind: SourceAggregated, Break: "signature"}},
	}
}

// sourceToken is the access_token of a user's distributed claim source:
// derived from the subject and a key of this provider's, so that it needs
// no table.
func (s *storage) sourceToken(subject string) string {
	h := sha256.New()
	h.Write(s.sourceKey[:])
	h.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

func newSourceKey() ([32]byte, error) {
	var k [32]byte
	_, err := rand.Read(k[:])
	return k, err
}

// appendClaimSource adds _claim_names and _claim_sources for u's groups.
func (s *storage) appendClaimSource(ui *oidc.UserInfo, u *userRecord) error {
	src := map[string]any{}
	switch cs := u.ClaimSource; cs.Kind {
	case SourceAggregated:
		jwt, err := s.signedGroups(u)
		if err != nil {
			return err
		}
		src["JWT"] = jwt
	default:
		endpoint := cs.Endpoint
		if endpoint == "" {
			endpoint = s.issuer + claimsPath
		}
		src["endpoint"] = endpoint
		if !cs.RunToken {
			src["access_token"] = s.sourceToken(u.Subject)
		}
	}
	ui.AppendClaims("_claim_names", map[string]any{claimGroups: "src1"})
	ui.AppendClaims("_claim_sources", map[string]any{"src1": src})
	return nil
}

// signedGroups is a JWT of u's groups signed with the provider's key,
// spoiled as u.ClaimSource.Break says.
func (s *storage) signedGroups(u *userRecord) (string, error) {
	now := time.Now()
	claims := map[string]any{
		"iss": s.issuer, "sub": u.Subject, claimGroups: groupsClaim(u),
		"iat": now.Unix(), "exp": now.Add(s.lifetime).Unix(),
	}
	switch u.ClaimSource.Break {
	case "issuer":
		claims["iss"] = "https://other-issuer.invalid"
	case "expired":
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.key.Key()},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", s.key.ID()))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", err
	}
	if u.ClaimSource.Break == "signature" {
		// Another payload under the same signature.
		parts := strings.Split(raw, ".")
		claims[claimGroups] = append(groupsClaim(u), "Admins")
		forged, _ := json.Marshal(claims)
		parts[1] = base64.RawURLEncoding.EncodeToString(forged)
		raw = strings.Join(parts, ".")
	}
	return raw, nil
}

// runTokenUser is the user, with ClaimSource.RunToken, whom token (one of
// this provider's live access tokens, opaque or JWT) was issued to.
func (s *storage) runTokenUser(token string) *userRecord {
	id := token
	if jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.RS256}); err == nil {
		payload, err := jws.Verify(&s.key.Key().(*rsa.PrivateKey).PublicKey)
		if err != nil {
			return nil
		}
		var c struct {
			ID string `json:"jti"`
		}
		if json.Unmarshal(payload, &c) != nil {
			return nil
		}
		id = c.ID
	}
	s.mu.Lock()
	at, ok := s.accessTokens[id]
	s.mu.Unlock()
	if !ok || time.Now().After(at.expiration) {
		return nil
	}
	u := s.subjects[at.subject]
	if u == nil || u.ClaimSource == nil || !u.ClaimSource.RunToken {
		return nil
	}
	return u
}

// claimsHandler is the distributed claims endpoint: GET with a user's
// source token as a bearer token answers that user's groups.
type claimsHandler struct{ storage *storage }

func (h *claimsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var user *userRecord
	if ok {
		for _, u := range h.storage.subjects {
			if u.ClaimSource != nil && subtle.ConstantTimeCompare([]byte(token), []byte(h.storage.sourceToken(u.Subject))) == 1 {
				user = u
			}
		}
	}
	if user == nil && ok {
		user = h.storage.runTokenUser(token)
	}
	if user == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		http.Error(w, "unknown token", http.StatusUnauthorized)
		return
	}
	if user.ClaimSource.JWT {
		jwt, err := h.storage.signedGroups(user)
		if err != nil {
			http.Error(w, "cannot sign", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		w.Write([]byte(jwt))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"sub": user.Subject, claimGroups: groupsClaim(user)})
}
