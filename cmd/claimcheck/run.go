package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/loopback"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// ProviderOptions are the flags that say which provider and client to use
// and how to talk to it; every command that talks to a provider has them.
type ProviderOptions struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	ClientAuth   string
	// ClientKeyFile, ClientKeyID and AssertionAud are --client-key,
	// --client-key-id and --client-assertion-aud; resolve loads the key.
	ClientKeyFile string
	ClientKeyID   string
	AssertionAud  string
	// ClientCertFile is --client-cert; resolve loads it with the key of
	// --client-key.
	ClientCertFile string
	// DPoP and DPoPKeyFile are --dpop and --dpop-key; resolve loads the
	// key or makes one.
	DPoP        bool
	DPoPKeyFile string
	HTTPTimeout time.Duration
	ClockSkew   time.Duration
	CAFile      string

	secretFromFlag bool
	clientKey      *flow.ClientKey
	clientCert     *flow.ClientCertificate
	dpopKey        *flow.DPoPKey
}

// defaultClockSkew is --clock-skew's default, and the demo's allowance.
const defaultClockSkew = 2 * time.Minute

// maxClockSkew bounds --clock-skew: an allowance of hours would switch the
// checks of exp, iat and nbf off in effect.
const maxClockSkew = 10 * time.Minute

// checkClockSkew refuses a negative --clock-skew or one above maxClockSkew.
func checkClockSkew(d time.Duration) error {
	if d < 0 {
		return failure.New(failure.Usage, "--clock-skew", "must not be negative (got %s)", d)
	}
	if d > maxClockSkew {
		return failure.New(failure.Usage, "--clock-skew", "%s is above the limit of %s", d, maxClockSkew)
	}
	return nil
}

func (o *ProviderOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Issuer, "issuer", "", "the provider's issuer URL (discovery at ISSUER/.well-known/openid-configuration)")
	fs.StringVar(&o.ClientID, "client-id", "", "the client (application) id")
	fs.StringVar(&o.ClientSecret, "client-secret", "", "the client secret; prefer CLAIMCHECK_CLIENT_SECRET, or - to read it from stdin")
	fs.StringVar(&o.ClientAuth, "client-auth", "", "client authentication: client_secret_basic, client_secret_post, none, private_key_jwt, client_secret_jwt, tls_client_auth or self_signed_tls_client_auth (default: from the provider's metadata; tls_client_auth with --client-cert, private_key_jwt with --client-key)")
	fs.StringVar(&o.ClientKeyFile, "client-key", "", "FILE holding the private key of private_key_jwt, of --request-object and of --client-cert (PEM PKCS#8, PKCS#1 or SEC1, or a JWK or one-key JWKS); never the key itself")
	fs.StringVar(&o.ClientCertFile, "client-cert", "", "FILE holding the PEM TLS client certificate (chain allowed) of mutual TLS (RFC 8705), with its key in --client-key; presented to the token, PAR, device, introspection endpoints (their mtls_endpoint_aliases when published) and userinfo for certificate-bound tokens")
	fs.StringVar(&o.ClientKeyID, "client-key-id", "", "kid of the client key's assertions (default: the JWK's kid, else none)")
	fs.StringVar(&o.AssertionAud, "client-assertion-aud", "", "aud of client assertions: endpoint (default: the URL of the endpoint called, as Okta requires), token_endpoint or issuer")
	fs.BoolVar(&o.DPoP, "dpop", false, "DPoP-bound tokens (RFC 9449): proofs on token and userinfo requests, dpop_jkt on the authorize request; a fresh ES256 key per run unless --dpop-key")
	fs.StringVar(&o.DPoPKeyFile, "dpop-key", "", "FILE holding the DPoP private key (PEM or JWK, as --client-key); implies --dpop; never the key itself")
	fs.DurationVar(&o.HTTPTimeout, "http-timeout", 10*time.Second, "deadline of each request to the provider")
	fs.DurationVar(&o.ClockSkew, "clock-skew", defaultClockSkew, "allowed clock difference for exp, iat, nbf and auth_time (at most 10m)")
	fs.StringVar(&o.CAFile, "ca-file", "", "PEM file of extra CA certificates to trust (a private CA)")
}

