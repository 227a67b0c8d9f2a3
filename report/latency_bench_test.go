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
// (60 days; mtt 60%, t2 30%, votbox 10%) plus 6M mtt_calls rows and daily
// balance snapshots, written by DuckDB in the lake's Hive layout with the
// lake's column types. Tables a report needs that are not generated are
// the engine's typed empty views. Set CALLETL_BENCH_LAKE to a directory to
// keep the generated lake between runs.
//
//	go test -run '^$' -bench Reports10M -benchtime 3x ./report/
func BenchmarkReports10M(b *testing.B) {
	lake := os.Getenv("CALLETL_BENCH_LAKE")
	if lake == "" {
		lake = b.TempDir()
	}
	if _, err := os.Stat(filepath.Join(lake, "calls")); err != nil {
		start := time.Now()
		build10M(b, lake)
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

func build10M(b *testing.B, lake string) {
	b.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	stmts := []string{
		fmt.Sprintf(`COPY (
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
				TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(10000000) t(i)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`, filepath.Join(lake, "calls")),
		fmt.Sprintf(`COPY (
			SELECT 'mtt' AS source, DATE '2026-09-01' + CAST(i %% 60 AS INTEGER) AS date,
				'acc' || (i %% 7) AS customer_name, ['incoming','missed','dialed','forwarded'][1 + i %% 4] AS type,
				'c' || i AS call_id, '79160000000' AS cli, '74950000000' AS cld,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) AS customer_local_time,
				TIMESTAMPTZ '2026-08-31 21:00:00+00' + to_days(CAST(i %% 60 AS INTEGER)) AS connect_time,
				CAST(i %% 600 AS INTEGER) AS charged_time, CAST((i %% 1000) / 100.0 AS DECIMAL(18,4)) AS charged, 'RUB' AS curr,
				['Россия - мобильные МТС','Россия - мобильные Билайн','Россия - Москва','Россия - регионы','Казахстан'][1 + i %% 5] AS destination,
				CAST(16 AS SMALLINT) AS disconnect_cause, CAST(1000 AS INTEGER) AS setup_time_ms, '74951234567' AS account_id,
				CAST(i %% 500 AS INTEGER) AS used_quantity, 'c' || i AS h323_conf_id, '' AS h323_incoming_conf_id,
				false AS voice_record_exist, '' AS extras, 'bench' AS run_id, TIMESTAMPTZ '2026-11-01 00:00:00+00' AS extracted_at
			FROM range(6000000) t(i)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date), COMPRESSION zstd)`, filepath.Join(lake, "mtt_calls")),
		fmt.Sprintf(`COPY (
			SELECT 'mtt' AS source, DATE '2026-09-01' + CAST(d AS INTEGER) AS date, 'acc' || a AS account,
				CAST(100000 - d * 950.5 AS DECIMAL(18,4)) AS balance, 'RUB' AS currency, CAST(100000 - d * 950.5 AS VARCHAR) AS raw,
				'bench' AS run_id, TIMESTAMPTZ '2026-08-31 23:00:00+00' + to_days(CAST(d AS INTEGER)) AS taken_at
			FROM range(60) t1(d), range(7) t2(a)
		) TO '%s' (FORMAT parquet, PARTITION_BY (source, date))`, filepath.Join(lake, "balances")),
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			b.Fatalf("%v\n%s", err, s)
		}
	}
}
