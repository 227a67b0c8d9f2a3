package main

// The command line: a cobra command tree over the app's commands. Each
// command file defines its command (flags, help, examples, completion) in
// a fooCommand method next to the cmdFoo function that runs it.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/calletl/calletl/report"
)

// Set at build time by the Makefile:
//
//	go build -ldflags "-X main.buildVersion=$(git describe --always --dirty) -X main.buildCommit=$(git rev-parse HEAD)"
//
// Package variables because -X can set nothing else; read only by versionText.
var (
	buildVersion string
	buildCommit  string
)

// versionText is what etl --version and etl version print: the version and
// commit the Makefile stamped, else what the Go toolchain recorded in bi
// (the module version, and vcs.revision and vcs.modified when built in a
// git checkout), else "(devel)" and "unknown". bi may be nil.
func versionText(version, commit string, bi *debug.BuildInfo) string {
	modified := false
	goVersion := ""
	if bi != nil {
		goVersion = bi.GoVersion
		if version == "" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && commit == "":
				commit = s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				modified = true
			}
		}
	}
	if version == "" {
		version = "(devel)"
	}
	if commit == "" {
		commit = "unknown"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "etl %s (commit %s", version, commit)
	if modified && !strings.HasSuffix(version, "dirty") {
		b.WriteString(", modified")
	}
	if goVersion != "" {
		b.WriteString(", " + goVersion)
	}
	b.WriteString(")")
	return b.String()
}

// currentVersion is versionText of this binary.
func currentVersion() string {
	bi, _ := debug.ReadBuildInfo()
	return versionText(buildVersion, buildCommit, bi)
}

// cliError is a bad command line found before a command ran (an unknown
// command or flag, a bad flag value, a missing or extra argument): exit 2
// with a hint to the command's --help.
type cliError struct {
	err     error
	cmdPath string // "etl report": the command whose --help the hint names
}

func (e *cliError) Error() string { return e.err.Error() }
func (e *cliError) Unwrap() error { return e.err }

// message is the error on one line: cobra's "Did you mean this?" list
// becomes `; did you mean "run"?`.
func (e *cliError) message() string {
	msg, suggestions, ok := strings.Cut(e.err.Error(), "\n\nDid you mean this?\n")
	if !ok {
		return strings.TrimSpace(msg)
	}
	var names []string
	for _, s := range strings.Fields(suggestions) {
		names = append(names, fmt.Sprintf("%q", s))
	}
	return fmt.Sprintf("%s; did you mean %s?", msg, strings.Join(names, " or "))
}

// execute parses args (the command line without the program name) and
// runs the command they name.
func (a *app) execute(ctx context.Context, args []string) error {
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && !a.started {
		a.lateSetup(root, args)
		return &cliError{err: err, cmdPath: cmd.CommandPath()}
	}
	return err
}