// checkIssuerURL applies the rules of an issuer given by flag: an http(s)
// URL without query or fragment, plain http only on loopback.
func checkIssuerURL(flag, iss string) error {
	u, err := url.Parse(iss)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return failure.New(failure.Usage, flag, "%q is not an http(s) URL without query or fragment", iss)
	}
	if u.Scheme == "http" && !loopback.Host(u.Hostname()) {
		return failure.New(failure.Usage, flag, "%q: plain http is allowed only on loopback; use https", iss)
	}
	return nil
}

// resolve checks the provider flags and reads a secret given as "-".
func (o *ProviderOptions) resolve(ctx context.Context, fs *pflag.FlagSet, ios *IOStreams) error {
	if o.Issuer == "" {
		return failure.New(failure.Usage, "--issuer", "required (or CLAIMCHECK_ISSUER)")
	}
	if err := checkIssuerURL("--issuer", o.Issuer); err != nil {
		return err
	}
	// Zero would mean no deadline at all for requests to the provider.
	if o.HTTPTimeout <= 0 {
		return failure.New(failure.Usage, "--http-timeout", "must be positive (got %s)", o.HTTPTimeout)
	}
	if err := checkClockSkew(o.ClockSkew); err != nil {
		return err
	}
	if f := fs.Lookup("client-secret"); f != nil && f.Changed && o.ClientSecret != "-" {
		o.secretFromFlag = true
		fmt.Fprintln(ios.ErrOut, "warning: --client-secret on the command line is visible in the process list; set CLAIMCHECK_CLIENT_SECRET or pass --client-secret - and the secret on stdin")
	}
	if o.ClientSecret == "-" {
		s, err := readLine(ctx, ios.In)
		if err != nil {
			return stdinError("--client-secret -", "the secret", err)
		}
		o.ClientSecret = s
	}
	if err := o.loadClientKey(); err != nil {
		return err
	}
	if err := o.loadClientCert(); err != nil {
		return err
	}
	return o.loadDPoPKey()
}

// loadDPoPKey reads --dpop-key, or makes a fresh ES256 key for --dpop.
func (o *ProviderOptions) loadDPoPKey() error {
	switch {
	case o.DPoPKeyFile != "":
		if inlineKey(o.DPoPKeyFile) {
			return failure.New(failure.Usage, "--dpop-key", "takes the name of a file holding the key, not the key itself")
		}
		k, err := flow.LoadDPoPKey(o.DPoPKeyFile)
		if err != nil {
			return err
		}
		o.dpopKey = k
	case o.DPoP:
		k, err := flow.NewDPoPKey()
		if err != nil {
			return err
		}
		o.dpopKey = k
	}
	return nil
}

// loadClientKey checks --client-assertion-aud and --client-key-id and reads
// --client-key. The flag holds a file name: key material in it (or in
// CLAIMCHECK_CLIENT_KEY, or the configuration file) is refused without
// being repeated, since it would be visible in the process list or the
// environment of every child.
func (o *ProviderOptions) loadClientKey() error {
	if auds := flow.AssertionAudiences(); o.AssertionAud != "" && !slices.Contains(auds, o.AssertionAud) {
		return failure.New(failure.Usage, "--client-assertion-aud", "unknown %q (want %s)", o.AssertionAud, strings.Join(auds, ", "))
	}
	if o.ClientKeyFile == "" {
		if o.ClientKeyID != "" {
			return failure.New(failure.Usage, "--client-key-id", "names the kid of --client-key, which is not given")
		}
		return nil
	}
	if inlineKey(o.ClientKeyFile) {
		return failure.New(failure.Usage, "--client-key", "takes the name of a file holding the key, not the key itself")
	}
	k, err := flow.LoadClientKey(o.ClientKeyFile, o.ClientKeyID)
	if err != nil {
		return err
	}
	o.clientKey = k
	return nil
}

