package voicebox

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/secret"
)

// ErrAuth is wrapped by every error that needs the operator: the token
// endpoint refused the client or the user, or the API refused a freshly
// issued token. Retrying does not help, and no other request of the source
// can succeed: it is httpx.ErrAuth, the class of errors fatal for the
// source, so the pipeline stops the source at the first.
var ErrAuth = httpx.ErrAuth

// AuthError is an ErrAuth saying what happened and what to do. It never
// holds a credential.
type AuthError struct {
	Msg string // what happened and what the operator must do
	Err error  // the cause, may be nil
}

func (e *AuthError) Error() string {
	s := "voicebox: authorization failed: " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *AuthError) Unwrap() []error { return []error{ErrAuth, e.Err} }

// tokenTimeout bounds one token request. Token requests do not stop with
// the run's context (a rotated refresh token must not be lost half-way),
// so they get this bound instead.
const tokenTimeout = time.Minute

// tokens owns the OAuth 2.0 tokens: the password grant first, then an
// oauth2.ReuseTokenSource that refreshes with the refresh token when the
// access token's expiry (by the local clock) comes near. After a 401 the
// transport calls renew, which drops the token and gets a new one: refresh
// grant first, password grant when that is refused. One token request runs
// at a time; every token is registered with the Redactor before it is
// used. It is safe for concurrent use.
type tokens struct {
	conf   *oauth2.Config
	user   string
	pass   secret.Value
	client *http.Client // token requests: the base transport, no token handling
	red    *secret.Redactor
	log    *slog.Logger

	mu     sync.Mutex
	src    oauth2.TokenSource // nil before the first grant
	cur    *oauth2.Token
	gen    int   // incremented with every new token
	fatal  error // an ErrAuth: every later use fails with it
	issued int
}

// ctx is the context of token requests: oauth2 takes its HTTP client from
// it (the shared base transport).
func (t *tokens) ctx() context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, t.client)
}

// Issued returns how many tokens were obtained (password and refresh grants).
func (t *tokens) Issued() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.issued
}

// token returns the access token to send and its generation.
func (t *tokens) token() (string, int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal != nil {
		return "", 0, t.fatal
	}
	if t.src == nil {
		if err := t.passwordLocked(); err != nil {
			return "", 0, err
		}
	}
	tk, err := t.src.Token()
	if err != nil {
		// The refresh grant failed: a refused refresh token (expired,
		// revoked, rotated), or none issued, falls back to the password
		// grant; a network error or a 5xx is retried with the request.
		if t.cur.RefreshToken != "" && transient(err) {
			return "", 0, t.failLocked(err, "refresh_token")
		}
		t.log.Info("voicebox token expired and cannot be refreshed; using the password grant", "err", t.red.Error(err))
		if err := t.passwordLocked(); err != nil {
			return "", 0, err
		}
		tk = t.cur
	}
	if tk != t.cur {
		t.useLocked(tk)
	}
	return tk.AccessToken, t.gen, nil
}

// renew replaces the token of generation seen after the API refused it.
// When a newer token exists already it is returned at once.
func (t *tokens) renew(seen int) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.fatal != nil {
		return "", t.fatal
	}
	if t.gen != seen && t.cur != nil {
		return t.cur.AccessToken, nil
	}
	if t.cur != nil && t.cur.RefreshToken != "" {
		// A token without an access token is not valid: the source
		// refreshes at once.
		stale := &oauth2.Token{RefreshToken: t.cur.RefreshToken}
		tk, err := t.conf.TokenSource(t.ctx(), stale).Token()
		if err == nil {
			t.useLocked(tk)
			t.src = oauth2.ReuseTokenSource(tk, t.conf.TokenSource(t.ctx(), tk))
			return tk.AccessToken, nil
		}
		if transient(err) {
			return "", t.failLocked(err, "refresh_token")
		}
		t.log.Info("voicebox refresh token refused after a 401; using the password grant", "err", t.red.Error(err))
	}
	if err := t.passwordLocked(); err != nil {
		return "", err
	}
	return t.cur.AccessToken, nil
}

