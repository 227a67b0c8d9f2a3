package t2

import (
	"context"
	"os"
	"path/filepath"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/transform"
)

// TokenObject is the name of the token pair beside the state: the file
// STATE/t2-tokens.json of a local state (token_file's default), the object
// of a state on S3.
const TokenObject = "t2-tokens.json"

// Settings is sources.t2 of etl.yaml (configs/etl.example.yaml documents
// every field).
type Settings struct {
	registry.Common `yaml:",inline"`
	BaseURL         string             `yaml:"base_url"`
	AccessToken     registry.SecretRef `yaml:"access_token"`
	RefreshToken    registry.SecretRef `yaml:"refresh_token"`
	TokenFile       string             `yaml:"token_file"`
	PageSize        int                `yaml:"page_size"`
	MCNNumbers      []string           `yaml:"mcn_numbers"`
	// PerNumberStats turns the streams journal and employee_stats on
	// (default): one request per employee number and day each.
	PerNumberStats *bool `yaml:"per_number_stats"`
	// StatsNumbers restricts them to these employee numbers (7XXXXXXXXXX);
	// empty: every employee's.
	StatsNumbers []string `yaml:"stats_numbers"`
}

// Vendor returns T2 for the registry.
func Vendor() registry.Vendor { return vendor{registry.Define(Name, Tables, build)} }

type vendor struct{ registry.Vendor }

// StateSecrets implements registry.StateSecrets: the token pair's file
// beside a local state.
func (vendor) StateSecrets() map[string]string { return map[string]string{"token_file": TokenObject} }

// Validate implements registry.Config. token_file defaults to
// STATE/t2-tokens.json with a local state; with the state on S3 the pair
// is an object beside state.json and token_file, when set, a local file.
func (s *Settings) Validate(c *registry.Check) {
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	c.URL("base_url", s.BaseURL, "want an http(s) URL ending in /crm/openapi")
	c.Secret("access_token", s.AccessToken)
	c.Secret("refresh_token", s.RefreshToken)
	if s.TokenFile == "" && c.StateDir != "" {
		s.TokenFile = filepath.Join(c.StateDir, TokenObject)
	}
	if s.PageSize == 0 {
		s.PageSize = DefaultPageSize
	}
	if s.PageSize < 1 || s.PageSize > MaxPageSize {
		c.Bad("page_size", "%d: must be 1..%d", s.PageSize, MaxPageSize)
	}
	c.NoDuplicates("mcn_numbers", s.MCNNumbers)
	if s.PerNumberStats == nil {
		on := true
		s.PerNumberStats = &on
	}
	c.NoDuplicates("stats_numbers", s.StatsNumbers)
	c.Each("stats_numbers", s.StatsNumbers, func(n string) bool { return transform.Phone(n) == n && fullNumber(n) },
		"want an employee's full number as 7XXXXXXXXXX")
	s.HTTP.Validate(c, "http.")
}

// TokenFiles implements registry.TokenFiles: token_file holds the live
// pair.
func (s *Settings) TokenFiles() map[string]string {
	if s.TokenFile == "" {
		return nil
	}
	return map[string]string{"token_file": s.TokenFile}
}

// build is T2's registry constructor: the source on the token pair, and
// with recordings on the recordings fetcher on its token transport.
func build(ctx context.Context, s *Settings, env registry.Env) (registry.Parts, error) {
	c := Config{BaseURL: s.BaseURL, TokenFile: env.Path(s.TokenFile), PageSize: s.PageSize,
		MCNNumbers: s.MCNNumbers, HTTP: env.HTTP(Name, s.HTTP), Now: env.Now,
		PerNumberStats: s.PerNumberStats == nil || *s.PerNumberStats, StatsNumbers: s.StatsNumbers}
	var statErr error
	if s.TokenFile == "" && env.State != nil {
		// The state is on S3: the pair is an object beside state.json.
		c.TokenFile, c.TokenStore, c.TokenName = TokenObject, env.State, env.StateName+"/"+TokenObject
		_, statErr = env.State.Stat(ctx, TokenObject)
	} else {
		_, statErr = os.Stat(c.TokenFile)
	}
	// Once the token file exists it owns the pair (the configured one died
	// at the first refresh), so the configured secrets are only required
	// before that.
	haveFile := statErr == nil
	access, err := env.Secret("access_token", s.AccessToken)
	if err != nil && !haveFile {
		return registry.Parts{}, err
	}
	refresh, err := env.Secret("refresh_token", s.RefreshToken)
	if err != nil && !haveFile {
		return registry.Parts{}, err
	}
	c.Access, c.Refresh = access, refresh
	client, err := New(c, env.Log)
	if err != nil {
		// The config was checked, so what fails here is the token file
		// (corrupt, without a token, unreadable): T2 cannot run, the
		// other vendors can.
		env.Log.Error("source t2 cannot start; its streams are recorded failed and the other sources run", "err", err)
		return registry.Parts{Source: &registry.Failed{Source: Name, TableList: Tables(), Err: err, StreamSet: streams(c.PerNumberStats)}}, nil
	}
	parts := registry.Parts{Source: NewSource(client)}
	if env.Recordings {
		if parts.Fetcher, err = client.Recordings(env.HTTP(Name+"-recordings", s.HTTP)); err != nil {
			return registry.Parts{}, err
		}
	}
	return parts, nil
}

// RecordingKinds implements registry.Recorded: recordings and transcripts.
func (s *Settings) RecordingKinds() (recordings, transcripts bool) { return true, true }

// PinnedToOneShard implements registry.Pinned: the token pair is one per
// PBX, and only the process that holds it may refresh it (each refresh
// kills the previous pair), so every unit of T2's work is on one shard.
func (s *Settings) PinnedToOneShard() {}