// loadClientCert reads --client-cert and pairs it with the key of
// --client-key; like the key, it is named by a file, never given inline.
func (o *ProviderOptions) loadClientCert() error {
	if o.ClientCertFile == "" {
		return nil
	}
	if inlineKey(o.ClientCertFile) {
		return failure.New(failure.Usage, "--client-cert", "takes the name of a file holding the certificate, not the certificate itself")
	}
	if o.clientKey == nil {
		return failure.New(failure.Usage, "--client-cert", "needs --client-key FILE, the certificate's private key")
	}
	c, err := flow.LoadClientCertificate(o.ClientCertFile, o.clientKey)
	if err != nil {
		return err
	}
	o.clientCert = c
	return nil
}

// inlineKey says whether s looks like key material rather than a file
// name: PEM armour, JSON, or a line break.
func inlineKey(s string) bool {
	t := strings.TrimSpace(s)
	return strings.Contains(t, "-----BEGIN") || strings.HasPrefix(t, "{") || strings.ContainsAny(s, "\r\n")
}

func (o *ProviderOptions) httpClient() (*http.Client, error) {
	c, err := httpclient.New(httpclient.Options{Timeout: o.HTTPTimeout, CAFile: o.CAFile})
	if err != nil {
		return nil, failure.Wrap(failure.Usage, "--ca-file", err)
	}
	return c, nil
}

// maxLine bounds a line read from stdin (a secret, password or token).
const maxLine = 64 << 10

// readLine reads one line of at most maxLine bytes from r. It returns when
// the line ends (newline or EOF) or when ctx is done, whichever comes first:
// a read from a terminal or pipe cannot be cancelled, so it runs on its own
// and is abandoned (the process is about to end) if ctx is done first.
func readLine(ctx context.Context, r io.Reader) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		s   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := readLineBlocking(r)
		ch <- result{s, err}
	}()
	select {
	case res := <-ch:
		return res.s, res.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func readLineBlocking(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			if b.Len() == maxLine {
				// Cutting it would send a different secret than the one given.
				return "", fmt.Errorf("the line is longer than %d KiB", maxLine>>10)
			}
			b.WriteByte(buf[0])
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	s := strings.TrimRight(b.String(), "\r")
	if s == "" {
		return "", fmt.Errorf("empty")
	}
	return s, nil
}

// stdinError classifies an error of readLine: interrupted when the command's
// context ended the read, usage otherwise.
func stdinError(op, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return failure.New(failure.Interrupted, op, "interrupted while reading %s from stdin", what)
	}
	return failure.New(failure.Usage, op, "reading %s from stdin: %w", what, err)
}

// CheckOptions are the expectations.
type CheckOptions struct {
	ExpectGroups []string
	ForbidGroups []string
	ExactGroups  bool
	GroupsClaim  string
	GroupsFrom   []string
	// Audience is the first --audience, the one a JWT access token's aud
	// must name; Audiences are all of them, which only a token exchange
	// sends (RFC 8693 §2.1) and checks.
	Audience  string
	Audiences []string
	// multiAudience allows more than one --audience: set for a token
	// exchange, before expectations.
	multiAudience bool
}

func (o *CheckOptions) addFlags(fs *pflag.FlagSet, defaultGroups ...string) {
	fs.StringSliceVar(&o.ExpectGroups, "expect-groups", defaultGroups, "groups that must all be present (comma separated)")
	fs.StringSliceVar(&o.ForbidGroups, "forbid-groups", nil, "groups none of which may be present")
	fs.BoolVar(&o.ExactGroups, "exact-groups", false, "the groups claim must hold exactly the expected groups")
	fs.StringVar(&o.GroupsClaim, "groups-claim", "groups", "the groups claim: a name exactly as written (cognito:groups, a URL) or a JSON Pointer (/realm_access/roles); KIND:NAME for one token kind, e.g. access_token:GroupsClaim (comma separated)")
	fs.StringSliceVar(&o.GroupsFrom, "groups-from", nil, "where to look: id_token,access_token,userinfo (default: every verified token, and userinfo when none carries the claim)")
	fs.Var(&audienceValue{o}, "audience", "expected aud of JWT access tokens; with --grant token_exchange, the audience to ask for (repeatable; each must be in the issued token's aud)")
}

// audienceValue is --audience: repeatable, so that a token exchange can
// name several audiences, with the first in Audience for every other
// use. Its type is stringArray, so that a configuration file may list
// several.
type audienceValue struct{ o *CheckOptions }

