package stream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// MaxToken bounds one line of a token stream. Real tokens are a few
// kilobytes; a longer line is reported as such without being kept.
const MaxToken = 64 << 10

// Config configures Verify.
type Config struct {
	// ClientID is the aud an ID token must name (and what tells an ID
	// token from an access token under Kind auto).
	ClientID string
	// Audience, when set, must be among an access token's audiences.
	Audience string
	// Expect is checked on each verified token's claims.
	Expect verify.Expectations
	// ClockSkew is allowed on exp, nbf and iat.
	ClockSkew time.Duration
	// HTTPClient fetches each issuer's discovery document and JWKS.
	HTTPClient *http.Client
	// ShowTokens puts each token into its result line.
	ShowTokens bool
	// Now is the clock for verification; time.Now when nil.
	Now func() time.Time
	// Issuers are the trusted issuers. A token is verified with the keys
	// of the issuer its iss names when that is one of them, and rejected
	// without any request otherwise.
	Issuers []string
	// Kind is id_token, access_token, or auto (guessed per token).
	Kind string
	// Workers verify in parallel; 0 means one per CPU.
	Workers int
	// Window bounds the batches of tokens between reading and writing
	// (results wait there to be written in input order); 0 means 16 per
	// worker. A batch holds at most maxBatchLines tokens and
	// maxBatchBytes of them.
	Window int
}

// Summary counts what Verify wrote.
type Summary struct {
	// Tokens is the number of result lines written; OK of them passed.
	Tokens, OK int
	// Classes counts the failed lines by class.
	Classes map[failure.Class]int
	// Worst is the most severe class among the lines ("" when all passed).
	Worst failure.Class
}

// ExitCode is the exit status of the stream: that of its worst class.
func (s Summary) ExitCode() int { return s.Worst.ExitCode() }

// streamLine is one line of output; the README section "Verifying a stream of tokens" is its contract.
type streamLine struct {
	Index    int            `json:"index"`
	OK       bool           `json:"ok"`
	ExitCode int            `json:"exit_code"`
	Class    *failure.Class `json:"class"`
	Kind     string         `json:"kind"`
	Issuer   string         `json:"issuer"`
	Claims   rawJSON        `json:"claims"`
	Checks   []verify.Check `json:"checks"`
	Error    *report.Error  `json:"error"`
	Token    string         `json:"token,omitempty"`
}

// inLine is one non-blank input line.
type inLine struct {
	index    int
	raw      string
	oversize bool
}

// streamJob is a batch of lines, handed from the reader to a worker and
// then to the writer as one: per-token channel operations and goroutine
// wake-ups would cost more than the verification around them.
type streamJob struct {
	lines []inLine
	res   chan batchResult
}

// batchResult is a batch's output lines and their classes.
type batchResult struct {
	out     []byte
	classes []failure.Class
}

// A batch is handed on when it holds maxBatchLines lines or maxBatchBytes
// bytes of them, or when reading on would wait for input.
const (
	maxBatchLines = 64
	maxBatchBytes = 256 << 10
)

