package t2

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/secret"
)

// Token timing rules.
const (
	// RefreshAhead is how long before the access token's JWT exp the store
	// refreshes without waiting for a 403.
	RefreshAhead = 5 * time.Minute
	// WarnRefreshExpiry: Warnings reports a refresh token expiring within it.
	WarnRefreshExpiry = 48 * time.Hour
	// WarnUnused: Warnings reports a pair not refreshed for this long (the
	// vendor kills a refresh token unused for 7 days).
	WarnUnused = 5 * 24 * time.Hour
	// maxAuthRetries bounds how often the transport sends one request again
	// after a 403 "expired" or "already updated", each time with a newer
	// pair, so a server that keeps refusing cannot loop it.
	maxAuthRetries = 4
)

// The 403 "details" texts of the T2 API.
const (
	detailExpired        = "The token is expired"
	detailAlreadyUpdated = "The token has already been updated"
	detailBadToken       = "Bad token"
	detailInvalidType    = "Invalid token type"
	detailHeaderRequired = "Authorization header required"
)

// ErrAuth is wrapped by every error that needs the operator: the tokens
// were refused (other than by plain expiry), a refresh failed for good, or
// a refreshed pair could not be saved. Retrying does not help, and no other
// request of the source can succeed: it is httpx.ErrAuth, the class of
// errors fatal for the source, so the pipeline stops the source at the first.
var ErrAuth = httpx.ErrAuth

// AuthError is an ErrAuth with the vendor's 403 detail (when there was one)
// and what the operator must do. It never holds a token.
type AuthError struct {
	Detail string // the 403 "details" text, "" when the failure was local
	Msg    string // what happened and what to do
	Err    error  // the cause, may be nil
}

func (e *AuthError) Error() string {
	s := "t2: authorization failed"
	if e.Detail != "" {
		s += fmt.Sprintf(" (%q)", e.Detail)
	}
	s += ": " + e.Msg
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *AuthError) Unwrap() []error { return []error{ErrAuth, e.Err} }

// reissue is the operator's fix for a dead pair.
func reissue(file string) string {
	return "issue a new access/refresh token pair in the T2 PBX web UI, put it into the configured secrets (sources.t2.access_token / refresh_token) and delete the token file " + file
}

// authErrorFor maps a 403 detail other than expiry to what the operator must do.
func authErrorFor(detail, file string) *AuthError {
	var msg string
	switch detail {
	case detailAlreadyUpdated:
		msg = "the API says the token pair in use (the one in " + file + ") has already been refreshed, and not by this process: " +
			"another copy of these tokens refreshed it (another etl installation or a copy of the state directory using the same T2 tokens, " +
			"another tool given the same tokens), or a refresh answer was lost on the way; " +
			"make sure only one installation uses these T2 tokens, then either copy the token file of the copy that holds the new pair over " + file +
			", or " + reissue(file)
	case detailBadToken:
		msg = "the API cannot parse the token; check that the configured token is complete, or " + reissue(file)
	case detailInvalidType:
		msg = "an access token was given where a refresh token belongs or the other way round; check that access_token and refresh_token are not swapped, then delete the token file " + file
	case detailHeaderRequired:
		msg = "no token was sent; configure sources.t2.access_token and refresh_token"
	case detailExpired:
		msg = "the token is still expired after a refresh; " + reissue(file)
	default:
		msg = "the API refused the token; " + reissue(file)
	}
	return &AuthError{Detail: detail, Msg: msg}
}

// forbidden reads the "details" of a 403 body ("" when it has none).
func forbidden(body []byte) string {
	var f struct {
		Details string `json:"details"`
	}
	_ = json.Unmarshal(body, &f)
	return strings.TrimSpace(f.Details)
}

// tokenFile is the token store's file: the current pair and when it was
// last refreshed. It is written with mode 0600.
type tokenFile struct {
	AccessToken  string    `json:"access_token"`
	RefreshToken string    `json:"refresh_token"`
	RefreshedAt  time.Time `json:"refreshed_at,omitzero"`
}

// TokenStore owns the T2 token pair. The first pair comes from the
// configuration; once the token file exists it wins over the configuration.
// A refresh saves the new pair to the file (atomically, 0600) before the
// pair is used anywhere, because the vendor invalidates the old pair at
// once. At most one refresh runs at a time; requests that hit an expired
// token meanwhile wait for it and retry with the new pair, and so do
// requests refused "already updated" because they carried a pair that has
// been (or is being) refreshed. It is safe for concurrent use.
type TokenStore struct {
	file       tokenIO
	refreshURL string
	http       *httpx.Client // for the refresh call: the base transport, no token handling
	red        *secret.Redactor
	now        func() time.Time
	log        *slog.Logger

	mu       sync.Mutex
	pair     tokenFile
	gen      int           // incremented on every refresh
	inflight chan struct{} // closed when the running refresh ends; nil when none runs
	fatal    error         // a refresh failed for good: every later use fails with it
	refreshs int
}

