package recordings

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/model"
)

// daysUnit is the lake unit of the recording_days files: one file per
// (source, date), replaced as a whole by every recomputation of that date.
const daysUnit = "days"

// dayPartition is a (source, date) of recording_days to recompute, with the
// manifest's data files of that partition (none: the row is removed).
type dayPartition struct {
	source, date string
	files        []string
}

// refreshDays brings recording_days up to date with the manifest of lake:
// it recomputes the (source, date) partitions that staleDays finds, plus
// those of touched (the manifest partitions this run wrote), and returns
// how many it rewrote. Each source's rows are one transaction of unit
// daysUnit covering its recomputed dates.
//
// The lake is read in readRoot: the lake's root, or a current mirror of a
// lake in a store.
func refreshDays(ctx context.Context, lake *load.Lake, readRoot, runID string, now time.Time, touched map[[2]string]bool) (int, error) {
	// The days files written below get this time as their modification
	// time: a manifest another process commits after this listing is
	// newer than them, so a date whose recomputation missed it is stale
	// for the next run even if that process dies before recomputing it.
	listed := time.Now()
	stale, err := staleDays(readRoot, touched)
	if err != nil {
		return 0, fmt.Errorf("recordings: recording_days: %w", err)
	}
	if len(stale) == 0 {
		return 0, nil
	}
	db, err := openDuck(ctx)
	if err != nil {
		return 0, fmt.Errorf("recordings: recording_days: %w", err)
	}
	defer db.Close()
	n := 0
	var errs []error
	for _, source := range slices.Sorted(maps.Keys(stale)) {
		if err := refreshSource(ctx, db, lake, source, stale[source], runID, now, listed); err != nil {
			errs = append(errs, fmt.Errorf("recordings: recording_days source=%s: %w", source, err))
			continue
		}
		n += len(stale[source])
	}
	return n, errors.Join(errs...)
}

// refreshSource recomputes the rows of parts, all of source, and commits
// them, replacing (or removing) their days files.
func refreshSource(ctx context.Context, db *sql.DB, lake *load.Lake, source string, parts []dayPartition, runID string, now, listed time.Time) error {
	var files []string
	for _, p := range parts {
		files = append(files, p.files...)
	}
	rows, err := computeDays(ctx, db, files)
	if err != nil {
		return err
	}
	tx, err := lake.Begin(source, daysUnit)
	if err != nil {
		return err
	}
	defer tx.Abort()
	w := load.Writer(tx, Days)
	for _, p := range parts {
		if err := tx.Cover(p.date); err != nil {
			return err
		}
		d, ok := rows[p.date]
		if !ok {
			continue // no manifest rows left: the date's file is removed
		}
		d.Source, d.Date, d.RunID, d.UpdatedAt = source, p.date, runID, now
		if err := w.Add(p.date, &d); err != nil {
			return err
		}
	}
	if _, err = tx.Commit(); err != nil {
		return err
	}
	if lake.Store() != nil {
		// An object's time is its upload's, a little after listed: a
		// manifest committed in between by a process killed before its
		// own recomputation is missed by the backstop (the process that
		// commits a manifest recomputes its dates itself: touched).
		return nil
	}
	for _, p := range parts {
		if _, ok := rows[p.date]; !ok {
			continue
		}
		path := filepath.Join(lake.Root(), Days.Name, "source="+source, "date="+p.date, daysUnit+".parquet")
		if err := os.Chtimes(path, time.Time{}, listed); err != nil {
			return fmt.Errorf("date %s: set the time of the rows' inputs: %w", p.date, err)
		}
	}
	return nil
}

// daysQuery computes the rows of recording_days, by date, from the manifest
// files of one source (%s: the read_parquet call). A call's state is its
// latest attempt within its (source, date) partition; the recording's state
// ignores the transcript row: failed if any part failed, else missing if
// any is missing, else ok (the rules of the work list and of the reports).
var daysQuery = `WITH attempt AS (
    SELECT date, call_id,
           CASE WHEN bool_or(status = 'failed') FILTER (WHERE part >= 0) THEN 'failed'
                WHEN bool_or(status = 'missing') FILTER (WHERE part >= 0) THEN 'missing'
                ELSE 'ok' END AS status,
           coalesce(sum(bytes) FILTER (WHERE status = 'ok' AND part >= 0), 0) AS bytes,
           coalesce(bool_or(status = 'ok') FILTER (WHERE part = ` + fmt.Sprint(TranscriptPart) + `), false) AS transcribed
    FROM %s
    GROUP BY date, call_id, fetched_at, run_id
    QUALIFY row_number() OVER (PARTITION BY date, call_id ORDER BY fetched_at DESC, run_id DESC) = 1
)
SELECT strftime(date, '%%Y-%%m-%%d'), count(*),
       count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'missing'),
       count(*) FILTER (WHERE status = 'failed'), CAST(sum(bytes) AS BIGINT), count(*) FILTER (WHERE transcribed)
FROM attempt
GROUP BY date`

