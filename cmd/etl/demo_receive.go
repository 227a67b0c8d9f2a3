package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/sandbox"
)

// demoANI is the caller id of the demo's VotBox autocalls (CALLOUT's ANI).
const demoANI = "74951234567"

// demoReceive runs the receiver of the demo config's receive section
// in-process on loopback (the spool in the demo directory, the code of
// etl receive), pushes it the vendors' documented example events and the
// notifications of the demo's VotBox items as they stand, and lands the
// spool once. The events and so their ids are the same on every run of the
// same day: a second demo's are acknowledged as duplicates and the lake
// does not change.
func (a *app) demoReceive(ctx context.Context, cfg *Config, tasks []sandbox.VotBoxTask) error {
	r, err := a.openReceiver(ctx, cfg, cfg.Receive.spoolLoc)
	if err != nil {
		return err
	}
	defer r.spool.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: receiver: %w", err)
	}
	srv := &http.Server{Handler: r.handler, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(receive.Listener(ln)) }()
	pushErr := a.demoPush(ctx, cfg, "http://"+ln.Addr().String(), r.secret.Reveal(), tasks)
	if err := srv.Shutdown(ctx); err != nil && pushErr == nil {
		pushErr = fmt.Errorf("demo: receiver shutdown: %w", err)
	}
	<-served
	if pushErr != nil {
		return pushErr
	}
	st, err := r.lander.LandOnce(ctx)
	if err != nil {
		return err
	}
	a.log.Info("demo: notifications landed", "units", st.Units, "rows", st.Rows)
	return nil
}

// demoPush sends every endpoint of the receive section its vendor's
// events: VotBox the document's examples and the demo items' events, MTT
// the document's examples.
func (a *app) demoPush(ctx context.Context, cfg *Config, base, sec string, tasks []sandbox.VotBoxTask) error {
	for _, ep := range cfg.Receive.Endpoints {
		evs := slices.Clone(sandbox.MTTEventExamples)
		if ep.Vendor == receive.VotBox {
			evs = append(slices.Clone(sandbox.VotBoxNotifyExamples), sandbox.VotBoxItemEvents(tasks, demoANI)...)
		}
		u := base + "/v1/" + ep.Vendor + "/" + url.PathEscape(ep.Source) + "/" + url.PathEscape(sec)
		res := sandbox.NewPusher(sandbox.PushConfig{URL: u, Vendor: ep.Vendor, Concurrency: 4, MaxAttempts: 5, Backoff: 100 * time.Millisecond}).Push(ctx, evs, nil)
		acked := 0
		for _, ok := range res.Acked {
			if ok {
				acked++
			}
		}
		a.log.Info("demo: notifications pushed", "vendor", ep.Vendor, "source", ep.Source, "events", len(evs), "acknowledged", acked, "status", fmt.Sprint(res.Status))
		if acked != len(evs) {
			return fmt.Errorf("demo: %s receiver acknowledged %d of %d events (answers by status %v): see the log above for why", ep.Vendor, acked, len(evs), res.Status)
		}
	}
	return nil
}
