package harness

import "testing"

func TestBrowserCommand(t *testing.T) {
	p := &Provider{Name: "dex"}
	cmd, env := BrowserCommand("/tmp/bin/ccbrowser", p, Alice, "--wait-text", "it's done", "--consent", "cancel")
	want := `/tmp/bin/ccbrowser --user alice@example.com --password-env CCBROWSER_PASSWORD --wait-text 'it'\''s done' --consent cancel`
	if cmd != want {
		t.Errorf("command\n got %s\nwant %s", cmd, want)
	}
	if env != "CCBROWSER_PASSWORD="+Alice.Password {
		t.Errorf("env %q", env)
	}
	op := &Provider{Name: "oidc-provider"}
	if cmd, _ := BrowserCommand("ccbrowser", op, Bob); cmd != "ccbrowser --user bob --password-env CCBROWSER_PASSWORD" {
		t.Errorf("oidc-provider command %s", cmd)
	}
	if got := shellQuote(""); got != "''" {
		t.Errorf("shellQuote(\"\") = %s", got)
	}
}
