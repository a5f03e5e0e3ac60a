package main

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the provider library's default-logger warnings as
// main does, so that a test's output is its own.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	os.Exit(m.Run())
}
