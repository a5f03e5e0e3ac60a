// Package standin is an HTTP-only stand-in for a person in a browser: it
// signs in through a provider's HTML sign-in form and delivers the redirect
// to claimcheck's loopback listener the way a browser would, the fragment
// relay included. claimcheck demo uses it where no browser can be opened,
// and tests use it to run whole flows. It runs no JavaScript: it knows the
// two scripts that matter, a form_post page's auto-submit and the relay
// page's POST.
package standin

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/internal/loopback"
)

// Browser signs in as Username with Password. It implements flow.Opener.
type Browser struct {
	// Client makes the requests. Its redirect policy is ignored (the
	// stand-in follows redirects itself, to see the one that reaches the
	// redirect URI); without a cookie jar it gets a fresh one per Open.
	// Nil means a client with a 10 s timeout per request.
	Client             *http.Client
	Username, Password string
	// RedirectURI is where to deliver the response when the authorize URL
	// names no redirect_uri: a pushed request's (RFC 9126) carries only
	// client_id and request_uri. It may be set once the listener is up,
	// before Open is called.
	RedirectURI string
}

const (
	maxHops = 20
	maxPage = 1 << 20
	// relayHeader is flow.RelayHeader; the stand-in does not import flow so
	// that flow's own tests can use the stand-in.
	relayHeader    = "X-Claimcheck-Relay"
	defaultTimeout = 10 * time.Second
	op             = "stand-in browser"
)

// Open signs in at authorizeURL and delivers the authorization response to
// the redirect_uri named in it, which must be a loopback http URI. It
// returns once the listener has answered the delivery.
func (b *Browser) Open(ctx context.Context, authorizeURL string) error {
	au, err := url.Parse(authorizeURL)
	if err != nil || au.Host == "" {
		return failure.New(failure.Usage, op, "the authorize URL is not an absolute URL")
	}
	redirect := au.Query().Get("redirect_uri")
	if redirect == "" {
		redirect = b.RedirectURI
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || !loopback.Host(ru.Hostname()) {
		return failure.New(failure.Usage, op, "the authorize URL has no loopback http redirect_uri")
	}
	client, err := b.client()
	if err != nil {
		return err
	}
	if b.Client == nil {
		// The client is this call's own: its kept-alive connections (and
		// their goroutines) must not outlive it.
		defer client.CloseIdleConnections()
	}
	s := &session{b: b, client: client, redirect: ru}
	return s.run(ctx, step{method: http.MethodGet, u: au})
}

func (b *Browser) client() (*http.Client, error) {
	var c http.Client
	if b.Client != nil {
		c = *b.Client
	} else {
		hc, err := httpclient.New(httpclient.Options{Timeout: defaultTimeout})
		if err != nil {
			return nil, failure.Wrap(failure.Usage, op, err)
		}
		c = *hc
	}
	if c.Jar == nil {
		jar, err := cookiejar.New(nil)
		if err != nil {
			return nil, failure.Wrap(failure.Usage, op, err)
		}
		c.Jar = jar
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c, nil
}

// step is one navigation: a link followed, a redirect, or a form submitted.
type step struct {
	method string
	u      *url.URL
	form   url.Values // POST body, urlencoded
	origin string     // the Origin header a browser sends with a form POST
}

type session struct {
	b        *Browser
	client   *http.Client
	redirect *url.URL
	signedIn bool
}

func (s *session) run(ctx context.Context, st step) error {
	for hop := 0; hop < maxHops; hop++ {
		if s.isRedirect(st.u) {
			return s.deliver(ctx, st)
		}
		resp, body, err := s.do(ctx, st)
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			next, err := s.follow(st, resp)
			if err != nil {
				return err
			}
			st = next
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			next, err := s.submit(st.u, body)
			if err != nil {
				return err
			}
			st = next
		default:
			return s.statusError(st.u, resp.StatusCode)
		}
	}
	return failure.New(failure.Flow, op, "gave up after %d pages and redirects without reaching the redirect URI %s", maxHops, s.redirect.String())
}

func (s *session) follow(st step, resp *http.Response) (step, error) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return step{}, failure.New(failure.Provider, op, "%s redirected (status %d) without a Location", redact(st.u), resp.StatusCode)
	}
	next, err := st.u.Parse(loc)
	if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
		return step{}, failure.New(failure.Provider, op, "%s redirected to an unusable Location", redact(st.u))
	}
	// 307 and 308 repeat the request as it was; the others turn into GET.
	if resp.StatusCode == http.StatusTemporaryRedirect || resp.StatusCode == http.StatusPermanentRedirect {
		return step{method: st.method, u: next, form: st.form, origin: st.origin}, nil
	}
	return step{method: http.MethodGet, u: next}, nil
}

// submit decides what a person would do on the page: sign in on a
// password form (once), or let an auto-submitting form go.
func (s *session) submit(pageURL *url.URL, body []byte) (step, error) {
	p := parsePage(body, pageURL)
	if f := p.passwordForm(); f != nil {
		if s.signedIn {
			return step{}, failure.New(failure.Flow, "", "sign-in as %s failed: the provider showed the sign-in form again", clean(s.b.Username))
		}
		s.signedIn = true
		return s.formStep(pageURL, p, f, f.values(true, s.b.Username, s.b.Password))
	}
	if f := p.autoForm(); f != nil {
		return s.formStep(pageURL, p, f, f.values(false, "", ""))
	}
	return step{}, failure.New(failure.Flow, op, "the page at %s has no sign-in form and no form that submits itself", redact(pageURL))
}

