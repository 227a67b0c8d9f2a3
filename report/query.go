package report

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Result is a report's output, fully read into memory.
type Result struct {
	Columns []string
	// Types are DuckDB's names of the column types: "VARCHAR", "BIGINT",
	// "DECIMAL(38,4)", "DATE", "TIMESTAMPTZ", …
	Types []string
	// Rows hold the values as duckdb-go returns them: nil for NULL, string,
	// int64 (and the other integer types), *big.Int for HUGEINT, float64,
	// bool, duckdb.Decimal for DECIMAL, time.Time for DATE (midnight UTC),
	// TIMESTAMP (UTC, naive) and TIMESTAMPTZ (in the engine's time zone).
	Rows [][]any
}

// Query runs report r with args (parameter name → value as text) and reads
// the whole result. Arguments are checked against r's header: an unknown
// name, a missing required parameter or a value that does not parse as the
// declared type is an error before DuckDB sees anything. Values are bound as
// prepared-statement parameters. r.SQL must be exactly one SELECT statement
// and must use only declared parameters.
func (e *Engine) Query(ctx context.Context, r Report, args map[string]string) (*Result, error) {
	vals, err := r.values(args)
	if err != nil {
		return nil, err
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", r.Name, err)
	}
	defer conn.Close()

	var res *Result
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		stmt, err := prepareSelect(c, r.SQL)
		if err != nil {
			return err
		}
		defer stmt.Close()

		nargs, err := bindArgs(stmt, r, vals)
		if err != nil {
			return err
		}
		rows, err := stmt.QueryContext(ctx, nargs)
		if err != nil {
			return err
		}
		defer rows.Close()
		res, err = e.read(rows)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("report %s: %w", r.Name, e.explain(err))
	}
	return res, nil
}

// bindArgs returns the arguments of stmt: exactly the parameters the SQL
// uses, each bound by its name. duckdb-go binds a parameter it finds no name
// for to the argument in its position, which would silently be another
// parameter.
func bindArgs(stmt *duckdb.Stmt, r Report, vals map[string]duckdb.TypedValue) ([]driver.NamedValue, error) {
	nargs := make([]driver.NamedValue, stmt.NumInput())
	for i := range nargs {
		name, err := stmt.ParamName(i + 1)
		if err != nil {
			return nil, err
		}
		v, ok := vals[name]
		if !ok {
			return nil, fmt.Errorf("the SQL uses $%s, which the header does not declare; %s", name, r.paramList())
		}
		nargs[i] = driver.NamedValue{Name: name, Ordinal: i + 1, Value: v}
	}
	return nargs, nil
}

// prepareSelect prepares query, which must be exactly one SELECT statement:
// DuckDB's parser decides, through the statement type of the prepared
// statement. It is the one check every output format goes through (Query
// and CopyParquet).
func prepareSelect(c *duckdb.Conn, query string) (*duckdb.Stmt, error) {
	// DuckDB reads the SQL as a C string: text after a NUL would be neither
	// checked nor run, so refuse it rather than guess.
	if strings.ContainsRune(query, 0) {
		return nil, fmt.Errorf("%w: the SQL contains a NUL character", ErrNotSelect)
	}
	// Prepare, unlike PrepareContext, refuses several statements instead of
	// executing all but the last one.
	ds, err := c.Prepare(query)
	if err != nil {
		if strings.Contains(err.Error(), "multi-statement") { // duckdb-go's error for it is unexported
			return nil, fmt.Errorf("%w: it holds several statements", ErrNotSelect)
		}
		return nil, err
	}
	stmt := ds.(*duckdb.Stmt)
	typ, err := stmt.StatementType()
	if err == nil && typ != duckdb.STATEMENT_TYPE_SELECT {
		err = fmt.Errorf("%w: it is %s", ErrNotSelect, stmtKind(typ))
	}
	if err != nil {
		return nil, errors.Join(err, stmt.Close())
	}
	return stmt, nil
}

// stmtKind names a statement type for an error message.
func stmtKind(t duckdb.StmtType) string {
	names := map[duckdb.StmtType]string{
		duckdb.STATEMENT_TYPE_INSERT: "an INSERT", duckdb.STATEMENT_TYPE_UPDATE: "an UPDATE",
		duckdb.STATEMENT_TYPE_DELETE: "a DELETE", duckdb.STATEMENT_TYPE_EXPLAIN: "an EXPLAIN",
		duckdb.STATEMENT_TYPE_CREATE: "a CREATE", duckdb.STATEMENT_TYPE_CREATE_FUNC: "a CREATE",
		duckdb.STATEMENT_TYPE_ALTER: "an ALTER", duckdb.STATEMENT_TYPE_DROP: "a DROP",
		duckdb.STATEMENT_TYPE_COPY: "a COPY", duckdb.STATEMENT_TYPE_EXPORT: "an EXPORT",
		duckdb.STATEMENT_TYPE_ATTACH: "an ATTACH", duckdb.STATEMENT_TYPE_DETACH: "a DETACH",
		duckdb.STATEMENT_TYPE_SET: "a SET", duckdb.STATEMENT_TYPE_VARIABLE_SET: "a SET VARIABLE",
		duckdb.STATEMENT_TYPE_PRAGMA: "a PRAGMA", duckdb.STATEMENT_TYPE_CALL: "a CALL",
		duckdb.STATEMENT_TYPE_LOAD: "a LOAD or INSTALL", duckdb.STATEMENT_TYPE_TRANSACTION: "a transaction statement",
	}
	if n, ok := names[t]; ok {
		return n + " statement"
	}
	return fmt.Sprintf("another kind of statement (DuckDB statement type %d)", t)
}

// explain adds to a DuckDB permission error what the sandbox allows.
func (e *Engine) explain(err error) error {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type == duckdb.ErrorTypePermission {
		return fmt.Errorf("%w\n  (queries may read only the lake's views and files under %s)", err, e.lake)
	}
	return err
}

// read reads all of rows into a Result.
func (e *Engine) read(rows driver.Rows) (*Result, error) {
	res := &Result{Columns: rows.Columns()}
	res.Types = make([]string, len(res.Columns))
	if rt, ok := rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		for i := range res.Types {
			res.Types[i] = rt.ColumnTypeDatabaseTypeName(i)
		}
	}
	res.Rows = [][]any{}
	for {
		row := make([]any, len(res.Columns))
		dest := make([]driver.Value, len(res.Columns))
		if err := rows.Next(dest); errors.Is(err, io.EOF) {
			return res, nil
		} else if err != nil {
			return nil, err
		}
		for i, v := range dest {
			switch v := v.(type) {
			case []byte: // the driver may reuse it
				row[i] = bytes.Clone(v)
			case time.Time:
				if res.Types[i] == "TIMESTAMPTZ" {
					row[i] = v.In(e.loc)
				} else {
					row[i] = v
				}
			default:
				row[i] = v
			}
		}
		res.Rows = append(res.Rows, row)
	}
}