func (v *audienceValue) String() string { return strings.Join(v.o.Audiences, ",") }
func (v *audienceValue) Type() string   { return "stringArray" }

// GetSlice makes the list's length known to checkListLen.
func (v *audienceValue) GetSlice() []string { return v.o.Audiences }
func (v *audienceValue) Set(s string) error {
	if len(v.o.Audiences) == 0 {
		v.o.Audience = s
	}
	v.o.Audiences = append(v.o.Audiences, s)
	return nil
}

func (o *CheckOptions) expectations() (verify.Expectations, error) {
	for _, s := range o.GroupsFrom {
		switch s {
		case report.IDToken, report.AccessToken, report.UserInfo:
		default:
			return verify.Expectations{}, failure.New(failure.Usage, "--groups-from", "unknown source %q (want id_token, access_token or userinfo)", s)
		}
	}
	if o.ExactGroups && len(o.ExpectGroups) == 0 {
		return verify.Expectations{}, failure.New(failure.Usage, "--exact-groups", "needs --expect-groups")
	}
	if len(o.Audiences) > 1 && !o.multiAudience {
		return verify.Expectations{}, failure.New(failure.Usage, "--audience", "given %d times: only --grant token_exchange asks for several audiences", len(o.Audiences))
	}
	if o.GroupsClaim == "" {
		return verify.Expectations{}, failure.New(failure.Usage, "--groups-claim", "must not be empty")
	}
	claim, bySource, err := groupsClaims(o.GroupsClaim)
	if err != nil {
		return verify.Expectations{}, err
	}
	return verify.Expectations{
		ExpectGroups: trimAll(o.ExpectGroups), ForbidGroups: trimAll(o.ForbidGroups), ExactGroups: o.ExactGroups,
		GroupsClaim: claim, GroupsClaimBySource: bySource, GroupsFrom: o.GroupsFrom,
	}, nil
}

func trimAll(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// OutputOptions say how the report is written.
type OutputOptions struct {
	Output     string
	JUnit      string
	ShowTokens bool
}

func (o *OutputOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.Output, "output", "o", "text", "report format: text or json")
	fs.StringVar(&o.JUnit, "junit", "", "also write the checks as JUnit XML to this file")
	fs.BoolVar(&o.ShowTokens, "show-tokens", false, "show raw tokens in the report (redacted otherwise)")
}

func (o *OutputOptions) validate() error {
	if o.Output != "text" && o.Output != "json" {
		return failure.New(failure.Usage, "--output", "unknown format %q (want text or json)", o.Output)
	}
	// The report file is written after the run: a directory that is not
	// there must be a usage error before anything is sent, not after.
	if o.JUnit != "" {
		if fi, err := os.Stat(filepath.Dir(o.JUnit)); err != nil || !fi.IsDir() {
			return failure.New(failure.Usage, "--junit", "cannot write %s: its directory does not exist", o.JUnit)
		}
	}
	return nil
}

// FlowOptions say how to run the authorization flow.
type FlowOptions struct {
	RedirectURI  string
	Flow         string
	ResponseType string
	ResponseMode string
	Scopes       []string
	Params       []string
	// PAR, RequestObject, Resources and AuthorizationDetails are --par,
	// --request-object, --resource and --authorization-details.
	PAR                  bool
	RequestObject        bool
	Resources            []string
	AuthorizationDetails string
	BrowserCommand       string
	NoBrowser            bool
	Timeout              time.Duration
}

