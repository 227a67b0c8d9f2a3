// Package itemids reads the item ids an operator gives a vendor that has no
// request listing its items (Mobilgroup broadcasts, MTT callback calls):
// ids in the config plus an ids file that whoever creates the items
// appends to, one id per line. The file is re-read on every run.
package itemids

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strings"
)

// MaxLen bounds an id: the lake unit "<kind>-<id>" must fit in a file name.
const MaxLen = 100

// Valid reports whether id is usable as a pipeline item key: 1 to MaxLen
// letters, digits, '.', '_' or '-'.
func Valid(id string) bool {
	if id == "" || len(id) > MaxLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ReadFile reads an ids file: one id per line, whitespace (and a leading
// byte-order mark) trimmed, blank lines and everything from a '#' to the end
// of the line ignored. A missing file has no ids and is not an error. The
// ids are returned in file order, duplicates and invalid ones included.
func ReadFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f)
}

// Read reads ids in the ids file format from r.
func Read(r io.Reader) ([]string, error) {
	var ids []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(strings.TrimPrefix(line, "\ufeff"))
		if line != "" {
			ids = append(ids, line)
		}
	}
	return ids, sc.Err()
}

// Merge returns, sorted and without duplicates, configured (already
// validated by the config), the ids in file (read now; "" means none) and
// pending (the keys the pipeline remembers as not final). File and pending
// ids that are not Valid are dropped with a warning naming what ("callback
// id"). A file that cannot be read is an error.
func Merge(log *slog.Logger, what string, configured []string, file string, pending []string) ([]string, error) {
	keys := slices.Clone(configured)
	if file != "" {
		ids, err := ReadFile(file)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !Valid(id) {
				log.Warn("ignoring an invalid "+what+" in the ids file", "file", file, "id", id)
				continue
			}
			keys = append(keys, id)
		}
	}
	for _, k := range pending {
		if !Valid(k) {
			log.Warn("ignoring a pending "+what+" that is not a valid key", "id", k)
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return slices.Compact(keys), nil
}
