// Command ccbrowser signs a test user in through an OpenID provider's real
// sign-in pages in headless Chromium, for claimcheck's interoperability tests.
//
//	CCBROWSER_PASSWORD=secret ccbrowser --user alice [flags] AUTHORIZE-URL
//
// It is meant to be claimcheck's --browser-command: claimcheck runs it with
// the authorize URL as its last argument. It opens the URL in a fresh headless
// Chromium profile, fills in the provider's sign-in form (Dex's password login
// page; oidc-provider's development login page), approves or cancels the
// consent page, and waits until the browser has arrived at the redirect URI
// and the page there has finished loading (and, when asked, shows a given
// element or text). It exits 0 then; on any failure or at the deadline it
// exits 1 with a message saying what it saw. Usage errors exit 2.
//
// With --device the URL is a device flow's verification_uri_complete
// (claimcheck --grant device_code opens it): ccbrowser confirms the user code
// (oidc-provider's "Confirm Device" page; Dex's "Enter User Code" form,
// which the URL fills in), signs in, approves the consent page and exits 0
// once the provider shows its success page. With --device --consent cancel
// it denies instead, and exits 0 once the provider shows that it took the
// denial: at oidc-provider it presses "[ Abort ]" on the confirmation page
// and waits for "The Sign-in request was interrupted"; at Dex, which has no
// confirmation page, it presses "Cancel" on the approval page and waits for
// Dex's "Approval rejected." page. Either way it says on stderr how the
// device flow ended (the provider's own words), since no redirect shows it.
//
// The password is read from an environment variable (--password-env), never
// from the command line.
package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

const (
	exitFailure = 1
	exitUsage   = 2
)

type options struct {
	user         string
	passwordEnv  string
	consent      string
	redirectURI  string
	waitSelector string
	waitText     string
	timeout      time.Duration
	chromium     string
	screenshot   string
	printURL     bool
	verbose      bool
	device       bool
	authorizeURL string
	// trustSPKI are the base64 SHA-256 hashes of the public keys of
	// --trust-cert's certificates, comma separated.
	trustSPKI string
}

func main() {
	opts, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintf(os.Stderr, "ccbrowser: %v\n", err)
		os.Exit(exitUsage)
	}
	password := ""
	if opts.user != "" {
		var ok bool
		password, ok = os.LookupEnv(opts.passwordEnv)
		if !ok {
			fmt.Fprintf(os.Stderr, "ccbrowser: the password for --user %s must be in the environment variable %s (--password-env), which is not set\n", opts.user, opts.passwordEnv)
			os.Exit(exitUsage)
		}
	}
	// On SIGINT or SIGTERM (claimcheck interrupted), stop driving, close
	// Chromium and remove the profile before exiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The contexts below end the run at --timeout (plus 15 s to close
	// Chromium); once an e2e run sat 30 s past that with nothing printed.
	// Whatever hangs, the process ends here, and Chromium with it
	// (chromedp starts it with a parent-death signal).
	watchdog := time.AfterFunc(opts.timeout+30*time.Second, func() {
		fmt.Fprintf(os.Stderr, "ccbrowser: still running 30s after --timeout %v; giving up\n", opts.timeout)
		os.Exit(exitFailure)
	})
	defer watchdog.Stop()
	r := &run{opts: opts, password: password, logw: os.Stderr}
	final, err := r.do(ctx)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ccbrowser: %v\n", err)
		os.Exit(exitFailure)
	}
	if opts.printURL {
		fmt.Println(final)
	}
}

