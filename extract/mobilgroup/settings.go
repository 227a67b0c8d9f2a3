package mobilgroup

import (
	"context"

	"github.com/calletl/calletl/extract/registry"
)

// Settings is sources.mobilgroup of etl.yaml (configs/etl.example.yaml
// documents every field).
type Settings struct {
	registry.Common `yaml:",inline"`
	BaseURL         string             `yaml:"base_url"`
	APIKey          registry.SecretRef `yaml:"api_key"`
	Account         string             `yaml:"account"`
	BroadcastIDs    []string           `yaml:"broadcast_ids"`
	IDsFile         string             `yaml:"broadcast_ids_file"`
}

// Vendor returns Mobilgroup for the registry.
func Vendor() registry.Vendor { return registry.Define(Name, Tables, build) }

// Validate implements registry.Config.
func (s *Settings) Validate(c *registry.Check) {
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	c.URL("base_url", s.BaseURL, "want an http(s) URL; requests go to base_url + /api/get/")
	c.Secret("api_key", s.APIKey)
	c.Each("broadcast_ids", s.BroadcastIDs, ValidKey, "want the broadcast id /api/send/ returned (letters, digits, . _ -)")
	c.NoDuplicates("broadcast_ids", s.BroadcastIDs)
	if len(s.BroadcastIDs) == 0 && s.IDsFile == "" {
		c.Bad("broadcast_ids", "Mobilgroup has no endpoint that lists broadcasts: give broadcast_ids, broadcast_ids_file (one id per line, appended by whoever sends broadcasts), or both")
	}
	s.HTTP.Validate(c, "http.")
}

// build is Mobilgroup's registry constructor (it has no recordings).
func build(_ context.Context, s *Settings, env registry.Env) (registry.Parts, error) {
	key, err := env.Secret("api_key", s.APIKey)
	if err != nil {
		return registry.Parts{}, err
	}
	client, err := New(Config{
		BaseURL: s.BaseURL, APIKey: key, Account: s.Account, BroadcastIDs: s.BroadcastIDs,
		IDsFile: env.Path(s.IDsFile), HTTP: env.HTTP(Name, s.HTTP),
	}, env.Log)
	if err != nil {
		return registry.Parts{}, err
	}
	return registry.Parts{Source: NewSource(client)}, nil
}

// ItemKind implements registry.ItemKinded.
func (s *Settings) ItemKind() string { return Kind }
