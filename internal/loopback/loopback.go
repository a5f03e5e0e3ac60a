// Package loopback says whether a host names this machine's loopback
// interface, the one place where plain http and redirect listeners are
// allowed.
package loopback

import (
	"net"
	"strings"
)

// Host reports whether h, a URL's host without port or brackets (as
// url.URL.Hostname returns it), is "localhost" or a loopback IP address
// (127.0.0.0/8, ::1). A name that merely starts like one, such as
// 127.evil.example, is not.
func Host(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
