package harness

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// A port that a test chooses now and listens on later (a redirect URI that
// must be registered before claimcheck listens, Dex's address) is taken from
// below the kernel's ephemeral range. A port from inside it, as
// net.Listen("tcp", ":0") gives, can be handed to any outgoing connection in
// the meantime (Chromium's, a provider's, claimcheck's own) — once, CI saw
// claimcheck's redirect listener refused because of that.
const (
	// reservedSpan is how many ports below the ephemeral range are used.
	reservedSpan = 12000
	// defaultEphemeralLow is Linux's default start of the ephemeral range.
	defaultEphemeralLow = 32768
)

// portPicker hands out distinct ports within one test process; a port is
// also checked free with a listen before it is handed out (another process
// may hold it).
type portPicker struct {
	mu   sync.Mutex
	low  int
	span int
	next int
	used map[int]bool
}

// picker is the test process's one picker, made on first use (not at
// package init): the ports it hands out must be distinct across every
// parallel test in the process.
var picker = sync.OnceValue(newPortPicker)

func newPortPicker() *portPicker {
	low := ephemeralLow() - reservedSpan
	if low < 1024 {
		low = 1024
	}
	span := ephemeralLow() - low
	// Start at a place that depends on the process, so that two test
	// processes on one machine rarely try the same ports first.
	return &portPicker{low: low, span: span, next: os.Getpid() % span, used: map[int]bool{}}
}

// ephemeralLow is the first port of the kernel's ephemeral range.
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return defaultEphemeralLow
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return defaultEphemeralLow
	}
	n, err := strconv.Atoi(f[0])
	if err != nil || n <= 1024+1000 {
		return defaultEphemeralLow
	}
	return n
}

func (p *portPicker) pick() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.span {
		port := p.low + p.next
		p.next = (p.next + 1) % p.span
		if p.used[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		p.used[port] = true
		return port, nil
	}
	return 0, fmt.Errorf("no free loopback port in %d–%d", p.low, p.low+p.span-1)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, that
// no other test of this process has been given, and that is outside the
// ephemeral range (so no outgoing connection takes it before the listener
// exists). For a server that cannot listen on port 0 and report its port
// (Dex), and a redirect URI that must be registered before claimcheck's
// listener exists.
func FreePort(t testing.TB) int {
	t.Helper()
	port, err := picker().pick()
	if err != nil {
		t.Fatalf("finding a free loopback port: %v", err)
	}
	return port
}

// FreePorts returns n distinct ports as FreePort does, and their redirect
// URIs.
func FreePorts(t testing.TB, n int) ([]int, []string) {
	t.Helper()
	ps := make([]int, n)
	uris := make([]string, n)
	for i := range ps {
		ps[i] = FreePort(t)
		uris[i] = RedirectURI(ps[i])
	}
	return ps, uris
}
