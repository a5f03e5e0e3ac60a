// Package verify turns what an authorization server returned into verified
// claims and checks: discovery, JWKS verification of ID tokens and JWT
// access tokens, userinfo, and the group expectations of a run.
//
// Every token goes through one path (jws.go): the compact serialization
// only, a header and payload decoded strictly (duplicate members, text that
// is not UTF-8, critical extensions, non-canonical base64 and any byte
// outside its alphabet are refused), an algorithm the provider advertises
// and never none or a MAC, the signature checked with crypto/rsa,
// crypto/ecdsa or crypto/ed25519 against a key of the provider's JWKS whose
// use, key_ops, alg and size allow it, then the claim checks of OpenID
// Connect Core (ID tokens) or RFC 9068 (access tokens) with a clock-skew
// allowance. VerifyParsedIDTokens and VerifyParsedAccessTokens verify a
// batch, such as a stream's, with each token's verdict the single call's:
// the signatures back to back, then the claims, which is faster. The key set
// refetches a JWKS at most once per unknown key and interval and tells an
// unreachable JWKS (a provider failure) from a bad signature (a verification
// failure). coreos/go-oidc's verifier is the oracle of a differential test
// over the hardening corpus; claimcheck departs from it only where that test
// says why.
//
// Every error carries a class from package failure, is one line, names the
// endpoint or claim at fault, and never contains a response body or a token.
package verify
