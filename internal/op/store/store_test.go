package store

import (
	"context"
	"crypto"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// req is a provider's request type as the providers build theirs.
type req struct {
	AuthRequest
	extra    []string
	prepared bool
}

// Clone drops prepared: only the copies handed out are prepared.
func (r *req) Clone() *req {
	return &req{AuthRequest: r.AuthRequest.Copy(), extra: slices.Clone(r.extra)}
}

var _ op.AuthRequest = (*req)(nil)

// clock is a settable now for Requests.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestRequests(t *testing.T, codeLifetime time.Duration) (*Requests[*req], *clock, *req) {
	t.Helper()
	c := &clock{t: time.Now()}
	s := NewRequests[*req](10*time.Minute, codeLifetime, func(_ context.Context, r *req) { r.prepared = true })
	s.now = c.now
	base, err := NewAuthRequest(&oidc.AuthRequest{
		ClientID: "app", RedirectURI: "http://127.0.0.1/cb", State: "st", Nonce: "n",
		Scopes: oidc.SpaceDelimitedArray{"openid", "groups"}, ResponseType: oidc.ResponseTypeCode,
		CodeChallenge: "ch", CodeChallengeMethod: oidc.CodeChallengeMethodS256,
	})
	if err != nil {
		t.Fatal(err)
	}
	base.Created = c.t
	return s, c, s.Add(context.Background(), &req{AuthRequest: base, extra: []string{"x"}})
}

func TestNewAuthRequest(t *testing.T) {
	_, _, r := newTestRequests(t, 0)
	if r.GetID() == "" || r.GetClientID() != "app" || r.GetState() != "st" || r.GetNonce() != "n" ||
		r.GetRedirectURI() != "http://127.0.0.1/cb" || r.GetResponseType() != oidc.ResponseTypeCode ||
		!slices.Equal(r.GetScopes(), []string{"openid", "groups"}) || !slices.Equal(r.GetAudience(), []string{"app"}) {
		t.Errorf("request %+v does not carry what was asked", r.AuthRequest)
	}
	if ch := r.GetCodeChallenge(); ch == nil || ch.Challenge != "ch" || ch.Method != oidc.CodeChallengeMethodS256 {
		t.Errorf("code challenge %+v", ch)
	}
	if r.Done() || r.GetAMR() != nil || r.GetSubject() != "" {
		t.Errorf("a new request is signed in: %+v", r.AuthRequest)
	}
	noPKCE, err := NewAuthRequest(&oidc.AuthRequest{ClientID: "app"})
	if err != nil || noPKCE.GetCodeChallenge() != nil {
		t.Errorf("no challenge asked, got %+v (%v)", noPKCE.GetCodeChallenge(), err)
	}
}

func TestCopyIsDeep(t *testing.T) {
	_, _, r := newTestRequests(t, 0)
	c := r.Clone()
	c.Scopes[0] = "changed"
	c.Challenge.Challenge = "changed"
	c.extra[0] = "changed"
	if r.Scopes[0] != "openid" || r.Challenge.Challenge != "ch" || r.extra[0] != "x" {
		t.Errorf("a clone shares memory with its original")
	}
}

func TestRequestsLifecycle(t *testing.T) {
	s, _, r := newTestRequests(t, time.Minute)
	id := r.GetID()
	if _, err := s.Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown id: %v, want ErrUnknown", err)
	}
	if err := s.SaveCode(id, "c1"); !errors.Is(err, ErrUnknown) {
		t.Errorf("a code before sign-in: %v, want ErrUnknown", err)
	}
	if !s.SignIn(id, "alice") {
		t.Fatal("sign-in refused")
	}
	if s.SignIn(id, "mallory") {
		t.Error("a second sign-in accepted")
	}
	if s.SignIn("nope", "alice") {
		t.Error("sign-in of an unknown request accepted")
	}
	got, err := s.Lookup(id)
	if err != nil || !got.Done() || got.GetSubject() != "alice" || !slices.Equal(got.GetAMR(), []string{"pwd"}) || got.GetAuthTime().IsZero() {
		t.Fatalf("after sign-in: %+v (%v)", got, err)
	}
	got.Subject = "changed"
	if again, _ := s.Get(id); again.GetSubject() != "alice" {
		t.Error("Get hands out the stored request, not a clone")
	}
	if err := s.SaveCode(id, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ByCode("c1"); err != nil {
		t.Fatalf("first redemption: %v", err)
	}
	if _, err := s.ByCode("c1"); !errors.Is(err, ErrUnknown) {
		t.Errorf("second redemption: %v, want ErrUnknown", err)
	}
	if err := s.SaveCode(id, "c2"); err != nil {
		t.Fatal(err)
	}
	s.Delete(id)
	if _, err := s.ByCode("c2"); !errors.Is(err, ErrUnknown) {
		t.Errorf("code of a deleted request: %v, want ErrUnknown", err)
	}
	if _, ok := s.Get(id); ok {
		t.Error("deleted request still found")
	}
}

