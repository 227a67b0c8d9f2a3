package registry

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/httpx"
)

// Common is what every section has: enabled: and http:. Embed it inline:
//
//	type Settings struct {
//		registry.Common `yaml:",inline"`
//		...
//	}
type Common struct {
	Enabled *bool `yaml:"enabled"`
	HTTP    HTTP  `yaml:"http"`
}

// On implements Config: absent or true.
func (c *Common) On() bool { return c != nil && (c.Enabled == nil || *c.Enabled) }

// HTTPSection implements Config.
func (c *Common) HTTPSection() *HTTP { return &c.HTTP }

// HTTP is a section's http: settings, which tune its HTTP client.
type HTTP struct {
	Concurrency           int           `yaml:"concurrency"`
	RatePerSec            float64       `yaml:"rate_per_sec"`
	MaxAttempts           int           `yaml:"max_attempts"`
	BaseBackoff           time.Duration `yaml:"base_backoff"`
	MaxBackoff            time.Duration `yaml:"max_backoff"`
	MaxRetryAfter         time.Duration `yaml:"max_retry_after"`
	MaxBodyBytes          int64         `yaml:"max_body_bytes"`
	ResponseHeaderTimeout time.Duration `yaml:"response_header_timeout"`
	AttemptTimeout        time.Duration `yaml:"attempt_timeout"`
	IdleTimeout           time.Duration `yaml:"idle_timeout"`
}

// Validate checks the settings; field names start at prefix ("http.").
func (h *HTTP) Validate(c *Check, prefix string) {
	if h.Concurrency < 0 || h.Concurrency > 64 {
		c.Bad(prefix+"concurrency", "%d: must be 1..64", h.Concurrency)
	}
	if h.RatePerSec < 0 {
		c.Bad(prefix+"rate_per_sec", "%v: must be ≥ 0 (0 = unlimited)", h.RatePerSec)
	}
	if h.MaxAttempts < 0 || h.MaxAttempts > 20 {
		c.Bad(prefix+"max_attempts", "%d: must be 1..20", h.MaxAttempts)
	}
	if h.BaseBackoff < 0 || h.MaxBackoff < 0 || h.MaxRetryAfter < 0 {
		c.Bad(prefix+"max_backoff", "backoff durations must be ≥ 0")
	}
	if h.MaxBodyBytes < 0 {
		c.Bad(prefix+"max_body_bytes", "must be ≥ 0")
	}
	if h.IdleTimeout < 0 {
		c.Bad(prefix+"idle_timeout", "%v: must be ≥ 0 (0 = default 60s)", h.IdleTimeout)
	}
}

// SecretRef says where a secret is: an environment variable or a file.
// Secrets are never written in the config itself.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// FieldError is a config fault of one field, named in full
// ("sources.mtt.customers[2]").
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Check collects the faults of one section's validation.
type Check struct {
	// Section is the section's path, "sources.<name>".
	Section string
	// StateDir is the state directory when the state is local, "" when it
	// is on S3 (a vendor that keeps a file beside the state defaults to it).
	StateDir string
	faults   []error
}

// NewCheck returns the check of a section.
func NewCheck(section, stateDir string) *Check {
	return &Check{Section: section, StateDir: stateDir}
}

// Bad records a fault of field, named from the section ("customers[2]").
func (c *Check) Bad(field, format string, args ...any) {
	c.faults = append(c.faults, &FieldError{Field: c.Section + "." + field, Msg: fmt.Sprintf(format, args...)})
}

// Err returns the faults as one error (errors.Join of *FieldError), nil
// when none.
func (c *Check) Err() error { return errors.Join(c.faults...) }

// Faults returns each fault.
func (c *Check) Faults() []*FieldError {
	out := make([]*FieldError, len(c.faults))
	for i, f := range c.faults {
		out[i] = f.(*FieldError)
	}
	return out
}

// URL checks that a URL field is http(s); want says what it should be.
func (c *Check) URL(field, value, want string) {
	if !strings.HasPrefix(value, "https://") && !strings.HasPrefix(value, "http://") {
		c.Bad(field, "%q: %s", value, want)
	}
}

// Secret checks a secret reference: exactly one of env and file.
func (c *Check) Secret(field string, s SecretRef) {
	switch {
	case s.Env == "" && s.File == "":
		c.Bad(field, "required: {env: VAR} or {file: PATH}; secrets are never written in the config")
	case s.Env != "" && s.File != "":
		c.Bad(field, "set env or file, not both")
	}
}

// NoDuplicates reports each entry of list that repeats an earlier one,
// once: a customer listed twice would run its streams twice, side by side.
func (c *Check) NoDuplicates(field string, list []string) {
	first := map[string]int{}
	for i, v := range list {
		if j, dup := first[v]; dup {
			c.Bad(fmt.Sprintf("%s[%d]", field, i), "%q is listed twice (also %s[%d]): list it once", v, field[strings.LastIndexByte(field, '.')+1:], j)
			continue
		}
		first[v] = i
	}
}

// Each reports every entry of list that ok rejects, as field[i]; want
// says what an entry should be.
func (c *Check) Each(field string, list []string, ok func(string) bool, want string) {
	for i, v := range list {
		if !ok(v) {
			c.Bad(fmt.Sprintf("%s[%d]", field, i), "%q: %s", v, want)
		}
	}
}

// httpConfig turns a section's http: settings into the client's.
func httpConfig(h HTTP) httpx.Config {
	return httpx.Config{
		Concurrency: h.Concurrency, RatePerSec: h.RatePerSec, MaxAttempts: h.MaxAttempts,
		BaseBackoff: h.BaseBackoff, MaxBackoff: h.MaxBackoff,
		MaxRetryAfter: h.MaxRetryAfter, MaxBodyBytes: h.MaxBodyBytes,
		ResponseHeaderTimeout: h.ResponseHeaderTimeout, AttemptTimeout: h.AttemptTimeout,
		IdleTimeout: h.IdleTimeout,
	}
}
