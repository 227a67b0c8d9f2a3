package main

import (
	"testing"

	"github.com/calletl/calletl/report"
)

// TestEveryViewColumnHasComment: every column of every view the CLI
// creates (etl views, etl sql, etl report), the partition columns source
// and date included, carries a comment for analysts.
func TestEveryViewColumnHasComment(t *testing.T) {
	eng, err := report.Open(t.Context(), report.Options{Lake: t.TempDir(), TimeZone: "UTC", Tables: allTables(vendors())})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res, err := eng.Query(t.Context(), report.Report{Name: "comments", SQL: `
		SELECT table_name || '.' || column_name FROM duckdb_columns()
		WHERE NOT internal AND schema_name = current_schema() AND coalesce(comment, '') = ''
		ORDER BY 1`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range res.Rows {
		t.Errorf("%s has no comment", row[0])
	}
	if len(allTables(vendors())) < 20 {
		t.Errorf("only %d tables: the registry changed?", len(allTables(vendors())))
	}
}
