// Package httpclient builds the one http.Client that claimcheck uses for every
// request to a provider: each request has its own deadline, every response
// body is capped, and private CAs come from a file rather than from turning
// verification off.
package httpclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DefaultMaxBody is the largest response body read from a provider. The
// biggest legitimate documents (a JWKS with a few dozen keys, a discovery
// document) are tens of kilobytes.
const DefaultMaxBody = 1 << 20

// Options configure New.
type Options struct {
	// Timeout bounds each request, from dial to the last byte of the body.
	Timeout time.Duration
	// MaxBody caps each response body; reading past it fails with
	// *BodyTooLargeError. Zero means DefaultMaxBody.
	MaxBody int64
	// CAFile, when set, names a PEM file of CA certificates trusted in
	// addition to the system's.
	CAFile string
}

// BodyTooLargeError reports a response body larger than the cap.
type BodyTooLargeError struct {
	URL   string
	Limit int64
}

func (e *BodyTooLargeError) Error() string {
	return fmt.Sprintf("response from %s is larger than %d bytes", e.URL, e.Limit)
}

// New returns a client configured by o. It fails only on an unreadable or
// empty CA file.
func New(o Options) (*http.Client, error) {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	// Proxies from the environment are honoured as the Go toolchain does;
	// TLS stays verified.
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", o.CAFile)
		}
		base.TLSClientConfig.RootCAs = pool
	}
	return &http.Client{
		Timeout:       o.Timeout,
		Transport:     &limitTransport{next: base, max: o.MaxBody},
		CheckRedirect: checkRedirect,
	}, nil
}

// maxRedirects is how many redirects a GET may follow.
const maxRedirects = 5

// checkRedirect follows a redirect only for a GET or HEAD, only up to
// maxRedirects, and never from https to http. A POST (token,
// introspection, device endpoints) carries a client secret, a code or a
// PKCE verifier: a 307/308 would send that form to wherever the Location
// points, and a 301/302/303 would turn it into a GET of another resource
// whose answer is not the endpoint's. A downgrade would send the request,
// and bring the answer, in clear text.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0]
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	if first.Method != http.MethodGet && first.Method != http.MethodHead {
		return fmt.Errorf("refused to follow a redirect (status %d) of a %s request to %s: the endpoint must answer itself", status, first.Method, redact(req))
	}
	for _, v := range via {
		if v.URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused to follow a redirect (status %d) from https to %s", status, redact(req))
		}
	}
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	return nil
}

type limitTransport struct {
	next http.RoundTripper
	max  int64
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > t.max {
		resp.Body.Close()
		return nil, &BodyTooLargeError{URL: redact(req), Limit: t.max}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: t.max, url: redact(req), limit: t.max}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport underneath, which would otherwise keep its connections (and
// their goroutines) until the server drops them.
func (t *limitTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// redact drops the query, which may carry a token (userinfo with
// access_token in the query is allowed by RFC 6750).
func redact(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	u.User = nil
	return u.String()
}

type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	url   string
	limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, &BodyTooLargeError{URL: b.url, Limit: b.limit}
	}
	// Read one byte beyond the limit so that a body of exactly the limit
	// passes and a larger one fails rather than being silently truncated.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n - int(-b.left), &BodyTooLargeError{URL: b.url, Limit: b.limit}
	}
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// StripURL removes the request URL that net/http puts in front of transport
// errors (*url.Error), since it may carry a query with a token or code. The
// caller names the endpoint itself. The cause stays inspectable.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return &strippedError{op: ue.Op, err: ue.Err}
	}
	return err
}

type strippedError struct {
	op  string
	err error
}

func (e *strippedError) Error() string {
	if e.op == "" {
		return e.err.Error()
	}
	return strings.ToLower(e.op) + ": " + e.err.Error()
}
func (e *strippedError) Unwrap() error { return e.err }

// WithCertificate returns a copy of base that presents cert as its TLS
// client certificate whenever a server asks for one (mutual TLS, RFC 8705),
// with a connection pool of its own: a connection opened without the
// certificate is never reused for a request that needs it. The certificate
// is sent even when the server's list of acceptable CAs does not name its
// issuer, since a self-signed certificate (self_signed_tls_client_auth)
// never matches one. A nil base means New's defaults. base's transport
// must be one New made or an *http.Transport.
func WithCertificate(base *http.Client, cert tls.Certificate) (*http.Client, error) {
	if base == nil {
		var err error
		if base, err = New(Options{Timeout: 10 * time.Second}); err != nil {
			return nil, err
		}
	}
	c := *base
	present := func(t *http.Transport) *http.Transport {
		t = t.Clone()
		if t.TLSClientConfig == nil {
			t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		t.TLSClientConfig.Certificates = nil
		t.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
		return t
	}
	switch t := base.Transport.(type) {
	case *limitTransport:
		next, ok := t.next.(*http.Transport)
		if !ok {
			return nil, fmt.Errorf("the HTTP client's transport (%T) cannot present a client certificate", t.next)
		}
		c.Transport = &limitTransport{next: present(next), max: t.max}
	case *http.Transport:
		c.Transport = present(t)
	case nil:
		c.Transport = present(http.DefaultTransport.(*http.Transport))
	default:
		return nil, fmt.Errorf("the HTTP client's transport (%T) cannot present a client certificate", base.Transport)
	}
	return &c, nil
}
