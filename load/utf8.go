package load

import (
	"encoding/binary"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Every string in the lake is valid UTF-8.
//
// Parquet's STRING type is UTF-8, and DuckDB refuses a file holding one
// invalid value ("Invalid string encoding found in Parquet file"), so a
// single bad byte from a vendor would make `SELECT * FROM calls` and every
// report over the table fail until the file is rewritten. Vendors do send
// such bytes: a broken field, or windows-1251 text in a JSON body that does
// not say so (which cannot be told from UTF-8 reliably: the bytes of
// "Привет" in windows-1251 are invalid UTF-8, but short windows-1251 words
// can happen to be valid UTF-8 of other letters).
//
// The rule, applied by the lake writer because it is the one place every
// string column of every table passes (canonical, vendor and recordings
// tables alike, whatever their Append functions do):
//
//   - Decoding by a declared charset is the decoders' job and happens before
//     (VotBox XML honours its encoding declaration; JSON bodies declaring a
//     charset in Content-Type are transcoded by extract/httpx).
//   - A value that is still not valid UTF-8 is stored with each run of
//     invalid bytes replaced by U+FFFD (strings.ToValidUTF8), so the row
//     stays in its table: a call with a broken status is still a call, and
//     counting it in calls keeps reports true. Sending the row to rejects
//     instead would take it out of every count for one bad label.
//   - The exact bytes are not lost: the transaction also writes one row to
//     the [InvalidUTF8] table (invalid_utf8) per repaired value, with the
//     table, column, unit and file row number of the value and the original
//     bytes as a BLOB (which DuckDB reads without complaint). It lives in the
//     same source, date and unit as the repaired row and is replaced with it
//     when the unit is re-extracted. For example:
//
//	SELECT c.call_id, i.column_name, i.original, i.stored
//	FROM invalid_utf8 i
//	JOIN read_parquet('lake/calls/**/*.parquet', hive_partitioning = true,
//	                  filename = true, file_row_number = true) c
//	  ON c.source = i.source AND c.date = i.date
//	 AND parse_filename(c.filename, true) = i.unit
//	 AND c.file_row_number = i.file_row_number
//	WHERE i.table_name = 'calls';
//
// Valid strings cost one pass of utf8.Valid over a batch's string bytes (fast
// on ASCII) and a look at each value's first byte; only a column holding an
// invalid value is rebuilt. NUL bytes are valid UTF-8 and DuckDB reads them;
// they are kept.

// InvalidString is one row of the invalid_utf8 table: a string value that
// was not valid UTF-8 and how it is stored.
type InvalidString struct {
	Source string // partition: the repaired row's source
	Date   string // partition: the repaired row's date

	Table         string // table of the repaired value, e.g. calls
	Column        string // its column, e.g. caller_raw
	Unit          string // its file: <table>/source=S/date=D/<unit>.parquet
	FileRowNumber int64  // its row in that file, 0-based (DuckDB's file_row_number)
	Original      []byte // the bytes as the vendor sent them
	Stored        string // what the table holds: invalid runs replaced by U+FFFD
}

// InvalidUTF8 is the invalid_utf8 table. Every transaction registers it, so
// a re-extracted unit replaces (or removes) its rows along with the rows
// they describe.
var InvalidUTF8 = &Table[InvalidString]{
	Name: "invalid_utf8",
	Doc:  "String values a vendor sent that were not valid UTF-8: the exact bytes, and where the lake holds them with U+FFFD in place of the invalid bytes.",
	Schema: arrow.NewSchema([]arrow.Field{
		String("table_name"),
		String("column_name"),
		String("unit"),
		Required("file_row_number", arrow.PrimitiveTypes.Int64),
		Required("original", arrow.BinaryTypes.Binary),
		String("stored"),
	}, nil),
	Append: func(b *array.RecordBuilder, r *InvalidString) {
		f := b.Fields()
		AppendString(f[0], r.Table)
		AppendString(f[1], r.Column)
		AppendString(f[2], r.Unit)
		appendInt64(f[3], r.FileRowNumber)
		f[4].(*array.BinaryBuilder).Append(r.Original)
		AppendString(f[5], r.Stored)
	},
	Dictionary: []string{"table_name", "column_name", "unit"},
	Comments: withPartitionComments(map[string]string{
		"table_name":      "Table holding the repaired value, e.g. calls.",
		"column_name":     "Column holding the repaired value, e.g. caller_raw.",
		"unit":            "File holding the repaired row: <table_name>/source=<source>/date=<date>/<unit>.parquet (DuckDB: parse_filename(filename, true)).",
		"file_row_number": "Row of the repaired value in that file, from 0 (DuckDB: read_parquet(…, file_row_number = true)).",
		"original":        "The value exactly as the vendor sent it (BLOB; e.g. windows-1251 text).",
		"stored":          "The value as the table stores it: each run of invalid bytes replaced by U+FFFD.",
	}),
}

// repair is a string value that flush had to replace.
type repair struct {
	column   string
	row      int64 // row in the partition file
	original []byte
	stored   string
}

// validStrings reports whether every value of a is valid UTF-8. One pass of
// utf8.Valid checks all the values' bytes at once; valid bytes cut only where
// a character starts are valid pieces, so it then remains to check that no
// value starts inside a character.
func validStrings(a *array.String) bool {
	data := a.ValueBytes()
	if isASCII(data) {
		return true
	}
	if !utf8.Valid(data) {
		return false
	}
	offs := a.ValueOffsets()
	base := offs[0]
	for _, o := range offs[1 : len(offs)-1] {
		if i := int(o - base); i < len(data) && !utf8.RuneStart(data[i]) {
			return false
		}
	}
	return true
}

// isASCII reports whether b is all ASCII, eight bytes at a time and without
// branching on the data: the common case of a vendor batch, whose values
// then need no check of their boundaries.
func isASCII(b []byte) bool {
	var acc uint64
	for len(b) >= 32 {
		acc |= binary.LittleEndian.Uint64(b) | binary.LittleEndian.Uint64(b[8:]) |
			binary.LittleEndian.Uint64(b[16:]) | binary.LittleEndian.Uint64(b[24:])
		b = b[32:]
	}
	for len(b) >= 8 {
		acc |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		acc |= uint64(c)
	}
	return acc&0x8080808080808080 == 0
}

// repairStrings returns rec with every invalid UTF-8 string value replaced
// by its strings.ToValidUTF8 form, and appends what it replaced to repairs
// (rows numbered from firstRow). When every string is valid, rec itself is
// returned; otherwise rec is released and a new record returned.
func repairStrings(mem memory.Allocator, rec arrow.RecordBatch, firstRow int64, repairs []repair) (arrow.RecordBatch, []repair) {
	var cols []arrow.Array // nil while no column needs repair
	for i, col := range rec.Columns() {
		s, ok := col.(*array.String)
		if !ok || validStrings(s) {
			continue
		}
		name := rec.ColumnName(i)
		b := array.NewStringBuilder(mem)
		b.Reserve(s.Len())
		b.ReserveData(len(s.ValueBytes()) + 16)
		for j := range s.Len() {
			if s.IsNull(j) {
				b.AppendNull()
				continue
			}
			v := s.Value(j)
			if utf8.ValidString(v) {
				b.Append(v)
				continue
			}
			fixed := strings.ToValidUTF8(v, "\uFFFD")
			b.Append(fixed)
			repairs = append(repairs, repair{column: name, row: firstRow + int64(j), original: []byte(v), stored: fixed})
		}
		if cols == nil {
			cols = make([]arrow.Array, len(rec.Columns()))
			copy(cols, rec.Columns())
		}
		cols[i] = b.NewArray()
		b.Release()
	}
	if cols == nil {
		return rec, repairs
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	for i, c := range cols {
		if c != rec.Column(i) {
			c.Release() // out holds it
		}
	}
	rec.Release()
	return out, repairs
}
