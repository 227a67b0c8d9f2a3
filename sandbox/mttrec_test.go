package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// mttRecEnv serves an MTTRecords on two hosts: API and Files.
type mttRecEnv struct {
	rec        *MTTRecords
	api, files *httptest.Server
}

func newMTTRecEnv(t *testing.T, cfg MTTRecordsConfig) *mttRecEnv {
	t.Helper()
	if cfg.Username == "" {
		cfg.Username, cfg.Password = "user", "secret"
	}
	r := NewMTTRecords(cfg)
	e := &mttRecEnv{rec: r, api: httptest.NewServer(r.API()), files: httptest.NewServer(r.Files())}
	t.Cleanup(e.api.Close)
	t.Cleanup(e.files.Close)
	r.SetDownloadBase(e.files.URL + "/")
	return e
}

// mttRecGet sends a GET, with Basic Auth when user is not "".
func mttRecGet(t *testing.T, url, user, pass string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func (e *mttRecEnv) urls(t *testing.T, version, id string) (int, []string) {
	t.Helper()
	u := e.api.URL + "/" + version + "/records/" + id + "/urls"
	if version == "v2" {
		u += "?format=mp3"
	}
	resp := mttRecGet(t, u, "user", "secret")
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	var out []string
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("urls %s: %v: %s", id, err, body)
	}
	return resp.StatusCode, out
}

// mttRecIDs returns ids of the h323 form, with spaces, that have the given
// number of parts.
func mttRecIDs(r *MTTRecords, parts, n int) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		id := fmt.Sprintf("0000B3A4 55F311E4 A2420025 %08X", i)
		if r.Parts(id) == parts {
			ids = append(ids, id)
		}
	}
	return ids
}

func mttRecDownload(t *testing.T, url string) (status int, body []byte, hdr http.Header, err error) {
	t.Helper()
	resp := mttRecGet(t, url, "", "")
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, err
}

func mttRecSHA(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func TestMTTRecordsAuth(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 1})
	id := mttRecPathID(mttRecIDs(e.rec, 1, 1)[0])
	u := e.api.URL + "/v1/records/" + id + "/urls"
	for _, c := range []struct{ user, pass string }{{"", ""}, {"user", "wrong"}, {"other", "secret"}} {
		resp := mttRecGet(t, u, c.user, c.pass)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%q/%q: HTTP %d", c.user, c.pass, resp.StatusCode)
		}
	}
	if st, _ := e.urls(t, "v1", id); st != 200 {
		t.Errorf("good credentials: HTTP %d", st)
	}
}

func TestMTTRecordsURLsAndDownload(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 7, PartSize: 10_000})
	for _, parts := range []int{1, 2} {
		for _, id := range mttRecIDs(e.rec, parts, 3) {
			pid := mttRecPathID(id)
			st, urls := e.urls(t, "v1", pid)
			if st != 200 || len(urls) != parts {
				t.Fatalf("%s: HTTP %d, %d urls, want %d", id, st, len(urls), parts)
			}
			for i, u := range urls {
				suffix := fmt.Sprintf("/%s_%d.wav", pid, i+1)
				if !strings.HasPrefix(u, e.files.URL+"/") || !strings.HasSuffix(u, suffix) {
					t.Errorf("url %q, want %s/<digits>%s", u, e.files.URL, suffix)
				}
				st, body, hdr, err := mttRecDownload(t, u)
				if err != nil || st != 200 {
					t.Fatalf("%s: HTTP %d, %v", u, st, err)
				}
				size, sum := e.rec.Digest(id, i+1)
				if size != 10_000 || int64(len(body)) != size || mttRecSHA(body) != sum {
					t.Errorf("%s: %d bytes, want %d with digest %s", u, len(body), size, sum)
				}
				if hdr.Get("Content-Length") != "10000" || hdr.Get("Content-Type") != "audio/wav" {
					t.Errorf("%s: headers %v", u, hdr)
				}
				if string(body[:4]) != "RIFF" || string(body[8:16]) != "WAVEfmt " || string(body[36:40]) != "data" {
					t.Errorf("%s: not a WAV header: %q", u, body[:44])
				}
			}
			// mp3 through v2.
			st, urls = e.urls(t, "v2", pid)
			if st != 200 || len(urls) != parts {
				t.Fatalf("v2 %s: HTTP %d, %v", id, st, urls)
			}
			for i, u := range urls {
				if !strings.HasSuffix(u, fmt.Sprintf("/%s_%d.mp3", pid, i+1)) {
					t.Errorf("mp3 url %q", u)
				}
				_, body, hdr, _ := mttRecDownload(t, u)
				size, sum := e.rec.DigestMP3(id, i+1)
				if int64(len(body)) != size || mttRecSHA(body) != sum || string(body[:3]) != "ID3" ||
					hdr.Get("Content-Type") != "audio/mpeg" || body[10] != 0xFF || body[11] != 0xFB {
					t.Errorf("%s: bad mp3 (%d bytes, %q)", u, len(body), body[:12])
				}
			}
		}
	}
	// About one id in three has two parts.
	two := 0
	for i := range 3000 {
		if e.rec.Parts(fmt.Sprintf("%08X_X", i)) == 2 {
			two++
		}
	}
	if two < 850 || two > 1150 {
		t.Errorf("%d of 3000 ids have 2 parts", two)
	}
	if e.rec.LeakedAuth() != 0 {
		t.Errorf("LeakedAuth = %d", e.rec.LeakedAuth())
	}
}

func TestMTTRecordsNotFound(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 3, MissingEvery: 4, PartSize: 100})
	missing := 0
	for i := range 400 {
		id := fmt.Sprintf("AAAA0000_BBBB1111_CCCC2222_%08X", i)
		if e.rec.Parts(id) != 0 {
			continue
		}
		missing++
		if st, _ := e.urls(t, "v1", id); st != 404 {
			t.Errorf("missing %s: HTTP %d", id, st)
		}
		if st, _, _, _ := mttRecDownload(t, e.files.URL+"/1/"+id+"_1.wav"); st != 404 {
			t.Errorf("missing %s download: HTTP %d", id, st)
		}
		if size, sum := e.rec.Digest(id, 1); size != 0 || sum != "" {
			t.Errorf("Digest of missing = %d %q", size, sum)
		}
	}
	if missing < 60 || missing > 140 {
		t.Errorf("%d of 400 missing, want about 100", missing)
	}
	id := mttRecPathID(mttRecIDs(e.rec, 1, 1)[0])
	for _, p := range []string{
		"/v1/records/" + id + "/url", "/v3/records/" + id + "/urls", "/v1/records/a%20b/urls", "/v1/records//urls",
	} {
		resp := mttRecGet(t, e.api.URL+p, "user", "secret")
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("%s: HTTP %d", p, resp.StatusCode)
		}
	}
	resp := mttRecGet(t, e.api.URL+"/v2/records/"+id+"/urls", "user", "secret")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("v2 without format: HTTP %d", resp.StatusCode)
	}
	for _, f := range []string{id + "_2.wav", id + "_0.wav", id + "_1.ogg", "x.wav"} {
		if st, _, _, _ := mttRecDownload(t, e.files.URL+"/9/"+f); st != 404 {
			t.Errorf("%s: HTTP %d", f, st)
		}
	}
}

