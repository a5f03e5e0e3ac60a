// Package scrub keeps the secrets claimcheck sends to a provider out of
// what the provider sends back. A token endpoint that echoes its request in
// error_description would otherwise put the code, the PKCE verifier or the
// client secret into a report, a log or a CI system's output.
//
// Whoever sends a secret registers it with a Scrubber (Add, AddBasic), and
// text that came from a provider goes through String or Error before it is
// shown. Each secret is registered in the forms in which it travels or is
// likely to be echoed: as is, URL-encoded as in a form body or a query (and twice, as in a
// URL that carries a request),
// escaped as in a JSON string or a Go %q, in base64, and, for the client,
// as the Authorization: Basic credential.
package scrub

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Kinds of secrets, as the markers name them.
const (
	Code         = "code"
	CodeVerifier = "PKCE verifier"
	ClientSecret = "client secret"
	Password     = "password"
	RefreshToken = "refresh token"
	DeviceCode   = "device code"
	AccessToken  = "access token"
	SessionToken = "session token"
	// SourceToken is the access_token of a distributed claim source
	// (OpenID Connect Core 5.6.2), which a token carries in its
	// _claim_sources.
	SourceToken = "claim source access token"
	// Assertion is a client assertion (private_key_jwt, client_secret_jwt):
	// valid for a minute, and as good as the client's credential meanwhile.
	Assertion = "client assertion"
	// DPoPProof is a DPoP proof (RFC 9449): short-lived, but it carries
	// the hash of the access token it accompanies.
	DPoPProof = "DPoP proof"
	// SubjectToken and ActorToken are the tokens a token exchange
	// (RFC 8693) sends: another party's credentials, often long-lived.
	SubjectToken = "subject token"
	ActorToken   = "actor token"
	// ResponseJWT is a JARM response JWT, which carries the code and any
	// front-channel tokens.
	ResponseJWT = "response JWT"
)

// shortForm is the length under which a form is replaced only where it
// stands alone, not inside a longer run of letters and digits: a short
// secret ("pw", "1234") would otherwise match inside ordinary words and
// make every message unreadable, while an echo of it ("password=pw") is
// still caught.
const shortForm = 8

// Scrubber replaces registered secrets in text by a marker naming their
// kind, "[redacted code]". The zero value is ready to use, a nil
// *Scrubber scrubs nothing, and it is safe for concurrent use.
type Scrubber struct {
	mu    sync.RWMutex
	forms map[string]string // form of a secret -> marker
}

// Add registers value, a secret of the given kind, in every form listed in
// the package documentation. An empty value is ignored.
func (s *Scrubber) Add(kind, value string) {
	if s == nil || value == "" {
		return
	}
	marker := "[redacted " + kind + "]"
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.forms == nil {
		s.forms = map[string]string{}
	}
	for _, f := range forms(value) {
		if _, ok := s.forms[f]; !ok && f != "" {
			s.forms[f] = marker
		}
	}
}

// AddBasic registers a client's secret and the credential of its HTTP
// Basic authentication as golang.org/x/oauth2 and claimcheck send it (RFC
// 6749 §2.3.1: both parts form-encoded before base64).
func (s *Scrubber) AddBasic(clientID, clientSecret string) {
	if clientSecret == "" {
		return
	}
	s.Add(ClientSecret, clientSecret)
	id, secret := url.QueryEscape(clientID), url.QueryEscape(clientSecret)
	s.Add(ClientSecret, base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	// net/http's own SetBasicAuth, without the form-encoding.
	s.Add(ClientSecret, base64.StdEncoding.EncodeToString([]byte(clientID+":"+clientSecret)))
}

// forms lists how value may appear in a provider's text.
func forms(value string) []string {
	quoted := strconv.Quote(value)
	js, _ := json.Marshal(value) // escapes <, > and & as \u003c, as most encoders do
	return []string{
		value,
		url.QueryEscape(value),
		// A request echoed into a URL (an error_uri) is encoded twice.
		url.QueryEscape(url.QueryEscape(value)),
		url.PathEscape(value),
		quoted[1 : len(quoted)-1],
		string(js[1 : len(js)-1]),
		base64.StdEncoding.EncodeToString([]byte(value)),
		base64.RawStdEncoding.EncodeToString([]byte(value)),
		base64.RawURLEncoding.EncodeToString([]byte(value)),
	}
}

// String returns text with every registered secret replaced by its
// marker. Where forms overlap the longest one wins, so that a secret
// inside a longer one does not leave the rest of it behind.
func (s *Scrubber) String(text string) string {
	if s == nil || text == "" {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	found := false
	for f := range s.forms {
		if strings.Contains(text, f) {
			found = true
			break
		}
	}
	if !found {
		return text
	}
	var b strings.Builder
	for i := 0; i < len(text); {
		best := ""
		for f := range s.forms {
			if len(f) > len(best) && strings.HasPrefix(text[i:], f) && (len(f) >= shortForm || alone(text, i, i+len(f))) {
				best = f
			}
		}
		if best == "" {
			b.WriteByte(text[i])
			i++
			continue
		}
		b.WriteString(s.forms[best])
		i += len(best)
	}
	return b.String()
}

// alone says whether text[i:j] is not part of a longer run of letters and
// digits.
func alone(text string, i, j int) bool {
	return (i == 0 || !alnum(text[i-1])) && (j == len(text) || !alnum(text[j]))
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Error returns err with its message scrubbed, or err itself when the
// message holds no secret. The returned error unwraps to err, so that its
// class (package failure) and any typed cause stay inspectable.
func (s *Scrubber) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := s.String(msg)
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean, err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }
