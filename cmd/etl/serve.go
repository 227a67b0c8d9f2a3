package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/calletl/calletl/report"
)

func (a *app) serveCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve a read-only report page on loopback",
		Long: `A read-only web page over the lake: the report catalogue, each report's
parameters, its chart and table, and CSV, XLSX and Parquet downloads. Reports run
as with etl report, in the same DuckDB sandbox. The page has no login: it listens
on loopback unless --addr says otherwise.`,
		Example: `  etl serve                      # then open http://127.0.0.1:8080/
  etl serve --addr 127.0.0.1:9000
  etl serve --queries ./queries  # serve your own reports`,
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
	}
	fs := c.Flags()
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on; loopback by default (the page has no login: expose it only behind one)")
	qdir := fs.String("queries", "", "read reports from this directory instead of the built-in queries/")
	timeout := fs.Duration("timeout", defaultQueryTimeout, "cancel one report's query after this long (0: no limit)")
	_ = c.MarkFlagDirname("queries")
	c.RunE = a.runs(func(ctx context.Context, _ *cobra.Command, _ []string) error {
		return a.cmdServe(ctx, addr, qdir, timeout)
	})
	return c
}

// cmdServe serves the read-only report page (report.Server) until
// interrupted.
func (a *app) cmdServe(ctx context.Context, addr, qdir *string, timeout *time.Duration) error {
	if *timeout < 0 {
		return &usageError{fmt.Sprintf("--timeout %s: want a duration ≥ 0 (0: no limit)", *timeout)}
	}
	if _, err := report.Catalogue(queryFS(*qdir)); err != nil {
		return &usageError{err.Error()}
	}
	cfg, err := readConfig(a.registry(), a.configPath)
	if err != nil {
		return err
	}
	lake, err := a.sqlLake(ctx, cfg)
	if err != nil {
		return err
	}
	// Parquet downloads are written by DuckDB to one private file (part of
	// the sandbox, named before the engine opens), one at a time.
	tmp, err := os.MkdirTemp("", "calletl-serve-")
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer os.RemoveAll(tmp)
	pq := filepath.Join(tmp, "download.parquet")
	eng, err := report.Open(ctx, report.Options{Lake: lake, TimeZone: cfg.Timezone, Tables: allTables(cfg.Sources.vendors), Output: pq})
	if err != nil {
		return err
	}
	defer eng.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return &usageError{fmt.Sprintf("--addr %s: %v", *addr, err)}
	}
	if host, _, err := net.SplitHostPort(ln.Addr().String()); err == nil {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			a.log.Warn("serve: listening beyond loopback; the page has no login, anyone who reaches it can read every report", "addr", ln.Addr().String())
		}
	}
	srv := &http.Server{
		Handler:           report.NewServer(eng, report.ServerOptions{Reports: queryFS(*qdir), Timeout: *timeout, ParquetFile: pq, Log: a.log}),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	a.note(slog.LevelInfo, "serving", fmt.Sprintf("serving the reports of %s on http://%s/ (Ctrl-C to stop)", lake, ln.Addr()),
		slog.String("lake", lake), slog.String("url", "http://"+ln.Addr().String()+"/"))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}