func TestRequestsExpiry(t *testing.T) {
	for _, tc := range []struct {
		name         string
		codeLifetime time.Duration
		advance      time.Duration
		wantCode     bool
	}{
		{"code within its lifetime", time.Minute, 59 * time.Second, true},
		{"code past its lifetime", time.Minute, 61 * time.Second, false},
		{"no code lifetime: the request's", 0, 9 * time.Minute, true},
		{"request expired", 0, 11 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, c, r := newTestRequests(t, tc.codeLifetime)
			if !s.SignIn(r.GetID(), "alice") || s.SaveCode(r.GetID(), "code") != nil {
				t.Fatal("setup")
			}
			c.t = c.t.Add(tc.advance)
			_, err := s.ByCode("code")
			if got := err == nil; got != tc.wantCode {
				t.Errorf("redeemed: %v (%v), want %v", got, err, tc.wantCode)
			}
		})
	}
	// Add drops what has expired.
	s, c, old := newTestRequests(t, 0)
	c.t = c.t.Add(11 * time.Minute)
	fresh := &req{AuthRequest: AuthRequest{ID: "fresh", Created: c.t}}
	s.Add(context.Background(), fresh)
	if _, ok := s.byID[old.GetID()]; ok {
		t.Error("an expired request survived Add")
	}
	if _, ok := s.Get("fresh"); !ok {
		t.Error("the added request is missing")
	}
}

