package suite

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func startDemo(t testing.TB) *demo.Provider {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

var demoEnv = map[string]string{
	"ALICE_PASSWORD": "alice-demo", "BOB_PASSWORD": "bob-demo",
	"CONF_SECRET": demo.ConfidentialClientSecret,
}

func getenv(k string) string { return demoEnv[k] }

func writeSuite(t testing.TB, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "claimcheck.yaml")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const mixedSuite = `
defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  scopes: [openid, groups]
cases:
  - name: alice is in IT
    user: alice
    password_env: ALICE_PASSWORD
    expect_groups: [IT, Everyone]
    forbid_groups: Admins
    claims:
      - claim: sub
        equals: user-alice
        token: id_token
      - claim: groups
        contains: IT
        token: access_token
      - claim: scope
        contains: groups
      - claim: iss
        matches: '^http://127\.0\.0\.1:\d+$'
  - name: bob is not in IT
    user: bob
    password_env: BOB_PASSWORD
    expect_groups: [IT]
    claims:
      - claim: sub
        matches: alice
  - name: wrong password
    user: alice
    password_env: BOB_PASSWORD
  - name: missing env
    user: alice
    password_env: NOT_SET_ANYWHERE
  - name: service account
    grant: client_credentials
    client_id: claimcheck-confidential
    client_secret_env: CONF_SECRET
    scopes: openid
    claims:
      - claim: client_id
        equals: claimcheck-confidential
`

func TestRunMixed(t *testing.T) {
	p := startDemo(t)
	s, err := Load(writeSuite(t, fmt.Sprintf(mixedSuite, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, Options{Parallel: 3, Getenv: getenv, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]failure.Class{
		"alice is in IT": "", "bob is not in IT": failure.Expectation, "wrong password": failure.Flow,
		"missing env": failure.Usage, "service account": "",
	}
	for _, c := range res.Cases {
		if c.Class != want[c.Name] {
			t.Errorf("%s: class %q, want %q; error %+v checks %+v", c.Name, c.Class, want[c.Name], c.Report.Error, c.Report.Checks)
		}
	}
	if res.Passed != 2 || res.Failed != 1 || res.Errored != 2 {
		t.Errorf("passed %d failed %d errored %d", res.Passed, res.Failed, res.Errored)
	}
	if res.Worst != failure.Usage || res.ExitCode != 2 {
		t.Errorf("worst %q exit %d, want usage 2", res.Worst, res.ExitCode)
	}
	// One discovery and one JWKS for the issuer, whatever the parallelism:
	// 4 cases reach the token endpoint, and the password cases' groups are
	// in the tokens (no userinfo).
	if len(res.Issuers) != 1 || res.Issuers[0].Requests != 2+4 {
		t.Errorf("issuer requests %+v, want 6 (discovery, JWKS, 4 token requests)", res.Issuers)
	}

	var text bytes.Buffer
	if err := res.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"CASE", "alice is in IT", "pass", "FAIL", "ERROR flow", "ERROR usage", "NOT_SET_ANYWHERE", "5 cases: 2 passed, 1 failed, 2 errored", "worst: usage (exit 2)"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("summary lacks %q:\n%s", w, text.String())
		}
	}
	for _, secret := range []string{"alice-demo", "bob-demo", demo.ConfidentialClientSecret} {
		if strings.Contains(text.String(), secret) {
			t.Errorf("secret in the summary")
		}
	}

	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		OK       bool `json:"ok"`
		ExitCode int  `json:"exit_code"`
		Cases    []struct {
			Name  string `json:"name"`
			Class string `json:"class"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.ExitCode != 2 || len(back.Cases) != 5 {
		t.Fatalf("JSON: %v %+v", err, back)
	}

	var junit bytes.Buffer
	if err := res.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	checkJUnit(t, junit.Bytes(), 5, 1, 2)
}

// checkJUnit parses the XML back and checks it against the structure of the
// common JUnit schema (testsuites > testsuite > testcase, with name,
// classname and time on every testcase, numeric counts that add up, and at
// most one failure or error per testcase).
func checkJUnit(t *testing.T, b []byte, tests, failures, errors int) {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("<?xml")) {
		t.Errorf("no XML declaration")
	}
	var doc struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    string   `xml:"tests,attr"`
		Failures string   `xml:"failures,attr"`
		Errors   string   `xml:"errors,attr"`
		Suites   []struct {
			Name      string `xml:"name,attr"`
			Tests     string `xml:"tests,attr"`
			Failures  string `xml:"failures,attr"`
			Errors    string `xml:"errors,attr"`
			Time      string `xml:"time,attr"`
			Timestamp string `xml:"timestamp,attr"`
			Cases     []struct {
				Name      string `xml:"name,attr"`
				ClassName string `xml:"classname,attr"`
				Time      string `xml:"time,attr"`
				Failures  []struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Errors []struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.Strict = true
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("JUnit is not well-formed: %v\n%s", err, b)
	}
	atoi := func(s string) int {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Errorf("count %q is not an integer", s)
		}
		return n
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d testsuites", len(doc.Suites))
	}
	s := doc.Suites[0]
	if atoi(doc.Tests) != tests || atoi(s.Tests) != tests || len(s.Cases) != tests {
		t.Errorf("tests %s/%s/%d, want %d", doc.Tests, s.Tests, len(s.Cases), tests)
	}
	if atoi(s.Failures) != failures || atoi(s.Errors) != errors || atoi(doc.Failures) != failures || atoi(doc.Errors) != errors {
		t.Errorf("failures %s errors %s, want %d %d", s.Failures, s.Errors, failures, errors)
	}
	if _, err := time.Parse("2006-01-02T15:04:05", s.Timestamp); err != nil {
		t.Errorf("timestamp %q", s.Timestamp)
	}
	nf, ne := 0, 0
	for _, c := range s.Cases {
		if c.Name == "" || c.ClassName == "" {
			t.Errorf("testcase without name or classname: %+v", c)
		}
		if _, err := strconv.ParseFloat(c.Time, 64); err != nil {
			t.Errorf("time %q", c.Time)
		}
		if len(c.Failures)+len(c.Errors) > 1 {
			t.Errorf("%s: more than one failure/error", c.Name)
		}
		for _, f := range c.Failures {
			nf++
			if !strings.Contains(f.Text, "FAIL") {
				t.Errorf("%s: failure lists no failed check: %q", c.Name, f.Text)
			}
		}
		ne += len(c.Errors)
	}
	if nf != failures || ne != errors {
		t.Errorf("failure elements %d, error elements %d", nf, ne)
	}
}

func TestShardPartition(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7} {
		count := 0
		for i := 0; i < 200; i++ {
			name := fmt.Sprintf("case %d", i)
			hits := 0
			for k := 1; k <= n; k++ {
				if (Shard{Index: k, Of: n}).Selects(name) {
					hits++
				}
			}
			if hits != 1 {
				t.Fatalf("%q is in %d of %d shards", name, hits, n)
			}
			if (Shard{Index: 1, Of: n}).Selects(name) {
				count++
			}
		}
		if n > 1 && (count == 0 || count == 200) {
			t.Errorf("shard 1/%d holds %d of 200", n, count)
		}
	}
}

func TestParseErrors(t *testing.T) {
	head := "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  grant: password\ncases:\n"
	tests := []struct {
		name, body, want string
	}{
		{"inline password", head + "  - name: a\n    user: alice\n    password: hunter2\n", "claimcheck.yaml:8: cases[0].password: secrets are never written"},
		{"inline client secret in defaults", "defaults:\n  client_secret: s\ncases:\n  - name: a\n", "claimcheck.yaml:2: defaults.client_secret: secrets are never written"},
		{"unknown field", head + "  - name: a\n    usr: alice\n", "claimcheck.yaml:7: cases[0].usr: unknown field; did you mean user?"},
		{"misspelt field", head + "  - name: a\n    expect_group: [IT]\n", "claimcheck.yaml:7: cases[0].expect_group: unknown field; did you mean expect_groups?"},
		{"unknown field, nothing near", head + "  - name: a\n    colour: blue\n", "claimcheck.yaml:7: cases[0].colour: unknown field"},
		{"misspelt claim field", head + "  - name: a\n    claims:\n      - {claim: sub, equal: a}\n", "cases[0].claims[0].equal: unknown field (want claim, token, equals, contains or matches); did you mean equals?"},
		{"no name", head + "  - user: alice\n    password_env: P\n", "claimcheck.yaml:6: cases[0].name: missing"},
		{"duplicate name", head + "  - {name: a, user: x, password_env: P}\n  - {name: a, user: y, password_env: P}\n", "claimcheck.yaml:7: cases[1].name: \"a\" is also the name of the case on line 6"},
		{"bad regexp", head + "  - name: a\n    user: x\n    password_env: P\n    claims:\n      - {claim: sub, matches: '('}\n", "claimcheck.yaml:10: cases[0].claims[0].matches: bad regular expression"},
		{"two ops", head + "  - name: a\n    claims:\n      - {claim: sub, equals: a, contains: b}\n", "cases[0].claims[0].contains: one of equals"},
		{"no op", head + "  - name: a\n    claims:\n      - {claim: sub}\n", "claimcheck.yaml:8: cases[0].claims[0]: needs one of"},
		{"bad token", head + "  - name: a\n    token: refresh_token\n", "claimcheck.yaml:7: cases[0].token: unknown token"},
		{"env holds a secret", head + "  - name: a\n    user: x\n    password_env: 'hunter2!'\n", "claimcheck.yaml:8: cases[0].password_env: must name an environment variable"},
		{"password without user", head + "  - name: a\n", "claimcheck.yaml:6: cases[0].user: the password grant needs"},
		{"device in suite", head + "  - name: a\n    grant: device_code\n", "device_code needs a person"},
		{"inline key", head + "  - name: a\n    client_key: \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\"\n", "claimcheck.yaml:7: cases[0].client_key: must name a file holding the key"},
		{"bad assertion aud", head + "  - name: a\n    client_assertion_aud: everyone\n", "claimcheck.yaml:7: cases[0].client_assertion_aud: unknown \"everyone\""},
		{"inline JWK key", head + "  - name: a\n    client_key: '{\"kty\":\"RSA\",\"d\":\"x\"}'\n", "claimcheck.yaml:7: cases[0].client_key: must name a file holding the key"},
		{"inline certificate", head + "  - name: a\n    client_cert: |\n      -----BEGIN CERTIFICATE-----\n      MIIB\n", "claimcheck.yaml:7: cases[0].client_cert: must name a file holding the certificate"},
		{"inline DPoP key", head + "  - name: a\n    dpop_key: |\n      -----BEGIN EC PRIVATE KEY-----\n      MHcCAQEEIAbc\n", "claimcheck.yaml:7: cases[0].dpop_key: must name a file holding the key"},
		{"inline DPoP JWK", "defaults:\n  dpop-key: '{\"kty\":\"EC\",\"d\":\"x\"}'\ncases:\n  - name: a\n", "claimcheck.yaml:2: defaults.dpop-key: must name a file holding the key"},
		{"bad dpop", head + "  - name: a\n    dpop: sometimes\n", "claimcheck.yaml:7: cases[0].dpop: must be true or false"},
		{"dpop false with a key", head + "  - name: a\n    user: x\n    password_env: P\n    dpop: false\n    dpop_key: k.pem\n", "cases[0].dpop: false, but dpop_key is set"},
		{"unknown client auth", head + "  - name: a\n    client_auth: private_key_jwk\n", "claimcheck.yaml:7: cases[0].client_auth: unknown \"private_key_jwk\" (want client_secret_basic, client_secret_post, none, private_key_jwt, client_secret_jwt, tls_client_auth, self_signed_tls_client_auth); did you mean private_key_jwt?"},
		{"dpop twice", head + "  - name: a\n    dpop_key: a.pem\n    dpop-key: b.pem\n", "cases[0].dpop-key: duplicate key"},
		{"no cases", "defaults:\n  issuer: x\n", "cases: missing"},
		{"empty cases", "cases: []\n", "cases: must be a non-empty list"},
		{"not yaml", "cases: [\n", "not YAML"},
		{"bad bool", head + "  - name: a\n    exact_groups: maybe\n", "claimcheck.yaml:7: cases[0].exact_groups: must be true or false"},
		{"top-level typo", "default:\n  issuer: x\n", "claimcheck.yaml:1: default: unknown top-level field (want defaults or cases); did you mean defaults?"},
		{"empty", "", "empty suite file"},
		{"a list over the limit", head + "  - name: a\n    expect_groups: [" + strings.Repeat("g,", 1000) + "g]\n", "claimcheck.yaml:7: cases[0].expect_groups: a list of 1001 items, more than the limit of 1000"},
		{"a comma-separated list over the limit", head + "  - name: a\n    scopes: " + strings.Repeat("s,", 1000) + "s\n", "claimcheck.yaml:7: cases[0].scopes: a list of 1001 items, more than the limit of 1000"},
		{"claims over the limit", head + "  - name: a\n    claims:\n" + strings.Repeat("      - {claim: sub, equals: a}\n", 1001), "claimcheck.yaml:8: cases[0].claims: a list of 1001 items"},
		{"a claim value over the limit", head + "  - name: a\n    claims:\n      - {claim: sub, equals: [" + strings.Repeat("1,", 1000) + "1]}\n", "cases[0].claims[0].equals: a list of 1001 items"},
		{"alias bomb in a claim value", head + "  - name: a\n    claims:\n      - claim: sub\n        equals: " + aliasBomb + "\n", "claimcheck.yaml:9: cases[0].claims[0].equals: yaml: document contains excessive aliasing"},
		{"alias in a list", head + "  - name: a\n    scopes: &s [openid]\n  - name: b\n    scopes: *s\n", "claimcheck.yaml:9: cases[1].scopes: must be a list of values"},
		{"duplicate key in defaults", "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  issuer: http://127.0.0.1:2\ncases:\n  - {name: a, user: x, password_env: P}\n", `claimcheck.yaml:4: defaults.issuer: duplicate key "issuer" (first at line 2)`},
		{"duplicate key in a case", head + "  - name: a\n    user: x\n    password_env: P\n    user: y\n", `claimcheck.yaml:9: cases[0].user: duplicate key "user" (first at line 7)`},
		{"duplicate top-level key", head + "  - {name: a, user: x, password_env: P}\ncases:\n  - {name: b, user: x, password_env: P}\n", `claimcheck.yaml:7: cases: duplicate key "cases" (first at line 5)`},
		{"duplicate key in a claim", head + "  - name: a\n    claims:\n      - {claim: sub, equals: a, claim: email}\n", `claimcheck.yaml:8: cases[0].claims[0].claim: duplicate key "claim" (first at line 8)`},
		{"duplicate key in a claim's value", head + "  - name: a\n    claims:\n      - claim: address\n        equals:\n          country: DE\n          country: FR\n", `claimcheck.yaml:11: cases[0].claims[0].equals.country: duplicate key "country" (first at line 10)`},
		{"one field spelt twice", head + "  - name: a\n    client_id: x\n    client-id: y\n", `claimcheck.yaml:8: cases[0].client-id: duplicate key "client-id" (first at line 7 as "client_id")`},
		{"user and username", "defaults:\n  username: x\n  user: y\ncases:\n  - name: a\n", `claimcheck.yaml:3: defaults.user: duplicate key "user" (first at line 2 as "username")`},
		{"token and groups_from", head + "  - name: a\n    token: id_token\n    groups_from: access_token\n", `claimcheck.yaml:8: cases[0].groups_from: duplicate key "groups_from" (first at line 7 as "token")`},
		{"unknown provider", head + "  - name: a\n    provider: keycloack\n", `claimcheck.yaml:7: cases[0].provider: unknown provider "keycloack" (want auth0, authentik, cognito, dex, entra, generic, google, keycloak, okta, zitadel); did you mean keycloak?`},
		{"bad authorization_details", head + "  - name: a\n    authorization_details: '{\"type\":\"a\"}'\n", "claimcheck.yaml:7: cases[0].authorization_details: must be a JSON array of objects"},
		{"relative resource", head + "  - name: a\n    resource: [/api]\n", "claimcheck.yaml:7: cases[0].resource: \"/api\" is not an absolute URI"},
		{"bad par", head + "  - name: a\n    par: maybe\n", "claimcheck.yaml:7: cases[0].par: must be true or false"},
		{"over the size limit", head + "#" + strings.Repeat("x", 1<<20) + "\n", "claimcheck.yaml: larger than 1048576 bytes (1 MiB), the limit of a suite file"},
		{"a second document", head + "  - {name: a, user: x, password_env: P}\n---\ndefaults:\n  issuer: http://127.0.0.1:2\n", "claimcheck.yaml:7: a second YAML document starts here; a suite file holds one document"},
		{"an empty second document", head + "  - {name: a, user: x, password_env: P}\n---\n", "claimcheck.yaml:7: a second YAML document starts here; a suite file holds one document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("claimcheck.yaml", []byte(tt.body))
			if tt.name == "unknown field, nothing near" && err != nil && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("a suggestion for a field nothing is near: %v", err)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want it to contain %q", err, tt.want)
			}
			if failure.ClassOf(err) != failure.Usage || strings.Contains(err.Error(), "\n") {
				t.Errorf("not a one-line usage error: %v", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the secret is in the message")
			}
		})
	}
}

// aliasBomb is a "billion laughs" flow list: nine levels of nine aliases
// of the level below, 9^10 strings when expanded.
var aliasBomb = func() string {
	var b strings.Builder
	b.WriteString("[&a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, ", &a%d [%s]", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), ", "))
	}
	return b.String() + "]"
}()

// TestParseLimits: a suite file holds any number of cases up to its size
// limit (--max-cases bounds how many run), and is refused past that limit
// without being read.
// par, request_object, resource and authorization_details are known keys, checked as the
// flags are, and refused: a suite's grants send no authorization request.
func TestParseRichRequest(t *testing.T) {
	head := "defaults:\n  issuer: https://issuer.example\n  client_id: c\n  grant: client_credentials\n  client_secret_env: S\ncases:\n"
	for _, tt := range []struct{ body, want string }{
		{head + "  - {name: a, par: true}\n", "cases[0].par: applies to the authorization request"},
		{head + "  - {name: a, request_object: true}\n", "cases[0].request_object: applies to the authorization request"},
		{head + "  - {name: a, request_object: maybe}\n", "cases[0].request_object: must be true or false"},
		{head + "  - {name: a, resource: [https://api.example/]}\n", "cases[0].resource: applies to the authorization request"},
		{head + "  - name: a\n    authorization_details: '[{\"type\":\"t\"}]'\n", "cases[0].authorization_details: applies to the authorization request"},
	} {
		if _, err := Parse("claimcheck.yaml", []byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err %v, want %q", err, tt.want)
		}
	}
	if _, err := Parse("claimcheck.yaml", []byte(head+"  - {name: a, par: false}\n")); err != nil {
		t.Errorf("par: false: %v", err)
	}
}

func TestParseLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("defaults: {issuer: http://127.0.0.1:1, client_id: c, grant: password, user: u, password_env: P}\ncases:\n")
	for i := range 1001 {
		fmt.Fprintf(&b, "  - name: case %d\n", i)
	}
	s, err := Parse("claimcheck.yaml", []byte(b.String()))
	if err != nil || len(s.Cases) != 1001 {
		t.Fatalf("1001 cases: %v", err)
	}
	for len(b.String()) <= 1<<20 {
		b.WriteString("# padding\n")
	}
	_, err = Load(writeSuite(t, b.String()))
	if err == nil || !strings.Contains(err.Error(), "claimcheck.yaml: larger than 1048576 bytes (1 MiB), the limit of a suite file") || failure.ClassOf(err) != failure.Usage {
		t.Errorf("a file over the limit: %v", err)
	}
}

func TestTransportRetries429(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := new(bytes.Buffer)
		b.ReadFrom(r.Body)
		if b.String() != "grant_type=x" {
			t.Errorf("body %q on attempt %d", b.String(), n.Load())
		}
		v := n.Add(1)
		if v > 100 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		switch v {
		case 1:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusTooManyRequests)
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	var waits []time.Duration
	tr := newIssuerTransport(srv.Client().Transport, 0, 5*time.Second)
	tr.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	stats := &caseStats{}
	req, _ := http.NewRequestWithContext(withCaseStats(context.Background(), stats), http.MethodPost, srv.URL, strings.NewReader("grant_type=x"))
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	if fmt.Sprint(waits) != fmt.Sprint([]time.Duration{2 * time.Second, maxRetryAfter, defaultRetryAfter}) {
		t.Errorf("waits %v", waits)
	}
	if tr.retries.Load() != 3 || stats.retries.Load() != 3 || stats.requests.Load() != 4 {
		t.Errorf("retries %d/%d requests %d", tr.retries.Load(), stats.retries.Load(), stats.requests.Load())
	}

	// Past maxRetries429 the 429 reaches the caller.
	n.Store(100)
	waits = nil
	req, _ = http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("grant_type=x"))
	resp, err = (&http.Client{Transport: tr}).Do(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || len(waits) != maxRetries429 {
		t.Fatalf("status %v err %v waits %v", resp.StatusCode, err, waits)
	}
	resp.Body.Close()
}

func TestTransportRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	now := time.Unix(1000, 0)
	var waits []time.Duration
	tr := newIssuerTransport(srv.Client().Transport, 4, time.Second)
	tr.now = func() time.Time { return now }
	tr.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	for i := 0; i < 3; i++ {
		resp, err := (&http.Client{Transport: tr}).Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	// The clock stands still: the 2nd and 3rd requests wait 250ms and 500ms.
	if fmt.Sprint(waits) != fmt.Sprint([]time.Duration{250 * time.Millisecond, 500 * time.Millisecond}) {
		t.Errorf("waits %v", waits)
	}
}

// TestRunInterrupted: a canceled run starts no more cases, and every case
// is reported (interrupted, exit 130) — nothing hangs.
func TestRunInterrupted(t *testing.T) {
	p := startDemo(t)
	s, err := Load(writeSuite(t, fmt.Sprintf(mixedSuite, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Run(ctx, s, Options{Parallel: 1, Getenv: getenv, HTTPTimeout: time.Second, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Cases) != 5 || res.ExitCode != 130 {
		t.Fatalf("cases %d exit %d", len(res.Cases), res.ExitCode)
	}
	for _, c := range res.Cases {
		if c == nil || c.Report == nil || c.OK {
			t.Errorf("case %+v", c)
		}
	}
	var b bytes.Buffer
	if err := res.WriteJUnit(&b); err != nil {
		t.Fatal(err)
	}
}

// TestRun429 puts a rate-limiting front in front of the demo provider: the
// first two token requests are answered 429 with Retry-After: 0, and the
// case passes after sending its request again, and says so.
func TestRun429(t *testing.T) {
	var tokenRequests atomic.Int32
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Wrap: func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/oauth/token" && tokenRequests.Add(1) <= 2 {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
				return
			}
			next.ServeHTTP(w, r)
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := Parse("s.yaml", []byte(fmt.Sprintf("defaults: {issuer: %s, client_id: claimcheck-public, scopes: [openid, groups]}\ncases:\n  - {name: a, user: alice, password_env: ALICE_PASSWORD, expect_groups: IT}\n", p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, Options{Parallel: 1, Rate: 1000, Getenv: getenv, HTTPTimeout: 5 * time.Second, Timeout: 10 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cases[0]
	if !c.OK || c.Retried429 != 2 || res.Issuers[0].Retried429 != 2 || !strings.Contains(strings.Join(c.Report.Notes, " "), "429") {
		t.Fatalf("ok %v retried %d/%d notes %q error %+v", c.OK, c.Retried429, res.Issuers[0].Retried429, c.Report.Notes, c.Report.Error)
	}
	var text bytes.Buffer
	res.WriteText(&text)
	if !strings.Contains(text.String(), "2 sent again after 429 Too Many Requests") {
		t.Errorf("summary:\n%s", text.String())
	}
}

// TestClaimChecksInUserinfo: a claim check that names userinfo makes the
// case ask the userinfo endpoint (profile and email claims are there, not in
// the tokens, when an access token is issued: OpenID Core 5.4), and a case
// that cannot have a verified userinfo says so instead of "missing".
func TestClaimChecksInUserinfo(t *testing.T) {
	p := startDemo(t)
	s, err := Load(writeSuite(t, fmt.Sprintf(`
defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  scopes: [openid, email, groups]
cases:
  - name: email from userinfo
    user: alice
    password_env: ALICE_PASSWORD
    expect_groups: [IT]
    claims:
      - {claim: email, equals: alice@example.com, token: userinfo}
  - name: email not in the ID token
    user: alice
    password_env: ALICE_PASSWORD
    claims:
      - {claim: email, equals: alice@example.com, token: id_token}
  - name: a client has no userinfo
    grant: client_credentials
    client_id: claimcheck-confidential
    client_secret_env: CONF_SECRET
    scopes: openid
    claims:
      - {claim: email, equals: alice@example.com, token: userinfo}
`, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, Options{Parallel: 1, Getenv: getenv, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, check, detail, note string
		ok, userinfo              bool
	}{
		{"email from userinfo", `claim email equals "alice@example.com"`, `email is "alice@example.com"`, "a claim check names userinfo, so the userinfo endpoint was asked", true, true},
		{"email not in the ID token", `claim email equals "alice@example.com"`, "email is missing from a verified id_token", "", false, false},
		{"a client has no userinfo", `claim email equals "alice@example.com"`, "no verified userinfo in this run", "a claim check names userinfo; a client_credentials token is about no user, so userinfo was not asked", false, false},
	}
	for i, tt := range tests {
		r := res.Cases[i].Report
		if res.Cases[i].Name != tt.name || r.OK != tt.ok {
			t.Errorf("case %d %q ok %v, want %q ok %v; checks %+v", i, res.Cases[i].Name, r.OK, tt.name, tt.ok, r.Checks)
			continue
		}
		var found bool
		for _, c := range r.Checks {
			if c.Name == tt.check {
				found = true
				if c.OK != tt.ok || c.Detail != tt.detail {
					t.Errorf("%s: check %+v, want ok %v detail %q", tt.name, c, tt.ok, tt.detail)
				}
			}
		}
		if !found {
			t.Errorf("%s: no check %q in %+v", tt.name, tt.check, r.Checks)
		}
		if ui := r.Tokens["userinfo"]; (ui != nil && ui.Verified) != tt.userinfo {
			t.Errorf("%s: verified userinfo %v, want %v", tt.name, ui != nil && ui.Verified, tt.userinfo)
		}
		if tt.note != "" && !slices.Contains(r.Notes, tt.note) {
			t.Errorf("%s: notes %q lack %q", tt.name, r.Notes, tt.note)
		}
	}
}

// TestCaseFieldsKnown: every name caseFields suggests is a field the parser
// takes, so that a suggestion is never itself an unknown field.
func TestCaseFieldsKnown(t *testing.T) {
	for _, f := range caseFields {
		body := "cases:\n  - name: a\n    " + f + ": x\n"
		if f == "name" {
			body = "cases:\n  - name: a\n"
		}
		if _, err := Parse("claimcheck.yaml", []byte(body)); err != nil && strings.Contains(err.Error(), "unknown field") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestProviderKey: provider in defaults applies to every case, a case's
// own wins, and each case's report names it.
func TestProviderKey(t *testing.T) {
	p := startDemo(t)
	s, err := Load(writeSuite(t, fmt.Sprintf(`
defaults:
  issuer: %s
  client_id: claimcheck-public
  grant: password
  scopes: [openid, groups]
  provider: Dex
cases:
  - name: dex from the defaults
    user: alice
    password_env: ALICE_PASSWORD
  - name: turned off
    provider: generic
    user: alice
    password_env: ALICE_PASSWORD
`, p.Issuer())))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), s, Options{Parallel: 1, Getenv: getenv, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"dex", "generic"} {
		r := res.Cases[i].Report
		if r.Provider == nil || r.Provider.Name != want {
			t.Errorf("%s: provider %+v, want %s", res.Cases[i].Name, r.Provider, want)
		}
	}
}

// TestParseDPoP: dpop_key is taken relative to the suite file, dpop is
// inherited from the defaults and a case can turn it off; a case's config loads it (its thumbprint is
// the file key's), dpop: true makes a fresh key, a missing file is a usage
// error naming it.
func TestParseDPoP(t *testing.T) {
	dir := t.TempDir()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	os.MkdirAll(filepath.Join(dir, "keys"), 0o700)
	if err := os.WriteFile(filepath.Join(dir, "keys", "dpop.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := flow.LoadDPoPKey(filepath.Join(dir, "keys", "dpop.pem"))
	if err != nil {
		t.Fatal(err)
	}
	body := "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  grant: refresh_token\n  refresh_token_env: RT\n  dpop: true\ncases:\n  - name: file\n    dpop_key: keys/dpop.pem\n  - name: fresh\n  - name: missing\n    dpop_key: keys/none.pem\n  - name: off\n    dpop: false\n"
	s, err := Parse(filepath.Join(dir, "claimcheck.yaml"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "rt" }
	file, err := s.Cases[0].config(env)
	if err != nil || file.DPoPKey == nil || file.DPoPKey.Thumbprint() != want.Thumbprint() {
		t.Errorf("case file: %+v, %v", file.DPoPKey, err)
	}
	fresh, err := s.Cases[1].config(env)
	if err != nil || fresh.DPoPKey == nil || fresh.DPoPKey.Thumbprint() == want.Thumbprint() || fresh.DPoPKey.File != "" {
		t.Errorf("case fresh: %+v, %v", fresh.DPoPKey, err)
	}
	if _, err := s.Cases[2].config(env); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "dpop_key") || !strings.Contains(err.Error(), filepath.Join(dir, "keys", "none.pem")) {
		t.Errorf("case missing: %v", err)
	}
	if off, err := s.Cases[3].config(env); err != nil || off.DPoPKey != nil {
		t.Errorf("case off: %+v, %v", off.DPoPKey, err)
	}
}

// TestParseClientKey: client_key is taken relative to the suite file and
// inherited from the defaults with client_key_id and client_assertion_aud.
func TestParseClientKey(t *testing.T) {
	body := "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  grant: client_credentials\n  client_auth: private_key_jwt\n  client_key: keys/c.pem\n  client_key_id: k1\n  client_assertion_aud: issuer\ncases:\n  - name: a\n  - name: b\n    client_key: /abs/other.pem\n"
	s, err := Parse(filepath.Join("dir", "claimcheck.yaml"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Cases[0], s.Cases[1]
	if a.ClientKey != filepath.Join("dir", "keys", "c.pem") || a.ClientKeyID != "k1" || a.AssertionAud != "issuer" || a.ClientAuth != "private_key_jwt" {
		t.Errorf("case a: %+v", a)
	}
	if b.ClientKey != "/abs/other.pem" || b.ClientKeyID != "k1" {
		t.Errorf("case b: %+v", b)
	}
	if _, err := a.config(func(string) string { return "" }); err == nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), filepath.Join("dir", "keys", "c.pem")) {
		t.Errorf("missing key file: %v", err)
	}
}

// TestParseClientCert: client_cert is taken relative to the suite file and
// inherited from the defaults; it needs client_key, and a file that is not
// a certificate is a usage error naming it.
func TestParseClientCert(t *testing.T) {
	body := "defaults:\n  issuer: http://127.0.0.1:1\n  client_id: c\n  grant: client_credentials\n  client_auth: tls_client_auth\n  client_cert: certs/c.pem\ncases:\n  - name: a\n  - name: b\n    client_cert: /abs/other.pem\n    client_key: /abs/other-key.pem\n"
	s, err := Parse(filepath.Join("dir", "claimcheck.yaml"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Cases[0], s.Cases[1]
	if a.ClientCert != filepath.Join("dir", "certs", "c.pem") || a.ClientAuth != "tls_client_auth" {
		t.Errorf("case a: %+v", a)
	}
	if b.ClientCert != "/abs/other.pem" {
		t.Errorf("case b: %+v", b)
	}
	if _, err := a.config(func(string) string { return "" }); err == nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "client_cert needs client_key") {
		t.Errorf("certificate without its key: %v", err)
	}
	if _, err := b.config(func(string) string { return "" }); err == nil || failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), "/abs/other-key.pem") {
		t.Errorf("missing key file: %v", err)
	}
}

// TestParseDocumentMarkers: a "---" before the one document and a "..."
// after it are YAML's document markers, not a second document.
func TestParseDocumentMarkers(t *testing.T) {
	body := "---\ndefaults: {issuer: http://127.0.0.1:1, client_id: c, grant: password, user: u, password_env: P}\ncases:\n  - name: a\n...\n"
	s, err := Parse("claimcheck.yaml", []byte(body))
	if err != nil || len(s.Cases) != 1 || s.Defaults.Issuer != "http://127.0.0.1:1" {
		t.Fatalf("suite %+v, err %v", s, err)
	}
}
