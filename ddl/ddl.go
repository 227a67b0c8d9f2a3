// Package ddl writes the CREATE statements that let other engines (Trino,
// Athena, Spark, DuckDB) query the lake where it lies, without calletl:
// one table (or view) per lake table over the layout
// <location>/<table>/source=<s>/date=<YYYY-MM-DD>/<unit>.parquet, with the
// partition columns typed (source a string, date a DATE), the columns typed
// from the tables' Arrow schemas and described by their comments.
package ddl

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/calletl/calletl/load"
)

// Dialects are the engines Write knows, in the order the CLI lists them.
var Dialects = []string{"trino", "athena", "spark", "duckdb"}

// Options say where the lake is and how to name what is created.
type Options struct {
	// Dialect is one of Dialects.
	Dialect string
	// Location is the lake's root: s3://bucket/prefix, or for DuckDB also
	// a local directory. No trailing slash needed.
	Location string
	// Schema is the database the tables are created in (Trino, Athena,
	// Spark); DuckDB's views go to the current schema. Default "calletl".
	Schema string
	// Sources are the values the source partition can take: Athena's
	// partition projection enumerates them.
	Sources []string
	// FirstDate (YYYY-MM-DD) starts Athena's projected date range; the range
	// ends at NOW. Default 2020-01-01.
	FirstDate string
	// TimestampPrecision is Trino's: the Hive connector creates timestamp
	// columns only at its catalog's hive.timestamp-precision, 3
	// (MILLISECONDS, the default and Write's default) or 6 (MICROSECONDS,
	// which reads the lake's microseconds exactly).
	TimestampPrecision int
	// HasFiles, when set, says whether a table has any file yet (DuckDB
	// only): DuckDB cannot create a view over a glob that matches nothing,
	// so a table without files gets an empty view of its columns instead.
	// Nil assumes every table has files.
	HasFiles func(table string) (bool, error)
}

