package verify

import "testing"

func BenchmarkTmpParse(b *testing.B) {
	_, raw := benchToken(b)
	var p Parser
	b.ReportAllocs()
	for b.Loop() {
		if p.Parse(raw).Err() != nil {
			b.Fatal()
		}
	}
}
func BenchmarkTmpVerifyParsed(b *testing.B) {
	ti, raw := benchToken(b)
	pr := ti.discover(b)
	ctx := testCtx(b)
	o := IDTokenOptions{ClientID: testClientID, NoNonce: true, Now: idOpts().Now}
	var p Parser
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pr.VerifyParsedIDToken(ctx, p.Parse(raw), o); err != nil {
			b.Fatal(err)
		}
	}
}
