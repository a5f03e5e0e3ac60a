package stream

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/op/demo"
	"github.com/claimcheck/claimcheck/verify"
)

// BenchmarkVerifyStream is the streaming verify of demo-provider ID tokens,
// one op per token, on all CPUs (compare with verify's BenchmarkRawRS256
// run in parallel, in the same run).
func BenchmarkVerifyStream(b *testing.B) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	p, tokens := demoIDToken(b, ctx, "alice")
	in := strings.Repeat(tokens["alice"]+"\n", b.N)
	b.ResetTimer()
	sum, err := Verify(ctx, Config{
		ClientID: demo.PublicClientID, ClockSkew: time.Minute,
		Expect:     verify.Expectations{ExpectGroups: []string{"IT"}},
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		Issuers:    []string{p.Issuer()}, Kind: "auto",
	}, strings.NewReader(in), io.Discard)
	if err != nil || sum.OK != b.N {
		b.Fatalf("%v %+v", err, sum)
	}
}
