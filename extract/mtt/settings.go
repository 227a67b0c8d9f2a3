package mtt

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/calletl/calletl/extract/registry"
)

// Settings is sources.mtt of etl.yaml (configs/etl.example.yaml documents
// every field).
type Settings struct {
	registry.Common `yaml:",inline"`
	BaseURL         string             `yaml:"base_url"`
	Username        string             `yaml:"username"`
	Password        registry.SecretRef `yaml:"password"`
	Customers       []string           `yaml:"customers"`
	Types           []string           `yaml:"types"`
	PageSize        int                `yaml:"page_size"`
	VendorTimezone  string             `yaml:"vendor_timezone"`

	// The callback calls and the recordings format (callback_settings.go).
	CallbackSettings `yaml:",inline"`

	vendor *time.Location // VendorTimezone, loaded by Validate
}

// Vendor returns MTT for the registry.
func Vendor() registry.Vendor { return registry.Define(Name, Tables, build) }

// ValidCustomer reports whether s can be a customer name (a personal
// account): it becomes a path segment of state and lake keys.
func ValidCustomer(s string) bool { return s != "" && !strings.ContainsAny(s, "/\\ .") }

// Validate implements registry.Config.
func (s *Settings) Validate(c *registry.Check) {
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	c.URL("base_url", s.BaseURL, "want an http(s) URL")
	if s.Username == "" {
		c.Bad("username", "required: the Basic auth user")
	}
	c.Secret("password", s.Password)
	if len(s.Customers) == 0 {
		c.Bad("customers", "at least one customer (personal account, customer_name) is required")
	}
	for i, cu := range s.Customers {
		if !ValidCustomer(cu) {
			c.Bad(fmt.Sprintf("customers[%d]", i), "%q is not a customer name", cu)
		}
	}
	c.NoDuplicates("customers", s.Customers)
	c.NoDuplicates("types", s.Types)
	c.Each("types", s.Types, func(t string) bool { return slices.Contains(Types, t) }, "want one of "+strings.Join(Types, ", "))
	if s.PageSize == 0 {
		s.PageSize = MaxPageSize
	}
	if s.PageSize < 1 || s.PageSize > MaxPageSize {
		c.Bad("page_size", "%d: must be 1..%d (the API caps record_count at 1000)", s.PageSize, MaxPageSize)
	}
	if s.VendorTimezone == "" {
		s.VendorTimezone = "UTC"
	}
	loc, err := time.LoadLocation(s.VendorTimezone)
	if err != nil {
		c.Bad("vendor_timezone", "unknown time zone %q", s.VendorTimezone)
	}
	s.vendor = loc
	s.CallbackSettings.validate(c, s.Customers)
	s.HTTP.Validate(c, "http.")
}

// build is MTT's registry constructor: the source, and with recordings on
// the recordings fetcher on the same credentials.
func build(_ context.Context, s *Settings, env registry.Env) (registry.Parts, error) {
	pw, err := env.Secret("password", s.Password)
	if err != nil {
		return registry.Parts{}, err
	}
	client, err := New(Config{
		BaseURL: s.BaseURL, Username: s.Username, Password: pw,
		Customers: s.Customers, Types: s.Types, PageSize: s.PageSize, Vendor: s.vendor,
		HTTP: env.HTTP(Name, s.HTTP), Callbacks: s.CallbackSettings.config(env), RecordingFormat: s.RecordingFormat,
	}, env.Log) // httpx adds source=mtt to its lines
	if err != nil {
		return registry.Parts{}, err
	}
	parts := registry.Parts{Source: NewSource(client)}
	if env.Recordings {
		f, err := client.Recordings(env.RecordsBase[Name], env.HTTP(Name+"-recordings", s.HTTP))
		if err != nil {
			return registry.Parts{}, fmt.Errorf("recordings.mtt_records_base: %w", err)
		}
		parts.Fetcher = f
	}
	return parts, nil
}

// RecordingKinds implements registry.Recorded: recordings, no transcripts.
func (s *Settings) RecordingKinds() (recordings, transcripts bool) { return true, false }
