// Package store holds the protocol-generic parts of an in-memory storage
// for github.com/zitadel/oidc/v3/pkg/op, shared by the providers built on
// it (the shipped demo provider, internal/op/demo, and the Okta-shaped test
// provider, internal/op/okta): the RS256 signing key and
// its public half, the authorization request with op's getters, the client
// adapter, and the op.Storage methods every such storage answers alike.
//
// What differs between providers stays with them: claims, audiences and
// keys per token kind. A provider embeds AuthRequest in its own request type
// and overrides a getter (GetAudience) where it must, and configures a
// Client through ClientConfig.
package store

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// ErrUnknown is wrapped by lookups of auth requests, codes, tokens, clients
// and subjects that are unknown or have expired.
var ErrUnknown = errors.New("unknown or expired")

// ErrNoClientKeys answers the JWT profile (RFC 7523) parts of op's storage
// interface: no client has a key registered.
var ErrNoClientKeys = errors.New("no client keys: JWT client assertions are not accepted")

// NewID returns 128 random bits, base64url-encoded without padding.
func NewID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// SigningKey is an RSA-2048 key used with RS256. It is an op.SigningKey;
// Public gives the op.Key to publish.
type SigningKey struct {
	id  string
	key *rsa.PrivateKey
}

// NewSigningKey generates a key. Its kid is the RFC 7638 thumbprint, so a
// kid can never name two different keys.
func NewSigningKey() (*SigningKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	thumb, err := (&jose.JSONWebKey{Key: &key.PublicKey}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("signing key thumbprint: %w", err)
	}
	return &SigningKey{id: base64.RawURLEncoding.EncodeToString(thumb), key: key}, nil
}

// SignatureAlgorithm is RS256.
func (k *SigningKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }

// Key is the private key.
func (k *SigningKey) Key() any { return k.key }

// ID is the kid.
func (k *SigningKey) ID() string { return k.id }

// Public is the key as a key set holds it (op.Key).
func (k *SigningKey) Public() PublicKey { return PublicKey{k} }

// PublicKey is the public half of a SigningKey, for op's key set.
type PublicKey struct{ k *SigningKey }

// ID is the kid.
func (p PublicKey) ID() string { return p.k.id }

// Algorithm is RS256.
func (p PublicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }

// Use is "sig".
func (p PublicKey) Use() string { return "sig" }

// Key is the *rsa.PublicKey.
func (p PublicKey) Key() any { return &p.k.key.PublicKey }

// Storage answers the parts of op.Storage that every in-memory storage here
// answers the same way; a provider's storage embeds it.
type Storage struct{}

// SignatureAlgorithms is RS256 only.
func (Storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// SetUserinfoFromScopes is deprecated in op, which calls
// SetUserinfoFromRequest right after it; the embedding storage does
// everything there.
func (Storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// GetKeyByIDAndClientID fails with ErrNoClientKeys.
func (Storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, ErrNoClientKeys
}

// ValidateJWTProfileScopes fails with ErrNoClientKeys.
func (Storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, ErrNoClientKeys
}

// Health: an in-memory storage is up whenever the process is.
func (Storage) Health(context.Context) error { return nil }
