package suite

import (
	"os"
	"strings"
	"testing"

	"github.com/claimcheck/claimcheck/internal/config"
)

// TestDocExamples parses the examples of docs/suite.md, so that the
// documentation cannot drift from the format.
func TestDocExamples(t *testing.T) {
	b, err := os.ReadFile("../../docs/suite.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(b), "```yaml\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		blocks = append(blocks, body)
	}
	if len(blocks) < 2 {
		t.Fatalf("%d yaml blocks", len(blocks))
	}
	if _, err := config.Parse("docs config", []byte(blocks[0]), "service"); err != nil {
		t.Errorf("configuration example: %v", err)
	}
	s, err := Parse("docs suite", []byte(blocks[1]))
	if err != nil {
		t.Fatalf("suite example: %v", err)
	}
	if len(s.Cases) != 4 || len(s.Cases[0].Claims) != 3 || s.Cases[2].Grant != "refresh_token" {
		t.Errorf("suite example parsed as %+v", s.Cases)
	}
}
