package suite

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/app/claimsnap"
	"github.com/claimcheck/claimcheck/internal/httpclient"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// Options say how a suite runs.
type Options struct {
	// Parallel is how many cases run at once; at least 1.
	Parallel int
	// Shard, when Of > 0, runs only the cases whose name hashes to part
	// Index (1-based) of Of.
	Shard Shard
	// Match, when set, runs only the cases whose name it matches
	// (anywhere in the name, as go test -run).
	Match *regexp.Regexp
	// Rate caps requests per second to each issuer; 0 means no cap.
	Rate float64
	// HTTPTimeout bounds each request; ClockSkew is the verification
	// allowance; Timeout bounds each case.
	HTTPTimeout, ClockSkew, Timeout time.Duration
	CAFile                          string
	// Getenv resolves the environment variables a suite names for secrets.
	Getenv func(string) string
	// UpdateSnapshots writes each case's snapshot instead of comparing.
	UpdateSnapshots bool
	// Progress, when set, is called after each case with the counts so far.
	Progress func(done, total, failed int)
	// Now is the verification clock; time.Now when nil.
	Now func() time.Time
}

// Shard is part Index of Of (1-based); the zero value means all cases.
type Shard struct{ Index, Of int }

// Selects says whether the case named name belongs to the shard: FNV-1a of
// the name modulo Of, so that a case stays in its shard however the file
// grows.
func (s Shard) Selects(name string) bool {
	if s.Of <= 0 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	return int(h.Sum32()%uint32(s.Of)) == s.Index-1
}

// Select returns the cases of s that o runs: those of its shard whose name
// o.Match matches, in file order.
func (s *Suite) Select(o Options) []Case {
	var cases []Case
	for _, c := range s.Cases {
		if o.Shard.Selects(c.Name) && (o.Match == nil || o.Match.MatchString(c.Name)) {
			cases = append(cases, c)
		}
	}
	return cases
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	Name     string        `json:"name"`
	OK       bool          `json:"ok"`
	ExitCode int           `json:"exit_code"`
	Class    failure.Class `json:"class,omitempty"`
	// DurationMS is the case's wall time in milliseconds.
	DurationMS int64 `json:"duration_ms"`
	// Requests counts the HTTP requests made while the case ran: its
	// token request and userinfo, and the shared key set when this case
	// was the first to need it (discovery is counted per issuer only).
	Requests int64 `json:"requests"`
	// Retried429 counts requests sent again after a 429.
	Retried429 int64          `json:"retried_429,omitempty"`
	Report     *report.Report `json:"report"`
	duration   time.Duration
}

// IssuerStats counts the requests to one issuer.
type IssuerStats struct {
	Issuer     string `json:"issuer"`
	Requests   int64  `json:"requests"`
	Retried429 int64  `json:"retried_429"`
}

// Result is the outcome of a suite.
type Result struct {
	OK       bool   `json:"ok"`
	ExitCode int    `json:"exit_code"`
	File     string `json:"file"`
	Shard    string `json:"shard,omitempty"`
	// Run is the --run pattern the cases were selected by, if any.
	Run    string `json:"run,omitempty"`
	Total  int    `json:"total"`
	Passed int    `json:"passed"`
	Failed int    `json:"failed"`
	// Errored counts cases that could not be checked (any class but
	// expectation).
	Errored    int           `json:"errored"`
	DurationMS int64         `json:"duration_ms"`
	Cases      []*CaseResult `json:"cases"`
	Issuers    []IssuerStats `json:"issuers"`
	// Worst is the worst class among the cases; "" when all passed.
	Worst    failure.Class `json:"worst_class,omitempty"`
	Started  time.Time     `json:"-"`
	Duration time.Duration `json:"-"`
}

// issuer is what the cases of one issuer share: one client (rate limit,
// retries, counts) and one discovered Provider (one discovery document,
// one key set).
type issuer struct {
	url       string
	client    *http.Client
	transport *issuerTransport
	once      sync.Once
	provider  *verify.Provider
	err       error
}

