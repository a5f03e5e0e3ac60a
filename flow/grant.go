package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/scrub"
)

// Grant types that obtain tokens without a browser redirect.
const (
	GrantRefreshToken      = "refresh_token"
	GrantPassword          = "password"
	GrantClientCredentials = "client_credentials"
	GrantDeviceCode        = "device_code"
)

// deviceGrantType is the grant_type of RFC 8628 §3.4.
const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

// grantConfig checks what every non-interactive grant needs of c: the token
// endpoint and the client authentication. It returns c with its AuthMethod
// resolved.
func grantConfig(c Config) (Config, oauth2.AuthStyle, error) {
	if c.TokenEndpoint == "" {
		return c, 0, failure.New(failure.Provider, tokenOp, "the provider's metadata has no token_endpoint")
	}
	if err := checkEndpoint(tokenOp, c.TokenEndpoint); err != nil {
		return c, 0, err
	}
	method, err := c.resolveAuthMethod()
	if err != nil {
		return c, 0, err
	}
	c.AuthMethod = method
	if method == authClientSecretBasic {
		return c, oauth2.AuthStyleInHeader, nil
	}
	return c, oauth2.AuthStyleInParams, nil
}

func oauthConfig(c Config, style oauth2.AuthStyle) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.formSecret(c.AuthMethod),
		Endpoint:     oauth2.Endpoint{TokenURL: c.TokenEndpoint, AuthStyle: style},
		Scopes:       c.Scopes,
	}
}

// Refresh redeems refreshToken at c.TokenEndpoint (RFC 6749 §6) in one
// request, asking for c.Scopes when set (an empty scope keeps the one first
// granted). Errors are classed as Exchange's are.
func Refresh(ctx context.Context, c Config, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, failure.New(failure.Usage, "refresh token", "empty")
	}
	return tokenRequest(ctx, c, secret(scrub.RefreshToken, refreshToken), func(ctx context.Context, c Config, style oauth2.AuthStyle) (*oauth2.Token, error) {
		// An expired access token makes the source refresh at once.
		return oauthConfig(c, style).TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken, Expiry: time.Unix(1, 0)}).Token()
	})
}

// grantSecret is one secret a grant sends besides the client's.
type grantSecret struct{ kind, value string }

func secret(kind, value string) grantSecret { return grantSecret{kind, value} }

// tokenRequest makes one token request through x/oauth2: request gets a
// context carrying the recording client and the client authentication
// style, and its errors are classed as Exchange's are, the provider's text
// scrubbed of the client secret and of sent.
func tokenRequest(ctx context.Context, c Config, sent grantSecret, request func(context.Context, Config, oauth2.AuthStyle) (*oauth2.Token, error)) (*Tokens, error) {
	c, style, err := grantConfig(c)
	if err != nil {
		return nil, err
	}
	sc := clientScrubber(c)
	sc.Add(sent.kind, sent.value)
	client, rec, done, err := c.tokenClient(sc)
	if err != nil {
		return nil, err
	}
	defer done()
	tok, err := request(context.WithValue(ctx, oauth2.HTTPClient, client), c, style)
	if err != nil {
		return nil, sc.Error(tokenError(ctx, err, rec, sc))
	}
	return tokensOf(tok), nil
}

// Password performs the resource owner password credentials grant (RFC 6749
// §4.3) in one request.
func Password(ctx context.Context, c Config, username, password string) (*Tokens, error) {
	if username == "" {
		return nil, failure.New(failure.Usage, "--username", "required with the password grant")
	}
	if password == "" {
		return nil, failure.New(failure.Usage, "password", "empty (CLAIMCHECK_PASSWORD or --password-stdin)")
	}
	return tokenRequest(ctx, c, secret(scrub.Password, password), func(ctx context.Context, c Config, style oauth2.AuthStyle) (*oauth2.Token, error) {
		return oauthConfig(c, style).PasswordCredentialsToken(ctx, username, password)
	})
}

