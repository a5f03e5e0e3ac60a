package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// Metadata is the part of an OpenID Provider's discovery document (or an
// RFC 8414 authorization server's metadata) that claimcheck uses.
type Metadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	DeviceAuthorizationEndpoint                string   `json:"device_authorization_endpoint,omitempty"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	// PushedAuthorizationRequestEndpoint and
	// RequirePushedAuthorizationRequests are RFC 9126 §5's: where to push
	// an authorization request, and whether the provider takes no other.
	PushedAuthorizationRequestEndpoint string `json:"pushed_authorization_request_endpoint,omitempty"`
	RequirePushedAuthorizationRequests bool   `json:"require_pushed_authorization_requests,omitempty"`
	// RequestObjectSigningAlgValuesSupported, RequestParameterSupported
	// and RequireSignedRequestObject describe request objects (RFC 9101
	// §10.5, OpenID Connect Discovery §3): the algorithms the provider
	// verifies, whether it takes the request parameter, and whether it
	// takes an authorization request only as a signed request object.
	RequestObjectSigningAlgValuesSupported []string `json:"request_object_signing_alg_values_supported,omitempty"`
	RequestParameterSupported              bool     `json:"request_parameter_supported,omitempty"`
	RequireSignedRequestObject             bool     `json:"require_signed_request_object,omitempty"`
	// DPoPSigningAlgValuesSupported are the DPoP proof algorithms the
	// provider accepts (RFC 9449 §5.1); listed means it offers DPoP.
	DPoPSigningAlgValuesSupported []string `json:"dpop_signing_alg_values_supported,omitempty"`
	// MTLSEndpointAliases are the endpoints a client using mutual TLS
	// calls instead of the conventional ones (RFC 8705 §5); nil when the
	// provider publishes none. See WithMTLSAliases.
	MTLSEndpointAliases *MTLSEndpointAliases `json:"mtls_endpoint_aliases,omitempty"`
	// TLSClientCertificateBoundAccessTokens says the provider can bind
	// access tokens to the client's TLS certificate (RFC 8705 §3.3).
	TLSClientCertificateBoundAccessTokens bool `json:"tls_client_certificate_bound_access_tokens,omitempty"`
	// AuthorizationSigningAlgValuesSupported,
	// AuthorizationEncryptionAlgValuesSupported and
	// AuthorizationEncryptionEncValuesSupported describe JWT secured
	// authorization responses (JARM section 5): the algorithms the
	// provider signs response JWTs with, and those it can encrypt them
	// with.
	AuthorizationSigningAlgValuesSupported    []string `json:"authorization_signing_alg_values_supported,omitempty"`
	AuthorizationEncryptionAlgValuesSupported []string `json:"authorization_encryption_alg_values_supported,omitempty"`
	AuthorizationEncryptionEncValuesSupported []string `json:"authorization_encryption_enc_values_supported,omitempty"`
}

// extraMetadata holds discovery fields that only this package needs.
type extraMetadata struct {
	UserinfoSigningAlgValuesSupported []string `json:"userinfo_signing_alg_values_supported"`
}

// Provider is a discovered authorization server: its metadata and its key
// set. A Provider is meant to live for one run; the key set's refetch
// allowance ("once per unknown key, then at most once per interval") is
// counted per Provider. It is safe for concurrent use.
type Provider struct {
	meta   Metadata
	client *http.Client
	// keys is nil when the metadata has no jwks_uri (RFC 8414 servers need
	// not publish one).
	keys *keySet
	// idAlgs are the algorithms accepted on ID tokens: the advertised ones
	// that are asymmetric, or RS256 when nothing is advertised.
	idAlgs []string
	// userinfoAlgs are the algorithms accepted on signed userinfo
	// responses, from userinfoAlgsField (userinfo_signing_alg_values_supported,
	// or the ID token's list when that is absent) advertising
	// userinfoAdvertised.
	userinfoAlgs, userinfoAdvertised []string
	userinfoAlgsField                string
	// responseAlgs are the algorithms accepted on JARM response JWTs: the
	// advertised asymmetric ones, or RS256 (JARM's default) when the
	// metadata names none.
	responseAlgs []string
}

// defaultTimeout bounds each request when Discover is given no client.
const defaultTimeout = 10 * time.Second

// Discover fetches the metadata of issuer from
// {issuer}/.well-known/openid-configuration and, only when that answers 404,
// from the RFC 8414 location /.well-known/oauth-authorization-server (and,
// for an issuer with a path, {issuer}/.well-known/oauth-authorization-server
// as many servers publish it there).
//
// client is used for every later request of the Provider too (JWKS,
// userinfo); pass one from internal/httpclient so that each request has a
// deadline and a body cap. A nil client gets one with a 10s timeout.
//
// A malformed issuer is a failure.Usage error; a document whose issuer
// differs from the one asked for is a failure.Verification error that wraps
// *oidc.IssuerMismatchError, and one with an endpoint that is not an
// http(s) URL (see checkEndpoints) one that wraps *MetadataError naming the
// field; an unreachable endpoint, a non-2xx status or a
// body that is not a metadata document is a failure.Provider error.
func Discover(ctx context.Context, issuer string, client *http.Client) (*Provider, error) {
	const op = "discovery"
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, failure.New(failure.Usage, op, "issuer %s is not an http(s) URL without query or fragment", quote(issuer))
	}
	if client == nil {
		client, err = httpclient.New(httpclient.Options{Timeout: defaultTimeout})
		if err != nil {
			return nil, failure.Wrap(failure.Usage, op, err)
		}
	}

	var body []byte
	var from string
	var notFound []string
	for _, candidate := range discoveryURLs(u) {
		res, err := get(ctx, client, candidate, map[string]string{"Accept": "application/json"})
		if err != nil {
			return nil, fetchFailure(ctx, op, candidate, err)
		}
		if res.status == http.StatusNotFound {
			notFound = append(notFound, displayURL(candidate))
			continue
		}
		if err := res.wantJSON(); err != nil {
			return nil, failure.New(failure.Provider, op, "%s: %w", displayURL(candidate), err)
		}
		body, from = res.body, candidate
		break
	}
	if body == nil {
		return nil, failure.New(failure.Provider, op, "status 404 at %s", strings.Join(notFound, " and "))
	}

	var meta Metadata
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, failure.New(failure.Provider, op, "%s: %w", displayURL(from), jsonProblem("metadata document", err))
	}
	var extra extraMetadata
	// The extra fields are optional; a malformed one is ignored rather than
	// failing a document whose required fields are fine.
	_ = json.Unmarshal(body, &extra)

	if meta.Issuer != issuer {
		return nil, failure.Wrap(failure.Verification, op, &issuerMismatch{
			from: displayURL(from),
			err:  &oidc.IssuerMismatchError{Provided: issuer, Discovered: meta.Issuer},
		})
	}
	if err := checkEndpoints(meta, u.Scheme); err != nil {
		err.Document = displayURL(from)
		return nil, failure.New(failure.Verification, op, "%w", err)
	}
	if err := checkMTLSAliases(meta.MTLSEndpointAliases); err != nil {
		err.Document = displayURL(from)
		return nil, failure.New(failure.Verification, op, "%w", err)
	}

	p := &Provider{
		meta:   meta,
		client: client,
		idAlgs: acceptedAlgs(meta.IDTokenSigningAlgValuesSupported),
		// JARM section 3: a client that registers no
		// authorization_signed_response_alg gets RS256.
		responseAlgs: acceptedAlgs(meta.AuthorizationSigningAlgValuesSupported),
	}
	// Signed userinfo is rare; without its own list, the ID token's
	// algorithms are the best statement of what the provider signs with.
	p.userinfoAlgs, p.userinfoAdvertised, p.userinfoAlgsField = p.idAlgs, meta.IDTokenSigningAlgValuesSupported, "id_token_signing_alg_values_supported"
	if len(extra.UserinfoSigningAlgValuesSupported) > 0 {
		p.userinfoAlgs = acceptedAlgs(extra.UserinfoSigningAlgValuesSupported)
		p.userinfoAdvertised, p.userinfoAlgsField = extra.UserinfoSigningAlgValuesSupported, "userinfo_signing_alg_values_supported"
	}
	if meta.JWKSURI != "" {
		p.keys = newKeySet(meta.JWKSURI, client)
	}
	return p, nil
}

// MetadataError is a discovery document whose field holds a value the
// protocol does not allow, such as an endpoint that is not an http(s) URL.
// It is a failure.Verification error: the provider answered, and what it
// said fails the checks OpenID Discovery and RFC 8414 set.
type MetadataError struct {
	Document string // the discovery document's URL, as DisplayURL shows it
	Field    string // "token_endpoint"
	Reason   string // `has scheme "file", not http(s)`
}

func (e *MetadataError) Error() string {
	return e.Field + " in the document at " + e.Document + " " + e.Reason
}

// checkEndpoints checks every endpoint of meta before anything is sent to
// one: an absolute URL with a host and no fragment (RFC 6749 §3.1 and
// §3.2), over https, or over http only when the issuer itself is http (a
// provider on loopback in a test). A javascript: or file: URL, or an http
// token endpoint under an https issuer (the client secret and the code in
// clear text), is the provider's metadata failing verification, not a
// usage error of the person running claimcheck.
func checkEndpoints(meta Metadata, issuerScheme string) *MetadataError {
	for _, e := range []struct{ field, url string }{
		{"authorization_endpoint", meta.AuthorizationEndpoint},
		{"token_endpoint", meta.TokenEndpoint},
		{"userinfo_endpoint", meta.UserinfoEndpoint},
		{"jwks_uri", meta.JWKSURI},
		{"introspection_endpoint", meta.IntrospectionEndpoint},
		{"revocation_endpoint", meta.RevocationEndpoint},
		{"device_authorization_endpoint", meta.DeviceAuthorizationEndpoint},
		{"end_session_endpoint", meta.EndSessionEndpoint},
		{"pushed_authorization_request_endpoint", meta.PushedAuthorizationRequestEndpoint},
	} {
		if e.url == "" {
			continue
		}
		if reason := endpointProblem(e.url, issuerScheme); reason != "" {
			return &MetadataError{Field: e.field, Reason: reason}
		}
	}
	return nil
}

// endpointProblem says what is wrong with an endpoint URL, "" if nothing.
// The URL itself is quoted only as DisplayURL shows it.
func endpointProblem(raw, issuerScheme string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Sprintf("%s is not an absolute URL", quote(displayURL(raw)))
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Sprintf("has scheme %s, not http(s)", quote(u.Scheme))
	case u.Scheme == "http" && issuerScheme == "https":
		return fmt.Sprintf("%s is http under an https issuer", quote(displayURL(raw)))
	case u.Host == "":
		return fmt.Sprintf("%s has no host", quote(displayURL(raw)))
	case u.Fragment != "" || strings.HasSuffix(raw, "#"):
		return fmt.Sprintf("%s has a fragment", quote(displayURL(raw)))
	}
	return ""
}

// Metadata returns the discovered metadata.
func (p *Provider) Metadata() Metadata {
	return p.meta
}

// discoveryURLs lists where the metadata may be, in the order tried.
func discoveryURLs(issuer *url.URL) []string {
	trimmed := strings.TrimSuffix(issuer.String(), "/")
	urls := []string{trimmed + "/.well-known/openid-configuration"}
	path := strings.TrimSuffix(issuer.EscapedPath(), "/")
	// RFC 8414 section 3.1 inserts the well-known segment between host and
	// path; OpenID Discovery appends it. Many OAuth servers with a path in
	// their issuer serve the appended form too, so it is tried last.
	rfc8414 := issuer.Scheme + "://" + issuer.Host + "/.well-known/oauth-authorization-server" + path
	urls = append(urls, rfc8414)
	if path != "" {
		urls = append(urls, trimmed+"/.well-known/oauth-authorization-server")
	}
	return urls
}

// issuerMismatch words the mismatch for a person while keeping go-oidc's
// typed error inspectable with errors.As.
type issuerMismatch struct {
	from string
	err  *oidc.IssuerMismatchError
}

func (m *issuerMismatch) Error() string {
	msg := fmt.Sprintf("the document at %s names issuer %s, not %s", m.from, quote(m.err.Discovered), quote(m.err.Provided))
	if strings.TrimSuffix(m.err.Discovered, "/") == strings.TrimSuffix(m.err.Provided, "/") {
		msg += " (they differ in a trailing slash; the issuer must match exactly)"
	}
	return msg
}

func (m *issuerMismatch) Unwrap() error { return m.err }

// acceptedAlgs keeps the advertised algorithms that are asymmetric
// signatures claimcheck verifies. "none" and the HS* MACs are never kept: a
// MAC keyed with a shared secret proves nothing about the issuer to a
// client that holds the secret itself, and HS256 with a public key as the
// secret is the classic algorithm-confusion attack.
func acceptedAlgs(advertised []string) []string {
	if len(advertised) == 0 {
		return []string{oidc.RS256}
	}
	var out []string
	for _, a := range advertised {
		if slices.Contains(asymmetricNames, a) {
			out = append(out, a)
		}
	}
	return out
}

// asymmetricNames are the JWS signature algorithms claimcheck verifies
// (RFC 7518 section 3, RFC 8037).
var asymmetricNames = []string{
	oidc.RS256, oidc.RS384, oidc.RS512,
	oidc.ES256, oidc.ES384, oidc.ES512,
	oidc.PS256, oidc.PS384, oidc.PS512,
	oidc.EdDSA,
}

// response is a fetched HTTP response with its (capped) body.
type response struct {
	status int
	ctype  string
	header http.Header
	body   []byte
}

// maxBody caps every body read here, also when the caller's client has no
// cap of its own.
const maxBody = httpclient.DefaultMaxBody

// errTooLarge reports a body over maxBody (or over the client's own cap).
var errTooLarge = errors.New("response body is too large")

// get performs a GET and reads the body of a 2xx response. Its errors hold
// no URL (StripURL) so the caller can name the endpoint in its own words.
func get(ctx context.Context, client *http.Client, rawURL string, header map[string]string) (*response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, httpclient.StripURL(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return send(client, req)
}

// send does req and reads a 2xx body within maxBody.
func send(client *http.Client, req *http.Request) (*response, error) {
	resp, err := client.Do(req)
	if err != nil {
		var tooLarge *httpclient.BodyTooLargeError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w (over %d bytes)", errTooLarge, tooLarge.Limit)
		}
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			return nil, fmt.Errorf("timed out: %w", httpclient.StripURL(err))
		}
		return nil, httpclient.StripURL(err)
	}
	defer resp.Body.Close()
	res := &response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), header: resp.Header}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return res, nil
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		var tooLarge *httpclient.BodyTooLargeError
		if errors.As(err, &tooLarge) {
			return nil, fmt.Errorf("%w (over %d bytes)", errTooLarge, tooLarge.Limit)
		}
		return nil, fmt.Errorf("reading the body: %w", httpclient.StripURL(err))
	}
	if len(body) > maxBody {
		return nil, fmt.Errorf("%w (over %d bytes)", errTooLarge, maxBody)
	}
	res.body = body
	return res, nil
}

// wantJSON accepts a 200 whose body looks like a JSON object. The checks
// come before decoding so that an HTML error page or a login page served
// with status 200 is named as such rather than as a JSON syntax error.
func (r *response) wantJSON() error {
	if r.status != http.StatusOK {
		return fmt.Errorf("status %d", r.status)
	}
	if r.isHTML() {
		return errors.New("status 200 with an HTML page, not JSON")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("{")) {
		return errors.New("status 200 with a body that is not a JSON object")
	}
	return nil
}

func (r *response) mediaType() string {
	mt, _, err := mime.ParseMediaType(r.ctype)
	if err != nil {
		return ""
	}
	return strings.ToLower(mt)
}

func (r *response) isHTML() bool {
	mt := r.mediaType()
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("<"))
}

// jsonProblem describes a decoding error without quoting the input: a
// syntax error's text is safe, a type error is reduced to the field name.
func jsonProblem(what string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "the top level"
		}
		return fmt.Errorf("the %s is malformed: %s has the wrong JSON type (%s)", what, field, typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Errorf("the %s is not valid JSON (at byte %d)", what, syntaxErr.Offset)
	}
	return fmt.Errorf("the %s is not valid JSON", what)
}

// fetchFailure classifies a failed request: Ctrl-C is an interruption,
// anything else means the provider could not be used.
func fetchFailure(ctx context.Context, op, rawURL string, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return failure.New(failure.Interrupted, op, "%s: %w", displayURL(rawURL), context.Canceled)
	}
	return failure.New(failure.Provider, op, "%s: %w", displayURL(rawURL), err)
}

// DisplayURL is an endpoint as claimcheck prints it, in messages and
// reports: without user info, query or fragment, where a password, token or
// secret could sit.
func DisplayURL(raw string) string { return displayURL(raw) }

// displayURL is DisplayURL.
func displayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(malformed URL)"
	}
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

// quote makes a value from the provider or a token safe to put in a
// one-line message: control characters escaped, length bounded.
func quote(s string) string {
	const max = 100
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}
