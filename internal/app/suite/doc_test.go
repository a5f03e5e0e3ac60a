package suite

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/internal/app/config"
)

// TestDocExamples parses the suite examples of README.md, so that the
// documentation cannot drift from the format.
func TestDocExamples(t *testing.T) {
	b, err := os.ReadFile("../../../README.md")
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

// TestDemoSuiteExample runs examples/demo-suite.yaml as its comments and
// the README say, against the demo provider (on a free port instead of
// demoserve's 127.0.0.1:9400): every case passes.
func TestDemoSuiteExample(t *testing.T) {
	b, err := os.ReadFile("../../../examples/demo-suite.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const served = "issuer: http://127.0.0.1:9400\n"
	if !strings.Contains(string(b), served) {
		t.Fatalf("the example does not name demoserve's issuer (%q)", served)
	}
	p := startDemo(t)
	s, err := Load(writeSuite(t, strings.Replace(string(b), served, "issuer: "+p.Issuer()+"\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ALICE_PASSWORD": "alice-demo", "BOB_PASSWORD": "bob-demo", "DEMO_SECRET": "claimcheck-demo-secret"}
	res, err := Run(context.Background(), s, Options{Getenv: func(k string) string { return env[k] }, HTTPTimeout: 10 * time.Second, Timeout: 30 * time.Second, ClockSkew: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Passed != 3 {
		for _, c := range res.Cases {
			t.Errorf("%s: %v %+v %+v", c.Name, c.OK, c.Report.Error, c.Report.Checks)
		}
	}
}
