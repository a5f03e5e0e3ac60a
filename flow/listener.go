package flow

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// relayHeader is the request header of the fragment relay POST. It carries
// the per-run secret that the relay page embeds in its script element's
// data-relay-secret attribute. A provider's form_post cannot set a header,
// and a page of another origin cannot send it without a CORS preflight that
// the listener never grants.
const relayHeader = "X-Claimcheck-Relay"

// Limits of the listener. A browser's requests are small; these keep a
// stray or hostile local client from holding memory or a goroutine for long.
const (
	maxBody           = 64 << 10
	maxHeaderBytes    = 32 << 10
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 15 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 30 * time.Second
	// closeGrace lets a handler that is answering the browser finish its
	// page before Close tears the connections down.
	closeGrace = 250 * time.Millisecond
	// readyWait bounds how long a response that arrives before Wait names
	// the request is held; it stays below writeTimeout.
	readyWait = 10 * time.Second
	// maxIgnoredReports is how many ignored responses are reported one by
	// one; all of them are counted.
	maxIgnoredReports = 5
)

const listenOp = "redirect listener"

// Listener receives one authorization response on the loopback redirect
// URI. It serves until Close, so that a second callback is answered (409)
// rather than refused.
//
// On the callback path: a GET with a query is a query response. A GET
// without one serves the relay page, whose script (allowed by a CSP nonce)
// carries data-relay-secret="<per-listener secret>" and POSTs location.hash
// without the '#' as a text/plain body, with the header
// X-Claimcheck-Relay: <secret>, to the same path, then drops the fragment
// with history.replaceState and shows the answer. A POST without that
// header is a form_post only when it is an application/x-www-form-urlencoded
// form. Other paths get 404, other methods 405, a Host other than a
// loopback name with the listener's port 421; none of these, nor a request
// without any authorization response parameter, ends the wait.
//
// Any web page the person visits can make their browser send a GET or a
// form POST to the listener, so only a response that carries the run's
// state can end the wait. A response without that state (missing, or
// another one), an error response included, and a form POST when
// response_mode form_post was not asked for, is answered 400 and ignored:
// it is counted, reported through OnIgnored, and the wait goes on. A query
// response or a relayed fragment is accepted whatever mode was asked,
// because some providers (Dex) answer a form_post request with a fragment.
type Listener struct {
	target      *loopbackURI
	redirectURI string
	port        int
	secret      string
	srv         *http.Server
	lns         []net.Listener
	serving     sync.WaitGroup

	closeOnce sync.Once
	closed    chan struct{}
	captured  chan struct{}
	// ready is closed once the request the listener waits for is known.
	ready chan struct{}

	mu        sync.Mutex
	req       *Request
	got       bool
	resp      *Response
	verdict   error
	onIgnored func(error)
	ignored   ignoredCounts
	// verifyJWT verifies the response JWT of a JARM response.
	verifyJWT ResponseJWTVerifier

	// reportMu keeps calls of onIgnored from overlapping.
	reportMu sync.Mutex
}

// ignoredCounts counts the responses that could not be tied to the run.
type ignoredCounts struct {
	wrongState, noState, wrongMode int
	// untrusted is the provider error of the last ignored response
	// without a state, shown marked as untrusted: a provider that drops
	// state from its error responses is otherwise a silent timeout.
	untrusted string
}

func (c ignoredCounts) total() int { return c.wrongState + c.noState + c.wrongMode }

// String is the timeout message's account of them, or "".
func (c ignoredCounts) String() string {
	if c.total() == 0 {
		return ""
	}
	var parts []string
	if c.wrongState > 0 {
		parts = append(parts, fmt.Sprintf("%d with a state that is not this run's", c.wrongState))
	}
	if c.noState > 0 {
		p := fmt.Sprintf("%d without a state", c.noState)
		if c.untrusted != "" {
			p += " (the last one said, untrusted: " + c.untrusted + ")"
		}
		parts = append(parts, p)
	}
	if c.wrongMode > 0 {
		parts = append(parts, fmt.Sprintf("%d form POST(s) though form_post was not asked for", c.wrongMode))
	}
	if n := c.total(); n > 1 {
		return fmt.Sprintf("; %d responses were ignored because they could not be tied to this run: %s", n, strings.Join(parts, ", "))
	}
	return "; 1 response was ignored because it could not be tied to this run: " + parts[0]
}

