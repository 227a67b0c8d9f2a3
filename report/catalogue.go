// Package report runs calletl's analyst reports: SQL files with a parsed
// header (see [Catalogue]) executed by an in-memory DuckDB [Engine] that sees
// every lake table as a view.
//
// A report file NAME.sql opens with a block of comment lines:
//
//	-- daily_summary: Calls per day, source and direction.
//	-- Any number of description lines.
//	-- param: from DATE = NULL  First day, inclusive; default: all
//	-- param: account VARCHAR   Required: no "= default"
//	SELECT … WHERE date >= $from …
//
// The first line gives the report's name (which must equal the file name
// without ".sql") and its title. A param line declares NAME TYPE, then
// optionally "= DEFAULT" (one word; NULL means SQL NULL), then its
// documentation. A parameter without a default is required. The SQL uses
// parameters as $NAME; they are always bound, never spliced into the text.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"unicode"
)

// Param is one parameter a report declares in its header.
type Param struct {
	Name    string // as used in the SQL: $Name
	Type    string // one of DATE, INTEGER, BIGINT, DOUBLE, VARCHAR, BOOLEAN
	Default string // "" for a required parameter; "NULL" for SQL NULL
	Doc     string
}

// Required reports whether the parameter has no default.
func (p Param) Required() bool { return p.Default == "" }

// String formats p as in a header, without the doc: "from DATE = NULL".
func (p Param) String() string {
	if p.Required() {
		return p.Name + " " + p.Type
	}
	return p.Name + " " + p.Type + " = " + p.Default
}

// Report is one SQL report and its parsed header.
type Report struct {
	Name        string // file name without ".sql"
	Title       string // first header line, after "name:"
	Description string // further header lines, joined by "\n"
	Params      []Param
	Chart       *Chart // from a "-- chart: x=COL y=COL …" line; nil without one
	SQL         string // the whole file, header included, so DuckDB's line numbers match it
}

// HeaderError is a malformed report header: the file and line (1-based) at
// fault and what is wrong.
type HeaderError struct {
	File string
	Line int
	Msg  string
}

func (e *HeaderError) Error() string {
	return fmt.Sprintf("report: %s:%d: %s", e.File, e.Line, e.Msg)
}

// paramTag starts a param line of the header (after "--").
const paramTag = "param:"

// chartTag starts a chart line of the header (after "--").
const chartTag = "chart:"

// Chart is a report's chart, declared by a header line
// "-- chart: x=COLUMN y=COLUMN [series=COLUMN] [kind=line|bar] [yunit=UNIT]":
// Y summed per X value (and per Series value, one line or bar each), as the
// html format draws it. UNIT names the unit of Y on the axis, underscores
// standing for spaces (yunit=account_currency); without it the unit is
// inferred from the column (see WriteHTML).
type Chart struct {
	X, Y, Series string // column names; Series is "" for a single line
	Kind         string // "line" (the default, "" too) or "bar"
	YUnit        string // "" to infer it
}

// chartSyntax describes a chart line, for errors.
const chartSyntax = `want "chart: x=COLUMN y=COLUMN [series=COLUMN] [kind=line|bar] [yunit=UNIT]"`

// parseChart parses what follows "chart:".
func parseChart(s string) (*Chart, error) {
	c := &Chart{}
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("bad chart field %q: %s", f, chartSyntax)
		}
		if seen[k] {
			return nil, fmt.Errorf("duplicate chart field %q", k)
		}
		seen[k] = true
		switch k {
		case "x":
			c.X = v
		case "y":
			c.Y = v
		case "series":
			c.Series = v
		case "kind":
			if v != "line" && v != "bar" {
				return nil, fmt.Errorf("chart kind %q: want line or bar", v)
			}
			c.Kind = v
		case "yunit":
			c.YUnit = strings.ReplaceAll(v, "_", " ")
		default:
			return nil, fmt.Errorf("unknown chart field %q: %s", k, chartSyntax)
		}
	}
	if c.X == "" || c.Y == "" {
		return nil, fmt.Errorf("chart needs x and y: %s", chartSyntax)
	}
	return c, nil
}

// namePattern describes the names isName accepts, for error messages.
const namePattern = "[a-z][a-z0-9_]*"