func TestMTTRecordsFaults(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 11, PartSize: 100_000})
	ids := mttRecIDs(e.rec, 2, 5)
	truncID, htmlID, goneID, travID, okID := ids[0], ids[1], ids[2], ids[3], ids[4]
	e.rec.SetFault(truncID, MTTRecTruncate)
	e.rec.SetFault(htmlID, MTTRecHTML200)
	e.rec.SetFault(mttRecPathID(goneID), MTTRecGone)
	e.rec.SetFault(travID, MTTRecTraversal)

	_, urls := e.urls(t, "v1", mttRecPathID(truncID))
	st, body, hdr, err := mttRecDownload(t, urls[0])
	if st != 200 || hdr.Get("Content-Length") != "100000" || len(body) != 50_000 ||
		!errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("truncate: HTTP %d, CL %s, %d bytes, %v", st, hdr.Get("Content-Length"), len(body), err)
	}

	_, urls = e.urls(t, "v1", mttRecPathID(htmlID))
	st, body, hdr, _ = mttRecDownload(t, urls[1])
	if st != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") ||
		!strings.HasPrefix(string(body), "<html>") || !strings.Contains(string(body), "error") {
		t.Errorf("html200: HTTP %d %s %q", st, hdr.Get("Content-Type"), body)
	}

	_, urls = e.urls(t, "v1", mttRecPathID(goneID))
	if st, _, _, _ := mttRecDownload(t, urls[0]); st != 404 || len(urls) != 2 {
		t.Errorf("gone: HTTP %d, %d urls", st, len(urls))
	}

	_, urls = e.urls(t, "v1", mttRecPathID(travID))
	pid := mttRecPathID(travID)
	want := []string{
		e.files.URL + "/../../etc/" + pid + "_1.wav",
		e.files.URL + "/../../etc/" + pid + "_2.wav",
	}
	if len(urls) != 3 || urls[0] != want[0] || urls[1] != want[1] ||
		!strings.HasSuffix(urls[2], "/..%2F..%2F"+pid+"_1.wav") {
		t.Errorf("traversal urls %q", urls)
	}
	for _, u := range urls { // each is served: only looking at it tells it is unsafe
		if st, _, _, _ := mttRecDownload(t, u); st != 200 {
			t.Errorf("%s: HTTP %d", u, st)
		}
	}

	// Faults are per id; clearing one restores it.
	_, urls = e.urls(t, "v1", mttRecPathID(okID))
	if st, body, _, _ := mttRecDownload(t, urls[0]); st != 200 || len(body) != 100_000 {
		t.Errorf("ok id: HTTP %d, %d bytes", st, len(body))
	}
	e.rec.SetFault(goneID, "")
	_, urls = e.urls(t, "v1", mttRecPathID(goneID))
	if st, _, _, _ := mttRecDownload(t, urls[0]); st != 200 {
		t.Errorf("cleared gone: HTTP %d", st)
	}
	defer func() {
		if recover() == nil {
			t.Error("unknown fault kind did not panic")
		}
	}()
	e.rec.SetFault(okID, "nope")
}

func TestMTTRecordsSharedFaults(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 2})
	id := mttRecPathID(mttRecIDs(e.rec, 1, 1)[0])
	e.rec.SetFaults(Faults{Error5xxEvery: 2})
	var codes []int
	for range 4 {
		st, _ := e.urls(t, "v1", id)
		codes = append(codes, st)
	}
	if fmt.Sprint(codes) != "[200 503 200 503]" || e.rec.FaultInjector().Counts().Error5xx != 2 {
		t.Errorf("codes %v, counts %+v", codes, e.rec.FaultInjector().Counts())
	}
}

func TestMTTRecordsLeakedAuth(t *testing.T) {
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 5, PartSize: 1000})
	id := mttRecPathID(mttRecIDs(e.rec, 1, 1)[0])
	_, urls := e.urls(t, "v1", id)
	for _, user := range []string{"", "user", "", "x"} {
		resp := mttRecGet(t, urls[0], user, "secret")
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodGet, urls[0], nil)
	req.Header.Set("Authorization", "Bearer t")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if e.rec.LeakedAuth() != 3 || e.rec.FileRequests() != 5 {
		t.Errorf("LeakedAuth %d, FileRequests %d; want 3, 5", e.rec.LeakedAuth(), e.rec.FileRequests())
	}
}

