package main

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/calletl/calletl/extract/registry"
)

// SourcesConfig is the sources section: one section per vendor of the
// registry, keyed by its name, decoded into the vendor's own config type;
// a missing section is off.
type SourcesConfig struct {
	vendors  *registry.Registry
	sections []sourceSection // in the file's order
}

type sourceSection struct {
	vendor registry.Vendor
	cfg    registry.Config
}

// Get returns the config of a vendor's section, nil when there is none.
func (s *SourcesConfig) Get(name string) registry.Config {
	for _, sec := range s.sections {
		if sec.vendor.Name() == name {
			return sec.cfg
		}
	}
	return nil
}

// UnmarshalYAML decodes each section into its vendor's config. The
// config walk (configdecode.go) has already checked every key and value
// against the vendor's config type, with the line of each mistake, as
// strictly as the library's KnownFields, which a nested Node.Decode
// cannot apply.
func (s *SourcesConfig) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("sources: want a mapping of vendor sections, line %d", n.Line)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "<<" && k.Tag == "!!merge" { // a YAML merge key: its mappings' sections join this one
			for _, m := range append([]*yaml.Node{v}, v.Content...) {
				if m.Kind == yaml.MappingNode || m.Kind == yaml.AliasNode {
					if err := s.UnmarshalYAML(m); err != nil {
						return err
					}
				}
			}
			continue
		}
		vendor, ok := s.vendors.Lookup(k.Value)
		if !ok {
			return fmt.Errorf("sources.%s: unknown vendor, line %d", k.Value, k.Line)
		}
		if v.Tag == "!!null" {
			continue // a section without settings is off, as before
		}
		cfg := vendor.NewConfig()
		if err := v.Decode(cfg); err != nil {
			return fmt.Errorf("sources.%s: %w", k.Value, err)
		}
		s.sections = append(s.sections, sourceSection{vendor: vendor, cfg: cfg})
	}
	return nil
}

// validate defaults and checks each enabled section and returns how many
// are enabled; stateDir is the local state directory ("" on S3).
func (s *SourcesConfig) validate(stateDir string, bad func(field, format string, args ...any)) (enabled int) {
	for _, sec := range s.sections {
		if !sec.cfg.On() {
			continue
		}
		enabled++
		chk := registry.NewCheck("sources."+sec.vendor.Name(), stateDir)
		sec.cfg.Validate(chk)
		for _, f := range chk.Faults() {
			bad(f.Field, "%s", f.Msg)
		}
	}
	return enabled
}

// enabled returns the enabled sections.
func (s *SourcesConfig) enabled() []sourceSection {
	var out []sourceSection
	for _, sec := range s.sections {
		if sec.cfg.On() {
			out = append(out, sec)
		}
	}
	return out
}

// choices names every section a config can have: "sources.mtt, … or
// sources.mobilgroup".
func (s *SourcesConfig) choices() string {
	names := s.vendors.Names()
	for i, n := range names {
		names[i] = "sources." + n
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
