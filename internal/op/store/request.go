package store

import (
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
)

// AuthRequest is an authorization request as op sees it (op.AuthRequest).
// A provider embeds it in its own type, adds what it keeps besides, and
// overrides GetAudience when an access token's audience is not the client.
type AuthRequest struct {
	ID           string
	Created      time.Time
	ClientID     string
	RedirectURI  string
	State        string
	Nonce        string
	Scopes       []string
	ResponseType oidc.ResponseType
	ResponseMode oidc.ResponseMode
	Challenge    *oidc.CodeChallenge

	// SignedIn, Subject and AuthTime are set when the user signs in.
	SignedIn bool
	Subject  string
	AuthTime time.Time
	// CodeIssued is when the last code was issued for the request.
	CodeIssued time.Time
}

// NewAuthRequest records req under a fresh id, created now.
func NewAuthRequest(req *oidc.AuthRequest) (AuthRequest, error) {
	id, err := NewID()
	if err != nil {
		return AuthRequest{}, err
	}
	a := AuthRequest{
		ID:           id,
		Created:      time.Now(),
		ClientID:     req.ClientID,
		RedirectURI:  req.RedirectURI,
		State:        req.State,
		Nonce:        req.Nonce,
		Scopes:       slices.Clone([]string(req.Scopes)),
		ResponseType: req.ResponseType,
		ResponseMode: req.ResponseMode,
	}
	if req.CodeChallenge != "" {
		a.Challenge = &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod}
	}
	return a, nil
}

// Copy is a deep copy, so that op can be handed one while the stored
// request is completed under the storage's lock.
func (a AuthRequest) Copy() AuthRequest {
	a.Scopes = slices.Clone(a.Scopes)
	if a.Challenge != nil {
		ch := *a.Challenge
		a.Challenge = &ch
	}
	return a
}

// expired says whether the request is older than lifetime at now.
func (a *AuthRequest) expired(now time.Time, lifetime time.Duration) bool {
	return now.After(a.Created.Add(lifetime))
}

// SignIn marks the request as signed in by subject, now.
func (a *AuthRequest) SignIn(subject string) {
	a.SignedIn, a.Subject, a.AuthTime = true, subject, time.Now()
}

// GetID is the request id.
func (a *AuthRequest) GetID() string { return a.ID }

// GetACR is empty: no authentication context class is claimed.
func (a *AuthRequest) GetACR() string { return "" }

// GetAudience is the client.
func (a *AuthRequest) GetAudience() []string { return []string{a.ClientID} }

// GetAuthTime is when the user signed in.
func (a *AuthRequest) GetAuthTime() time.Time { return a.AuthTime }

// GetClientID is the client id.
func (a *AuthRequest) GetClientID() string { return a.ClientID }

// GetCodeChallenge is the PKCE challenge, or nil.
func (a *AuthRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.Challenge }

// GetNonce is the nonce.
func (a *AuthRequest) GetNonce() string { return a.Nonce }

// GetRedirectURI is the redirect URI.
func (a *AuthRequest) GetRedirectURI() string { return a.RedirectURI }

// GetResponseType is the response type.
func (a *AuthRequest) GetResponseType() oidc.ResponseType { return a.ResponseType }

// GetResponseMode is the response mode.
func (a *AuthRequest) GetResponseMode() oidc.ResponseMode { return a.ResponseMode }

// GetScopes is the scope asked for.
func (a *AuthRequest) GetScopes() []string { return a.Scopes }

// GetState is the state.
func (a *AuthRequest) GetState() string { return a.State }

// GetSubject is the user who signed in.
func (a *AuthRequest) GetSubject() string { return a.Subject }

// Done says whether the user has signed in.
func (a *AuthRequest) Done() bool { return a.SignedIn }

// GetAMR says how the user signed in: by password (RFC 8176).
func (a *AuthRequest) GetAMR() []string {
	if !a.SignedIn {
		return nil
	}
	return []string{"pwd"}
}
