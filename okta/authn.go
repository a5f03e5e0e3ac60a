package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/claimcheck/claimcheck/failure"
	"github.com/claimcheck/claimcheck/internal/httpclient"
)

// StatusError is a transaction state of the Authentication API other than
// SUCCESS: the user cannot be signed in without a person.
type StatusError struct {
	// Status is Okta's status, such as MFA_REQUIRED.
	Status   string
	Username string
}

func (e *StatusError) Error() string {
	why := map[string]string{
		"MFA_REQUIRED":        "the user must complete multifactor authentication, which a headless sign-in cannot do; use a test user without MFA in its sign-on policy, or sign in in a browser (drop --username)",
		"MFA_ENROLL":          "the user must enroll a factor first; sign in once in a browser",
		"LOCKED_OUT":          "the account is locked out; an administrator must unlock it",
		"PASSWORD_EXPIRED":    "the password has expired; change it by signing in once in a browser",
		"PASSWORD_WARN":       "the password is about to expire; change it by signing in once in a browser",
		"RECOVERY":            "the account is in password recovery",
		"LOCKED_OUT_RECOVERY": "the account is locked out",
	}[e.Status]
	if why == "" {
		why = "headless sign-in needs status SUCCESS"
	}
	return fmt.Sprintf("status %s for %q: %s", e.Status, e.Username, why)
}

// Authenticate signs username in with password through Okta's
// Authentication API (POST {org}/api/v1/authn) and returns the one-time
// sessionToken that an authorize request takes instead of the sign-in
// page. A status other than SUCCESS is a *StatusError of class
// failure.Flow, as are wrong credentials; an unusable answer is
// failure.Provider. Neither the password nor the token is ever in an error.
func Authenticate(ctx context.Context, client *http.Client, org, username, password string) (string, error) {
	const op = "Okta Authentication API"
	if username == "" || password == "" {
		return "", failure.New(failure.Usage, op, "a username and a password are needed")
	}
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	endpoint := org + "/api/v1/authn"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "", failure.New(failure.Usage, op, "%w", httpclient.StripURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return "", failure.New(failure.Interrupted, op, "%w", context.Canceled)
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return "", failure.New(failure.Provider, op, "%s: timed out", endpoint)
		}
		return "", failure.New(failure.Provider, op, "%s: %w", endpoint, httpclient.StripURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 256<<10))
	if err != nil {
		return "", failure.New(failure.Provider, op, "%s: reading the answer: %w", endpoint, httpclient.StripURL(err))
	}
	var out struct {
		Status       string `json:"status"`
		SessionToken string `json:"sessionToken"`
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
	}
	jsonErr := json.Unmarshal(raw, &out)
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return "", failure.New(failure.Flow, op, "authentication failed for %q: wrong username or password (%s)", username, orDefault(out.ErrorCode, "status 401"))
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return "", failure.New(failure.Provider, op, "%s: status %d", endpoint, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", failure.New(failure.Flow, op, "%s: status %d %s", endpoint, resp.StatusCode, orDefault(out.ErrorCode, ""))
	case jsonErr != nil || out.Status == "":
		return "", failure.New(failure.Provider, op, "%s: status 200 without a JSON transaction state", endpoint)
	case out.Status != "SUCCESS":
		return "", failure.Wrap(failure.Flow, op, &StatusError{Status: out.Status, Username: username})
	case out.SessionToken == "":
		return "", failure.New(failure.Provider, op, "%s: status SUCCESS without a sessionToken", endpoint)
	}
	return out.SessionToken, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
