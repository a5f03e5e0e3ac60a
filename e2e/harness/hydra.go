package harness

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// HydraOptions configures [StartHydra].
type HydraOptions struct {
	// RedirectURIs registered for every client (matched exactly, port
	// included). Required.
	RedirectURIs []string
	// ClientJWK, when set, is the public key (see WriteClientKey) of
	// JWTClient, which is registered only then (private_key_jwt).
	ClientJWK map[string]string
}

// HydraClients are the clients StartHydra registers (JWTClient too, with
// HydraOptions.ClientJWK).
var HydraClients = []Client{PublicClient, BasicClient, PostClient}

// hydraResponseTypes are registered for every client: Hydra (fosite)
// refuses a response type the client is not registered for, and matches
// the words in any order.
var hydraResponseTypes = []string{"code", "id_token", "token", "id_token token", "code id_token", "code token", "code id_token token"}

// hydraScopes are the scopes every client may ask for; Hydra refuses
// others (invalid_scope) with its default wildcard scope strategy.
const hydraScopes = "openid offline_access offline email profile groups"

// StartHydra starts Ory Hydra (built from e2e/tools/hydra, see
// [HydraBinary]) with `serve all --dev` on two free loopback ports (public
// and admin), a SQLite database in the test's temp dir, the issuer http://127.0.0.1:PORT/ and JWT
// access tokens, with the harness's login and consent app (see
// [hydraLoginApp]) in front of the test users. The clients of
// HydraClients are registered through the admin API. It returns once
// discovery answers, and stops Hydra when the test ends.
func StartHydra(t testing.TB, opts HydraOptions) *Provider {
	t.Helper()
	if len(opts.RedirectURIs) == 0 {
		t.Fatal("StartHydra: no RedirectURIs")
	}
	bin := HydraBinary(t)
	dir := t.TempDir()
	dsn, err := hydraMigrate(bin, dir)
	if err != nil {
		t.Fatalf("hydra: %v", err)
	}
	app := startHydraLoginApp(t)
	for attempt := 1; ; attempt++ {
		p, err := startHydraOnce(t, bin, dir, dsn, attempt, app, opts)
		if err == nil {
			return p
		}
		if errors.Is(err, errStartRetry) && attempt < 3 {
			t.Logf("hydra: %v", err)
			continue
		}
		t.Fatalf("hydra: %v", err)
	}
}

// hydraMigrate creates Hydra's database, a SQLite file in dir, and
// returns its DSN.
//
// Not Hydra's "dsn: memory": that is a shared-cache in-memory SQLite
// database, whose table locks are not waited for, so requests at once fail
// (a 500 at the token endpoint, an error=error redirect with "The error is
// unrecognizable"; Hydra logs "Unable to serialize access due to a
// concurrent update in another session"), which the parallel cells did in
// most runs of the matrix. A file in WAL mode with a busy timeout waits
// for the lock instead, except where a transaction that has read must
// write after another wrote: two token requests at once (see
// [hydraFrontend]). Write transactions that lock when they begin
// (_txlock=immediate) deadlock Hydra, which uses a second connection
// inside a transaction. Unlike memory, a file is not migrated by serve.
func hydraMigrate(bin, dir string) (string, error) {
	dsn := "sqlite://" + filepath.Join(dir, "hydra.sqlite") + "?_fk=true&_journal_mode=WAL&_busy_timeout=10000"
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "migrate", "sql", "up", "--yes", dsn)
	cmd.Env = hydraEnv(dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("hydra migrate sql up: %v\n%s", err, out)
	}
	return dsn, nil
}

// hydraEnv is Hydra's whole environment. Hydra reads its configuration
// from the environment too (DSN, URLS_SELF_ISSUER, ...): a developer's
// settings must not leak in.
func hydraEnv(dir string) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "SQA_OPT_OUT=true"}
}

