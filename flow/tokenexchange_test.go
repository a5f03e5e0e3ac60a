package flow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

func TestParseTokenType(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"access_token", TokenTypeAccessToken, false},
		{" id_token ", TokenTypeIDToken, false},
		{"refresh_token", TokenTypeRefreshToken, false},
		{"jwt", TokenTypeJWT, false},
		{"saml2", TokenTypeSAML2, false},
		{TokenTypeAccessToken, TokenTypeAccessToken, false},
		{"https://tokens.example/type/custom", "https://tokens.example/type/custom", false},
		{"", "", true},
		{"bogus", "", true},
		{"access token", "", true},
		{"urn:", "", true},
		{"urn:a b", "", true},
		{"/relative", "", true},
	}
	for _, tt := range tests {
		got, err := ParseTokenType("--subject-token-type", tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTokenType(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && failure.ClassOf(err) != failure.Usage {
			t.Errorf("ParseTokenType(%q): class %v, want usage", tt.in, failure.ClassOf(err))
		}
	}
}

// FuzzParseTokenType: whatever is given, the answer is a token type URI
// or a one-line usage error.
func FuzzParseTokenType(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTokenType("--subject-token-type", s)
		if err != nil {
			checkVerdictMessage(t, err)
			return
		}
		if u, perr := url.Parse(got); perr != nil || u.Scheme == "" || strings.ContainsAny(got, " \t\r\n") {
			t.Fatalf("ParseTokenType(%q) = %q, not a URI", s, got)
		}
	})
}

// TestExchangeTokenRequest: the form of RFC 8693 §2.1, one request, and a
// response read as §2.2.1 has it.
func TestExchangeTokenRequest(t *testing.T) {
	var got url.Values
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		b, _ := io.ReadAll(r.Body)
		got, _ = url.ParseQuery(string(b))
		w.Header().Set("Content-Type", "application/json")
		switch got.Get("subject_token") {
		case "echo-subject-token-0123456789":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":"invalid_request","error_description":"bad token %s"}`, got.Get("subject_token"))
		default:
			fmt.Fprint(w, `{"access_token":"issued","issued_token_type":"urn:ietf:params:oauth:token-type:access_token","token_type":"Bearer","expires_in":60}`)
		}
	}))
	defer srv.Close()
	c := Config{Issuer: srv.URL, TokenEndpoint: srv.URL + "/token", ClientID: "c", ClientSecret: "s", Scopes: []string{"api"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second}}
	x := TokenExchange{SubjectToken: "subject-token-0123456789", SubjectTokenType: TokenTypeAccessToken,
		ActorToken: "actor-token-0123456789", ActorTokenType: TokenTypeJWT, RequestedTokenType: TokenTypeIDToken,
		Audiences: []string{"a", "b"}, Resources: []string{"https://api.example/"}}
	tok, err := ExchangeToken(context.Background(), c, x)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type": {TokenExchangeGrantType}, "subject_token": {x.SubjectToken}, "subject_token_type": {TokenTypeAccessToken},
		"actor_token": {x.ActorToken}, "actor_token_type": {TokenTypeJWT}, "requested_token_type": {TokenTypeIDToken},
		"audience": {"a", "b"}, "resource": {"https://api.example/"}, "scope": {"api"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || n != 1 {
		t.Errorf("%d requests, form %v; want one with %v", n, got, want)
	}
	if tok.AccessToken != "issued" || tok.IssuedTokenType != TokenTypeAccessToken || tok.TokenType != "Bearer" {
		t.Errorf("tokens %+v", tok)
	}

	x.SubjectToken = "echo-subject-token-0123456789"
	_, err = ExchangeToken(context.Background(), c, x)
	if failure.ClassOf(err) != failure.Flow || !strings.Contains(err.Error(), "invalid_request") || strings.Contains(err.Error(), x.SubjectToken) {
		t.Errorf("error %v: want a flow error without the subject token", err)
	}
}
