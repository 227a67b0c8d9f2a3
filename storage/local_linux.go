package storage

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"
)

// renameNoReplace moves oldpath to newpath, failing with fs.ErrExist if
// newpath exists. It uses renameat2(RENAME_NOREPLACE) and falls back to
// link(2) + unlink on file systems without it.
func renameNoReplace(oldpath, newpath string) error {
	err := unix.Renameat2(unix.AT_FDCWD, oldpath, unix.AT_FDCWD, newpath, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return fs.ErrExist
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return linkNoReplace(oldpath, newpath)
	default:
		return &os.LinkError{Op: "renameat2", Old: oldpath, New: newpath, Err: err}
	}
}

// setXattr stores a user extended attribute on f; errors.ErrUnsupported when
// the file system has none.
func setXattr(f *os.File, name, value string) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.Fsetxattr(int(fd), name, []byte(value), 0)
	}); err != nil {
		return err
	}
	if errors.Is(serr, unix.ENOTSUP) || errors.Is(serr, unix.EOPNOTSUPP) {
		return errors.ErrUnsupported
	}
	if serr != nil {
		return &fs.PathError{Op: "setxattr", Path: f.Name(), Err: serr}
	}
	return nil
}

// getXattr returns a user extended attribute of path, "" when absent or
// unreadable.
func getXattr(path, name string) string {
	var buf [256]byte
	n, err := unix.Getxattr(path, name, buf[:])
	if err != nil || n < 0 || n > len(buf) {
		return ""
	}
	return string(buf[:n])
}