func parseFlags(args []string, output io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("ccbrowser", flag.ContinueOnError)
	fs.SetOutput(output)
	fs.StringVar(&o.user, "user", "", "login to type into the provider's sign-in form (Dex: the email address); empty: fail if a sign-in form appears")
	fs.StringVar(&o.passwordEnv, "password-env", "CCBROWSER_PASSWORD", "name of the environment variable that holds the password")
	fs.StringVar(&o.consent, "consent", "approve", "what to do on a consent page: approve or cancel")
	fs.StringVar(&o.redirectURI, "redirect-uri", "", "where the browser is expected to arrive (scheme, host, port and path are compared); default: the authorize URL's redirect_uri parameter")
	fs.StringVar(&o.waitSelector, "wait-selector", "", "after arriving, also wait until an element matches this CSS selector")
	fs.StringVar(&o.waitText, "wait-text", "", "after arriving, also wait until the page's text contains this")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "deadline for the whole run")
	fs.StringVar(&o.chromium, "chromium", envOr("CCBROWSER_CHROMIUM", "/usr/bin/chromium"), "Chromium executable (env CCBROWSER_CHROMIUM)")
	fs.StringVar(&o.screenshot, "screenshot", "", "on failure, save a PNG screenshot of the page here")
	fs.BoolVar(&o.printURL, "print-url", false, "on success, print the URL the browser arrived at (with its query and fragment) on stdout")
	fs.BoolVar(&o.device, "device", false, "the URL is a device flow's verification_uri_complete: confirm the user code, sign in, answer the consent page and wait for the provider's success page instead of a redirect (--consent cancel: deny at oidc-provider's confirmation page or Dex's approval page and wait for the provider to show the denial)")
	trustCert := fs.String("trust-cert", "", "PEM file of certificates (a test CA's) whose public keys Chromium trusts in a server's chain, for a provider on https with a test certificate (Chromium's --ignore-certificate-errors-spki-list: other certificate errors still fail)")
	fs.BoolVar(&o.verbose, "v", false, "log each step, and Chromium's own output, to stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: CCBROWSER_PASSWORD=... ccbrowser --user NAME [flags] AUTHORIZE-URL\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, fmt.Errorf("want exactly one argument, the authorize URL; got %d", fs.NArg())
	}
	o.authorizeURL = fs.Arg(0)
	if *trustCert != "" {
		var err error
		if o.trustSPKI, err = spkiHashes(*trustCert); err != nil {
			return nil, err
		}
	}
	u, err := url.Parse(o.authorizeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("the authorize URL %q is not an absolute http(s) URL", o.authorizeURL)
	}
	if o.consent != "approve" && o.consent != "cancel" {
		return nil, fmt.Errorf("--consent must be approve or cancel, not %q", o.consent)
	}
	if o.device {
		switch {
		case o.redirectURI != "":
			return nil, errors.New("--redirect-uri has no meaning with --device (there is no redirect)")
		case o.waitSelector != "" || o.waitText != "":
			return nil, errors.New("--wait-selector and --wait-text have no meaning with --device (ccbrowser waits for the provider's success page)")
		case o.timeout <= 0:
			return nil, errors.New("--timeout must be positive")
		}
		return o, nil
	}
	if o.redirectURI == "" {
		o.redirectURI = u.Query().Get("redirect_uri")
		if o.redirectURI == "" {
			return nil, errors.New("the authorize URL has no redirect_uri parameter: give --redirect-uri")
		}
	}
	ru, err := url.Parse(o.redirectURI)
	if err != nil || ru.Scheme == "" || ru.Host == "" {
		return nil, fmt.Errorf("the redirect URI %q is not an absolute URL", o.redirectURI)
	}
	if o.timeout <= 0 {
		return nil, errors.New("--timeout must be positive")
	}
	return o, nil
}

// spkiHashes returns the base64 SHA-256 hashes of the SubjectPublicKeyInfo
// of each certificate in the PEM file, comma separated: the form of
// Chromium's --ignore-certificate-errors-spki-list.
func spkiHashes(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("--trust-cert: %w", err)
	}
	var hashes []string
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return "", fmt.Errorf("--trust-cert %s: %w", file, err)
		}
		sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
		hashes = append(hashes, base64.StdEncoding.EncodeToString(sum[:]))
	}
	if len(hashes) == 0 {
		return "", fmt.Errorf("--trust-cert %s: no PEM certificate in it", file)
	}
	return strings.Join(hashes, ","), nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// pageState is what the probe script reports about the current document.