// ClientCredentials performs the client credentials grant (RFC 6749 §4.4)
// in one request. It needs a client secret or a client key.
func ClientCredentials(ctx context.Context, c Config) (*Tokens, error) {
	if c.ClientSecret == "" && c.ClientKey == nil && c.ClientCertificate == nil {
		return nil, failure.New(failure.Usage, "client_credentials", "needs a client secret (CLAIMCHECK_CLIENT_SECRET), a client key (--client-key with private_key_jwt) or a client certificate (--client-cert with tls_client_auth)")
	}
	return tokenRequest(ctx, c, grantSecret{}, func(ctx context.Context, c Config, style oauth2.AuthStyle) (*oauth2.Token, error) {
		cc := clientcredentials.Config{
			ClientID: c.ClientID, ClientSecret: c.formSecret(c.AuthMethod), TokenURL: c.TokenEndpoint,
			Scopes: c.Scopes, AuthStyle: style,
		}
		return cc.Token(ctx)
	})
}

// DeviceAuthorization is the device authorization response of RFC 8628 §3.2.
type DeviceAuthorization struct {
	DeviceCode              string
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	// ExpiresAt is when the device code expires.
	ExpiresAt time.Time
	// Interval is the least time between polls; 5s when the provider
	// states none.
	Interval time.Duration
}

// DeviceOptions say how DeviceCode shows the user code and waits.
type DeviceOptions struct {
	// Endpoint is the provider's device_authorization_endpoint: the
	// caller's input, refused as failure.Usage when it is not an absolute
	// http(s) URL, as Config's endpoints are (see Config).
	Endpoint string
	// Show is called once with the verification URI and user code, before
	// the first poll; it prints them and may open a browser. An error from
	// it ends the grant.
	Show func(ctx context.Context, da *DeviceAuthorization) error
	// Timeout bounds the whole wait; the device code's own expiry bounds it
	// too. Zero means two minutes.
	Timeout time.Duration

	// sleep waits d or until ctx ends; tests replace it to see the waits.
	sleep func(ctx context.Context, d time.Duration) error
}

const deviceOp = "device authorization endpoint"

// slowDownStep is what RFC 8628 §3.5 adds to the interval on slow_down.
const slowDownStep = 5 * time.Second

// DeviceCode runs the device authorization grant (RFC 8628): it asks for a
// device code, calls o.Show, then polls the token endpoint, waiting the
// stated interval between polls and 5 s more after each slow_down, until
// tokens come, the user denies, the code expires or the deadline passes.
// The first poll is made as soon as Show returns. What the provider says
// is shown without the client secret and the device code.
func DeviceCode(ctx context.Context, c Config, o DeviceOptions) (*Tokens, error) {
	sc := clientScrubber(c)
	t, err := deviceCode(ctx, c, o, sc)
	return t, sc.Error(err)
}

