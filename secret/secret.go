// Package secret keeps credentials (Basic-auth passwords, API tokens, password
// hashes) out of logs, errors and files.
//
// A [Value] holds one secret and prints as "[REDACTED]" through every
// formatting path (fmt, slog, encoding/json, encoding). A [Redactor] scrubs
// known secrets from arbitrary text, errors and log records produced by code
// that never saw a Value, such as net/http errors carrying a URL.
package secret

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Redacted is the text printed in place of a secret.
const Redacted = "[REDACTED]"

// Value holds a secret. Its String, GoString, Format (all verbs), LogValue
// (slog), MarshalJSON and MarshalText print "[REDACTED]"; only Reveal returns
// the text.
//
// The text is kept behind a pointer, so even fmt's reflection-based printing of
// an unexported Value field (where no method can be called) shows an address,
// not the secret. The zero Value is empty.
type Value struct {
	p *string
}

// New returns a Value holding s.
func New(s string) Value {
	return Value{p: &s}
}

// Reveal returns the secret text. Call it only where the secret is handed to
// its consumer (an Authorization header, a hash function).
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// IsZero reports whether v holds no secret (or an empty one).
func (v Value) IsZero() bool { return v.Reveal() == "" }

// String returns "[REDACTED]".
func (v Value) String() string { return Redacted }

// GoString returns "[REDACTED]" (for %#v).
func (v Value) GoString() string { return Redacted }

// Format prints "[REDACTED]" for every verb, ignoring flags, width and precision.
func (v Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(Redacted)) }

// LogValue returns "[REDACTED]" as a slog string.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }

// MarshalJSON returns the JSON string "[REDACTED]".
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText returns "[REDACTED]".
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// Load reads a secret either from the environment variable named env or from
// the file at path file; exactly one of the two must be non-empty. Trailing
// CR/LF characters of a file are trimmed. An unset variable or an empty value
// is an error. Errors name the variable or file, never the value.
func Load(env, file string) (Value, error) {
	switch {
	case env != "" && file != "":
		return Value{}, fmt.Errorf("secret: both environment variable %s and file %s given; set exactly one", env, file)
	case env == "" && file == "":
		return Value{}, errors.New("secret: neither an environment variable nor a file given; set exactly one")
	case env != "":
		s, ok := os.LookupEnv(env)
		if !ok {
			return Value{}, fmt.Errorf("secret: environment variable %s is not set", env)
		}
		if s == "" {
			return Value{}, fmt.Errorf("secret: environment variable %s is empty", env)
		}
		return New(s), nil
	default:
		b, err := os.ReadFile(file)
		if err != nil {
			// *fs.PathError names the path and the cause; it never holds content.
			return Value{}, fmt.Errorf("secret: %w", err)
		}
		s := strings.TrimRight(string(b), "\r\n")
		if s == "" {
			return Value{}, fmt.Errorf("secret: file %s is empty", file)
		}
		return New(s), nil
	}
}