func startHydraOnce(t testing.TB, bin, dir, dsn string, attempt int, app *hydraLoginApp, opts HydraOptions) (*Provider, error) {
	port, publicPort, adminPort := FreePort(t), FreePort(t), FreePort(t)
	issuer := fmt.Sprintf("http://127.0.0.1:%d/", port)
	admin := fmt.Sprintf("http://127.0.0.1:%d", adminPort)
	front, err := startHydraFrontend(port, publicPort, &app.gate)
	if err != nil {
		return nil, fmt.Errorf("%w: port %d: %v", errStartRetry, port, err)
	}
	config, err := HydraConfig(issuer, dsn, publicPort, adminPort, app.url)
	if err != nil {
		front.Close()
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(dir, fmt.Sprintf("hydra-config-%d.json", attempt))
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		front.Close()
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("hydra-%d.log", attempt))
	cmd := exec.Command(bin, "serve", "all", "--dev", "--sqa-opt-out", "--config", configPath)
	cmd.Env = hydraEnv(dir)
	proc := startProcess(t, "hydra", logPath, cmd, false)
	t.Cleanup(front.Close)
	fail := func(err error) (*Provider, error) {
		proc.stop()
		front.Close()
		if errAddrInUse(logPath) {
			return nil, fmt.Errorf("%w: port %d or %d: %v", errStartRetry, publicPort, adminPort, err)
		}
		return nil, fmt.Errorf("%v (its log follows)", err)
	}
	if err := waitDiscovery(proc, issuer, nil); err != nil {
		return fail(err)
	}
	app.setAdmin(admin)
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	clients := append([]Client{}, HydraClients...)
	if opts.ClientJWK != nil {
		clients = append(clients, JWTClient)
	}
	for _, c := range clients {
		if err := hydraCreateClient(ctx, admin, c, opts); err != nil {
			return fail(err)
		}
	}
	return &Provider{Name: "hydra", Issuer: issuer, Port: port, Admin: admin, Log: logPath, proc: proc}, nil
}

// hydraFrontend is the issuer's listener: a reverse proxy to Hydra's public
// API that lets one request that may write to Hydra's database through at a
// time (everything but /.well-known/), the login and consent app's admin
// calls included (they hold the same lock). Hydra on SQLite answers
// requests at once with a 500 or a timeout at the token endpoint ("Unable
// to serialize access due to a concurrent update") about one matrix run in
// two, even with only token requests serialised: its token handler reads
// the code and then writes in one transaction, which SQLite cannot let
// two connections do while a third writes. Hydra is built for PostgreSQL,
// MySQL or CockroachDB in production, which the machine has not. Each
// request takes milliseconds, so the cells still run in parallel.
type hydraFrontend struct {
	srv *http.Server
}

func startHydraFrontend(port, publicPort int, gate *sync.Mutex) (*hydraFrontend, error) {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, err
	}
	target := &url.URL{Scheme: "http", Host: fmt.Sprintf("127.0.0.1:%d", publicPort)}
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/.well-known/") {
			gate.Lock()
			defer gate.Unlock()
		}
		proxy.ServeHTTP(w, r)
	})
	f := &hydraFrontend{srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	go f.srv.Serve(l)
	return f, nil
}

// Close stops the listener and its connections.
func (f *hydraFrontend) Close() { f.srv.Close() }

