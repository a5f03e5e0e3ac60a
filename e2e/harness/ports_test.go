package harness

import (
	"net"
	"strconv"
	"testing"
)

func TestPortPickerDistinctAndOutsideEphemeralRange(t *testing.T) {
	p := newPortPicker()
	seen := map[int]bool{}
	for range 200 {
		port, err := p.pick()
		if err != nil {
			t.Fatal(err)
		}
		if seen[port] {
			t.Fatalf("port %d handed out twice", port)
		}
		seen[port] = true
		if port >= ephemeralLow() || port < 1024 {
			t.Fatalf("port %d is not below the ephemeral range (which starts at %d)", port, ephemeralLow())
		}
	}
}

func TestPortPickerSkipsAPortInUse(t *testing.T) {
	p := newPortPicker()
	held := p.low + p.next
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(held)))
	if err != nil {
		t.Fatalf("cannot hold port %d for the test: %v", held, err)
	}
	defer l.Close()
	port, err := p.pick()
	if err != nil {
		t.Fatal(err)
	}
	if port == held {
		t.Fatalf("picked port %d, which this test holds", port)
	}
}
