package standin

import (
	"net/url"
	"testing"
)

func TestParsePage(t *testing.T) {
	pageURL, _ := url.Parse("https://idp.example/signin/start?req=1")
	tests := []struct {
		name       string
		html       string
		wantAction string // resolved; "" means no password form
		wantValues url.Values
		wantAuto   bool
		wantSecret string
	}{
		{
			name: "first password form, decoys before it",
			html: `<html><head><script>var s = '<form action="/evil"><input type="password" name="p"></form>';</script></head><body>
<form action="/search"><input name="q" value="x"></form>
<textarea><form action="/evil2"><input type=password name=p></form></textarea>
<form method="POST" action="/signin/password">
  <input type="hidden" name="req" value="r-1">
  <input type="hidden" name="csrf" value="c&amp;1">
  <input type="text" name="display" value="shown">
  <input type="email" name="Email">
  <input type="password" name="pw">
  <input type="checkbox" name="remember" checked>
  <input type="checkbox" name="spam">
  <input type="text" name="off" value="v" disabled>
  <button type="button" name="help">?</button>
  <button name="action" value="signin">Sign in</button>
  <button name="action" value="cancel">Cancel</button>
</form></body></html>`,
			wantAction: "https://idp.example/signin/password",
			wantValues: url.Values{
				"req": {"r-1"}, "csrf": {"c&1"}, "display": {"shown"}, "Email": {"alice"},
				"pw": {"pw-1"}, "remember": {"on"}, "action": {"signin"},
			},
		},
		{
			name:       "relative action with a base",
			html:       `<base href="https://idp.example/app/"><form method=post action="login?x=1"><input name=login><input type=password name=password><input type=submit value=Go></form>`,
			wantAction: "https://idp.example/app/login?x=1",
			wantValues: url.Values{"login": {"alice"}, "password": {"pw-1"}},
		},
		{
			name:       "empty action is the page itself",
			html:       `<form method=post><input name=user><input type=password name=pass></form>`,
			wantAction: "https://idp.example/signin/start?req=1",
			wantValues: url.Values{"user": {"alice"}, "pass": {"pw-1"}},
		},
		{
			name:       "unknown username name falls back to the first text input",
			html:       `<form method=post action=/p><input name=loginfmt><input type=password name=passwd></form>`,
			wantAction: "https://idp.example/p",
			wantValues: url.Values{"loginfmt": {"alice"}, "passwd": {"pw-1"}},
		},
		{
			name:     "form_post page",
			html:     `<body onload="javascript:document.forms[0].submit()"><form method="post" action="http://127.0.0.1:8765/cb"><input type="hidden" name="state" value="s"/><input type="hidden" name="code" value="c" /><noscript><button type="submit">Continue</button></noscript></form></body>`,
			wantAuto: true,
		},
		{
			name: "a form to fill is not submitted by itself",
			html: `<form method=post action=/x><input type=hidden name=a value=b><input name=otp></form>`,
		},
		{
			name:       "relay page",
			html:       `<p id="status">…</p><script nonce="n" data-relay-secret="S3cr3t_-">(function(){})()</script>`,
			wantSecret: "S3cr3t_-",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parsePage([]byte(tt.html), pageURL)
			if p.relaySecret != tt.wantSecret {
				t.Errorf("relay secret %q, want %q", p.relaySecret, tt.wantSecret)
			}
			if got := p.autoForm() != nil && p.passwordForm() == nil; got != tt.wantAuto {
				t.Errorf("auto form: %v, want %v", got, tt.wantAuto)
			}
			f := p.passwordForm()
			if tt.wantAction == "" {
				if f != nil {
					t.Fatalf("found a password form with action %q", f.action)
				}
				return
			}
			if f == nil {
				t.Fatal("no password form found")
			}
			s := &session{b: &Browser{Username: "alice", Password: "pw-1"}}
			st, err := s.formStep(pageURL, p, f, f.values(true, "alice", "pw-1"))
			if err != nil {
				t.Fatal(err)
			}
			if st.u.String() != tt.wantAction || st.method != "POST" {
				t.Errorf("submits %s %s, want POST %s", st.method, st.u, tt.wantAction)
			}
			if st.form.Encode() != tt.wantValues.Encode() {
				t.Errorf("values\n%s\nwant\n%s", st.form.Encode(), tt.wantValues.Encode())
			}
			if st.origin != "https://idp.example" {
				t.Errorf("origin %q", st.origin)
			}
		})
	}
}

func TestFormStepGet(t *testing.T) {
	pageURL, _ := url.Parse("https://idp.example/consent#x")
	p := parsePage([]byte(`<form action="/continue?old=1"><input type=hidden name=id value=7><button>OK</button></form>`), pageURL)
	f := p.autoForm()
	if f == nil {
		t.Fatal("no auto form")
	}
	st, err := (&session{b: &Browser{}}).formStep(pageURL, p, f, f.values(false, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if st.method != "GET" || st.u.String() != "https://idp.example/continue?id=7" {
		t.Errorf("%s %s", st.method, st.u)
	}
	for _, bad := range []string{
		`<form method=post action="javascript:alert(1)"><input type=hidden name=a></form>`,
		`<form method=post enctype="multipart/form-data" action=/x><input type=hidden name=a></form>`,
	} {
		p := parsePage([]byte(bad), pageURL)
		if _, err := (&session{b: &Browser{}}).formStep(pageURL, p, p.autoForm(), nil); err == nil {
			t.Errorf("%s: submitted", bad)
		}
	}
}
