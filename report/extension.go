package report

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"
)

// LoadExtension reports whether DuckDB can load the extension name here
// (installed in DuckDB's extension directory, or built in), without
// installing anything: the error is DuckDB's own, saying what is missing.
func LoadExtension(ctx context.Context, name string) error {
	if !isName(name) {
		return fmt.Errorf("report: extension %q: not a name", name)
	}
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return fmt.Errorf("report: open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	if _, err := db.ExecContext(ctx, "SET autoinstall_known_extensions = false"); err != nil {
		return fmt.Errorf("report: open duckdb: %w", err)
	}
	if _, err := db.ExecContext(ctx, "LOAD "+name); err != nil {
		return fmt.Errorf("report: LOAD %s: %w", name, err)
	}
	return nil
}