// lateSetup builds the logger when the command line failed before setup
// could: the global flags are read from args, everything else ignored, so
// that the error is reported as --log-format says (one JSON record with
// --log-format json). Without a logger, errors are plain lines.
func (a *app) lateSetup(root *cobra.Command, args []string) {
	if a.log != nil {
		return
	}
	fs := pflag.NewFlagSet("etl", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.SetOutput(io.Discard)
	fs.AddFlagSet(root.PersistentFlags())
	_ = fs.Parse(args) // best effort: the error being reported is cobra's
	if log, err := a.newLogger(); err == nil {
		a.log = log
	}
}

// Command groups, in the order etl --help lists them.
const (
	groupLoad  = "load"
	groupQuery = "query"
	groupOps   = "ops"
	groupTry   = "try"
)

const rootLong = `etl — pull telecom call data into a Parquet lake and report on it with DuckDB.

The nightly job is etl run; everything else loads history, queries the lake,
or inspects and checks the setup. Global flags go anywhere on the line.`

// rootTrailer follows the root command's flags in etl --help.
const rootTrailer = `{{if not .HasParent}}
Exit codes:
  0    every stream succeeded
  1    the run finished but some streams failed; stderr names each with its error
       (a source whose credentials or account the vendor refused is one error: it
       stopped at the first refusal), or the run could not write the lake or the
       state. Committed windows are kept; the next run resumes at the failed day.
  2    bad command line, config or state file (the message names the flag, field or key)
  3    another etl process holds the state lock (state/lock, or a shard's
       state/lock.s<i>of<n>; with the state on S3 the same names are leases
       that expire 60s after their holder stops renewing them); nothing was done
  4    max_run_time reached (config max_run_time, default 20h; run, backfill and
       recordings take --max-run-time to override it, 0 = no limit): the run was
       stopped like an interrupt, committed windows are kept and the lock released
  5    etl run succeeded but the data-quality checks after it found something
       (only with data_quality.fail_run: true or --fail-on-data-quality; the
       findings are logged, and listed by etl report data_quality)
  6    state on S3: this run's lease was lost (not renewed in time, and another
       process took it over), so it stopped; committed windows are kept
  130  interrupted (SIGINT/SIGTERM); committed windows are kept

Secrets (passwords, tokens) are read from environment variables or files named in
the config, and never printed. Shell completion: etl completion bash|zsh|fish --help.
{{end}}`

// rootCommand is the whole command tree, its global flags bound to a.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:     "etl",
		Short:   "Pull telecom call data into a Parquet lake and report on it with DuckDB",
		Long:    rootLong,
		Example: "  etl run\n  etl report daily_summary --from 2026-11-01 --config /etc/calletl/etl.yaml\n  etl sql \"SELECT count(*) FROM calls\" --format csv",
		// Args stays nil: cobra then rejects an unknown command (and
		// suggests the closest). A bare etl is a usage error (exit 2), as
		// it always was.
		RunE: func(c *cobra.Command, _ []string) error {
			if v, _ := c.Flags().GetBool("version"); v {
				fmt.Fprintln(a.stdout, currentVersion())
				return nil
			}
			c.SetOut(a.stderr)
			_ = c.Help()
			return errors.New("no command given")
		},
		PersistentPreRunE: func(c *cobra.Command, _ []string) error { return a.setup(c) },
		SilenceErrors:     true, // exitCode prints them
		SilenceUsage:      true,
	}
	root.SetUsageTemplate(root.UsageTemplate() + rootTrailer)
	root.SetFlagErrorFunc(flagError)
	root.Flags().Bool("version", false, "print the version and commit, and exit")

	def := configDefault()
	g := root.PersistentFlags()
	g.StringVar(&a.configPath, "config", def, "config file (default $CALLETL_CONFIG, else etl.yaml)")
	g.StringVar(&a.logFormat, "log-format", "auto", "auto, text or json (auto: text on a terminal, else json: JSON lines only, durations in seconds)")
	g.StringVar(&a.logLevel, "log-level", "info", "debug, info, warn or error")
	g.BoolVar(&a.noProgress, "no-progress", false, "no progress bars even on a terminal")
	g.StringVar(&a.lakeDir, "lake", "", "report, sql, views, serve, state: read this local copy of the lake (else an S3 lake is mirrored in ~/.cache/calletl)")
	// The usage says the default; this machine's $CALLETL_CONFIG is not shown.
	g.Lookup("config").DefValue = ""
	_ = root.MarkPersistentFlagFilename("config", "yaml", "yml")
	_ = root.MarkPersistentFlagDirname("lake")
	completeValues(root, "log-format", "auto", "text", "json")
	completeValues(root, "log-level", "debug", "info", "warn", "error")

	root.AddGroup(
		&cobra.Group{ID: groupLoad, Title: "Load the lake:"},
		&cobra.Group{ID: groupQuery, Title: "Query the lake:"},
		&cobra.Group{ID: groupOps, Title: "Inspect and check:"},
		&cobra.Group{ID: groupTry, Title: "Try it:"},
	)
	add := func(group string, cmds ...*cobra.Command) {
		for _, c := range cmds {
			c.GroupID = group
			c.SilenceErrors, c.SilenceUsage = true, true
			root.AddCommand(c)
		}
	}
	add(groupLoad, a.runCommand(), a.backfillCommand(), a.recordingsCommand(), a.compactCommand(), a.receiveCommand())
	add(groupQuery, a.reportCommand(), a.reportsCommand(), a.sqlCommand(), a.viewsCommand(), a.serveCommand(), a.ddlCommand())
	add(groupOps, a.stateCommand(), a.checkCommand(), a.versionCommand())
	add(groupTry, a.demoCommand(), a.sandboxCommand())
	root.SetHelpCommandGroupID(groupOps)
	root.SetCompletionCommandGroupID(groupOps)
	return root
}

