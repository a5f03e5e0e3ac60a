// Package suite runs the cases of a claimcheck suite file (claimcheck test):
// many users or grants against one or more issuers, in parallel, sharing one
// discovery document and one key set per issuer, each case's failure
// isolated, with a summary, JSON and JUnit output. The format is documented
// in the README (A suite file).
package suite

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/suggest"
	"github.com/claimcheck/claimcheck/internal/yamlfile"
	"github.com/claimcheck/claimcheck/provider"
	"github.com/claimcheck/claimcheck/verify"
)

// Suite is a parsed suite file.
type Suite struct {
	// Path is the file the suite came from; snapshot paths are relative to
	// its directory.
	Path     string
	Defaults Case
	Cases    []Case
}

// Case is one case of a suite, or the defaults every case starts from.
type Case struct {
	Name string
	// Line is where the case starts in the file.
	Line int

	Issuer          string
	ClientID        string
	ClientSecretEnv string
	ClientAuth      string
	// ClientKey is the file of the private_key_jwt key (relative paths
	// taken from the suite file's directory), ClientKeyID its kid, and
	// AssertionAud the assertions' aud (endpoint, token_endpoint or issuer).
	ClientKey    string
	ClientKeyID  string
	AssertionAud string
	// ClientCert is the file of the TLS client certificate of mutual TLS
	// (RFC 8705), whose key is ClientKey; relative as ClientKey.
	ClientCert string
	Scopes     []string
	Audience   string
	// PAR pushes the authorization request (RFC 9126); Resources are
	// resource indicators (RFC 8707) and AuthorizationDetails the
	// authorization_details JSON (RFC 9396).
	PAR *bool
	// RequestObject signs the authorization request (RFC 9101).
	RequestObject *bool
	// DPoP makes the grants' tokens DPoP-bound (RFC 9449), with a fresh
	// key per case or the key in the file DPoPKey (relative paths taken
	// from the suite file's directory), which implies it.
	DPoP                 *bool
	DPoPKey              string
	Resources            []string
	AuthorizationDetails string
	// Grant is refresh_token, password, client_credentials or
	// token_exchange.
	Grant           string
	User            string
	PasswordEnv     string
	RefreshTokenEnv string
	// The token exchange (RFC 8693): the variables that hold the subject
	// and actor tokens, and the token types (short names or URIs, see
	// flow.ParseTokenType). Audience is sent as its audience and
	// Resources as its resources.
	SubjectTokenEnv    string
	SubjectTokenType   string
	ActorTokenEnv      string
	ActorTokenType     string
	RequestedTokenType string

	ExpectGroups []string
	ForbidGroups []string
	ExactGroups  *bool
	GroupsClaim  string
	// Provider names the kind of provider (see package provider) whose
	// diagnosis explains a missing group; empty to recognise it.
	Provider string
	// TrustedClaimsIssuers, ClaimsSourceToken and ClaimsSourceGraph say
	// how distributed and aggregated claims are resolved, as
	// --trusted-claims-issuer, --claims-source-token and
	// --claims-source-graph do (see check.ClaimSources).
	TrustedClaimsIssuers []string
	ClaimsSourceToken    string
	ClaimsSourceGraph    *bool
	// Token restricts where groups are looked for (id_token,
	// access_token, userinfo); empty means every verified token.
	Token []string
	// Claims are the other expected claims.
	Claims []ClaimCheck
	// Snapshot is a claims snapshot (claimcheck --save-claims) the case's
	// verified claims must be like.
	Snapshot string
}

// ClaimCheck is one expected claim: equal to a value, holding a value
// (membership in an array or a space-separated string), or matching a
// regular expression, in the named token or in any verified one.
type ClaimCheck struct {
	Claim string
	// Token is id_token, access_token, userinfo, or empty for any.
	Token string
	// Op is "equals", "contains" or "matches".
	Op    string
	Value any
	re    *regexp.Regexp
	Line  int
}

// fileFormat tells yamlfile what a suite file is: of its lists, only cases
// may hold more than yamlfile.MaxItems items.
var fileFormat = yamlfile.Format{Kind: "suite file", Long: []string{"cases"}}

