package storage_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/calletl/calletl/storage"
)

// ReadVersion returns the bytes with the ETag of those bytes (a replace
// conditional on it succeeds), and ErrNotFound for a missing key.
func TestReadVersion(t *testing.T) {
	st, err := storage.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, _, err := storage.ReadVersion(ctx, st, "state.json"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("missing key: %v, want ErrNotFound", err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v1"), storage.IfNoneMatch()); err != nil {
		t.Fatal(err)
	}
	b, etag, err := storage.ReadVersion(ctx, st, "state.json")
	if err != nil || string(b) != "v1" {
		t.Fatalf("read %q, %v", b, err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v2"), storage.IfMatch(etag)); err != nil {
		t.Fatalf("replace conditional on the version read: %v", err)
	}
	if _, err := st.Replace(ctx, "state.json", strings.NewReader("v3"), storage.IfMatch(etag)); !errors.Is(err, storage.ErrPrecondition) {
		t.Fatalf("replace conditional on a replaced version: %v, want ErrPrecondition", err)
	}
}
