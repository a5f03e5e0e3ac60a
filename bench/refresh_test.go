package bench

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/check"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// BenchmarkRefreshInvocation runs the claimcheck binary once per iteration
// with --grant refresh_token against the demo provider on loopback, from
// process start to verdict, and counts the HTTP requests the provider
// served for it (requests/op; the paths are logged). Each run prints the
// rotated refresh token, which the next run uses.
func BenchmarkRefreshInvocation(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "claimcheck")
	build := exec.Command("go", "build", "-o", bin, "../cmd/claimcheck")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	c := &counter{}
	p := startDemo(b, c.wrap)

	// A first refresh token, through the device grant with offline_access.
	var rt string
	r, _ := check.Run(context.Background(), check.Config{
		Issuer: p.Issuer(), ClientID: demo.PublicClientID,
		Scopes: []string{"openid", "groups", "offline_access"}, HTTPClient: &http.Client{Timeout: 10 * time.Second},
		ClockSkew: time.Minute, Timeout: 20 * time.Second,
		Grant: check.Grant{Type: flow.GrantDeviceCode, DeviceShow: func(ctx context.Context, da *flow.DeviceAuthorization) error {
			return demo.ApproveDevice(ctx, http.DefaultClient, da.VerificationURI, da.UserCode, "alice", "alice-demo", false)
		}},
		OnRefreshToken: func(s string) { rt = s },
	})
	if r.ExitCode != 0 || rt == "" {
		b.Fatalf("device grant: exit %d %+v", r.ExitCode, r.Error)
	}
	c.take()

	var requests int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "--issuer", p.Issuer(), "--client-id", demo.PublicClientID,
			"--grant", "refresh_token", "--expect-groups", "IT,Everyone", "--print-refresh-token", "-o", "json")
		cmd.Env = append(os.Environ(), "CLAIMCHECK_REFRESH_TOKEN="+rt)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("claimcheck: %v\n%s\n%s", err, stdout.String(), stderr.String())
		}
		_, next, ok := strings.Cut(stderr.String(), "CLAIMCHECK_REFRESH_TOKEN): ")
		next, _, _ = strings.Cut(next, "\n")
		if !ok || next == "" {
			b.Fatalf("no rotated refresh token printed:\n%s", stderr.String())
		}
		rt = next
		paths := c.take()
		requests += len(paths)
		if i == 0 {
			b.Logf("requests of one invocation: %s", strings.Join(paths, ", "))
		}
	}
	b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
}