// Load reads and parses a suite file. Every problem is a failure.Usage error
// that names the file, the line and the field; a file larger than
// yamlfile.MaxSize is refused without being read.
func Load(path string) (*Suite, error) {
	b, err := yamlfile.Read(path, fileFormat)
	if err != nil {
		return nil, err
	}
	return Parse(path, b)
}

// caseFields are the fields parseCase knows, for suggestions when a field
// is not one of them.
var caseFields = []string{
	"name", "issuer", "client_id", "client_secret_env", "client_auth", "client_key", "client_key_id", "client_assertion_aud", "client_cert", "scopes", "audience",
	"par", "request_object", "resource", "authorization_details", "dpop", "dpop_key",
	"grant", "user", "username", "password_env", "refresh_token_env",
	"subject_token_env", "subject_token_type", "actor_token_env", "actor_token_type", "requested_token_type",
	"expect_groups", "forbid_groups", "exact_groups", "groups_claim", "token", "groups_from",
	"claims", "snapshot", "provider",
	"trusted_claims_issuer", "claims_source_token", "claims_source_graph",
}

// sameField maps the other names of a field to the one parseCase reads.
var sameField = map[string]string{"username": "user", "groups_from": "token", "trusted_claims_issuers": "trusted_claims_issuer"}

// secretFields may never hold a literal value; each has an _env twin.
var secretFields = map[string]string{
	"client_secret": "client_secret_env", "password": "password_env", "refresh_token": "refresh_token_env",
	"subject_token": "subject_token_env", "actor_token": "actor_token_env",
}

type parser struct{ path string }

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) error {
	where := fmt.Sprintf("%s:%d", p.path, n.Line)
	if field != "" {
		where += ": " + field
	}
	return failure.New(failure.Usage, where, format, args...)
}

