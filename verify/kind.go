package verify

// GuessKind guesses from a token's UNVERIFIED claims and typ header whether
// it is an ID token for clientID (SourceIDToken) or an access token
// (SourceAccessToken): a nonce, or an aud naming the client, marks an ID
// token; a scope, scp or the at+jwt type an access token; no claims (an
// opaque token) an access token. It only routes a token to the checks of
// its kind, which then decide; claimcheck verify --kind overrides it.
func GuessKind(claims map[string]any, typ, clientID string) string {
	if claims == nil {
		return guessKind(nil, typ, clientID)
	}
	return guessKind(mapClaims(claims), typ, clientID)
}

// guessKind is GuessKind on claims, nil for none.
func guessKind(c claims, typ, clientID string) string {
	if c == nil {
		return SourceAccessToken
	}
	if _, ok := c.get("nonce"); ok {
		return SourceIDToken
	}
	_, scope := c.get("scope")
	_, scp := c.get("scp")
	if scope || scp || isAccessTokenType(typ) {
		return SourceAccessToken
	}
	m, _ := c.get("aud")
	if m == nil {
		return SourceAccessToken
	}
	switch m.kind {
	case 's':
		if m.str == clientID {
			return SourceIDToken
		}
	case 'a':
		var buf [4]string
		if aud, err := audienceOf(c, buf[:0]); err == nil {
			if aud.contains(clientID) {
				return SourceIDToken
			}
			return SourceAccessToken
		}
		// Not all strings: any element that is the client ID still
		// names it.
		aud, _ := c.value(m).([]any)
		for _, a := range aud {
			if a == clientID {
				return SourceIDToken
			}
		}
	}
	return SourceAccessToken
}
