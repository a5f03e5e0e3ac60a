package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	"github.com/claimcheck/claimcheck/verify"
)

// TextOptions control WriteText.
type TextOptions struct {
	// Color adds ANSI colours; the caller decides (a terminal, no NO_COLOR).
	Color bool
	// Now is the reference for "in 59m" and "2h ago"; time.Now when nil.
	Now func() time.Time
}

// The order in which well-known claims are listed; the rest follow sorted.
var claimOrder = []string{"iss", "sub", "aud", "azp", "client_id", "scope", "scp", "exp", "iat", "nbf", "auth_time",
	"nonce", "at_hash", "c_hash", "acr", "amr", "sid", "jti", "name", "preferred_username", "email", "email_verified"}

var timeClaims = map[string]bool{"exp": true, "iat": true, "nbf": true, "auth_time": true, "updated_at": true}

var tokenOrder = []string{ResponseJWT, IDToken, FrontIDToken, AccessToken, UserInfo}

var tokenTitles = map[string]string{IDToken: "ID token", FrontIDToken: "ID token (authorization response)", AccessToken: "Access token", UserInfo: "Userinfo", Introspection: "Introspection", IssuedToken: "Issued token", ResponseJWT: "Response JWT (JARM)"}

type painter bool

func (p painter) paint(code, s string) string {
	if !p {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}
func (p painter) green(s string) string { return p.paint("32", s) }
func (p painter) red(s string) string   { return p.paint("31", s) }
func (p painter) dim(s string) string   { return p.paint("2", s) }
func (p painter) bold(s string) string  { return p.paint("1", s) }

// WriteText writes the report for a person: what was asked, each token's
// claims, the checks and a one-line verdict.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	p := painter(o.Color)
	b := &strings.Builder{}

	fmt.Fprintf(b, "%s %s\n", p.bold("claimcheck"), p.dim("· "+sanitize(r.Flow)+" · "+sanitize(r.Issuer)))
	var rows [][2]string
	if r.Provider != nil {
		rows = append(rows, [2]string{"provider", r.Provider.Title + " (" + r.Provider.Why + ")"})
	}
	if q := r.Request; q != nil {
		response := "" // none for the non-interactive grants
		if q.ResponseType != "" {
			response = strings.TrimSpace(q.ResponseType + " via " + q.ResponseMode)
		}
		rows = append(rows, [][2]string{
			{"client", q.ClientID + clientAuthSuffix(q.ClientAuth, strings.Contains(q.ResponseType, "code"))},
			{"response", response},
			{"scopes", strings.Join(q.Scopes, " ")},
			{"redirect uri", q.RedirectURI},
		}...)
		for _, k := range sortedKeys(q.Endpoints) {
			rows = append(rows, [2]string{k, q.Endpoints[k]})
		}
		if len(q.Resources) > 0 {
			rows = append(rows, [2]string{"resources", strings.Join(q.Resources, " ")})
		}
		if len(q.AuthorizationDetails) > 0 {
			rows = append(rows, [2]string{"authorization details", string(q.AuthorizationDetails)})
		}
		if te := q.TokenExchange; te != nil {
			rows = append(rows, tokenExchangeRows(te)...)
		}
		if par := q.PAR; par != nil {
			v := "pushed to " + par.Endpoint
			if par.RequestURI != "" {
				v += fmt.Sprintf(", request_uri %s (expires in %ds)", par.RequestURI, par.ExpiresIn)
			}
			if par.Required {
				v += ", required by the provider"
			}
			rows = append(rows, [2]string{"pushed request", v})
		}
		if j := q.JARM; j != nil {
			v := "response JWT in " + j.Mode
			if j.Alg != "" {
				v += ", verified " + j.Alg
			}
			rows = append(rows, [2]string{"JARM", v})
		}
		rows = append(rows, [2]string{"authorize url", q.AuthorizeURL})
	}
	writeRows(b, rows, "  ")

	for _, kind := range r.tokenKinds() {
		t := r.Tokens[kind]
		b.WriteString("\n")
		var status string
		switch {
		case t.Verified:
			status = p.green("✓ verified")
		case t.Error != "":
			status = p.red("✗ " + sanitize(t.Error))
		default:
			status = p.dim("not verified")
		}
		title := tokenTitles[kind]
		if title == "" {
			title = kind
		}
		fmt.Fprintf(b, "%s  %s%s\n", p.bold(sanitize(title)), status, sanitize(headerSummary(t.Header)))
		if t.Note != "" {
			fmt.Fprintf(b, "  %s\n", p.dim(sanitize(t.Note)))
		}
		writeRows(b, claimRows(t.Claims, now()), "  ")
		if t.Claims == nil && len(t.UnverifiedClaims) > 0 {
			fmt.Fprintf(b, "  %s\n", p.dim("unverified claims (as the token says; nothing vouches for them):"))
			writeRows(b, claimRows(t.UnverifiedClaims, now()), "    ")
		}
		if t.Raw != "" {
			fmt.Fprintf(b, "  %s %s\n", p.dim("raw"), t.Raw)
		}
	}

	if len(r.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.Notes {
			fmt.Fprintf(b, "%s %s\n", p.dim("note:"), sanitize(n))
		}
	}

	if len(r.Checks) > 0 {
		fmt.Fprintf(b, "\n%s\n", p.bold("Checks"))
		width := 0
		for _, c := range r.Checks {
			width = max(width, len([]rune(sanitize(c.Name))))
		}
		for _, c := range r.Checks {
			mark := p.green("✓")
			if !c.OK {
				mark = p.red("✗")
			}
			fmt.Fprintf(b, "  %s %-*s  %s\n", mark, width, sanitize(c.Name), sanitize(c.Detail))
		}
	}

	b.WriteString("\n")
	b.WriteString(r.verdict(p))
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// clientAuthSuffix describes the client's authentication; PKCE only where
// a code is exchanged (not for the implicit flow nor the grants).
func clientAuthSuffix(auth string, code bool) string {
	pkce := ""
	if code {
		pkce = ", PKCE S256"
	}
	switch auth {
	case "":
		return ""
	case "none":
		return " (public client" + pkce + ")"
	}
	return " (" + auth + pkce + ")"
}

func headerSummary(h map[string]any) string {
	var parts []string
	if alg, ok := h["alg"].(string); ok {
		parts = append(parts, alg)
	}
	if kid, ok := h["kid"].(string); ok {
		parts = append(parts, "kid "+kid)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

func (r *Report) verdict(p painter) string {
	if e := r.Outcome(); e != nil {
		return p.red(fmt.Sprintf("FAIL (%s, exit %d): %s", e.Class, r.ExitCode, sanitize(e.Message)))
	}
	if !r.anyVerified() {
		return p.green(fmt.Sprintf("PASS: %d of %d checks passed", len(r.Checks), len(r.Checks)))
	}
	return p.green(fmt.Sprintf("PASS: tokens verified, %d of %d checks passed", len(r.Checks), len(r.Checks)))
}

// anyVerified reports whether a token (or the provider's introspection
// answer) was verified; userinfo alone does not make "tokens verified".
func (r *Report) anyVerified() bool {
	for k, t := range r.Tokens {
		if k != UserInfo && t.Verified {
			return true
		}
	}
	return false
}

// tokenKinds lists the report's tokens, the usual kinds first.
// tokenExchangeRows are the request rows of a token exchange.
func tokenExchangeRows(te *TokenExchange) [][2]string {
	rows := [][2]string{{"subject token type", te.SubjectTokenType}}
	if te.ActorTokenType != "" {
		rows = append(rows, [2]string{"actor token type", te.ActorTokenType})
	}
	if te.RequestedTokenType != "" {
		rows = append(rows, [2]string{"requested token type", te.RequestedTokenType})
	}
	if len(te.Audiences) > 0 {
		rows = append(rows, [2]string{"audience", strings.Join(te.Audiences, " ")})
	}
	if te.IssuedTokenType != "" {
		rows = append(rows, [2]string{"issued token type", te.IssuedTokenType})
	}
	for _, c := range []struct {
		name string
		v    any
	}{{"act", te.Act}, {"may_act", te.MayAct}} {
		if c.v != nil {
			b, _ := json.Marshal(c.v)
			rows = append(rows, [2]string{c.name, string(b)})
		}
	}
	return rows
}

func (r *Report) tokenKinds() []string {
	var kinds []string
	seen := map[string]bool{}
	for _, k := range tokenOrder {
		if _, ok := r.Tokens[k]; ok {
			kinds = append(kinds, k)
			seen[k] = true
		}
	}
	for _, k := range sortedKeys(r.Tokens) {
		if !seen[k] {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

func claimRows(claims map[string]any, now time.Time) [][2]string {
	var rows [][2]string
	done := map[string]bool{}
	add := func(k string) {
		rows = append(rows, [2]string{sanitize(k), formatClaim(k, claims[k], now)})
		done[k] = true
	}
	for _, k := range claimOrder {
		if _, ok := claims[k]; ok {
			add(k)
		}
	}
	for _, k := range sortedKeys(claims) {
		if !done[k] {
			add(k)
		}
	}
	return rows
}

func formatClaim(name string, v any, now time.Time) string {
	if timeClaims[name] {
		if f, ok := v.(float64); ok {
			t := time.Unix(int64(f), 0).UTC()
			return t.Format("2006-01-02 15:04:05 UTC") + " (" + relative(t, now) + ")"
		}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				t := time.Unix(i, 0).UTC()
				return t.Format("2006-01-02 15:04:05 UTC") + " (" + relative(t, now) + ")"
			}
		}
	}
	switch x := v.(type) {
	case string:
		return sanitize(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = formatClaim("", e, now)
		}
		return strings.Join(parts, ", ")
	case nil:
		return "null"
	}
	j, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return sanitize(string(j))
}

func relative(t, now time.Time) string {
	raw := t.Sub(now)
	if raw > -time.Second && raw < time.Second {
		return "now"
	}
	d := raw.Round(time.Second)
	if d >= 0 {
		return "in " + shortDuration(d)
	}
	return shortDuration(-d) + " ago"
}

func shortDuration(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, (d%time.Hour)/time.Minute)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", d/time.Minute, (d%time.Minute)/time.Second)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// sanitize keeps a provider's strings from moving the cursor, recolouring
// the terminal or reordering the line: control characters, format
// characters (bidi overrides, zero-width ones: unicode.Cf, as flow's clean
// drops them) and invalid UTF-8 become U+FFFD. Every string of a report
// passes through it before it reaches a terminal.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '\uFFFD'
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

func writeRows(b *strings.Builder, rows [][2]string, indent string) {
	width := 0
	for _, r := range rows {
		if r[1] != "" {
			width = max(width, len([]rune(r[0])))
		}
	}
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		fmt.Fprintf(b, "%s%-*s  %s\n", indent, width, sanitize(r[0]), sanitize(r[1]))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkName names a check with its sources, for JUnit test cases and the
// expectation error's list of failed checks, where no detail column says
// where a group was found. The text report shows the detail instead.
func checkName(c verify.Check) string {
	if c.Source == "" {
		return c.Name
	}
	return c.Name + " [" + c.Source + "]"
}
