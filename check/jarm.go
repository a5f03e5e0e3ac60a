package check

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/flow"
	"github.com/claimcheck/claimcheck/internal/scrub"
	"github.com/claimcheck/claimcheck/report"
	"github.com/claimcheck/claimcheck/verify"
)

// jarmModes are the response modes of JARM, as response_modes_supported
// lists them.
var jarmModes = []string{"jwt", "query.jwt", "fragment.jwt", "form_post.jwt"}

// checkResponseMode refuses a response mode the provider's
// response_modes_supported leaves out, explaining a JARM mode of a
// provider that offers none. A provider that lists no modes at all is
// asked anyway; the note says so for JARM, whose support is then unknown.
func checkResponseMode(mode string, md verify.Metadata) (note string, err error) {
	if mode == "" {
		return "", nil
	}
	offered := md.ResponseModesSupported
	if len(offered) == 0 {
		if flow.IsJARM(mode) {
			return fmt.Sprintf("the provider's metadata has no response_modes_supported, so whether it offers JARM is not known; response_mode %s was sent, and only a response JWT that verifies is accepted", mode), nil
		}
		return "", nil
	}
	if slices.Contains(offered, mode) {
		return "", nil
	}
	if flow.IsJARM(mode) && !slices.ContainsFunc(offered, func(m string) bool { return slices.Contains(jarmModes, m) }) {
		return "", failure.New(failure.Usage, "--response-mode", "the provider offers no JWT secured authorization response (JARM) mode: its response_modes_supported is %s; JARM must be enabled at the provider (oidc-provider: features.jwtResponseModes) and for the client",
			strings.Join(offered, ", "))
	}
	return "", failure.New(failure.Usage, "--response-mode", "the provider does not offer response_mode %q (it offers: %s)", mode, strings.Join(offered, ", "))
}

// jarmNote explains the algorithm a response JWT must have when the
// provider does not say.
func jarmNote(fc flow.Config, md verify.Metadata) string {
	if !flow.IsJARM(fc.ResponseMode) || len(md.AuthorizationSigningAlgValuesSupported) > 0 {
		return ""
	}
	return "the provider's metadata has no authorization_signing_alg_values_supported, so the response JWT must be signed with RS256, JARM's default"
}

// jarmReport is the request's jarm section, before the response came.
func jarmReport(fc flow.Config, md verify.Metadata) *report.JARM {
	if !flow.IsJARM(fc.ResponseMode) {
		return nil
	}
	mode := fc.ResponseMode
	if mode == "jwt" {
		// JARM section 2.3.4: the response type's default mode.
		mode = "fragment.jwt"
		if fc.ResponseType == "code" {
			mode = "query.jwt"
		}
	}
	return &report.JARM{Mode: mode, Algs: md.AuthorizationSigningAlgValuesSupported}
}

// redactedParams are the response parameters that are secrets: the report
// shows the response JWT's claims without them (the raw JWT, with
// --show-tokens, still holds them; the tokens have their own entries).
var redactedParams = []string{"code", "access_token", "id_token", "refresh_token"}

// responseJWT verifies a JARM response JWT for req before anything in it
// is used and records it in the report; its parameters are then the
// authorization response (flow.RunOptions.VerifyResponseJWT).
func (v *tokenVerifier) responseJWT(ctx context.Context, req *flow.Request, raw string) (url.Values, error) {
	// Whatever the verdict, the JWT and the secrets it claims to carry
	// stay out of every message and the report.
	v.cfg.secrets.Add(scrub.ResponseJWT, raw)
	unverified := verify.Parse(raw).UnverifiedClaims()
	for k, kind := range map[string]string{"code": scrub.Code, "access_token": scrub.AccessToken, "refresh_token": scrub.RefreshToken, "id_token": scrub.ResponseJWT} {
		if s, ok := unverified[k].(string); ok {
			v.cfg.secrets.Add(kind, s)
		}
	}
	tok, err := v.p.VerifyResponseJWT(ctx, raw, verify.ResponseJWTOptions{
		ClientID: v.cfg.ClientID, State: req.State, ClockSkew: v.cfg.ClockSkew, Now: v.cfg.Now,
	})
	t := &report.Token{Raw: raw}
	v.r.Tokens[report.ResponseJWT] = t
	if err != nil {
		t.Error, t.UnverifiedClaims = err.Error(), redactClaims(unverified)
		v.r.AddCheck(verify.Check{Name: report.ResponseJWT + " verified", OK: false, Source: report.ResponseJWT, Detail: err.Error()})
		return nil, err
	}
	t.Verified, t.Claims, t.Header = true, redactClaims(tok.Claims()), tok.Header
	alg, _ := tok.Header["alg"].(string)
	kid, _ := tok.Header["kid"].(string)
	v.r.AddCheck(verify.Check{Name: report.ResponseJWT + " verified", OK: true, Source: report.ResponseJWT, Detail: report.VerifiedDetail(alg)})
	if v.r.Request != nil && v.r.Request.JARM != nil {
		v.r.Request.JARM.Alg, v.r.Request.JARM.KeyID = alg, kid
	}
	return tok.Params, nil
}

// redactClaims is a copy of claims (shared with the parsed token, so not
// to be changed in place) with the secret parameters redacted.
func redactClaims(claims map[string]any) map[string]any {
	if claims == nil {
		return nil
	}
	out := make(map[string]any, len(claims))
	for k, val := range claims {
		if slices.Contains(redactedParams, k) {
			val = "[redacted]"
		}
		out[k] = val
	}
	return out
}