func (o *FlowOptions) addFlags(fs *pflag.FlagSet, defaultRedirect string) {
	fs.StringVar(&o.RedirectURI, "redirect-uri", defaultRedirect, "loopback redirect URI to listen on; must be registered exactly at the provider")
	fs.StringVar(&o.Flow, "flow", "code", "code (always with PKCE S256) or implicit")
	fs.StringVar(&o.ResponseType, "response-type", "", `response_type, e.g. "code", "id_token", "id_token token", "code id_token" (default: from --flow)`)
	fs.StringVar(&o.ResponseMode, "response-mode", "", "query, fragment or form_post, or JARM's jwt, query.jwt, fragment.jwt, form_post.jwt (default: query for code, fragment otherwise)")
	fs.StringSliceVar(&o.Scopes, "scopes", []string{"openid"}, "scopes to ask for (comma separated)")
	fs.StringArrayVar(&o.Params, "param", nil, "extra authorize request parameter NAME=VALUE (repeatable), e.g. prompt=login")
	fs.BoolVar(&o.PAR, "par", false, "push the authorization request (RFC 9126) and send the browser only client_id and request_uri (used without asking when the provider requires it)")
	fs.BoolVar(&o.RequestObject, "request-object", false, "send the authorization request as a request object (RFC 9101) signed with --client-key, alg from request_object_signing_alg_values_supported; pushed with --par (used without asking when the provider requires it)")
	fs.StringArrayVar(&o.Resources, "resource", nil, "resource indicator URI for the authorization request (RFC 8707; repeatable)")
	fs.StringVar(&o.AuthorizationDetails, "authorization-details", "", `authorization_details JSON (RFC 9396): an array of objects with a type each, e.g. '[{"type":"account_information"}]'`)
	fs.StringVar(&o.BrowserCommand, "browser-command", "", "run CMD URL instead of opening the system browser (no shell); the authorize URL is an argument, so other local users can see it in the process list")
	fs.BoolVar(&o.NoBrowser, "no-browser", false, "print the authorize URL instead of opening a browser")
	fs.DurationVar(&o.Timeout, "timeout", 2*time.Minute, "how long to wait for the redirect")
}

func (o *FlowOptions) extraParams() (url.Values, error) {
	v := url.Values{}
	for _, p := range o.Params {
		k, val, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, failure.New(failure.Usage, "--param", "%q is not NAME=VALUE", p)
		}
		v.Add(k, val)
	}
	if err := flow.CheckExtraParams(v); err != nil {
		return nil, failure.Wrap(failure.Usage, "--param", err)
	}
	return v, nil
}

// checkRichRequest checks --resource and --authorization-details before
// anything is sent.
func (o *FlowOptions) checkRichRequest() error {
	for _, r := range o.Resources {
		if err := flow.CheckResource(r); err != nil {
			return failure.Wrap(failure.Usage, "--resource", err)
		}
	}
	if o.AuthorizationDetails != "" {
		if err := flow.CheckAuthorizationDetails(o.AuthorizationDetails); err != nil {
			return failure.Wrap(failure.Usage, "--authorization-details", err)
		}
	}
	return nil
}

func (o *FlowOptions) opener(ios *IOStreams) flow.Opener {
	switch {
	case o.BrowserCommand != "":
		return &flow.CommandBrowser{Command: o.BrowserCommand, Stdout: ios.ErrOut, Stderr: ios.ErrOut}
	case o.NoBrowser:
		return &flow.PrintURL{W: ios.ErrOut}
	}
	return &flow.SystemBrowser{Stdout: io.Discard, Stderr: io.Discard}
}

// RunOptions are the options of claimcheck run (and of claimcheck itself).
type RunOptions struct {
	ProviderOptions
	FlowOptions
	CheckOptions
	OutputOptions
	OktaOptions
	ProviderKindOptions
	ClaimSourceOptions
	UserOptions
	GrantOptions
	DriftOptions
	// fs is the flag set the command was parsed with, to tell a flag given
	// on the command line from one filled from the environment.
	fs *pflag.FlagSet
}

func (o *RunOptions) addFlags(fs *pflag.FlagSet) {
	o.ProviderOptions.addFlags(fs)
	o.OktaOptions.addServerFlags(fs)
	o.ProviderKindOptions.addFlags(fs)
	o.ClaimSourceOptions.addFlags(fs)
	o.UserOptions.addFlags(fs)
	o.FlowOptions.addFlags(fs, "http://127.0.0.1:8765/callback")
	o.CheckOptions.addFlags(fs)
	o.OutputOptions.addFlags(fs)
	o.GrantOptions.addFlags(fs)
	o.DriftOptions.addFlags(fs)
}

