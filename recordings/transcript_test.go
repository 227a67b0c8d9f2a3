package recordings_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
)

// wordRow is a transcript_words row.
type wordRow struct {
	Channel    string
	Start, End float64
	Word       string
}

// lakeWords returns the transcript_words rows per call_id in seq order,
// failing on a gap or a duplicate seq.
func lakeWords(t testing.TB, lakeDir string) map[string][]wordRow {
	t.Helper()
	glob := filepath.Join(lakeDir, "transcript_words", "*", "*", "*.parquet")
	if m, _ := filepath.Glob(glob); len(m) == 0 {
		return nil
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT call_id, seq, channel, start_s, end_s, word FROM read_parquet('` + glob + `', hive_partitioning=true)
		WHERE source = 't2' ORDER BY call_id, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]wordRow{}
	for rows.Next() {
		var id string
		var seq int
		var w wordRow
		if err := rows.Scan(&id, &seq, &w.Channel, &w.Start, &w.End, &w.Word); err != nil {
			t.Fatal(err)
		}
		if seq != len(out[id]) {
			t.Fatalf("%s: seq %d after %d words (doubled or missing rows)", id, seq, len(out[id]))
		}
		out[id] = append(out[id], w)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// servedTranscript asks the emulator itself for ref's transcript: the raw
// body, or nil for a 404.
func servedTranscript(t testing.TB, base, token, ref string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/call-records/file/stt?"+url.Values{"filename": {ref}}.Encode(), nil)
	req.Header.Set("Authorization", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return b
	case http.StatusNotFound:
		if !strings.Contains(string(b), "Transcription not found") {
			t.Fatalf("%s: 404 %s", ref, b)
		}
		return nil
	}
	t.Fatalf("%s: %d %s", ref, resp.StatusCode, b)
	return nil
}

// counting wraps a handler: counts stt and recording requests per
// filename, and answers the recording of every filename in broken with an
// HTML page.
type counting struct {
	h      http.Handler
	mu     sync.Mutex
	stt    map[string]int
	audio  map[string]int
	broken map[string]bool
}

func (c *counting) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("filename")
	c.mu.Lock()
	if strings.HasSuffix(r.URL.Path, "/call-records/file/stt") {
		c.stt[name]++
	}
	if strings.HasSuffix(r.URL.Path, "/call-records/file") {
		if c.audio == nil {
			c.audio = map[string]int{}
		}
		c.audio[name]++
	}
	broken := strings.HasSuffix(r.URL.Path, "/call-records/file") && c.broken[name]
	c.mu.Unlock()
	if broken {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html>maintenance</html>"))
		return
	}
	c.h.ServeHTTP(w, r)
}

func TestT2Transcripts(t *testing.T) {
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 3, From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), CallsPerDay: 60})
	h := &counting{h: emu, stt: map[string]int{}, broken: map[string]bool{}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	access, _ := emu.IssueTokens()
	var refs []string
	for _, c := range emu.Calls() {
		if c.RecordFileName != "" && len(refs) < 12 {
			refs = append(refs, c.RecordFileName)
		}
	}
	served := map[string][]byte{}
	withWords, without := "", 0
	for _, ref := range refs {
		served[ref] = servedTranscript(t, srv.URL, access, ref)
		if served[ref] == nil {
			without++
		} else if withWords == "" {
			withWords = ref
		}
	}
	if without == 0 || withWords == "" {
		t.Fatalf("want recorded calls with and without a transcript; %d of %d have none", without, len(refs))
	}
	unknown := "2026-11-20/unknown/nothing.mp3"
	refs = append(refs, unknown)
	clear(h.stt)
	// One call's recording fails on the first run, after which its
	// transcript is stored all the same.
	h.broken[withWords] = true

	f := t2Fetcher(t, srv.URL, access)
	lake := lakeWithCalls(t, "t2", refs...)
	st := localStore(t)
	clk := newClock()
	cfg := recordings.Config{Store: st, Lake: lake, Now: clk.Now}
	sum, err := recordings.Run(context.Background(), cfg, testRun("r1", clk.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	n := len(refs) - 1
	if sum.Stored != n-1 || sum.Missing != 1 || sum.Failed != 1 ||
		sum.Transcripts != n-without || sum.TranscriptsMissing != without+1 || sum.TranscriptsFailed != 0 {
		t.Errorf("summary %+v; want %d stored, 1 missing, 1 failed, transcripts %d stored %d missing", sum, n-1, n-without, without+1)
	}

	check := func(run string) {
		t.Helper()
		man := latestManifest(t, lake.Root())
		words := lakeWords(t, lake.Root())
		for _, ref := range refs {
			row := man[ref][recordings.TranscriptPart]
			if served[ref] == nil {
				if row.Status != recordings.StatusMissing || row.Key != "" || len(words[ref]) != 0 {
					t.Errorf("%s %s: transcript row %+v, %d words; want missing, none", run, ref, row, len(words[ref]))
				}
				continue
			}
			key := recordings.TranscriptKey("t2", day, ref)
			if row.Status != recordings.StatusOK || row.Key != key || row.Bytes != int64(len(served[ref])) {
				t.Errorf("%s %s: transcript row %+v", run, ref, row)
				continue
			}
			rc, err := st.Open(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if !bytes.Equal(got, served[ref]) {
				t.Errorf("%s %s: stored %q, served %q", run, ref, got, served[ref])
			}
			var want []struct {
				Channel            string
				StartTime, EndTime float64
				Word               string
			}
			if err := json.Unmarshal(served[ref], &want); err != nil {
				t.Fatal(err)
			}
			if len(words[ref]) != len(want) {
				t.Errorf("%s %s: %d words in the lake, %d served", run, ref, len(words[ref]), len(want))
				continue
			}
			for i, w := range want {
				if g := words[ref][i]; g != (wordRow{w.Channel, w.StartTime, w.EndTime, w.Word}) {
					t.Errorf("%s %s word %d: %+v, served %+v", run, ref, i, g, w)
				}
			}
		}
	}
	check("r1")
	if st := latestManifest(t, lake.Root())[withWords][1].Status; st != recordings.StatusFailed {
		t.Fatalf("broken recording: %s", st)
	}

	// Second run: only the failed call is retried; its transcript is not
	// asked for again and its words do not double.
	delete(h.broken, withWords)
	clear(h.stt)
	clk.Advance(24 * time.Hour)
	sum, err = recordings.Run(context.Background(), cfg, testRun("r2", clk.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 1 || sum.Stored != 1 || sum.Failed != 0 || sum.Transcripts != 0 || sum.TranscriptsFailed != 0 {
		t.Errorf("r2 summary %+v; want the one failed call stored, no transcript fetched", sum)
	}
	if len(h.stt) != 0 {
		t.Errorf("r2 asked for transcripts again: %v", h.stt)
	}
	check("r2")
	if st := latestManifest(t, lake.Root())[withWords][1].Status; st != recordings.StatusOK {
		t.Errorf("retried recording: %s", st)
	}

	// recording_coverage counts the stored transcripts.
	checkDays(t, lake.Root())
	row := coverageRow(t, lake.Root())
	if row["stored"] != strconv.Itoa(n) || row["missing"] != "1" || row["failed"] != "0" || row["transcribed"] != strconv.Itoa(n-without) {
		t.Errorf("coverage %v; want stored %d, missing 1, transcribed %d", row, n, n-without)
	}
}

// A transcript that is not the expected JSON is failed, nothing of it is
// stored, and the recording is not affected.
func TestT2TranscriptMalformed(t *testing.T) {
	bodies := map[string]string{
		"a.mp3": `{"channel":"A"}`,
		"b.mp3": `[{"channel":"A","startTime":0.5,"endTime":0.9,"word":"да"},`,
		"c.mp3": `[{"channel":"A","word":"да"}]`,
		"d.mp3": `<html>oops</html>`,
		"e.mp3": `[{"channel":"B","startTime":0.5,"endTime":0.9,"word":"да"}] [ ]`,
	}
	mp3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 64)...)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("filename")
		switch r.URL.Path {
		case "/call-records/file":
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = w.Write(mp3)
		case "/call-records/file/stt":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, bodies[name])
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := t2Fetcher(t, srv.URL, "tok")
	var refs []string
	for ref := range bodies {
		refs = append(refs, ref)
	}
	lake := lakeWithCalls(t, "t2", refs...)
	st := localStore(t)
	sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake}, testRun("r1", time.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stored != len(refs) || sum.Failed != 0 || sum.TranscriptsFailed != len(refs) || sum.Transcripts != 0 {
		t.Errorf("summary %+v; want %d recordings stored, %d transcripts failed", sum, len(refs), len(refs))
	}
	man := latestManifest(t, lake.Root())
	for _, ref := range refs {
		if r := man[ref][recordings.TranscriptPart]; r.Status != recordings.StatusFailed || r.Key != "" || r.Err == "" {
			t.Errorf("%s: transcript row %+v; want failed", ref, r)
		}
		if r := man[ref][1]; r.Status != recordings.StatusOK {
			t.Errorf("%s: recording row %+v; want ok", ref, r)
		}
	}
	for _, k := range listKeys(t, st) {
		if strings.HasSuffix(k, "transcript.json") {
			t.Errorf("stored %s", k)
		}
	}
	if w := lakeWords(t, lake.Root()); len(w) != 0 {
		t.Errorf("words %v", w)
	}
}

// recordingsOnly hides a fetcher's transcripts: how T2 recordings were
// fetched before transcripts existed.
type recordingsOnly struct{ recordings.Fetcher }

// Calls whose recordings were fetched before transcripts existed (latest
// attempt ok or missing, without a transcript row) get their transcript on
// a later run: the transcript alone is fetched, the recording is neither
// downloaded nor uploaded again, and its rows are repeated unchanged in the
// new attempt.
func TestT2TranscriptBackfill(t *testing.T) {
	emu := sandbox.NewT2(sandbox.T2Config{Seed: 3, From: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), CallsPerDay: 60})
	h := &counting{h: emu, stt: map[string]int{}, broken: map[string]bool{}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	access, _ := emu.IssueTokens()
	var refs []string
	served := map[string][]byte{}
	without := 0
	for _, c := range emu.Calls() {
		if c.RecordFileName != "" && len(refs) < 10 {
			refs = append(refs, c.RecordFileName)
			served[c.RecordFileName] = servedTranscript(t, srv.URL, access, c.RecordFileName)
			if served[c.RecordFileName] == nil {
				without++
			}
		}
	}
	if without == 0 || without == len(refs) {
		t.Fatalf("want calls with and without a transcript; %d of %d have none", without, len(refs))
	}
	broken, unknown := refs[0], "2026-11-20/unknown/nothing.mp3"
	h.broken[broken] = true
	refs = append(refs, unknown)
	clear(h.stt)

	f := t2Fetcher(t, srv.URL, access)
	lake := lakeWithCalls(t, "t2", refs...)
	st := localStore(t)
	clk := newClock()
	cfg := recordings.Config{Store: st, Lake: lake, Now: clk.Now}

	// Before transcripts: recordings only; one fails, one is missing.
	sum, err := recordings.Run(context.Background(), cfg, testRun("r1", clk.Now()), recordingsOnly{f})
	if err != nil {
		t.Fatal(err)
	}
	n := len(refs)
	if sum.Stored != n-2 || sum.Missing != 1 || sum.Failed != 1 || len(h.stt) != 0 {
		t.Fatalf("r1 %+v, %d stt requests; want %d stored, 1 missing, 1 failed, no transcript", sum, len(h.stt), n-2)
	}
	before := latestManifest(t, lake.Root())
	objects := len(listKeys(t, st))

	// With transcripts, after the failed call's backoff: the failed call
	// is retried as usual; every other call gets its transcript alone.
	delete(h.broken, broken)
	clear(h.audio)
	clk.Advance(2 * time.Hour)
	sum, err = recordings.Run(context.Background(), cfg, testRun("r2", clk.Now()), f)
	if err != nil {
		t.Fatal(err)
	}
	want := recordings.Summary{Calls: 1, Stored: 1, Backfilled: n - 1, Transcripts: n - 1 - without,
		TranscriptsMissing: without + 1, Bytes: sum.Bytes}
	if sum != want {
		t.Errorf("r2 summary %+v; want %+v", sum, want)
	}
	for _, ref := range refs {
		if h.stt[ref] != 1 {
			t.Errorf("r2 asked for the transcript of %s %d times; want once", ref, h.stt[ref])
		}
	}
	if len(h.audio) != 1 || h.audio[broken] != 1 {
		t.Errorf("r2 downloaded recordings %v; want only the failed one, %s", h.audio, broken)
	}
	if got := len(listKeys(t, st)); got != objects+1+n-1-without {
		t.Errorf("%d objects after r2; want %d (+1 recording, +%d transcripts)", got, objects+1+n-1-without, n-1-without)
	}
	man := latestManifest(t, lake.Root())
	words := lakeWords(t, lake.Root())
	for _, ref := range refs {
		rows := man[ref]
		tr := rows[recordings.TranscriptPart]
		switch {
		case served[ref] == nil && (tr.Status != recordings.StatusMissing || len(words[ref]) != 0):
			t.Errorf("%s: transcript %+v, %d words; want missing", ref, tr, len(words[ref]))
		case served[ref] != nil && (tr.Status != recordings.StatusOK || tr.Key != recordings.TranscriptKey("t2", day, ref) ||
			tr.Bytes != int64(len(served[ref])) || len(words[ref]) == 0):
			t.Errorf("%s: transcript %+v, %d words; want ok", ref, tr, len(words[ref]))
		}
		if ref == broken {
			if rows[1].Status != recordings.StatusOK || rows[1].Attempts != 2 {
				t.Errorf("%s (retried): %+v", ref, rows[1])
			}
			continue
		}
		// The recording's rows are r1's, in a second attempt.
		if len(rows) != len(before[ref])+1 {
			t.Errorf("%s: %d rows; want r1's %d and the transcript", ref, len(rows), len(before[ref]))
		}
		for p, old := range before[ref] {
			got := rows[p]
			if got.Attempts != 2 {
				t.Errorf("%s part %d: attempts %d; want 2", ref, p, got.Attempts)
			}
			got.Attempts = old.Attempts
			if got != old {
				t.Errorf("%s part %d: %+v; want r1's %+v", ref, p, got, old)
			}
		}
	}

	// Nothing is left to do.
	clear(h.stt)
	clear(h.audio)
	clk.Advance(48 * time.Hour)
	sum, err = recordings.Run(context.Background(), cfg, testRun("r3", clk.Now()), f)
	if err != nil || sum != (recordings.Summary{}) || len(h.stt)+len(h.audio) != 0 {
		t.Errorf("r3: %+v, %v, requests stt %v audio %v; want nothing", sum, err, h.stt, h.audio)
	}
	if d := checkDays(t, lake.Root())[[2]string{"t2", day}]; d.Transcribed != int64(n-1-without) {
		t.Errorf("recording_days %+v; want transcribed %d", d, n-1-without)
	}
	row := coverageRow(t, lake.Root())
	if row["stored"] != strconv.Itoa(n-1) || row["missing"] != "1" || row["transcribed"] != strconv.Itoa(n-1-without) {
		t.Errorf("coverage %v; want stored %d, missing 1, transcribed %d", row, n-1, n-1-without)
	}
}
