package storage

// Whole local files written atomically and durably.
//
// These helpers live here, beside [Local], because they are the same
// protocol Local uses for an object (temporary file in the target
// directory, fsync, rename, fsync of the directory) and storage is the one
// package under everything calletl persists: the state file, the mirror
// index of an S3 lake, the reports' output files and the metrics textfile
// use them for files that are not objects of a [Store], and the lake's
// writer (package load) uses [SyncDir] for its own renames. load and state
// already import storage, so no import edge is added for them, and storage
// imports none of its users.

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// tempPattern is the os.CreateTemp pattern of the temporary file that
// becomes path: ".<base>.*.tmp" in path's directory. The leading dot hides
// it from the lake's readers and from List; the ".tmp" suffix is what the
// sweeps of leftovers look for.
func tempPattern(path string) string { return "." + filepath.Base(path) + ".*.tmp" }

// WriteFileAtomic writes data to path so that a reader, or the file system
// after a crash, sees either the old file or the new one, never a part:
// see [WriteFileAtomicFunc].
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	return WriteFileAtomicFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileAtomicFunc is [WriteFileAtomic] for content that is streamed:
// write fills a temporary file in path's directory (named by
// tempPattern), which is given exactly perm (chmod, so the umask takes
// nothing away), fsynced, closed, renamed over path, and the directory is
// fsynced, so the new name survives a crash too. write must not keep w.
// On any error, write's included, path is left as it was and the
// temporary file is removed.
func WriteFileAtomicFunc(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, tempPattern(path))
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails, harmlessly, after the rename
	err = tmp.Chmod(perm)
	if err == nil {
		err = write(tmp)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// CommitFile makes tmp, a complete file that something else wrote (DuckDB's
// COPY), the file at path, durably: it fsyncs tmp, renames it over path and
// fsyncs path's directory. tmp must be in the same directory as path (a
// rename across directories or file systems is not atomic). On an error
// before the rename, path is as it was and tmp is left for the caller to
// remove.
func CommitFile(tmp, path string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return errors.Join(err, f.Close())
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}

// SyncDir fsyncs the directory dir, making the creations, renames and
// removals of entries in it durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return err
	}
	return d.Close()
}
