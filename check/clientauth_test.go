package check

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

var (
	jwtKeysOnce       sync.Once
	jwtKey, otherKey  *rsa.PrivateKey
	jwtOpaqueClientID = demo.JWTClientID + "-opaque"
)

// keyFile writes k as a PKCS#8 PEM file and loads it as a client key.
func keyFile(t *testing.T, k *rsa.PrivateKey, kid string) *flow.ClientKey {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	ck, err := flow.LoadClientKey(path, kid)
	if err != nil {
		t.Fatal(err)
	}
	return ck
}

// startJWTDemo is the demo provider with the default clients and two
// private_key_jwt clients registered with jwtKey (kid k1): one with JWT
// access tokens, one with opaque ones that only introspection vouches for.
func startJWTDemo(t *testing.T) *demo.Provider {
	t.Helper()
	jwtKeysOnce.Do(func() {
		var err error
		if jwtKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if otherKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	clients := append(demo.DefaultClients(),
		demo.Client{ID: demo.JWTClientID, Key: &jwtKey.PublicKey, KeyID: "k1"},
		demo.Client{ID: jwtOpaqueClientID, Key: &jwtKey.PublicKey, KeyID: "k1", OpaqueAccessTokens: true},
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Clients: clients})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func jwtConfig(p *demo.Provider, key *flow.ClientKey, user string, expect ...string) Config {
	return Config{
		Issuer: p.Issuer(), ClientID: demo.JWTClientID, ClientKey: key,
		AssertionAudience: flow.AssertionAudienceIssuer,
		RedirectURI:       "http://127.0.0.1:0/callback",
		Scopes:            []string{"openid", "groups"},
		Expect:            verify.Expectations{ExpectGroups: expect},
		Opener:            signIn(user),
		HTTPClient:        &http.Client{Timeout: 10 * time.Second}, Timeout: 20 * time.Second,
	}
}

func TestPrivateKeyJWTRun(t *testing.T) {
	p := startJWTDemo(t)
	key := keyFile(t, jwtKey, "k1")
	ctx := context.Background()

	t.Run("alice passes", func(t *testing.T) {
		r, err := Run(ctx, jwtConfig(p, key, "alice", "IT"))
		if err != nil {
			t.Fatalf("%v", err)
		}
		want := report.ClientAssertion{Alg: "RS256", KeyID: "k1", Audience: p.Issuer()}
		if r.Request.ClientAuth != flow.AuthPrivateKeyJWT || r.Request.ClientAssertion == nil || *r.Request.ClientAssertion != want {
			t.Errorf("request %q %+v, want private_key_jwt %+v", r.Request.ClientAuth, r.Request.ClientAssertion, want)
		}
		b, _ := json.Marshal(r)
		if !strings.Contains(string(b), `"client_assertion":{"alg":"RS256","kid":"k1","aud":"`+p.Issuer()+`"}`) {
			t.Errorf("JSON request section: %s", b)
		}
	})
	t.Run("bob lacks IT", func(t *testing.T) {
		r, err := Run(ctx, jwtConfig(p, key, "bob", "IT"))
		if failure.ClassOf(err) != failure.Expectation || r.ExitCode != 1 {
			t.Fatalf("exit %d, %v; want 1", r.ExitCode, err)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := keyFile(t, otherKey, "k1")
		r, err := Run(ctx, jwtConfig(p, wrong, "alice", "IT"))
		msg := r.Error.Message
		if failure.ClassOf(err) != failure.Flow || r.ExitCode != 3 {
			t.Fatalf("exit %d, %v; want 3", r.ExitCode, err)
		}
		for _, w := range []string{"error=invalid_client", "refused the client assertion", "private_key_jwt, RS256, kid \"k1\"", wrong.File, "Okta wants the URL of the endpoint called", "aud " + p.Issuer() + " was sent"} {
			if !strings.Contains(msg, w) {
				t.Errorf("error %q lacks %q", msg, w)
			}
		}
	})
	t.Run("aud the token endpoint, which op refuses", func(t *testing.T) {
		c := jwtConfig(p, key, "alice", "IT")
		c.AssertionAudience = ""
		r, err := Run(ctx, c)
		msg := r.Error.Message
		if failure.ClassOf(err) != failure.Flow || !strings.Contains(msg, "audience is not valid") || !strings.Contains(msg, "--client-assertion-aud issuer sends the issuer") {
			t.Fatalf("exit %d: %q", r.ExitCode, msg)
		}
		if !strings.Contains(msg, "aud "+p.Issuer()+"/oauth/token was sent") {
			t.Errorf("error %q does not name the aud sent", msg)
		}
	})
	t.Run("opaque access token introspected with an assertion", func(t *testing.T) {
		c := jwtConfig(p, key, "alice", "IT")
		c.ClientID = jwtOpaqueClientID
		r, err := Run(ctx, c)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if it := r.Tokens[report.Introspection]; it == nil || !it.Verified {
			t.Errorf("introspection: %+v", it)
		}
	})
	t.Run("device grant", func(t *testing.T) {
		c := jwtConfig(p, key, "alice", "IT")
		c.Opener = nil
		c.Grant = Grant{Type: flow.GrantDeviceCode, DeviceShow: approve("alice", "alice-demo", false)}
		if _, err := Run(ctx, c); err != nil {
			t.Fatalf("%v", err)
		}
	})
	t.Run("method not offered", func(t *testing.T) {
		c := jwtConfig(p, nil, "alice")
		c.AuthMethod, c.ClientSecret = flow.AuthClientSecretJWT, strings.Repeat("s", 32)
		r, err := Run(ctx, c)
		if failure.ClassOf(err) != failure.Usage || !strings.Contains(r.Error.Message, "does not offer client_secret_jwt (its token_endpoint_auth_methods_supported: none, client_secret_basic, client_secret_post, private_key_jwt)") {
			t.Fatalf("exit %d: %v", r.ExitCode, err)
		}
	})
	t.Run("key with another method", func(t *testing.T) {
		c := jwtConfig(p, key, "alice")
		c.AuthMethod = "none"
		r, err := Run(ctx, c)
		if failure.ClassOf(err) != failure.Usage || !strings.Contains(r.Error.Message, "used only with private_key_jwt") {
			t.Fatalf("exit %d: %v", r.ExitCode, err)
		}
	})
}
