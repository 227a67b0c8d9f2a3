package secret

import (
	"cmp"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// MinLen is the shortest secret a Redactor registers: shorter strings would
// match by accident all over ordinary text.
const MinLen = 4

// Redactor replaces every registered secret, and the encoded forms under which
// it travels (URL query and path escaping, standard and URL-safe base64 with and
// without padding, and the base64 "user:password" pair of Basic auth registered
// with AddBasic), with "[REDACTED]".
//
// A Redactor is safe for concurrent use; Redact does not lock. The zero value
// is not usable; call NewRedactor. Redact and Error on a nil *Redactor return
// their input unchanged.
type Redactor struct {
	mu      sync.Mutex          // serialises Add/AddBasic
	forms   map[string]struct{} // every registered string, guarded by mu
	replace atomic.Pointer[strings.Replacer]
}

// NewRedactor returns an empty Redactor.
func NewRedactor() *Redactor {
	return &Redactor{forms: make(map[string]struct{})}
}

// Add registers secrets. Values shorter than MinLen bytes are ignored.
func (r *Redactor) Add(values ...string) {
	var forms []string
	for _, v := range values {
		if len(v) < MinLen {
			continue
		}
		forms = append(forms,
			v,
			url.QueryEscape(v),
			url.PathEscape(v),
			base64.StdEncoding.EncodeToString([]byte(v)),
			base64.RawStdEncoding.EncodeToString([]byte(v)),
			base64.URLEncoding.EncodeToString([]byte(v)),
			base64.RawURLEncoding.EncodeToString([]byte(v)),
		)
	}
	r.addForms(forms)
}

// AddBasic registers password (as Add does) and the base64 of "user:password"
// as sent in an "Authorization: Basic" header. The pair is registered even when
// the password alone is too short to register, since the encoded pair is long.
func (r *Redactor) AddBasic(user, password string) {
	if password == "" {
		return
	}
	r.Add(password)
	r.addForms([]string{base64.StdEncoding.EncodeToString([]byte(user + ":" + password))})
}

// addForms adds literal strings and rebuilds the replacer when something new
// arrived. Registration is rare, so rebuilding keeps Redact lock-free.
func (r *Redactor) addForms(forms []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	changed := false
	for _, f := range forms {
		if len(f) < MinLen {
			continue
		}
		if _, ok := r.forms[f]; !ok {
			r.forms[f] = struct{}{}
			changed = true
		}
	}
	if !changed {
		return
	}
	all := make([]string, 0, len(r.forms))
	for f := range r.forms {
		all = append(all, f)
	}
	// strings.Replacer prefers earlier arguments when several match at the
	// same position: list longer strings first so a secret that contains
	// another is replaced whole.
	slices.SortFunc(all, func(a, b string) int {
		if c := cmp.Compare(len(b), len(a)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	pairs := make([]string, 0, 2*len(all))
	for _, f := range all {
		pairs = append(pairs, f, Redacted)
	}
	r.replace.Store(strings.NewReplacer(pairs...))
}

// Redact returns s with every registered secret replaced by "[REDACTED]".
func (r *Redactor) Redact(s string) string {
	if r == nil {
		return s
	}
	rep := r.replace.Load()
	if rep == nil {
		return s
	}
	return rep.Replace(s)
}

// Error returns err with its Error text redacted. The result wraps err, so
// errors.Is and errors.As still reach everything in the original chain. It
// returns nil for nil, and err itself when its text holds no secret.
func (r *Redactor) Error(err error) error {
	if err == nil || r == nil {
		return err
	}
	msg := err.Error()
	red := r.Redact(msg)
	if red == msg {
		return err
	}
	return &redactedError{msg: red, err: err}
}

// redactedError carries a redacted message in front of the original error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