// Listen binds exactly the host and port of redirectURI and starts serving.
// The host must be 127.0.0.1, [::1] or localhost; localhost binds both
// 127.0.0.1 and ::1 (where the machine has IPv6), so that no other program
// can take the address a browser may resolve localhost to. Port 0 picks a
// free port; RedirectURI then reports it. Every error is failure.Usage;
// ctx bounds only the binding.
func Listen(ctx context.Context, redirectURI string) (*Listener, error) {
	target, err := parseRedirectURI(redirectURI)
	if err != nil {
		return nil, err
	}
	lns, err := bind(ctx, target)
	if err != nil {
		return nil, err
	}
	port := lns[0].Addr().(*net.TCPAddr).Port
	l := &Listener{
		target:      target,
		redirectURI: target.raw,
		port:        port,
		secret:      randomString(),
		lns:         lns,
		closed:      make(chan struct{}),
		captured:    make(chan struct{}),
		ready:       make(chan struct{}),
	}
	if target.port == 0 {
		l.redirectURI = target.withPort(port)
	}
	l.srv = &http.Server{
		Handler:           http.HandlerFunc(l.serveHTTP),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// Stray traffic (TLS handshakes, malformed requests) would
		// otherwise be logged on stderr, which belongs to the report.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	for _, ln := range lns {
		l.serving.Add(1)
		go func() {
			defer l.serving.Done()
			_ = l.srv.Serve(ln)
		}()
	}
	return l, nil
}

func bind(ctx context.Context, t *loopbackURI) ([]net.Listener, error) {
	var lc net.ListenConfig
	listen := func(network, ip string, port int) (net.Listener, error) {
		return lc.Listen(ctx, network, net.JoinHostPort(ip, strconv.Itoa(port)))
	}
	switch t.host {
	case "127.0.0.1":
		ln, err := listen("tcp4", "127.0.0.1", t.port)
		if err != nil {
			return nil, listenError(t, "127.0.0.1", err)
		}
		return []net.Listener{ln}, nil
	case "::1":
		ln, err := listen("tcp6", "::1", t.port)
		if err != nil {
			return nil, listenError(t, "[::1]", err)
		}
		return []net.Listener{ln}, nil
	}
	// localhost: the IPv4 side decides the port, the IPv6 side must get the
	// same one. With port 0 another program may hold that port on ::1, so
	// try a few ports before giving up.
	for attempt := 0; ; attempt++ {
		v4, err := listen("tcp4", "127.0.0.1", t.port)
		if err != nil {
			return nil, listenError(t, "127.0.0.1", err)
		}
		port := v4.Addr().(*net.TCPAddr).Port
		v6, err := listen("tcp6", "::1", port)
		switch {
		case err == nil:
			return []net.Listener{v4, v6}, nil
		case noIPv6(err):
			return []net.Listener{v4}, nil
		case t.port == 0 && addrInUse(err) && attempt < 10:
			v4.Close()
			continue
		}
		v4.Close()
		return nil, listenError(t, "[::1]", err)
	}
}

func listenError(t *loopbackURI, ip string, err error) error {
	if addrInUse(err) {
		return failure.New(failure.Usage, listenOp, "port %d is already in use on %s (another program listens there); stop it, or register and use another redirect URI", t.port, ip)
	}
	return failure.New(failure.Usage, listenOp, "cannot listen on %s port %d: %w", ip, t.port, cause(err))
}

// Windows reports socket errors as WSA codes, which syscall's portable
// names do not match.
const (
	wsaEADDRINUSE    = 10048
	wsaEAFNOSUPPORT  = 10047
	wsaEADDRNOTAVAIL = 10049
)

func addrInUse(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == syscall.EADDRINUSE || errno == wsaEADDRINUSE)
}

// noIPv6 tells "this machine has no IPv6 loopback" from every other bind
// failure, which must not be skipped: ::1 held by another program is
// exactly the hijack that listening on both addresses prevents.
func noIPv6(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.EADDRNOTAVAIL, syscall.EAFNOSUPPORT, syscall.EPROTONOSUPPORT, wsaEAFNOSUPPORT, wsaEADDRNOTAVAIL:
		return true
	}
	return false
}

