package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestStartStop(t *testing.T) {
	base, stop, err := Start(t.Context(), "127.0.0.1:0", jsonHandler())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Errorf("baseURL = %q", base)
	}
	if body, err := get(base + "/any/path"); err != nil || body != string(testJSONBody()) {
		t.Fatalf("GET = %q, %v", body, err)
	}
	stop()
	stop() // idempotent
	if _, err := get(base); err == nil {
		t.Error("server still answers after stop")
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	base, stop, err := Start(ctx, "127.0.0.1:0", jsonHandler())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if _, err := get(base); err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := get(base); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("server still answers 5s after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestStartBadAddress(t *testing.T) {
	if _, _, err := Start(t.Context(), "127.0.0.1:notaport", jsonHandler()); err == nil {
		t.Error("Start on a bad address succeeded")
	}
}
