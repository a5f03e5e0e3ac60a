// Command flowcmp compares one authorization code flow by claimcheck with
// one by smallstep's step oauth, against the same embedded demo provider on
// loopback, each signed in by the same HTTP-only stand-in browser (alice):
// wall time and the requests the provider received, per path.
//
//	flowcmp -claimcheck bin/claimcheck -step /path/to/step
//
// claimcheck gets the stand-in through --browser-command; step, which runs
// xdg-open, gets an xdg-open on its PATH that runs the stand-in. Both use
// the demo's confidential client. step refuses a provider over plain http,
// so it is given the two endpoints instead of discovering them (it makes
// no discovery request and fetches no keys: it verifies nothing).
// claimcheck discovers, verifies the tokens and checks the groups; step
// prints the ID token.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/claimcheck/claimcheck/internal/app/standin"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "standin" {
		signIn(os.Args[2])
		return
	}
	claimcheck := flag.String("claimcheck", "claimcheck", "the claimcheck binary")
	step := flag.String("step", "step", "the step binary")
	rounds := flag.Int("n", 10, "flows of each, alternating; the table shows the median wall time")
	flag.Parse()
	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}

	var mu sync.Mutex
	hits := map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := demo.Start(ctx, demo.Options{Wrap: func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits[r.Method+" "+r.URL.Path]++
			mu.Unlock()
			h.ServeHTTP(w, r)
		})
	}})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	take := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		out := hits
		hits = map[string]int{}
		return out
	}

	var ccWalls, stWalls []time.Duration
	var ccHits, stHits map[string]int
	var ccOK, stOK bool
	for range *rounds {
		var ccW, stW time.Duration
		ccW, stW, ccHits, stHits, ccOK, stOK = once(ctx, self, *claimcheck, *step, p, take)
		ccWalls, stWalls = append(ccWalls, ccW), append(stWalls, stW)
		if !ccOK || !stOK {
			break
		}
	}
	ccWall, stWall := median(ccWalls), median(stWalls)
	fmt.Printf("\n%-40s %14s %14s\n", "one code flow (alice, stand-in browser)", "claimcheck", "step oauth")
	fmt.Printf("%-40s %14s %14s\n", "----------------------------------------", "--------------", "--------------")
	fmt.Printf("%-40s %14v %14v\n", "succeeded", ccOK, stOK)
	fmt.Printf("%-40s %14.1f %14.1f\n", "wall time, median (ms)", float64(ccWall.Microseconds())/1000, float64(stWall.Microseconds())/1000)
	fmt.Printf("%-40s %14d %14d\n", "requests to the provider", total(ccHits), total(stHits))
	paths := map[string]bool{}
	for k := range ccHits {
		paths[k] = true
	}
	for k := range stHits {
		paths[k] = true
	}
	var keys []string
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("  %-38s %14d %14d\n", k, ccHits[k], stHits[k])
	}
	fmt.Printf("%-40s %14s %14s\n", "ID token verified, groups checked", "yes", "no")
	fmt.Printf("(wall time: median of %d flows of each, alternating)\n", len(ccWalls))
}

// once runs one flow of each and returns their wall times, the requests
// the provider received and whether each succeeded.
func once(ctx context.Context, self, claimcheck, step string, p *demo.Provider, take func() map[string]int) (ccWall, stWall time.Duration, ccHits, stHits map[string]int, ccOK, stOK bool) {
	// claimcheck: one code flow, tokens verified, groups checked.
	cc := exec.CommandContext(ctx, claimcheck, "--issuer", p.Issuer(), "--client-id", demo.ConfidentialClientID,
		"--redirect-uri", "http://127.0.0.1:0/callback", "--browser-command", self+" standin",
		"--scopes", "openid,groups", "--expect-groups", "IT,Everyone", "-o", "json")
	cc.Env = append(os.Environ(), "CLAIMCHECK_CLIENT_SECRET="+demo.ConfidentialClientSecret)
	t0 := time.Now()
	ccOut, ccErr := cc.Output()
	ccWall = time.Since(t0)
	ccHits = take()
	ccOK = ccErr == nil && (strings.Contains(string(ccOut), `"ok": true`) || strings.Contains(string(ccOut), `"ok":true`))

	// step oauth: one code flow, the ID token printed.
	bin, err := os.MkdirTemp("", "flowcmp")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(bin)
	script := "#!/bin/sh\nexec '" + self + "' standin \"$1\"\n"
	if err := os.WriteFile(filepath.Join(bin, "xdg-open"), []byte(script), 0o755); err != nil {
		log.Fatal(err)
	}
	// step refuses a provider that is not https, so it is given the
	// endpoints (read here, before its count starts) instead of discovering
	// them.
	var md struct {
		Authorize string `json:"authorization_endpoint"`
		Token     string `json:"token_endpoint"`
	}
	res, err := http.Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		log.Fatal(err)
	}
	if err := json.NewDecoder(res.Body).Decode(&md); err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	take()
	port := freePort()
	st := exec.CommandContext(ctx, step, "oauth", "--authorization-endpoint", md.Authorize, "--token-endpoint", md.Token,
		"--client-id", demo.ConfidentialClientID, "--client-secret", demo.ConfidentialClientSecret,
		"--listen", "127.0.0.1:"+port, "--listen-url", "http://127.0.0.1:"+port, "--scope", "openid", "--scope", "groups",
		"--oidc", "--bare")
	st.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "HOME="+bin)
	var stStderr strings.Builder
	st.Stderr = &stStderr
	t1 := time.Now()
	stOut, stErr := st.Output()
	stWall = time.Since(t1)
	stHits = take()
	stOK = stErr == nil && strings.Count(strings.TrimSpace(string(stOut)), ".") == 2

	if !ccOK {
		fmt.Fprintf(os.Stderr, "claimcheck: %v\n%s\n", ccErr, ccOut)
	}
	if !stOK {
		fmt.Fprintf(os.Stderr, "step: %v\n%s\n", stErr, stStderr.String())
	}
	return ccWall, stWall, ccHits, stHits, ccOK, stOK
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}

// signIn is the stand-in browser: it signs in as alice and delivers the
// redirect to the client's listener.
func signIn(authorizeURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := &standin.Browser{Username: "alice", Password: "alice-demo"}
	if err := b.Open(ctx, authorizeURL); err != nil {
		fmt.Fprintf(os.Stderr, "stand-in browser: %v\n", err)
		os.Exit(1)
	}
}
