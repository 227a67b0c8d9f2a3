package main

import (
	"github.com/calletl/calletl/extract/mobilgroup"
	"github.com/calletl/calletl/extract/mtt"
	"github.com/calletl/calletl/extract/registry"
	"github.com/calletl/calletl/extract/t2"
	"github.com/calletl/calletl/extract/voicebox"
	"github.com/calletl/calletl/extract/votbox"
)

// vendors returns the registry of every vendor calletl knows: the one
// place that names them. Adding a vendor is one line here; its config
// section, validation, sources, tables, recordings and check probe come
// from its package (see extract/registry).
func vendors() *registry.Registry {
	r := registry.New()
	r.Register(mtt.Vendor())
	r.Register(t2.Vendor())
	r.Register(votbox.Vendor())
	r.Register(voicebox.Vendor())
	r.Register(mobilgroup.Vendor())
	return r
}

// recordsBases returns the recordings API bases set in the recordings
// section, by vendor (registry.Env.RecordsBase).
func recordsBases(r *RecordingsConfig) map[string]string {
	if r == nil {
		return nil
	}
	return map[string]string{mtt.Name: r.MTTRecordsBase}
}

// registry returns the app's vendors (every known vendor for an app built
// without runWith, as some tests do).
func (a *app) registry() *registry.Registry {
	if a.vendors == nil {
		return vendors()
	}
	return a.vendors
}