type pageState struct {
	Href       string `json:"href"`
	ReadyState string `json:"readyState"`
	Kind       string `json:"kind"`
	Detail     string `json:"detail"`
	Acted      bool   `json:"acted"`
	Text       string `json:"text"`
	// CodeFilled: on Dex's user code page (dex-device-input), the code
	// field has a value (verification_uri_complete fills it in).
	CodeFilled bool `json:"codeFilled"`
}

// probeJS classifies the current document. Kinds:
// dex-login, dex-approval, dex-error, dex-device-input, dex-device-success,
// op-login, op-consent, op-error, login-error, op-device-input,
// op-device-confirm, op-device-success, other.
// For op-device-input, detail is the page's message (an error or "Enter the
// code displayed on your device"); for dex-device-input, Dex's error box
// ("Invalid or Expired User Code") or "".
const probeJS = `(() => {
  const q = (s) => document.querySelector(s);
  const text = (el) => (el ? el.innerText || el.textContent || '' : '').trim().replace(/\s+/g, ' ');
  const out = {
    href: location.href,
    readyState: document.readyState,
    kind: 'other',
    detail: '',
    acted: !!window.__ccbrowserActed,
    text: text(document.body).slice(0, 400),
    codeFilled: false,
  };
  const loginError = q('#login-error');
  const panelHeading = text(q('body.theme-body .theme-panel h2.theme-heading'));
  if (q('form input#user_code[name=user_code]')) {
    // Dex's "Enter User Code" page; its error box is also #login-error.
    out.kind = 'dex-device-input';
    out.detail = text(loginError);
    out.codeFilled = q('input#user_code').value.trim() !== '';
  } else if (panelHeading.startsWith('Login Successful for') && !q('form')) {
    out.kind = 'dex-device-success';
    out.detail = text(q('.theme-panel'));
  } else if (loginError) {
    out.kind = 'login-error';
    out.detail = text(loginError);
  } else if (q('form[id="op.deviceConfirmForm"]')) {
    out.kind = 'op-device-confirm';
  } else if (q('form[id="op.deviceInputForm"]')) {
    out.kind = 'op-device-input';
    out.detail = text(q('.container p'));
  } else if (document.title === 'Sign-in Success' && !q('form')) {
    out.kind = 'op-device-success';
    out.detail = text(document.body);
  } else if (q('input[name=prompt][value=login]') && q('input[name=login]') && q('input[name=password]')) {
    out.kind = 'op-login';
  } else if (q('input[name=prompt][value=consent]')) {
    out.kind = 'op-consent';
  } else if (q('#provider-error') || document.title === 'oops! something went wrong') {
    out.kind = 'op-error';
    out.detail = text(document.body);
  } else if (q('form input#login[name=login]') && q('input#password')) {
    out.kind = 'dex-login';
  } else if (q('input[name=approval][value=approve]')) {
    out.kind = 'dex-approval';
  } else if (q('body.theme-body .theme-panel h2.theme-heading') && !q('form')) {
    out.kind = 'dex-error';
    out.detail = text(q('.theme-panel'));
  }
  return out;
})()`

// kindWhenSettled is the page's kind once it can be trusted. No page counts
// while the document is still being parsed: Dex's login page after a wrong
// password, half parsed, has its form but not yet its "#login-error" box
// below the fields, and would pass for the sign-in form coming back (and
// Dex's user code page for a fresh one). An error or success page counts
// only once the document has loaded: Dex's approval page, half parsed, has
// its heading but not yet its form, and would pass for Dex's error page.
func (st pageState) kindWhenSettled() string {
	if st.ReadyState == "loading" {
		return "other"
	}
	switch st.Kind {
	case "dex-error", "op-error", "op-device-success", "dex-device-success":
		if st.ReadyState != "complete" {
			return "other"
		}
	}
	return st.Kind
}

const markActedJS = `window.__ccbrowserActed = true; true`

type run struct {
	opts     *options
	password string
	logw     io.Writer

	mu      sync.Mutex
	arrived string // first main-frame URL (with fragment) at the redirect URI
}

