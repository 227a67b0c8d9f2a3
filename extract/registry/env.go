package registry

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// Env is what every vendor's Build shares: one value for the run, the
// same for every vendor but Section.
type Env struct {
	// Section is the vendor's section, "sources.<name>": errors name
	// fields from it (set by the caller of Build for each vendor).
	Section  string
	Log      *slog.Logger
	Redactor *secret.Redactor // every secret loaded is added to it before any request
	Budget   *httpx.Budget    // the run's one bound on response bodies held, shared by every source
	// State is the store of a state on S3 (a vendor keeps its own objects
	// beside state.json there, as T2 its token pair); nil with a local
	// state. StateName names the state in messages (its s3:// URL).
	State     storage.Store
	StateName string
	// Recordings is true when recordings are on: Build returns a fetcher.
	Recordings bool
	// RecordsBase is, by vendor name, a recordings API base configured in
	// the recordings section (recordings.mtt_records_base); "" for the
	// vendor's default.
	RecordsBase map[string]string
	// Dir is the config file's directory: relative paths start there.
	Dir string
	// Now is the clock (token expiry); time.Now when nil.
	Now func() time.Time
}

// Path resolves a path from the config against the config's directory.
func (e Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Secret loads a secret (the field named from the section, "password")
// and adds it to the redactor. The error names the field.
func (e Env) Secret(field string, ref SecretRef) (secret.Value, error) {
	v, err := secret.Load(ref.Env, e.Path(ref.File))
	if err != nil {
		return secret.Value{}, fmt.Errorf("%s.%s: %w", e.Section, field, err)
	}
	if e.Redactor != nil {
		e.Redactor.Add(v.Reveal())
	}
	return v, nil
}

// HTTP returns the client config of a section's http: settings, named
// name in logs and errors ("mtt", "mtt-recordings"), with the run's body
// budget, redactor and logger.
func (e Env) HTTP(name string, h HTTP) httpx.Config {
	c := httpConfig(h)
	c.Name, c.Budget, c.Redactor = name, e.Budget, e.Redactor
	return c
}

// Clock returns Now, or time.Now when unset.
func (e Env) Clock() func() time.Time {
	if e.Now == nil {
		return time.Now
	}
	return e.Now
}

// Failed stands in for a configured source that cannot start (T2 with a
// corrupt token file): each of its streams fails its first window with
// Err, so the run records them failed and exits 1 while every other
// source runs, and `etl check` reports Err.
type Failed struct {
	Source    string
	TableList []load.TableInfo
	StreamSet []model.StreamKey
	Err       error
}

var _ pipeline.Source = (*Failed)(nil)

func (f *Failed) Name() string               { return f.Source }
func (f *Failed) Tables() []load.TableInfo   { return f.TableList }
func (f *Failed) Ping(context.Context) error { return f.Err }
func (f *Failed) Concurrency() int           { return 1 }
func (f *Failed) Streams() []model.StreamKey { return f.StreamSet }
func (f *Failed) Extract(context.Context, model.StreamKey, model.Window, *pipeline.Sink) (int64, error) {
	return 0, f.Err
}
