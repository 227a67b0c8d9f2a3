package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/calletl/calletl/storage"
)

// note reports one outcome of a command on stderr (a run's summary, a file
// written, why etl exits): on a text log the human line text; on a JSON
// log one record, msg with attrs (the same facts as fields), so stderr
// carries nothing but JSON lines. A note is the command's output, like
// stdout, so --log-level does not hide it.
func (a *app) note(level slog.Level, msg, text string, attrs ...slog.Attr) {
	if a.format == "json" && a.log != nil {
		r := slog.NewRecord(time.Now(), level, msg, 0)
		r.AddAttrs(attrs...)
		_ = a.log.Handler().Handle(context.Background(), r)
		return
	}
	fmt.Fprintln(a.errOut(), a.redactor.Redact(text))
}

// errOut is where plain lines for stderr go: through the progress bar's
// coordinator when bars can show, so a line never lands on the bar's line.
func (a *app) errOut() io.Writer {
	if a.term != nil {
		return a.term
	}
	return a.stderr
}

// secondsAttr is the log handlers' ReplaceAttr: a duration becomes float
// seconds under its key with "_s" appended (took → took_s), so no log
// record carries nanoseconds (slog's JSON form of a time.Duration) or a Go
// duration string, and every duration says its unit in its key.
func secondsAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() != slog.KindDuration {
		return a
	}
	key := a.Key
	if !strings.HasSuffix(key, "_s") {
		key += "_s"
	}
	return slog.Float64(key, a.Value.Duration().Seconds())
}

// writeOutput writes a command's result: to the file out when it is named
// (written next to it as a hidden temp file, synced, then renamed over
// it, so a reader never sees half a file), else to stdout. A binary format (xlsx) goes to
// stdout only when stdout is not a terminal (a pipe or a redirect), where
// the bytes cannot garble the screen.
func (a *app) writeOutput(out, format string, binary bool, write func(io.Writer) error) error {
	if out == "" {
		if binary && isTerminal(a.stdout) {
			return &usageError{fmt.Sprintf("--format %s is a binary file: name it with --out FILE.%s or redirect stdout (> FILE.%s)", format, format, format)}
		}
		return write(a.stdout)
	}
	// storage.WriteFileAtomicFunc: a hidden temp file next to out, synced,
	// renamed over it, the directory synced; removed on any error.
	err := storage.WriteFileAtomicFunc(out, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		if err := write(bw); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	a.noteWrote(out)
	return nil
}

// noteWrote reports a file a command wrote.
func (a *app) noteWrote(file string) {
	a.note(slog.LevelInfo, "wrote file", "wrote "+file, slog.String("file", file))
}

// removeQuietly removes name; a missing file is not an error.
func removeQuietly(name string) error {
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
