package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/calletl/calletl/lakeread"
)

// sandboxWorld is a lake beside a state directory holding secrets, as a
// real deployment has them: ROOT/lake, ROOT/state/t2-tokens.json,
// ROOT/secrets/mtt.password.
type sandboxWorld struct {
	root, lake, tokenFile, passwordFile string
}

// Secrets of sandboxWorld: what must never be read or printed.
const (
	sandboxToken    = "eyJhbGciOiJIUzI1NiJ9.sandbox-access-token"
	sandboxPassword = "mtt-password-0451"
)

func newSandboxWorld(t *testing.T) sandboxWorld {
	t.Helper()
	root := t.TempDir()
	w := sandboxWorld{
		root:         root,
		lake:         filepath.Join(root, "lake"),
		tokenFile:    filepath.Join(root, "state", "t2-tokens.json"),
		passwordFile: filepath.Join(root, "secrets", "mtt.password"),
	}
	sampleLake(t, w.lake)
	for name, content := range map[string]string{
		w.tokenFile:    `{"access_token":"` + sandboxToken + `","refresh_token":"r"}` + "\n",
		w.passwordFile: sandboxPassword + "\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// TestSandbox runs each attack as raw SQL on the engine's database, past
// the SELECT-only check, so that DuckDB's own sandbox is what stops it: a
// permission error (external access is off) or a locked configuration.
func TestSandbox(t *testing.T) {
	w := newSandboxWorld(t)
	e := openEngine(t, w.lake, "UTC")
	ctx := context.Background()
	q := lakeread.QuoteString
	for _, tc := range []struct {
		name, sql string
		absent    string // a file the attack would create
	}{
		{name: "read_csv /etc/passwd", sql: "SELECT * FROM read_csv('/etc/passwd')"},
		{name: "read_text secret file", sql: "SELECT content FROM read_text(" + q(w.passwordFile) + ")"},
		{name: "read_blob token file", sql: "SELECT content FROM read_blob(" + q(w.tokenFile) + ")"},
		{name: "read_csv token file", sql: "SELECT * FROM read_csv(" + q(w.tokenFile) + ")"},
		{name: "read_json token file", sql: "SELECT * FROM read_json(" + q(w.tokenFile) + ")"},
		{name: "token file through the lake's ..", sql: "SELECT content FROM read_text(" + q(w.lake+"/../state/t2-tokens.json") + ")"},
		{name: "CAST of a secret file's content", sql: "SELECT CAST(content AS INTEGER) FROM read_text(" + q(w.passwordFile) + ")"},
		{name: "glob outside the lake", sql: "SELECT * FROM glob('/etc/*')"},
		{name: "environment via /proc", sql: "SELECT content FROM read_text('/proc/self/environ')"},
		{name: "SET enable_external_access", sql: "SET enable_external_access = true"},
		{name: "SET GLOBAL enable_external_access", sql: "SET GLOBAL enable_external_access = true"},
		{name: "unlock", sql: "SET lock_configuration = false"},
		{name: "RESET lock_configuration", sql: "RESET lock_configuration"},
		{name: "widen allowed_directories", sql: "SET GLOBAL allowed_directories = ['/']"},
		{name: "ATTACH outside the lake", sql: "ATTACH " + q(w.root+"/evil.duckdb") + " AS evil", absent: w.root + "/evil.duckdb"},
		{name: "COPY TO outside the lake", sql: "COPY (SELECT 1) TO " + q(w.root+"/leak.csv"), absent: w.root + "/leak.csv"},
		{name: "EXPORT DATABASE", sql: "EXPORT DATABASE " + q(w.root+"/export"), absent: w.root + "/export"},
		{name: "LOAD an extension file", sql: "LOAD " + q(w.root+"/evil.duckdb_extension")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := e.db.QueryContext(ctx, tc.sql)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			if err == nil {
				t.Fatalf("%s: ran", tc.sql)
			}
			if msg := err.Error(); !strings.Contains(msg, "Permission Error") && !strings.Contains(msg, "the configuration has been locked") {
				t.Errorf("%s: error %q, want DuckDB's sandbox (a Permission Error or a locked configuration)", tc.sql, msg)
			}
			for _, s := range []string{sandboxToken, sandboxPassword} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret: %v", err)
				}
			}
			if tc.absent != "" {
				if _, err := os.Stat(tc.absent); err == nil {
					t.Errorf("%s exists", tc.absent)
				}
			}
		})
	}
	// The lake, and only it, still reads; the settings held.
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM calls"), nil))[0][0]; got != "12" {
		t.Errorf("calls: %s rows, want 12", got)
	}
	if got := cells(query(t, e, adhoc("SELECT count(*) FROM read_parquet("+q(w.lake+"/calls/**/*.parquet")+")"), nil))[0][0]; got != "12" {
		t.Errorf("read_parquet of the lake: %s rows, want 12", got)
	}
	res := query(t, e, adhoc(`SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),
		current_setting('autoload_known_extensions'), current_setting('TimeZone')`), nil)
	if got, want := strings.Join(cells(res)[0], " "), "false true false UTC"; got != want {
		t.Errorf("settings %q, want %q", got, want)
	}
}

// TestSandboxEveryConnection checks that connections the pool opens after
// the first one are sandboxed too (the settings are global, not per
// session).
func TestSandboxEveryConnection(t *testing.T) {
	w := newSandboxWorld(t)
	e := openEngine(t, w.lake, "Europe/Moscow")
	ctx := context.Background()
	var conns []interface{ Close() error }
	for i := range 3 {
		c, err := e.db.Conn(ctx) // each new, since the others are held
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		var ext, zone string
		if err := c.QueryRowContext(ctx, "SELECT current_setting('enable_external_access'), current_setting('TimeZone')").Scan(&ext, &zone); err != nil {
			t.Fatal(err)
		}
		if ext != "false" || zone != "Europe/Moscow" {
			t.Errorf("connection %d: enable_external_access=%s TimeZone=%s", i, ext, zone)
		}
		if _, err := c.ExecContext(ctx, "SELECT * FROM read_csv('/etc/passwd')"); err == nil {
			t.Errorf("connection %d read /etc/passwd", i)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}
