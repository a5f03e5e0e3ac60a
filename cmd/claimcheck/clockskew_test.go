package main

import (
	"testing"
	"time"

	"github.com/claimcheck/claimcheck/failure"
)

func TestCheckClockSkew(t *testing.T) {
	tests := []struct {
		skew time.Duration
		ok   bool
	}{
		{0, true},
		{defaultClockSkew, true},
		{maxClockSkew, true},
		{maxClockSkew + time.Nanosecond, false},
		{240 * time.Hour, false},
		{-time.Second, false},
	}
	for _, tt := range tests {
		err := checkClockSkew(tt.skew)
		if (err == nil) != tt.ok {
			t.Errorf("checkClockSkew(%s) = %v, want ok %v", tt.skew, err, tt.ok)
		}
		if err != nil && failure.ClassOf(err) != failure.Usage {
			t.Errorf("checkClockSkew(%s): class %s, want usage", tt.skew, failure.ClassOf(err))
		}
	}
}