// newTokenStore loads path if it exists, else takes the configured pair.
func newTokenStore(ctx context.Context, file tokenIO, refreshURL string, access, refresh secret.Value, hc *httpx.Client, red *secret.Redactor, now func() time.Time, log *slog.Logger) (*TokenStore, error) {
	s := &TokenStore{file: file, refreshURL: refreshURL, http: hc, red: red, now: now, log: log}
	path := file.String()
	b, err := file.read(ctx)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s.pair); err != nil {
			return nil, fmt.Errorf("t2: token file %s: %w (delete it to start again from the configured tokens)", path, err)
		}
		if s.pair.AccessToken == "" || s.pair.RefreshToken == "" {
			return nil, fmt.Errorf("t2: token file %s lacks a token (delete it to start again from the configured tokens)", path)
		}
	case errors.Is(err, fs.ErrNotExist):
		if access.IsZero() || refresh.IsZero() {
			return nil, errors.New("t2: no token file yet and access or refresh token not configured: issue a pair in the T2 PBX web UI and configure both")
		}
		s.pair = tokenFile{AccessToken: access.Reveal(), RefreshToken: refresh.Reveal()}
	default:
		return nil, fmt.Errorf("t2: token file: %w", err)
	}
	s.red.Add(s.pair.AccessToken, s.pair.RefreshToken, access.Reveal(), refresh.Reveal())
	return s, nil
}

// RefreshedAt returns when the token pair was last refreshed (the token
// file's refreshed_at; a refresh issues a new refresh token), or zero when
// it never was: the pair still comes from the configuration.
func (s *TokenStore) RefreshedAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pair.RefreshedAt
}

// Refreshes returns how many refreshes this store has made.
func (s *TokenStore) Refreshes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshs
}

// access returns the access token to send and its generation, refreshing
// first when its JWT exp is within RefreshAhead.
func (s *TokenStore) access(ctx context.Context) (string, int, error) {
	s.mu.Lock()
	tok, gen, fatal := s.pair.AccessToken, s.gen, s.fatal
	s.mu.Unlock()
	if fatal != nil {
		return "", 0, fatal
	}
	if exp, ok := jwtExp(tok); ok && exp.Sub(s.now()) < RefreshAhead {
		if err := s.refresh(ctx, gen); err != nil {
			return "", 0, err
		}
		s.mu.Lock()
		tok, gen = s.pair.AccessToken, s.gen
		s.mu.Unlock()
	}
	return tok, gen, nil
}

// refresh replaces the pair of generation seen. When a newer pair already
// exists it returns at once; when a refresh is running it waits for it.
// refreshTimeout bounds a token exchange, which does not stop with the run.
const refreshTimeout = 2 * time.Minute

func (s *TokenStore) refresh(ctx context.Context, seen int) error {
	s.mu.Lock()
	for {
		if s.fatal != nil {
			err := s.fatal
			s.mu.Unlock()
			return err
		}
		if s.gen != seen {
			s.mu.Unlock()
			return nil
		}
		if s.inflight == nil {
			break
		}
		ch := s.inflight
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	done := make(chan struct{})
	s.inflight = done
	old := s.pair.RefreshToken
	s.mu.Unlock()

	// Once the request is sent the server may rotate the pair, and the old
	// one dies: the exchange and the save must finish even if the run is
	// interrupted (SIGINT) meanwhile, or the new pair would be lost and the
	// account locked out. They get their own bounded context instead.
	xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	next, err := s.exchange(xctx, old)
	adopted := false
	if ae := (*AuthError)(nil); errors.As(err, &ae) && ae.Detail == detailAlreadyUpdated {
		// Another process on the same token file may have refreshed first.
		if p, ok := s.newerInFile(xctx, old); ok {
			next, err, adopted = p, nil, true
		}
	}
	if err == nil && !adopted {
		next.RefreshedAt = s.now().UTC()
		err = s.save(xctx, next)
	}
	cancel()

	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		s.pair = next
		s.gen++
		if !adopted {
			s.refreshs++
		}
	} else if errors.Is(err, ErrAuth) {
		s.fatal = err
	}
	s.inflight = nil
	close(done)
	switch {
	case adopted:
		s.log.Warn("t2 tokens were refreshed by another process; using the pair it saved", "file", s.file.String())
	case err == nil:
		s.log.Info("t2 tokens refreshed", "file", s.file.String())
	}
	return err
}