func deviceCode(ctx context.Context, c Config, o DeviceOptions, sc *scrub.Scrubber) (*Tokens, error) {
	if o.Endpoint == "" {
		return nil, failure.New(failure.Usage, "--grant device_code", "the provider's metadata has no device_authorization_endpoint")
	}
	if err := checkEndpoint(deviceOp, o.Endpoint); err != nil {
		return nil, err
	}
	c, style, err := grantConfig(c)
	if err != nil {
		return nil, err
	}
	client, _, done, err := c.tokenClient(sc)
	if err != nil {
		return nil, err
	}
	defer done()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sleep := o.sleep
	if sleep == nil {
		sleep = sleepCtx
	}

	form := url.Values{}
	if len(c.Scopes) > 0 {
		form.Set("scope", strings.Join(c.Scopes, " "))
	}
	body, oerr, err := postForm(ctx, client, c, style, sc, deviceOp, o.Endpoint, form)
	if err != nil {
		return nil, deviceWaitError(ctx, err, nil)
	}
	if oerr != nil {
		return nil, oerr.failure(deviceOp)
	}
	var dr struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURL         string `json:"verification_url"` // Google's spelling
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int64  `json:"expires_in"`
		Interval                int64  `json:"interval"`
	}
	if err := json.Unmarshal(body, &dr); err != nil || dr.DeviceCode == "" || dr.UserCode == "" {
		return nil, failure.New(failure.Provider, deviceOp, "the response is not a device authorization response (JSON with device_code and user_code)")
	}
	// Sent with every poll from now on.
	sc.Add(scrub.DeviceCode, dr.DeviceCode)
	if dr.VerificationURI == "" {
		dr.VerificationURI = dr.VerificationURL
	}
	da := &DeviceAuthorization{
		DeviceCode: dr.DeviceCode, UserCode: clean(dr.UserCode, 64),
		VerificationURI: clean(dr.VerificationURI, 500), VerificationURIComplete: clean(dr.VerificationURIComplete, 600),
		Interval: time.Duration(dr.Interval) * time.Second,
	}
	if da.Interval <= 0 {
		da.Interval = 5 * time.Second
	}
	if dr.ExpiresIn > 0 {
		da.ExpiresAt = time.Now().Add(time.Duration(dr.ExpiresIn) * time.Second)
		var cancelExp context.CancelFunc
		ctx, cancelExp = context.WithDeadlineCause(ctx, da.ExpiresAt, &codeExpired{time.Duration(dr.ExpiresIn) * time.Second})
		defer cancelExp()
	}
	if o.Show != nil {
		if err := o.Show(ctx, da); err != nil {
			return nil, failure.Wrap(failure.Flow, "device authorization", err)
		}
	}

	interval := da.Interval
	poll := url.Values{"grant_type": {deviceGrantType}, "device_code": {da.DeviceCode}}
	for {
		body, oerr, err := postForm(ctx, client, c, style, sc, tokenOp, c.TokenEndpoint, poll)
		if err != nil {
			return nil, deviceWaitError(ctx, err, da)
		}
		if oerr == nil {
			t, err := parseTokenResponse(body)
			if err != nil {
				return nil, err
			}
			return t, nil
		}
		switch oerr.Code {
		case "authorization_pending":
		case "slow_down":
			interval += slowDownStep
		case "access_denied":
			return nil, failure.New(failure.Flow, tokenOp, "the user denied the device authorization (error=access_denied%s)", oerr.descriptionSuffix())
		case "expired_token":
			return nil, failure.New(failure.Flow, tokenOp, "the device code expired before the user approved it (error=expired_token%s)", oerr.descriptionSuffix())
		default:
			return nil, oerr.failure(tokenOp)
		}
		if err := sleep(ctx, interval); err != nil {
			return nil, deviceWaitError(ctx, err, da)
		}
	}
}

// codeExpired is the cause of the wait's end when the device code's own
// lifetime (expires_in), not the timeout, ran out first.
type codeExpired struct{ lifetime time.Duration }

func (e *codeExpired) Error() string { return "the device code expired" }

