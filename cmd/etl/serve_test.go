package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/secret"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestServeCommand: etl serve listens on loopback, serves the page over the
// config's lake read-only, and stops cleanly when its context ends.
func TestServeCommand(t *testing.T) {
	w := newWorld(t, 2, 20, 0, "")
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("run: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{{"serve", "extra"}, {"serve", "--addr", "256.0.0.1:x"}, {"serve", "--timeout", "-1s"}} {
		if code, _, _ := w.etl(args...); code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args, code, exitUsage)
		}
	}

	var stderr lockedBuffer
	a := &app{stdout: io.Discard, stderr: &stderr, redactor: secret.NewRedactor()}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- a.execute(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--config", w.cfg, "--log-format", "json"})
	}()
	addr := regexp.MustCompile(`http://(127\.0\.0\.1:[0-9]+)/`)
	var base string
	for base == "" { // wait for the listening line (or an early exit)
		select {
		case err := <-done:
			t.Fatalf("serve ended before listening: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if m := addr.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
		}
	}
	resp, err := http.Get(base + "/?report=daily_summary")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<table>") || !strings.Contains(string(body), "outgoing") {
		t.Errorf("report page: %d\n%s", resp.StatusCode, body)
	}
	resp, err = http.Post(base+"/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", resp.StatusCode)
	}
	resp, err = http.Get(base + "/download/daily_summary.parquet")
	if err != nil {
		t.Fatal(err)
	}
	pq, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(pq, []byte("PAR1")) {
		t.Errorf("parquet download: %d, %d bytes", resp.StatusCode, len(pq))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}
