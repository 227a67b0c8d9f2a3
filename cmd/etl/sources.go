package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/mobilgroup"
	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// source is what the CLI needs of a configured source: its tables and a
// credentials check. Each is also a pipeline.Source (day windows) or a
// pipeline.ItemSource (items polled until final).
type source interface {
	Name() string
	Tables() []load.TableInfo
	Ping(ctx context.Context) error
}

// split sorts sources into the pipeline's two kinds.
func split(srcs []source) (windowed []pipeline.Source, items []pipeline.ItemSource) {
	for _, s := range srcs {
		switch s := s.(type) {
		case pipeline.Source:
			windowed = append(windowed, s)
		case pipeline.ItemSource:
			items = append(items, s)
		}
	}
	return windowed, items
}

// buildSources turns the config into sources: the explicit registry of
// every vendor calletl knows. Secrets are loaded here and registered with
// the redactor before any request is made.
// When recordings are on, each source that has them also gets a
// recordings fetcher, built from the same credentials.
// t2TokenObject is the key of the T2 token pair in a state on S3.
const t2TokenObject = "t2-tokens.json"

func buildSources(c *Config, stateStore storage.Store, red *secret.Redactor, log *slog.Logger) ([]source, []recordings.Fetcher, error) {
	var out []source
	var fetchers []recordings.Fetcher
	budget := httpx.NewBudget(c.bodyBudget) // one for the whole run: every source's bodies count against it
	for _, h := range c.httpSections() {
		h.budget = budget
	}
	rec := c.Recordings.on()
	if m := c.Sources.MTT; m != nil && (m.Enabled == nil || *m.Enabled) {
		pw, err := secret.Load(m.Password.Env, c.path(m.Password.File))
		if err != nil {
			return nil, nil, fmt.Errorf("sources.mtt.password: %w", err)
		}
		red.Add(pw.Reveal())
		client, err := mtt.New(mtt.Config{
			BaseURL: m.BaseURL, Username: m.Username, Password: pw,
			Customers: m.Customers, Types: m.Types, PageSize: m.PageSize, Vendor: m.vendor,
			HTTP: httpConfig("mtt", m.HTTP, red),
		}, log) // httpx adds source=mtt to its lines
		if err != nil {
			return nil, nil, err
		}
		out = append(out, mtt.NewSource(client))
		if rec {
			f, err := recordings.NewMTT(recordings.MTTConfig{RecordsBase: c.Recordings.MTTRecordsBase,
				Username: m.Username, Password: pw, HTTP: httpConfig("mtt-recordings", m.HTTP, red)})
			if err != nil {
				return nil, nil, fmt.Errorf("recordings.mtt_records_base: %w", err)
			}
			fetchers = append(fetchers, f)
		}
	}
	if t := c.Sources.T2; t.on() {
		// Once the token file exists it owns the pair (the configured one
		// died at the first refresh), so the configured secrets are only
		// required before that.
		tc := t2.Config{BaseURL: t.BaseURL, TokenFile: c.path(t.TokenFile),
			PageSize: t.PageSize, MCNNumbers: t.MCNNumbers, HTTP: httpConfig("t2", t.HTTP, red)}
		var statErr error
		if t.TokenFile == "" && stateStore != nil {
			// The state is on S3: the pair is an object beside state.json.
			tc.TokenFile, tc.TokenStore, tc.TokenName = t2TokenObject, stateStore, c.stateLoc.String()+"/"+t2TokenObject
			_, statErr = stateStore.Stat(context.Background(), t2TokenObject)
		} else {
			_, statErr = os.Stat(tc.TokenFile)
		}
		haveFile := statErr == nil
		access, err := secret.Load(t.AccessToken.Env, c.path(t.AccessToken.File))
		if err != nil && !haveFile {
			return nil, nil, fmt.Errorf("sources.t2.access_token: %w", err)
		}
		refresh, err := secret.Load(t.RefreshToken.Env, c.path(t.RefreshToken.File))
		if err != nil && !haveFile {
			return nil, nil, fmt.Errorf("sources.t2.refresh_token: %w", err)
		}
		red.Add(access.Reveal(), refresh.Reveal())
		tc.Access, tc.Refresh = access, refresh
		client, err := t2.New(tc, log)
		if err != nil {
			// The config was checked above, so what fails here is the
			// token file (corrupt, without a token, unreadable): T2
			// cannot run, the other vendors can.
			log.Error("source t2 cannot start; its streams are recorded failed and the other sources run", "err", err)
			out = append(out, &failedSource{name: t2.Name, tables: t2.Tables(), err: err, streams: []model.StreamKey{
				{Source: t2.Name, Stream: t2.StreamCallRecords, Account: t2.Account},
				{Source: t2.Name, Stream: t2.StreamMissed, Account: t2.Account},
				{Source: t2.Name, Stream: t2.StreamDailyStats, Account: t2.Account},
			}})
		} else {
			out = append(out, t2.NewSource(client))
		}
		if rec && client != nil {
			f, err := recordings.NewT2(recordings.T2Config{BaseURL: t.BaseURL, Transport: client.Transport(),
				HTTP: httpConfig("t2-recordings", t.HTTP, red)})
			if err != nil {
				return nil, nil, err
			}
			fetchers = append(fetchers, f)
		}
	}
	if v := c.Sources.VotBox; v.on() {
		pw, err := secret.Load(v.Password.Env, c.path(v.Password.File))
		if err != nil {
			return nil, nil, fmt.Errorf("sources.votbox.password: %w", err)
		}
		red.Add(pw.Reveal())
		client, err := votbox.New(votbox.Config{
			BaseURL: v.BaseURL, Username: v.Username, Password: pw, TaskIDs: v.TaskIDs,
			Detail: v.Detail, DetailConcurrency: v.DetailConcurrency, HTTP: httpConfig("votbox", v.HTTP, red),
		}, log)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, votbox.NewSource(client))
		if rec {
			f, err := recordings.NewVotBox(recordings.VotBoxConfig{BaseURL: v.BaseURL, Username: v.Username,
				Password: pw, HTTP: httpConfig("votbox-recordings", v.HTTP, red)})
			if err != nil {
				return nil, nil, err
			}
			fetchers = append(fetchers, f)
		}
	}
	if v := c.Sources.VoiceBox; v.on() {
		secretKey, err := secret.Load(v.ClientSecret.Env, c.path(v.ClientSecret.File))
		if err != nil {
			return nil, nil, fmt.Errorf("sources.voicebox.client_secret: %w", err)
		}
		pw, err := secret.Load(v.Password.Env, c.path(v.Password.File))
		if err != nil {
			return nil, nil, fmt.Errorf("sources.voicebox.password: %w", err)
		}
		red.Add(secretKey.Reveal(), pw.Reveal())
		client, err := voicebox.New(voicebox.Config{
			BaseURL: v.BaseURL, TokenURL: v.TokenURL, ClientID: v.ClientID, ClientSecret: secretKey,
			Username: v.Username, Password: pw, Customers: v.Customers, PageSize: v.PageSize,
			HTTP: httpConfig("voicebox", v.HTTP, red),
		}, log)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, voicebox.NewSource(client))
	}
	if m := c.Sources.Mobilgroup; m.on() {
		key, err := secret.Load(m.APIKey.Env, c.path(m.APIKey.File))
		if err != nil {
			return nil, nil, fmt.Errorf("sources.mobilgroup.api_key: %w", err)
		}
		red.Add(key.Reveal())
		client, err := mobilgroup.New(mobilgroup.Config{
			BaseURL: m.BaseURL, APIKey: key, Account: m.Account, BroadcastIDs: m.BroadcastIDs,
			IDsFile: c.path(m.IDsFile), HTTP: httpConfig("mobilgroup", m.HTTP, red),
		}, log)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, mobilgroup.NewSource(client))
	}
	return out, fetchers, nil
}