// Parse parses a suite file's contents; path is used in messages.
func Parse(path string, data []byte) (*Suite, error) {
	p := &parser{path: path}
	doc, err := yamlfile.Parse(path, data, fileFormat)
	if err != nil {
		return nil, err
	}
	if len(doc.Content) == 0 {
		return nil, failure.New(failure.Usage, path, "empty suite file (want defaults: and cases:)")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, p.errorf(root, "", "the suite must be a mapping with defaults: and cases:")
	}
	s := &Suite{Path: path}
	var casesNode *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "defaults":
			c, err := p.parseCase(v, "defaults", true)
			if err != nil {
				return nil, err
			}
			s.Defaults = *c
		case "cases":
			casesNode = v
		default:
			return nil, p.errorf(k, k.Value, "unknown top-level field (want defaults or cases)%s", suggest.Hint(k.Value, []string{"defaults", "cases"}, ""))
		}
	}
	if casesNode == nil {
		return nil, p.errorf(root, "cases", "missing: a suite needs at least one case")
	}
	if casesNode.Kind != yaml.SequenceNode || len(casesNode.Content) == 0 {
		return nil, p.errorf(casesNode, "cases", "must be a non-empty list of cases")
	}
	seen := map[string]int{}
	for i, n := range casesNode.Content {
		c, err := p.parseCase(n, fmt.Sprintf("cases[%d]", i), false)
		if err != nil {
			return nil, err
		}
		if first, dup := seen[c.Name]; dup {
			return nil, p.errorf(n, fmt.Sprintf("cases[%d].name", i), "%q is also the name of the case on line %d (names must be unique)", c.Name, first)
		}
		seen[c.Name] = c.Line
		s.Cases = append(s.Cases, s.Defaults.merge(*c))
	}
	for i, c := range s.Cases {
		if err := p.check(casesNode.Content[i], fmt.Sprintf("cases[%d]", i), c); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) parseCase(n *yaml.Node, where string, defaults bool) (*Case, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, where, "must be a mapping of fields")
	}
	c := &Case{Line: n.Line}
	// yamlfile refuses a key written twice; these are one field spelt
	// twice (client_id and client-id, user and username).
	first := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field := where + "." + k.Value
		name := strings.ReplaceAll(k.Value, "-", "_")
		if env, secret := secretFields[name]; secret {
			return nil, p.errorf(k, field, "secrets are never written in the file; name an environment variable with %s: NAME", env)
		}
		if canon := sameField[name]; canon != "" {
			name = canon
		}
		if f, dup := first[name]; dup {
			return nil, p.errorf(k, field, "duplicate key %q (first at line %d as %q)", k.Value, f.Line, f.Value)
		}
		first[name] = k
		var err error
		switch name {
		case "name":
			if defaults {
				return nil, p.errorf(k, field, "a name belongs to a case, not to the defaults")
			}
			c.Name, err = p.str(v, field)
		case "issuer":
			c.Issuer, err = p.str(v, field)
		case "client_id":
			c.ClientID, err = p.str(v, field)
		case "client_secret_env":
			c.ClientSecretEnv, err = p.envName(v, field)
		case "client_auth":
			c.ClientAuth, err = p.str(v, field)
			if methods := flow.AuthMethods(); err == nil && !slices.Contains(methods, c.ClientAuth) {
				err = p.errorf(v, field, "unknown %q (want %s)%s", c.ClientAuth, strings.Join(methods, ", "), suggest.Hint(c.ClientAuth, methods, ""))
			}
		case "client_key":
			c.ClientKey, err = p.keyFile(v, field)
		case "client_key_id":
			c.ClientKeyID, err = p.str(v, field)
		case "client_cert":
			c.ClientCert, err = p.keyFile(v, field)
		case "client_assertion_aud":
			c.AssertionAud, err = p.str(v, field)
			if auds := flow.AssertionAudiences(); err == nil && !slices.Contains(auds, c.AssertionAud) {
				err = p.errorf(v, field, "unknown %q (want %s)", c.AssertionAud, strings.Join(auds, ", "))
			}
		case "scopes":
			c.Scopes, err = p.list(v, field)
		case "audience":
			c.Audience, err = p.str(v, field)
		case "par":
			var b bool
			b, err = p.boolean(v, field)
			c.PAR = &b
		case "request_object":
			var b bool
			b, err = p.boolean(v, field)
			c.RequestObject = &b
		case "dpop":
			var b bool
			b, err = p.boolean(v, field)
			c.DPoP = &b
		case "dpop_key":
			c.DPoPKey, err = p.keyFile(v, field)
		case "resource":
			c.Resources, err = p.list(v, field)
			for _, r := range c.Resources {
				if err == nil && flow.CheckResource(r) != nil {
					err = p.errorf(v, field, "%q is not an absolute URI without a fragment (RFC 8707)", r)
				}
			}
		case "authorization_details":
			c.AuthorizationDetails, err = p.str(v, field)
			if err == nil {
				if cerr := flow.CheckAuthorizationDetails(c.AuthorizationDetails); cerr != nil {
					err = p.errorf(v, field, "must be a JSON array of objects with a type string each (RFC 9396)")
				}
			}
		case "grant":
			c.Grant, err = p.str(v, field)
		case "user":
			c.User, err = p.str(v, field)
		case "password_env":
			c.PasswordEnv, err = p.envName(v, field)
		case "refresh_token_env":
			c.RefreshTokenEnv, err = p.envName(v, field)
		case "subject_token_env":
			c.SubjectTokenEnv, err = p.envName(v, field)
		case "actor_token_env":
			c.ActorTokenEnv, err = p.envName(v, field)
		case "subject_token_type", "actor_token_type", "requested_token_type":
			var tt string
			if tt, err = p.str(v, field); err == nil {
				if tt, err = flow.ParseTokenType(field, tt); err != nil {
					err = p.errorf(v, field, "%v", err)
				}
			}
			switch name {
			case "subject_token_type":
				c.SubjectTokenType = tt
			case "actor_token_type":
				c.ActorTokenType = tt
			default:
				c.RequestedTokenType = tt
			}
		case "expect_groups":
			c.ExpectGroups, err = p.list(v, field)
		case "forbid_groups":
			c.ForbidGroups, err = p.list(v, field)
		case "exact_groups":
			var b bool
			b, err = p.boolean(v, field)
			c.ExactGroups = &b
		case "groups_claim":
			c.GroupsClaim, err = p.str(v, field)
		case "provider":
			c.Provider, err = p.str(v, field)
			if err == nil {
				var kind provider.Provider
				if kind, err = provider.Lookup(c.Provider); err != nil {
					err = p.errorf(v, field, "%v", err)
				}
				c.Provider = kind.Name
			}
		case "trusted_claims_issuer":
			c.TrustedClaimsIssuers, err = p.list(v, field)
			for _, iss := range c.TrustedClaimsIssuers {
				if u, perr := url.Parse(iss); err == nil && (perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "") {
					err = p.errorf(v, field, "%q is not an http(s) issuer URL", iss)
				}
			}
		case "claims_source_token":
			c.ClaimsSourceToken, err = p.str(v, field)
			if err == nil && c.ClaimsSourceToken != check.ClaimSourcesTokenRun {
				err = p.errorf(v, field, "unknown %q (want run: the case's access token goes to a distributed claims endpoint whose source gives none)", c.ClaimsSourceToken)
			}
		case "claims_source_graph":
			var b bool
			b, err = p.boolean(v, field)
			c.ClaimsSourceGraph = &b
		case "token":
			c.Token, err = p.list(v, field)
			for _, t := range c.Token {
				if err == nil && !validToken(t) {
					err = p.errorf(v, field, "unknown token %q (want id_token, access_token or userinfo)", t)
				}
			}
		case "claims":
			c.Claims, err = p.claims(v, field)
		case "snapshot":
			c.Snapshot, err = p.str(v, field)
		default:
			return nil, p.errorf(k, field, "unknown field%s", suggest.Hint(name, caseFields, ""))
		}
		if err != nil {
			return nil, err
		}
	}
	if !defaults && c.Name == "" {
		return nil, p.errorf(n, where+".name", "missing: every case needs a unique name")
	}
	return c, nil
}

