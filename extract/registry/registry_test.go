package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/load"
)

type settings struct {
	registry.Common `yaml:",inline"`
	IDs             []string `yaml:"ids"`
}

func (s *settings) Validate(c *registry.Check) {
	c.Each("ids", s.IDs, func(id string) bool { return id != "" }, "want an id")
	c.NoDuplicates("ids", s.IDs)
	s.HTTP.Validate(c, "http.")
}

type other struct{ settings }

func vendor(name string) registry.Vendor {
	return registry.Define(name, func() []load.TableInfo { return nil },
		func(context.Context, *settings, registry.Env) (registry.Parts, error) { return registry.Parts{}, nil })
}

// A fault names its field from the section, in full; duplicates name the
// earlier entry.
func TestCheckNamesFields(t *testing.T) {
	s := &settings{IDs: []string{"a", "", "a"}}
	s.HTTP.Concurrency = 99
	c := registry.NewCheck("sources.x", "")
	s.Validate(c)
	var fields []string
	for _, f := range c.Faults() {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, " "); got != "sources.x.ids[1] sources.x.ids[2] sources.x.http.concurrency" {
		t.Errorf("faults name %s", got)
	}
	var fe *registry.FieldError
	if err := c.Err(); !errors.As(err, &fe) || !strings.Contains(err.Error(), `sources.x.ids[2]: "a" is listed twice (also ids[0])`) {
		t.Errorf("Err: %v", err)
	}
}

// Registration keeps its order; a name registered twice is a programming
// error; Build refuses a config of another vendor's type.
func TestRegistry(t *testing.T) {
	r := registry.New()
	r.Register(vendor("b"))
	r.Register(vendor("a"))
	if got := strings.Join(r.Names(), ","); got != "b,a" {
		t.Errorf("names %s, want b,a", got)
	}
	v, ok := r.Lookup("a")
	if !ok || v.Name() != "a" {
		t.Fatalf("Lookup(a) = %v, %v", v, ok)
	}
	if _, ok := v.NewConfig().(*settings); !ok {
		t.Errorf("NewConfig is %T, want *settings", v.NewConfig())
	}
	if _, err := v.Build(t.Context(), &other{}, registry.Env{}); err == nil {
		t.Error("Build took another vendor's config")
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice did not panic")
		}
	}()
	r.Register(vendor("a"))
}
