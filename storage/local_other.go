//go:build !linux

package storage

import (
	"errors"
	"os"
)

// renameNoReplace moves oldpath to newpath, failing with fs.ErrExist if
// newpath exists (link(2) + unlink).
func renameNoReplace(oldpath, newpath string) error { return linkNoReplace(oldpath, newpath) }

func setXattr(*os.File, string, string) error { return errors.ErrUnsupported }

func getXattr(string, string) string { return "" }