func deviceWaitError(ctx context.Context, err error, da *DeviceAuthorization) error {
	if ctx.Err() == nil {
		return err
	}
	if ctx.Err() == context.Canceled {
		return failure.New(failure.Interrupted, "device authorization", "interrupted")
	}
	if da == nil {
		return failure.New(failure.Provider, deviceOp, "no answer before the deadline")
	}
	// Polling stops when the code expires: say so rather than "timed out",
	// which would suggest a longer --timeout.
	var exp *codeExpired
	if errors.As(context.Cause(ctx), &exp) {
		return failure.New(failure.Flow, "device authorization", "the device code expired (expires_in %v) before the user approved code %s at %s", exp.lifetime, da.UserCode, da.VerificationURI)
	}
	return failure.New(failure.Flow, "device authorization", "timed out waiting for the user to approve code %s at %s", da.UserCode, da.VerificationURI)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// oauthError is an OAuth 2.0 error response (RFC 6749 §5.2).
type oauthError struct {
	Status      string
	Code        string `json:"error"`
	Description string `json:"error_description"`
	URI         string `json:"error_uri"`
}

// descriptionSuffix is " error_description=…" (quoted, cleaned) when the
// provider gave one, else "".
func (e *oauthError) descriptionSuffix() string {
	if e.Description == "" {
		return ""
	}
	return fmt.Sprintf(" error_description=%q", clean(e.Description, 300))
}

func (e *oauthError) failure(op string) error {
	msg := fmt.Sprintf("%s: error=%s", e.Status, clean(e.Code, 64)) + e.descriptionSuffix()
	if e.URI != "" {
		msg += fmt.Sprintf(" error_uri=%q", clean(e.URI, 200))
	}
	return failure.New(failure.Flow, op, "%w", &ErrorResponse{Code: clean(e.Code, 64), msg: msg})
}

// ErrorResponse is an OAuth 2.0 error response from the token, device
// authorization or authorization endpoint (RFC 6749 sections 5.2 and
// 4.1.2.1), inside the failure.Flow error a request returns: errors.As
// finds it for a caller that explains a particular code. Its message is
// the status, the code and the provider's (scrubbed, shortened)
// description.
type ErrorResponse struct {
	// Code is the error code, such as invalid_scope.
	Code string
	msg  string
}

func (e *ErrorResponse) Error() string { return e.msg }

// postForm sends one form POST with the client's authentication and returns
// a 2xx body, or the OAuth error of a 4xx (its text scrubbed by sc before
// anything cuts or quotes it), or a classed error.
func postForm(ctx context.Context, client *http.Client, c Config, style oauth2.AuthStyle, sc *scrub.Scrubber, op, endpoint string, form url.Values) ([]byte, *oauthError, error) {
	_, body, oe, err := postFormStatus(ctx, client, c, style, sc, op, endpoint, form)
	return body, oe, err
}

// postFormStatus is postForm that also returns the status code of a 2xx.
func postFormStatus(ctx context.Context, client *http.Client, c Config, style oauth2.AuthStyle, sc *scrub.Scrubber, op, endpoint string, form url.Values) (int, []byte, *oauthError, error) {
	v := url.Values{}
	for k, vs := range form {
		v[k] = vs
	}
	if style == oauth2.AuthStyleInParams {
		v.Set("client_id", c.ClientID)
		if s := c.formSecret(c.AuthMethod); s != "" {
			v.Set("client_secret", s)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(v.Encode()))
	if err != nil {
		return 0, nil, nil, failure.New(failure.Usage, op, "%w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if style == oauth2.AuthStyleInHeader {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, failure.New(failure.Provider, op, "%w", httpclient.StripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		if ctx.Err() != nil {
			return 0, nil, nil, ctx.Err()
		}
		return 0, nil, nil, failure.New(failure.Provider, op, "%s: reading the response: %w", statusText(resp), httpclient.StripURL(err))
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, body, nil, nil
	}
	oe := &oauthError{}
	if json.Unmarshal(body, oe) == nil && oe.Code != "" && resp.StatusCode < 500 {
		oe.Status = statusText(resp)
		oe.Code, oe.Description, oe.URI = sc.String(oe.Code), sc.String(oe.Description), sc.String(oe.URI)
		return 0, nil, oe, nil
	}
	return 0, nil, nil, failure.New(failure.Provider, op, "%s, and no OAuth error in the response", statusText(resp))
}

// parseTokenResponse reads a successful token response (RFC 6749 §5.1).
func parseTokenResponse(body []byte) (*Tokens, error) {
	var tr struct {
		AccessToken  string          `json:"access_token"`
		TokenType    string          `json:"token_type"`
		RefreshToken string          `json:"refresh_token"`
		ExpiresIn    json.Number     `json:"expires_in"`
		IDToken      string          `json:"id_token"`
		Scope        json.RawMessage `json:"scope"`
	}
	if err := json.Unmarshal(body, &tr); err != nil || tr.AccessToken == "" {
		return nil, failure.New(failure.Provider, tokenOp, "the response is not a token response (JSON with an access_token)")
	}
	t := &Tokens{AccessToken: tr.AccessToken, TokenType: tr.TokenType, RefreshToken: tr.RefreshToken, IDToken: tr.IDToken}
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		t.ExpiresIn = n
	}
	var scope string
	if json.Unmarshal(tr.Scope, &scope) == nil {
		t.Scope = scope
	} else {
		var scopes []string
		if json.Unmarshal(tr.Scope, &scopes) == nil {
			t.Scope = strings.Join(scopes, " ")
		}
	}
	return t, nil
}
