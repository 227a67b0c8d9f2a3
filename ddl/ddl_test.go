package ddl

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/calletl/calletl/load"
)

func TestTypeOf(t *testing.T) {
	for _, tc := range []struct {
		typ  arrow.DataType
		want [4]string // trino, athena, spark, duckdb
	}{
		{arrow.BinaryTypes.String, [4]string{"varchar", "string", "STRING", "VARCHAR"}},
		{arrow.FixedWidthTypes.Boolean, [4]string{"boolean", "boolean", "BOOLEAN", "BOOLEAN"}},
		{arrow.PrimitiveTypes.Int16, [4]string{"smallint", "smallint", "SMALLINT", "SMALLINT"}},
		{arrow.PrimitiveTypes.Int32, [4]string{"integer", "int", "INT", "INTEGER"}},
		{arrow.PrimitiveTypes.Int64, [4]string{"bigint", "bigint", "BIGINT", "BIGINT"}},
		{arrow.PrimitiveTypes.Float64, [4]string{"double", "double", "DOUBLE", "DOUBLE"}},
		{load.MoneyType(), [4]string{"decimal(18,4)", "decimal(18,4)", "DECIMAL(18,4)", "DECIMAL(18,4)"}},
		{load.TimestampType(), [4]string{"timestamp(3)", "timestamp", "TIMESTAMP", "TIMESTAMPTZ"}},
		{arrow.FixedWidthTypes.Date32, [4]string{"date", "date", "DATE", "DATE"}},
		{&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, [4]string{"varchar", "string", "STRING", "VARCHAR"}},
	} {
		for i, d := range Dialects {
			got, err := TypeOf(d, tc.typ)
			if err != nil || got != tc.want[i] {
				t.Errorf("%s %s: %q, %v; want %q", d, tc.typ, got, err, tc.want[i])
			}
		}
	}
	// Types the lake does not use are refused rather than guessed.
	for _, typ := range []arrow.DataType{
		&arrow.TimestampType{Unit: arrow.Microsecond}, // no zone: not an instant
		arrow.ListOf(arrow.BinaryTypes.String),
		&arrow.Decimal128Type{Precision: 40, Scale: 2},
	} {
		if got, err := TypeOf("trino", typ); err == nil {
			t.Errorf("%s: %q, want an error", typ, got)
		}
	}
	if _, err := TypeOf("oracle", arrow.BinaryTypes.String); err == nil {
		t.Error("dialect oracle: want an error")
	}
}

// table is a small table with the awkward parts: a reserved word as a
// column name, quotes and a backslash in comments.
var table = load.TableInfo{
	Name: "calls",
	Doc:  `The vendor's calls \ all of them`,
	Schema: arrow.NewSchema([]arrow.Field{
		{Name: "call_id", Type: arrow.BinaryTypes.String},
		{Name: "window", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "cost", Type: load.MoneyType(), Nullable: true},
		{Name: "started_at", Type: load.TimestampType()},
	}, nil),
	Comments: map[string]string{"call_id": "the source's key", "source": "who sent it"},
}

