package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/receive"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// ReceiveConfig is the config's receive section: etl receive, the push
// notification receiver.
type ReceiveConfig struct {
	// Listen is the address the receiver serves (default ":8090").
	Listen string `yaml:"listen"`
	// Spool is where events are stored before they are landed: a
	// directory (fsync before the answer) or s3://bucket/prefix (upload
	// before the answer). Required.
	Spool string `yaml:"spool"`
	// LandingInterval is how often the spool is landed in the lake
	// (default 1m); Retention how long landed event ids are kept for
	// dedupe (default 48h).
	LandingInterval time.Duration `yaml:"landing_interval"`
	Retention       time.Duration `yaml:"retention"`
	// Secret every notification carries in its path or header. Required.
	Secret SecretRef `yaml:"secret"`
	// Endpoints: each a vendor (votbox or mtt) and the lake source its
	// events land under.
	Endpoints []ReceiveEndpoint `yaml:"endpoints"`

	spoolLoc storage.Location
}

// ReceiveEndpoint is one of receive.endpoints.
type ReceiveEndpoint struct {
	Vendor string `yaml:"vendor"`
	Source string `yaml:"source"`
}

// Defaults of the receive section.
const defaultReceiveListen = ":8090"

func (r *ReceiveConfig) validate(bad func(field, format string, args ...any)) {
	if r.Listen == "" {
		r.Listen = defaultReceiveListen
	}
	if r.Spool == "" {
		bad("receive.spool", "required: a directory (events are fsynced there) or s3://bucket/prefix")
	} else if loc, err := storage.ParseURL(r.Spool); err != nil {
		bad("receive.spool", "%v", err)
	} else {
		r.spoolLoc = loc
	}
	if r.LandingInterval == 0 {
		r.LandingInterval = receive.DefaultInterval
	} else if r.LandingInterval < 0 {
		bad("receive.landing_interval", "%s: want a positive duration such as 1m", r.LandingInterval)
	}
	if r.Retention == 0 {
		r.Retention = receive.DefaultRetention
	} else if r.Retention < time.Hour {
		bad("receive.retention", "%s: want at least 1h (vendors retry for a while; ids older than this are forgotten)", r.Retention)
	}
	validateSecret(bad, "receive.secret", r.Secret)
	if len(r.Endpoints) == 0 {
		bad("receive.endpoints", "required: a list of {vendor: votbox|mtt, source: NAME}")
	}
	seen := map[string]bool{}
	for i, e := range r.Endpoints {
		f := fmt.Sprintf("receive.endpoints[%d]", i)
		if e.Vendor != receive.VotBox && e.Vendor != receive.MTT {
			bad(f+".vendor", "%q: want votbox or mtt", e.Vendor)
		}
		if e.Source == "" {
			bad(f+".source", "required: the lake source the events land under (e.g. %s)", e.Vendor)
		}
		if seen[e.Vendor+"/"+e.Source] {
			bad(f, "%s/%s listed twice", e.Vendor, e.Source)
		}
		seen[e.Vendor+"/"+e.Source] = true
	}
}

func (a *app) receiveCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "receive",
		Short: "Receive the vendors' push notifications and land them in the lake",
		Long: `An HTTP service for the vendors' per-call notifications: VotBox's NotifyUrl
events (CALLOUT … ENDCALL with the call's costs) and MTT's call-progress events.
Configure the vendor with http(s)://HOST/v1/<vendor>/<source>/<secret> (the
receive section of the config lists the endpoints and names the secret).

Each event is stored in the spool (fsynced, or uploaded to S3) before the
answer 200, deduplicated by its id, and landed in votbox_events and
mtt_events every landing interval. Bad requests are refused: 400 malformed,
401/403 no or wrong secret, 404 unknown endpoint, 413 too large, 415 not JSON
or a form; 503 when the spool cannot store, so the vendor retries.
GET /healthz answers 200 while the process serves.`,
		Example: `  etl receive
  etl receive --listen 127.0.0.1:8090 --spool ./spool --interval 30s
  etl receive --land-once   # land what the spool holds, then exit`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	listen := fs.String("listen", "", "address to serve (default: receive.listen, else "+defaultReceiveListen+")")
	spool := fs.String("spool", "", "spool directory or s3://bucket/prefix (default: receive.spool)")
	interval := fs.Duration("interval", 0, "landing interval (default: receive.landing_interval, else 1m)")
	once := fs.Bool("land-once", false, "land what the spool holds and exit, without serving")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return a.cmdReceive(ctx, *listen, *spool, *interval, *once)
	})
	push := a.receivePushCommand()
	push.SilenceErrors, push.SilenceUsage = true, true
	c.AddCommand(push)
	return c
}