// RedirectURI is the redirect URI the listener serves: the one given to
// Listen, with the real port when port 0 was asked for.
func (l *Listener) RedirectURI() string { return l.redirectURI }

// OnIgnored sets f to receive a one-line error for each of the first few
// responses the listener ignores (see Listener); the rest are only counted.
// Calls of f do not overlap; f runs on a request's goroutine and must not
// block. Call OnIgnored before Wait.
func (l *Listener) OnIgnored(f func(error)) {
	l.mu.Lock()
	l.onIgnored = f
	l.mu.Unlock()
}

// VerifyResponseJWT sets the verifier of JARM response JWTs, which a run
// whose response mode is JARM's needs: the parameters such a response
// carries are the claims of the JWT it verified. It runs on a request's
// goroutine, with a context that ends with the request or after 10 s.
// Call it before Wait.
func (l *Listener) VerifyResponseJWT(f ResponseJWTVerifier) {
	l.mu.Lock()
	l.verifyJWT = f
	l.mu.Unlock()
}

// Wait returns the first authorization response that carries req's state,
// once it passes the checks that tie it to req: each parameter once, state
// (compared in constant time, on error responses too), iss (RFC 9207,
// against req.Issuer), no code next to an error, and the artifacts that
// req.ResponseType promises. A provider's error response is a failure.Flow
// error that shows error, error_description and error_uri. The first
// response with the state ends the wait whatever its verdict; later ones
// get 409. Responses without the state do not end it (see Listener).
//
// When ctx expires the error (failure.Flow) names the redirect URI and
// counts the responses that were ignored; when it is canceled the error is
// failure.Interrupted. Wait does not close the listener. A listener serves
// one request, the req of the first call: Wait again returns the same
// outcome.
func (l *Listener) Wait(ctx context.Context, req *Request) (*Response, error) {
	if req == nil {
		return nil, failure.New(failure.Usage, listenOp, "Wait needs the request whose response it waits for")
	}
	l.Expect(req)

	select {
	case <-l.captured:
	case <-l.closed:
		select {
		case <-l.captured:
		default:
			return nil, failure.New(failure.Flow, listenOp, "closed while waiting for the authorization response at %s", l.redirectURI)
		}
	case <-ctx.Done():
		select {
		case <-l.captured:
		default:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				if ignored := l.ignoredSummary(); ignored != "" {
					return nil, failure.New(failure.Flow, listenOp,
						"timed out waiting for the authorization response at %s: no response carried this run's state, so none could end the wait%s", l.redirectURI, ignored)
				}
				return nil, failure.New(failure.Flow, listenOp,
					"timed out waiting for the authorization response at %s: the provider never redirected there; this redirect URI must be registered exactly (scheme, host, port and path) at the provider, and sign-in must finish in time", l.redirectURI)
			}
			return nil, failure.New(failure.Interrupted, listenOp, "interrupted while waiting for the authorization response: %w", ctx.Err())
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.verdict != nil {
		return nil, l.verdict
	}
	return l.resp, nil
}

// ignoredSummary says how many responses were ignored and why, as the
// tail of a message ("; 2 responses were ignored ..."), or "".
func (l *Listener) ignoredSummary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ignored.String()
}

// Expect names the request whose response the listener waits for, so that
// a response arriving before Wait is judged at once; without it such a
// response is held until Wait names the request (for at most 10 s, then
// answered 503). The first request named stays. Wait calls Expect.
func (l *Listener) Expect(req *Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.req == nil && req != nil {
		l.req = req
		close(l.ready)
	}
}

// Close stops the listener and frees its port. It lets a page being
// written finish for a moment, then drops every connection.
func (l *Listener) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		if err := l.srv.Shutdown(ctx); err != nil {
			l.srv.Close()
		}
		for _, ln := range l.lns {
			ln.Close()
		}
		l.serving.Wait()
	})
	return nil
}

func (l *Listener) capturedAny() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got
}

// delivery is the listener's answer to one authorization response.
type delivery struct {
	status int
	msg    string
}