func (r *run) logf(format string, args ...any) {
	if r.opts.verbose {
		fmt.Fprintf(r.logw, "ccbrowser: "+format+"\n", args...)
	}
}

// atRedirect reports whether raw has the redirect URI's scheme, host, port
// and path.
func (r *run) atRedirect(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	want, _ := url.Parse(r.opts.redirectURI)
	path := u.Path
	if path == "" {
		path = "/"
	}
	wantPath := want.Path
	if wantPath == "" {
		wantPath = "/"
	}
	return u.Scheme == want.Scheme && strings.EqualFold(u.Host, want.Host) && path == wantPath
}

// redact drops the query and fragment of a URL for messages: they carry codes,
// tokens and state.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	s := u.Scheme + "://" + u.Host + u.Path
	if u.RawQuery != "" {
		s += "?…"
	}
	if u.Fragment != "" {
		s += "#…"
	}
	return s
}

func (r *run) allocatorOptions(userDataDir string) []chromedp.ExecAllocatorOption {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(r.opts.chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("metrics-recording-only", true),
		// No name lookups beyond the loopback: the providers' pages refer to
		// outside resources (oidc-provider's pages import a web font), and
		// this machine has no network.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]"),
		chromedp.UserDataDir(userDataDir),
		chromedp.WindowSize(1024, 768),
	}
	if r.opts.trustSPKI != "" {
		// Chromium honours this only with a --user-data-dir, which
		// ccbrowser always gives.
		opts = append(opts, chromedp.Flag("ignore-certificate-errors-spki-list", r.opts.trustSPKI))
	}
	if r.opts.verbose {
		opts = append(opts, chromedp.CombinedOutput(r.logw))
	}
	return opts
}

