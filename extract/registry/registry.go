// Package registry is how a vendor joins calletl: each extract/<vendor>
// package exports a [Vendor] (its name, its section of etl.yaml under
// sources:, its tables, and one constructor that builds everything it
// contributes), and cmd/etl registers every vendor in one file, one line
// each. Config decoding, validation and wiring in cmd/etl are loops over a
// [Registry]; nothing there names a vendor.
//
// A registry is a value, filled by its owner (restic's backend factories,
// not init() side effects): a test can build one with a fake vendor.
package registry

import (
	"context"
	"fmt"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/pipeline"
	"github.com/calletl/calletl/recordings/fetch"
)

// Vendor is one vendor calletl extracts from.
type Vendor interface {
	// Name is the key of the vendor's section under sources: and the
	// lake's source partition ("mtt").
	Name() string
	// NewConfig returns an empty config for the section, to decode the
	// YAML into: a pointer to a struct with yaml tags.
	NewConfig() Config
	// Tables lists the detail tables the vendor can write, configured or
	// not, so views, DDL and reports cover any lake.
	Tables() []load.TableInfo
	// Build builds what an enabled, validated config contributes. An error
	// stops the command (a secret that cannot be read); a vendor that can
	// report its failure per stream returns a [Failed] source instead.
	Build(ctx context.Context, cfg Config, env Env) (Parts, error)
}

// Config is a vendor's section of etl.yaml. Embed [Common] for enabled:
// and http:.
type Config interface {
	// On reports whether the section is enabled (enabled: absent or true).
	On() bool
	// HTTPSection returns the section's http: settings.
	HTTPSection() *HTTP
	// Validate applies defaults and reports each fault with c.Bad, naming
	// the field from the section ("customers[2]"). It runs only when On.
	Validate(c *Check)
}

// Source is what the CLI needs of every source: its tables and a
// credentials probe for `etl check`. Each is also a pipeline.Source (day
// windows) or a pipeline.ItemSource (items polled until final), and a
// pipeline.Snapshotter when it takes per-run snapshots.
type Source interface {
	Name() string
	Tables() []load.TableInfo
	Ping(ctx context.Context) error
}

// Companion is implemented by a windowed source that also polls items
// (MTT: callback calls beside its call history). ItemSource returns that
// item source, a value of its own (it takes no snapshots, so a run that
// drives both takes them once), or nil when none is configured.
type Companion interface {
	ItemSource() pipeline.ItemSource
}

// Parts is what a vendor contributes to a run.
type Parts struct {
	Source Source
	// Fetcher downloads the source's call recordings; nil when the vendor
	// has none or recordings are off (Env.Recordings).
	Fetcher fetch.Fetcher
}

// Registry holds the vendors calletl knows, in registration order.
type Registry struct {
	vendors []Vendor
	byName  map[string]Vendor
}

// New returns an empty registry.
func New() *Registry { return &Registry{byName: map[string]Vendor{}} }

// Register adds a vendor. Two vendors of one name are a programming error:
// it panics.
func (r *Registry) Register(v Vendor) {
	if _, dup := r.byName[v.Name()]; dup {
		panic(fmt.Sprintf("registry: vendor %q registered twice", v.Name()))
	}
	r.byName[v.Name()] = v
	r.vendors = append(r.vendors, v)
}

// Lookup returns the vendor of a name.
func (r *Registry) Lookup(name string) (Vendor, bool) {
	v, ok := r.byName[name]
	return v, ok
}

// Vendors returns the registered vendors, in registration order.
func (r *Registry) Vendors() []Vendor { return append([]Vendor(nil), r.vendors...) }

// Names returns the vendors' names, in registration order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.vendors))
	for i, v := range r.vendors {
		out[i] = v.Name()
	}
	return out
}

// Tables lists the detail tables of every registered vendor.
func (r *Registry) Tables() []load.TableInfo {
	var out []load.TableInfo
	for _, v := range r.vendors {
		out = append(out, v.Tables()...)
	}
	return out
}

// Define returns a Vendor from its parts, for a config type C whose
// pointer implements Config: build gets the decoded *C, not an interface
// to assert.
func Define[C any, PC interface {
	*C
	Config
}](name string, tables func() []load.TableInfo, build func(ctx context.Context, cfg PC, env Env) (Parts, error)) Vendor {
	return &defined[C, PC]{name: name, tables: tables, build: build}
}

type defined[C any, PC interface {
	*C
	Config
}] struct {
	name   string
	tables func() []load.TableInfo
	build  func(context.Context, PC, Env) (Parts, error)
}

func (d *defined[C, PC]) Name() string             { return d.name }
func (d *defined[C, PC]) NewConfig() Config        { return PC(new(C)) }
func (d *defined[C, PC]) Tables() []load.TableInfo { return d.tables() }
func (d *defined[C, PC]) Build(ctx context.Context, cfg Config, env Env) (Parts, error) {
	c, ok := cfg.(PC)
	if !ok {
		return Parts{}, fmt.Errorf("registry: %s: config is %T, want %T", d.name, cfg, PC(nil))
	}
	return d.build(ctx, c, env)
}

// StateSecrets is implemented by a vendor that writes secrets into a
// local state directory (T2 its token pair): the files' names there, by
// the field of its section that says so, JSON objects whose *_token fields
// are secrets. They are guarded even when the vendor's section is gone,
// since the files stay.
type StateSecrets interface {
	StateSecrets() map[string]string
}

// TokenFiles is implemented by a config that names JSON token files of
// its own (T2's token_file): path by field, relative to the config's
// directory.
type TokenFiles interface {
	TokenFiles() map[string]string
}

// Recorded is implemented by the config of a vendor whose calls have
// recordings that its Build returns a fetcher for when recordings are on
// (and transcripts, when that fetcher also gives them): what `etl state`
// lists in the recordings backlog without building any client.
type Recorded interface {
	RecordingKinds() (recordings, transcripts bool)
}

// Pinned is implemented by the config of a vendor whose every unit of work
// must run on one shard of a sharded run (T2: its token pair is one per
// PBX, and each refresh kills the previous pair). Asked of a zero config
// (NewConfig), so it is a trait of the vendor, configured or not.
type Pinned interface {
	PinnedToOneShard()
}

// ItemKinded is implemented by the config of a vendor whose source is a
// pipeline.ItemSource: the Kind of its items, for the shard of an item in
// `etl state`. Asked of a zero config, like Pinned.
type ItemKinded interface {
	ItemKind() string
}

// Pinned returns the names of the vendors whose work runs on one shard.
func (r *Registry) Pinned() map[string]bool {
	out := map[string]bool{}
	for _, v := range r.vendors {
		if _, ok := v.NewConfig().(Pinned); ok {
			out[v.Name()] = true
		}
	}
	return out
}

// ItemKind returns the item kind of the vendor named source, "" when it
// is unknown or not an item source.
func (r *Registry) ItemKind(source string) string {
	if v, ok := r.byName[source]; ok {
		if k, ok := v.NewConfig().(ItemKinded); ok {
			return k.ItemKind()
		}
	}
	return ""
}
