package report

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/lakeread"
	"github.com/calletl/calletl/storage"
)

// CopyReport runs report r with args, checked and bound as Query does, and
// writes its result to Options.Output as Parquet (zstd), committed as
// CopyParquet commits: Output is replaced only by a complete file, and on
// any error is left as it was. Unlike CopyParquet it binds parameters, so a
// report's Parquet file has exactly the rows of its table.
//
// The report's SQL is checked to be exactly one SELECT before it is put
// inside the COPY, and the COPY itself is checked to be one COPY statement;
// the sandbox lets it write Output+".tmp" and nothing else.
func (e *Engine) CopyReport(ctx context.Context, r Report, args map[string]string) error {
	if e.output == "" {
		return errors.New("report: copy: no output file: name it in Options.Output when opening the engine")
	}
	vals, err := r.values(args)
	if err != nil {
		return err
	}
	out := filepath.FromSlash(e.output)
	tmp := out + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("report %s: parquet to %s: %w", r.Name, out, err)
	}
	if err := e.copyReport(ctx, r, vals, e.output+".tmp"); err != nil {
		return errors.Join(fmt.Errorf("report %s: parquet to %s: %w", r.Name, out, e.explain(err)), removeIfExists(tmp))
	}
	if err := storage.CommitFile(tmp, out); err != nil {
		return errors.Join(fmt.Errorf("report %s: parquet to %s: %w", r.Name, out, err), removeIfExists(tmp))
	}
	return nil
}

func (e *Engine) copyReport(ctx context.Context, r Report, vals map[string]duckdb.TypedValue, tmp string) error {
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		stmt, err := prepareSelect(c, r.SQL)
		if err != nil {
			return err
		}
		if err := stmt.Close(); err != nil {
			return err
		}
		// The SQL may end in a line comment or a semicolon: the closing
		// parenthesis goes on a line of its own, after the semicolons.
		body := strings.TrimRight(r.SQL, " \t\r\n;")
		export := "COPY (\n" + body + "\n) TO " + lakeread.QuoteString(tmp) +
			" (FORMAT parquet, COMPRESSION zstd, USE_TMP_FILE false)"
		return execCopy(ctx, c, export, func(cs *duckdb.Stmt) ([]driver.NamedValue, error) { return bindArgs(cs, r, vals) })
	})
}
