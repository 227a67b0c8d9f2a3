package main

import (
	"context"
	"log/slog"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// source is what the CLI needs of a configured source: its tables and a
// credentials check. Each is also a pipeline.Source (day windows) or a
// pipeline.ItemSource (items polled until final).
type source = registry.Source

// split sorts sources into the pipeline's two kinds.
func split(srcs []source) (windowed []pipeline.Source, items []pipeline.ItemSource) {
	for _, s := range srcs {
		switch s := s.(type) {
		case pipeline.Source:
			windowed = append(windowed, s)
			if c, ok := s.(registry.Companion); ok {
				if is := c.ItemSource(); is != nil {
					items = append(items, is)
				}
			}
		case pipeline.ItemSource:
			items = append(items, s)
		}
	}
	return windowed, items
}

// buildSources builds every enabled section's vendor: its source and,
// when recordings are on, its recordings fetcher. Each vendor loads its
// secrets through the env, which registers them with the redactor before
// any request is made.
func buildSources(c *Config, stateStore storage.Store, red *secret.Redactor, log *slog.Logger) ([]source, []recordings.Fetcher, error) {
	env := c.vendorEnv(stateStore, red, log)
	var out []source
	var fetchers []recordings.Fetcher
	for _, sec := range c.Sources.enabled() {
		env.Section = "sources." + sec.vendor.Name()
		parts, err := sec.vendor.Build(context.Background(), sec.cfg, env)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, parts.Source)
		if parts.Fetcher != nil {
			fetchers = append(fetchers, parts.Fetcher)
		}
	}
	return out, fetchers, nil
}

// vendorEnv returns what every vendor's Build shares: one body budget for
// the whole run (every source's bodies count against it), the redactor,
// the state's store (nil when local), recordings on or off.
func (c *Config) vendorEnv(stateStore storage.Store, red *secret.Redactor, log *slog.Logger) registry.Env {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return registry.Env{
		Log: log, Redactor: red, Budget: httpx.NewBudget(c.bodyBudget),
		State: stateStore, StateName: c.stateLoc.String(),
		Recordings: c.Recordings.on(), RecordsBase: recordsBases(c.Recordings),
		Dir: c.dir,
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
func allTables(reg *registry.Registry) []load.TableInfo {
	tables := append(load.CanonicalTables(), reg.Tables()...)
	tables = append(tables, receive.Tables()...)
	return append(tables, recordings.Tables()...)
}
