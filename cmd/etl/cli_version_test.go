package main

import (
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/calletl/calletl/ddl"
	"github.com/calletl/calletl/queries"
	"github.com/calletl/calletl/report"
)

// versionText: the Makefile's -ldflags win; without them, what the Go
// toolchain recorded; without that, "(devel)" and "unknown", never a
// made-up version.
func TestVersionText(t *testing.T) {
	vcs := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/calletl/calletl", Version: "v0.0.0-20261201093000-0123456789ab+dirty"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	clean := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "fedcba9876543210fedcba9876543210fedcba98"}, {Key: "vcs.modified", Value: "true"}}}
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            string
	}{
		{"make build", "v1.4.0-3-g0123456-dirty", "0123456789abcdef0123456789abcdef01234567", vcs,
			"etl v1.4.0-3-g0123456-dirty (commit 0123456789abcdef0123456789abcdef01234567, go1.26.8)"},
		{"make build at a tag", "v1.4.0", "0123456789abcdef0123456789abcdef01234567", nil,
			"etl v1.4.0 (commit 0123456789abcdef0123456789abcdef01234567)"},
		{"go build in a checkout", "", "", vcs,
			"etl v0.0.0-20261201093000-0123456789ab+dirty (commit 0123456789abcdef0123456789abcdef01234567, go1.26.8)"},
		{"go build, modified, no module version", "", "", clean,
			"etl (devel) (commit fedcba9876543210fedcba9876543210fedcba98, modified, go1.26.8)"},
		{"go build -buildvcs=false", "", "", &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}},
			"etl (devel) (commit unknown, go1.26.8)"},
		{"no build info", "", "", nil, "etl (devel) (commit unknown)"},
	} {
		if got := versionText(tc.version, tc.commit, tc.bi); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// The command tree is the commands the tests and the README list.
func TestCommandTree(t *testing.T) {
	var names []string
	for _, c := range (&app{}).rootCommand().Commands() {
		names = append(names, c.Name())
	}
	slices.Sort(names)
	want := slices.Sorted(slices.Values(cliCommands))
	if !slices.Equal(names, want) {
		t.Errorf("commands %q, want %q (update cliCommands and the README)", names, want)
	}
}

// etl completion SHELL prints a script for that shell; cobra's hidden
// __complete command (what the scripts call on TAB) completes report
// names, flag values and --source names from the registry.
func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "complete -o default -F __start_etl etl",
		"zsh":  "#compdef etl",
		"fish": "complete -c etl ",
	} {
		code, out, stderr := runCLI("completion", shell)
		if code != exitOK || !strings.Contains(out, marker) {
			t.Errorf("etl completion %s: exit %d, no %q in the script\n%s", shell, code, marker, stderr)
		}
	}
	cat, err := report.Catalogue(queries.FS())
	if err != nil {
		t.Fatal(err)
	}
	var reports []string
	for _, r := range cat {
		reports = append(reports, r.Name)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"report", ""}, reports},
		{[]string{"report", "daily"}, []string{"daily_summary"}},
		{[]string{"--config", "x.yaml", "report", ""}, reports},
		{[]string{"report", "--format", ""}, []string{"table", "csv", "json", "html", "xlsx", "parquet"}},
		{[]string{"sql", "--format", ""}, []string{"table", "csv", "json", "xlsx", "parquet"}},
		{[]string{"run", "--format", ""}, []string{"table", "json"}},
		{[]string{"state", "--format", ""}, []string{"table", "json"}},
		{[]string{"run", "--source", ""}, vendors().Names()},
		{[]string{"run", "--source", "mtt,"}, []string{"mtt,t2", "mtt,votbox"}},
		{[]string{"backfill", "--source", ""}, vendors().Names()},
		{[]string{"ddl", "--dialect", ""}, ddl.Dialects},
		{[]string{"run", "--log-level", ""}, []string{"debug", "info", "warn", "error"}},
		{[]string{"rep"}, []string{"report", "reports"}},
		{[]string{"report", "--fr"}, []string{"--from"}},
		{[]string{"report", "top_destinations", "--param", ""}, []string{"limit="}},
	} {
		code, out, stderr := runCLI(append([]string{"__complete"}, tc.args...)...)
		var got []string
		for _, line := range strings.Split(out, "\n") {
			if line != "" && !strings.HasPrefix(line, ":") {
				name, _, _ := strings.Cut(line, "\t")
				got = append(got, name)
			}
		}
		for _, w := range tc.want {
			if code != exitOK || !slices.Contains(got, w) {
				t.Errorf("__complete %q: exit %d, %q lacks %q\n%s", tc.args, code, got, w, stderr)
			}
		}
	}
	if code, out, _ := runCLI("__complete", "report", "daily_summary", ""); code != exitOK || strings.Contains(out, "missed_calls") {
		t.Errorf("a second report name is offered after the first:\n%s", out)
	}
}