// computeDays returns the recording_days rows (counts only) of the
// manifest files, by date. The files are of one source.
func computeDays(ctx context.Context, db *sql.DB, files []string) (map[string]Day, error) {
	out := make(map[string]Day)
	if len(files) == 0 {
		return out, nil
	}
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = lakeread.QuoteString(f)
	}
	src := "read_parquet([" + strings.Join(quoted, ",") + "], hive_partitioning=true, union_by_name=true, " +
		"hive_types={'source':VARCHAR,'date':DATE})"
	rows, err := db.QueryContext(ctx, fmt.Sprintf(daysQuery, src))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d Day
		if err := rows.Scan(&d.Date, &d.CallsAttempted, &d.Stored, &d.Missing, &d.Failed, &d.StoredBytes, &d.Transcribed); err != nil {
			return nil, err
		}
		out[d.Date] = d
	}
	return out, rows.Err()
}

// staleDays returns, by source, the (source, date) partitions whose
// recording_days row is not known to match the manifest:
//
//   - the manifest has data files there but recording_days has no file;
//   - the newest of the manifest partition's directory and data files was
//     modified at or after the recording_days file (a manifest committed
//     after the row was computed, or in the same tick of the file system's
//     clock);
//   - recording_days has a file but the manifest has no data file there;
//   - touched (committed by this run) holds it and the manifest has files.
//
// Only the file system's metadata is read: a directory listing per
// partition, no Parquet.
func staleDays(root string, touched map[[2]string]bool) (map[string][]dayPartition, error) {
	manifest, err := partitionDirs(filepath.Join(root, Manifest.Name))
	if err != nil {
		return nil, err
	}
	days, err := partitionDirs(filepath.Join(root, Days.Name))
	if err != nil {
		return nil, err
	}
	keys := slices.Collect(maps.Keys(manifest))
	for k := range days {
		if _, ok := manifest[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1])
	})
	stale := make(map[string][]dayPartition)
	for _, k := range keys {
		p := dayPartition{source: k[0], date: k[1]}
		var newest time.Time
		if dir, ok := manifest[k]; ok {
			if p.files, newest, err = dataFiles(dir); err != nil {
				return nil, err
			}
		}
		var daysMod time.Time
		haveDays := false
		if dir, ok := days[k]; ok {
			fi, err := os.Stat(filepath.Join(dir, daysUnit+".parquet"))
			switch {
			case err == nil:
				daysMod, haveDays = fi.ModTime(), true
			case !errors.Is(err, fs.ErrNotExist):
				return nil, err
			}
		}
		if len(p.files) == 0 && !haveDays {
			continue
		}
		if len(p.files) > 0 && haveDays && !touched[k] && newest.Before(daysMod) {
			continue
		}
		stale[p.source] = append(stale[p.source], p)
	}
	return stale, nil
}

// partitionDirs returns the partition directories of a table directory,
// ROOT/table/source=S/date=D, by (source, date). A missing table directory
// has none.
func partitionDirs(tableDir string) (map[[2]string]string, error) {
	out := make(map[[2]string]string)
	sources, err := os.ReadDir(tableDir)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, s := range sources {
		source, ok := strings.CutPrefix(s.Name(), load.SourceColumn+"=")
		if !ok || !s.IsDir() {
			continue
		}
		dates, err := os.ReadDir(filepath.Join(tableDir, s.Name()))
		if err != nil {
			return nil, err
		}
		for _, d := range dates {
			date, ok := strings.CutPrefix(d.Name(), load.DateColumn+"=")
			if !ok || !d.IsDir() {
				continue
			}
			if t, err := time.Parse(model.DayLayout, date); err != nil || t.Format(model.DayLayout) != date {
				continue
			}
			out[[2]string{source, date}] = filepath.Join(tableDir, s.Name(), d.Name())
		}
	}
	return out, nil
}

// dataFiles returns the committed Parquet files of a partition directory
// and the newest modification time of the directory and those files.
func dataFiles(dir string) (files []string, newest time.Time, err error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, time.Time{}, err
	}
	newest = fi.ModTime()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, e := range entries {
		name := e.Name()
		if !lakeread.IsDataName(name) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // replaced or removed meanwhile
		}
		if err != nil {
			return nil, time.Time{}, err
		}
		if m := info.ModTime(); m.After(newest) {
			newest = m
		}
		files = append(files, filepath.Join(dir, name))
	}
	return files, newest, nil
}
