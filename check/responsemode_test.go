package check

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/flow"
)

// ignoresResponseMode opens the authorize URL without its response_mode, so
// that the provider answers in the response type's default mode: what Dex
// does with every response_mode.
type ignoresResponseMode struct{ next flow.Opener }

func (o ignoresResponseMode) Open(ctx context.Context, authorizeURL string) error {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Del("response_mode")
	u.RawQuery = q.Encode()
	return o.next.Open(ctx, u.String())
}

// A response that arrives in another mode than the one asked for is taken
// (its parameters are checked all the same) and the report says how it
// arrived; one that arrives as asked adds no note.
func TestResponseModeNote(t *testing.T) {
	p := startDemo(t)
	tests := []struct {
		name            string
		flow, mode      string
		ignoresMode     bool
		wantNote        string
		wantRequestedAs string
	}{
		{"code form_post answered in the query", "code", "form_post", true, "response_mode form_post was asked for; the provider answered with query instead", "form_post"},
		{"implicit form_post answered in the fragment", "implicit", "form_post", true, "response_mode form_post was asked for; the provider answered with fragment instead", "form_post"},
		{"code form_post as asked", "code", "form_post", false, "", "form_post"},
		{"implicit default fragment", "implicit", "", false, "", "fragment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := baseConfig(p, "alice")
			c.Flow, c.ResponseMode = tt.flow, tt.mode
			if tt.ignoresMode {
				c.Opener = ignoresResponseMode{next: c.Opener}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := run(ctx, c)
			if r.Error != nil || !r.OK {
				t.Fatalf("want a passing run, got error %+v, checks %+v", r.Error, r.Checks)
			}
			if r.Request == nil || r.Request.ResponseMode != tt.wantRequestedAs {
				t.Fatalf("the report's request %+v does not say response_mode %s", r.Request, tt.wantRequestedAs)
			}
			notes := strings.Join(r.Notes, "\n")
			if tt.wantNote == "" && strings.Contains(notes, "response_mode") {
				t.Errorf("unexpected note: %q", r.Notes)
			}
			if tt.wantNote != "" && !strings.Contains(notes, tt.wantNote) {
				t.Errorf("notes %q lack %q", r.Notes, tt.wantNote)
			}
		})
	}
}