// Write writes the statements that create every table of tables, in order,
// each ending with ";\n", for opt.Dialect.
func Write(w io.Writer, tables []load.TableInfo, opt Options) error {
	if !slices.Contains(Dialects, opt.Dialect) {
		return fmt.Errorf("ddl: dialect %q: want one of %s", opt.Dialect, strings.Join(Dialects, ", "))
	}
	if opt.Location == "" {
		return fmt.Errorf("ddl: no location: give the lake's root, e.g. s3://bucket/prefix")
	}
	if strings.ContainsAny(opt.Location, "'\\\n\x00") {
		return fmt.Errorf("ddl: location %q: quotes, backslashes and newlines are not allowed", opt.Location)
	}
	if opt.Dialect != "duckdb" && !strings.Contains(opt.Location, "://") {
		return fmt.Errorf("ddl: location %q: %s reads the lake from object storage: want a URL such as s3://bucket/prefix", opt.Location, opt.Dialect)
	}
	if opt.Schema == "" {
		opt.Schema = "calletl"
	}
	if !isName(opt.Schema) {
		return fmt.Errorf("ddl: schema %q: want [a-z][a-z0-9_]*", opt.Schema)
	}
	switch opt.TimestampPrecision {
	case 0:
		opt.TimestampPrecision = 3
	case 3, 6:
	default:
		return fmt.Errorf("ddl: timestamp precision %d: want 3 or 6 (the Hive catalog's hive.timestamp-precision, MILLISECONDS or MICROSECONDS)", opt.TimestampPrecision)
	}
	if opt.FirstDate == "" {
		opt.FirstDate = "2020-01-01"
	}
	if opt.Dialect == "athena" && len(opt.Sources) == 0 {
		return fmt.Errorf("ddl: athena: no sources to project the source partition over")
	}
	for _, s := range opt.Sources {
		if !isName(s) {
			return fmt.Errorf("ddl: source %q: want [a-z][a-z0-9_]*", s)
		}
	}
	opt.Location = strings.TrimRight(opt.Location, "/")
	d := dialects[opt.Dialect]
	var b strings.Builder
	b.WriteString(d.header(opt))
	for _, t := range tables {
		if !isName(t.Name) || t.Schema == nil {
			return fmt.Errorf("ddl: table %q: want a name [a-z][a-z0-9_]* and a schema", t.Name)
		}
		cols := make([]column, 0, t.Schema.NumFields())
		for _, f := range t.Schema.Fields() {
			typ, err := d.typeOf(f.Type)
			if err != nil {
				return fmt.Errorf("ddl: %s: table %s column %s: %w", opt.Dialect, t.Name, f.Name, err)
			}
			if typ == "timestamp(3)" && opt.Dialect == "trino" {
				typ = fmt.Sprintf("timestamp(%d)", opt.TimestampPrecision)
			}
			cols = append(cols, column{name: f.Name, typ: typ, arrow: f.Type, comment: t.Comments[f.Name]})
		}
		b.WriteString("\n")
		if err := d.table(&b, opt, t, cols); err != nil {
			return fmt.Errorf("ddl: table %s: %w", t.Name, err)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// column is one file column, typed for the dialect.
type column struct {
	name, typ, comment string
	arrow              arrow.DataType
}

// dialect is how one engine spells things.
type dialect struct {
	header func(Options) string
	typeOf func(arrow.DataType) (string, error)
	table  func(b *strings.Builder, opt Options, t load.TableInfo, cols []column) error
}

var dialects = map[string]dialect{
	"trino":  {trinoHeader, trinoType, trinoTable},
	"athena": {athenaHeader, hiveType, athenaTable},
	"spark":  {sparkHeader, sparkType, sparkTable},
	"duckdb": {duckHeader, duckType, duckTable},
}

// typeNames maps the Arrow types the lake's tables use to each dialect's
// type (the same order as Dialects). Money is DECIMAL(18,4) everywhere;
// timestamps are instants in UTC (Parquet TIMESTAMP isAdjustedToUTC, µs).
func typeNames(t arrow.DataType) ([4]string, error) {
	switch t := t.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		return [4]string{"varchar", "string", "STRING", "VARCHAR"}, nil
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return [4]string{"varbinary", "binary", "BINARY", "BLOB"}, nil
	case *arrow.BooleanType:
		return [4]string{"boolean", "boolean", "BOOLEAN", "BOOLEAN"}, nil
	case *arrow.Int8Type:
		return [4]string{"tinyint", "tinyint", "TINYINT", "TINYINT"}, nil
	case *arrow.Int16Type:
		return [4]string{"smallint", "smallint", "SMALLINT", "SMALLINT"}, nil
	case *arrow.Int32Type:
		return [4]string{"integer", "int", "INT", "INTEGER"}, nil
	case *arrow.Int64Type:
		return [4]string{"bigint", "bigint", "BIGINT", "BIGINT"}, nil
	case *arrow.Float32Type:
		return [4]string{"real", "float", "FLOAT", "FLOAT"}, nil
	case *arrow.Float64Type:
		return [4]string{"double", "double", "DOUBLE", "DOUBLE"}, nil
	case *arrow.Decimal128Type:
		if t.Precision > 38 {
			return [4]string{}, fmt.Errorf("decimal(%d,%d): precision above 38", t.Precision, t.Scale)
		}
		s := fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
		u := strings.ToUpper(s)
		return [4]string{s, s, u, u}, nil
	case *arrow.Date32Type:
		return [4]string{"date", "date", "DATE", "DATE"}, nil
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return [4]string{}, fmt.Errorf("timestamp without a time zone: the lake stores instants (timestamp[us, tz=UTC])")
		}
		// Trino's Hive connector creates only timestamp(3) columns (Hive has
		// no zoned type; it reads them at the catalog's
		// hive.timestamp-precision); Athena's Hive DDL: timestamp (ms);
		// Spark's TIMESTAMP is an instant (TIMESTAMP_LTZ); DuckDB keeps the zone.
		return [4]string{"timestamp(3)", "timestamp", "TIMESTAMP", "TIMESTAMPTZ"}, nil
	case *arrow.DictionaryType:
		return typeNames(t.ValueType)
	}
	return [4]string{}, fmt.Errorf("no SQL type for Arrow type %s", t)
}

// TypeOf returns the type dialect declares for a column of Arrow type t.
func TypeOf(dialect string, t arrow.DataType) (string, error) {
	i := slices.Index(Dialects, dialect)
	if i < 0 {
		return "", fmt.Errorf("ddl: dialect %q: want one of %s", dialect, strings.Join(Dialects, ", "))
	}
	return typeAt(i)(t)
}

func typeAt(i int) func(arrow.DataType) (string, error) {
	return func(t arrow.DataType) (string, error) {
		n, err := typeNames(t)
		return n[i], err
	}
}

var (
	trinoType = typeAt(0)
	hiveType  = typeAt(1)
	sparkType = typeAt(2)
	duckType  = typeAt(3)
)

// Partition column comments when a table has none of its own.
var partitionDocs = map[string]string{
	load.SourceColumn: "the vendor the rows came from (partition)",
	load.DateColumn:   "the business day of the rows (partition)",
}

func partitionComment(t load.TableInfo, col string) string {
	if c := t.Comments[col]; c != "" {
		return c
	}
	return partitionDocs[col]
}

// SQL literals and identifiers. Trino and DuckDB double a quote inside a
// literal; Hive (Athena DDL) and Spark escape it with a backslash (Spark
// would read a doubled quote as two adjacent literals, joined, dropping it).
func sqlString(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func hiveString(s string) string {
	s = strings.ReplaceAll(s, "\x00", "")
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "'", `\'`)
	s = strings.ReplaceAll(s, "\n", `\n`)
	return "'" + s + "'"
}

func dquote(s string) string   { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func backtick(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// ---- Trino (Hive connector) ----

func trinoHeader(opt Options) string {
	return fmt.Sprintf(`-- calletl lake tables for Trino's Hive connector: etl ddl --dialect trino --location %s
-- Run in a Hive catalog (USE hive.%s). Timestamps are instants in UTC, read as
-- UTC wall time; the Hive connector creates them only at the catalog's
-- hive.timestamp-precision: timestamp(%d) here (--timestamp-precision 3 for the
-- default MILLISECONDS, 6 for MICROSECONDS, which keeps the lake's microseconds).
-- New partitions (days) appear after CALL system.sync_partition_metadata, which
-- follows each table: run those CALLs again after every nightly run.
CREATE SCHEMA IF NOT EXISTS %s;
`, opt.Location, opt.Schema, opt.TimestampPrecision, dquote(opt.Schema))
}

func trinoTable(b *strings.Builder, opt Options, t load.TableInfo, cols []column) error {
	name := dquote(opt.Schema) + "." + dquote(t.Name)
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", name)
	for _, c := range cols {
		fmt.Fprintf(b, "  %s %s%s,\n", dquote(c.name), c.typ, trinoComment(c.comment))
	}
	fmt.Fprintf(b, "  %s varchar%s,\n", dquote(load.SourceColumn), trinoComment(partitionComment(t, load.SourceColumn)))
	fmt.Fprintf(b, "  %s date%s\n)\n", dquote(load.DateColumn), trinoComment(partitionComment(t, load.DateColumn)))
	if t.Doc != "" {
		fmt.Fprintf(b, "COMMENT %s\n", sqlString(t.Doc))
	}
	fmt.Fprintf(b, "WITH (\n  format = 'PARQUET',\n  external_location = %s,\n  partitioned_by = ARRAY['%s', '%s']\n);\n",
		sqlString(opt.Location+"/"+t.Name), load.SourceColumn, load.DateColumn)
	fmt.Fprintf(b, "CALL system.sync_partition_metadata(%s, %s, 'FULL');\n", sqlString(opt.Schema), sqlString(t.Name))
	return nil
}

func trinoComment(c string) string {
	if c == "" {
		return ""
	}
	return " COMMENT " + sqlString(c)
}

// ---- Athena (Hive DDL, partition projection) ----

func athenaHeader(opt Options) string {
	return fmt.Sprintf(`-- calletl lake tables for Amazon Athena: etl ddl --dialect athena --location %s
-- Partition projection computes the partitions from the query (source: the
-- vendors; date: %s to today), so new days need no MSCK REPAIR or crawler.
-- Timestamps are instants in UTC, read as timestamp (milliseconds).
CREATE DATABASE IF NOT EXISTS %s;
`, opt.Location, opt.FirstDate, backtick(opt.Schema))
}

func athenaTable(b *strings.Builder, opt Options, t load.TableInfo, cols []column) error {
	loc := opt.Location + "/" + t.Name
	fmt.Fprintf(b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s.%s (\n", backtick(opt.Schema), backtick(t.Name))
	for i, c := range cols {
		sep := ","
		if i == len(cols)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  %s %s%s%s\n", backtick(c.name), c.typ, hiveComment(c.comment), sep)
	}
	b.WriteString(")\n")
	if t.Doc != "" {
		fmt.Fprintf(b, "COMMENT %s\n", hiveString(t.Doc))
	}
	fmt.Fprintf(b, "PARTITIONED BY (\n  %s string%s,\n  %s date%s\n)\n",
		backtick(load.SourceColumn), hiveComment(partitionComment(t, load.SourceColumn)),
		backtick(load.DateColumn), hiveComment(partitionComment(t, load.DateColumn)))
	fmt.Fprintf(b, "STORED AS PARQUET\nLOCATION %s\nTBLPROPERTIES (\n", hiveString(loc+"/"))
	props := [][2]string{
		{"projection.enabled", "true"},
		{"projection.source.type", "enum"},
		{"projection.source.values", strings.Join(opt.Sources, ",")},
		{"projection.date.type", "date"},
		{"projection.date.format", "yyyy-MM-dd"},
		{"projection.date.range", opt.FirstDate + ",NOW"},
		{"projection.date.interval", "1"},
		{"projection.date.interval.unit", "DAYS"},
		{"storage.location.template", loc + "/source=${source}/date=${date}/"},
	}
	for i, p := range props {
		sep := ","
		if i == len(props)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "  %s = %s%s\n", hiveString(p[0]), hiveString(p[1]), sep)
	}
	b.WriteString(");\n")
	return nil
}

func hiveComment(c string) string {
	if c == "" {
		return ""
	}
	return " COMMENT " + hiveString(c)
}

// ---- Spark (data source table) ----

func sparkHeader(opt Options) string {
	return fmt.Sprintf(`-- calletl lake tables for Spark SQL: etl ddl --dialect spark --location %s
-- Open-source Spark reads S3 through hadoop-aws: give --location s3a://… there.
-- TIMESTAMP columns are instants (TIMESTAMP_LTZ). New partitions (days) appear
-- after MSCK REPAIR TABLE, which follows each table: run those again after every
-- nightly run.
CREATE DATABASE IF NOT EXISTS %s;
`, opt.Location, backtick(opt.Schema))
}

func sparkTable(b *strings.Builder, opt Options, t load.TableInfo, cols []column) error {
	name := backtick(opt.Schema) + "." + backtick(t.Name)
	fmt.Fprintf(b, "CREATE TABLE IF NOT EXISTS %s (\n", name)
	for _, c := range cols {
		fmt.Fprintf(b, "  %s %s%s,\n", backtick(c.name), c.typ, hiveComment(c.comment))
	}
	fmt.Fprintf(b, "  %s STRING%s,\n", backtick(load.SourceColumn), hiveComment(partitionComment(t, load.SourceColumn)))
	fmt.Fprintf(b, "  %s DATE%s\n)\n", backtick(load.DateColumn), hiveComment(partitionComment(t, load.DateColumn)))
	fmt.Fprintf(b, "USING parquet\nPARTITIONED BY (%s, %s)\nLOCATION %s\n",
		backtick(load.SourceColumn), backtick(load.DateColumn), hiveString(opt.Location+"/"+t.Name))
	if t.Doc != "" {
		fmt.Fprintf(b, "COMMENT %s\n", hiveString(t.Doc))
	}
	b.WriteString(";\n")
	fmt.Fprintf(b, "MSCK REPAIR TABLE %s;\n", name)
	return nil
}

// ---- DuckDB (views over read_parquet) ----

func duckHeader(opt Options) string {
	s := fmt.Sprintf(`-- calletl lake views for DuckDB: etl ddl --dialect duckdb --location %s
-- Each view reads its table's files as they are now (hive partitions typed),
-- with every column of the table's definition, typed as defined, even where
-- older files lack one.
`, opt.Location)
	if opt.HasFiles != nil {
		s += `-- A table with no file yet gets an empty view; run etl ddl again once it has files.
`
	} else {
		s += `-- DuckDB cannot create a view over files that do not exist yet: the CREATE of a
-- table with no file fails with "No files found"; run this again once it has files.
`
	}
	if strings.Contains(opt.Location, "://") {
		s += `-- Remote lakes need DuckDB's httpfs extension and credentials, e.g.:
--   INSTALL httpfs; LOAD httpfs;
--   CREATE SECRET calletl (TYPE s3, PROVIDER credential_chain);
`
	}
	return s
}

func duckTable(b *strings.Builder, opt Options, t load.TableInfo, cols []column) error {
	name := dquote(t.Name)
	// The empty, typed SELECT first: UNION ALL BY NAME keeps its column
	// order and types and adds NULLs for columns a file lacks.
	sel := []string{"CAST(NULL AS VARCHAR) AS " + dquote(load.SourceColumn), "CAST(NULL AS DATE) AS " + dquote(load.DateColumn)}
	for _, c := range cols {
		sel = append(sel, "CAST(NULL AS "+c.typ+") AS "+dquote(c.name))
	}
	has := true
	if opt.HasFiles != nil {
		var err error
		if has, err = opt.HasFiles(t.Name); err != nil {
			return err
		}
	}
	if has {
		fmt.Fprintf(b, "CREATE OR REPLACE VIEW %s AS\nSELECT %s\nWHERE false\nUNION ALL BY NAME\nSELECT * FROM read_parquet(%s, hive_partitioning = true, union_by_name = true, hive_types = {'%s': VARCHAR, '%s': DATE});\n",
			name, strings.Join(sel, ",\n  "), sqlString(opt.Location+"/"+t.Name+"/**/*.parquet"), load.SourceColumn, load.DateColumn)
	} else {
		fmt.Fprintf(b, "-- %s has no files yet: an empty view of its columns; run etl ddl again once it has.\nCREATE OR REPLACE VIEW %s AS\nSELECT %s\nWHERE false;\n",
			t.Name, name, strings.Join(sel, ",\n  "))
	}
	if t.Doc != "" {
		fmt.Fprintf(b, "COMMENT ON VIEW %s IS %s;\n", name, sqlString(t.Doc))
	}
	for _, col := range []string{load.SourceColumn, load.DateColumn} {
		fmt.Fprintf(b, "COMMENT ON COLUMN %s.%s IS %s;\n", name, dquote(col), sqlString(partitionComment(t, col)))
	}
	for _, c := range cols {
		if c.comment != "" {
			fmt.Fprintf(b, "COMMENT ON COLUMN %s.%s IS %s;\n", name, dquote(c.name), sqlString(c.comment))
		}
	}
	return nil
}
