package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calletl/calletl/storage/storagetest"
)

// leaseExpiry reads a lease object with a plain S3 client and returns its
// expiry; the zero time when it is released or absent.
func (w *shardWorld) leaseExpiry(t *testing.T, key string) time.Time {
	t.Helper()
	out, err := w.s3.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(storagetest.VersityBucket), Key: aws.String(key)})
	if err != nil {
		return time.Time{}
	}
	defer out.Body.Close()
	var d struct {
		Expires  time.Time `json:"expires"`
		Released bool      `json:"released"`
	}
	if err := json.NewDecoder(out.Body).Decode(&d); err != nil || d.Released {
		return time.Time{}
	}
	return d.Expires
}

// The scale-out night, here: versitygw as S3 holds the lake, the state
// (state.json, the T2 token pair, the leases) and the recordings; 200 MTT
// customers × 4 history types, T2 and VotBox in the emulators, MTT with
// latency on. Night 1 runs 4 shard processes at once and SIGKILLs one of
// them mid-run; its lease blocks a re-run until it expires, then the
// re-run finishes the shard. Night 2 runs 3 shards (n changed from 4).
// After each night the lake, downloaded from S3 by a plain S3 client and
// read by plain DuckDB, equals the emulators' ground truth: 0 lost, 0
// duplicated.
func TestScaleOutOnS3(t *testing.T) {
	if os.Getenv("CALLETL_SCALE_TEST") != "1" {
		// 4 shard processes of a race-instrumented binary would take
		// most of go test -race's time budget: make test-scale runs it
		// (part of make test) without the race detector.
		t.Skip("set CALLETL_SCALE_TEST=1 (make test-scale) to run the scale-out night")
	}
	v := storagetest.StartVersity(t)
	w := newShardWorldWith(t, shardWorldOptions{customers: 200, callsPerDay: 4, latency: time.Millisecond, s3: v,
		extra: "lease_ttl: 2s\n"})

	// Night 1: 4 processes; shard 1 is killed once it has sent a share
	// of its MTT requests (some windows committed, others in flight).
	const n, victim = 4, 1
	cmds := make([]*exec.Cmd, n)
	outs := make([]fmt.Stringer, n)
	for i := range n {
		c, out := w.start(t, i, nil, "run", "--shard", fmt.Sprintf("%d/%d", i, n))
		cmds[i], outs[i] = c, out
	}
	deadline := time.Now().Add(2 * time.Minute)
	for w.gate.count(fmt.Sprint(victim)) < 150 {
		if time.Now().After(deadline) {
			t.Fatalf("shard %d never sent 150 MTT requests", victim)
		}
		time.Sleep(2 * time.Millisecond)
	}
	if err := cmds[victim].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Re-run the killed shard at once, while the others still run: its
	// lease outlives it (exit 3) until it expires, lease_ttl after its last
	// renewal plus the clock-skew margin (1s here), then the re-run takes
	// it over and finishes the shard.
	lease := w.prefix + fmt.Sprintf("/state/lock.s%dof%d", victim, n)
	retries := 0
	// (When each attempt reaches the lease is up to the scheduler, so the
	// exit-3 attempts are counted, not asserted: the state package tests
	// takeover times with a controlled clock.)
	expires := w.leaseExpiry(t, lease)
	for {
		code, _, stderr := w.etl("run", "--shard", fmt.Sprintf("%d/%d", victim, n))
		if code == exitOK {
			break
		}
		if code != exitLocked || retries > 200 {
			t.Fatalf("re-run of the killed shard: exit %d after %d retries\n%s", code, retries, stderr)
		}
		retries++
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the killed shard's re-run waited for its lease (expiring %v) through %d exit-3 attempts", expires, retries)
	w.reruns += len(w.mtt)
	for i, c := range cmds {
		err := c.Wait()
		if i == victim {
			continue
		}
		if err != nil {
			t.Fatalf("shard %d/%d: %v\n%s", i, n, err, outs[i])
		}
	}
	w.nights++
	w.check(t, "night 1: 4 shard processes, one killed and re-run")

	// Night 2: 3 shards; T2's access token expired meanwhile, so the
	// shard holding T2 refreshes the pair into the state on S3.
	w.vb.Advance()
	w.t2.ExpireAccessTokens()
	w.night(t, 3, true)
	w.check(t, "night 2: 3 shards")
	if w.t2.Refreshes() < 1 {
		t.Error("no T2 refresh after the access token expired")
	}
	tokens := w.prefix + "/state/t2-tokens.json"
	if _, err := v.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(storagetest.VersityBucket), Key: aws.String(tokens)}); err != nil {
		t.Errorf("the refreshed T2 pair is not in the state on S3 (%s): %v", tokens, err)
	}

	// The state on S3 is the whole picture; reports read a local copy
	// (--lake), or a mirror of it they keep up to date.
	if code, out, stderr := w.etl("state", "--shards", "3"); code != exitOK || !strings.Contains(out, "mtt/incoming/120000000") {
		t.Errorf("etl state --shards 3: exit %d\n%s%s", code, out, stderr)
	}
	if rows := w.reportRows(t, "daily_summary"); len(rows) == 0 {
		t.Error("etl --lake COPY report daily_summary: no rows")
	}
	// Without --lake, the SQL commands query a mirror of the S3 lake in
	// the user's cache directory: the same rows as the copy.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var noCopy []string
	noCopy, w.world.args = w.world.args, nil
	code, mirrored, stderr := w.etl("report", "daily_summary", "--format", "csv")
	w.world.args = noCopy
	_, copied, _ := w.etl("report", "daily_summary", "--format", "csv")
	if code != exitOK || mirrored != copied || !strings.Contains(stderr, "querying a local mirror") {
		t.Errorf("etl report on an S3 lake without --lake: exit %d\n%s\nwant the rows of the copy:\n%s\n%s", code, mirrored, copied, stderr)
	}

	// Compaction on S3 (under the whole run's lease, which no shard holds
	// now): the day before the lookback becomes one object per partition,
	// and the lake still equals the truth.
	if code, _, stderr := w.etl("compact"); code != exitOK {
		t.Fatalf("etl compact on an S3 lake: exit %d\n%s", code, stderr)
	}
	w.check(t, "after etl compact on S3")
	parts, err := filepath.Glob(filepath.Join(w.dir, "lake", "*", "source=*", "date="+w.from))
	if err != nil || len(parts) == 0 {
		t.Fatalf("no partitions of %s in the downloaded lake (%v)", w.from, err)
	}
	for _, p := range parts {
		if files, _ := filepath.Glob(filepath.Join(p, "*.parquet")); len(files) != 1 || filepath.Base(files[0]) != "compacted.parquet" && len(files) > 1 {
			t.Errorf("%s after etl compact: %d files, want one", p, len(files))
		}
	}
}