// config turns the options into a run configuration (check.Config); every error is a
// usage error found before anything is sent.
func (o *RunOptions) config(ctx context.Context, fs *pflag.FlagSet, ios *IOStreams) (check.Config, error) {
	if err := o.OutputOptions.validate(); err != nil {
		return check.Config{}, err
	}
	secretStdin := o.ClientSecret == "-"
	if err := o.UserOptions.validate(o.Grant, o.Domain, secretStdin); err != nil {
		return check.Config{}, err
	}
	if err := o.ProviderKindOptions.validate(o.Domain); err != nil {
		return check.Config{}, err
	}
	oc, err := o.OktaOptions.apply(&o.ProviderOptions, &o.CheckOptions)
	if err != nil {
		return check.Config{}, err
	}
	if err := o.ProviderOptions.resolve(ctx, fs, ios); err != nil {
		return check.Config{}, err
	}
	if o.ClientID == "" {
		return check.Config{}, failure.New(failure.Usage, "--client-id", "required (or CLAIMCHECK_CLIENT_ID)")
	}
	o.CheckOptions.multiAudience = o.Grant == flow.GrantTokenExchange
	exp, err := o.CheckOptions.expectations()
	if err != nil {
		return check.Config{}, err
	}
	if err := o.FlowOptions.validate(given(fs, ios, "flow")); err != nil {
		return check.Config{}, err
	}
	extra, err := o.FlowOptions.extraParams()
	if err != nil {
		return check.Config{}, err
	}
	if err := o.FlowOptions.checkRichRequest(); err != nil {
		return check.Config{}, err
	}
	client, err := o.ProviderOptions.httpClient()
	if err != nil {
		return check.Config{}, err
	}
	sources, err := o.ClaimSourceOptions.claimSources()
	if err != nil {
		return check.Config{}, err
	}
	cfg := check.Config{
		Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret, AuthMethod: o.ClientAuth,
		ClientKey: o.clientKey, AssertionAudience: o.AssertionAud, DPoPKey: o.dpopKey, ClientCertificate: o.clientCert,
		RedirectURI: o.RedirectURI, Flow: o.Flow, ResponseType: o.ResponseType, ResponseMode: o.ResponseMode,
		Scopes: trimAll(o.Scopes), ExtraParams: extra, Audience: o.Audience, Expect: exp,
		ClockSkew: o.ClockSkew, HTTPClient: client, Timeout: o.Timeout,
		Opener: o.FlowOptions.opener(ios), ShowTokens: o.ShowTokens, Okta: oc,
		ProviderKind: o.ProviderKind, ClaimSources: sources,
		PAR: o.PAR, RequestObject: o.RequestObject, Resources: o.Resources, AuthorizationDetails: o.AuthorizationDetails,
	}
	if oc != nil && o.Grant == "" && o.Username != "" {
		// Okta's Authentication API signs the user in; the stand-in
		// browser then follows the authorize request to the listener.
		pw, err := o.UserOptions.password(ctx, ios, secretStdin)
		if err != nil {
			return check.Config{}, err
		}
		oc.Username, oc.Password = o.Username, pw
		b, err := headless(&o.FlowOptions, client)
		if err != nil {
			return check.Config{}, err
		}
		// check.Run tells it the listener's redirect URI, which a pushed
		// request's authorize URL does not carry (RFC 9126 §4).
		cfg.Opener = b
	}
	if err := o.GrantOptions.apply(ctx, &cfg, &o.FlowOptions, &o.UserOptions, ios, secretStdin, func(name string) bool { return given(fs, ios, name) }); err != nil {
		return check.Config{}, err
	}
	if o.Grant == flow.GrantTokenExchange {
		// Asked for, and each checked on the issued token.
		cfg.Grant.Exchange.Audiences, cfg.Audience = o.Audiences, ""
	}
	if err := o.DriftOptions.load(); err != nil {
		return check.Config{}, err
	}
	return cfg, nil
}

func runRun(ctx context.Context, o *RunOptions, ios *IOStreams) int {
	started := time.Now()
	cfg, err := o.config(ctx, o.fs, ios)
	if err != nil {
		return emitError(ios, &o.OutputOptions, o.Issuer, o.Flow, err)
	}
	done := attachProgress(&cfg, ios)
	r, _ := check.Run(ctx, cfg)
	done()
	o.DriftOptions.apply(r, ios)
	return emit(ios, &o.OutputOptions, r, started)
}

