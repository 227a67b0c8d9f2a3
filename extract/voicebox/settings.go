package voicebox

import (
	"context"

	"github.com/calletl/calletl/extract/registry"
)

// Settings is sources.voicebox of etl.yaml (configs/etl.example.yaml
// documents every field).
type Settings struct {
	registry.Common `yaml:",inline"`
	BaseURL         string             `yaml:"base_url"`
	TokenURL        string             `yaml:"token_url"`
	ClientID        string             `yaml:"client_id"`
	ClientSecret    registry.SecretRef `yaml:"client_secret"`
	Username        string             `yaml:"username"`
	Password        registry.SecretRef `yaml:"password"`
	Customers       []string           `yaml:"customers"`
	PageSize        int                `yaml:"page_size"`
}

// Vendor returns VoiceBox for the registry.
func Vendor() registry.Vendor { return registry.Define(Name, Tables, build) }

// Validate implements registry.Config.
func (s *Settings) Validate(c *registry.Check) {
	c.URL("base_url", s.BaseURL, "want the http(s) URL of the VoiceBox API (the part before /customers/…); the vendor's document names no host, so it is required")
	if s.TokenURL != "" {
		c.URL("token_url", s.TokenURL, "want the http(s) URL of the OAuth 2.0 token endpoint (default base_url + /oauth/token)")
	}
	if s.ClientID == "" {
		c.Bad("client_id", "required: the OAuth 2.0 client id MTT issued for VoiceBox")
	}
	c.Secret("client_secret", s.ClientSecret)
	if s.Username == "" {
		c.Bad("username", "required: the VoiceBox user for the OAuth 2.0 password flow")
	}
	c.Secret("password", s.Password)
	if len(s.Customers) == 0 {
		c.Bad("customers", "required: at least one customer id (the {customer_id} of /customers/{customer_id}/callhistory)")
	}
	c.Each("customers", s.Customers, ValidCustomer, "want a numeric customer id (1 to 18 digits)")
	c.NoDuplicates("customers", s.Customers)
	if s.PageSize < 0 || s.PageSize > MaxPageSize {
		c.Bad("page_size", "%d: must be 1..%d (rows per Range page; default %d)", s.PageSize, MaxPageSize, DefaultPageSize)
	}
	s.HTTP.Validate(c, "http.")
}

// build is VoiceBox's registry constructor (it has no recordings).
func build(_ context.Context, s *Settings, env registry.Env) (registry.Parts, error) {
	clientSecret, err := env.Secret("client_secret", s.ClientSecret)
	if err != nil {
		return registry.Parts{}, err
	}
	pw, err := env.Secret("password", s.Password)
	if err != nil {
		return registry.Parts{}, err
	}
	client, err := New(Config{
		BaseURL: s.BaseURL, TokenURL: s.TokenURL, ClientID: s.ClientID, ClientSecret: clientSecret,
		Username: s.Username, Password: pw, Customers: s.Customers, PageSize: s.PageSize,
		HTTP: env.HTTP(Name, s.HTTP),
	}, env.Log)
	if err != nil {
		return registry.Parts{}, err
	}
	return registry.Parts{Source: NewSource(client)}, nil
}
