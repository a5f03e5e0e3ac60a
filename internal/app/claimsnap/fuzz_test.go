package claimsnap

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/claimcheck/claimcheck/report"
)

// FuzzRoundTrip: whatever claims a token carries, the snapshot of a run,
// saved and loaded again, compares equal to that run (one passing check),
// so that committing a snapshot never makes the next identical run drift.
func FuzzRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"sub":"u1","groups":["IT","Everyone","IT"],"email":"a@example.com","iat":1,"exp":2}`,
		`{"n":12345678901234567890,"f":0.1,"neg":-0,"big":1e300}`,
		`{"a":[[2,1],[1,2]],"b":[{"y":1},{"x":2}],"c":[null,true,"1",1]}`,
		`{"html":"<a>&</a>","u":"é\u2028","empty":{},"list":[]}`,
		`{}`,
	} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if json.Unmarshal(data, &claims) != nil || claims == nil {
			return
		}
		r := report.New("https://issuer.example", "code")
		r.Tokens[report.IDToken] = &report.Token{Verified: true, Claims: claims}
		path := filepath.Join(dir, "snap.json")
		if err := Take(r).Save(path); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if !json.Valid(b) {
			t.Fatalf("the snapshot is not JSON: %q", b)
		}
		loaded, err := Load(path)
		if err != nil {
			t.Fatalf("a saved snapshot does not load: %v\n%s", err, b)
		}
		if checks := Compare(loaded, r); len(checks) != 1 || !checks[0].OK {
			t.Fatalf("the run drifts from its own snapshot: %+v\n%s", checks, b)
		}
	})
}
