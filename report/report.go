// Package report holds the outcome of a claimcheck run and renders it as
// text for a person, as the JSON object of the command-line contract, and
// as JUnit XML for CI systems.
package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/verify"
)

// Token kinds, as used for the keys of Report.Tokens and the sources of
// checks: verify's source names, and introspection.
const (
	IDToken     = verify.SourceIDToken
	AccessToken = verify.SourceAccessToken
	UserInfo    = verify.SourceUserinfo
	// Introspection is the provider's RFC 7662 answer about the access token.
	Introspection = "introspection"
	// FrontIDToken is, in a hybrid flow whose token endpoint also returned
	// an ID token, the one of the authorization response (IDToken is then
	// the token endpoint's). It is not a source of the groups checks.
	FrontIDToken = "front_id_token"
	// IssuedToken is what a token exchange (RFC 8693) issued when it is
	// neither an access token nor an ID token (a refresh token, a SAML
	// assertion), which nothing verifies locally.
	IssuedToken = "issued_token"
	// ResponseJWT is the response JWT of a JARM authorization response,
	// whose claims are the response's parameters (a code, tokens and the
	// state among them are redacted). It is not a source of the groups
	// checks.
	ResponseJWT = "response_jwt"
)

// Report is the outcome of one run. Its JSON form is the contract that
// scripts read; fields are only ever added.
type Report struct {
	OK       bool     `json:"ok"`
	ExitCode int      `json:"exit_code"`
	Issuer   string   `json:"issuer"`
	Flow     string   `json:"flow"`
	Request  *Request `json:"request,omitempty"`
	// Provider is the kind of provider the run took the issuer for, once
	// its discovery document was read.
	Provider *Provider         `json:"provider,omitempty"`
	Tokens   map[string]*Token `json:"tokens"`
	Checks   []verify.Check    `json:"checks"`
	Notes    []string          `json:"notes,omitempty"`
	// Error is the failure that ended the run, nil when it got through to
	// its checks. In JSON, "error" is the outcome instead (see Outcome):
	// failed checks make it an expectation error.
	Error *Error `json:"error"`
}

