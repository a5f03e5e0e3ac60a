package report

import (
	"testing"
	"time"
)

func TestRelative(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "now"},
		{400 * time.Millisecond, "now"},
		{-999 * time.Millisecond, "now"},
		{time.Second, "in 1s"},
		{-time.Second, "1s ago"},
		{90 * time.Second, "in 1m30s"},
		{-2 * time.Hour, "2h00m ago"},
		{72 * time.Hour, "in 3d"},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			if got := relative(now.Add(tt.d), now); got != tt.want {
				t.Errorf("relative(%s) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