func (r *run) do(parent context.Context) (string, error) {
	if _, err := os.Stat(r.opts.chromium); err != nil {
		return "", fmt.Errorf("no Chromium at %s (install it with scripts/e2e-deps.sh, or set --chromium): %v", r.opts.chromium, err)
	}
	userDataDir, err := os.MkdirTemp("", "ccbrowser-profile-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(userDataDir)

	// The browser lives in hardCtx: the deadline plus a margin for a
	// screenshot and a clean stop. The deadline itself applies to driving.
	deadline := time.Now().Add(r.opts.timeout)
	hardCtx, cancelHard := context.WithDeadline(parent, deadline.Add(15*time.Second))
	defer cancelHard()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(hardCtx, r.allocatorOptions(userDataDir)...)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	start := time.Now()
	r.logf("starting %s", r.opts.chromium)
	if err := chromedp.Do(browserCtx); err != nil {
		return "", fmt.Errorf("starting Chromium (%s): %v", r.opts.chromium, err)
	}
	defer func() {
		// Close the browser gracefully, so that no process lingers.
		_ = chromedp.Cancel(browserCtx)
	}()
	err = chromedp.Listen(browserCtx, func(ev any) {
		var u string
		switch e := ev.(type) {
		case *page.EventFrameNavigated:
			if e.Frame.ParentID != "" {
				return
			}
			u = e.Frame.URL + e.Frame.URLFragment
		case *page.EventNavigatedWithinDocument:
			u = e.URL
		default:
			return
		}
		r.logf("at %s", redact(u))
		if r.atRedirect(u) {
			r.mu.Lock()
			if r.arrived == "" {
				r.arrived = u
			}
			r.mu.Unlock()
		}
	})
	if err != nil {
		return "", fmt.Errorf("listening to the browser's navigations: %v", err)
	}
	r.logf("Chromium up in %v; opening %s", time.Since(start).Round(time.Millisecond), redact(r.opts.authorizeURL))

	driveCtx, cancelDrive := context.WithDeadline(browserCtx, deadline)
	defer cancelDrive()
	final, err := r.drive(driveCtx)
	if err != nil {
		if r.opts.screenshot != "" {
			r.saveScreenshot(browserCtx)
		}
		if parent.Err() != nil && r.opts.device {
			return "", fmt.Errorf("interrupted before the device flow ended: %v", err)
		}
		if parent.Err() != nil {
			return "", fmt.Errorf("interrupted before arriving at %s: %v", r.opts.redirectURI, err)
		}
		if driveCtx.Err() != nil {
			if r.opts.device {
				return "", fmt.Errorf("no device flow outcome within %v: %v", r.opts.timeout, err)
			}
			return "", fmt.Errorf("no arrival at %s within %v: %v", r.opts.redirectURI, r.opts.timeout, err)
		}
		return "", err
	}
	r.logf("done in %v", time.Since(start).Round(time.Millisecond))
	return final, nil
}

func (r *run) saveScreenshot(ctx context.Context) {
	shotCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	buf, err := chromedp.Run(shotCtx, chromedp.CaptureScreenshot())
	if err != nil {
		fmt.Fprintf(r.logw, "ccbrowser: no screenshot: %v\n", err)
		return
	}
	if err := os.WriteFile(r.opts.screenshot, buf, 0o644); err != nil {
		fmt.Fprintf(r.logw, "ccbrowser: no screenshot: %v\n", err)
		return
	}
	fmt.Fprintf(r.logw, "ccbrowser: screenshot of the page saved to %s\n", r.opts.screenshot)
}

// drive opens the authorize URL and acts on each page until the browser is at
// the redirect URI with the page finished.
func (r *run) drive(ctx context.Context) (string, error) {
	// Navigate returns once the first page (after any HTTP redirects) has
	// loaded. A navigation error at the very start (provider down) is fatal.
	if err := chromedp.Do(ctx, chromedp.Navigate(r.opts.authorizeURL)); err != nil {
		return "", fmt.Errorf("opening the authorize URL %s: %v", redact(r.opts.authorizeURL), err)
	}
	var (
		last       pageState
		signedIn   bool
		consented  bool
		confirmed  bool
		lastAction time.Time
	)
	for {
		if err := ctx.Err(); err != nil {
			return "", fmt.Errorf("last page was %s (%s): %s", redact(last.Href), last.Kind, last.Text)
		}
		st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](probeJS))
		if err != nil {
			// The document may be going away under a navigation: try again.
			if ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			return "", fmt.Errorf("reading the page: %v", err)
		}
		last = st
		if strings.HasPrefix(st.Href, "chrome-error://") {
			return "", fmt.Errorf("the browser could not load a page (%s): %s", r.failedURL(ctx), st.Text)
		}
		if !r.opts.device && r.atRedirect(st.Href) {
			return r.finish(ctx)
		}
		if st.Acted {
			// Our last action's navigation has not replaced the document yet.
			if time.Since(lastAction) > 30*time.Second {
				return "", fmt.Errorf("the page at %s did not navigate within 30s after %s", redact(st.Href), st.Kind)
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		switch st.kindWhenSettled() {
		case "login-error":
			return "", fmt.Errorf("the provider refused the sign-in of %q at %s: %s", r.opts.user, redact(st.Href), st.Detail)
		case "dex-error", "op-error":
			// Dex answers "Cancel" on its approval page with an error page
			// and, in the device flow, leaves the device code pending.
			if r.opts.device && r.opts.consent == "cancel" && consented && st.Kind == "dex-error" && strings.Contains(st.Detail, "Approval rejected") {
				r.outcome("denied", st.Detail)
				return st.Href, nil
			}
			if r.opts.device {
				return "", fmt.Errorf("the provider showed an error page at %s: %s", redact(st.Href), st.Detail)
			}
			return "", fmt.Errorf("the provider showed an error page at %s instead of redirecting: %s", redact(st.Href), st.Detail)
		case "dex-login", "op-login":
			if r.opts.user == "" {
				return "", fmt.Errorf("a sign-in form appeared at %s but no --user was given", redact(st.Href))
			}
			if signedIn {
				return "", fmt.Errorf("the sign-in form at %s came back after signing in as %q: %s", redact(st.Href), r.opts.user, st.Text)
			}
			if err := r.signIn(ctx, st.Kind); err != nil {
				return "", fmt.Errorf("filling in the sign-in form at %s: %v", redact(st.Href), err)
			}
			signedIn = true
			lastAction = time.Now()
		case "op-device-confirm":
			if !r.opts.device {
				return "", fmt.Errorf("a device confirmation page appeared at %s without --device", redact(st.Href))
			}
			if confirmed {
				return "", fmt.Errorf("the device confirmation page at %s came back after answering it", redact(st.Href))
			}
			if err := r.confirmDevice(ctx); err != nil {
				return "", fmt.Errorf("answering the device confirmation page at %s: %v", redact(st.Href), err)
			}
			confirmed = true
			lastAction = time.Now()
		case "op-device-input":
			// After [ Abort ], oidc-provider shows the code input page again
			// with "The Sign-in request was interrupted".
			if r.opts.device && confirmed && r.opts.consent == "cancel" && strings.Contains(st.Detail, "interrupted") {
				r.outcome("denied", st.Detail)
				return st.Href, nil
			}
			if !confirmed {
				return "", fmt.Errorf("the provider asks for the user code at %s (%s): give ccbrowser the verification_uri_complete", redact(st.Href), st.Detail)
			}
			return "", fmt.Errorf("the provider showed the user code page again at %s: %s", redact(st.Href), st.Detail)
		case "dex-device-input":
			if !r.opts.device {
				return "", fmt.Errorf("a device user code page appeared at %s without --device", redact(st.Href))
			}
			if st.Detail != "" {
				return "", fmt.Errorf("the provider refused the user code at %s: %s", redact(st.Href), st.Detail)
			}
			if confirmed {
				return "", fmt.Errorf("the provider showed the user code page again at %s: %s", redact(st.Href), st.Text)
			}
			if !st.CodeFilled {
				return "", fmt.Errorf("the provider asks for the user code at %s: give ccbrowser the verification_uri_complete", redact(st.Href))
			}
			if err := r.submitDexUserCode(ctx); err != nil {
				return "", fmt.Errorf("submitting the user code at %s: %v", redact(st.Href), err)
			}
			confirmed = true
			lastAction = time.Now()
		case "op-device-success", "dex-device-success":
			if !r.opts.device || r.opts.consent == "cancel" {
				return "", fmt.Errorf("unexpected device flow success page at %s: %s", redact(st.Href), st.Detail)
			}
			r.outcome("approved", st.Detail)
			return st.Href, nil
		case "dex-approval", "op-consent":
			if consented {
				return "", fmt.Errorf("the consent page at %s came back after answering it", redact(st.Href))
			}
			if err := r.answerConsent(ctx, st.Kind); err != nil {
				return "", fmt.Errorf("answering the consent page at %s: %v", redact(st.Href), err)
			}
			consented = true
			lastAction = time.Now()
		default:
			// An intermediate page (form_post auto-submit, a redirect in
			// flight): wait.
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// failedURL returns the URL of the navigation history's current entry: for a
// Chromium error page, the URL that could not be loaded.
func (r *run) failedURL(ctx context.Context) string {
	hist, err := chromedp.Run(ctx, chromedp.NavigationEntries())
	if err != nil || hist.CurrentIndex < 0 || int(hist.CurrentIndex) >= len(hist.Entries) {
		return "unknown URL"
	}
	return redact(hist.Entries[hist.CurrentIndex].URL)
}

func (r *run) signIn(ctx context.Context, kind string) error {
	var userSel, passSel, submitSel string
	switch kind {
	case "dex-login":
		userSel, passSel, submitSel = "#login", "#password", "#submit-login"
	default:
		userSel, passSel, submitSel = "form input[name=login]", "form input[name=password]", "form button[type=submit]"
	}
	r.logf("signing in as %q (%s)", r.opts.user, kind)
	// Empty the fields first (a provider may prefill the login), then type
	// into them as a person would. chromedp.SetValue cannot set "" (its
	// empty argument arrives as undefined).
	clear := fmt.Sprintf(`for (const s of [%q, %q]) { const el = document.querySelector(s); if (el) el.value = ''; } true`, userSel, passSel)
	return chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](clear),
		chromedp.SendKeys(chromedp.CSS(userSel), r.opts.user),
		chromedp.SendKeys(chromedp.CSS(passSel), r.password),
		chromedp.Evaluate[chromedp.Void](markActedJS),
		chromedp.Click(chromedp.CSS(submitSel)),
	)
}

func (r *run) answerConsent(ctx context.Context, kind string) error {
	var sel string
	switch {
	case kind == "dex-approval" && r.opts.consent == "approve":
		sel = `form:has(input[name=approval][value=approve]) button[type=submit]`
	case kind == "dex-approval":
		sel = `form:has(input[name=approval][value=rejected]) button[type=submit]`
	case r.opts.consent == "approve":
		sel = `form:has(input[name=prompt][value=consent]) button[type=submit]`
	default:
		sel = `a[href$="/abort"]`
	}
	r.logf("%s consent (%s)", r.opts.consent, kind)
	return chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](markActedJS),
		chromedp.Click(chromedp.CSS(sel)),
	)
}

