package report

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/calletl/calletl/model"
)

// paramTypeList names the parameter types a header may declare.
const paramTypeList = "DATE, INTEGER, BIGINT, DOUBLE, VARCHAR, BOOLEAN"

// duckType returns the DuckDB type of a declarable parameter type (upper
// case), or TYPE_INVALID for an unknown one.
func duckType(typ string) duckdb.Type {
	switch typ {
	case "DATE":
		return duckdb.TYPE_DATE
	case "INTEGER":
		return duckdb.TYPE_INTEGER
	case "BIGINT":
		return duckdb.TYPE_BIGINT
	case "DOUBLE":
		return duckdb.TYPE_DOUBLE
	case "VARCHAR":
		return duckdb.TYPE_VARCHAR
	case "BOOLEAN":
		return duckdb.TYPE_BOOLEAN
	}
	return duckdb.TYPE_INVALID
}

// knownType reports whether typ (upper case) is a declarable parameter type.
func knownType(typ string) bool { return duckType(typ) != duckdb.TYPE_INVALID }

// convert parses s, a value written by a user or a header default (not
// "NULL"), as p's type. The result carries its DuckDB type, so the SQL need
// not cast it and DuckDB never has to guess.
func (p Param) convert(s string) (duckdb.TypedValue, error) {
	var (
		v   any
		err error
	)
	switch p.Type {
	case "DATE":
		v, err = time.Parse(model.DayLayout, s)
		if err != nil {
			err = fmt.Errorf("bad DATE %q, want YYYY-MM-DD", s)
		}
	case "INTEGER":
		v, err = strconv.ParseInt(s, 10, 32)
		if err != nil {
			err = fmt.Errorf("bad INTEGER %q", s)
		}
	case "BIGINT":
		v, err = strconv.ParseInt(s, 10, 64)
		if err != nil {
			err = fmt.Errorf("bad BIGINT %q", s)
		}
	case "DOUBLE":
		v, err = strconv.ParseFloat(s, 64)
		if err != nil {
			err = fmt.Errorf("bad DOUBLE %q", s)
		}
	case "BOOLEAN":
		v, err = strconv.ParseBool(s)
		if err != nil {
			err = fmt.Errorf("bad BOOLEAN %q, want true or false", s)
		}
	case "VARCHAR":
		v = s
	default:
		err = fmt.Errorf("unknown type %q", p.Type)
	}
	if err != nil {
		return duckdb.TypedValue{}, err
	}
	return duckdb.Typed(v, duckType(p.Type)), nil
}

// values resolves args against r's declared parameters: every argument must
// be declared, every required parameter given, and defaults fill the rest.
// It returns the value to bind for every declared parameter, by name.
func (r Report) values(args map[string]string) (map[string]duckdb.TypedValue, error) {
	for _, name := range slices.Sorted(maps.Keys(args)) {
		if !slices.ContainsFunc(r.Params, func(p Param) bool { return p.Name == name }) {
			return nil, fmt.Errorf("report %s: unknown parameter %q; %s", r.Name, name, r.paramList())
		}
	}
	vals := make(map[string]duckdb.TypedValue, len(r.Params))
	for _, p := range r.Params {
		s, given := args[p.Name]
		switch {
		case !given && p.Required():
			return nil, fmt.Errorf("report %s: missing required parameter %q; %s", r.Name, p.Name, r.paramList())
		case !given && p.Default == "NULL":
			vals[p.Name] = duckdb.Typed(nil, duckType(p.Type))
			continue
		case !given:
			s = p.Default
		}
		v, err := p.convert(s)
		if err != nil {
			return nil, fmt.Errorf("report %s: parameter %s: %w", r.Name, p.Name, err)
		}
		vals[p.Name] = v
	}
	return vals, nil
}

// paramList describes r's parameters for error messages.
func (r Report) paramList() string {
	if len(r.Params) == 0 {
		return "it takes no parameters"
	}
	s := make([]string, len(r.Params))
	for i, p := range r.Params {
		s[i] = p.String()
	}
	return "parameters: " + strings.Join(s, ", ")
}
