package failure

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestClassOf(t *testing.T) {
	base := errors.New("boom")
	tests := []struct {
		name string
		err  error
		want Class
		exit int
	}{
		{"nil", nil, "", 0},
		{"plain", base, Provider, 5},
		{"usage", New(Usage, "flag", "bad %q", "x"), Usage, 2},
		{"wrapped", fmt.Errorf("outer: %w", New(Verification, "ID token", "bad")), Verification, 4},
		{"inner wins", Wrap(Provider, "jwks", New(Flow, "state", "mismatch")), Flow, 3},
		{"canceled", fmt.Errorf("wait: %w", context.Canceled), Interrupted, 130},
		{"expectation", New(Expectation, "", "missing"), Expectation, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassOf(tt.err)
			if got != tt.want {
				t.Fatalf("ClassOf = %q, want %q", got, tt.want)
			}
			if got.ExitCode() != tt.exit {
				t.Fatalf("ExitCode = %d, want %d", got.ExitCode(), tt.exit)
			}
		})
	}
}

func TestWrapKeepsCause(t *testing.T) {
	cause := errors.New("cause")
	err := Wrap(Verification, "ID token", cause)
	if !errors.Is(err, cause) {
		t.Fatal("cause lost")
	}
	if got := err.Error(); got != "ID token: cause" {
		t.Fatalf("message %q", got)
	}
	if Wrap(Usage, "x", nil) != nil {
		t.Fatal("Wrap(nil) != nil")
	}
}

func TestSeverityOrder(t *testing.T) {
	order := []Class{Expectation, Flow, Verification, Provider, Usage, Interrupted}
	for i := 1; i < len(order); i++ {
		if order[i-1].Severity() >= order[i].Severity() {
			t.Fatalf("%s should be less severe than %s", order[i-1], order[i])
		}
	}
}
