//go:build linux

package load

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// exchange swaps the directory entries a and b in one atomic step
// (renameat2 RENAME_EXCHANGE): a reader resolving either path sees the old
// directory or the new one, never neither and never a mix. Both must exist
// on the same file system. ext4, xfs, btrfs and tmpfs support it.
func exchange(a, b string) error {
	err := unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("the lake's file system cannot swap two directories atomically (renameat2 RENAME_EXCHANGE; ext4, xfs, btrfs and tmpfs can): leave compaction off on it: %w", err)
	}
	return err
}