// superseded handles a request refused "The token has already been
// updated" that carried the access token of generation seen, and reports
// whether to send it again with the current pair. The request may have
// raced a refresh: sent with seen while the pair was being refreshed (the
// server rotates before this store has the answer) or after. It waits for
// a running refresh of seen; when the store then holds a newer pair, the
// request is retried with it. When seen is still the current pair, the
// pair was refreshed outside this store: if another process saved a newer
// pair to the token file, that pair is adopted and the request retried;
// otherwise (false, nil): the refusal stands and is the operator's.
func (s *TokenStore) superseded(ctx context.Context, seen int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.gen == seen && s.inflight != nil {
		ch := s.inflight
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			return false, ctx.Err()
		}
		s.mu.Lock()
	}
	switch {
	case s.gen != seen:
		return true, nil
	case s.fatal != nil:
		return false, s.fatal
	}
	p, ok := s.newerInFile(ctx, s.pair.RefreshToken)
	if !ok {
		return false, nil
	}
	s.pair = p
	s.gen++
	s.log.Warn("t2 tokens were refreshed by another process; using the pair it saved", "file", s.file.String())
	return true, nil
}

// newerInFile returns the pair in the token file when it is complete and
// its refresh token is not old: a pair another process refreshed and saved
// (this store saves its own pair before using it, so the file differs from
// memory only by someone else's hand). Its tokens are registered with the
// Redactor.
func (s *TokenStore) newerInFile(ctx context.Context, old string) (tokenFile, bool) {
	var p tokenFile
	b, err := s.file.read(ctx)
	if err != nil || json.Unmarshal(b, &p) != nil || p.AccessToken == "" || p.RefreshToken == "" || p.RefreshToken == old {
		return tokenFile{}, false
	}
	s.red.Add(p.AccessToken, p.RefreshToken)
	return p, true
}

// exchange calls the refresh endpoint. The new tokens are registered with
// the Redactor before anything can print them.
func (s *TokenStore) exchange(ctx context.Context, refresh string) (tokenFile, error) {
	var next tokenFile
	var authErr error
	attempts := 0
	newReq := func(ctx context.Context) (*http.Request, error) {
		attempts++
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, s.refreshURL, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Authorization", refresh)
		return req, nil
	}
	check := func(resp *http.Response, body []byte) error {
		switch {
		case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized:
			detail := forbidden(body)
			ae := authErrorFor(detail, s.file.String())
			switch {
			case detail == detailExpired:
				ae.Msg = "the refresh token has expired (it lives 7 days and must be used within them); " + reissue(s.file.String())
			case detail == detailAlreadyUpdated && attempts > 1:
				// The exchange is not idempotent: an attempt whose answer
				// broke may have rotated the pair.
				ae.Msg = fmt.Sprintf("the pair had already been refreshed when attempt %d was sent, most likely by an earlier attempt "+
					"of this same refresh that reached the API and whose answer, the new pair, was lost on the way "+
					"(see the retry warnings before this error); the old pair is dead and the new one never arrived: %s",
					attempts, reissue(s.file.String()))
			}
			ae.Msg = "token refresh refused: " + ae.Msg
			authErr = ae
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return httpx.Retryable(&httpx.StatusError{StatusCode: resp.StatusCode, Body: string(head(body))})
		case resp.StatusCode != http.StatusOK:
			return &httpx.StatusError{StatusCode: resp.StatusCode, Body: string(head(body))}
		}
		var p struct {
			AccessToken  string `json:"accessToken"`
			RefreshToken string `json:"refreshToken"`
		}
		if err := json.Unmarshal(body, &p); err != nil || p.AccessToken == "" || p.RefreshToken == "" {
			// The old pair may already be dead: nothing to retry with.
			s.red.Add(p.AccessToken, p.RefreshToken)
			authErr = &AuthError{Msg: "the token refresh answered without a usable token pair; " + reissue(s.file.String()), Err: err}
			return nil
		}
		s.red.Add(p.AccessToken, p.RefreshToken)
		next = tokenFile{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken}
		return nil
	}
	if _, err := s.http.Do(ctx, "refresh token", newReq, check); err != nil {
		return next, fmt.Errorf("t2: refresh token: %w", err)
	}
	if authErr != nil {
		return next, authErr
	}
	return next, nil
}