// confirmDevice presses Continue (or, with --consent cancel, "[ Abort ]") on
// oidc-provider's "Confirm Device" page.
func (r *run) confirmDevice(ctx context.Context) error {
	sel := `button[autofocus][form="op.deviceConfirmForm"]`
	if r.opts.consent == "cancel" {
		sel = `button[name=abort][form="op.deviceConfirmForm"]`
	}
	r.logf("%s the device confirmation", r.opts.consent)
	return chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](markActedJS),
		chromedp.Click(chromedp.CSS(sel)),
	)
}

// submitDexUserCode presses "Submit" on Dex's "Enter User Code" page, whose
// field verification_uri_complete has filled in.
func (r *run) submitDexUserCode(ctx context.Context) error {
	r.logf("submitting the user code")
	return chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](markActedJS),
		chromedp.Click(chromedp.CSS(`form:has(input#user_code) button#submit-login`)),
	)
}

// outcome says on stderr how the device flow ended, in the provider's words:
// no redirect shows it, and claimcheck passes the line on.
func (r *run) outcome(how, detail string) {
	fmt.Fprintf(r.logw, "ccbrowser: device authorization %s at the provider: %s\n", how, detail)
}

// finish waits for the page at the redirect URI to be complete (and to show
// what --wait-selector / --wait-text ask for) and returns the URL the browser
// arrived at.
func (r *run) finish(ctx context.Context) (string, error) {
	r.logf("arrived at %s; waiting for the page to finish", r.opts.redirectURI)
	var st pageState
	for {
		if cur, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](probeJS)); err == nil {
			st = cur
			if strings.HasPrefix(st.Href, "chrome-error://") {
				return "", fmt.Errorf("the browser could not load the redirect URI (%s): %s", r.failedURL(ctx), st.Text)
			}
			if st.ReadyState == "complete" {
				break
			}
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("the page at the redirect URI did not finish loading (readyState %q)", st.ReadyState)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.opts.waitSelector != "" {
		r.logf("waiting for %s", r.opts.waitSelector)
		if err := chromedp.Do(ctx, chromedp.WaitReady(chromedp.CSS(r.opts.waitSelector))); err != nil {
			return "", fmt.Errorf("the page at the redirect URI never showed %q: %v; its text: %s", r.opts.waitSelector, err, st.Text)
		}
	}
	if r.opts.waitText != "" {
		r.logf("waiting for the text %q", r.opts.waitText)
		want, _ := json.Marshal(r.opts.waitText)
		js := fmt.Sprintf(`(document.body ? document.body.innerText : '').includes(%s)`, want)
		for {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
				break
			}
			if ctx.Err() != nil {
				return "", fmt.Errorf("the page at the redirect URI never showed the text %q; its text: %s", r.opts.waitText, st.Text)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	r.mu.Lock()
	arrived := r.arrived
	r.mu.Unlock()
	if arrived == "" {
		arrived = st.Href
	}
	return arrived, nil
}
