package check

import (
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

// TestResponseTypeAgainstMetadata: a response type the provider lists is
// sent as it is; one whose words it lists only one by one (Dex, configured
// as its documentation shows) is sent with a note; one with a word it lists
// nowhere is a usage error naming that word, before anything is sent.
func TestResponseTypeAgainstMetadata(t *testing.T) {
	dex := []string{"code", "token", "id_token"}
	tests := []struct {
		name      string
		supported []string
		rt        string
		note      string
		err       string
	}{
		{name: "listed", supported: []string{"code", "code id_token"}, rt: "code id_token"},
		{name: "listed in another order", supported: []string{"id_token code"}, rt: "code id_token"},
		{name: "Dex: the words one by one", supported: dex, rt: "id_token token",
			note: `response_type "id_token token" is not among the provider's response_types_supported (code, token, id_token), but each of its words is, so it was sent`},
		{name: "a word listed nowhere", supported: []string{"code"}, rt: "code id_token",
			err: `--response-type: the provider does not offer response_type "code id_token": "id_token" is in none of its response_types_supported (code)`},
		{name: "nothing advertised", rt: "code id_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			md := verify.Metadata{
				Issuer: "http://127.0.0.1:1", AuthorizationEndpoint: "http://127.0.0.1:1/authorize", TokenEndpoint: "http://127.0.0.1:1/token",
				ResponseTypesSupported: tt.supported,
			}
			c := Config{Issuer: md.Issuer, ClientID: "web", RedirectURI: "http://127.0.0.1:0/callback", Scopes: []string{"openid"}}
			_, note, err := flowConfig(c, md, tt.rt)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err || failure.ClassOf(err) != failure.Usage {
					t.Fatalf("error %v (%s), want usage error %q", err, failure.ClassOf(err), tt.err)
				}
				return
			}
			if err != nil || note != tt.note {
				t.Fatalf("note %q, error %v; want note %q", note, err, tt.note)
			}
			if strings.ContainsAny(note, "\n") {
				t.Errorf("multi-line note")
			}
		})
	}
}
