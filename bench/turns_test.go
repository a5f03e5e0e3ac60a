package bench

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTurns runs bench/turns with the real rawrate against a command whose
// running time is known, and checks that both took turns: the command's
// rate is its work over the time it ran, and rawrate verified during its
// own turns only.
func TestTurns(t *testing.T) {
	dir := t.TempDir()
	build := exec.Command("go", "build", "-o", dir+string(filepath.Separator), "./rawrate", "./turns")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	turns, raw := filepath.Join(dir, "turns"), filepath.Join(dir, "rawrate")

	// sleep 0.3 ends 300 ms after it starts, stopped or not, so its turns
	// add up to about half of that: 10 units of work at about 67 per
	// second of its turns, where 33 would count rawrate's turns as its.
	out, err := exec.Command(turns, "-raw", raw, "-alg", "EdDSA", "-n", "10", "-in", "/dev/null", "-slice", "20ms",
		"--", "/bin/sh", "-c", "sleep 0.3").Output()
	if err != nil {
		t.Fatalf("turns: %v", err)
	}
	f := strings.Fields(string(out))
	if len(f) != 8 {
		t.Fatalf("turns printed %q, want 8 fields", out)
	}
	num := func(i int) float64 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			t.Fatalf("field %d of %q: %v", i, out, err)
		}
		return v
	}
	if rate := num(0); rate < 45 || rate > 120 {
		t.Errorf("the command's rate is %v per second of its turns, want about 67", rate)
	}
	if raw := num(2); raw <= 0 {
		t.Errorf("rawrate's rate is %v per second, want > 0", raw)
	}
	if rawCPU := num(3); rawCPU <= 0 {
		t.Errorf("rawrate's CPU rate is %v, want > 0", rawCPU)
	}
	if n := num(7); n < 2 {
		t.Errorf("%v turns, want several", n)
	}

	// A command that fails is reported, not measured.
	cmd := exec.Command(turns, "-raw", raw, "-alg", "EdDSA", "-n", "1", "-in", "/dev/null", "--", "/bin/sh", "-c", "exit 3")
	b, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("turns with a failing command succeeded: %s", b)
	}
	if !strings.Contains(string(b), "exit status 3") {
		t.Errorf("turns with a failing command printed %q, want its exit status", b)
	}
}