// Request is what was asked of the provider.
type Request struct {
	// Grant is the non-interactive grant of the run (--grant); empty for
	// a browser flow.
	Grant      string `json:"grant,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	ClientAuth string `json:"client_auth,omitempty"`
	// ClientAssertion describes the client assertions sent, for
	// private_key_jwt and client_secret_jwt.
	ClientAssertion *ClientAssertion  `json:"client_assertion,omitempty"`
	ResponseType    string            `json:"response_type,omitempty"`
	ResponseMode    string            `json:"response_mode,omitempty"`
	Scopes          []string          `json:"scopes,omitempty"`
	RedirectURI     string            `json:"redirect_uri,omitempty"`
	AuthorizeURL    string            `json:"authorize_url,omitempty"`
	Endpoints       map[string]string `json:"endpoints,omitempty"`
	// PAR describes the pushed authorization request (RFC 9126), when
	// the request was pushed.
	PAR *PushedRequest `json:"par,omitempty"`
	// Resources are the resource indicators asked for (RFC 8707).
	Resources []string `json:"resource,omitempty"`
	// AuthorizationDetails is the authorization_details sent (RFC 9396),
	// as JSON.
	AuthorizationDetails json.RawMessage `json:"authorization_details,omitempty"`
	// RequestObject describes the signed request object (RFC 9101) that
	// carried the authorization request, when there was one.
	RequestObject *RequestObject `json:"request_object,omitempty"`
	// DPoP describes the DPoP key the run's proofs were signed with
	// (RFC 9449), when it used one.
	DPoP *DPoP `json:"dpop,omitempty"`
	// TokenExchange describes a token exchange (RFC 8693), when the run
	// was one.
	TokenExchange *TokenExchange `json:"token_exchange,omitempty"`
	// ClientCertificate describes the TLS client certificate of mutual
	// TLS (RFC 8705), when the run presented one.
	ClientCertificate *ClientCertificate `json:"client_certificate,omitempty"`
	// JARM describes the JWT secured authorization response (JARM), when
	// the run asked for one.
	JARM *JARM `json:"jarm,omitempty"`
}

// TokenExchange is what a token exchange asked for and what it got
// (RFC 8693): token types and audiences, never the tokens.
type TokenExchange struct {
	SubjectTokenType   string   `json:"subject_token_type"`
	ActorTokenType     string   `json:"actor_token_type,omitempty"`
	RequestedTokenType string   `json:"requested_token_type,omitempty"`
	Audiences          []string `json:"audience,omitempty"`
	// IssuedTokenType is the response's issued_token_type; empty when it
	// had none (a failed check) or the request failed.
	IssuedTokenType string `json:"issued_token_type,omitempty"`
	// Act and MayAct are the issued token's act and may_act claims (RFC
	// 8693 §4.1, §4.4), when it is verified and has them: who acts for
	// the subject, and who may.
	Act    any `json:"act,omitempty"`
	MayAct any `json:"may_act,omitempty"`
}

// ClientCertificate is the TLS client certificate a run presented: never
// the certificate's or the key's file content.
type ClientCertificate struct {
	// X5tS256 is the certificate's SHA-256 thumbprint, the cnf.x5t#S256
	// a certificate-bound token must carry (RFC 8705 §3.1).
	X5tS256 string `json:"x5t#S256"`
	// Subject is the certificate's subject DN; NotAfter the end of its
	// validity (RFC 3339).
	Subject  string `json:"subject"`
	NotAfter string `json:"not_after"`
	// File and KeyFile are the files the certificate and its key were
	// read from.
	File    string `json:"file"`
	KeyFile string `json:"key_file"`
	// EndpointAliases names the endpoints called at their
	// mtls_endpoint_aliases (RFC 8705 §5) instead (token_endpoint, ...).
	EndpointAliases []string `json:"mtls_endpoint_aliases,omitempty"`
}

// JARM is how a run's authorization response came as a JWT (JARM): never
// the JWT itself, which is the response_jwt token.
type JARM struct {
	// Mode is the response mode the response was expected in: query.jwt,
	// fragment.jwt or form_post.jwt (jwt resolved for the response type).
	Mode string `json:"mode"`
	// Alg and KeyID are the verified response JWT's header alg and kid;
	// empty until one was verified.
	Alg   string `json:"alg,omitempty"`
	KeyID string `json:"kid,omitempty"`
	// Algs are the provider's authorization_signing_alg_values_supported;
	// empty when its metadata lists none (RS256 is then expected).
	Algs []string `json:"authorization_signing_alg_values_supported,omitempty"`
}

// RequestObject is what the request object of a run was (RFC 9101):
// never the object itself.
type RequestObject struct {
	// Alg is the JWS algorithm, KeyID the kid (empty when none was sent).
	Alg   string `json:"alg"`
	KeyID string `json:"kid,omitempty"`
	// Required says the provider's metadata has
	// require_signed_request_object.
	Required bool `json:"required,omitempty"`
}

// DPoP is the key of a run's DPoP proofs: never the key itself.
type DPoP struct {
	// JKT is the key's JWK SHA-256 thumbprint (RFC 7638), the dpop_jkt
	// sent and the cnf.jkt a bound token must carry.
	JKT string `json:"jkt"`
	// Alg is the proofs' JWS algorithm.
	Alg string `json:"alg"`
	// KeyFile is the file the key was read from; empty for a key made
	// for the run.
	KeyFile string `json:"key_file,omitempty"`
}

// PushedRequest is what the pushed authorization request of a run was
// (RFC 9126).
type PushedRequest struct {
	// Endpoint is the pushed_authorization_request_endpoint.
	Endpoint string `json:"endpoint"`
	// Required says the provider's metadata has
	// require_pushed_authorization_requests.
	Required bool `json:"required"`
	// RequestURI is the request_uri the provider returned, which the
	// authorize URL carries; empty when the push failed.
	RequestURI string `json:"request_uri,omitempty"`
	// ExpiresIn is its lifetime in seconds, as the provider stated it.
	ExpiresIn int64 `json:"expires_in,omitempty"`
}

// ClientAssertion is what the client assertions of a run said (RFC 7523):
// never the assertion itself.
type ClientAssertion struct {
	// Alg is the JWS algorithm, KeyID the kid (empty when none was sent).
	Alg   string `json:"alg"`
	KeyID string `json:"kid,omitempty"`
	// Audience is the aud: the token endpoint or the issuer.
	Audience string `json:"aud"`
}

// Provider names the kind of provider of a run (see package provider):
// "okta", "keycloak", …, or "generic" for one claimcheck has no particular
// knowledge of, and why: what in the issuer and the discovery metadata
// matched, or that the configuration named it.
type Provider struct {
	Name string `json:"name"`
	// Title is the provider's name for people, e.g. "Microsoft Entra ID".
	Title string `json:"title"`
	Why   string `json:"why"`
}

// Token is what became of one token (or of the userinfo response, or the
// provider's introspection answer).
type Token struct {
	Verified bool `json:"verified"`
	// Claims are the claims of a verified token, or the provider's own
	// answer (userinfo, introspection); nil (JSON null) for a token that
	// was rejected or could not be verified.
	Claims map[string]any `json:"claims"`
	// UnverifiedClaims are what a rejected or unverifiable JWT claims,
	// decoded for display only: never a basis for a decision.
	UnverifiedClaims map[string]any `json:"unverified_claims,omitempty"`
	Header           map[string]any `json:"header,omitempty"`
	// Note explains a token that was not verified without it being an
	// error, such as an opaque access token.
	Note string `json:"note,omitempty"`
	// Error says why the token was rejected; in JSON null when it was not.
	Error string `json:"error"`
	// Raw is the token itself; set only with --show-tokens.
	Raw string `json:"raw,omitempty"`
}

// MarshalJSON writes Error as null when there is none, so that
// .tokens.KIND.error is always present.
func (t Token) MarshalJSON() ([]byte, error) {
	type plain Token
	v := struct {
		plain
		Error *string `json:"error"`
	}{plain: plain(t)}
	if t.Error != "" {
		v.Error = &t.Error
	}
	return marshal(v)
}

// MarshalJSON writes "error" as the outcome (see Outcome): null only when
// the run passed.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	v := plain(r)
	v.Error = r.Outcome()
	return marshal(v)
}

// marshal is json.Marshal without HTML escaping, as WriteJSON writes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Error is the failure that ended a run.
type Error struct {
	Class   failure.Class `json:"class"`
	Message string        `json:"message"`
}

// New returns an empty report for issuer and flow.
func New(issuer, flow string) *Report {
	return &Report{Issuer: issuer, Flow: flow, Tokens: map[string]*Token{}, Checks: []verify.Check{}}
}

// Fail records err as the failure that ended the run. The first failure
// recorded wins; later ones are consequences.
func (r *Report) Fail(err error) {
	if err == nil || r.Error != nil {
		return
	}
	r.Error = &Error{Class: failure.ClassOf(err), Message: err.Error()}
}

// AddCheck appends a check.
func (r *Report) AddCheck(c verify.Check) { r.Checks = append(r.Checks, c) }

// Finish computes OK and ExitCode from the error and the checks.
func (r *Report) Finish() {
	switch {
	case r.Error != nil:
		r.OK, r.ExitCode = false, r.Error.Class.ExitCode()
	case r.failedChecks() > 0:
		r.OK, r.ExitCode = false, failure.Expectation.ExitCode()
	default:
		r.OK, r.ExitCode = true, 0
	}
}

// Class is the class of the run's outcome: the error's class, Expectation
// when a check failed, "" when the run passed.
func (r *Report) Class() failure.Class {
	if r.Error != nil {
		return r.Error.Class
	}
	if r.failedChecks() > 0 {
		return failure.Expectation
	}
	return ""
}

// Outcome is the error a script sees: Error when the run failed, an
// expectation error naming the failed checks when one failed, nil when the
// run passed.
func (r *Report) Outcome() *Error {
	if r.Error != nil {
		return r.Error
	}
	var failed []string
	for _, c := range r.Checks {
		if !c.OK {
			failed = append(failed, checkName(c))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &Error{Class: failure.Expectation,
		Message: fmt.Sprintf("%d of %d checks failed: %s", len(failed), len(r.Checks), strings.Join(failed, ", "))}
}

func (r *Report) failedChecks() int {
	n := 0
	for _, c := range r.Checks {
		if !c.OK {
			n++
		}
	}
	return n
}

// RedactTokens removes the raw tokens; reports keep them only when the user
// asked to see them.
func (r *Report) RedactTokens() {
	for _, t := range r.Tokens {
		t.Raw = ""
	}
}

// Scrub passes every text of the report that a provider may have written
// through f: the error, the checks' details, the notes, the endpoints, and
// each token's error, note, claims and header. Raw tokens are left alone:
// they are shown only when asked for, and then as they are.
func (r *Report) Scrub(f func(string) string) {
	if r.Error != nil {
		r.Error.Message = f(r.Error.Message)
	}
	for i := range r.Checks {
		r.Checks[i].Detail = f(r.Checks[i].Detail)
	}
	for i := range r.Notes {
		r.Notes[i] = f(r.Notes[i])
	}
	if r.Request != nil {
		for k, v := range r.Request.Endpoints {
			r.Request.Endpoints[k] = f(v)
		}
	}
	for _, t := range r.Tokens {
		t.Error, t.Note = f(t.Error), f(t.Note)
		for _, m := range []map[string]any{t.Claims, t.UnverifiedClaims, t.Header} {
			scrubValues(m, f)
		}
	}
}

// scrubValues applies f to every string in m, at any depth, in place.
func scrubValues(m map[string]any, f func(string) string) {
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case string:
			return f(v)
		case map[string]any:
			for k, e := range v {
				v[k] = walk(e)
			}
		case []any:
			for i, e := range v {
				v[i] = walk(e)
			}
		case []string:
			for i, e := range v {
				v[i] = f(e)
			}
		}
		return v
	}
	walk(m)
}

// WriteJSON writes the report as one JSON object followed by a newline.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// VerifiedDetail is the detail of the check that a token verified: the
// same words for a run, claimcheck verify and a token stream.
func VerifiedDetail(alg string) string {
	return "signature (" + alg + ") and claims verified"
}