// Verify reads tokens from in, one per line (blank lines skipped),
// verifies each through verify's one path (a Parser per stream) on Workers goroutines, evaluates the
// expectations on it, and writes one JSON object per token to out, in
// input order. Memory stays bounded by Window whatever the input's length.
// Each trusted issuer is discovered, and its JWKS fetched, once, on its
// first token; an unknown kid refetches within the key set's allowance.
//
// The error is non-nil only when reading or writing failed; the summary
// then counts what was written.
func Verify(ctx context.Context, c Config, in io.Reader, out io.Writer) (Summary, error) {
	workers := c.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	window := c.Window
	if window <= 0 {
		// With one worker per CPU, the reader and the writer run when a
		// worker waits: a deep window lets each of their turns move many
		// batches, so that workers rarely wait (4 per worker left the
		// CPUs idle 2-3% of the time; bench/verify.sh, README: Memory and speed).
		window = 16 * workers
	}
	eval := c.Expect.Evaluator()
	v := &streamVerifier{c: c, eval: eval, issuers: map[string]*streamIssuer{}, checks: 1 + eval.Checks()}
	for _, iss := range c.Issuers {
		v.issuers[iss] = &streamIssuer{}
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Every batch of the window may wait for a worker: the reader hands
	// on all it has read before it yields.
	jobs := make(chan *streamJob, window)
	order := make(chan *streamJob, window)
	readErr := make(chan error, 1)
	go func() {
		defer close(order)
		defer close(jobs)
		readErr <- readLines(ctx, in, func(j *streamJob) bool {
			select {
			case order <- j:
			case <-ctx.Done():
				return false
			}
			select {
			case jobs <- j:
				return true
			case <-ctx.Done():
				return false
			}
		})
	}()
	// bufs recycles the batches' output buffers from the writer to the
	// workers: at most Window of them are in use at once.
	var bufs sync.Pool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := worker{v: v, checks: make([]verify.Check, 0, v.checks)}
			// Workers also stop on cancellation, so that an interrupted
			// stream returns even while the reader waits on its input.
			for {
				select {
				case j, ok := <-jobs:
					if !ok {
						return
					}
					j.res <- w.batch(ctx, j.lines, &bufs)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	defer wg.Wait()

	sum := Summary{Classes: map[failure.Class]int{}}
	w := bufio.NewWriterSize(out, 64<<10)
	var werr error
	record := func(r batchResult) {
		for _, class := range r.classes {
			sum.Tokens++
			if class == "" {
				sum.OK++
				continue
			}
			sum.Classes[class]++
			if class.Severity() > sum.Worst.Severity() {
				sum.Worst = class
			}
		}
	}
loop:
	for {
		// Waiting for the next token must end on cancellation too: the
		// reader may be blocked on an idle stdin.
		var j *streamJob
		var ok bool
		select {
		case j, ok = <-order:
		default:
			// Nothing more read yet: let a reader downstream see what
			// is done before waiting.
			if werr == nil {
				werr = w.Flush()
			}
			select {
			case j, ok = <-order:
			case <-ctx.Done():
				break loop
			}
		}
		if !ok {
			break loop
		}
		var r batchResult
		select {
		case r = <-j.res:
		default:
			// Nothing ready: let a reader downstream see what is done.
			if werr == nil {
				werr = w.Flush()
			}
			select {
			case r = <-j.res:
			case <-ctx.Done():
				break loop
			}
		}
		if werr == nil {
			_, werr = w.Write(r.out)
		}
		// Written (bufio keeps no reference): the buffer serves another
		// batch.
		bufs.Put(&r.out)
		if werr != nil {
			// A closed pipe downstream: stop reading and verifying.
			cancel()
			break loop
		}
		record(r)
	}
	if werr == nil {
		werr = w.Flush()
	}
	if ctx.Err() != nil && werr == nil {
		if sum.Worst.Severity() < failure.Interrupted.Severity() {
			sum.Worst = failure.Interrupted
		}
		return sum, nil
	}
	if werr != nil {
		return sum, fmt.Errorf("writing results: %w", werr)
	}
	if err := <-readErr; err != nil {
		return sum, err
	}
	return sum, nil
}

// readLines calls emit for each batch of non-blank lines; lines longer
// than MaxToken are passed on marked oversize, without their text. A
// partial batch is handed on before a read that may wait for input, so that
// an interactive stream gets its results promptly.
func readLines(ctx context.Context, in io.Reader, emit func(*streamJob) bool) error {
	r := bufio.NewReaderSize(in, MaxToken+2)
	index := 0
	var batch []inLine
	// text holds the batch's tokens back to back, and each line's raw its
	// end offset in it until the batch is handed on: then one string is
	// made of text and every token is a slice of it, one allocation per
	// batch instead of one per token.
	var text []byte
	var ends []int
	flush := func() bool {
		if len(batch) == 0 {
			return true
		}
		all, start := string(text), 0
		for i, end := range ends {
			batch[i].raw = all[start:end]
			start = end
		}
		j := &streamJob{lines: batch, res: make(chan batchResult, 1)}
		batch, text, ends = nil, text[:0], ends[:0]
		return emit(j)
	}
	for ctx.Err() == nil {
		if r.Buffered() == 0 && !flush() {
			return nil
		}
		line, err := r.ReadSlice('\n')
		oversize := false
		for errors.Is(err, bufio.ErrBufferFull) {
			oversize = true
			_, err = r.ReadSlice('\n')
		}
		if len(line) > 0 || oversize {
			index++
			var tok []byte
			if !oversize {
				tok = bytes.TrimSpace(line)
			}
			if oversize || len(tok) > 0 {
				if batch == nil {
					batch = make([]inLine, 0, maxBatchLines)
				}
				batch = append(batch, inLine{index: index, oversize: oversize})
				text = append(text, tok...)
				ends = append(ends, len(text))
				if (len(batch) >= maxBatchLines || len(text) >= maxBatchBytes) && !flush() {
					return nil
				}
			}
		}
		if err == io.EOF {
			flush()
			return nil
		}
		if err != nil {
			flush()
			return fmt.Errorf("reading tokens: %w", err)
		}
	}
	return nil
}

// streamVerifier verifies the lines of one stream.
type streamVerifier struct {
	c       Config
	checks  int // room for a line's checks: verification and expectations
	eval    *verify.Evaluator
	parser  verify.Parser
	issuers map[string]*streamIssuer // read-only after start
}

// streamIssuer is a trusted issuer, discovered on its first token.
type streamIssuer struct {
	once sync.Once
	p    *verify.Provider
	err  error
}

func (v *streamVerifier) provider(ctx context.Context, iss string) (*verify.Provider, error) {
	si := v.issuers[iss]
	si.once.Do(func() { si.p, si.err = verify.Discover(ctx, iss, v.c.HTTPClient) })
	return si.p, si.err
}

// verdict is one line's verification, kept from the pass that routes it
// to its issuer, through the pass that verifies it, to the pass that
// renders it.
type verdict struct {
	kind, issuer string
	parsed       *verify.Parsed
	// p verifies the token: set when routing found its issuer.
	p   *verify.Provider
	tok *verify.Token
	err error
}

// route parses one line's token and finds the issuer that verifies it:
// everything before the signature check.
func (v *streamVerifier) route(ctx context.Context, j inLine) verdict {
	if j.oversize {
		// Not kept, so not guessed: an unreadable token counts as an
		// access token under auto, as in guessKind.
		kind := v.c.Kind
		if kind == "" || kind == "auto" {
			kind = verify.GuessKind(nil, "", v.c.ClientID)
		}
		return verdict{kind: kind, err: failure.New(failure.Verification, "token", "line longer than %d bytes", MaxToken)}
	}
	vd := verdict{parsed: v.parser.Parse(j.raw), kind: v.c.Kind}
	if vd.kind == "" || vd.kind == "auto" {
		vd.kind = vd.parsed.Kind(v.c.ClientID)
	}
	if err := vd.parsed.Err(); err != nil {
		if errors.Is(err, verify.ErrRefused) {
			vd.err = failure.New(failure.Verification, vd.kind, "%w", err)
		} else {
			vd.err = failure.New(failure.Verification, vd.kind, "not a JWT: %w", err)
		}
		return vd
	}
	vd.issuer = vd.parsed.Issuer()
	if _, trusted := v.issuers[vd.issuer]; !trusted {
		if vd.issuer == "" {
			vd.err = failure.New(failure.Verification, vd.kind, "the token names no issuer (iss); trusted: %s", strings.Join(v.c.Issuers, ", "))
		} else {
			vd.err = failure.New(failure.Verification, vd.kind, "issuer %q is not trusted (trusted: %s)", vd.issuer, strings.Join(v.c.Issuers, ", "))
		}
		return vd
	}
	vd.p, vd.err = v.provider(ctx, vd.issuer)
	return vd
}

// worker verifies batches. Its arrays serve all of its batches: a line's
// checks are rendered before the next line's are built, and the verdicts
// and the batch calls' arguments are not kept past a batch.
type worker struct {
	v        *streamVerifier
	checks   []verify.Check
	verdicts []verdict
	toks     []*verify.Parsed
	out      []*verify.Token
	errs     []error
}

// batch verifies lines and renders their results into a buffer of bufs.
// It makes three passes, each doing one kind of work back to back:
// routing (parsing each token and finding its issuer), verifying, and
// rendering. Interleaved token by token, the parsing and the rendering
// slowed the signature checks between them (bench/turns: 2.5% of the
// stream's speed).
func (w *worker) batch(ctx context.Context, lines []inLine, bufs *sync.Pool) batchResult {
	// Each line is rendered straight into the batch's buffer, sized for
	// the batch's tokens and their claims (about three quarters of a
	// token's length).
	size := 0
	for _, in := range lines {
		size += 512 + len(in.raw)
	}
	r := batchResult{out: getBuf(bufs, size), classes: make([]failure.Class, 0, len(lines))}
	w.verdicts = w.verdicts[:0]
	for _, in := range lines {
		w.verdicts = append(w.verdicts, w.v.route(ctx, in))
	}
	w.verify(ctx)
	for i, in := range lines {
		var class failure.Class
		r.out, class = w.v.render(in, &w.verdicts[i], r.out, &w.checks)
		r.classes = append(r.classes, class)
	}
	clear(w.verdicts)
	return r
}

// verify verifies the routed tokens of w.verdicts in place, each run of
// them with one issuer and kind through one batch call
// (Provider.VerifyParsedIDTokens or VerifyParsedAccessTokens: the
// signatures back to back, then the claims).
func (w *worker) verify(ctx context.Context) {
	vds, c := w.verdicts, w.v.c
	for i := 0; i < len(vds); {
		if vds[i].p == nil {
			i++
			continue
		}
		j := i + 1
		for j < len(vds) && vds[j].p == vds[i].p && vds[j].kind == vds[i].kind {
			j++
		}
		run := vds[i:j]
		w.toks = w.toks[:0]
		for k := range run {
			w.toks = append(w.toks, run[k].parsed)
		}
		w.out, w.errs = slices.Grow(w.out[:0], len(run))[:len(run)], slices.Grow(w.errs[:0], len(run))[:len(run)]
		if run[0].kind == report.IDToken {
			run[0].p.VerifyParsedIDTokens(ctx, w.toks, verify.IDTokenOptions{ClientID: c.ClientID, NoNonce: true, ClockSkew: c.ClockSkew, Now: c.Now}, w.out, w.errs)
		} else {
			run[0].p.VerifyParsedAccessTokens(ctx, w.toks, verify.AccessTokenOptions{Audience: c.Audience, ClockSkew: c.ClockSkew, Now: c.Now}, w.out, w.errs)
		}
		for k := range run {
			run[k].tok, run[k].err = w.out[k], w.errs[k]
		}
		clear(w.toks)
		clear(w.out)
		clear(w.errs)
		i = j
	}
}

// render evaluates the expectations on a line's verified token, appends its
// result line to b, and returns the extended buffer and the line's class.
// The line's checks are built in *checks, which keeps its array for the
// next line.
func (v *streamVerifier) render(j inLine, vd *verdict, b []byte, checks *[]verify.Check) ([]byte, failure.Class) {
	l := streamLine{Index: j.index, Checks: (*checks)[:0], Kind: vd.kind, Issuer: vd.issuer}
	if v.c.ShowTokens {
		l.Token = j.raw
	}
	err, tok := vd.err, vd.tok
	name := verifiedCheckName(l.Kind)
	switch {
	case err == nil:
		l.Checks = append(l.Checks, verify.Check{Name: name, OK: true, Source: l.Kind, Detail: streamVerifiedDetail(tok)})
		l.Claims = claimsJSON(vd.parsed.Payload(), tok)
		n := len(l.Checks)
		src := [1]verify.Source{tok.Source(l.Kind)}
		l.Checks = v.eval.AppendChecks(l.Checks, src[:])
		for _, ch := range l.Checks[n:] {
			if !ch.OK {
				l.Error = &report.Error{Class: failure.Expectation, Message: ch.Name + ": " + ch.Detail}
				break
			}
		}
	case notVerifiable(err):
		// Asked to verify it and could not: a verification failure here,
		// as in claimcheck verify with arguments.
		l.Error = &report.Error{Class: failure.Verification, Message: oneLine(err.Error())}
		l.Checks = append(l.Checks, verify.Check{Name: name, OK: false, Source: l.Kind, Detail: l.Error.Message})
	default:
		l.Error = &report.Error{Class: failure.ClassOf(err), Message: oneLine(err.Error())}
		l.Checks = append(l.Checks, verify.Check{Name: name, OK: false, Source: l.Kind, Detail: l.Error.Message})
	}
	class := lineClass(l.Error)
	l.OK = class == ""
	l.ExitCode = class.ExitCode()
	if !l.OK {
		c := class // only a failed line's class goes to the heap
		l.Class = &c
	}
	b = l.appendJSON(b)
	*checks = l.Checks[:0]
	return b, class
}

// verifiedCheckName is kind + " verified", without building it for each
// token of the two usual kinds.
func verifiedCheckName(kind string) string {
	switch kind {
	case report.IDToken:
		return report.IDToken + " verified"
	case report.AccessToken:
		return report.AccessToken + " verified"
	}
	return kind + " verified"
}

// notVerifiable says whether err is a *verify.NotVerifiableError; on its
// own so that the target errors.As needs is allocated only on that path.
func notVerifiable(err error) bool {
	var nv *verify.NotVerifiableError
	return errors.As(err, &nv)
}

// streamVerifiedDetail is a verified token's check detail, as a run words
// it, without building the string for each token of the usual algorithms.
func streamVerifiedDetail(tok *verify.Token) string {
	alg, _ := tok.Header["alg"].(string)
	switch alg {
	case "RS256":
		return "signature (RS256) and claims verified"
	case "RS384":
		return "signature (RS384) and claims verified"
	case "RS512":
		return "signature (RS512) and claims verified"
	case "PS256":
		return "signature (PS256) and claims verified"
	case "ES256":
		return "signature (ES256) and claims verified"
	case "EdDSA":
		return "signature (EdDSA) and claims verified"
	}
	return report.VerifiedDetail(alg)
}

// getBuf returns an empty buffer from pool, or a new one, with room for
// size bytes.
func getBuf(pool *sync.Pool, size int) []byte {
	if p, ok := pool.Get().(*[]byte); ok && cap(*p) >= size {
		return (*p)[:0]
	}
	return make([]byte, 0, size)
}

// lineClass is the class of a result line: that of its error, or "".
func lineClass(e *report.Error) failure.Class {
	if e == nil {
		return ""
	}
	return e.Class
}

// claimsJSON is the verified payload as it came, when it is valid UTF-8
// on one line, else the token's claims re-encoded.
func claimsJSON(payload string, tok *verify.Token) rawJSON {
	if utf8.ValidString(payload) && strings.IndexByte(payload, '\n') < 0 && strings.IndexByte(payload, '\r') < 0 {
		return rawJSON(payload)
	}
	b, err := json.Marshal(tok.Claims())
	if err != nil {
		return ""
	}
	return rawJSON(b)
}

// rawJSON is JSON text written as it is, as json.RawMessage is, held in a
// string: a token's payload is one (Parsed.Payload), and "" is null.
type rawJSON string

// MarshalJSON returns r, or null when r is empty.
func (r rawJSON) MarshalJSON() ([]byte, error) {
	if r == "" {
		return []byte("null"), nil
	}
	return []byte(r), nil
}

// UnmarshalJSON keeps the JSON text as it is; null is "".
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = ""
		return nil
	}
	*r = rawJSON(b)
	return nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// TrustedIssuers returns the issuers of list without blanks and
// duplicates, in order. They are compared with iss exactly, trailing slash
// included, as OpenID Connect compares issuers.
func TrustedIssuers(list ...string) []string {
	var out []string
	for _, iss := range list {
		iss = strings.TrimSpace(iss)
		if iss != "" && !slices.Contains(out, iss) {
			out = append(out, iss)
		}
	}
	return out
}

// appendJSON appends the line as encoding/json would write streamLine,
// followed by a newline, without reflection: one line per token is the
// stream's hot path.
func (l *streamLine) appendJSON(b []byte) []byte {
	b = append(b, `{"index":`...)
	b = strconv.AppendInt(b, int64(l.Index), 10)
	b = append(b, `,"ok":`...)
	b = strconv.AppendBool(b, l.OK)
	b = append(b, `,"exit_code":`...)
	b = strconv.AppendInt(b, int64(l.ExitCode), 10)
	b = append(b, `,"class":`...)
	if l.Class == nil {
		b = append(b, "null"...)
	} else {
		b = appendString(b, string(*l.Class))
	}
	b = append(b, `,"kind":`...)
	b = appendString(b, l.Kind)
	b = append(b, `,"issuer":`...)
	b = appendString(b, l.Issuer)
	b = append(b, `,"claims":`...)
	if l.Claims == "" {
		b = append(b, "null"...)
	} else {
		b = append(b, l.Claims...)
	}
	b = append(b, `,"checks":[`...)
	for i, c := range l.Checks {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":`...)
		b = appendString(b, c.Name)
		b = append(b, `,"ok":`...)
		b = strconv.AppendBool(b, c.OK)
		b = append(b, `,"source":`...)
		b = appendString(b, c.Source)
		b = append(b, `,"detail":`...)
		b = appendString(b, c.Detail)
		b = append(b, '}')
	}
	b = append(b, `],"error":`...)
	if l.Error == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"class":`...)
		b = appendString(b, string(l.Error.Class))
		b = append(b, `,"message":`...)
		b = appendString(b, l.Error.Message)
		b = append(b, '}')
	}
	if l.Token != "" {
		b = append(b, `,"token":`...)
		b = appendString(b, l.Token)
	}
	return append(b, "}\n"...)
}

// appendString appends s as a JSON string: printable ASCII without quote,
// backslash or HTML-special characters as is, anything else through
// encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		// One load per byte rather than seven comparisons.
		if plainJSONTable[s[i]] != '1' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSONTable marks with '1', by value, the bytes that appendString
// copies as they are: printable ASCII other than the quote, the backslash
// and the characters encoding/json escapes for HTML.
const plainJSONTable = "0000000000000000000000000000000011011101111111111111111111110101" +
	"1111111111111111111111111111011111111111111111111111111111111110" +
	"0000000000000000000000000000000000000000000000000000000000000000" +
	"0000000000000000000000000000000000000000000000000000000000000000"