// isName reports whether s is a valid report or parameter name: a lower-case
// letter, then lower-case letters, digits and underscores. DuckDB accepts
// such names as $name parameters and as unquoted identifiers.
func isName(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// cutWord splits s after its first word: leading blanks are skipped, and
// rest starts after the blanks that follow the word.
func cutWord(s string) (word, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeftFunc(s[i:], unicode.IsSpace)
}

// Catalogue parses the header of every *.sql file at the top of fsys and
// returns the reports sorted by name. A malformed header is a *HeaderError;
// all of them are reported together (errors.Join).
func Catalogue(fsys fs.FS) ([]Report, error) {
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("report: catalogue: %w", err)
	}
	var (
		reports []Report
		errs    []error
	)
	for _, file := range files { // fs.Glob returns names sorted, so reports are too
		r, err := readReport(fsys, file)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		reports = append(reports, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return reports, nil
}

// Find returns the report called name (the file name.sql in fsys). An
// unknown name is an error listing the available reports.
func Find(fsys fs.FS, name string) (Report, error) {
	if isName(name) {
		r, err := readReport(fsys, name+".sql")
		if !errors.Is(err, fs.ErrNotExist) {
			return r, err
		}
	}
	files, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return Report{}, fmt.Errorf("report: find %q: %w", name, err)
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimSuffix(f, ".sql")
	}
	if len(names) == 0 {
		return Report{}, fmt.Errorf("report: no report named %q; there are no reports", name)
	}
	return Report{}, fmt.Errorf("report: no report named %q; available: %s", name, strings.Join(names, ", "))
}

// readReport reads and parses one file. A missing file is returned as an
// error wrapping fs.ErrNotExist.
func readReport(fsys fs.FS, file string) (Report, error) {
	b, err := fs.ReadFile(fsys, file)
	if err != nil {
		return Report{}, fmt.Errorf("report: %w", err)
	}
	return parseReport(file, string(b))
}

// parseReport parses the header of the SQL text read from file.
func parseReport(file, text string) (Report, error) {
	bad := func(line int, format string, args ...any) (Report, error) {
		return Report{}, &HeaderError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	text = strings.TrimPrefix(text, "\ufeff")
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")

	first, ok := strings.CutPrefix(lines[0], "--")
	name, title, hasColon := strings.Cut(first, ":")
	if !ok || !hasColon {
		return bad(1, `header must start with "-- name: title"`)
	}
	r := Report{Name: strings.TrimSpace(name), Title: strings.TrimSpace(title), SQL: text}
	want := strings.TrimSuffix(path.Base(file), ".sql")
	switch {
	case !isName(r.Name):
		return bad(1, "report name %q must match %s", r.Name, namePattern)
	case r.Name != want:
		return bad(1, "report name %q differs from the file name %q", r.Name, want)
	case r.Title == "":
		return bad(1, "empty title")
	}

	var desc []string
	n := 1 // lines of the header
	for ; n < len(lines) && strings.HasPrefix(lines[n], "--"); n++ {
		lineNo := n + 1
		body := strings.TrimSpace(strings.TrimPrefix(lines[n], "--"))
		if spec, ok := strings.CutPrefix(body, chartTag); ok {
			if r.Chart != nil {
				return bad(lineNo, "duplicate chart line")
			}
			c, err := parseChart(spec)
			if err != nil {
				return bad(lineNo, "%v", err)
			}
			r.Chart = c
			continue
		}
		if !strings.HasPrefix(body, paramTag) {
			if len(r.Params) > 0 {
				return bad(lineNo, "description line after the param lines")
			}
			desc = append(desc, body)
			continue
		}
		p, err := parseParam(strings.TrimSpace(strings.TrimPrefix(body, paramTag)))
		if err != nil {
			return bad(lineNo, "%v", err)
		}
		if slices.ContainsFunc(r.Params, func(q Param) bool { return q.Name == p.Name }) {
			return bad(lineNo, "duplicate param %q", p.Name)
		}
		r.Params = append(r.Params, p)
	}
	r.Description = strings.TrimSpace(strings.Join(desc, "\n"))
	if strings.TrimSpace(strings.Join(lines[n:], "\n")) == "" {
		return bad(n+1, "no SQL after the header")
	}
	return r, nil
}

// parseParam parses what follows "param:": NAME TYPE [= DEFAULT] [DOC].
func parseParam(s string) (Param, error) {
	const syntax = `want "param: NAME TYPE [= DEFAULT] [doc]"`
	name, rest := cutWord(s)
	typ, rest := cutWord(rest)
	p := Param{Name: name, Type: strings.ToUpper(typ)}
	switch {
	case name == "" || typ == "":
		return Param{}, fmt.Errorf("bad param line: %s", syntax)
	case !isName(name):
		return Param{}, fmt.Errorf("param name %q must match %s", name, namePattern)
	case !knownType(p.Type):
		return Param{}, fmt.Errorf("param %s: unknown type %q (known: %s)", name, typ, paramTypeList)
	}
	if after, ok := strings.CutPrefix(rest, "="); ok {
		def, doc := cutWord(after)
		if def == "" {
			return Param{}, fmt.Errorf("param %s: empty default: %s", name, syntax)
		}
		if strings.EqualFold(def, "NULL") {
			def = "NULL"
		} else if _, err := p.convert(def); err != nil {
			return Param{}, fmt.Errorf("param %s: bad default: %v", name, err)
		}
		p.Default, rest = def, doc
	}
	p.Doc = strings.TrimSpace(rest)
	return p, nil
}