// attachProgress shows people what the run waits for: where the browser must
// come back to, on a terminal as a live line with the time left, and the URL
// when no browser could be opened. The returned function ends the live line.
func attachProgress(cfg *check.Config, ios *IOStreams) (done func()) {
	var (
		mu           sync.Mutex
		stop         chan struct{}
		finished     chan struct{}
		authorizeURL string
	)
	prev := cfg.OnListening
	cfg.OnListening = func(redirectURI, u string, deadline time.Time) {
		if prev != nil {
			prev(redirectURI, u, deadline)
		}
		mu.Lock()
		defer mu.Unlock()
		authorizeURL = u
		if !ios.ErrTTY {
			fmt.Fprintf(ios.ErrOut, "waiting for the redirect to %s\n", redirectURI)
			return
		}
		stop, finished = make(chan struct{}), make(chan struct{})
		go func() {
			defer close(finished)
			liveLine(ios.ErrOut, redirectURI, deadline, stop)
		}()
	}
	cfg.OnIgnored = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(ios.ErrOut, "\nwarning: %s\n", oneLine(err.Error()))
	}
	// Only a system browser that fails to open is worth waiting on: the
	// person can open the URL by hand. A browser command or a stand-in that
	// fails has ended the flow, and waiting out the timeout would hide that.
	if _, ok := cfg.Opener.(*flow.SystemBrowser); !ok {
		return stopLive(&mu, &stop, &finished)
	}
	cfg.OpenerError = func(err error) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(ios.ErrOut, "\nwarning: could not open a browser (%s); open this URL yourself:\n  %s\n", oneLine(err.Error()), authorizeURL)
	}
	return stopLive(&mu, &stop, &finished)
}

func stopLive(mu *sync.Mutex, stop, finished *chan struct{}) func() {
	return func() {
		mu.Lock()
		defer mu.Unlock()
		if *stop != nil {
			close(*stop)
			<-*finished
			*stop = nil
		}
	}
}

func liveLine(w io.Writer, redirectURI string, deadline time.Time, stop <-chan struct{}) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		left := time.Until(deadline).Round(time.Second)
		fmt.Fprintf(w, "\r\x1b[Kwaiting for the browser to come back to %s — %s left", redirectURI, left)
		select {
		case <-stop:
			fmt.Fprint(w, "\r\x1b[K")
			return
		case <-t.C:
		}
	}
}

// emit writes the report in the chosen format (and JUnit when asked) and
// returns the exit status. In text, a usage error found only during the
// run (a response type the provider does not offer) is the same one line
// on stderr as one found before it.
func emit(ios *IOStreams, o *OutputOptions, r *report.Report, started time.Time) int {
	var err error
	switch {
	case o.Output == "json":
		err = r.WriteJSON(ios.Out)
	case r.Class() == failure.Usage:
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(r.Error.Message))
	default:
		err = r.WriteText(ios.Out, report.TextOptions{Color: ios.color()})
	}
	if err != nil {
		fmt.Fprintf(ios.ErrOut, "claimcheck: writing the report: %v\n", err)
	}
	if o.JUnit != "" {
		if err := writeJUnit(o.JUnit, r, started); err != nil {
			fmt.Fprintf(ios.ErrOut, "claimcheck: %v\n", err)
			if r.ExitCode == 0 {
				return failure.Usage.ExitCode()
			}
		}
	}
	return r.ExitCode
}

func writeJUnit(path string, r *report.Report, started time.Time) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing JUnit: %w", err)
	}
	name := "claimcheck " + r.Flow
	werr := report.WriteJUnit(f, []report.JUnitSuite{{Name: name, Report: r, Duration: time.Since(started)}}, started)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("writing JUnit %s: %w", path, werr)
	}
	return nil
}

// emitError reports an error found before a run could start.
func emitError(ios *IOStreams, o *OutputOptions, issuer, flowName string, err error) int {
	r := report.New(issuer, flowName)
	r.Fail(err)
	r.Finish()
	if o.Output == "json" {
		r.WriteJSON(ios.Out)
	} else {
		fmt.Fprintf(ios.ErrOut, "claimcheck: %s\n", oneLine(err.Error()))
	}
	return r.ExitCode
}
