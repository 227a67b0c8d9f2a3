package itemids

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	for id, want := range map[string]bool{"1256ffb10774226b390ad1a2bc892c9c": true, "a.b_c-1": true, "": false,
		"a b": false, "a/b": false, "../x": false, strings.Repeat("a", MaxLen): true, strings.Repeat("a", MaxLen+1): false} {
		if Valid(id) != want {
			t.Errorf("Valid(%q) = %v", id, !want)
		}
	}
}

func TestRead(t *testing.T) {
	ids, err := Read(strings.NewReader("\ufeffa1\n  b2  # note\n# only a comment\n\nc 3\n"))
	if err != nil || !reflect.DeepEqual(ids, []string{"a1", "b2", "c 3"}) {
		t.Fatalf("%q %v", ids, err)
	}
}

// TestMerge: configured, file and pending ids, sorted, once each; invalid
// file and pending ids dropped with a warning; a missing file has none.
func TestMerge(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.txt")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	keys, err := Merge(log, "callback id", []string{"c"}, file, []string{"a", "bad/one"})
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "c"}) || !strings.Contains(logs.String(), "bad/one") {
		t.Fatalf("missing file: %q %v %s", keys, err, logs.String())
	}
	if err := os.WriteFile(file, []byte("b\nc\nnot valid\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	logs.Reset()
	keys, err = Merge(log, "callback id", []string{"c"}, file, []string{"a"})
	if err != nil || !reflect.DeepEqual(keys, []string{"a", "b", "c"}) || !strings.Contains(logs.String(), "invalid callback id in the ids file") {
		t.Fatalf("file: %q %v %s", keys, err, logs.String())
	}
	if _, err := Merge(log, "x", nil, dir, nil); err == nil { // a directory cannot be read as a file
		t.Error("reading a directory as the ids file did not fail")
	}
}

// FuzzRead: whatever the file holds, every id is one trimmed, non-empty
// line without a comment.
func FuzzRead(f *testing.F) {
	f.Add("a1\n b2 # c\n\n#x\n")
	f.Add("\ufeff\r\nid\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		ids, err := Read(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, id := range ids {
			if id == "" || id != strings.TrimSpace(id) || strings.ContainsAny(id, "#\n") {
				t.Fatalf("id %q from %q", id, s)
			}
		}
	})
}
