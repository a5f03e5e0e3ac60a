package provider

import (
	"fmt"
	"regexp"

	"github.com/claimcheck/claimcheck/verify"
)

// cognitoIssuer is a user pool's issuer: the region's cognito-idp host and
// the pool id, {region}_{id}.
var cognitoIssuer = regexp.MustCompile(`^https://cognito-idp\.([a-z0-9-]+)\.amazonaws\.com/([a-z0-9-]+_[A-Za-z0-9]+)$`)

// CognitoGroupsClaim is the claim of AWS Cognito's user pool groups.
const CognitoGroupsClaim = "cognito:groups"

// cognito is AWS Cognito user pools: the issuer
// https://cognito-idp.{region}.amazonaws.com/{poolId}, the keys at
// {issuer}/.well-known/jwks.json.
func cognito() Provider {
	return Provider{
		Name: Cognito, Title: "AWS Cognito",
		recognise: func(issuer string, md verify.Metadata) (string, bool) {
			m := cognitoIssuer.FindStringSubmatch(issuer)
			if m == nil || md.JWKSURI != issuer+"/.well-known/jwks.json" {
				return "", false
			}
			return fmt.Sprintf("the issuer is user pool %s in %s (cognito-idp.%s.amazonaws.com), with its keys at /.well-known/jwks.json", m[2], m[1], m[1]), true
		},
		explain: cognitoExplain,
	}
}

func cognitoExplain(group string, sources []verify.Source, f Facts) string {
	var why []string
	if w := where(sources, CognitoGroupsClaim, group); w != "" && f.Expect.ClaimFor(w) != CognitoGroupsClaim {
		why = append(why, fmt.Sprintf("Cognito puts user pool groups in %s, not %q (--groups-claim %s)", CognitoGroupsClaim, f.Expect.ClaimFor(w), CognitoGroupsClaim))
	} else if noClaim(sources, f.Expect) {
		why = append(why, "Cognito puts "+CognitoGroupsClaim+" in ID and access tokens only for a user in at least one user pool group (or one a pre token generation Lambda adds); a user in none gets no claim at all")
	}
	for _, s := range sources {
		if s.Name != verify.SourceAccessToken {
			continue
		}
		if use, _ := s.Claims["token_use"].(string); use == "access" {
			if _, aud := s.Claims["aud"]; !aud {
				why = append(why, "Cognito access tokens carry client_id, not aud, and token_use access (ID tokens: token_use id): check token_use rather than an audience")
			}
		}
	}
	return join(why)
}