// keyFile reads a field that names a key file, relative to the suite
// file's directory. Key material written in the field itself is refused,
// and not repeated: a suite file is meant to be committed.
func (p *parser) keyFile(v *yaml.Node, field string) (string, error) {
	s, err := p.str(v, field)
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(s)
	if strings.Contains(t, "-----BEGIN") || strings.HasPrefix(t, "{") || strings.ContainsAny(s, "\r\n") {
		what := "key"
		if strings.HasSuffix(field, "client_cert") {
			what = "certificate"
		}
		return "", p.errorf(v, field, "must name a file holding the %s; %s material is never written in a suite file", what, what)
	}
	if s == "" || filepath.IsAbs(s) {
		return s, nil
	}
	return filepath.Join(filepath.Dir(p.path), s), nil
}

// check validates a merged case: what it needs to run.
func (p *parser) check(n *yaml.Node, where string, c Case) error {
	switch {
	case c.Issuer == "":
		return p.errorf(n, where+".issuer", "missing (set it in defaults or in the case)")
	case c.ClientID == "":
		return p.errorf(n, where+".client_id", "missing (set it in defaults or in the case)")
	}
	// A suite runs grants only: none of them sends an authorization
	// request, so these keys would do nothing, which no one means.
	for _, k := range []struct {
		field string
		set   bool
	}{{"par", c.PAR != nil && *c.PAR}, {"request_object", c.RequestObject != nil && *c.RequestObject}, {"resource", len(c.Resources) > 0}, {"authorization_details", c.AuthorizationDetails != ""}} {
		if k.field == "resource" && c.Grant == flow.GrantTokenExchange {
			continue // a token exchange sends its resources (RFC 8693 §2.1)
		}
		if k.set {
			return p.errorf(n, where+"."+k.field, "applies to the authorization request, which a suite's grants (refresh_token, password, client_credentials) never send; use it with claimcheck run")
		}
	}
	if c.DPoP != nil && !*c.DPoP && c.DPoPKey != "" {
		return p.errorf(n, where+".dpop", "false, but dpop_key is set (a DPoP key means DPoP): drop one of them")
	}
	switch c.Grant {
	case flow.GrantPassword:
		if c.User == "" || c.PasswordEnv == "" {
			return p.errorf(n, where+".user", "the password grant needs user and password_env")
		}
	case flow.GrantRefreshToken:
		if c.RefreshTokenEnv == "" {
			return p.errorf(n, where+".refresh_token_env", "the refresh_token grant needs refresh_token_env")
		}
	case flow.GrantClientCredentials:
		if c.ClientSecretEnv == "" && c.ClientKey == "" && c.ClientCert == "" {
			return p.errorf(n, where+".client_secret_env", "the client_credentials grant needs client_secret_env (or client_key, or client_cert with it)")
		}
	case flow.GrantTokenExchange:
		if c.SubjectTokenEnv == "" || c.SubjectTokenType == "" {
			return p.errorf(n, where+".subject_token_env", "the token_exchange grant needs subject_token_env and subject_token_type")
		}
		if (c.ActorTokenEnv == "") != (c.ActorTokenType == "") {
			return p.errorf(n, where+".actor_token_type", "actor_token_env and actor_token_type go together (RFC 8693 §2.1)")
		}
	case flow.GrantDeviceCode:
		return p.errorf(n, where+".grant", "device_code needs a person at a browser; a suite runs unattended (use refresh_token with a token from --print-refresh-token)")
	case "":
		return p.errorf(n, where+".grant", "missing (refresh_token, password, client_credentials or token_exchange; in defaults or in the case)")
	default:
		return p.errorf(n, where+".grant", "unknown grant %q (want refresh_token, password, client_credentials or token_exchange)", c.Grant)
	}
	if c.ExactGroups != nil && *c.ExactGroups && len(c.ExpectGroups) == 0 {
		return p.errorf(n, where+".exact_groups", "needs expect_groups")
	}
	return nil
}

