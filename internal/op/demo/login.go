package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"html/template"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// loginHandler is the sign-in page op redirects to from the authorization
// endpoint (client.LoginURL). A successful POST marks the auth request done
// and sends the browser back to op's callback, which answers the client.
type loginHandler struct {
	storage  *storage
	callback func(ctx context.Context, authRequestID string) string
	issuer   string
}

type loginPage struct {
	StyleNonce string
	ID         string
	ClientID   string
	Username   string
	Error      string
	Accounts   []User
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · claimcheck demo provider</title>
<style nonce="{{.StyleNonce}}">
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f3f4f6;color:#111827}
main{max-width:22rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:.75rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{margin:0 0 .25rem;font-size:1.35rem}
p{margin:0 0 1rem;color:#4b5563;font-size:.9rem}
label{display:block;margin:.75rem 0 .25rem;font-weight:600;font-size:.9rem}
input[type=text],input[type=password]{box-sizing:border-box;width:100%;padding:.55rem .65rem;border:1px solid #d1d5db;border-radius:.4rem;font:inherit}
button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:.4rem;background:#1d4ed8;color:#fff;font:inherit;font-weight:600;cursor:pointer}
.error{padding:.6rem .75rem;border-radius:.4rem;background:#fee2e2;color:#991b1b}
.hint{margin-top:1.25rem;font-size:.8rem}
code{font-size:.85em;white-space:nowrap}
</style>
</head>
<body>
<main>
<h1>Sign in</h1>
{{if .ID}}<p>to <code>{{.ClientID}}</code> at the claimcheck demo provider</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label for="username">Username</label>
<input type="text" id="username" name="username" value="{{.Username}}" autocomplete="username" autocapitalize="none" spellcheck="false" required{{if not .Username}} autofocus{{end}}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required{{if .Username}} autofocus{{end}}>
<button type="submit">Sign in</button>
</form>
{{if .Accounts}}<p class="hint">Demo accounts (username / password):{{range $i, $a := .Accounts}}{{if $i}},{{end}} <code>{{$a.Username}}</code> / <code>{{$a.Password}}</code>{{end}}</p>{{end}}
{{else}}<p class="error" role="alert">{{.Error}}</p>{{end}}
</main>
</body>
</html>
`))

func (h *loginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		id := r.URL.Query().Get("id")
		clientID, hint, ok := h.storage.loginRequest(id)
		if !ok {
			h.expired(w)
			return
		}
		h.render(w, http.StatusOK, loginPage{ID: id, ClientID: clientID, Username: hint})
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		if err := r.ParseForm(); err != nil {
			h.render(w, http.StatusBadRequest, loginPage{Error: "The form could not be read."})
			return
		}
		id := r.PostForm.Get("id")
		username := r.PostForm.Get("username")
		clientID, _, ok := h.storage.loginRequest(id)
		if !ok {
			h.expired(w)
			return
		}
		u, ok := h.storage.checkPassword(username, r.PostForm.Get("password"))
		if !ok {
			// 401 lets a program driving the form tell a refusal from a new
			// form without reading the page.
			h.render(w, http.StatusUnauthorized, loginPage{
				ID: id, ClientID: clientID, Username: username,
				Error: "Wrong username or password.",
			})
			return
		}
		if !h.storage.completeLogin(id, u) {
			h.expired(w)
			return
		}
		ctx := op.ContextWithIssuer(r.Context(), h.issuer)
		http.Redirect(w, r, h.callback(ctx, id), http.StatusSeeOther)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *loginHandler) expired(w http.ResponseWriter) {
	h.render(w, http.StatusBadRequest, loginPage{
		Error: "This sign-in request is unknown, used or expired. Start again from the application.",
	})
}

func (h *loginHandler) render(w http.ResponseWriter, status int, page loginPage) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	page.StyleNonce = base64.RawStdEncoding.EncodeToString(nonce)
	if page.ID != "" {
		page.Accounts = h.storage.accounts
	}
	var buf bytes.Buffer
	if err := loginTemplate.Execute(&buf, page); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	// No form-action: browsers apply it to the redirects that follow the
	// POST, and those end at the client's loopback redirect URI, another
	// origin (and an IPv6 literal cannot even be written in a CSP source).
	hd.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'nonce-"+page.StyleNonce+"'; base-uri 'none'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}
