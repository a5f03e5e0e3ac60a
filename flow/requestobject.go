package flow

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/claimcheck/claimcheck/failure"
)

const requestObjectOp = "request object"

// RequestObjectType is the typ header of a request object (RFC 9101 §10.8).
const RequestObjectType = "oauth-authz-req+jwt"

// RequestObjectLifetime is how long a request object is valid (its exp
// after iat): long enough for a person to reach the provider's sign-in
// page, short enough that a copied authorize URL soon stops working.
const RequestObjectLifetime = 5 * time.Minute

// ResolveRequestObjectAlg picks the JWS algorithm of request objects
// (RFC 9101) signed with key from supported, the provider's
// request_object_signing_alg_values_supported: the first one listed that
// key can sign with. With nothing listed it is the key's usual algorithm
// (RS256 for RSA, the curve's ES algorithm, EdDSA). none and the HMAC
// algorithms are never used: claimcheck signs request objects with a
// private key only. A missing key, and a provider that lists no algorithm
// the key can sign with, are failure.Usage errors, the latter naming
// request_object_signing_alg_values_supported.
func ResolveRequestObjectAlg(key *ClientKey, supported []string) (string, error) {
	if key == nil {
		return "", failure.New(failure.Usage, requestObjectOp, "a request object is signed with the client key: give one (--client-key FILE)")
	}
	can := key.Algorithms()
	if len(supported) == 0 {
		return can[0], nil
	}
	for _, a := range supported {
		if slices.Contains(can, a) {
			return a, nil
		}
	}
	return "", keyError(key.File, "is %s, which signs %s; the provider's request_object_signing_alg_values_supported is %s, so it cannot sign a request object it accepts",
		key.kind(), strings.Join(can, ", "), clean(strings.Join(supported, ", "), 200))
}

// signRequestObject signs params (the authorization request NewRequest
// built) as a request object for c (RFC 9101 §4): every parameter as a
// claim, with iss the client id, aud the issuer, iat and nbf now, exp
// RequestObjectLifetime later and a fresh jti; max_age is a number, a
// single resource a string and several an array, authorization_details
// the JSON array itself. It returns the JWT, its alg and its kid.
func signRequestObject(c Config, params url.Values) (jwt, alg, kid string, err error) {
	alg, err = ResolveRequestObjectAlg(c.ClientKey, nonEmpty(c.RequestObjectAlg))
	if err != nil {
		return "", "", "", err
	}
	if c.Issuer == "" {
		return "", "", "", failure.New(failure.Usage, requestObjectOp, "no issuer to name as the audience")
	}
	claims := map[string]any{}
	for k, vs := range params {
		switch {
		case k == "resource" && len(vs) > 1:
			claims[k] = vs
		case k == "max_age":
			n, perr := strconv.ParseInt(vs[0], 10, 64)
			if perr != nil {
				return "", "", "", failure.New(failure.Usage, requestObjectOp, "max_age %q is not a whole number", clean(vs[0], 40))
			}
			claims[k] = n
		case k == "authorization_details":
			claims[k] = json.RawMessage(vs[0])
		default:
			claims[k] = strings.Join(vs, " ")
		}
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	now := time.Now().Unix()
	claims["iss"] = c.ClientID
	claims["aud"] = c.Issuer
	claims["iat"] = now
	claims["nbf"] = now
	claims["exp"] = now + int64(RequestObjectLifetime/time.Second)
	claims["jti"] = base64.RawURLEncoding.EncodeToString(id)
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", "", "", failure.New(failure.Usage, requestObjectOp, "encoding the claims: %w", err)
	}
	kid = c.ClientKey.KeyID
	opts := (&jose.SignerOptions{}).WithType(RequestObjectType)
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: c.ClientKey.signer}, opts)
	if err != nil {
		return "", "", "", failure.New(failure.Usage, requestObjectOp, "cannot sign with %s: %w", alg, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", "", "", failure.New(failure.Usage, requestObjectOp, "signing: %w", err)
	}
	if jwt, err = jws.CompactSerialize(); err != nil {
		return "", "", "", failure.New(failure.Usage, requestObjectOp, "signing: %w", err)
	}
	return jwt, alg, kid, nil
}