// deliver judges an authorization response (raw, as it arrived in mode): it
// is ignored unless it carries the run's state and came in a mode the run
// accepts; otherwise it is the run's response, and its verdict ends the
// wait. r bounds the wait for Wait to name the request.
func (l *Listener) deliver(r *http.Request, mode, raw string) delivery {
	t := time.NewTimer(readyWait)
	defer t.Stop()
	select {
	case <-l.ready:
	case <-l.closed:
		return delivery{http.StatusServiceUnavailable, "claimcheck is no longer waiting for a sign-in response."}
	case <-r.Context().Done():
		return delivery{http.StatusServiceUnavailable, "claimcheck is not ready."}
	case <-t.C:
		return delivery{http.StatusServiceUnavailable, "claimcheck is not ready for a sign-in response yet."}
	}

	l.mu.Lock()
	if l.got {
		l.mu.Unlock()
		return delivery{http.StatusConflict, "claimcheck already received a sign-in response for this run; this one was ignored."}
	}
	if why := l.untiedLocked(mode, raw); why != "" {
		n := l.ignored.total()
		report := l.onIgnored
		l.mu.Unlock()
		if report != nil && n <= maxIgnoredReports {
			msg := "ignored a response to the redirect URI (answered 400): " + why + "; still waiting"
			if n == maxIgnoredReports {
				msg += " (further ones are only counted)"
			}
			l.reportMu.Lock()
			report(failure.New(failure.Flow, listenOp, "%s", msg))
			l.reportMu.Unlock()
		}
		return delivery{http.StatusBadRequest, "claimcheck ignored this sign-in response: " + why + ". It is still waiting for the response to the sign-in it started."}
	}
	req, verifyJWT := l.req, l.verifyJWT
	if IsJARM(req.ResponseMode) {
		// Claimed before the verifier runs (it may fetch the JWKS), so
		// that no other response can take the run meanwhile.
		l.got = true
		l.mu.Unlock()
		resp, err := l.jarm(r.Context(), req, verifyJWT, mode, raw)
		l.mu.Lock()
		l.resp, l.verdict = resp, err
		close(l.captured)
		l.mu.Unlock()
		return verdictDelivery(err)
	}
	defer l.mu.Unlock()
	resp, _, err := parseParams(mode, raw)
	if err == nil {
		err = checkResponse(req, resp)
	}
	l.got, l.resp, l.verdict = true, resp, err
	close(l.captured)
	return verdictDelivery(err)
}

// jarmVerifyWait bounds the verification of a response JWT, which may
// fetch the provider's key set; it stays below writeTimeout.
const jarmVerifyWait = 10 * time.Second

// jarm judges a JARM response: its parameters, the response JWT's
// verification, then the checks of any response on the verified claims.
func (l *Listener) jarm(ctx context.Context, req *Request, verifyJWT ResponseJWTVerifier, mode, raw string) (*Response, error) {
	ctx, cancel := context.WithTimeout(ctx, jarmVerifyWait)
	defer cancel()
	p, _, err := parseParams(mode, raw)
	if err != nil {
		return nil, err
	}
	resp, err := jarmResponse(ctx, req, verifyJWT, mode, p.Params)
	if err != nil {
		return nil, err
	}
	if err := checkResponse(req, resp); err != nil {
		return resp, err
	}
	return resp, nil
}

// verdictDelivery is what the browser is told of the verdict on the run's
// response.
func verdictDelivery(err error) delivery {
	var refused *refusal
	switch {
	case err == nil:
		return delivery{http.StatusOK, "Sign-in response received. claimcheck goes on in the terminal; you can close this tab."}
	case errors.As(err, &refused):
		return delivery{http.StatusOK, "The provider refused the sign-in: " + refused.msg}
	}
	return delivery{http.StatusOK, "claimcheck refused this sign-in response: " + err.Error()}
}