func TestSigningKey(t *testing.T) {
	k, err := NewSigningKey()
	if err != nil {
		t.Fatal(err)
	}
	priv, ok := k.Key().(*rsa.PrivateKey)
	if !ok || priv.N.BitLen() != 2048 {
		t.Fatalf("key %T", k.Key())
	}
	thumb, err := (&jose.JSONWebKey{Key: &priv.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.RawURLEncoding.EncodeToString(thumb); k.ID() != want {
		t.Errorf("kid %q, want the RFC 7638 thumbprint %q", k.ID(), want)
	}
	p := k.Public()
	pub, ok := p.Key().(*rsa.PublicKey)
	if !ok || !pub.Equal(&priv.PublicKey) || p.ID() != k.ID() || p.Use() != "sig" ||
		p.Algorithm() != jose.RS256 || k.SignatureAlgorithm() != jose.RS256 {
		t.Errorf("public key %+v does not match the signing key", p)
	}
}

func TestClient(t *testing.T) {
	for _, tc := range []struct {
		public   bool
		wantApp  op.ApplicationType
		wantAuth oidc.AuthMethod
	}{
		{true, op.ApplicationTypeNative, oidc.AuthMethodNone},
		{false, op.ApplicationTypeWeb, oidc.AuthMethodBasic},
	} {
		types := []oidc.ResponseType{oidc.ResponseTypeCode}
		c := NewClient(ClientConfig{
			ID: "app", Public: tc.public, RedirectURIs: []string{"http://127.0.0.1/cb"},
			ResponseTypes: types, GrantTypes: []oidc.GrantType{oidc.GrantTypeCode},
			IDTokenLifetime: time.Hour, LoginURL: func(id string) string { return "/login?id=" + id },
			AllowScope: func(s string) bool { return s == "groups" },
		})
		if c.GetID() != "app" || c.ApplicationType() != tc.wantApp || c.AuthMethod() != tc.wantAuth ||
			c.LoginURL("x") != "/login?id=x" || c.IDTokenLifetime() != time.Hour ||
			!c.IsScopeAllowed("groups") || c.IsScopeAllowed("admin") ||
			c.AccessTokenType() != op.AccessTokenTypeJWT || c.DevMode() || c.ClockSkew() != 0 ||
			c.IDTokenUserinfoClaimsAssertion() || len(c.PostLogoutRedirectURIs()) != 0 {
			t.Errorf("public=%v: client answers wrongly", tc.public)
		}
		c.ResponseTypes()[0] = oidc.ResponseTypeIDToken
		if types[0] != oidc.ResponseTypeCode {
			t.Error("ResponseTypes hands out the configured slice")
		}
		scopes := []string{"openid"}
		if got := c.RestrictAdditionalIdTokenScopes()(scopes); !slices.Equal(got, scopes) {
			t.Errorf("id token scopes restricted: %v", got)
		}
		if got := c.RestrictAdditionalAccessTokenScopes()(scopes); !slices.Equal(got, scopes) {
			t.Errorf("access token scopes restricted: %v", got)
		}
	}
	if NewClient(ClientConfig{ID: "x"}).IsScopeAllowed("groups") {
		t.Error("no AllowScope allows a scope")
	}
}

func TestStorage(t *testing.T) {
	var s Storage
	ctx := context.Background()
	if algs, err := s.SignatureAlgorithms(ctx); err != nil || !slices.Equal(algs, []jose.SignatureAlgorithm{jose.RS256}) {
		t.Errorf("algorithms %v (%v)", algs, err)
	}
	if _, err := s.GetKeyByIDAndClientID(ctx, "k", "c"); !errors.Is(err, ErrNoClientKeys) {
		t.Errorf("client key: %v", err)
	}
	if _, err := s.ValidateJWTProfileScopes(ctx, "u", nil); !errors.Is(err, ErrNoClientKeys) {
		t.Errorf("jwt profile: %v", err)
	}
	if s.Health(ctx) != nil || s.SetUserinfoFromScopes(ctx, nil, "", "", nil) != nil {
		t.Error("health or userinfo-from-scopes fails")
	}
}

// TestAuthStorage: op's methods hand out prepared clones, and a failed
// lookup is a nil interface, not a typed nil.
func TestAuthStorage(t *testing.T) {
	ctx := context.Background()
	s, _, r := newTestRequests(t, time.Minute)
	if !r.prepared {
		t.Error("Add returned an unprepared request")
	}
	got, err := s.AuthRequestByID(ctx, r.GetID())
	if err != nil || !got.(*req).prepared {
		t.Fatalf("by id: %+v (%v), want a prepared clone", got, err)
	}
	if got.(*req) == r {
		t.Error("by id returned the stored request")
	}
	if got, err := s.AuthRequestByID(ctx, "nope"); got != nil || !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown id: %#v (%v), want nil and ErrUnknown", got, err)
	}
	if got, err := s.AuthRequestByCode(ctx, "nope"); got != nil || !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown code: %#v (%v), want nil and ErrUnknown", got, err)
	}
	if err := s.SaveAuthCode(ctx, r.GetID(), "c"); !errors.Is(err, ErrUnknown) {
		t.Errorf("code before sign-in: %v", err)
	}
	s.SignIn(r.GetID(), "alice")
	if err := s.SaveAuthCode(ctx, r.GetID(), "c"); err != nil {
		t.Fatal(err)
	}
	got, err = s.AuthRequestByCode(ctx, "c")
	if err != nil || !got.(*req).prepared || got.GetSubject() != "alice" {
		t.Fatalf("by code: %+v (%v)", got, err)
	}
	if err := s.DeleteAuthRequest(ctx, r.GetID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AuthRequestByID(ctx, r.GetID()); !errors.Is(err, ErrUnknown) {
		t.Errorf("deleted: %v", err)
	}
}
