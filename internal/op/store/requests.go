package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
)

// Request is a provider's own authorization request type: a pointer to a
// struct that embeds AuthRequest (Base returns it) and copies itself deeply
// (Clone), so that op is only ever handed copies.
type Request[R any] interface {
	op.AuthRequest
	Base() *AuthRequest
	Clone() R
}

// Base is the embedded AuthRequest itself.
func (a *AuthRequest) Base() *AuthRequest { return a }

// Requests keeps the authorization requests of one provider and the codes
// issued for them, and answers the auth-request part of op.AuthStorage
// (all of it but CreateAuthRequest, which builds the provider's own type
// and hands it to Add). A provider's storage embeds it.
// It is safe for concurrent use.
type Requests[R Request[R]] struct {
	lifetime     time.Duration
	codeLifetime time.Duration
	prepare      func(context.Context, R)
	now          func() time.Time

	mu    sync.Mutex
	byID  map[string]R
	codes map[string]string // code -> request id
}

// NewRequests keeps each request for lifetime after it was created; a code
// can be redeemed for codeLifetime after it was issued, or, when
// codeLifetime is 0, as long as its request lives. prepare, when not nil,
// is the hook for what differs per provider: it is called with the
// context of op's call on every copy handed to op.
func NewRequests[R Request[R]](lifetime, codeLifetime time.Duration, prepare func(context.Context, R)) *Requests[R] {
	return &Requests[R]{
		lifetime:     lifetime,
		codeLifetime: codeLifetime,
		prepare:      prepare,
		now:          time.Now,
		byID:         make(map[string]R),
		codes:        make(map[string]string),
	}
}

// Add stores r under its id and drops the expired requests, so that a
// long-running provider does not grow. It returns a clone of r for op,
// prepared for ctx: what CreateAuthRequest returns.
func (s *Requests[R]) Add(ctx context.Context, r R) R {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, old := range s.byID {
		if old.Base().expired(s.now(), s.lifetime) {
			s.delete(id)
		}
	}
	s.byID[r.Base().ID] = r
	return s.hand(ctx, r.Clone())
}

// AuthRequestByID is op.AuthStorage's: a prepared clone of the live request.
func (s *Requests[R]) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.Lookup(id)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return s.hand(ctx, r), nil
}

// AuthRequestByCode is op.AuthStorage's: see ByCode.
func (s *Requests[R]) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.ByCode(code)
	if err != nil {
		return nil, err
	}
	return s.hand(ctx, r), nil
}

// SaveAuthCode is op.AuthStorage's: see SaveCode.
func (s *Requests[R]) SaveAuthCode(_ context.Context, id, code string) error {
	return s.SaveCode(id, code)
}

// DeleteAuthRequest is op.AuthStorage's: see Delete.
func (s *Requests[R]) DeleteAuthRequest(_ context.Context, id string) error {
	s.Delete(id)
	return nil
}

func (s *Requests[R]) hand(ctx context.Context, r R) R {
	if s.prepare != nil {
		s.prepare(ctx, r)
	}
	return r
}

// Get returns a clone of the live request id.
func (s *Requests[R]) Get(id string) (R, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(id)
	if !ok {
		var zero R
		return zero, false
	}
	return r.Clone(), true
}

// Lookup is Get for op: an unknown or expired request wraps ErrUnknown.
func (s *Requests[R]) Lookup(id string) (R, error) {
	r, ok := s.Get(id)
	if !ok {
		return r, fmt.Errorf("auth request: %w", ErrUnknown)
	}
	return r, nil
}

// SignIn marks the live request id as signed in by subject; false when it
// is unknown, expired or already signed in.
func (s *Requests[R]) SignIn(id, subject string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(id)
	if !ok || r.Base().SignedIn {
		return false
	}
	r.Base().SignIn(subject)
	return true
}

// SaveCode records code for the signed-in request id.
func (s *Requests[R]) SaveCode(id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(id)
	if !ok || !r.Base().SignedIn {
		return fmt.Errorf("auth request: %w", ErrUnknown)
	}
	r.Base().CodeIssued = s.now()
	s.codes[code] = id
	return nil
}

// ByCode consumes code and returns a clone of its request: a second
// redemption fails even while the first is still being answered.
func (s *Requests[R]) ByCode(code string) (R, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero R
	id, ok := s.codes[code]
	if !ok {
		return zero, fmt.Errorf("code: %w", ErrUnknown)
	}
	delete(s.codes, code)
	r, ok := s.live(id)
	if !ok || !r.Base().SignedIn {
		return zero, fmt.Errorf("code: %w", ErrUnknown)
	}
	if s.codeLifetime > 0 && s.now().After(r.Base().CodeIssued.Add(s.codeLifetime)) {
		return zero, fmt.Errorf("code: %w", ErrUnknown)
	}
	return r.Clone(), nil
}

// Delete drops the request id and its codes.
func (s *Requests[R]) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delete(id)
}

// Called with mu held.
func (s *Requests[R]) delete(id string) {
	delete(s.byID, id)
	for code, reqID := range s.codes {
		if reqID == id {
			delete(s.codes, code)
		}
	}
}

// Called with mu held.
func (s *Requests[R]) live(id string) (R, bool) {
	r, ok := s.byID[id]
	if !ok || r.Base().expired(s.now(), s.lifetime) {
		var zero R
		return zero, false
	}
	return r, true
}