// untiedLocked returns why a response cannot be tied to the run, counting
// it, or "" when it can: it carries the run's state (as one of its state
// parameters, so that a repeated one is refused as such rather than
// ignored) and is not a form POST to a run that asked for another mode.
// Nothing of an untied response is believed; only the error of one
// without any state is kept, marked untrusted, for the timeout message.
func (l *Listener) untiedLocked(mode, raw string) string {
	if mode == modeFormPost && l.req.ResponseMode != modeFormPost && l.req.ResponseMode != modeFormPostJWT {
		l.ignored.wrongMode++
		return fmt.Sprintf("it is a form POST, and this run asked for response_mode %s", clean(l.req.ResponseMode, 20))
	}
	// ParseQuery keeps the pairs it could parse; a malformed one elsewhere
	// is refused later, once the response is known to be the run's.
	vals, _ := url.ParseQuery(raw)
	states := vals["state"]
	if jwts := vals[jarmParam]; IsJARM(l.req.ResponseMode) && len(jwts) > 0 {
		// A JARM response carries its state inside the JWT. One whose
		// state cannot be read (encrypted, or no JWS) is judged rather
		// than ignored, for its verification to say what is wrong.
		state, readable := jarmState(jwts[0])
		if !readable || len(jwts) > 1 || state == "" {
			return ""
		}
		states = []string{state}
	}
	for _, s := range states {
		if subtle.ConstantTimeCompare([]byte(s), []byte(l.req.State)) == 1 {
			return ""
		}
	}
	if len(states) == 0 || (len(states) == 1 && states[0] == "") {
		l.ignored.noState++
		if e := vals.Get("error"); e != "" && len(vals["error"]) == 1 {
			l.ignored.untrusted = "error=" + clean(e, 64)
			if d := vals.Get("error_description"); d != "" {
				l.ignored.untrusted += fmt.Sprintf(" error_description=%q", clean(d, 200))
			}
			return "it has no state parameter, so it cannot be tied to this run (it carries error=" + clean(e, 64) + ", untrusted)"
		}
		return "it has no state parameter, so it cannot be tied to this run"
	}
	l.ignored.wrongState++
	return "its state is not this run's"
}

// serveHTTP answers the browser. Only the callback path exists; the Host
// header must name the loopback authority, which stops DNS rebinding (a
// page of evil.example resolving to 127.0.0.1 sends Host: evil.example).
func (l *Listener) serveHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header(), "")
	if !l.hostOK(r.Host) {
		plainText(w, http.StatusMisdirectedRequest, "This address is not the redirect URI's host.")
		return
	}
	if r.URL.Path != l.target.path {
		plainText(w, http.StatusNotFound, "Not found.")
		return
	}
	switch r.Method {
	case http.MethodGet:
		l.serveGet(w, r)
	case http.MethodPost:
		l.servePost(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		plainText(w, http.StatusMethodNotAllowed, "Method not allowed.")
	}
}

func (l *Listener) serveGet(w http.ResponseWriter, r *http.Request) {
	if r.URL.RawQuery == "" {
		l.relayPage(w)
		return
	}
	if !isResponse(r.URL.RawQuery) {
		plainText(w, http.StatusBadRequest, "This is not an authorization response.")
		return
	}
	d := l.deliver(r, modeQuery, r.URL.RawQuery)
	if d.status == http.StatusConflict || d.status == http.StatusServiceUnavailable {
		plainText(w, d.status, d.msg)
		return
	}
	// The page drops the query from the address bar and history, so the
	// code does not stay there.
	page(w, d.status, d.msg, pageQuery)
}

func (l *Listener) servePost(w http.ResponseWriter, r *http.Request) {
	relay := r.Header.Values(relayHeader)
	if len(relay) > 0 {
		if len(relay) != 1 || subtle.ConstantTimeCompare([]byte(relay[0]), []byte(l.secret)) != 1 {
			plainText(w, http.StatusForbidden, "Wrong relay secret.")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !l.originOK(o) {
			plainText(w, http.StatusForbidden, "Wrong origin.")
			return
		}
		body, ok := readBody(w, r)
		if !ok {
			return
		}
		if !isResponse(body) {
			plainText(w, http.StatusOK, "There is no sign-in response in this address; claimcheck is still waiting.")
			return
		}
		d := l.deliver(r, modeFragment, body)
		plainText(w, d.status, d.msg)
		return
	}
	// Without the relay header only a form_post can be meant, and that is
	// always an urlencoded form (OAuth 2.0 Form Post Response Mode §2).
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		plainText(w, http.StatusUnsupportedMediaType, "Expected an application/x-www-form-urlencoded form.")
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if !isResponse(body) {
		plainText(w, http.StatusBadRequest, "This is not an authorization response.")
		return
	}
	d := l.deliver(r, modeFormPost, body)
	if d.status == http.StatusConflict || d.status == http.StatusServiceUnavailable {
		plainText(w, d.status, d.msg)
		return
	}
	page(w, d.status, d.msg, pageResult)
}

func readBody(w http.ResponseWriter, r *http.Request) (string, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			plainText(w, http.StatusRequestEntityTooLarge, "Request body too large.")
		} else {
			plainText(w, http.StatusBadRequest, "Could not read the request body.")
		}
		return "", false
	}
	return string(b), true
}

