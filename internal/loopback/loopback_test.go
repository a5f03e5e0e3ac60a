package loopback

import "testing"

func TestHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"127.evil.example", false},
		{"127.0.0.1.evil.example", false},
		{"localhost.evil.example", false},
		{"example.com", false},
		{"10.0.0.1", false},
		{"::ffff:10.0.0.1", false},
		{"[::1]", false}, // brackets belong to the URL, not the host
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := Host(tt.host); got != tt.want {
				t.Fatalf("Host(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}
