package t2

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

// TestTokensInStore: with the state on S3 (and, the same code, in a local
// store) the token pair lives in an object: the configured pair is used
// until a refresh saves the new one there, a second client adopts it, and
// a save over a version this process did not read fails with a message
// saying so instead of overwriting it.
func TestTokensInStore(t *testing.T) {
	var (
		once sync.Once
		v    *storagetest.Versity
	)
	stores := map[string]func(t *testing.T) storage.Store{
		"local": func(t *testing.T) storage.Store {
			st, err := storage.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		"s3": func(t *testing.T) storage.Store {
			once.Do(func() { v = storagetest.StartVersity(t) })
			st, err := storage.NewS3(t.Context(), storage.S3Config{
				Endpoint: v.Endpoint, Region: "us-east-1", Bucket: storagetest.VersityBucket, Prefix: "state",
				PathStyle: true, AccessKey: secret.New(storagetest.VersityAccessKey), SecretKey: secret.New(storagetest.VersitySecretKey),
			})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	}
	for _, name := range []string{"local", "s3"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := stores[name](t)
			f := newFake(t)
			srv := serve(t, f)
			inStore := func(c *Config) {
				c.TokenFile, c.TokenStore, c.TokenName = "t2-tokens.json", st, "store:/t2-tokens.json"
			}
			c1, red := newTestClient(t, f, srv, t.TempDir(), inStore)
			if _, err := st.Stat(ctx, "t2-tokens.json"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("before any refresh the object exists or fails: %v", err)
			}
			f.mu.Lock()
			f.expired = true
			f.mu.Unlock()
			if _, err := c1.Employees(ctx); err != nil {
				t.Fatal(err)
			}
			saved := readTokenObject(t, st)
			if saved.AccessToken != f.access || saved.RefreshToken != f.refresh || saved.RefreshedAt.IsZero() {
				t.Fatalf("object does not hold the refreshed pair")
			}

			// A second client (the next run) starts from the object.
			c2, _ := newTestClient(t, f, srv, t.TempDir(), inStore)
			if _, err := c2.Employees(ctx); err != nil {
				t.Fatal(err)
			}
			if f.refreshes != 1 {
				t.Fatalf("%d refreshes, want 1: the second client did not use the saved pair", f.refreshes)
			}

			// Another writer replaces the object behind c2's back: c2's
			// next save must not overwrite it.
			if _, err := st.Replace(ctx, "t2-tokens.json", strings.NewReader(`{"access_token":"x","refresh_token":"y"}`), storage.Unconditional()); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			f.expired = true
			f.mu.Unlock()
			_, err := c2.Employees(ctx)
			if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "written by another process") || !strings.Contains(err.Error(), "store:/t2-tokens.json") {
				t.Fatalf("err = %v, want an auth error saying the object was written by another process", err)
			}
			noTokens(t, err.Error(), red, f)
			if got := readTokenObject(t, st); got.AccessToken != "x" {
				t.Fatalf("the other writer's pair was overwritten")
			}
		})
	}
}

func readTokenObject(t *testing.T, st storage.Store) tokenFile {
	t.Helper()
	rc, err := st.Open(context.Background(), "t2-tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	var p tokenFile
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&p); err != nil {
		t.Fatal(err)
	}
	return p
}