func write(t *testing.T, opt Options) string {
	t.Helper()
	var b strings.Builder
	if err := Write(&b, []load.TableInfo{table}, opt); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWrite(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		want []string
		not  []string
	}{
		{Options{Dialect: "trino", Location: "s3://b/lake/"}, []string{
			`CREATE SCHEMA IF NOT EXISTS "calletl";`,
			`CREATE TABLE IF NOT EXISTS "calletl"."calls" (`,
			`"call_id" varchar COMMENT 'the source''s key',`,
			`"window" varchar,`,
			`"cost" decimal(18,4),`,
			`"started_at" timestamp(3),`,
			// partition columns last, typed, with the table's or the default comment
			"  \"source\" varchar COMMENT 'who sent it',\n  \"date\" date COMMENT 'the business day of the rows (partition)'\n)",
			`COMMENT 'The vendor''s calls \ all of them'`,
			`external_location = 's3://b/lake/calls',`,
			`partitioned_by = ARRAY['source', 'date']`,
			`CALL system.sync_partition_metadata('calletl', 'calls', 'FULL');`,
		}, nil},
		{Options{Dialect: "trino", Location: "s3://b/lake", TimestampPrecision: 6, Schema: "telecom"}, []string{
			`"started_at" timestamp(6),`, `"telecom"."calls"`, `sync_partition_metadata('telecom', 'calls'`,
		}, []string{"timestamp(3),"}},
		{Options{Dialect: "athena", Location: "s3://b/lake", Sources: []string{"mtt", "t2"}, FirstDate: "2025-01-01"}, []string{
			"CREATE EXTERNAL TABLE IF NOT EXISTS `calletl`.`calls` (",
			"`call_id` string COMMENT 'the source\\'s key',",
			"`started_at` timestamp\n)", // the last file column, no comma; partitions apart
			`COMMENT 'The vendor\'s calls \\ all of them'`,
			"PARTITIONED BY (\n  `source` string COMMENT 'who sent it',\n  `date` date COMMENT",
			"STORED AS PARQUET\nLOCATION 's3://b/lake/calls/'",
			"'projection.source.type' = 'enum'", "'projection.source.values' = 'mtt,t2'",
			"'projection.date.type' = 'date'", "'projection.date.format' = 'yyyy-MM-dd'",
			"'projection.date.range' = '2025-01-01,NOW'",
			"'storage.location.template' = 's3://b/lake/calls/source=${source}/date=${date}/'",
		}, []string{"`source` string,\n", "MSCK REPAIR TABLE"}},
		{Options{Dialect: "spark", Location: "s3a://b/lake"}, []string{
			"CREATE DATABASE IF NOT EXISTS `calletl`;",
			"`call_id` STRING COMMENT 'the source\\'s key',",
			"`cost` DECIMAL(18,4),", "`started_at` TIMESTAMP,",
			"`source` STRING COMMENT 'who sent it',\n  `date` DATE",
			"USING parquet\nPARTITIONED BY (`source`, `date`)\nLOCATION 's3a://b/lake/calls'",
			"MSCK REPAIR TABLE `calletl`.`calls`;",
		}, []string{"''"}},
		{Options{Dialect: "duckdb", Location: "/srv/lake"}, []string{
			`CREATE OR REPLACE VIEW "calls" AS`,
			`CAST(NULL AS VARCHAR) AS "source"`, `CAST(NULL AS DATE) AS "date"`,
			`CAST(NULL AS DECIMAL(18,4)) AS "cost"`, `CAST(NULL AS TIMESTAMPTZ) AS "started_at"`,
			"UNION ALL BY NAME",
			`read_parquet('/srv/lake/calls/**/*.parquet', hive_partitioning = true, union_by_name = true, hive_types = {'source': VARCHAR, 'date': DATE})`,
			`COMMENT ON VIEW "calls" IS 'The vendor''s calls \ all of them';`,
			`COMMENT ON COLUMN "calls"."call_id" IS 'the source''s key';`,
			`COMMENT ON COLUMN "calls"."source" IS 'who sent it';`,
		}, []string{"httpfs"}},
		{Options{Dialect: "duckdb", Location: "s3://b/lake"}, []string{"LOAD httpfs", "'s3://b/lake/calls/**/*.parquet'"}, nil},
	} {
		got := write(t, tc.opt)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: no %q in\n%s", tc.opt.Dialect, w, got)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(got, w) {
				t.Errorf("%s: unexpected %q in\n%s", tc.opt.Dialect, w, got)
			}
		}
	}
}

func TestWriteRefuses(t *testing.T) {
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{Dialect: "hive", Location: "s3://b/l"}, "want one of"},
		{Options{Dialect: "trino"}, "no location"},
		{Options{Dialect: "trino", Location: "/local/lake"}, "want a URL"},
		{Options{Dialect: "duckdb", Location: "/l'); COPY x TO '/etc/passwd"}, "quotes"},
		{Options{Dialect: "spark", Location: `s3://b/l\`}, "backslashes"},
		{Options{Dialect: "trino", Location: "s3://b/l", Schema: "My-Schema"}, "schema"},
		{Options{Dialect: "trino", Location: "s3://b/l", TimestampPrecision: 9}, "want 3 or 6"},
		{Options{Dialect: "athena", Location: "s3://b/l"}, "no sources"},
		{Options{Dialect: "athena", Location: "s3://b/l", Sources: []string{"mtt,t2"}}, "source"},
	} {
		var b strings.Builder
		err := Write(&b, []load.TableInfo{table}, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error with %q", tc.opt, err, tc.want)
		}
	}
}
