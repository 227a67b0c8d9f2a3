package recordings_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
)

const day2 = "2026-11-19"

// recording_days equals a computation from the manifest after a first run,
// after a re-run that turns failures ok (recomputing only the date it
// touched), after a crash between the manifest commit and the
// recording_days commit, and after recording_days was lost altogether.
func TestRecordingDays(t *testing.T) {
	ctx := context.Background()
	env := newMTTEnv(t, 4<<10, 4)
	ids := mttIDs(16)
	lake := lakeWithCalls(t, "mtt", ids[:10]...) // day
	addCalls(t, lake, "mtt", day2, ids[10:]...)
	var good []string
	for _, id := range ids[:10] {
		if env.emu.Parts(id) > 0 {
			good = append(good, id)
		}
	}
	if len(good) < 2 {
		t.Fatalf("only %d ids of %s with recordings", len(good), day)
	}
	env.emu.SetFault(good[0], sandbox.MTTRecTruncate)
	env.emu.SetFault(good[1], sandbox.MTTRecHTML200)
	st := localStore(t)
	clk := newClock()
	cfg := recordings.Config{Store: st, Lake: lake, Now: clk.Now}
	root := lake.Root()
	dayA, dayB := [2]string{"mtt", day}, [2]string{"mtt", day2}

	// (a) First run: both dates, with stored, missing and failed calls.
	if _, err := recordings.Run(ctx, cfg, testRun("r1", clk.Now()), env.fetcher); err != nil {
		t.Fatal(err)
	}
	got := checkDays(t, root)
	if a := got[dayA]; a.Failed != 2 || a.Missing == 0 || a.Stored == 0 || a.CallsAttempted != 10 || a.StoredBytes == 0 {
		t.Fatalf("r1 %s: %+v; want 10 calls attempted, 2 failed, some missing and stored", day, a)
	}
	if b := got[dayB]; b.CallsAttempted != 6 || b.RunID != "r1" || !b.UpdatedAt.Equal(clk.Now()) {
		t.Fatalf("r1 %s: %+v; want 6 calls attempted by r1 at %v", day2, b, clk.Now())
	}

	// (b) The faults cleared and the backoff elapsed: the failed calls are
	// stored. Only their date is recomputed; the lake's files are made an
	// hour older first, as between two nightly runs.
	env.emu.SetFault(good[0], "")
	env.emu.SetFault(good[1], "")
	age(t, root, time.Hour)
	clk.Advance(2 * time.Hour)
	daysFileA := filepath.Join(root, recordings.Days.Name, "source=mtt", "date="+day, "days.parquet")
	oldA, err := os.ReadFile(daysFileA)
	if err != nil {
		t.Fatal(err)
	}
	oldInfo, err := os.Stat(daysFileA)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := recordings.Run(ctx, cfg, testRun("r2", clk.Now()), env.fetcher)
	if err != nil || sum.Calls != 2 || sum.Failed != 0 {
		t.Fatalf("r2: %+v, %v; want the 2 failed calls stored", sum, err)
	}
	got = checkDays(t, root)
	if a := got[dayA]; a.Failed != 0 || a.RunID != "r2" {
		t.Errorf("r2 %s: %+v; want no failed call, recomputed by r2", day, a)
	}
	if b := got[dayB]; b.RunID != "r1" {
		t.Errorf("r2 %s: recomputed by %s; want r1's row kept (the run did not touch the date)", day2, b.RunID)
	}

	// (c) A crash between r2's manifest commit and its recording_days
	// commit: r1's file of the date, with its time, is what is left. The
	// next run, with nothing to fetch, repairs it.
	if err := os.WriteFile(daysFileA, oldA, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(daysFileA, oldInfo.ModTime(), oldInfo.ModTime()); err != nil {
		t.Fatal(err)
	}
	if a := readDays(t, root)[dayA]; a.Failed != 2 {
		t.Fatalf("simulated crash: %s row %+v; want r1's (2 failed)", day, a)
	}
	clk.Advance(time.Hour)
	sum, err = recordings.Run(ctx, cfg, testRun("r3", clk.Now()), env.fetcher)
	if err != nil || sum.Calls != 0 {
		t.Fatalf("r3: %+v, %v; want nothing to fetch", sum, err)
	}
	got = checkDays(t, root)
	if a := got[dayA]; a.Failed != 0 || a.RunID != "r3" {
		t.Errorf("r3 %s: %+v; want r2's outcome, recomputed by r3", day, a)
	}

	// A lake whose recording_days is missing (written before the table
	// existed, or lost) is filled by the next run.
	if err := os.RemoveAll(filepath.Join(root, recordings.Days.Name)); err != nil {
		t.Fatal(err)
	}
	if _, err := recordings.Run(ctx, cfg, testRun("r4", clk.Now()), env.fetcher); err != nil {
		t.Fatal(err)
	}
	if got := checkDays(t, root); got[dayA].RunID != "r4" || got[dayB].RunID != "r4" {
		t.Errorf("r4: %+v; want both dates recomputed by r4", got)
	}
}

// addCalls writes one canonical call per id (has_recording, the id as
// recording_ref) on date into lake.
func addCalls(t testing.TB, lake *load.Lake, source, date string, ids ...string) {
	t.Helper()
	tx, err := lake.Begin(source, "calls-test-"+date)
	if err != nil {
		t.Fatal(err)
	}
	w := load.Writer(tx, load.Calls)
	for _, id := range ids {
		c := model.Call{Source: source, Date: date, Account: "acc", CallID: id, Direction: model.Outgoing,
			HasRecording: true, RecordingRef: id, RunID: "extract"}
		if err := w.Add(date, &c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// age makes every file and directory under root d older.
func age(t testing.TB, root string, d time.Duration) {
	t.Helper()
	err := filepath.Walk(root, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		m := info.ModTime().Add(-d)
		return os.Chtimes(path, m, m)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkDays fails t unless recording_days, but for run_id and updated_at,
// is what directDays computes from the manifest, and returns it.
func checkDays(t testing.TB, root string) map[[2]string]recordings.Day {
	t.Helper()
	got, want := readDays(t, root), directDays(t, root)
	if len(got) != len(want) {
		t.Errorf("recording_days has %d rows, the manifest %d (source, date)s:\n%+v\n%+v", len(got), len(want), got, want)
	}
	for k, w := range want {
		g := got[k]
		g.RunID, g.UpdatedAt = "", time.Time{}
		if g != w {
			t.Errorf("recording_days %v: %+v; the manifest says %+v", k, g, w)
		}
	}
	return got
}

// readDays returns the rows of recording_days by (source, date).
func readDays(t testing.TB, root string) map[[2]string]recordings.Day {
	t.Helper()
	out := map[[2]string]recordings.Day{}
	glob := filepath.Join(root, recordings.Days.Name, "*", "*", "*.parquet")
	if m, _ := filepath.Glob(glob); len(m) == 0 {
		return out
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT source, strftime(date, '%Y-%m-%d'), calls_attempted, stored, missing, failed, stored_bytes,
		transcribed, run_id, updated_at FROM read_parquet('` + glob + `', hive_partitioning=true, hive_types={'date':DATE})`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var d recordings.Day
		if err := rows.Scan(&d.Source, &d.Date, &d.CallsAttempted, &d.Stored, &d.Missing, &d.Failed, &d.StoredBytes,
			&d.Transcribed, &d.RunID, &d.UpdatedAt); err != nil {
			t.Fatal(err)
		}
		k := [2]string{d.Source, d.Date}
		if _, dup := out[k]; dup {
			t.Errorf("recording_days: two rows for %v", k)
		}
		out[k] = d
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// directDays computes recording_days from the manifest's rows in Go: per
// call, the rows of its latest (fetched_at, run_id); failed if a part
// (>= 0) failed, else missing if one is missing, else ok.
func directDays(t testing.TB, root string) map[[2]string]recordings.Day {
	t.Helper()
	out := map[[2]string]recordings.Day{}
	glob := filepath.Join(root, recordings.Manifest.Name, "*", "*", "*.parquet")
	if m, _ := filepath.Glob(glob); len(m) == 0 {
		return out
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT source, strftime(date, '%Y-%m-%d'), call_id, part, status, bytes, fetched_at, run_id
		FROM read_parquet('` + glob + `', hive_partitioning=true, hive_types={'date':DATE})`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	type attempt struct {
		at   time.Time
		run  string
		rows []recordings.Entry
	}
	latest := map[[3]string]*attempt{}
	for rows.Next() {
		var e recordings.Entry
		if err := rows.Scan(&e.Source, &e.Date, &e.CallID, &e.Part, &e.Status, &e.Bytes, &e.FetchedAt, &e.RunID); err != nil {
			t.Fatal(err)
		}
		k := [3]string{e.Source, e.Date, e.CallID}
		a := latest[k]
		switch {
		case a == nil || e.FetchedAt.After(a.at) || (e.FetchedAt.Equal(a.at) && e.RunID > a.run):
			latest[k] = &attempt{at: e.FetchedAt, run: e.RunID, rows: []recordings.Entry{e}}
		case e.FetchedAt.Equal(a.at) && e.RunID == a.run:
			a.rows = append(a.rows, e)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for k, a := range latest {
		d := out[[2]string{k[0], k[1]}]
		d.Source, d.Date = k[0], k[1]
		d.CallsAttempted++
		failed, missing, transcribed := false, false, false
		var bytes int64
		for _, e := range a.rows {
			switch {
			case e.Part == recordings.TranscriptPart:
				transcribed = transcribed || e.Status == recordings.StatusOK
			case e.Status == recordings.StatusFailed:
				failed = true
			case e.Status == recordings.StatusMissing:
				missing = true
			case e.Status == recordings.StatusOK:
				bytes += e.Bytes
			}
		}
		switch {
		case failed:
			d.Failed++
		case missing:
			d.Missing++
		default:
			d.Stored++
		}
		d.StoredBytes += bytes
		if transcribed {
			d.Transcribed++
		}
		out[[2]string{k[0], k[1]}] = d
	}
	return out
}
