// Package okta knows what claimcheck needs to know about Okta: how an
// issuer follows from an Okta domain and an authorization server, how to
// sign in without a browser through Okta's Authentication API, and why an
// expected group can be missing from Okta's tokens.
package okta

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
)

// OrgServer is the --authorization-server value naming the org
// authorization server; any other value is a custom server's id.
const OrgServer = "org"

// DefaultServer is the id of Okta's default custom authorization server.
const DefaultServer = "default"

// DefaultAudience is the aud of the default custom authorization server's
// access tokens.
const DefaultAudience = "api://default"

// GroupsLimit is the most groups Okta puts in one groups claim.
const GroupsLimit = 100

var serverID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// Server is an Okta authorization server as claimcheck addresses it.
type Server struct {
	// Org is the org's base URL, https://{domain} (http only on loopback).
	Org string
	// ID is OrgServer or a custom server's id.
	ID string
}

// NewServer checks domain ("example.okta.com", with or without https://)
// and server (OrgServer or a custom server id). Plain http, with or without
// the scheme given, is only for loopback test domains.
func NewServer(domain, server string) (Server, error) {
	if server == "" {
		server = DefaultServer
	}
	if server != OrgServer && !serverID.MatchString(server) {
		return Server{}, failure.New(failure.Usage, "--authorization-server", "%q is neither org nor an authorization server id", server)
	}
	raw := strings.TrimSuffix(strings.TrimSpace(domain), "/")
	if raw == "" {
		return Server{}, failure.New(failure.Usage, "--okta-domain", "empty")
	}
	scheme := ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, raw = raw[:i], raw[i+3:]
	}
	u, err := url.Parse("//" + raw)
	if err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return Server{}, failure.New(failure.Usage, "--okta-domain", "%q is not a domain such as example.okta.com", domain)
	}
	loop := loopback(u.Hostname())
	switch {
	case scheme == "" && loop:
		scheme = "http"
	case scheme == "":
		scheme = "https"
	case scheme == "http" && !loop:
		return Server{}, failure.New(failure.Usage, "--okta-domain", "%q: plain http is allowed only for a loopback test domain", domain)
	case scheme != "http" && scheme != "https":
		return Server{}, failure.New(failure.Usage, "--okta-domain", "%q: scheme must be https", domain)
	}
	return Server{Org: scheme + "://" + u.Host, ID: server}, nil
}

// IsOrg says whether s is the org authorization server.
func (s Server) IsOrg() bool { return s.ID == OrgServer }

// Issuer is the server's issuer: the org URL for the org server,
// {org}/oauth2/{id} for a custom one.
func (s Server) Issuer() string {
	if s.IsOrg() {
		return s.Org
	}
	return s.Org + "/oauth2/" + s.ID
}

// Audience is the aud to expect of the server's access tokens when the user
// names none: api://default at the default server, nothing otherwise (a
// custom server's audience is configured per server).
func (s Server) Audience() string {
	if s.ID == DefaultServer {
		return DefaultAudience
	}
	return ""
}

// ServerOf recognises an Okta issuer: an org URL, or {org}/oauth2/{id}. ok
// is false for anything else. Whether the host is Okta's is not checked
// here: callers say they talk to Okta (--okta-domain) or check Hosted.
func ServerOf(issuer string) (s Server, ok bool) {
	u, err := url.Parse(strings.TrimSuffix(issuer, "/"))
	if err != nil || u.Host == "" {
		return Server{}, false
	}
	org := u.Scheme + "://" + u.Host
	switch parts := strings.Split(strings.Trim(u.Path, "/"), "/"); {
	case u.Path == "" || u.Path == "/":
		return Server{Org: org, ID: OrgServer}, true
	case len(parts) == 2 && parts[0] == "oauth2" && serverID.MatchString(parts[1]) && parts[1] != "v1":
		return Server{Org: org, ID: parts[1]}, true
	}
	return Server{}, false
}

// Hosted says whether issuer is on one of Okta's own domains.
func Hosted(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range []string{".okta.com", ".oktapreview.com", ".okta-emea.com", ".okta-gov.com"} {
		if strings.HasSuffix(h, d) {
			return true
		}
	}
	return false
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String names the server for messages.
func (s Server) String() string {
	if s.IsOrg() {
		return "the org authorization server"
	}
	return fmt.Sprintf("the custom authorization server %q", s.ID)
}
