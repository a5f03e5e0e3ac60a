// Package bench holds claimcheck's benchmarks that span packages: a suite of
// 50 cases against the embedded demo provider with --parallel 8 against
// --parallel 1, and one claimcheck invocation with a refresh token. Their
// figures are for the closing notes (bench/suite.sh prints them), never for
// pass/fail tests.
package bench

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/app/suite"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// suiteOf50 is 25 cases for alice and 25 for bob, password grant, groups
// and other claims checked; all pass.
func suiteOf50(issuer string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults:\n  issuer: %s\n  client_id: claimcheck-public\n  grant: password\n  scopes: [openid, groups]\ncases:\n", issuer)
	for i := 0; i < 25; i++ {
		fmt.Fprintf(&b, `  - name: alice %02d
    user: alice
    password_env: ALICE_PASSWORD
    expect_groups: [IT, Everyone]
    claims:
      - {claim: sub, equals: user-alice, token: id_token}
      - {claim: scope, contains: groups}
  - name: bob %02d
    user: bob
    password_env: BOB_PASSWORD
    expect_groups: [Everyone]
    forbid_groups: [IT]
`, i, i)
	}
	return b.String()
}

func startDemo(b *testing.B, wrap func(http.Handler) http.Handler) *demo.Provider {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Wrap: wrap})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	return p
}

// BenchmarkSuite50 runs the 50-case suite with --parallel 1 and with
// --parallel 8, alternately in each iteration, and reports both wall times
// and their ratio (p8/p1; the goal is at most 0.35).
func BenchmarkSuite50(b *testing.B) {
	p := startDemo(b, nil)
	benchSuite(b, p.Issuer())
}

func benchSuite(b *testing.B, issuer string) {
	path := filepath.Join(b.TempDir(), "claimcheck.yaml")
	if err := os.WriteFile(path, []byte(suiteOf50(issuer)), 0o644); err != nil {
		b.Fatal(err)
	}
	s, err := suite.Load(path)
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"ALICE_PASSWORD": "alice-demo", "BOB_PASSWORD": "bob-demo"}
	// cpu counts the CPU time of each run: the provider is in this process,
	// so it is all the work the suite takes, provider included.
	var cpu time.Duration
	run := func(parallel int) time.Duration {
		c0 := cpuTime(b)
		start := time.Now()
		res, err := suite.Run(context.Background(), s, suite.Options{
			Parallel: parallel, Getenv: func(k string) string { return env[k] },
			HTTPTimeout: 10 * time.Second, Timeout: time.Minute, ClockSkew: time.Minute,
		})
		d := time.Since(start)
		cpu = cpuTime(b) - c0
		if err != nil || !res.OK || res.Total != 50 {
			b.Fatalf("suite: %v ok=%v total=%d", err, res != nil && res.OK, res.Total)
		}
		return d
	}
	run(8) // warm up connections and caches alike for both
	var p1, p8, cpu1, cpu8 time.Duration
	ratios := make([]float64, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d1 := run(1)
		cpu1 += cpu
		d8 := run(8)
		cpu8 += cpu
		p1 += d1
		p8 += d8
		ratios = append(ratios, float64(d8)/float64(d1))
	}
	sort.Float64s(ratios)
	b.ReportMetric(float64(p1.Milliseconds())/float64(b.N), "p1-ms/op")
	b.ReportMetric(float64(p8.Milliseconds())/float64(b.N), "p8-ms/op")
	// The ratio of the totals, and the median of the per-iteration ratios
	// (each pair runs back to back, so it resists load from elsewhere on a
	// shared machine better).
	b.ReportMetric(float64(p8)/float64(p1), "p8/p1")
	b.ReportMetric(ratios[len(ratios)/2], "median-p8/p1")
	// How many cores each mode kept busy, and the least ratio this much
	// work allows on this machine: --parallel 8's CPU time spread over
	// every core, against --parallel 1's wall time. When --parallel 1
	// already keeps a core busy, no parallelism gets below 1/cores of it.
	b.ReportMetric(float64(cpu1)/float64(p1), "p1-cores")
	b.ReportMetric(float64(cpu8)/float64(p8), "p8-cores")
	b.ReportMetric(float64(cpu8)/float64(runtime.GOMAXPROCS(0))/float64(p1), "least-p8/p1")
}

// cpuTime is the user and system time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// counter counts the requests a provider serves, by method and path.
type counter struct {
	mu    sync.Mutex
	paths []string
}

func (c *counter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.paths = append(c.paths, r.Method+" "+r.URL.Path)
		c.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.paths
	c.paths = nil
	return p
}

// BenchmarkSuite50Latency is BenchmarkSuite50 against the same provider
// with 20 ms added to every response, as a hosted provider's round trip
// adds: the parallel speedup then shows beyond the machine's cores, which
// bound it when the provider's own RSA signing in this process is all the
// work.
func BenchmarkSuite50Latency(b *testing.B) {
	p := startDemo(b, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTimer(20 * time.Millisecond)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	benchSuite(b, p.Issuer())
}
