package flow

import (
	"context"
	"strconv"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

// defaultTimeout is how long Run waits for the redirect when
// RunOptions.Timeout is zero.
const defaultTimeout = 2 * time.Minute

// finishGrace bounds how long Run lets an Opener that delivered the
// response finish on its own (read the result page, close) before telling
// it to stop: a browser stand-in or command cut off mid-page reports an
// error nobody needs to see.
const finishGrace = time.Second

// openerGrace bounds how long Run waits, on its way out, for an Opener
// that was told to stop.
const openerGrace = 5 * time.Second

// RunOptions say how Run reaches the person and what it lets the caller do
// along the way.
type RunOptions struct {
	// Opener shows the authorize URL: SystemBrowser, CommandBrowser,
	// PrintURL, or a stand-in that signs in by itself. Required.
	Opener Opener
	// Timeout bounds the wait for the redirect; zero means two minutes.
	// On expiry the error names the redirect URI and says that it must be
	// registered exactly.
	Timeout time.Duration
	// OnListening is called once the listener serves and before the
	// Opener runs, so that the caller can print the URL and the time left.
	OnListening func(redirectURI, authorizeURL string, deadline time.Time)
	// BeforeExchange sees the front-channel response after the state, iss
	// and error checks and before a code is redeemed or anything else is
	// sent: implicit and hybrid ID tokens are verified here. Its error ends
	// the run (class failure.Verification unless it carries one).
	BeforeExchange func(ctx context.Context, req *Request, resp *Response) error
	// VerifyResponseJWT verifies the response JWT of a JARM response
	// (Config.ResponseMode jwt, query.jwt, fragment.jwt or form_post.jwt)
	// before anything in it is used, and is required with those modes; its
	// parameters then go through the same checks as any response's, and
	// its error ends the run before BeforeExchange (class
	// failure.Verification unless it carries one).
	VerifyResponseJWT ResponseJWTVerifier
	// OpenerError, when set, receives an Opener's error (a browser that
	// could not be started, a browser command that exited non-zero) and
	// the run goes on waiting, for the person may open the URL by hand.
	// When nil, an Opener's error ends the run at once.
	OpenerError func(err error)
	// OnIgnored, when set, receives a one-line warning (class failure.Flow,
	// but not the run's end) for each of the first few authorization
	// responses the listener ignored: a state that is not the run's or no
	// state, or a form POST when form_post was not asked for. Such a
	// response may come from any web page the person has open, so it is
	// answered 400 and the run goes on waiting; the timeout message counts
	// them all. Calls do not overlap and must not block.
	OnIgnored func(err error)
}

// Result is what one run produced: what was asked and what came back.
type Result struct {
	Request  *Request
	Response *Response
	// FrontChannel holds the tokens of the authorization response itself.
	FrontChannel Tokens
	// Tokens is the token endpoint's answer; nil when no code was asked for.
	Tokens *Tokens
}

// Run performs one authorization: it listens on c.RedirectURI, builds the
// request, runs the Opener while the listener serves, waits for the
// response, calls BeforeExchange, and redeems the code if the response
// type has one. With c.PushAuthorizationRequest the request is pushed
// (Push) before the Opener runs, and a failed push ends the run with
// nothing shown. The listener is closed when Run returns, the Opener is told
// to stop, and a canceled ctx ends the run with a failure.Interrupted
// error. On an error after the request was built, the Result holds what
// was done so far, for a report of what was asked.
func Run(ctx context.Context, c Config, o RunOptions) (*Result, error) {
	if o.Opener == nil {
		return nil, failure.New(failure.Usage, "flow", "no Opener to show the authorize URL")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if IsJARM(c.ResponseMode) && o.VerifyResponseJWT == nil {
		return nil, failure.New(failure.Usage, "flow", "response_mode %s needs a VerifyResponseJWT to verify the response JWT", c.ResponseMode)
	}
	l, err := Listen(ctx, c.RedirectURI)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	c.RedirectURI = l.RedirectURI()
	req, err := NewRequest(c)
	if err != nil {
		return nil, err
	}
	res := &Result{Request: req}
	// Pushed before anything is shown: a push that fails opens nothing.
	if c.PushAuthorizationRequest {
		if err := Push(ctx, c, req); err != nil {
			return res, err
		}
	}
	if o.OnIgnored != nil {
		l.OnIgnored(o.OnIgnored)
	}
	l.VerifyResponseJWT(o.VerifyResponseJWT)
	// Named before anything is shown, so that no response waits for Wait.
	l.Expect(req)

	timeout := o.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	waitCtx, cancelWait := context.WithTimeout(ctx, timeout)
	defer cancelWait()
	if o.OnListening != nil {
		deadline, _ := waitCtx.Deadline()
		o.OnListening(l.RedirectURI(), req.URL, deadline)
	}

	type waitResult struct {
		resp *Response
		err  error
	}
	waited := make(chan waitResult, 1)
	go func() {
		resp, err := l.Wait(waitCtx, req)
		waited <- waitResult{resp, err}
	}()

	openCtx, cancelOpen := context.WithCancel(ctx)
	opened := make(chan error, 1)
	openerExited := make(chan struct{})
	go func() {
		defer close(openerExited)
		opened <- o.Opener.Open(openCtx, req.URL)
	}()
	defer func() {
		if l.capturedAny() {
			t := time.NewTimer(finishGrace)
			select {
			case <-openerExited:
			case <-t.C:
			}
			t.Stop()
		}
		cancelOpen()
		t := time.NewTimer(openerGrace)
		defer t.Stop()
		select {
		case <-openerExited:
		case <-t.C:
		}
	}()

	var wr waitResult
wait:
	for {
		select {
		case wr = <-waited:
			break wait
		case err := <-opened:
			opened = nil
			// An opener that fails after the response arrived (a stand-in
			// following the result page, a browser command exiting
			// non-zero when closed) changes nothing.
			if err == nil || l.capturedAny() || waitCtx.Err() != nil {
				continue
			}
			if o.OpenerError != nil {
				o.OpenerError(err)
				continue
			}
			cancelWait()
			<-waited
			// A stand-in whose response was ignored fails here rather
			// than at the timeout: say what was ignored.
			if ignored := l.ignoredSummary(); ignored != "" {
				err = failure.New(failure.ClassOf(failure.Wrap(failure.Flow, "", err)), "", "%w%s", err, ignored)
			}
			return res, failure.Wrap(failure.Flow, "", err)
		}
	}
	if wr.err != nil {
		return res, wr.err
	}
	resp := wr.resp
	res.Response = resp
	res.FrontChannel = Tokens{
		IDToken:     resp.Get("id_token"),
		AccessToken: resp.Get("access_token"),
		TokenType:   resp.Get("token_type"),
		Scope:       resp.Get("scope"),
	}
	if n, err := strconv.ParseInt(resp.Get("expires_in"), 10, 64); err == nil && n > 0 {
		res.FrontChannel.ExpiresIn = n
	}
	if o.BeforeExchange != nil {
		if err := o.BeforeExchange(ctx, req, resp); err != nil {
			return res, failure.Wrap(failure.Verification, "", err)
		}
	}
	rt, err := parseResponseType(req.ResponseType)
	if err != nil {
		return res, err
	}
	if !rt.code {
		return res, nil
	}
	tokens, err := Exchange(ctx, c, req, resp.Get("code"))
	if err != nil {
		return res, err
	}
	res.Tokens = tokens
	return res, nil
}
