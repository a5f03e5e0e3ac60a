package harness

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// OIDCProviderResponseTypes are the response types enabled at oidc-provider
// and allowed for every client. oidc-provider 9 does not support
// response_type=token on its own. Every one of them works with the query
// (code only), fragment and form_post response modes.
var OIDCProviderResponseTypes = []string{
	"code",
	"id_token",
	"id_token token",
	"code id_token",
	"code token",
	"code id_token token",
}

// DeviceCodeGrantType is the device authorization grant (RFC 8628), which
// oidc-provider's deviceFlow serves for PublicClient only.
const DeviceCodeGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// OIDCProviderOptions configures [StartOIDCProvider].
type OIDCProviderOptions struct {
	// RedirectURIs registered for every client (matched exactly, port
	// included: the clients are registered as web clients). Required.
	RedirectURIs []string
	// ConformIDTokenClaims is oidc-provider's conformIdTokenClaims. false
	// (the harness's default) puts the claims of the requested scopes,
	// groups among them, into every ID token; true (oidc-provider's
	// default) keeps them out of ID tokens issued with an access token that
	// userinfo accepts, so groups come only from userinfo there.
	ConformIDTokenClaims bool
	// JWKSFile, when set, is the private signing key set (server.js's
	// --jwks): used if the file exists, else a new key is written there.
	// Empty: a fresh key at each start, in the test's temp dir.
	JWKSFile string
	// NewKey writes a fresh key to JWKSFile even when it exists.
	NewKey bool
	// RequirePAR sets require_pushed_authorization_requests for the
	// whole provider (its metadata says so), not only for PARClient.
	RequirePAR bool
	// ClientJWK, when set, is the public key (see WriteClientKey) of
	// JARClient and JWTClient, which are registered only then.
	ClientJWK map[string]string
	// PKI, when set, makes oidc-provider serve HTTPS (an https://
	// issuer) with the PKI's server certificate, ask every connection for
	// a client certificate, enable mutual-TLS client authentication and
	// certificate-bound access tokens (RFC 8705) with the PKI's CA as the
	// one it trusts, and register MTLSClient.
	PKI *PKI
	// SelfSignedCert, with PKI, registers SelfSignedMTLSClient with this
	// certificate in its jwks.
	SelfSignedCert *ClientCert
}

// OIDCProviderConfig is the JSON configuration that e2e/oidc-provider/server.js
// reads (its --config).
type OIDCProviderConfig struct {
	ConformIDTokenClaims bool                           `json:"conformIdTokenClaims"`
	RequirePAR           bool                           `json:"requirePushedAuthorizationRequests"`
	Accounts             map[string]oidcProviderAccount `json:"accounts"`
	Clients              []map[string]any               `json:"clients"`
	ResourceServers      map[string]oidcResourceServer  `json:"resourceServers"`
	DefaultResource      map[string]string              `json:"defaultResource"`
	// GroupsShapes maps a client to the shape its users' groups are issued
	// in (see ShapeClients).
	GroupsShapes map[string]string `json:"groupsShapes"`
}

type oidcProviderAccount struct {
	Password string   `json:"password"`
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Groups   []string `json:"groups"`
}

type oidcResourceServer struct {
	Scope          string `json:"scope"`
	GroupsClaim    string `json:"groupsClaim"`
	AccessTokenTTL int    `json:"accessTokenTTL"`
}

// NewOIDCProviderConfig returns the configuration of the test users and
// clients for oidc-provider.
func NewOIDCProviderConfig(opts OIDCProviderOptions) OIDCProviderConfig {
	c := OIDCProviderConfig{
		ConformIDTokenClaims: opts.ConformIDTokenClaims,
		RequirePAR:           opts.RequirePAR,
		Accounts:             map[string]oidcProviderAccount{},
		ResourceServers: map[string]oidcResourceServer{
			APIResource: {Scope: "groups " + APIScope, GroupsClaim: APIGroupsClaim, AccessTokenTTL: 600},
		},
		DefaultResource: map[string]string{APIClient.ID: APIResource},
		GroupsShapes:    map[string]string{},
	}
	for _, cl := range ShapeClients {
		c.GroupsShapes[cl.ID] = cl.GroupsShape
	}
	for _, u := range Users {
		c.Accounts[u.Login] = oidcProviderAccount{Password: u.Password, Email: u.Email, Name: u.Name, Groups: u.Groups}
	}
	clients := append(append(append([]Client{}, Clients...), APIClient, PARClient, DPoPClient, JARMClient, SecretJWTClient), ShapeClients...)
	if opts.ClientJWK != nil {
		clients = append(clients, JARClient, JWTClient)
	}
	if opts.PKI != nil {
		clients = append(clients, MTLSClient)
		if opts.SelfSignedCert != nil {
			clients = append(clients, SelfSignedMTLSClient)
		}
	}
	for _, cl := range clients {
		m := map[string]any{
			"client_id":                  cl.ID,
			"client_name":                "claimcheck e2e " + cl.ID,
			"application_type":           "web",
			"token_endpoint_auth_method": cl.AuthMethod,
			"grant_types":                []string{"authorization_code", "implicit", "refresh_token"},
			"response_types":             OIDCProviderResponseTypes,
			"redirect_uris":              opts.RedirectURIs,
		}
		if cl.ID == PublicClient.ID {
			m["grant_types"] = []string{"authorization_code", "implicit", "refresh_token", DeviceCodeGrantType}
		}
		if cl.Secret != "" {
			m["client_secret"] = cl.Secret
			m["grant_types"] = []string{"authorization_code", "implicit", "refresh_token", "client_credentials"}
		}
		if cl.RequirePAR {
			m["require_pushed_authorization_requests"] = true
		}
		if cl.AuthMethod == "private_key_jwt" {
			m["jwks"] = map[string]any{"keys": []any{opts.ClientJWK}}
		}
		if cl.RequireSignedRequestObject {
			m["require_signed_request_object"] = true
			m["request_object_signing_alg"] = "RS256"
		}
		if cl.JARM {
			m["authorization_signed_response_alg"] = "RS256"
		}
		if cl.DPoPBound {
			// oidc-provider refuses a front-channel access token
			// (response types with token) for such a client.
			m["dpop_bound_access_tokens"] = true
			m["response_types"] = []string{"code", "id_token", "code id_token"}
		}
		if cl.TLSClientAuthSubjectDN != "" {
			m["tls_client_auth_subject_dn"] = cl.TLSClientAuthSubjectDN
		}
		if cl.AuthMethod == "self_signed_tls_client_auth" {
			m["jwks"] = map[string]any{"keys": []any{opts.SelfSignedCert.JWK}}
		}
		if cl.CertificateBound {
			// The code flow alone: a token from the authorization
			// endpoint cannot be bound to the certificate, which the
			// browser does not have.
			m["tls_client_certificate_bound_access_tokens"] = true
			m["grant_types"] = []string{"authorization_code", "refresh_token", "client_credentials"}
			m["response_types"] = []string{"code"}
			c.DefaultResource[cl.ID] = APIResource
		}
		c.Clients = append(c.Clients, m)
	}
	return c
}