// HydraConfig returns Hydra's configuration (JSON, which Hydra reads as
// YAML) for the issuer, its database dsn, its public API on port and its
// admin API on adminPort, with the login and consent app at loginApp.
func HydraConfig(issuer, dsn string, port, adminPort int, loginApp string) ([]byte, error) {
	config := map[string]any{
		"dsn": dsn,
		"serve": map[string]any{
			"public": map[string]any{"host": "127.0.0.1", "port": port},
			"admin":  map[string]any{"host": "127.0.0.1", "port": adminPort},
		},
		"urls": map[string]any{
			"self":    map[string]any{"issuer": issuer},
			"login":   loginApp + "/login",
			"consent": loginApp + "/consent",
			"error":   loginApp + "/error",
		},
		// Only a test key: the database is removed with the test.
		"secrets":    map[string]any{"system": []string{"claimcheck-e2e-hydra-system-secret"}},
		"strategies": map[string]any{"access_token": "jwt"},
		"oauth2": map[string]any{
			// The consent app puts groups into the access token's session;
			// without this Hydra nests them under "ext".
			"allowed_top_level_claims": []string{"groups"},
			"mirror_top_level_claims":  false,
			"pkce":                     map[string]any{"enforced_for_public_clients": true},
		},
		"oidc": map[string]any{
			"subject_identifiers": map[string]any{"supported_types": []string{"public"}},
		},
		"webfinger": map[string]any{
			"oidc_discovery": map[string]any{
				"supported_scope":  []string{"email", "profile", "groups"},
				"supported_claims": []string{"email", "email_verified", "name", "preferred_username", "groups"},
			},
		},
		"sqa": map[string]any{"opt_out": true},
		"log": map[string]any{"level": "debug", "format": "text", "leak_sensitive_values": false},
	}
	return json.MarshalIndent(config, "", "  ")
}

// hydraCreateClient registers c through Hydra's admin API (POST
// /admin/clients).
func hydraCreateClient(ctx context.Context, admin string, c Client, opts HydraOptions) error {
	m := map[string]any{
		"client_id":                  c.ID,
		"client_name":                "claimcheck e2e " + c.ID,
		"redirect_uris":              opts.RedirectURIs,
		"response_types":             hydraResponseTypes,
		"grant_types":                []string{"authorization_code", "implicit", "refresh_token"},
		"scope":                      hydraScopes,
		"token_endpoint_auth_method": c.AuthMethod,
		// The audiences the client may ask for (the authorization
		// request's audience parameter); the consent app grants what was
		// asked.
		"audience": []string{APIResource},
	}
	if c.Secret != "" {
		m["client_secret"] = c.Secret
		m["grant_types"] = []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}
	}
	if c.AuthMethod == "private_key_jwt" {
		m["jwks"] = map[string]any{"keys": []any{opts.ClientJWK}}
		m["token_endpoint_auth_signing_alg"] = "RS256"
	}
	var created struct {
		ClientID string `json:"client_id"`
	}
	if err := hydraAdmin(ctx, http.MethodPost, admin+"/admin/clients", m, &created); err != nil {
		return fmt.Errorf("registering the client %s: %w", c.ID, err)
	}
	if created.ClientID != c.ID {
		return fmt.Errorf("registering the client %s: Hydra answered client_id %q", c.ID, created.ClientID)
	}
	return nil
}

// hydraAdminClient is the HTTP client of every admin API call: loopback,
// so a short timeout.
var hydraAdminClient = &http.Client{Timeout: 10 * time.Second}

// hydraAdmin sends a JSON request to Hydra's admin API and decodes a 2xx
// answer into out.
func hydraAdmin(ctx context.Context, method, u string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hydraAdminClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, u, resp.Status, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: %v", method, u, err)
	}
	return nil
}

// hydraLoginApp is the login and consent app Hydra sends the browser to
// (Hydra has no sign-in pages of its own): its pages have the shape of
// oidc-provider's development pages (hidden prompt=login with login and
// password fields; prompt=consent with a submit button and an abort link),
// which ccbrowser already fills, and it answers Hydra's login and consent
// challenges through the admin API.
type hydraLoginApp struct {
	url string

	mu    sync.Mutex
	admin string // Hydra's admin API, once Hydra is up
	// gate is held by every call to Hydra that may write (see
	// [hydraFrontend]).
	gate sync.Mutex
}

