package report

import (
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/xuri/excelize/v2"
)

// Excel's limits (excelize.TotalRows, excelize.TotalCellChars): a sheet of
// more rows, or a longer text, cannot be written without losing data.
const (
	xlsxMaxRows  = excelize.TotalRows
	xlsxMaxChars = excelize.TotalCellChars
)

// Number formats of the typed sheet (Excel format codes).
const (
	xlsxDateFormat     = "yyyy-mm-dd"
	xlsxDateTimeFormat = "yyyy-mm-dd hh:mm:ss"
	xlsxMoneyFormat    = "#,##0.00"
	xlsxRateFormat     = "0.00%"
	xlsxIntegerFormat  = "0"
)

// WriteXLSX writes the result to w as an Excel workbook (.xlsx) with one
// sheet called sheet (cut to Excel's 31 characters; "" for "result"),
// typed so that Excel computes with it:
//
//   - a bold header row, frozen (it stays on screen when scrolling);
//   - DATE as Excel dates (yyyy-mm-dd), TIMESTAMP and TIMESTAMPTZ as Excel
//     date-times (yyyy-mm-dd hh:mm:ss) in the wall clock of the value's zone
//     (the engine's time zone for TIMESTAMPTZ: Excel has no time zones);
//     a day Excel cannot show (before March 1900, after 9999) as text;
//   - DECIMAL as numbers: a column named *_rate with a scale ≥ 2 shows as a
//     percentage (0.00%), any other DECIMAL with a scale ≥ 1 — money — shows
//     two decimals (#,##0.00); the cell holds the full value (a double);
//   - integers and floats as numbers (a HUGEINT beyond 2^53 as text, which
//     a double could not hold exactly), BOOLEAN as Excel booleans;
//   - text as text, never as a formula, NULL as an empty cell; other types
//     (TIME, UUID, BLOB, nested) as the text the csv format prints.
//
// A result of more rows than a sheet holds (1,048,575 after the header) or
// a text longer than a cell holds (32,767 characters) is an error: nothing
// is cut silently.
func (r *Result) WriteXLSX(w io.Writer, sheet string) error {
	if err := r.writeXLSX(w, sheet); err != nil {
		return fmt.Errorf("report: write xlsx: %w", err)
	}
	return nil
}

func (r *Result) writeXLSX(w io.Writer, sheet string) error {
	if len(r.Rows)+1 > xlsxMaxRows {
		return fmt.Errorf("%d rows do not fit in a sheet (at most %d): narrow the query, or use --format csv or parquet", len(r.Rows), xlsxMaxRows-1)
	}
	f := excelize.NewFile()
	defer f.Close()
	name := sheetName(sheet)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	styles, err := newXLSXStyles(f)
	if err != nil {
		return err
	}
	kinds := make([]xlsxKind, len(r.Columns))
	for i, c := range r.Columns {
		kinds[i] = kindOf(c, r.typeOf(i))
	}
	// Column widths before any row (a stream writer's rule): the longest
	// of the header and the cells' texts, within 8..60 characters.
	for i := range r.Columns {
		width := utf8.RuneCountInString(r.Columns[i])
		for _, row := range r.Rows[:min(len(r.Rows), 1000)] {
			if s, ok := text(row[i], r.typeOf(i)); ok {
				width = max(width, utf8.RuneCountInString(s))
			}
		}
		if err := sw.SetColWidth(i+1, i+1, float64(min(max(width+2, 8), 60))); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	header := make([]any, len(r.Columns))
	for i, c := range r.Columns {
		header[i] = excelize.Cell{StyleID: styles.header, Value: c}
	}
	if err := sw.SetRow("A1", header); err != nil {
		return err
	}
	vals := make([]any, len(r.Columns))
	for ri, row := range r.Rows {
		for i := range r.Columns {
			v, err := xlsxValue(row[i], r.typeOf(i), kinds[i], styles)
			if err != nil {
				return fmt.Errorf("row %d, column %s: %w", ri+1, r.Columns[i], err)
			}
			vals[i] = v
		}
		cell, err := excelize.CoordinatesToCellName(1, ri+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// sheetName makes s a valid Excel sheet name: no []:*?/\ characters, at
// most 31 characters, not empty.
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) || r < ' ' {
			return '_'
		}
		return r
	}, s)
	s = strings.Trim(s, "'")
	if utf8.RuneCountInString(s) > 31 {
		s = string([]rune(s)[:31])
	}
	if s == "" {
		s = "result"
	}
	return s
}

// xlsxKind is how a column's cells are typed and formatted.
type xlsxKind int

