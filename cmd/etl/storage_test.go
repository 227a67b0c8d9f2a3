package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

const storageTestSources = "sources: {mtt: {username: u, password: {env: X}, customers: [\"1\"]}}\n"

func loadTestConfig(t *testing.T, yaml string) (*Config, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "etl.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return LoadConfig(p)
}

// Locations and the top-level s3 section are validated when the config
// loads, each error naming its field.
func TestConfigStorageErrors(t *testing.T) {
	tests := []struct {
		name, yaml, field, want, notWant string
	}{
		{"bad bucket in a location", "lake: s3://Calletl/lake\nstate: s\n", "lake", "lowercase", ""},
		{"unsupported scheme", "lake: l\nstate: gs://calletl/state\n", "state", `scheme "gs" is not supported`, ""},
		{"credentials in a location", "lake: s3://AKIAX:hunter2@calletl/lake\nstate: s\n", "lake", "must not carry user information", "hunter2"},
		{"bucket in the connection", "lake: l\nstate: s\ns3: {bucket: calletl}\n", "s3.bucket", "belong to each location", ""},
		{"half a key pair", "lake: l\nstate: s\ns3: {access_key: {env: K}}\n", "s3.secret_key", "set both", ""},
		{"secret written in the config", "lake: l\nstate: s\ns3: {access_key: {env: K}, secret_key: {env: S, file: f}}\n", "s3.secret_key", "not both", ""},
		{"part size below the S3 minimum", "lake: l\nstate: s\ns3: {part_size: 1MiB}\n", "s3.part_size", "at least 5MiB", ""},
		{"endpoint with credentials", "lake: l\nstate: s\ns3: {endpoint: \"http://u:hunter2@127.0.0.1:1\"}\n", "s3.endpoint", "without user information", "hunter2"},
		{"recordings.s3 keeps its checks", "lake: l\nstate: s\nrecordings: {s3: {bucket: b, part_size: 1MiB}}\n", "recordings.s3.part_size", "at least 5MiB", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTestConfig(t, tt.yaml+storageTestSources)
			var fe *FieldError
			if !errors.As(err, &fe) || !strings.Contains(err.Error(), tt.field+": ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v; want a field error on %s saying %q", err, tt.field, tt.want)
			}
			if tt.notWant != "" && strings.Contains(err.Error(), tt.notWant) {
				t.Errorf("error %v echoes %q", err, tt.notWant)
			}
		})
	}
	// Directories stay as they were.
	c, err := loadTestConfig(t, "lake: l\nstate: /var/lib/calletl/state\n"+storageTestSources)
	if err != nil {
		t.Fatal(err)
	}
	if c.path(c.Lake) != filepath.Join(c.dir, "l") || c.State != "/var/lib/calletl/state" {
		t.Errorf("lake %q state %q", c.path(c.Lake), c.State)
	}
}

// The recordings store takes its S3 connection from the top-level s3
// section, recordings.s3 giving the bucket and prefix; the old form with
// everything in recordings.s3 still works, and its connection fields
// override the top-level ones (with a warning).
func TestRecordingsStoreFromTopLevelS3(t *testing.T) {
	v := storagetest.StartVersity(t)
	t.Setenv("TEST_S3_KEY", storagetest.VersityAccessKey)
	t.Setenv("TEST_S3_SECRET", storagetest.VersitySecretKey)
	conn := "endpoint: " + v.Endpoint + ", region: us-east-1, path_style: true, access_key: {env: TEST_S3_KEY}, secret_key: {env: TEST_S3_SECRET}"
	tests := []struct {
		name, yaml, prefix string
		warn               bool
	}{
		{"connection in s3, bucket in recordings.s3",
			"s3: {" + conn + "}\nrecordings: {s3: {bucket: " + storagetest.VersityBucket + ", prefix: top}}\n", "top/", false},
		{"everything in recordings.s3 (as before)",
			"recordings: {s3: {bucket: " + storagetest.VersityBucket + ", prefix: legacy, " + conn + "}}\n", "legacy/", false},
		{"recordings.s3 overrides the connection",
			"s3: {endpoint: \"http://127.0.0.1:1\", access_key: {env: NOPE_K}, secret_key: {env: NOPE_S}}\nrecordings: {s3: {bucket: " + storagetest.VersityBucket + ", prefix: over, " + conn + "}}\n", "over/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadTestConfig(t, "lake: l\nstate: s\n"+tt.yaml+storageTestSources)
			if err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, w := range c.warnings {
				warned = warned || w.Field == "recordings.s3"
			}
			if warned != tt.warn {
				t.Errorf("warnings %v; want a recordings.s3 warning: %v", c.warnings, tt.warn)
			}
			st, err := openStore(t.Context(), c)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Put(t.Context(), "mtt/x.wav", strings.NewReader("RIFF"), "audio/wav"); err != nil {
				t.Fatal(err)
			}
			if _, err := v.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(storagetest.VersityBucket), Key: aws.String(tt.prefix + "mtt/x.wav")}); err != nil {
				t.Errorf("object not at %smtt/x.wav: %v", tt.prefix, err)
			}
			if _, ok := st.(*storage.S3); !ok {
				t.Errorf("store %T; want *storage.S3", st)
			}
		})
	}
}

