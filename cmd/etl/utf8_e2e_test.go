package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/calletl/calletl/sandbox"
)

// cp1251Moscow is "Москва" in windows-1251: invalid UTF-8.
const cp1251Moscow = "\xcc\xee\xf1\xea\xe2\xe0"

// TestInvalidUTF8EndToEnd: MTT sends windows-1251 and broken bytes in
// string fields (JSON, which has no charset of its own), in a good row and
// in a row that is rejected. After `etl run`, SELECT * over every table, a
// report over the vendor table and `etl sql` succeed; the lake holds U+FFFD
// where the bytes were, and invalid_utf8 holds the bytes exactly.
func TestInvalidUTF8EndToEnd(t *testing.T) {
	w := newWorld(t, 2, 20, 0, "")
	at := time.Now().Add(-2 * time.Hour)
	w.emu.AddCalls(
		sandbox.MTTCall{Customer: "110011256", Type: sandbox.MTTDialed, ConfID: "0BADBEEF 0BADBEEF 0BADBEEF 00000001",
			ConnectTime: at, CLI: "7495\xff1234567", CLD: "74951234567", Destination: cp1251Moscow,
			ChargedTime: 60, UsedQuantity: 42, CostE4: 24800, DisconnectCause: 16,
			Extra: map[string]string{"comment": "a\x80b"}},
		sandbox.MTTCall{Customer: "110011256", Type: sandbox.MTTDialed, ConfID: "0BADBEEF 0BADBEEF 0BADBEEF 00000002",
			ConnectTime: at, CLI: "74951234567", CLD: "74957654321", Destination: cp1251Moscow + "\xed\xa0\x80",
			ChargedTime: 60, UsedQuantity: 42, CostE4: 100, Bad: true},
	)
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	db := duck(t)
	for _, table := range []string{"calls", "mtt_calls", "rejects", "runs", "invalid_utf8"} {
		rows, err := db.Query(`SELECT * FROM ` + w.glob(table))
		if err != nil {
			t.Fatalf("SELECT * FROM %s: %v", table, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("SELECT * FROM %s: %v", table, err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("%s: no rows", table)
		}
	}

	code, out, stderr := w.etl("report", "top_destinations", "--format", "csv")
	if code != exitOK || !strings.Contains(out, "\uFFFD") {
		t.Errorf("top_destinations: exit %d, want the repaired destination\n%s%s", code, out, stderr)
	}
	code, out, stderr = w.etl("sql", "SELECT caller_raw FROM calls WHERE call_id LIKE '0BADBEEF%'", "--format", "csv")
	if code != exitOK || out != "caller_raw\n7495\uFFFD1234567\n" {
		t.Errorf("etl sql: exit %d\n%q%s", code, out, stderr)
	}

	// The query load/utf8.go documents, over the views: each repaired
	// calls value with its call.
	q := `SELECT c.call_id, i.column_name, i.stored
		FROM invalid_utf8 i
		JOIN read_parquet('` + w.dir + `/lake/calls/**/*.parquet', hive_partitioning = true,
		                  filename = true, file_row_number = true) c
		  ON c.source = i.source AND c.date = i.date
		 AND parse_filename(c.filename, true) = i.unit
		 AND c.file_row_number = i.file_row_number
		WHERE i.table_name = 'calls'`
	code, out, stderr = w.etl("sql", q, "--format", "csv")
	if want := "call_id,column_name,stored\n0BADBEEF 0BADBEEF 0BADBEEF 00000001,caller_raw,7495\uFFFD1234567\n"; code != exitOK || out != want {
		t.Errorf("documented invalid_utf8 join: exit %d\n%q, want %q\n%s", code, out, want, stderr)
	}

	// The original bytes, by table and column.
	rows, err := db.Query(`SELECT table_name, column_name, original, stored FROM ` + w.glob("invalid_utf8") + ` ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string][]byte{}
	for rows.Next() {
		var table, column, stored string
		var orig []byte
		if err := rows.Scan(&table, &column, &orig, &stored); err != nil {
			t.Fatal(err)
		}
		if stored != strings.ToValidUTF8(string(orig), "\uFFFD") {
			t.Errorf("%s.%s: stored %q for %q", table, column, stored, orig)
		}
		got[table+"."+column] = orig
	}
	for col, want := range map[string]string{
		"calls.caller_raw":      "7495\xff1234567",
		"mtt_calls.destination": cp1251Moscow,
	} {
		if string(got[col]) != want {
			t.Errorf("invalid_utf8 %s: %q, want %q", col, got[col], want)
		}
	}
	if e := string(got["mtt_calls.extras"]); !strings.Contains(e, "a\x80b") {
		t.Errorf("invalid_utf8 mtt_calls.extras: %q, want the comment's bytes", e)
	}
	if r := string(got["rejects.raw"]); !strings.Contains(r, cp1251Moscow+"\xed\xa0\x80") {
		t.Errorf("invalid_utf8 rejects.raw: %q, want the rejected row's exact bytes", r)
	}
}

// TestDeclaredCharsetEndToEnd: MTT answers in windows-1251 and says so in
// Content-Type; the run decodes it, so the lake holds the Cyrillic text
// itself (not U+FFFD), nothing lands in invalid_utf8, and every count and
// cost still matches the emulator's truth.
func TestDeclaredCharsetEndToEnd(t *testing.T) {
	w := newWorld(t, 2, 20, 1, "")
	w.emu.SetFaults(sandbox.Faults{Windows1251: true})
	w.emu.AddCalls(sandbox.MTTCall{Customer: "110022512", Type: sandbox.MTTIncoming, ConfID: "0C0FFEE0 0C0FFEE0 0C0FFEE0 00000001",
		ConnectTime: time.Now().Add(-2 * time.Hour), CLI: "74951234567", CLD: "74957654321", Destination: "Москва, ёлка",
		ChargedTime: 60, UsedQuantity: 42, CostE4: 24800})
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	w.checkLake(t)
	var dest string
	if err := duck(t).QueryRow(`SELECT destination FROM ` + w.glob("mtt_calls") + ` WHERE h323_conf_id LIKE '0C0FFEE0%'`).Scan(&dest); err != nil {
		t.Fatal(err)
	}
	if dest != "Москва, ёлка" {
		t.Errorf("destination %q, want Москва, ёлка", dest)
	}
	if files, _ := filepath.Glob(filepath.Join(w.dir, "lake", "invalid_utf8", "*", "*", "*.parquet")); len(files) > 0 {
		t.Errorf("invalid_utf8 has files: %v", files)
	}
}

// TestLakeModesEndToEnd: under a umask of 0, everything `etl run` writes
// into the lake (every table, rejects and invalid_utf8 included) and the
// `etl views` database get the lake's modes: 0640/0750 by default, or the
// configured lake_file_mode and lake_dir_mode.
func TestLakeModesEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		file, dir    fs.FileMode
	}{
		{"default", "", 0o640, 0o750},
		{"configured", "lake_file_mode: \"0600\"\nlake_dir_mode: 0o700\n", 0o600, 0o700},
		{"unquoted octal", "lake_file_mode: 0660\nlake_dir_mode: 0770\n", 0o660, 0o770},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 1, 10, 1, "")
			cfg, _ := os.ReadFile(w.cfg)
			if err := os.WriteFile(w.cfg, []byte(tc.config+string(cfg)), 0o644); err != nil {
				t.Fatal(err)
			}
			views := filepath.Join(w.dir, "views.duckdb")
			old := syscall.Umask(0)
			code, _, stderr := w.etl("run")
			if code == exitOK {
				code, _, stderr = w.etl("views", "--out", views)
			}
			syscall.Umask(old)
			if code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			tables := map[string]bool{}
			lake := filepath.Join(w.dir, "lake")
			err := filepath.WalkDir(lake, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				fi, err := d.Info()
				if err != nil {
					return err
				}
				want := tc.file
				if d.IsDir() {
					want = fs.ModeDir | tc.dir
				}
				if got := fi.Mode() & (fs.ModeDir | fs.ModePerm); got != want {
					t.Errorf("%s: mode %v, want %v", path, got, want)
				}
				if rel, _ := filepath.Rel(lake, path); !d.IsDir() {
					tables[strings.Split(filepath.ToSlash(rel), "/")[0]] = true
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !tables["calls"] || !tables["rejects"] || !tables["mtt_calls"] {
				t.Errorf("tables with files: %v, want calls, rejects and mtt_calls among them", tables)
			}
			if fi, err := os.Stat(views); err != nil || fi.Mode().Perm() != tc.file {
				t.Errorf("views database: %v %v, want mode %v", fi.Mode(), err, tc.file)
			}
		})
	}
}

func TestLakeModesConfigErrors(t *testing.T) {
	const rest = "lake: l\nstate: s\nsources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}\n"
	for _, tt := range []struct{ yaml, field string }{
		{"lake_file_mode: rw-r-----\n", "lake_file_mode"},
		{"lake_file_mode: \"0o1640\"\n", "lake_file_mode"},
		{"lake_file_mode: \"0440\"\n", "lake_file_mode"},
		{"lake_dir_mode: \"0650\"\n", "lake_dir_mode"},
		{"lake_dir_mode: \"02750\"\n", "lake_dir_mode"},
		{"lake_dir_mode: \"0999\"\n", "lake_dir_mode"},
	} {
		p := filepath.Join(t.TempDir(), "c.yaml")
		os.WriteFile(p, []byte(tt.yaml+rest), 0o644)
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("%q: error %v does not name %s", tt.yaml, err, tt.field)
		}
	}
}
