package votbox

import (
	"context"

	"github.com/calletl/calletl/extract/registry"
)

// Settings is sources.votbox of etl.yaml (configs/etl.example.yaml
// documents every field).
type Settings struct {
	registry.Common   `yaml:",inline"`
	BaseURL           string             `yaml:"base_url"`
	Username          string             `yaml:"username"`
	Password          registry.SecretRef `yaml:"password"`
	TaskIDs           []string           `yaml:"task_ids"`
	Detail            bool               `yaml:"detail"`
	DetailConcurrency int                `yaml:"detail_concurrency"`
}

// Vendor returns VotBox for the registry.
func Vendor() registry.Vendor { return registry.Define(Name, Tables, build) }

// Validate implements registry.Config.
func (s *Settings) Validate(c *registry.Check) {
	if s.BaseURL == "" {
		s.BaseURL = DefaultBaseURL
	}
	c.URL("base_url", s.BaseURL, "want an http(s) URL of the directory holding the *.api.php scripts")
	if s.Username == "" {
		c.Bad("username", "required: the VotBox user name")
	}
	c.Secret("password", s.Password)
	c.Each("task_ids", s.TaskIDs, ValidTaskID, TaskIDRule)
	c.NoDuplicates("task_ids", s.TaskIDs)
	if s.DetailConcurrency < 0 || s.DetailConcurrency > 32 {
		c.Bad("detail_concurrency", "%d: must be 1..32", s.DetailConcurrency)
	}
	s.HTTP.Validate(c, "http.")
}

// build is VotBox's registry constructor: the source, and with recordings
// on the recordings fetcher on the client's login.
func build(_ context.Context, s *Settings, env registry.Env) (registry.Parts, error) {
	pw, err := env.Secret("password", s.Password)
	if err != nil {
		return registry.Parts{}, err
	}
	client, err := New(Config{
		BaseURL: s.BaseURL, Username: s.Username, Password: pw, TaskIDs: s.TaskIDs,
		Detail: s.Detail, DetailConcurrency: s.DetailConcurrency, HTTP: env.HTTP(Name, s.HTTP),
	}, env.Log)
	if err != nil {
		return registry.Parts{}, err
	}
	parts := registry.Parts{Source: NewSource(client)}
	if env.Recordings {
		if parts.Fetcher, err = client.Recordings(env.HTTP(Name+"-recordings", s.HTTP)); err != nil {
			return registry.Parts{}, err
		}
	}
	return parts, nil
}

// RecordingKinds implements registry.Recorded: recordings, no transcripts.
func (s *Settings) RecordingKinds() (recordings, transcripts bool) { return true, false }

// ItemKind implements registry.ItemKinded.
func (s *Settings) ItemKind() string { return Kind }