func (s *session) formStep(pageURL *url.URL, p *page, f *form, v url.Values) (step, error) {
	// An empty action submits to the document's own URL, not the base URL.
	target := pageURL
	if f.action != "" {
		u, err := p.base.Parse(f.action)
		if err != nil {
			return step{}, failure.New(failure.Flow, op, "the form at %s has an invalid action", redact(pageURL))
		}
		target = u
	}
	if target.Scheme != "http" && target.Scheme != "https" {
		return step{}, failure.New(failure.Flow, op, "the form at %s submits to a %q URL", redact(pageURL), target.Scheme)
	}
	if f.method != "post" {
		u := *target
		u.RawQuery = v.Encode()
		u.Fragment, u.RawFragment = "", ""
		return step{method: http.MethodGet, u: &u}, nil
	}
	if f.enctype != "" && f.enctype != "application/x-www-form-urlencoded" {
		return step{}, failure.New(failure.Flow, op, "the form at %s uses enctype %q; the stand-in submits urlencoded forms only", redact(pageURL), clean(f.enctype))
	}
	return step{method: http.MethodPost, u: target, form: v, origin: origin(pageURL)}, nil
}

// isRedirect says whether u is the redirect URI (scheme, host, port and
// path; the response's parameters may follow).
func (s *session) isRedirect(u *url.URL) bool {
	return u.Scheme == s.redirect.Scheme &&
		strings.EqualFold(u.Hostname(), s.redirect.Hostname()) &&
		portOf(u) == portOf(s.redirect) &&
		pathOf(u) == pathOf(s.redirect)
}

// deliver hands the response to the listener as a browser would: a form
// POST for form_post, a GET for a query, and for a fragment a GET of the
// page (browsers never send the fragment) followed by the POST its relay
// script makes.
func (s *session) deliver(ctx context.Context, st step) error {
	if st.method == http.MethodPost {
		return s.deliverStep(ctx, st)
	}
	if st.u.Fragment == "" && st.u.RawFragment == "" {
		return s.deliverStep(ctx, step{method: http.MethodGet, u: st.u})
	}
	fragment := st.u.EscapedFragment()
	pageURL := *st.u
	pageURL.Fragment, pageURL.RawFragment = "", ""
	resp, body, err := s.do(ctx, step{method: http.MethodGet, u: &pageURL})
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return s.listenerError(resp.StatusCode)
	}
	secret := parsePage(body, &pageURL).relaySecret
	if secret == "" {
		if pageURL.RawQuery != "" {
			// The query was itself the response; a browser's script would
			// not post the fragment either.
			return nil
		}
		return failure.New(failure.Flow, op, "the listener at %s served no relay page for the fragment", redact(&pageURL))
	}
	postURL := pageURL
	postURL.RawQuery = ""
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, postURL.String(), strings.NewReader(fragment))
	if err != nil {
		return failure.New(failure.Flow, op, "cannot build the relay request")
	}
	req.Header.Set(relayHeader, secret)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	req.Header.Set("Origin", origin(&pageURL))
	resp, _, err = s.send(ctx, req)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return s.listenerError(resp.StatusCode)
	}
	return nil
}

func (s *session) deliverStep(ctx context.Context, st step) error {
	resp, _, err := s.do(ctx, st)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return s.listenerError(resp.StatusCode)
	}
	return nil
}

func (s *session) listenerError(status int) error {
	return failure.New(failure.Flow, op, "the listener at %s answered status %d to the authorization response", redact(s.redirect), status)
}

func (s *session) statusError(u *url.URL, status int) error {
	class := failure.Flow
	if status >= 500 {
		class = failure.Provider
	}
	return failure.New(class, op, "%s answered status %d", redact(u), status)
}

func (s *session) do(ctx context.Context, st step) (*http.Response, []byte, error) {
	var body io.Reader
	if st.method == http.MethodPost {
		body = strings.NewReader(st.form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, st.method, st.u.String(), body)
	if err != nil {
		return nil, nil, failure.New(failure.Flow, op, "cannot request %s", redact(st.u))
	}
	if st.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if st.origin != "" {
			req.Header.Set("Origin", st.origin)
		}
	}
	return s.send(ctx, req)
}

func (s *session) send(ctx context.Context, req *http.Request) (*http.Response, []byte, error) {
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	req.Header.Set("User-Agent", "claimcheck-standin/1 (HTTP-only stand-in browser)")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, failure.New(failure.Interrupted, op, "stopped: %w", ctx.Err())
		}
		return nil, nil, failure.New(failure.Provider, op, "%s %s: %v", req.Method, redact(req.URL), httpclient.StripURL(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPage+1))
	if err != nil {
		var tooBig *httpclient.BodyTooLargeError
		if errors.As(err, &tooBig) {
			return nil, nil, failure.New(failure.Provider, op, "%s answered with more than %d bytes", redact(req.URL), tooBig.Limit)
		}
		return nil, nil, failure.New(failure.Provider, op, "reading %s: %v", redact(req.URL), httpclient.StripURL(err))
	}
	if len(body) > maxPage {
		return nil, nil, failure.New(failure.Provider, op, "%s answered with more than %d bytes", redact(req.URL), maxPage)
	}
	return resp, body, nil
}

// redact drops query and fragment, which carry codes and tokens at the
// redirect URI and request parameters elsewhere.
func redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

func origin(u *url.URL) string { return u.Scheme + "://" + u.Host }

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}

func pathOf(u *url.URL) string {
	if u.Path == "" {
		return "/"
	}
	return u.Path
}

// clean keeps a name given by the caller fit for a one-line message.
func clean(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if n == 80 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}