// hostOK accepts the loopback names with the listener's port. Any of the
// three is safe against DNS rebinding, and a person who opens 127.0.0.1
// where the redirect URI says localhost reaches the same listener.
func (l *Listener) hostOK(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "80"
		if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
			host = host[1 : len(host)-1]
		}
	}
	if port != strconv.Itoa(l.port) {
		return false
	}
	switch strings.ToLower(host) {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}

func (l *Listener) originOK(origin string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Scheme == "http" && u.Path == "" && u.RawQuery == "" && l.hostOK(u.Host)
}

// securityHeaders go on every response. scriptNonce, when set, allows the
// one script of the page and its POST back to the listener.
func securityHeaders(h http.Header, scriptNonce string) {
	csp := "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	if scriptNonce != "" {
		csp += fmt.Sprintf("; script-src 'nonce-%s'; style-src 'nonce-%s'; connect-src 'self'", scriptNonce, scriptNonce)
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func plainText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

type pageKind int

const (
	pageResult pageKind = iota
	pageQuery
	pageRelay
)

// pageTemplate is the one page the listener serves. Its scripts are static;
// the only data in it is the message (escaped by html/template) and the
// relay secret (base64url).
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>claimcheck</title>
<style nonce="{{.Nonce}}">body{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;line-height:1.5}</style>
</head>
<body>
<h1>claimcheck</h1>
<p id="status">{{.Message}}</p>
{{- if eq .Kind 1}}
<script nonce="{{.Nonce}}">history.replaceState(null, "", location.pathname);</script>
{{- else if eq .Kind 2}}
<noscript><p>This page needs JavaScript to pass the sign-in response in its address to claimcheck.</p></noscript>
<script nonce="{{.Nonce}}" data-relay-secret="{{.Secret}}">
(function () {
  var secret = document.currentScript.getAttribute("data-relay-secret");
  var fragment = location.hash.slice(1);
  history.replaceState(null, "", location.pathname + location.search);
  var out = document.getElementById("status");
  if (!fragment) {
    out.textContent = "There is no sign-in response in this address; claimcheck is still waiting.";
    return;
  }
  fetch(location.pathname, {
    method: "POST",
    headers: {"X-Claimcheck-Relay": secret, "Content-Type": "text/plain;charset=UTF-8"},
    body: fragment,
    credentials: "omit",
    cache: "no-store",
    redirect: "error",
    referrerPolicy: "no-referrer"
  }).then(function (r) { return r.text(); }).then(function (t) {
    out.textContent = t;
  }, function () {
    out.textContent = "claimcheck could not be reached; see the terminal.";
  });
})();
</script>
{{- end}}
</body>
</html>
`))

func (l *Listener) relayPage(w http.ResponseWriter) {
	pageWithSecret(w, http.StatusOK, "Passing the sign-in response to claimcheck…", pageRelay, l.secret)
}

func page(w http.ResponseWriter, status int, msg string, kind pageKind) {
	pageWithSecret(w, status, msg, kind, "")
}

func pageWithSecret(w http.ResponseWriter, status int, msg string, kind pageKind, secret string) {
	nonce := randomString()
	securityHeaders(w.Header(), nonce)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pageTemplate.Execute(w, struct {
		Nonce, Message, Secret string
		Kind                   pageKind
	}{nonce, msg, secret, kind})
}