// save writes the pair durably. A failure is fatal: the vendor has already
// invalidated the old pair and the new one must not be used unsaved.
func (s *TokenStore) save(ctx context.Context, p tokenFile) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := s.file.write(ctx, append(b, '\n')); err != nil {
		return &AuthError{
			Msg: "the refreshed token pair could not be saved (the previous pair is already invalid); fix what kept it from being written, then " + reissue(s.file.String()),
			Err: s.red.Error(err),
		}
	}
	return nil
}

// Warnings reports what `etl check` should tell the operator: a refresh
// token expiring within WarnRefreshExpiry (by its JWT exp), or a pair not
// refreshed for WarnUnused (by the token file's refreshed_at).
func (s *TokenStore) Warnings(now time.Time) []string {
	s.mu.Lock()
	p, fatal := s.pair, s.fatal
	s.mu.Unlock()
	var out []string
	if fatal != nil {
		out = append(out, s.red.Redact(fatal.Error()))
	}
	if exp, ok := jwtExp(p.RefreshToken); ok {
		switch left := exp.Sub(now); {
		case left <= 0:
			out = append(out, fmt.Sprintf("t2: the refresh token expired at %s; %s", exp.UTC().Format(time.RFC3339), reissue(s.file.String())))
		case left < WarnRefreshExpiry:
			out = append(out, fmt.Sprintf("t2: the refresh token expires at %s (in %s); run the ETL before then so it is refreshed", exp.UTC().Format(time.RFC3339), left.Round(time.Minute)))
		}
	}
	if !p.RefreshedAt.IsZero() && now.Sub(p.RefreshedAt) > WarnUnused {
		out = append(out, fmt.Sprintf("t2: the tokens were last refreshed at %s, %d days ago; a refresh token unused for 7 days dies: run the ETL soon", p.RefreshedAt.UTC().Format(time.RFC3339), int(now.Sub(p.RefreshedAt)/(24*time.Hour))))
	}
	return out
}

// jwtExp reads the exp claim of a JWT without verifying it.
func jwtExp(tok string) (time.Time, bool) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var c struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &c) != nil || c.Exp == "" {
		return time.Time{}, false
	}
	secs, err := c.Exp.Int64()
	if err != nil {
		f, ferr := c.Exp.Float64()
		if ferr != nil {
			return time.Time{}, false
		}
		secs = int64(f)
	}
	return time.Unix(secs, 0), true
}

// transport sets the Authorization header from the store and handles the
// 403s that a newer pair cures, sending the request again (at most
// maxAuthRetries times) with the current pair:
//   - "The token is expired", once per request: refresh the pair the
//     request carried (or wait for the refresh already running, or take the
//     newer pair already there);
//   - "The token has already been updated": the request carried a pair that
//     another request of this store has refreshed meanwhile (while it was in
//     flight); see TokenStore.superseded.
//
// Other 403s, and those two when the current pair itself is refused, pass
// through for the client's check to report.
//
// It sends the token to the API origin only: a request for any other origin
// (scheme, host and port) is refused, permanently, before a token is even
// looked up — whatever the caller or a redirect asked for.
type transport struct {
	base   http.RoundTripper
	store  *TokenStore
	origin string // httpx.Origin of the API base URL
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if o := httpx.Origin(req.URL); o != t.origin {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, httpx.Permanent(fmt.Errorf("t2: refusing to send the access token to %s: it goes to the API origin %s only", o, t.origin))
	}
	ctx := req.Context()
	// Refused credentials stop the httpx retry loop at once.
	stop := func(err error) (*http.Response, error) {
		if errors.Is(err, ErrAuth) {
			return nil, httpx.Permanent(err)
		}
		return nil, err
	}
	expired := false // the request has met "expired" once
	for retry := 0; ; retry++ {
		tok, gen, err := t.store.access(ctx)
		if err != nil {
			return stop(err)
		}
		resp, err := t.send(req, tok)
		if err != nil || resp.StatusCode != http.StatusForbidden || retry == maxAuthRetries {
			return resp, err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err != nil {
			return nil, err
		}
		again := false
		switch forbidden(body) {
		case detailExpired:
			// Once per request, as the vendor document says: a pair
			// refused as expired right after a refresh is not cured by
			// another one.
			if !expired {
				expired = true
				err = t.store.refresh(ctx, gen)
				again = err == nil
			}
		case detailAlreadyUpdated:
			again, err = t.store.superseded(ctx, gen)
		}
		if err != nil {
			return stop(err)
		}
		if !again {
			resp.Body = io.NopCloser(bytes.NewReader(body))
			return resp, nil
		}
	}
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
	r.Header.Set("Authorization", tok)
	return t.base.RoundTrip(r)
}

// head is the start of a body for error messages.
func head(b []byte) []byte { return b[:min(len(b), 512)] }
