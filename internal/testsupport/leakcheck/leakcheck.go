// Package leakcheck finds goroutines that a test left behind, by comparing
// the goroutines running before and after it. It is the small part of
// go.uber.org/goleak that claimcheck's tests need, without the dependency.
package leakcheck

import (
	"runtime"
	"strings"
	"time"
)

// TB is the part of testing.TB that Check uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Snapshot records the goroutines running now.
type Snapshot map[string]bool

// Take returns the goroutines running now.
func Take() Snapshot {
	s := Snapshot{}
	for _, g := range stacks() {
		s[g.id] = true
	}
	return s
}

// Check fails t if goroutines that were not in s are still running once
// wait has passed. Goroutines that are on their way out (a closed
// connection's reader, a timer's callback) get until the deadline to end.
func (s Snapshot) Check(t TB, wait time.Duration) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		left := s.extra()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%d goroutine(s) left behind:\n\n%s", len(left), strings.Join(left, "\n\n"))
			return
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}

func (s Snapshot) extra() []string {
	var out []string
	for _, g := range stacks() {
		if s[g.id] || ignorable(g.stack) {
			continue
		}
		out = append(out, g.stack)
	}
	return out
}

// ignorable goroutines belong to the runtime or the test framework, not
// to the code under test.
func ignorable(stack string) bool {
	for _, frag := range []string{
		"leakcheck.stacks(",
		"testing.tRunner(",
		"testing.(*T).Run(",
		"testing.runFuzzing(",
		"os/signal.signal_recv",
		"os/signal.loop",
	} {
		if strings.Contains(stack, frag) {
			return true
		}
	}
	return false
}

type goroutine struct{ id, stack string }

func stacks() []goroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for _, g := range strings.Split(string(buf), "\n\n") {
		g = strings.TrimSpace(g)
		rest, ok := strings.CutPrefix(g, "goroutine ")
		if !ok {
			continue
		}
		id, _, _ := strings.Cut(rest, " ")
		out = append(out, goroutine{id: id, stack: g})
	}
	return out
}
