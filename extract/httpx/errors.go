package httpx

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxErrorBody is how much of a response body a StatusError keeps.
const maxErrorBody = 512

// StatusError reports an HTTP response whose status the check rejected.
// Its Error text is "HTTP 404 Not Found: <body>"; the client prefixes source
// name and operation when it wraps it.
type StatusError struct {
	Op         string // the operation, as passed to Do or Stream
	StatusCode int
	Body       string // the first 512 bytes of the body, redacted
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("HTTP %d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		msg += " " + t
	}
	if b := strings.Join(strings.Fields(e.Body), " "); b != "" {
		msg += ": " + b
	}
	return msg
}

// retryableError marks an error as transient.
type retryableError struct{ err error }

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

// Retryable marks err as transient, so the client tries again. It returns nil
// for nil. The mark is visible through wrapping (see IsRetryable) and does not
// change err's text.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &retryableError{err: err}
}

// permanentError marks a Transport error no retry can fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent marks an error a Config.Transport returns as one no retry can
// fix — credentials the vendor refused — so the client stops at once rather
// than retry it as it retries other transport errors. The client returns
// err itself (not wrapped in the *url.Error of http.Client), prefixed with
// the source and operation like every error. It returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// ErrNoData is wrapped by a vendor's answer that the credentials were
// accepted but the account has no data to give (MTT's -32001 "Data not
// found"): `etl check` reports it as a warning, not a failure.
var ErrNoData = errors.New("the vendor has no data for the account")

// ErrAuth is wrapped by every error that is fatal for the source, not just
// for the request: the vendor refused the credentials (a wrong password, a
// dead or revoked token) or the account (disabled, blocked). No request of
// the source can succeed until an operator acts, so the client does not
// retry it and the pipeline stops the source at the first one (see
// IsFatal). The vendor packages' ErrAuth are this error.
var ErrAuth = errors.New("the vendor refused the credentials or the account")

// The three classes of an error a vendor client returns:
//   - retryable (Retryable, IsRetryable): transient; the client tries again;
//   - permanent for the request (any other error; Permanent for a
//     Transport's): this request fails, the source's other requests go on;
//   - fatal for the source (Fatal, IsFatal; every error wrapping ErrAuth):
//     the source's other requests would fail the same way; the pipeline
//     does not start them.

// fatalError marks an error as fatal for the source.
type fatalError struct{ err error }

func (e *fatalError) Error() string   { return e.err.Error() }
func (e *fatalError) Unwrap() []error { return []error{ErrAuth, e.err} }

// Fatal marks err as fatal for the source: it then wraps ErrAuth (as well
// as err) and is never retried. Its text is err's. It returns nil for nil.
func Fatal(err error) error {
	if err == nil {
		return nil
	}
	return &fatalError{err: err}
}

// IsFatal reports whether err is fatal for the source: it wraps ErrAuth
// (directly, through Fatal, or through a vendor's AuthError).
func IsFatal(err error) bool { return errors.Is(err, ErrAuth) }

// IsRetryable reports whether err, or any error it wraps, was marked with
// Retryable.
func IsRetryable(err error) bool {
	var r *retryableError
	return errors.As(err, &r)
}

// defaultCheck accepts 2xx, retries 429 and 5xx and rejects everything else.
func defaultCheck(resp *http.Response, body []byte) error {
	code := resp.StatusCode
	switch {
	case code >= 200 && code <= 299:
		return nil
	case code == http.StatusTooManyRequests || code >= 500:
		return Retryable(&StatusError{StatusCode: code, Body: errorBody(body)})
	default:
		return &StatusError{StatusCode: code, Body: errorBody(body)}
	}
}

// errorBody copies the start of body for a StatusError. It keeps more than
// 512 bytes so that redaction, which runs before the final cut, sees whole
// secrets near the cut.
func errorBody(body []byte) string {
	return string(body[:min(len(body), 8*maxErrorBody)])
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// CheckAnswer classifies the answer of a vendor that reports errors in the
// body, once the body was decoded with decodeErr (nil when it decoded):
//   - a vendor error answer (decodeErr wraps an E) is returned as it is,
//     permanent, unless the HTTP status is 429 or 5xx: then it is retried;
//   - 401 and 403 (without a vendor error answer) are fatal for the source:
//     a *StatusError marked with Fatal;
//   - any other status outside 2xx is a *StatusError, retried when 429 or 5xx;
//   - a 2xx body that did not decode (truncated, a proxy's HTML page) is
//     retried.
func CheckAnswer[E error](resp *http.Response, body []byte, decodeErr error) error {
	code := resp.StatusCode
	transient := code == http.StatusTooManyRequests || code >= 500
	apiErr, isAPI := errors.AsType[E](decodeErr)
	switch {
	case isAPI && transient:
		return Retryable(fmt.Errorf("HTTP %d: %w", code, apiErr))
	case isAPI:
		return apiErr
	case code < 200 || code > 299:
		se := &StatusError{StatusCode: code, Body: errorBody(body)}
		switch {
		case transient:
			return Retryable(se)
		case code == http.StatusUnauthorized || code == http.StatusForbidden:
			return Fatal(se)
		}
		return se
	case decodeErr != nil:
		return Retryable(decodeErr)
	}
	return nil
}
