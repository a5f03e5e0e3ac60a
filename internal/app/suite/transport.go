package suite

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxRetries429 is how many times a request answered 429 is sent again.
const maxRetries429 = 3

// maxRetryAfter caps the wait a Retry-After may ask for.
const maxRetryAfter = 30 * time.Second

// defaultRetryAfter is the wait after a 429 without a usable Retry-After.
const defaultRetryAfter = time.Second

// issuerTransport is the transport of every request to one issuer: it
// spaces requests to at most rate per second and sends a request answered
// 429 Too Many Requests again after its Retry-After, a few times at most.
// It counts requests and retries, per issuer and per case (through the
// request's context).
type issuerTransport struct {
	next     http.RoundTripper
	interval time.Duration // 0: no limit
	// timeout bounds each attempt from sending to the end of the body
	// (the http.Client's own Timeout would also count the waits).
	timeout time.Duration
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time

	mu       sync.Mutex
	nextSlot time.Time

	requests, retries atomic.Int64
}

type caseStatsKey struct{}

// caseStats counts what one case's requests went through.
type caseStats struct {
	requests, retries atomic.Int64
}

func withCaseStats(ctx context.Context, s *caseStats) context.Context {
	return context.WithValue(ctx, caseStatsKey{}, s)
}

func newIssuerTransport(next http.RoundTripper, rate float64, timeout time.Duration) *issuerTransport {
	t := &issuerTransport{next: next, sleep: sleepCtx, now: time.Now, timeout: timeout}
	if rate > 0 {
		t.interval = time.Duration(float64(time.Second) / rate)
	}
	return t
}

func (t *issuerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	stats, _ := ctx.Value(caseStatsKey{}).(*caseStats)
	for attempt := 0; ; attempt++ {
		if err := t.wait(ctx); err != nil {
			return nil, err
		}
		r := req
		if attempt > 0 {
			r = req.Clone(ctx)
			if req.Body != nil && req.Body != http.NoBody {
				b, err := req.GetBody()
				if err != nil {
					return nil, err
				}
				r.Body = b
			}
		}
		resp, err := t.attempt(r)
		t.requests.Add(1)
		if stats != nil {
			stats.requests.Add(1)
		}
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt >= maxRetries429 ||
			(req.Body != nil && req.Body != http.NoBody && req.GetBody == nil) {
			return resp, err
		}
		d := retryAfter(resp.Header.Get("Retry-After"), t.now())
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		t.retries.Add(1)
		if stats != nil {
			stats.retries.Add(1)
		}
		if err := t.sleep(ctx, d); err != nil {
			return nil, err
		}
	}
}

// attempt sends r once under the per-attempt deadline, which ends when the
// body is closed.
func (t *issuerTransport) attempt(r *http.Request) (*http.Response, error) {
	if t.timeout <= 0 {
		return t.next.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.timeout)
	resp, err := t.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// wait takes the next free slot of the rate limit.
func (t *issuerTransport) wait(ctx context.Context) error {
	if t.interval <= 0 {
		return nil
	}
	t.mu.Lock()
	now := t.now()
	if t.nextSlot.Before(now) {
		t.nextSlot = now
	}
	d := t.nextSlot.Sub(now)
	t.nextSlot = t.nextSlot.Add(t.interval)
	t.mu.Unlock()
	if d <= 0 {
		return nil
	}
	return t.sleep(ctx, d)
}

// retryAfter reads Retry-After as seconds or as an HTTP date (RFC 9110
// §10.2.3), capped; anything else means defaultRetryAfter.
func retryAfter(v string, now time.Time) time.Duration {
	d := defaultRetryAfter
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		// Capped before it is multiplied: ten billion seconds in
		// nanoseconds overflow a Duration into a negative wait, which
		// would send the request again at once.
		d = maxRetryAfter
		if n < int(maxRetryAfter/time.Second) {
			d = time.Duration(n) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
		if d < 0 {
			d = 0
		}
	}
	if d > maxRetryAfter {
		d = maxRetryAfter
	}
	return d
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