func (is *issuer) discover(ctx context.Context) (*verify.Provider, error) {
	is.once.Do(func() {
		// Discovery is shared: it is not counted against the case that
		// happened to ask first.
		ctx = withCaseStats(ctx, nil)
		is.provider, is.err = verify.Discover(ctx, is.url, is.client)
	})
	return is.provider, is.err
}

// Run runs the suite's cases (those s.Select(o) returns) and returns the
// result; it never returns nil. Each case's failure is its own: a case
// that errors does not stop the others.
func Run(ctx context.Context, s *Suite, o Options) (*Result, error) {
	res := &Result{File: s.Path, Started: time.Now()}
	if o.Shard.Of > 0 {
		res.Shard = fmt.Sprintf("%d/%d", o.Shard.Index, o.Shard.Of)
	}
	if o.Match != nil {
		res.Run = o.Match.String()
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	if o.Getenv == nil {
		o.Getenv = func(string) string { return "" }
	}
	issuers := map[string]*issuer{}
	cases := s.Select(o)
	if o.UpdateSnapshots {
		// Found after every case's requests, a snapshot that cannot be
		// written would make the whole run for nothing.
		if err := checkSnapshotDirs(s, cases); err != nil {
			return nil, err
		}
	}
	for _, c := range cases {
		if issuers[c.Issuer] == nil {
			base, err := httpclient.New(httpclient.Options{Timeout: o.HTTPTimeout, CAFile: o.CAFile})
			if err != nil {
				return nil, failure.Wrap(failure.Usage, "--ca-file", err)
			}
			t := newIssuerTransport(base.Transport, o.Rate, o.HTTPTimeout)
			client := *base
			client.Transport = t
			client.Timeout = 0 // per attempt, in the transport
			issuers[c.Issuer] = &issuer{url: c.Issuer, client: &client, transport: t}
		}
	}
	res.Cases = make([]*CaseResult, len(cases))
	res.Total = len(cases)

	var mu sync.Mutex
	done, failed := 0, 0
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < min(o.Parallel, len(cases)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cr := runCase(ctx, s, cases[i], issuers[cases[i].Issuer], o)
				mu.Lock()
				res.Cases[i] = cr
				done++
				if !cr.OK {
					failed++
				}
				if o.Progress != nil {
					o.Progress(done, len(cases), failed)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range cases {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	// Cases never started because the run was interrupted say so.
	for i, cr := range res.Cases {
		if cr == nil {
			r := report.New(cases[i].Issuer, cases[i].Grant)
			r.Fail(failure.New(failure.Interrupted, cases[i].Name, "not run: %v", context.Cause(ctx)))
			r.Finish()
			res.Cases[i] = &CaseResult{Name: cases[i].Name, ExitCode: r.ExitCode, Class: r.Class(), Report: r}
		}
	}

	for _, cr := range res.Cases {
		switch {
		case cr.OK:
			res.Passed++
		case cr.Class == failure.Expectation:
			res.Failed++
		default:
			res.Errored++
		}
		if cr.Class.Severity() > res.Worst.Severity() {
			res.Worst = cr.Class
		}
	}
	for _, is := range issuers {
		res.Issuers = append(res.Issuers, IssuerStats{Issuer: is.url, Requests: is.transport.requests.Load(), Retried429: is.transport.retries.Load()})
	}
	sort.Slice(res.Issuers, func(i, j int) bool { return res.Issuers[i].Issuer < res.Issuers[j].Issuer })
	res.ExitCode = res.Worst.ExitCode()
	res.OK = res.ExitCode == 0
	res.Duration = time.Since(res.Started)
	res.DurationMS = res.Duration.Milliseconds()
	return res, nil
}

func runCase(ctx context.Context, s *Suite, c Case, is *issuer, o Options) *CaseResult {
	started := time.Now()
	stats := &caseStats{}
	ctx = withCaseStats(ctx, stats)
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	r := runCaseReport(ctx, s, c, is, o)
	if n := stats.retries.Load(); n > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d request(s) answered 429 Too Many Requests were sent again after Retry-After", n))
	}
	d := time.Since(started)
	return &CaseResult{
		Name: c.Name, OK: r.OK, ExitCode: r.ExitCode, Class: r.Class(), Report: r,
		DurationMS: d.Milliseconds(), duration: d,
		Requests: stats.requests.Load(), Retried429: stats.retries.Load(),
	}
}

func runCaseReport(ctx context.Context, s *Suite, c Case, is *issuer, o Options) *report.Report {
	fail := func(err error) *report.Report {
		r := report.New(c.Issuer, c.Grant)
		r.Fail(err)
		r.Finish()
		return r
	}
	cfg, err := c.config(o.Getenv)
	if err != nil {
		return fail(err)
	}
	var want claimsnap.Snapshot
	snapPath := snapshotPath(s, c)
	if snapPath != "" && !o.UpdateSnapshots {
		if want, err = claimsnap.Load(snapPath); err != nil {
			return fail(failure.New(failure.Usage, snapshotField(s, c), "%s", oneLine(err.Error())))
		}
	}
	p, err := is.discover(ctx)
	if err != nil {
		return fail(err)
	}
	cfg.Provider, cfg.HTTPClient = p, is.client
	cfg.ClockSkew, cfg.Timeout, cfg.Now = o.ClockSkew, o.Timeout, o.Now
	r, _ := check.Run(ctx, cfg)
	if r.Error != nil {
		return r
	}
	for _, cc := range c.Claims {
		r.AddCheck(cc.evaluate(r))
	}
	switch {
	case want != nil:
		for _, ch := range claimsnap.Compare(want, r) {
			r.AddCheck(ch)
		}
	case o.UpdateSnapshots && snapPath != "":
		// The error names the suite's field: --save-claims is another
		// command's flag.
		if err := os.WriteFile(snapPath, claimsnap.Take(r).Marshal(), 0o644); err != nil {
			r.Fail(failure.New(failure.Usage, snapshotField(s, c), "%w", err))
		} else {
			r.Notes = append(r.Notes, "snapshot written to "+snapPath)
		}
	}
	r.Finish()
	return r
}

// snapshotPath is where case c's snapshot is, relative paths taken from the
// suite file's directory; "" when it names none.
func snapshotPath(s *Suite, c Case) string {
	if c.Snapshot == "" || filepath.IsAbs(c.Snapshot) {
		return c.Snapshot
	}
	return filepath.Join(filepath.Dir(s.Path), c.Snapshot)
}

// snapshotField names case c's snapshot field in messages: "file:line: snapshot".
func snapshotField(s *Suite, c Case) string {
	return fmt.Sprintf("%s:%d: snapshot", s.Path, c.Line)
}

// checkSnapshotDirs makes sure, before anything is sent, that every
// snapshot --update-snapshots will write has a directory to go in.
func checkSnapshotDirs(s *Suite, cases []Case) error {
	for _, c := range cases {
		p := snapshotPath(s, c)
		if p == "" {
			continue
		}
		if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			return failure.New(failure.Usage, snapshotField(s, c), "cannot write %s: its directory does not exist", p)
		}
	}
	return nil
}

// config turns a case into a run configuration, reading its secrets from
// the environment variables it names.
func (c Case) config(getenv func(string) string) (check.Config, error) {
	env := func(field, name string) (string, error) {
		if name == "" {
			return "", nil
		}
		v := getenv(name)
		if v == "" {
			return "", failure.New(failure.Usage, c.Name, "%s names the environment variable %s, which is not set", field, name)
		}
		return v, nil
	}
	secret, err := env("client_secret_env", c.ClientSecretEnv)
	if err != nil {
		return check.Config{}, err
	}
	password, err := env("password_env", c.PasswordEnv)
	if err != nil {
		return check.Config{}, err
	}
	refresh, err := env("refresh_token_env", c.RefreshTokenEnv)
	if err != nil {
		return check.Config{}, err
	}
	subject, err := env("subject_token_env", c.SubjectTokenEnv)
	if err != nil {
		return check.Config{}, err
	}
	actor, err := env("actor_token_env", c.ActorTokenEnv)
	if err != nil {
		return check.Config{}, err
	}
	scopes := c.Scopes
	if scopes == nil && c.Grant != flow.GrantTokenExchange {
		// A token exchange without scopes leaves them to the provider.
		scopes = []string{"openid"}
	}
	exp := verify.Expectations{
		ExpectGroups: c.ExpectGroups, ForbidGroups: c.ForbidGroups,
		GroupsClaim: c.GroupsClaim, GroupsFrom: c.Token,
	}
	if c.ExactGroups != nil {
		exp.ExactGroups = *c.ExactGroups
	}
	var key *flow.ClientKey
	if c.ClientKey != "" {
		if key, err = flow.LoadClientKey(c.ClientKey, c.ClientKeyID); err != nil {
			return check.Config{}, failure.New(failure.Usage, c.Name, "client_key: %w", err)
		}
	}
	var dpopKey *flow.DPoPKey
	switch {
	case c.DPoPKey != "":
		if dpopKey, err = flow.LoadDPoPKey(c.DPoPKey); err != nil {
			return check.Config{}, failure.New(failure.Usage, c.Name, "dpop_key: %w", err)
		}
	case c.DPoP != nil && *c.DPoP:
		if dpopKey, err = flow.NewDPoPKey(); err != nil {
			return check.Config{}, failure.New(failure.Usage, c.Name, "dpop: %w", err)
		}
	}
	var cert *flow.ClientCertificate
	if c.ClientCert != "" {
		if key == nil {
			return check.Config{}, failure.New(failure.Usage, c.Name, "client_cert needs client_key, the certificate's private key")
		}
		if cert, err = flow.LoadClientCertificate(c.ClientCert, key); err != nil {
			return check.Config{}, failure.New(failure.Usage, c.Name, "client_cert: %w", err)
		}
	}
	g := check.Grant{Type: c.Grant, Username: c.User, Password: password, RefreshToken: refresh}
	audience := c.Audience
	if c.Grant == flow.GrantTokenExchange {
		g.Exchange = flow.TokenExchange{SubjectToken: subject, SubjectTokenType: c.SubjectTokenType,
			ActorToken: actor, ActorTokenType: c.ActorTokenType, RequestedTokenType: c.RequestedTokenType}
		if audience != "" {
			// Asked for, and checked on the issued token.
			g.Exchange.Audiences, audience = []string{audience}, ""
		}
	}
	return check.Config{
		Issuer: c.Issuer, ClientID: c.ClientID, ClientSecret: secret, AuthMethod: c.ClientAuth,
		ClientKey: key, AssertionAudience: c.AssertionAud, ClientCertificate: cert, DPoPKey: dpopKey,
		Scopes: scopes, Audience: audience, Expect: exp, ProviderKind: c.Provider,
		PAR: c.PAR != nil && *c.PAR, RequestObject: c.RequestObject != nil && *c.RequestObject, Resources: c.Resources, AuthorizationDetails: c.AuthorizationDetails,
		Grant: g,
		ClaimSources: check.ClaimSources{
			TrustedIssuers: c.TrustedClaimsIssuers, Token: c.ClaimsSourceToken,
			Graph: c.ClaimsSourceGraph != nil && *c.ClaimsSourceGraph,
		},
		// Userinfo is otherwise asked only when the groups need it.
		AskUserinfo: slices.ContainsFunc(c.Claims, func(cc ClaimCheck) bool { return cc.Token == report.UserInfo }),
	}, nil
}
