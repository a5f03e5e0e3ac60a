package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DexResponseTypes are the response types the harness enables at Dex: all
// that Dex 2.45 knows. Dex checks each word of a response_type against this
// list, so "id_token token" needs "token" listed; Dex then advertises "token"
// but refuses it alone at the authorization endpoint (an error redirect:
// "Response type 'token' must be provided with type 'id_token' and/or
// 'code'"). Dex ignores response_mode: code answers in the query, everything
// else in the fragment, and form_post is never used. Dex sends no iss
// parameter (RFC 9207).
var DexResponseTypes = []string{
	"code",
	"id_token",
	"token",
	"id_token token",
	"code id_token",
	"code token",
	"code id_token token",
}

// DexOptions configures [StartDex].
type DexOptions struct {
	// ResponseTypes replaces DexResponseTypes, e.g. with the list Dex's
	// documentation shows (code, token, id_token: words, not combinations).
	ResponseTypes []string
	// RedirectURIs registered for every client (matched exactly, port
	// included). Required.
	RedirectURIs []string
	// SkipApprovalScreen leaves out Dex's "Grant Access" page.
	SkipApprovalScreen bool
	// PasswordGrant enables the resource owner password grant against the
	// static passwords (oauth2.passwordConnector: local); the username is
	// the e-mail.
	PasswordGrant bool
	// DeviceFlow registers Dex's device flow callback (DexDeviceCallback)
	// as a redirect URI of [PublicClient], which the device authorization
	// grant (RFC 8628) needs: Dex's verification page sends the browser
	// through its own authorization endpoint with that redirect URI, and a
	// client with registered redirect URIs gets no other.
	DeviceFlow bool
	// DeviceRequestsValidFor is the lifetime of a device code and its user
	// code (Dex's expiry.deviceRequests; expires_in of the device
	// authorization response). Zero keeps Dex's default, 5 minutes.
	DeviceRequestsValidFor time.Duration
}

// DexDeviceCallback is the redirect URI that Dex's device flow uses: Dex
// sends it relative and resolves it under the issuer for a public client
// (so a confidential client cannot use Dex's device flow when the issuer
// has a path, as here).
const DexDeviceCallback = "/device/callback"

// Provider is a running provider.
type Provider struct {
	// Name is "dex", "oidc-provider" or "hydra".
	Name string
	// Issuer is the issuer identifier (discovery is under it).
	Issuer string
	// Port is the loopback port it listens on.
	Port int
	// Admin is the base URL of Hydra's admin API (Hydra only).
	Admin string
	// Log is the file that receives its output; a failed test shows its
	// tail.
	Log string
	// Kids are the key ids of its signing keys (oidc-provider only; Dex
	// makes a new key at each start and the harness does not see it).
	Kids []string

	proc *process
}

// LoginName returns what u types into this provider's sign-in form.
func (p *Provider) LoginName(u User) string {
	if p.Name == "dex" {
		return u.Email
	}
	return u.Login
}

// Stop stops the provider now (it is also stopped when the test ends).
func (p *Provider) Stop() { p.proc.stop() }

// StartDex starts Dex (built from e2e/tools/dex, see [DexBinary]) on a free
// loopback port with in-memory storage, the issuer
// http://127.0.0.1:PORT/dex, the test users as static passwords carrying
// their groups, and the clients [PublicClient] (public: PKCE, no secret),
// [BasicClient] and [PostClient] (confidential). It returns once discovery
// answers, and stops Dex when the test ends.
func StartDex(t testing.TB, opts DexOptions) *Provider {
	t.Helper()
	if len(opts.RedirectURIs) == 0 {
		t.Fatal("StartDex: no RedirectURIs")
	}
	bin := DexBinary(t)
	dir := t.TempDir()
	for attempt := 1; ; attempt++ {
		p, err := startDexOnce(t, bin, dir, attempt, opts)
		if err == nil {
			return p
		}
		if errors.Is(err, errStartRetry) && attempt < 3 {
			t.Logf("dex: %v", err)
			continue
		}
		t.Fatalf("dex: %v", err)
	}
}

func startDexOnce(t testing.TB, bin, dir string, attempt int, opts DexOptions) (*Provider, error) {
	port := FreePort(t)
	issuer := fmt.Sprintf("http://127.0.0.1:%d/dex", port)
	config, err := DexConfig(issuer, fmt.Sprintf("127.0.0.1:%d", port), opts)
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(dir, fmt.Sprintf("dex-config-%d.json", attempt))
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, fmt.Sprintf("dex-%d.log", attempt))
	cmd := exec.Command(bin, "serve", configPath)
	proc := startProcess(t, "dex", logPath, cmd, false)
	if err := waitDiscovery(proc, issuer, nil); err != nil {
		proc.stop()
		if errAddrInUse(logPath) {
			return nil, fmt.Errorf("%w: port %d: %v", errStartRetry, port, err)
		}
		return nil, fmt.Errorf("%v (its log follows)", err)
	}
	return &Provider{Name: "dex", Issuer: issuer, Port: port, Log: logPath, proc: proc}, nil
}

// DexConfig returns Dex's configuration (JSON, which Dex reads as YAML) for
// the issuer, listening on addr.
func DexConfig(issuer, addr string, opts DexOptions) ([]byte, error) {
	type password struct {
		Email    string   `json:"email"`
		Hash     string   `json:"hash"`
		Username string   `json:"username"`
		Name     string   `json:"name"`
		UserID   string   `json:"userID"`
		Groups   []string `json:"groups"`
	}
	type client struct {
		ID           string   `json:"id"`
		Secret       string   `json:"secret,omitempty"`
		Public       bool     `json:"public,omitempty"`
		Name         string   `json:"name"`
		RedirectURIs []string `json:"redirectURIs"`
	}
	var passwords []password
	for _, u := range Users {
		hash, err := bcrypt.GenerateFromPassword([]byte(u.Password), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		passwords = append(passwords, password{
			Email:    u.Email,
			Hash:     string(hash),
			Username: u.Login,
			Name:     u.Name,
			UserID:   "e2e-" + u.Login,
			Groups:   u.Groups,
		})
	}
	var clients []client
	for _, c := range Clients {
		uris := opts.RedirectURIs
		if opts.DeviceFlow && c.ID == PublicClient.ID {
			uris = append(append([]string{}, uris...), DexDeviceCallback)
		}
		clients = append(clients, client{
			ID:           c.ID,
			Secret:       c.Secret,
			Public:       c.Secret == "",
			Name:         "claimcheck e2e " + c.ID,
			RedirectURIs: uris,
		})
	}
	config := map[string]any{
		"issuer":  issuer,
		"storage": map[string]any{"type": "memory"},
		"web":     map[string]any{"http": addr},
		"logger":  map[string]any{"level": "debug", "format": "text"},
		"oauth2": map[string]any{
			"responseTypes":      opts.responseTypes(),
			"skipApprovalScreen": opts.SkipApprovalScreen,
		},
		"enablePasswordDB": true,
		"staticPasswords":  passwords,
		"staticClients":    clients,
	}
	if opts.PasswordGrant {
		config["oauth2"].(map[string]any)["passwordConnector"] = "local"
	}
	if opts.DeviceRequestsValidFor > 0 {
		config["expiry"] = map[string]any{"deviceRequests": opts.DeviceRequestsValidFor.String()}
	}
	return json.MarshalIndent(config, "", "  ")
}

func (o DexOptions) responseTypes() []string {
	if o.ResponseTypes != nil {
		return o.ResponseTypes
	}
	return DexResponseTypes
}