func (a *app) cmdReceive(ctx context.Context, listen, spoolURL string, interval time.Duration, once bool) error {
	if interval < 0 {
		return &usageError{fmt.Sprintf("--interval %s: want a positive duration", interval)}
	}
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return err
	}
	if cfg.memoryLimit > 0 {
		debug.SetMemoryLimit(cfg.memoryLimit)
	}
	rc := cfg.Receive
	if rc == nil {
		return &FieldError{File: a.configPath, Field: "receive", Msg: "required by etl receive: listen, spool, secret and endpoints (see configs/etl.example.yaml)"}
	}
	if listen == "" {
		listen = rc.Listen
	}
	if interval == 0 {
		interval = rc.LandingInterval
	}
	loc := rc.spoolLoc
	if spoolURL != "" {
		if loc, err = storage.ParseURL(spoolURL); err != nil {
			return &usageError{fmt.Sprintf("--spool %s: %v", spoolURL, err)}
		}
	}
	r, err := a.openReceiver(ctx, cfg, loc)
	if err != nil {
		return err
	}
	defer r.spool.Close()
	sp, lander, h := r.spool, r.lander, r.handler
	if once {
		st, err := lander.LandOnce(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "landed %d units: %d votbox_events, %d mtt_events rows; %d batches deleted, %d manifests expired\n",
			st.Units, st.Rows[receive.VotBoxEvents.Name], st.Rows[receive.MTTEvents.Name], st.Deleted, st.Expired)
		return nil
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return &usageError{fmt.Sprintf("--listen %s: %v", listen, err)}
	}
	// VotBox's document writes bare spaces in the query: repair such
	// request lines rather than let the server refuse them.
	ln = receive.Listener(ln)
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// The server's own log lines never hold a URL; they go to slog.
		ErrorLog:    slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	a.note(slog.LevelInfo, "receiving", fmt.Sprintf("receiving notifications on %s (spool %s, landing every %s into %s)", ln.Addr(), loc, interval, cfg.lakeName()),
		slog.String("addr", ln.Addr().String()), slog.String("spool", loc.String()), slog.Duration("interval", interval))
	lctx, stopLander := context.WithCancel(ctx)
	landed := make(chan struct{})
	go func() { defer close(landed); lander.Run(lctx, interval) }()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-done:
	case <-ctx.Done():
	}
	// Stop taking requests (in-flight ones finish: their events are
	// stored and answered), then land once more and stop.
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		a.log.Warn("receive: shutdown", "err", err)
	}
	sp.Close()
	stopLander()
	<-landed
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("receive: %w", serveErr)
	}
	return nil
}

// receiver is what `etl receive` serves: the spool at loc, its lander
// into the config's lake and the handler over the config's receive
// section. `etl demo` pushes to the same.
type receiver struct {
	spool   *receive.Spool
	lander  *receive.Lander
	handler *receive.Handler
	secret  secret.Value
}

// openReceiver opens the spool at loc and builds the lander and the
// handler of cfg's receive section; the caller closes the spool.
func (a *app) openReceiver(ctx context.Context, cfg *Config, loc storage.Location) (*receiver, error) {
	rc := cfg.Receive
	sec, err := secret.Load(rc.Secret.Env, cfg.path(rc.Secret.File))
	if err != nil {
		return nil, fmt.Errorf("receive.secret: %w", err)
	}
	a.redactor.Add(sec.Reveal())

	var store storage.Store
	if loc.IsS3() {
		if store, err = cfg.openS3(ctx, "receive.spool", loc.Bucket, loc.Prefix, nil); err != nil {
			return nil, err
		}
	} else if store, err = storage.NewLocal(cfg.path(loc.Dir)); err != nil {
		return nil, fmt.Errorf("receive: spool %s: %w", loc.Dir, err)
	}
	lake, err := cfg.openLake(ctx)
	if err != nil {
		return nil, err
	}
	sp, err := receive.OpenSpool(ctx, store, receive.SpoolOptions{Log: a.log})
	if err != nil {
		return nil, err
	}
	lander := receive.NewLander(sp, lake, receive.LanderOptions{Location: cfg.location, Retention: rc.Retention, Log: a.log})
	eps := make([]receive.Endpoint, len(rc.Endpoints))
	for i, e := range rc.Endpoints {
		eps[i] = receive.Endpoint{Vendor: e.Vendor, Source: e.Source}
	}
	h, err := receive.NewHandler(sp, receive.HandlerOptions{Secret: sec, Endpoints: eps, Log: a.log, Lander: lander})
	if err != nil {
		sp.Close()
		return nil, err
	}
	return &receiver{spool: sp, lander: lander, handler: h, secret: sec}, nil
}
