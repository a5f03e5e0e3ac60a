package demo_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/op/demo"
)

// TestGroupsShapeOption: an unknown shape is refused before anything
// listens, and object IDs are GUIDs (RFC 9562 version 5 layout) that stay
// the same for a name.
func TestGroupsShapeOption(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := demo.Start(ctx, demo.Options{GroupsShape: "okta-ish"}); failure.ClassOf(err) != failure.Usage || !strings.Contains(err.Error(), `unknown groups shape "okta-ish"`) {
		t.Fatalf("err %v, want a usage error", err)
	}
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	for _, g := range []string{"IT", "Everyone", ""} {
		if id := demo.GroupObjectID(g); !guid.MatchString(id) || id != demo.GroupObjectID(g) {
			t.Errorf("demo.GroupObjectID(%q) = %q", g, id)
		}
	}
	if demo.GroupObjectID("IT") == demo.GroupObjectID("Everyone") {
		t.Error("two groups share an object ID")
	}
	for _, s := range demo.Shapes() {
		if s != demo.ShapeEntraOverage && demo.ShapeClaim(s, "c") == "" {
			t.Errorf("shape %s: no claim", s)
		}
	}
}
