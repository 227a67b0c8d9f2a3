// Package queries holds the SQL reports analysts run, embedded in the binary.
// Each NAME.sql opens with the header that package report parses:
//
//	-- NAME: Title.
//	-- Description lines.
//	-- param: NAME TYPE [= DEFAULT] Doc
//
// and uses its parameters as $NAME. The lake tables (calls, rejects, runs)
// are views with the Hive partition columns source and date.
package queries

import (
	"embed"
	"io/fs"
)

//go:embed *.sql
var files embed.FS

// FS returns the report files, NAME.sql at the root.
func FS() fs.FS { return files }