func validToken(t string) bool {
	return t == "id_token" || t == "access_token" || t == "userinfo"
}

func (p *parser) str(v *yaml.Node, field string) (string, error) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		return "", p.errorf(v, field, "must be a single value")
	}
	return v.Value, nil
}

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

func (p *parser) envName(v *yaml.Node, field string) (string, error) {
	s, err := p.str(v, field)
	if err != nil {
		return "", err
	}
	if !envNameRE.MatchString(s) {
		return "", p.errorf(v, field, "must name an environment variable (letters, digits, _), not hold the secret itself")
	}
	return s, nil
}

func (p *parser) boolean(v *yaml.Node, field string) (bool, error) {
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
		return false, p.errorf(v, field, "must be true or false")
	}
	return v.Value == "true", nil
}

// list accepts a YAML list of values or one comma-separated value.
func (p *parser) list(v *yaml.Node, field string) ([]string, error) {
	var out []string
	switch v.Kind {
	case yaml.ScalarNode:
		for _, s := range strings.Split(v.Value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case yaml.SequenceNode:
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, p.errorf(e, field, "must be a list of values")
			}
			out = append(out, e.Value)
		}
	default:
		return nil, p.errorf(v, field, "must be a list of values")
	}
	// yamlfile bounds a YAML list, not the words of one value.
	if len(out) > yamlfile.MaxItems {
		return nil, p.errorf(v, field, "a list of %d items, more than the limit of %d", len(out), yamlfile.MaxItems)
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func (p *parser) claims(v *yaml.Node, field string) ([]ClaimCheck, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, p.errorf(v, field, "must be a list of {claim, equals|contains|matches, token}")
	}
	var out []ClaimCheck
	for i, n := range v.Content {
		f := fmt.Sprintf("%s[%d]", field, i)
		if n.Kind != yaml.MappingNode {
			return nil, p.errorf(n, f, "must be a mapping {claim, equals|contains|matches, token}")
		}
		cc := ClaimCheck{Line: n.Line}
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, val := n.Content[j], n.Content[j+1]
			var err error
			switch k.Value {
			case "claim":
				cc.Claim, err = p.str(val, f+".claim")
			case "token":
				cc.Token, err = p.str(val, f+".token")
				if err == nil && cc.Token != "any" && !validToken(cc.Token) {
					err = p.errorf(val, f+".token", "unknown token %q (want id_token, access_token, userinfo or any)", cc.Token)
				}
				if cc.Token == "any" {
					cc.Token = ""
				}
			case "equals", "contains", "matches":
				if cc.Op != "" {
					return nil, p.errorf(k, f+"."+k.Value, "one of equals, contains or matches per entry (this one has %s too)", cc.Op)
				}
				cc.Op = k.Value
				var decoded any
				if err = val.Decode(&decoded); err != nil {
					err = p.errorf(val, f+"."+k.Value, "%s", oneLine(err.Error()))
				}
				cc.Value = decoded
				if err == nil && k.Value == "matches" {
					s, ok := decoded.(string)
					if !ok {
						err = p.errorf(val, f+".matches", "must be a regular expression string")
					} else if cc.re, err = regexp.Compile(s); err != nil {
						err = p.errorf(val, f+".matches", "bad regular expression: %s", oneLine(err.Error()))
					}
				}
			default:
				err = p.errorf(k, f+"."+k.Value, "unknown field (want claim, token, equals, contains or matches)%s", suggest.Hint(k.Value, []string{"claim", "token", "equals", "contains", "matches"}, ""))
			}
			if err != nil {
				return nil, err
			}
		}
		if cc.Claim == "" {
			return nil, p.errorf(n, f+".claim", "missing")
		}
		if err := verify.CheckClaimRef(cc.Claim); err != nil {
			return nil, p.errorf(n, f+".claim", "%v", err)
		}
		if cc.Op == "" {
			return nil, p.errorf(n, f, "needs one of equals, contains or matches")
		}
		out = append(out, cc)
	}
	return out, nil
}