// On a lake on S3 the SQL commands query a mirror of it in the user's
// cache directory: the same rows as a plain S3 download, only changed
// objects fetched again, objects gone removed; --lake DIR still queries
// DIR as it is. The data-quality checks of a whole run read the same
// mirror, so they run on an S3 lake too.
func TestSQLOnS3LakeMirror(t *testing.T) {
	v := storagetest.StartVersity(t)
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	w := newShardWorldWith(t, shardWorldOptions{customers: 3, callsPerDay: 5, s3: v})
	if code, _, stderr := w.etl("run"); code != exitOK {
		t.Fatalf("etl run: exit %d\n%s", code, stderr)
	}
	w.pull(t)
	_, copied, _ := w.etl("report", "daily_summary", "--format", "csv")
	args := w.world.args
	w.world.args = nil // no --lake: the configured lake on S3
	defer func() { w.world.args = args }()

	logged := func(stderr string) map[string]any {
		t.Helper()
		for line := range strings.Lines(stderr) {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "lake on S3: querying a local mirror" {
				return rec
			}
		}
		t.Fatalf("no mirror log line in\n%s", stderr)
		return nil
	}
	code, mirrored, stderr := w.etl("report", "daily_summary", "--format", "csv")
	if code != exitOK || mirrored != copied || strings.Count(copied, "\n") < 2 {
		t.Fatalf("etl report on the S3 lake: exit %d\n%s\nwant the rows of a plain download:\n%s\n%s", code, mirrored, copied, stderr)
	}
	first := logged(stderr)
	if first["downloaded"].(float64) == 0 || !strings.HasPrefix(first["dir"].(string), cache) {
		t.Errorf("first mirror: %v; want objects downloaded into %s", first, cache)
	}
	// Again: nothing changed, nothing downloaded.
	code, again, stderr := w.etl("sql", "SELECT count(*) AS n FROM calls", "--format", "csv")
	if rec := logged(stderr); code != exitOK || rec["downloaded"].(float64) != 0 || rec["objects"] != first["objects"] {
		t.Errorf("second mirror: exit %d, %v; want nothing downloaded\n%s", code, rec, stderr)
	}
	if !strings.HasPrefix(again, "n\n") {
		t.Errorf("etl sql: %q", again)
	}
	// An object removed from S3 is removed from the mirror.
	dir := first["dir"].(string)
	files, _ := filepath.Glob(filepath.Join(dir, "calls", "source=t2", "date=*", "*.parquet"))
	if len(files) == 0 {
		t.Fatalf("no t2 calls in the mirror %s", dir)
	}
	rel, _ := filepath.Rel(dir, files[0])
	if _, err := v.Client().DeleteObject(t.Context(), &s3.DeleteObjectInput{Bucket: aws.String(storagetest.VersityBucket),
		Key: aws.String(w.prefix + "/lake/" + filepath.ToSlash(rel))}); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := w.etl("report", "daily_summary"); code != exitOK || logged(stderr)["removed"].(float64) != 1 {
		t.Errorf("after deleting %s on S3: exit %d, want it removed from the mirror\n%s", rel, code, stderr)
	}
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Errorf("%s still in the mirror: %v", files[0], err)
	}
}
