package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Formats lists the formats Write accepts.
const Formats = "table, csv, json, html, xlsx"

// Write writes the result to w as "table" (aligned text, numbers
// right-aligned, NULL shown as NULL, then a row count), "csv" (a header row,
// NULL as an empty field), "json" (an array of objects with keys in column
// order, NULL as null), "html" (WriteHTML without a title or chart) or
// "xlsx" (WriteXLSX: a binary workbook, typed cells). In the text formats decimals print exactly with their
// scale's digits (12.3400; a JSON number), TIMESTAMPTZ values as RFC 3339 in
// the zone they carry (the engine's), TIMESTAMP values as RFC 3339 without
// an offset, and dates as YYYY-MM-DD.
func (r *Result) Write(w io.Writer, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "table":
		err = r.writeTable(bw)
	case "csv":
		err = r.writeCSV(bw)
	case "json":
		err = r.writeJSON(bw)
	case "html":
		err = r.writeHTML(bw, "", nil)
	case "xlsx":
		err = r.writeXLSX(bw, "")
	default:
		return fmt.Errorf("report: unknown format %q; formats: %s", format, Formats)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return fmt.Errorf("report: write %s: %w", format, err)
	}
	return nil
}

// typeOf returns the DuckDB type name of column i, "" when unknown.
func (r *Result) typeOf(i int) string {
	if i < len(r.Types) {
		return r.Types[i]
	}
	return ""
}

// writeTable writes aligned columns separated by two spaces.
func (r *Result) writeTable(w io.Writer) error {
	esc := strings.NewReplacer("\n", `\n`, "\r", `\r`, "\t", `\t`)
	cells := make([][]string, len(r.Rows))
	widths := make([]int, len(r.Columns))
	for i, c := range r.Columns {
		widths[i] = utf8.RuneCountInString(c)
	}
	for ri, row := range r.Rows {
		cells[ri] = make([]string, len(r.Columns))
		for i := range r.Columns {
			s, ok := text(row[i], r.typeOf(i))
			if !ok {
				s = "NULL"
			}
			s = esc.Replace(s)
			cells[ri][i] = s
			widths[i] = max(widths[i], utf8.RuneCountInString(s))
		}
	}
	line := func(vals []string) error {
		var b strings.Builder
		for i, v := range vals {
			pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(v))
			if i > 0 {
				b.WriteString("  ")
			}
			if numeric(r.typeOf(i)) {
				b.WriteString(pad + v)
			} else {
				b.WriteString(v + pad)
			}
		}
		_, err := io.WriteString(w, strings.TrimRight(b.String(), " ")+"\n")
		return err
	}
	rule := make([]string, len(widths))
	for i, n := range widths {
		rule[i] = strings.Repeat("-", n)
	}
	for _, vals := range append([][]string{r.Columns, rule}, cells...) {
		if err := line(vals); err != nil {
			return err
		}
	}
	unit := "rows"
	if len(r.Rows) == 1 {
		unit = "row"
	}
	_, err := fmt.Fprintf(w, "(%d %s)\n", len(r.Rows), unit)
	return err
}

// writeCSV writes RFC 4180 CSV with a header row.
func (r *Result) writeCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(r.Columns); err != nil {
		return err
	}
	rec := make([]string, len(r.Columns))
	for _, row := range r.Rows {
		for i := range rec {
			rec[i], _ = text(row[i], r.typeOf(i))
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeJSON writes an array with one object per row, one row per line.
func (r *Result) writeJSON(w io.Writer) error {
	keys := make([][]byte, len(r.Columns))
	for i, c := range r.Columns {
		k, err := marshal(c)
		if err != nil {
			return err
		}
		keys[i] = k
	}
	var b bytes.Buffer
	b.WriteString("[")
	for ri, row := range r.Rows {
		if ri > 0 {
			b.WriteString(",")
		}
		b.WriteString("\n{")
		for i := range r.Columns {
			if i > 0 {
				b.WriteString(",")
			}
			v, err := jsonValue(row[i], r.typeOf(i))
			if err != nil {
				return fmt.Errorf("column %s: %w", r.Columns[i], err)
			}
			b.Write(keys[i])
			b.WriteString(":")
			b.Write(v)
		}
		b.WriteString("}")
		if b.Len() > 64<<10 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	if len(r.Rows) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// jsonValue encodes v: numbers (decimals exactly) as JSON numbers, NULL and
// non-finite floats as null, dates and timestamps as strings formatted as
// in text, nested values as encoding/json does.
func jsonValue(v any, typ string) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return []byte("null"), nil
	case float32:
		return jsonValue(float64(x), typ)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return []byte("null"), nil
		}
	case bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, *big.Int, duckdb.Decimal:
	case string, time.Time, []byte:
		s, _ := text(v, typ)
		return marshal(s)
	default:
		return marshal(v)
	}
	s, _ := text(v, typ) // a number, valid as JSON as it is
	return []byte(s), nil
}

// marshal encodes v as JSON without escaping <, > and &.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// text formats one value for the table and CSV formats; ok is false for NULL.
func text(v any, typ string) (s string, ok bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case duckdb.Decimal:
		return decimalString(x), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case time.Time:
		switch typ {
		case "DATE":
			return x.Format(time.DateOnly), true
		case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS":
			return x.Format("2006-01-02T15:04:05.999999999"), true
		case "TIME":
			return x.Format("15:04:05.999999"), true
		}
		return x.Format(time.RFC3339Nano), true
	case []byte:
		if typ == "UUID" && len(x) == 16 {
			return fmt.Sprintf("%x-%x-%x-%x-%x", x[0:4], x[4:6], x[6:8], x[8:10], x[10:]), true
		}
		return fmt.Sprintf(`\x%x`, x), true
	}
	return fmt.Sprint(v), true
}

// decimalString formats d exactly with d.Scale digits after the point.
func decimalString(d duckdb.Decimal) string {
	if d.Value == nil {
		return "0"
	}
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// numeric reports whether a DuckDB type is a number, to right-align it.
func numeric(typ string) bool {
	switch typ {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "BIGNUM":
		return true
	}
	return strings.HasPrefix(typ, "DECIMAL")
}