// StartOIDCProvider starts e2e/oidc-provider/server.js (node) on a free
// loopback port with the test users (their groups in the claim "groups" of
// the scope "groups") and clients, and returns once discovery answers. It is
// stopped when the test ends.
func StartOIDCProvider(t testing.TB, opts OIDCProviderOptions) *Provider {
	t.Helper()
	if len(opts.RedirectURIs) == 0 {
		t.Fatal("StartOIDCProvider: no RedirectURIs")
	}
	dir := OIDCProviderDir(t)
	tmp := t.TempDir()
	config, err := json.MarshalIndent(NewOIDCProviderConfig(opts), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(tmp, "oidc-provider-config.json")
	if err := os.WriteFile(configPath, config, 0o600); err != nil {
		t.Fatal(err)
	}
	// The signing key is made here, not by server.js (see WriteSigningJWKS).
	jwks := opts.JWKSFile
	if jwks == "" {
		jwks = filepath.Join(tmp, "jwks.json")
	}
	if _, err := os.Stat(jwks); opts.NewKey || opts.JWKSFile == "" || os.IsNotExist(err) {
		if _, err := WriteSigningJWKS(jwks); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{filepath.Join(dir, "server.js"), "--config", configPath, "--host", "127.0.0.1", "--port", "0", "--jwks", jwks}
	var trust *tls.Config
	if opts.PKI != nil {
		args = append(args, "--tls-cert", opts.PKI.ServerCertFile, "--tls-key", opts.PKI.ServerKeyFile, "--tls-ca", opts.PKI.CAFile)
		trust = opts.PKI.ClientTLSConfig()
	}
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	logPath := filepath.Join(tmp, "oidc-provider.log")
	proc := startProcess(t, "oidc-provider", logPath, cmd, true)

	var ready struct {
		Ready  bool     `json:"ready"`
		Issuer string   `json:"issuer"`
		Port   int      `json:"port"`
		Kids   []string `json:"kids"`
	}
	deadline := time.After(StartTimeout)
	for !ready.Ready {
		select {
		case line, ok := <-proc.lines:
			if !ok {
				_, err := proc.exited()
				proc.stop()
				t.Fatalf("oidc-provider exited before it was ready: %v (its log follows)", err)
			}
			if err := json.Unmarshal([]byte(line), &ready); err != nil {
				ready.Ready = false
			}
		case <-deadline:
			proc.stop()
			t.Fatalf("oidc-provider was not ready within %v (its log follows)", StartTimeout)
		}
	}
	if err := waitDiscovery(proc, ready.Issuer, trust); err != nil {
		proc.stop()
		t.Fatalf("oidc-provider: %v (its log follows)", err)
	}
	return &Provider{Name: "oidc-provider", Issuer: ready.Issuer, Port: ready.Port, Log: logPath, Kids: ready.Kids, proc: proc}
}

// ExampleOIDCProviderConfig is the configuration written to
// e2e/oidc-provider/example-config.json, for running server.js by hand with
// the redirect URI http://127.0.0.1:8765/callback (claimcheck's default).
func ExampleOIDCProviderConfig() ([]byte, error) {
	b, err := json.MarshalIndent(NewOIDCProviderConfig(OIDCProviderOptions{
		RedirectURIs: []string{RedirectURI(8765)},
	}), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("example config: %w", err)
	}
	return append(b, '\n'), nil
}