// passwordLocked runs the password grant; t.mu is held.
func (t *tokens) passwordLocked() error {
	tk, err := t.conf.PasswordCredentialsToken(t.ctx(), t.user, t.pass.Reveal())
	if err != nil {
		return t.failLocked(err, "password")
	}
	t.useLocked(tk)
	t.src = oauth2.ReuseTokenSource(tk, t.conf.TokenSource(t.ctx(), tk))
	return nil
}

// useLocked registers tk's secrets and makes it current; t.mu is held.
func (t *tokens) useLocked(tk *oauth2.Token) {
	t.red.Add(tk.AccessToken, tk.RefreshToken)
	t.cur = tk
	t.gen++
	t.issued++
}

// failLocked turns a token request error into the error to return: an
// *AuthError (remembered: every later use fails with it) when the endpoint
// refused the request for good, else a transient error.
func (t *tokens) failLocked(err error, grant string) error {
	err = t.red.Error(err)
	if transient(err) {
		return fmt.Errorf("voicebox: token request (%s grant): %w", grant, err)
	}
	var re *oauth2.RetrieveError
	errors.As(err, &re)
	code := ""
	if re != nil {
		code = re.ErrorCode
	}
	var msg string
	switch {
	case httpx.IsRedirectRefused(err):
		msg = "the token endpoint redirected the " + grant + " grant off its origin, which would send the client secret and password elsewhere: check token_url of sources.voicebox"
	case code == "invalid_client", code == "unauthorized_client":
		msg = "the token endpoint refused the client (" + code + "): check client_id and client_secret of sources.voicebox"
	case code == "invalid_grant":
		msg = "the token endpoint refused the user name or password (invalid_grant): check username and password of sources.voicebox"
	case code == "":
		msg = "the token endpoint refused the " + grant + " grant: check token_url, client_id, client_secret, username and password of sources.voicebox"
	default:
		msg = "the token endpoint refused the " + grant + " grant (" + code + "): check token_url and the OAuth client's settings at VoiceBox"
	}
	t.fatal = &AuthError{Msg: msg, Err: err}
	return t.fatal
}

// transient reports whether a token request error may go away by itself:
// network errors, unreadable answers, 429 and 5xx. A 4xx, an RFC 6749
// error code or a refused redirect is a refusal.
func transient(err error) bool {
	if httpx.IsRedirectRefused(err) {
		return false // the token endpoint redirects off its origin: configuration
	}
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return true
	}
	if re.ErrorCode != "" {
		return false
	}
	if re.Response == nil {
		return true
	}
	code := re.Response.StatusCode
	return code == http.StatusTooManyRequests || code >= 500 || code == http.StatusRequestTimeout
}

// transport adds `Authorization: Bearer <token>`. On a 401 it drops the
// token, gets a new one and sends the request once more; a second 401
// reaches the client's check, which reports it as an *AuthError. It sends
// the token to the API origin only: a request for any other origin
// (scheme, host and port) is refused, permanently, before a token is
// obtained — whatever the caller or a redirect asked for.
type transport struct {
	base   http.RoundTripper
	tokens *tokens
	origin string // httpx.Origin of the API base URL
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if o := httpx.Origin(req.URL); o != t.origin {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, httpx.Permanent(fmt.Errorf("voicebox: refusing to send the access token to %s: it goes to the API origin %s only", o, t.origin))
	}
	// Refused credentials stop the httpx retry loop at once.
	stop := func(err error) (*http.Response, error) {
		if errors.Is(err, ErrAuth) {
			return nil, httpx.Permanent(err)
		}
		return nil, err
	}
	tok, gen, err := t.tokens.token()
	if err != nil {
		return stop(err)
	}
	resp, err := t.send(req, tok)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if tok, err = t.tokens.renew(gen); err != nil {
		return stop(err)
	}
	return t.send(req, tok)
}

// send sends a copy of req with tok (requests are not to be modified).
func (t *transport) send(req *http.Request, tok string) (*http.Response, error) {
	r := req.Clone(req.Context())
	if req.Body != nil && req.GetBody != nil {
		b, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		r.Body = b
	}
	r.Header.Set("Authorization", "Bearer "+tok)
	return t.base.RoundTrip(r)
}
