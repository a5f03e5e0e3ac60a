package verify

// GuessKind guesses from a token's UNVERIFIED claims and typ header whether
// it is an ID token for clientID (SourceIDToken) or an access token
// (SourceAccessToken): a nonce, or an aud naming the client, marks an ID
// token; a scope, scp or the at+jwt type an access token; no claims (an
// opaque token) an access token. It only routes a token to the checks of
// its kind, which then decide; claimcheck verify --kind overrides it.
func GuessKind(claims map[string]any, typ, clientID string) string {
	if claims == nil {
		return SourceAccessToken
	}
	if _, ok := claims["nonce"]; ok {
		return SourceIDToken
	}
	_, scope := claims["scope"]
	_, scp := claims["scp"]
	if scope || scp || isAccessTokenType(typ) {
		return SourceAccessToken
	}
	switch aud := claims["aud"].(type) {
	case string:
		if aud == clientID {
			return SourceIDToken
		}
	case []any:
		for _, a := range aud {
			if a == clientID {
				return SourceIDToken
			}
		}
	}
	return SourceAccessToken
}