// failedSource stands in for a configured source that cannot start (T2
// with a corrupt token file): each of its streams fails its first window
// with err, so the run records them failed and exits 1 while every other
// source runs, and `etl check` reports err.
type failedSource struct {
	name    string
	tables  []load.TableInfo
	streams []model.StreamKey
	err     error
}

var _ pipeline.Source = (*failedSource)(nil)

func (f *failedSource) Name() string               { return f.name }
func (f *failedSource) Tables() []load.TableInfo   { return f.tables }
func (f *failedSource) Ping(context.Context) error { return f.err }
func (f *failedSource) Concurrency() int           { return 1 }
func (f *failedSource) Streams() []model.StreamKey { return f.streams }
func (f *failedSource) Extract(context.Context, model.StreamKey, model.Window, *load.Tx, model.Run) (model.Counts, error) {
	return model.Counts{}, f.err
}

func httpConfig(name string, h HTTPConfig, red *secret.Redactor) httpx.Config {
	return httpx.Config{
		Budget: h.budget,
		Name:   name, Concurrency: h.Concurrency, RatePerSec: h.RatePerSec, MaxAttempts: h.MaxAttempts,
		BaseBackoff: h.BaseBackoff, MaxBackoff: h.MaxBackoff,
		MaxRetryAfter: h.MaxRetryAfter, MaxBodyBytes: h.MaxBodyBytes,
		ResponseHeaderTimeout: h.ResponseHeaderTimeout, AttemptTimeout: h.AttemptTimeout,
		IdleTimeout: h.IdleTimeout, Redactor: red,
	}
}

// lakeTables lists every table the lake can hold: the canonical ones and
// each configured source's detail tables.
func lakeTables(sources []source) []load.TableInfo {
	tables := load.CanonicalTables()
	for _, s := range sources {
		tables = append(tables, s.Tables()...)
	}
	return tables
}

// allTables lists every table calletl knows, configured or not, so views
// and reports work on any lake.
func allTables() []load.TableInfo {
	tables := append(load.CanonicalTables(), mtt.Tables()...)
	tables = append(tables, t2.Tables()...)
	tables = append(tables, votbox.Tables()...)
	tables = append(tables, voicebox.Tables()...)
	tables = append(tables, mobilgroup.Tables()...)
	return append(tables, recordings.Tables()...)
}
