package check

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
)

// startEditedDemo starts the demo provider with its token endpoint's JSON
// answers passed through edit, so that a test can see what claimcheck makes
// of a real provider's response with one member changed.
func startEditedDemo(tb testing.TB, edit func(map[string]any)) *demo.Provider {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost || !strings.Contains(r.URL.Path, "token") {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body map[string]any
			if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
				for k, v := range rec.Header() {
					w.Header()[k] = v
				}
				w.WriteHeader(rec.Code)
				_, _ = w.Write(rec.Body.Bytes())
				return
			}
			edit(body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body)
		})
	}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.Close() })
	return p
}

// TestCodeFlowRequiresIDToken: OpenID Core 3.1.3.3 — the token response to
// an authentication request (openid in scope) carries an ID token.
func TestCodeFlowRequiresIDToken(t *testing.T) {
	p := startEditedDemo(t, func(body map[string]any) { delete(body, "id_token") })
	tests := []struct {
		name      string
		scopes    []string
		wantClass failure.Class
	}{
		{"openid asked: a verification failure", []string{"openid", "groups"}, failure.Verification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig(p, "alice")
			c.Scopes = tt.scopes
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := run(ctx, c)
			if got := r.Class(); got != tt.wantClass {
				t.Fatalf("class %q, want %q; error %+v; checks %+v", got, tt.wantClass, r.Error, r.Checks)
			}
			if tt.wantClass == failure.Verification && !strings.Contains(r.Error.Message, "no id_token") {
				t.Errorf("error %q does not say the ID token is missing", r.Error.Message)
			}
			if _, ok := r.Tokens[report.IDToken]; ok {
				t.Errorf("an ID token is reported though none came: %+v", r.Tokens[report.IDToken])
			}
		})
	}
}

// TestRejectedTokenClaimsUnverified: what a rejected token says is kept
// apart from verified claims, so that .claims.groups cannot mislead.
func TestRejectedTokenClaimsUnverified(t *testing.T) {
	c, run := aliceTokens(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	id := run.Tokens[report.IDToken].Raw
	tests := []struct {
		name     string
		token    string
		verified bool
	}{
		{"verified", id, true},
		{"tampered signature", id[:len(id)-4] + "AAAA", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vc := c
			vc.ShowTokens = false
			r := verifyTokens(ctx, vc, report.IDToken, []string{tt.token})
			tok := r.Tokens[report.IDToken]
			if tok == nil || tok.Verified != tt.verified {
				t.Fatalf("token %+v", tok)
			}
			if tt.verified && (tok.Claims["groups"] == nil || tok.UnverifiedClaims != nil) {
				t.Errorf("verified token: claims %v, unverified %v", tok.Claims, tok.UnverifiedClaims)
			}
			if !tt.verified && (tok.Claims != nil || tok.UnverifiedClaims["groups"] == nil || tok.Error == "") {
				t.Errorf("rejected token: claims %v, unverified %v, error %q", tok.Claims, tok.UnverifiedClaims, tok.Error)
			}
		})
	}
}

// TestMaxAge: a max_age sent with --param makes auth_time required and
// checked (OpenID Core 3.1.3.7 item 13).
func TestMaxAge(t *testing.T) {
	p := startDemo(t)
	tests := []struct {
		name      string
		maxAge    string
		wantClass failure.Class
	}{
		{"recent sign-in", "300", ""},
		{"not a number", "soon", failure.Usage},
		{"negative", "-1", failure.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig(p, "alice")
			c.ExtraParams = url.Values{"max_age": {tt.maxAge}}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := run(ctx, c)
			if got := r.Class(); got != tt.wantClass {
				t.Fatalf("class %q, want %q; error %+v; checks %+v", got, tt.wantClass, r.Error, r.Checks)
			}
			if tt.wantClass == "" && r.Tokens[report.IDToken].Claims["auth_time"] == nil {
				t.Error("the ID token has no auth_time, yet passed")
			}
		})
	}
}

// TestBadSignatureMessage: a bad signature reads the same for every kind
// of token, in claimcheck's words, not go-oidc's.
func TestBadSignatureMessage(t *testing.T) {
	c, run := aliceTokens(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, kind := range []string{report.IDToken, report.AccessToken} {
		t.Run(kind, func(t *testing.T) {
			raw := run.Tokens[kind].Raw
			r := verifyTokens(ctx, c, kind, []string{raw[:len(raw)-6] + "AAAAAA"})
			if r.Class() != failure.Verification {
				t.Fatalf("class %q: %+v", r.Class(), r.Error)
			}
			msg := r.Error.Message
			if !strings.Contains(msg, "signature does not verify with key") || strings.Contains(msg, "failed to verify") {
				t.Errorf("message %q", msg)
			}
		})
	}
}
