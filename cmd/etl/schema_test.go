package main

import (
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/sandbox"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestLakeSchemaGolden pins every lake table's schema as plain DuckDB reads
// it from the files a real run writes (Hive columns included). A change
// here changes what analysts' queries see: review the diff, then
// regenerate with go test ./cmd/etl -run LakeSchemaGolden -update.
func TestLakeSchemaGolden(t *testing.T) {
	// MTT from the world, plus T2, VotBox, VoiceBox and Mobilgroup
	// emulators, so every vendor table has files.
	// Each emulator's traffic spans the run's Moscow day, which is the
	// next UTC date from 21:00 UTC on (a UTC today left T2's calls out).
	local := time.Now().In(msk)
	now := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, time.UTC)
	t2emu := sandbox.NewT2(sandbox.T2Config{Seed: 3, From: now.AddDate(0, 0, -1), To: now, CallsPerDay: 50, MissedPerDay: 10})
	srv := httptest.NewServer(t2emu)
	t.Cleanup(srv.Close)
	access, refresh := t2emu.IssueTokens()
	vb := sandbox.NewVotBox(sandbox.VotBoxConfig{Seed: 3, Username: "robo", Password: "vb-pass", Tasks: 1, ItemsPerTask: 20, Start: now})
	vb.Advance()
	vbSrv := httptest.NewServer(vb)
	t.Cleanup(vbSrv.Close)
	voice := sandbox.NewVoiceBox(sandbox.VoiceBoxConfig{Seed: 3, Customers: []string{"1001"}, CallsPerDay: 20, Days: 2,
		Start: now.AddDate(0, 0, -1)})
	voiceSrv := httptest.NewServer(voice)
	t.Cleanup(voiceSrv.Close)
	mg := sandbox.NewMobilgroup(sandbox.MobilgroupConfig{APIKey: "mg-key", Broadcasts: 1, SubscribersPerBroadcast: 10, Seed: 3})
	mg.Advance()
	mgSrv := httptest.NewServer(mg)
	t.Cleanup(mgSrv.Close)
	rec := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: "agent", Password: testPassword, PartSize: 1 << 10})
	recAPI, recFiles := httptest.NewServer(rec.API()), httptest.NewServer(rec.Files())
	t.Cleanup(recAPI.Close)
	t.Cleanup(recFiles.Close)
	rec.SetDownloadBase(recFiles.URL)
	w := newWorld(t, 1, 40, 1, fmt.Sprintf(`  t2:
    base_url: %s
    access_token: {file: t2-access}
    refresh_token: {file: t2-refresh}
  votbox:
    base_url: %s/api
    username: robo
    password: {file: vb-pw}
  voicebox:
    base_url: %s
    client_id: %s
    client_secret: {file: voice-secret}
    username: %s
    password: {file: voice-pw}
    customers: ["1001"]
  mobilgroup:
    base_url: %s
    api_key: {file: mg-key}
    broadcast_ids: [%s]
`, srv.URL, vbSrv.URL, voiceSrv.URL, sandbox.VoiceBoxDefaultClientID, sandbox.VoiceBoxDefaultUsername, mgSrv.URL, mg.IDs()[0]))
	os.WriteFile(filepath.Join(w.dir, "vb-pw"), []byte("vb-pass"), 0o600)
	os.WriteFile(filepath.Join(w.dir, "voice-secret"), []byte(sandbox.VoiceBoxDefaultClientSecret), 0o600)
	os.WriteFile(filepath.Join(w.dir, "voice-pw"), []byte(sandbox.VoiceBoxDefaultPassword), 0o600)
	os.WriteFile(filepath.Join(w.dir, "mg-key"), []byte("mg-key"), 0o600)
	// Recordings on, into a local store (the section goes before sources:).
	cfgText, _ := os.ReadFile(w.cfg)
	os.WriteFile(w.cfg, []byte(strings.Replace(string(cfgText), "sources:\n",
		"recordings: {local: blobs, mtt_records_base: "+recAPI.URL+"}\nsources:\n", 1)), 0o644)
	os.WriteFile(filepath.Join(w.dir, "t2-access"), []byte(access), 0o600)
	os.WriteFile(filepath.Join(w.dir, "t2-refresh"), []byte(refresh), 0o600)
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	db := duck(t)
	var b strings.Builder
	for _, table := range allTables(vendors()) {
		files, _ := filepath.Glob(filepath.Join(w.dir, "lake", table.Name, "*", "*", "*.parquet"))
		if len(files) == 0 {
			fmt.Fprintf(&b, "%s: no files in this run\n\n", table.Name)
			continue
		}
		rows, err := db.Query(`DESCRIBE SELECT * FROM ` + w.glob(table.Name))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s:\n", table.Name)
		for rows.Next() {
			var name, typ string
			var null, key, def, extra any
			if err := rows.Scan(&name, &typ, &null, &key, &def, &extra); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "  %-24s %s\n", name, typ)
		}
		rows.Close()
		b.WriteString("\n")
	}
	golden := filepath.Join("testdata", "lake-schema.golden")
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("lake schema changed; review and run with -update.\n--- got\n%s\n--- want\n%s", got, want)
	}
}
