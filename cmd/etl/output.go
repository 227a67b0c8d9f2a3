package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeOutput writes a command's result: to the file out when it is named
// (written next to it as out.tmp, synced, then renamed over it, so a reader
// never sees half a file), else to stdout. A binary format (xlsx) goes to
// stdout only when stdout is not a terminal (a pipe or a redirect), where
// the bytes cannot garble the screen.
func (a *app) writeOutput(out, format string, binary bool, write func(io.Writer) error) error {
	if out == "" {
		if binary && isTerminal(a.stdout) {
			return &usageError{fmt.Sprintf("--format %s is a binary file: name it with --out FILE.%s or redirect stdout (> FILE.%s)", format, format, format)}
		}
		return write(a.stdout)
	}
	tmp := out + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		return errors.Join(fmt.Errorf("write %s: %w", out, err), removeQuietly(tmp))
	}
	if d, err := os.Open(filepath.Dir(out)); err == nil {
		err = errors.Join(d.Sync(), d.Close())
		if err != nil {
			return fmt.Errorf("write %s: sync directory: %w", out, err)
		}
	}
	fmt.Fprintf(a.stderr, "wrote %s\n", out)
	return nil
}

// removeQuietly removes name; a missing file is not an error.
func removeQuietly(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