// merge fills the fields c leaves unset from d; claims add up.
func (d Case) merge(c Case) Case {
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	orList := func(a, b []string) []string {
		if a != nil {
			return a
		}
		return b
	}
	c.Issuer = or(c.Issuer, d.Issuer)
	c.ClientID = or(c.ClientID, d.ClientID)
	c.ClientSecretEnv = or(c.ClientSecretEnv, d.ClientSecretEnv)
	c.ClientAuth = or(c.ClientAuth, d.ClientAuth)
	c.ClientKey = or(c.ClientKey, d.ClientKey)
	c.ClientKeyID = or(c.ClientKeyID, d.ClientKeyID)
	c.ClientCert = or(c.ClientCert, d.ClientCert)
	c.AssertionAud = or(c.AssertionAud, d.AssertionAud)
	c.Scopes = orList(c.Scopes, d.Scopes)
	c.Audience = or(c.Audience, d.Audience)
	if c.PAR == nil {
		c.PAR = d.PAR
	}
	if c.RequestObject == nil {
		c.RequestObject = d.RequestObject
	}
	if c.DPoP == nil {
		c.DPoP = d.DPoP
	}
	c.DPoPKey = or(c.DPoPKey, d.DPoPKey)
	c.Resources = orList(c.Resources, d.Resources)
	c.AuthorizationDetails = or(c.AuthorizationDetails, d.AuthorizationDetails)
	c.Grant = or(c.Grant, d.Grant)
	c.User = or(c.User, d.User)
	c.PasswordEnv = or(c.PasswordEnv, d.PasswordEnv)
	c.RefreshTokenEnv = or(c.RefreshTokenEnv, d.RefreshTokenEnv)
	c.SubjectTokenEnv = or(c.SubjectTokenEnv, d.SubjectTokenEnv)
	c.SubjectTokenType = or(c.SubjectTokenType, d.SubjectTokenType)
	c.ActorTokenEnv = or(c.ActorTokenEnv, d.ActorTokenEnv)
	c.ActorTokenType = or(c.ActorTokenType, d.ActorTokenType)
	c.RequestedTokenType = or(c.RequestedTokenType, d.RequestedTokenType)
	c.ExpectGroups = orList(c.ExpectGroups, d.ExpectGroups)
	c.ForbidGroups = orList(c.ForbidGroups, d.ForbidGroups)
	if c.ExactGroups == nil {
		c.ExactGroups = d.ExactGroups
	}
	c.GroupsClaim = or(c.GroupsClaim, d.GroupsClaim)
	c.Provider = or(c.Provider, d.Provider)
	c.Token = orList(c.Token, d.Token)
	c.TrustedClaimsIssuers = orList(c.TrustedClaimsIssuers, d.TrustedClaimsIssuers)
	c.ClaimsSourceToken = or(c.ClaimsSourceToken, d.ClaimsSourceToken)
	if c.ClaimsSourceGraph == nil {
		c.ClaimsSourceGraph = d.ClaimsSourceGraph
	}
	c.Claims = append(append([]ClaimCheck(nil), d.Claims...), c.Claims...)
	c.Snapshot = or(c.Snapshot, d.Snapshot)
	if c.Grant == "" && c.User != "" {
		c.Grant = flow.GrantPassword
	}
	return c
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", " "), "\n", " ")
}
