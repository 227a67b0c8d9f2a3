//go:build !linux

package load

import (
	"errors"
	"fmt"
)

// exchange swaps two directory entries atomically; only Linux's renameat2
// can, so elsewhere compaction refuses rather than expose a partition with
// its rows missing or doubled.
func exchange(a, b string) error {
	return fmt.Errorf("an atomic directory exchange needs Linux renameat2: %w", errors.ErrUnsupported)
}
