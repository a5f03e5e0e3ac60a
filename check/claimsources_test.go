package check

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// TestClaimSources runs the code flow against the demo provider for users
// whose groups are distributed or aggregated claims (OpenID Connect Core
// 5.6.2), good and hostile.
func TestClaimSources(t *testing.T) {
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>sign in</body></html>"))
	}))
	t.Cleanup(html.Close)
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(block) })
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL + "/claims"
	down.Close()

	groups := []string{"Everyone", "IT"}
	extra := []demo.User{
		{Username: "frank", Password: "frank-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceAggregated, Break: "issuer"}},
		{Username: "gina", Password: "gina-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceAggregated, Break: "expired"}},
		{Username: "hank", Password: "hank-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, Endpoint: downURL}},
		{Username: "ivy", Password: "ivy-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, Endpoint: html.URL}},
		{Username: "jack", Password: "jack-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, Endpoint: slow.URL}},
		{Username: "lou", Password: "lou-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, Endpoint: "https://graph.microsoft.com/v1.0/me/getMemberObjects"}},
		{Username: "kim", Password: "kim-demo", Groups: groups, ClaimSource: &demo.ClaimSource{Kind: demo.SourceDistributed, JWT: true}},
	}
	users := append(demo.DefaultUsers(), demo.ClaimSourceUsers()...)
	users = append(users, extra...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Users: users})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })

	tests := []struct {
		user      string
		wantClass failure.Class
		// found is the detail of the check of group IT when it passes;
		// source the detail fragment of the check of the claim source.
		found, source string
	}{
		{"carol", "", "found in id_token → aggregated src1", "aggregated claims signed by " + p.Issuer()},
		{"dave", "", "found in id_token → distributed src1", "unsigned JSON from the issuer's own origin"},
		{"kim", "", "found in id_token → distributed src1", "signed by " + p.Issuer()},
		{"erin", failure.Verification, "", "signature"},
		{"frank", failure.Verification, "", "neither the issuer"},
		{"gina", failure.Verification, "", "expired"},
		{"hank", failure.Provider, "", "connection refused"},
		{"ivy", failure.Provider, "", "HTML"},
		{"jack", failure.Provider, "", "timed out"},
		// Never sent to Graph unless asked: the source is skipped (its
		// check passes, saying so) and the group is missing.
		{"lou", failure.Expectation, "", "not asked: its endpoint https://graph.microsoft.com/v1.0/me/getMemberObjects is Microsoft Graph"},
	}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			jar, _ := cookiejar.New(nil)
			c := Config{
				Issuer: p.Issuer(), ClientID: demo.PublicClientID,
				RedirectURI: "http://127.0.0.1:0/callback",
				Scopes:      []string{"openid", "groups"},
				Expect:      verify.Expectations{ExpectGroups: []string{"IT"}},
				ClockSkew:   time.Minute, HTTPClient: &http.Client{Timeout: 2 * time.Second},
				Timeout: 20 * time.Second,
				Opener:  &standin.Browser{Client: &http.Client{Jar: jar, Timeout: 10 * time.Second}, Username: tt.user, Password: tt.user + "-demo"},
			}
			start := time.Now()
			r, err := Run(ctx, c)
			if got := failure.ClassOf(err); got != tt.wantClass {
				t.Fatalf("class %q, want %q (err %v; checks %+v)", got, tt.wantClass, err, r.Checks)
			}
			if d := time.Since(start); d > 8*time.Second {
				t.Errorf("run took %s", d)
			}
			var src, group *verify.Check
			for i, ch := range r.Checks {
				switch ch.Name {
				case "id_token claim source src1":
					src = &r.Checks[i]
				case "group IT":
					group = &r.Checks[i]
				}
			}
			srcOK := tt.wantClass == "" || tt.wantClass == failure.Expectation
			if src == nil || src.OK != srcOK || !strings.Contains(src.Detail, tt.source) {
				t.Fatalf("source check %+v, want ok %v with %q", src, srcOK, tt.source)
			}
			if tt.found != "" && (group == nil || !group.OK || group.Detail != tt.found || group.Source != "id_token") {
				t.Errorf("group check %+v, want %q", group, tt.found)
			}
			if tt.wantClass != "" && (group == nil || group.OK) {
				t.Errorf("group check %+v, want failed", group)
			}
			// The source's access token is in the ID token's claims,
			// and never in the report.
			out, _ := json.Marshal(r)
			if tok := r.Tokens["id_token"]; tok != nil && tok.Claims != nil {
				srcs, _ := tok.Claims["_claim_sources"].(map[string]any)
				s1, _ := srcs["src1"].(map[string]any)
				if at, ok := s1["access_token"].(string); ok && !strings.HasPrefix(at, "[redacted") {
					t.Errorf("source access token %q in the report", at)
				}
			}
			if strings.Contains(string(out), "Admins") && tt.user != "erin" {
				t.Errorf("report has Admins: %s", out)
			}
		})
	}
}

// TestClaimSourcesTokenFlag: an unknown --claims-source-token value is a
// usage error before anything is sent.
func TestClaimSourcesTokenFlag(t *testing.T) {
	c := Config{Issuer: "http://127.0.0.1:1", ClientID: "x", RedirectURI: "http://127.0.0.1:0/callback",
		Scopes: []string{"openid"}, ClaimSources: ClaimSources{Token: "mine"}}
	_, err := Run(context.Background(), c)
	if failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "claims-source-token") {
		t.Fatalf("err %v, want usage error", err)
	}
}