func startHydraLoginApp(t testing.TB) *hydraLoginApp {
	t.Helper()
	app := &hydraLoginApp{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", app.login)
	mux.HandleFunc("POST /login", app.loginSubmit)
	mux.HandleFunc("GET /consent", app.consent)
	mux.HandleFunc("POST /consent", app.consentSubmit)
	// The challenge is in the path: ccbrowser cancels by following the
	// link whose href ends in /abort, as at oidc-provider.
	mux.HandleFunc("GET /consent/{challenge}/abort", app.consentAbort)
	mux.HandleFunc("GET /error", app.error)
	srv := httptest.NewUnstartedServer(mux)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hydra login app: %v", err)
	}
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	app.url = srv.URL
	return app
}

func (a *hydraLoginApp) setAdmin(admin string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.admin = admin
}

func (a *hydraLoginApp) adminURL() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.admin
}

var hydraPages = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><title>Sign-in</title></head><body>
<h1>Sign-in</h1>
{{if .Error}}<p id="login-error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="prompt" value="login">
<input type="hidden" name="login_challenge" value="{{.Challenge}}">
<input name="login" placeholder="login" autofocus>
<input name="password" type="password" placeholder="password">
<button type="submit">Sign-in</button>
</form></body></html>
{{define "consent"}}<!doctype html>
<html><head><title>Consent</title></head><body>
<h1>Authorize {{.Client}}</h1>
<p>{{.Subject}} is asked for: {{range .Scopes}}<code>{{.}}</code> {{end}}</p>
<form method="post" action="/consent">
<input type="hidden" name="prompt" value="consent">
<input type="hidden" name="consent_challenge" value="{{.Challenge}}">
<button type="submit">Continue</button>
</form>
<a href="/consent/{{.Challenge}}/abort">[ Cancel ]</a>
</body></html>{{end}}
{{define "error"}}<!doctype html>
<html><head><title>oops! something went wrong</title></head><body>
<div id="provider-error"><h1>{{.Error}}</h1><p>{{.Description}}</p></div>
</body></html>{{end}}`))

// hydraRequest is the part of a login or consent request (GET
// /admin/oauth2/auth/requests/{login,consent}) the app reads.
type hydraRequest struct {
	Skip                         bool     `json:"skip"`
	Subject                      string   `json:"subject"`
	RequestedScope               []string `json:"requested_scope"`
	RequestedAccessTokenAudience []string `json:"requested_access_token_audience"`
	Client                       struct {
		ClientID string `json:"client_id"`
	} `json:"client"`
}

// hydraRedirect is Hydra's answer to an accept or reject.
type hydraRedirect struct {
	RedirectTo string `json:"redirect_to"`
}

func (a *hydraLoginApp) fail(w http.ResponseWriter, err error) {
	http.Error(w, "hydra login app: "+err.Error(), http.StatusBadGateway)
}

func (a *hydraLoginApp) request(r *http.Request, kind, challenge string) (hydraRequest, error) {
	a.gate.Lock()
	defer a.gate.Unlock()
	var req hydraRequest
	u := a.adminURL() + "/admin/oauth2/auth/requests/" + kind + "?" + url.Values{kind + "_challenge": {challenge}}.Encode()
	err := hydraAdmin(r.Context(), http.MethodGet, u, nil, &req)
	return req, err
}

// answer sends an accept (or reject) of a challenge and redirects the
// browser to where Hydra says.
func (a *hydraLoginApp) answer(w http.ResponseWriter, r *http.Request, kind, verb, challenge string, body any) {
	a.gate.Lock()
	defer a.gate.Unlock()
	var to hydraRedirect
	u := a.adminURL() + "/admin/oauth2/auth/requests/" + kind + "/" + verb + "?" + url.Values{kind + "_challenge": {challenge}}.Encode()
	if err := hydraAdmin(r.Context(), http.MethodPut, u, body, &to); err != nil {
		a.fail(w, err)
		return
	}
	http.Redirect(w, r, to.RedirectTo, http.StatusFound)
}

func (a *hydraLoginApp) login(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("login_challenge")
	req, err := a.request(r, "login", challenge)
	if err != nil {
		a.fail(w, err)
		return
	}
	if req.Skip {
		// Hydra already knows the user (its session cookie): it must
		// not be asked again, and the subject must stay the same.
		a.answer(w, r, "login", "accept", challenge, map[string]any{"subject": req.Subject})
		return
	}
	a.render(w, "login", map[string]string{"Challenge": challenge})
}

func (a *hydraLoginApp) render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := hydraPages.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// hydraUser returns the test user with login, or false.
func hydraUser(login string) (User, bool) {
	i := slices.IndexFunc(Users, func(u User) bool { return u.Login == login })
	if i < 0 {
		return User{}, false
	}
	return Users[i], true
}

func (a *hydraLoginApp) loginSubmit(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("login_challenge")
	u, ok := hydraUser(r.PostFormValue("login"))
	if !ok || r.PostFormValue("password") != u.Password {
		a.render(w, "login", map[string]string{"Challenge": challenge, "Error": "Invalid login or password."})
		return
	}
	a.answer(w, r, "login", "accept", challenge, map[string]any{"subject": u.Login, "remember": false})
}

func (a *hydraLoginApp) consent(w http.ResponseWriter, r *http.Request) {
	challenge := r.URL.Query().Get("consent_challenge")
	req, err := a.request(r, "consent", challenge)
	if err != nil {
		a.fail(w, err)
		return
	}
	if req.Skip {
		a.acceptConsent(w, r, challenge, req)
		return
	}
	a.render(w, "consent", map[string]any{"Challenge": challenge, "Client": req.Client.ClientID, "Subject": req.Subject, "Scopes": req.RequestedScope})
}

func (a *hydraLoginApp) consentSubmit(w http.ResponseWriter, r *http.Request) {
	challenge := r.PostFormValue("consent_challenge")
	req, err := a.request(r, "consent", challenge)
	if err != nil {
		a.fail(w, err)
		return
	}
	a.acceptConsent(w, r, challenge, req)
}

// acceptConsent grants what was asked and puts the user's claims, by
// scope, into the session: Hydra copies session.id_token into the ID token
// and the userinfo answer, and session.access_token into the access token
// (top level for the claims of oauth2.allowed_top_level_claims).
func (a *hydraLoginApp) acceptConsent(w http.ResponseWriter, r *http.Request, challenge string, req hydraRequest) {
	u, ok := hydraUser(req.Subject)
	if !ok {
		a.fail(w, fmt.Errorf("consent for an unknown subject %q", req.Subject))
		return
	}
	idToken, accessToken := map[string]any{}, map[string]any{}
	for _, s := range req.RequestedScope {
		switch s {
		case "email":
			idToken["email"] = u.Email
			idToken["email_verified"] = true
		case "profile":
			idToken["name"] = u.Name
			idToken["preferred_username"] = u.Login
		case "groups":
			idToken["groups"] = u.Groups
			accessToken["groups"] = u.Groups
		}
	}
	a.answer(w, r, "consent", "accept", challenge, map[string]any{
		"grant_scope":                 req.RequestedScope,
		"grant_access_token_audience": req.RequestedAccessTokenAudience,
		"remember":                    false,
		"session":                     map[string]any{"id_token": idToken, "access_token": accessToken},
	})
}

func (a *hydraLoginApp) consentAbort(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, "consent", "reject", r.PathValue("challenge"), map[string]any{
		"error":             "access_denied",
		"error_description": "The resource owner denied the request",
	})
}

// error is Hydra's urls.error: where it sends the browser when it cannot
// redirect to the client (an unknown client, a redirect URI not
// registered).
func (a *hydraLoginApp) error(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.render(w, "error", map[string]string{"Error": q.Get("error"), "Description": strings.TrimSpace(q.Get("error_description") + " " + q.Get("error_hint"))})
}