// configDefault is --config's default: $CALLETL_CONFIG, else etl.yaml.
func configDefault() string {
	if p := os.Getenv("CALLETL_CONFIG"); p != "" {
		return p
	}
	return "etl.yaml"
}

// setup runs after the flags are parsed and before any command: the logger.
func (a *app) setup(c *cobra.Command) error {
	a.levelSet = c.Flags().Changed("log-level")
	log, err := a.newLogger()
	if err != nil {
		return err
	}
	a.log = log
	return nil
}

// runs is a command's RunE: fn runs once the command line is known good;
// its errors are the command's own (exitCode maps them), not usage errors.
func (a *app) runs(fn func(ctx context.Context, c *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(c *cobra.Command, args []string) error {
		a.started = true
		return fn(c.Context(), c, args)
	}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:               "version",
		Short:             "Print the version and commit",
		Long:              "Print etl's version and the commit it was built from (as etl --version).",
		Example:           "  etl version\n  etl --version",
		Args:              noArgs,
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: a.runs(func(context.Context, *cobra.Command, []string) error {
			fmt.Fprintln(a.stdout, currentVersion())
			return nil
		}),
	}
}

// noArgs is Args for a command without positional arguments.
func noArgs(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%s takes no arguments, got %q", c.CommandPath(), args)
	}
	return nil
}

// atMostOneArg is Args for a command with one optional positional argument,
// what names it (e.g. "one report NAME").
func atMostOneArg(what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		if len(args) > 1 {
			return fmt.Errorf("%s takes %s, got %d arguments: %q (quote an argument that has spaces)", c.CommandPath(), what, len(args), args)
		}
		return nil
	}
}

// flagError is the flag error func: an unknown shorthand cluster that
// spells a long flag (-config, as Go's flag package took it) says to use
// two dashes.
func flagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) && ne.GetSpecifiedShortnames() != "" {
		name := ne.GetSpecifiedShortnames()
		if f := c.Flags().Lookup(name); f != nil {
			return fmt.Errorf("%w: long flags take two dashes: --%s", err, name)
		}
	}
	return err
}

// completeValues completes flag name of c (or of its children, for a
// persistent flag) with a fixed list of values.
func completeValues(c *cobra.Command, name string, values ...string) {
	_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// completeSources completes --source with the names of the known
// vendors; with list, --source takes a comma-separated list and each name
// after a comma completes too.
func (a *app) completeSources(c *cobra.Command, list bool) {
	_ = c.RegisterFlagCompletionFunc("source", func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		prefix := ""
		if i := strings.LastIndex(toComplete, ","); list && i >= 0 {
			prefix = toComplete[:i+1]
		}
		given := splitComma(prefix)
		var out []string
		for _, n := range a.registry().Names() {
			if !slices.Contains(given, n) {
				out = append(out, prefix+n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	})
}

// completeReports completes a report NAME from the catalogue (--queries
// when given, else the built-in one), each with its title.
func completeReports(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	qdir, _ := c.Flags().GetString("queries")
	cat, err := report.Catalogue(queryFS(qdir))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []string
	for _, r := range cat {
		out = append(out, r.Name+"\t"+r.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeParams completes --param with NAME= for each parameter of the
// report named on the line (from and to have their own flags).
func completeParams(c *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	qdir, _ := c.Flags().GetString("queries")
	cat, err := report.Catalogue(queryFS(qdir))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []string
	for _, r := range cat {
		if r.Name != args[0] {
			continue
		}
		for _, p := range r.Params {
			if p.Name != "from" && p.Name != "to" {
				out = append(out, p.Name+"=\t"+p.Doc)
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
