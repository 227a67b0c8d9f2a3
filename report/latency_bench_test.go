package report

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/calletl/calletl/queries"
)

// BenchmarkReports10M times every shipped report over a lake of 10M calls
// (60 days; mtt 60%, t2 30%, votbox 10%) plus the detail tables at the same
// scale — 4M mtt_calls (one per MTT call of its four directions), 3M t2_calls, 300k t2_missed_calls, 1M votbox_calls
// in 1,000 tasks, 3.3M recordings manifest rows and their recording_days,
// daily balances and employee snapshots — written by DuckDB in the lake's
// Hive layout with the lake's column types. Tables a report needs that are
// not generated are the engine's typed empty views. Set CALLETL_BENCH_LAKE
// to a directory to keep the generated lake between runs; a table added to
// the generator since is added to it.
//
//	go test -run '^$' -bench Reports10M -benchtime 3x ./report/
func BenchmarkReports10M(b *testing.B) {
	lake := os.Getenv("CALLETL_BENCH_LAKE")
	if lake == "" {
		lake = b.TempDir()
	}
	start := time.Now()
	if build10M(b, lake) {
		b.Logf("generated the lake in %v", time.Since(start))
	}
	ctx := context.Background()
	e, err := Open(ctx, Options{Lake: lake, TimeZone: "Europe/Moscow", Tables: allTables()})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	var n int64
	if err := e.db.QueryRow("SELECT count(*) FROM calls").Scan(&n); err != nil || n != 10_000_000 {
		b.Fatalf("calls: %d rows (%v)", n, err)
	}
	cat, err := Catalogue(queries.FS())
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range cat {
		b.Run(r.Name, func(b *testing.B) {
			for b.Loop() {
				if _, err := e.Query(ctx, r, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
		})
	}
}

// build10M writes the tables of the lake that are not in it yet and
// reports whether it wrote any.
func build10M(b *testing.B, lake string) (built bool) {
	b.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	// Each table is a COPY whose %s is the table's directory.
	tables := []struct{ table, copy string }{
		{"calls", `COPY (
			SELECT CASE WHEN i %% 10 < 6 THEN 'mtt' WHEN i %% 10 < 9 THEN 't2' ELSE 'votbox' END AS source,
				DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date,
				'acc' || (i %% 7) AS account, 'c' || i AS call_id,
				['incoming','outgoing','missed','forwarded','internal','autocall'][1 + i %% 6] AS direction,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) + to_seconds(CAST(i %% 86400 AS BIGINT)) AS started_at,
				'7916' || lpad(CAST(i %% 10000000 AS VARCHAR), 7, '0') AS caller, '8916' || lpad(CAST(i %% 10000000 AS VARCHAR), 7, '0') AS caller_raw,
				'7495' || lpad(CAST((i * 7) %% 10000000 AS VARCHAR), 7, '0') AS callee, '7495' || lpad(CAST((i * 7) %% 10000000 AS VARCHAR), 7, '0') AS callee_raw,
				CAST(i %% 600 AS INTEGER) AS duration_s, CAST(CASE WHEN i %% 5 = 0 THEN 0 ELSE i %% 500 END AS INTEGER) AS talk_s,
				CAST((i %% 500 + 59) / 60 * 60 AS INTEGER) AS billed_s,
				CAST((i %% 1000) / 100.0 AS DECIMAL(18,4)) AS cost, 'RUB' AS currency,
				CASE WHEN i %% 5 = 0 THEN 'not_answered' ELSE 'answered' END AS status,
				CAST(16 + i %% 3 AS SMALLINT) AS disconnect_cause, 'normal clearing' AS disconnect_label,
				i %% 3 = 0 AS has_recording, 'ref' || i AS recording_ref, 'bench' AS run_id,
				TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at, i %% 100000 = 7 AS duplicate
			FROM range(10000000) t(i)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		// mtt_calls holds the key, what calls lacks and the charges
		// (extract/mtt), one row per MTT call of the four MTT directions
		// above, the same values as their calls rows.
		{"mtt_calls", `COPY (
			SELECT 'mtt' AS source, DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date,
				'acc' || (i %% 7) AS customer_name, ['incoming','dialed','missed','forwarded'][1 + i %% 6] AS type,
				'c' || i AS call_id,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) + to_seconds(CAST(i %% 86400 AS BIGINT)) AS customer_local_time,
				['Россия - мобильные МТС','Россия - мобильные Билайн','Россия - Москва','Россия - регионы','Казахстан'][1 + i %% 5] AS destination,
				CAST(1000 AS INTEGER) AS setup_time_ms, '74951234567' AS account_id,
				'c' || i AS h323_conf_id, '' AS h323_incoming_conf_id,
				i %% 3 = 0 AS voice_record_exist, '' AS extras,
				CAST((i %% 500 + 59) / 60 * 60 AS INTEGER) AS charged_time,
				CAST((i %% 1000) / 100.0 AS DECIMAL(18,4)) AS charged, 'RUB' AS curr, i %% 100000 = 7 AS duplicate
			FROM range(10000000) t(i)
			WHERE i %% 10 < 6 AND i %% 6 < 4
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		{"balances", `COPY (
			SELECT 'mtt' AS source, DATE '2026-09-01' + CAST(d AS INTEGER) AS date, 'acc' || a AS account,
				CAST(100000 - d * 950.5 AS DECIMAL(18,4)) AS balance, 'RUB' AS currency, CAST(100000 - d * 950.5 AS VARCHAR) AS raw,
				'bench' AS run_id, TIMESTAMPTZ '2026-08-31 23:00:00+00' + to_days(CAST(d AS INTEGER)) AS taken_at
			FROM range(60) t1(d), range(7) t2(a)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date))`},
		// T2 detail for the t2 share of calls (i % 10 in 6..8): 3M call
		// records whose employee side is one of 200 employees, 300k missed
		// MCN calls, and a daily employee snapshot.
		{"t2_calls", `COPY (
			SELECT 't2' AS source, DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date, 'c' || i AS call_id,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) + to_seconds(CAST(i %% 86400 AS BIGINT)) AS call_timestamp,
				['SINGLE_CHANNEL','OUTGOING','MULTI_CHANNEL','INTERNAL'][1 + i %% 4] AS call_type, '74950000001' AS destination_number,
				CASE WHEN i %% 4 = 1 THEN '7999000' || lpad(CAST(i %% 200 AS VARCHAR), 4, '0') ELSE '7916' || lpad(CAST(i %% 10000000 AS VARCHAR), 7, '0') END AS caller_number,
				'' AS caller_name,
				CASE WHEN i %% 4 = 1 THEN '7495' || lpad(CAST((i * 7) %% 10000000 AS VARCHAR), 7, '0') ELSE '7999000' || lpad(CAST(i %% 200 AS VARCHAR), 4, '0') END AS callee_number,
				'' AS callee_name, CAST(i %% 600 AS INTEGER) AS call_duration,
				CASE WHEN i %% 5 = 0 THEN NULL ELSE CAST(i %% 500 AS INTEGER) END AS conversation_duration,
				CASE WHEN i %% 5 = 0 THEN 'NOT_ANSWERED_COMMON' ELSE 'ANSWERED_COMMON' END AS call_status,
				'' AS record_file_name, '' AS extras, 'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(10000000) t(i) WHERE i %% 10 BETWEEN 6 AND 8
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		{"t2_missed_calls", `COPY (
			SELECT 't2' AS source, DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date, CAST(i AS VARCHAR) AS id,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) + to_seconds(CAST((i * 13) %% 86400 AS BIGINT)) AS start_date,
				CAST(i %% 90 AS INTEGER) AS wait_duration,
				'8495' || lpad(CAST((i * 70) %% 10000000 AS VARCHAR), 7, '0') AS caller_number,
				'7495' || lpad(CAST((i * 70) %% 10000000 AS VARCHAR), 7, '0') AS caller,
				['74950000001','74950000002'][1 + i %% 2] AS destination_number, CAST(932 AS BIGINT) AS callee_company_id,
				'' AS callee_number, '' AS callee_name, '' AS extras, 'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(300000) t(i)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		{"t2_employees", `COPY (
			SELECT 't2' AS source, DATE '2026-09-01' + CAST(d AS INTEGER) AS date, CAST(k AS BIGINT) AS employee_id,
				'Имя' || k AS name, 'Фамилия' || k AS surname, '7999000' || lpad(CAST(k AS VARCHAR), 4, '0') AS full_number,
				lpad(CAST(k AS VARCHAR), 4, '0') AS short_number, 'e' || k || '@example.ru' AS email, '{}' AS raw,
				'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS snapshot_at
			FROM range(60) t1(d), range(200) t2(k)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date))`},
		// VotBox detail for the votbox share (i % 10 = 9): 1M items in
		// 1,000 tasks, and each task's latest extraction.
		{"votbox_calls", `COPY (
			SELECT 'votbox' AS source, DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date, 't' || (i // 10000) AS task_id,
				CAST(i AS VARCHAR) AS item_id, '8916' || lpad(CAST(i %% 10000000 AS VARCHAR), 7, '0') AS phone_raw,
				'7916' || lpad(CAST(i %% 10000000 AS VARCHAR), 7, '0') AS phone,
				CAST([2,3,3,3,4,5,7,11][1 + i %% 8] AS SMALLINT) AS job_status, 'success' AS job_status_label, 'Успешно' AS job_status_str,
				CAST(1 + i %% 3 AS INTEGER) AS attempts,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) + to_seconds(CAST(i %% 86400 AS BIGINT)) AS call_time,
				CAST(i %% 60 AS INTEGER) AS call_duration, CAST(i %% 30 AS INTEGER) AS oper_call_duration,
				CAST((i %% 300) / 100.0 AS DECIMAL(18,4)) AS call_pay, CAST((i %% 50) / 100.0 AS DECIMAL(18,4)) AS oper_call_pay,
				'' AS rec_filename, '' AS extras, '' AS detail, 'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(10000000) t(i) WHERE i %% 10 = 9
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		{"votbox_tasks", `COPY (
			SELECT 'votbox' AS source, DATE '2026-09-01' + CAST(k %% 60 AS INTEGER) AS date, 't' || k AS task_id, 'Задача ' || k AS task_name,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(k %% 60 AS INTEGER)) AS start_time, 2 AS status, 'Завершена' AS status_text,
				CAST(1000 AS BIGINT) AS items, CAST(0 AS BIGINT) AS rejected_items, CAST(0 AS BIGINT) AS queued_items,
				CAST(0 AS BIGINT) AS in_progress_items, CAST(125 AS BIGINT) AS error_items, CAST(375 AS BIGINT) AS success_items,
				CAST(125 AS BIGINT) AS operator_items, CAST(125 AS BIGINT) AS billing_error_items, CAST(125 AS BIGINT) AS expired_items,
				CAST(125 AS BIGINT) AS stopped_by_user_items, CAST(0 AS BIGINT) AS other_items, true AS final, '' AS extras,
				'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(1000) t(k)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date))`},
		// The recordings manifest: one part per recorded call (has_recording
		// is i % 3 = 0), one call in 25 missing at the vendor.
		{"recordings", `COPY (
			SELECT CASE WHEN i %% 10 < 6 THEN 'mtt' WHEN i %% 10 < 9 THEN 't2' ELSE 'votbox' END AS source,
				DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date, 'c' || i AS call_id, 'ref' || i AS recording_ref,
				CAST(0 AS INTEGER) AS part, 'recordings/c' || i || '/part-0.wav' AS key, CAST(100000 + i %% 50000 AS BIGINT) AS bytes,
				md5(CAST(i AS VARCHAR)) AS sha256, 'audio/wav' AS content_type,
				CASE WHEN i %% 25 = 0 THEN 'missing' ELSE 'ok' END AS status, CAST(1 AS INTEGER) AS attempts, '' AS error,
				TIMESTAMPTZ '2026-11-01 00:00:00+00' AS fetched_at, 'bench' AS run_id
			FROM range(0, 10000000, 3) t(i)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`},
		// recording_days as the recordings run computes it from that
		// manifest: each call has one attempt of one row there, so the
		// rows are the calls.
		{"recording_days", `COPY (
			SELECT source, date, count(*) AS calls_attempted, count(*) FILTER (WHERE status = 'ok') AS stored,
				count(*) FILTER (WHERE status = 'missing') AS missing, count(*) FILTER (WHERE status = 'failed') AS failed,
				CAST(coalesce(sum(bytes) FILTER (WHERE status = 'ok'), 0) AS BIGINT) AS stored_bytes,
				CAST(0 AS BIGINT) AS transcribed, 'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS updated_at
			FROM read_parquet('` + filepath.Join(lake, "recordings", "*", "*", "*.parquet") + `', hive_partitioning = true, hive_types = {'source': VARCHAR, 'date': DATE})
			GROUP BY source, date
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date))`},
	}
	for _, s := range tables {
		// A table already in the lake is kept: a lake generated before a
		// table was added to the generator gets only the new table.
		dir := filepath.Join(lake, s.table)
		if _, err := os.Stat(dir); err == nil {
			continue
		}
		q := fmt.Sprintf(s.copy, dir)
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
		built = true
	}
	return built
}