const (
	kindOther    xlsxKind = iota // text as the csv format prints it, numbers, booleans
	kindDate                     // DATE
	kindDateTime                 // TIMESTAMP*, TIMESTAMPTZ
	kindMoney                    // DECIMAL with a scale ≥ 1
	kindRate                     // DECIMAL with a scale ≥ 2 in a column named *_rate
	kindInteger                  // DECIMAL with scale 0
)

// kindOf classifies a column by its DuckDB type and name.
func kindOf(column, typ string) xlsxKind {
	switch typ {
	case "DATE":
		return kindDate
	case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMPTZ":
		return kindDateTime
	}
	var width, scale int
	if _, err := fmt.Sscanf(typ, "DECIMAL(%d,%d)", &width, &scale); err == nil {
		switch {
		case scale >= 2 && strings.HasSuffix(column, "_rate"):
			return kindRate
		case scale >= 1:
			return kindMoney
		}
		return kindInteger
	}
	return kindOther
}

// xlsxStyles are the style ids of the workbook.
type xlsxStyles struct {
	header, date, dateTime, money, rate, integer int
}

func newXLSXStyles(f *excelize.File) (xlsxStyles, error) {
	var s xlsxStyles
	var err error
	num := func(format string) int {
		if err != nil {
			return 0
		}
		var id int
		id, err = f.NewStyle(&excelize.Style{CustomNumFmt: &format})
		return id
	}
	s.date = num(xlsxDateFormat)
	s.dateTime = num(xlsxDateTimeFormat)
	s.money = num(xlsxMoneyFormat)
	s.rate = num(xlsxRateFormat)
	s.integer = num(xlsxIntegerFormat)
	if err != nil {
		return s, err
	}
	s.header, err = f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"F0F0F0"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "999999", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "top"},
	})
	return s, err
}

// xlsxValue converts one value for the stream writer: nil for NULL, an
// excelize.Cell carrying the number format where the kind has one.
func xlsxValue(v any, typ string, kind xlsxKind, st xlsxStyles) (any, error) {
	styled := func(style int, v any) any { return excelize.Cell{StyleID: style, Value: v} }
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		serial, ok := excelSerial(x)
		switch {
		case ok && kind == kindDate:
			return styled(st.date, serial), nil
		case ok && kind == kindDateTime:
			return styled(st.dateTime, serial), nil
		}
	case duckdb.Decimal:
		f, err := strconv.ParseFloat(decimalString(x), 64)
		if err != nil {
			return nil, err
		}
		switch kind {
		case kindRate:
			return styled(st.rate, f), nil
		case kindMoney:
			return styled(st.money, f), nil
		}
		return styled(st.integer, f), nil
	case *big.Int:
		if x.IsInt64() && x.Int64() <= 1<<53 && x.Int64() >= -(1<<53) {
			return x.Int64(), nil
		}
		return x.String(), nil
	case bool, int, int8, int16, int32, int64, uint8, uint16, uint32, float32, float64:
		return x, nil
	case uint64:
		if x <= 1<<53 {
			return x, nil
		}
		return strconv.FormatUint(x, 10), nil
	case string:
		if utf8.RuneCountInString(x) > xlsxMaxChars {
			return nil, fmt.Errorf("a text of %d characters does not fit in a cell (at most %d): use --format csv or parquet", utf8.RuneCountInString(x), xlsxMaxChars)
		}
		return x, nil
	}
	s, _ := text(v, typ)
	if utf8.RuneCountInString(s) > xlsxMaxChars {
		return nil, fmt.Errorf("a value of %d characters does not fit in a cell (at most %d): use --format csv or parquet", utf8.RuneCountInString(s), xlsxMaxChars)
	}
	return s, nil
}

// excelEpoch is day 0 of Excel's 1900 date system as Excel counts from
// 1 March 1900 on (its phantom 29 February 1900 included).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelFirst and excelLast bound the days excelSerial converts: before
// March 1900 Excel's count is off by its phantom day, after 9999 it has none.
var (
	excelFirst = time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC)
	excelLast  = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
)

// excelSerial returns t's wall clock (in t's own zone) as an Excel serial
// date: days since 1899-12-30, the time of day as the fraction; ok is false
// outside 1900-03-01..9999-12-31.
func excelSerial(t time.Time) (serial float64, ok bool) {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	if wall.Before(excelFirst) || !wall.Before(excelLast) {
		return 0, false
	}
	secs := wall.Unix() - excelEpoch.Unix()
	days := secs / 86400
	frac := (float64(secs%86400) + float64(wall.Nanosecond())/1e9) / 86400
	return float64(days) + frac, true
}