func TestMTTRecordsDeterminism(t *testing.T) {
	a := NewMTTRecords(MTTRecordsConfig{Seed: 9, PartSize: 5000})
	b := NewMTTRecords(MTTRecordsConfig{Seed: 9, PartSize: 5000})
	c := NewMTTRecords(MTTRecordsConfig{Seed: 10, PartSize: 5000})
	differ := 0
	for i := range 50 {
		id := fmt.Sprintf("12345678 9ABCDEF0 12345678 %08X", i)
		if a.Parts(id) != b.Parts(id) || a.Parts(id) != a.Parts(mttRecPathID(id)) {
			t.Fatalf("%s: parts differ", id)
		}
		_, sa := a.Digest(id, 1)
		_, sb := b.Digest(id, 1)
		_, sc := c.Digest(id, 1)
		if sa != sb || sa == "" {
			t.Fatalf("%s: digest %q vs %q", id, sa, sb)
		}
		if sa != sc {
			differ++
		}
	}
	if differ != 50 {
		t.Errorf("seed change altered %d of 50 digests", differ)
	}
	// The generator gives the same bytes whatever the read sizes.
	id := "12345678_9ABCDEF0_12345678_00000000"
	whole, _ := io.ReadAll(a.part(id, 1, "mp3"))
	p := a.part(id, 1, "mp3")
	var pieces []byte
	buf := make([]byte, 13)
	for {
		n, err := p.Read(buf[:1+len(pieces)%13])
		pieces = append(pieces, buf[:n]...)
		if err == io.EOF {
			break
		}
	}
	if string(whole) != string(pieces) || len(whole) != 5000 {
		t.Errorf("chunked read differs (%d vs %d bytes)", len(whole), len(pieces))
	}
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 9})
	_, u1 := e.urls(t, "v1", id)
	_, u2 := e.urls(t, "v1", id)
	if fmt.Sprint(u1) != fmt.Sprint(u2) {
		t.Errorf("urls differ: %v %v", u1, u2)
	}
}

func TestMTTRecordsLargePartBoundedMemory(t *testing.T) {
	const size = 50 << 20
	e := newMTTRecEnv(t, MTTRecordsConfig{Seed: 4, PartSize: size})
	id := mttRecPathID(mttRecIDs(e.rec, 1, 1)[0])
	_, urls := e.urls(t, "v1", id)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	baseline := ms.HeapAlloc
	var (
		mu   sync.Mutex
		peak uint64
		done = make(chan struct{})
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			mu.Lock()
			peak = max(peak, m.HeapAlloc)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	resp := mttRecGet(t, urls[0], "", "")
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(io.Discard, h), resp.Body)
	resp.Body.Close()
	close(done)
	wg.Wait()
	if err != nil || n != size || resp.ContentLength != size {
		t.Fatalf("read %d bytes (Content-Length %d): %v", n, resp.ContentLength, err)
	}
	if _, sum := e.rec.Digest(id, 1); hex.EncodeToString(h.Sum(nil)) != sum {
		t.Error("50 MiB part does not match Digest")
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("heap peak %d KiB above baseline", (int64(peak)-int64(baseline))>>10)
	if peak > baseline+8<<20 {
		t.Errorf("heap peaked at %d MiB above baseline", (peak-baseline)>>20)
	}
}

// A part reads the same bytes whatever the reader's buffer sizes: the
// word-at-a-time fast path and the byte path agree.
func TestMTTRecPartBufferSizes(t *testing.T) {
	r := NewMTTRecords(MTTRecordsConfig{Seed: 5, PartSize: 10_000})
	for _, ext := range []string{"wav", "mp3"} {
		whole, err := io.ReadAll(r.part("c1", 0, ext))
		if err != nil {
			t.Fatal(err)
		}
		p := r.part("c1", 0, ext)
		var pieces []byte
		for i := 0; ; i++ {
			buf := make([]byte, 1+i%13) // odd sizes: every alignment
			n, err := p.Read(buf)
			pieces = append(pieces, buf[:n]...)
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(whole, pieces) || len(whole) != 10_000 {
			t.Errorf("%s: %d bytes in one read, %d in small reads, equal %v", ext, len(whole), len(pieces), bytes.Equal(whole, pieces))
		}
	}
}
