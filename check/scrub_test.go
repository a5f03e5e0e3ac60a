package check

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// TestRunScrubber: whatever part of a report a provider's text reaches
// (the error, a check, a note, a token's error, note or claims), the
// secrets the run sent are not in the text or JSON report, and the
// warnings printed during the run do not carry them either (issue 11,
// item 3). Raw tokens, shown only with --show-tokens, are left as they are.
func TestRunScrubber(t *testing.T) {
	const (
		secret   = "run-client-secret-value"
		password = "run-password-value"
		refresh  = "run-refresh-token-value"
		device   = "run-device-code-value"
	)
	var warned []string
	c := Config{
		ClientID: "cli", ClientSecret: secret, ShowTokens: true,
		Grant: Grant{Password: password, RefreshToken: refresh,
			DeviceShow: func(context.Context, *flow.DeviceAuthorization) error { return nil }},
		OnIgnored: func(err error) { warned = append(warned, err.Error()) },
	}.withScrubber()
	if err := c.Grant.DeviceShow(context.Background(), &flow.DeviceAuthorization{DeviceCode: device}); err != nil {
		t.Fatal(err)
	}
	c.OnIgnored(errors.New("ignored a response echoing " + password))

	echo := "echo " + secret + " " + password + " " + refresh + " " + device
	r := report.New("https://issuer.example", "password")
	r.AddCheck(verify.Check{Name: "x", Source: report.IDToken, Detail: echo})
	r.Notes = append(r.Notes, echo)
	r.Tokens[report.IDToken] = &report.Token{Error: echo, Note: echo, Raw: "raw." + refresh + ".token",
		UnverifiedClaims: map[string]any{"echo": echo, "nested": []any{map[string]any{"deep": echo}}}}
	finish(r, failure.New(failure.Flow, "token endpoint", "error_description=%q", echo), c)

	var text, js bytes.Buffer
	if err := r.WriteText(&text, report.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	shown := text.String() + js.String() + strings.Join(warned, "\n")
	shown = strings.ReplaceAll(shown, "raw."+refresh+".token", "") // the raw token, asked for
	for _, s := range []string{secret, password, refresh, device} {
		if strings.Contains(shown, s) {
			t.Errorf("%q is shown:\n%s", s, shown)
		}
	}
	for _, m := range []string{"[redacted client secret]", "[redacted password]", "[redacted refresh token]", "[redacted device code]"} {
		if !strings.Contains(r.Error.Message, m) || !strings.Contains(js.String(), m) {
			t.Errorf("%s not in the error or the JSON report: %s", m, r.Error.Message)
		}
	}
	if r.Error.Class != failure.Flow || r.Tokens[report.IDToken].Raw != "raw."+refresh+".token" {
		t.Errorf("class %s, raw %q: the class and the raw token must stay", r.Error.Class, r.Tokens[report.IDToken].Raw)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "[redacted password]") {
		t.Errorf("warnings %q", warned)
	}
}
