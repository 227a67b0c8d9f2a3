package recordings_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/calletl/calletl/recordings"
	"github.com/calletl/calletl/sandbox"
)

// An MTT part is stored by what its bytes are, whatever its URL or
// Content-Type say: MP3 (ID3 tag, or bare MPEG audio frames) as .mp3
// audio/mpeg, WAV as .wav audio/wav.
func TestMTTPartFormats(t *testing.T) {
	emu := sandbox.NewMTTRecords(sandbox.MTTRecordsConfig{Username: mttUser, Password: mttPass, Seed: 7, PartSize: 48 << 10})
	files := httptest.NewServer(emu.Files())
	defer files.Close()
	emu.SetDownloadBase(files.URL)
	// The emulator's v1 URL list names WAV files; v2?format=mp3 the MP3
	// form of the same parts. The fetcher asks v1, so this API answers it
	// with the v2 list.
	v1 := httptest.NewServer(emu.API())
	defer v1.Close()
	v2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = strings.Replace(r.URL.Path, "/v1/", "/v2/", 1)
		r.URL.RawQuery = "format=mp3"
		emu.API().ServeHTTP(w, r)
	}))
	defer v2.Close()
	// Bare MPEG-1 layer III frames (no ID3 tag) behind a misleading
	// Content-Type and a .bin URL.
	frame := append([]byte{0xFF, 0xFB, 0x90, 0x64}, bytes.Repeat([]byte{0x55}, 413)...)
	bare := bytes.Repeat(frame, 50)
	var bareSrv *httptest.Server
	bareSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/records/bare/urls":
			_, _ = w.Write([]byte(`["` + bareSrv.URL + `/files/bare_1.bin"]`))
		case "/files/bare_1.bin":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(bare)
		default:
			http.NotFound(w, r)
		}
	}))
	defer bareSrv.Close()
	bareSum := sha256.Sum256(bare)

	var ids []string
	for _, id := range mttIDs(6) {
		if emu.Parts(id) > 0 && len(ids) < 3 {
			ids = append(ids, id)
		}
	}
	for _, tc := range []struct {
		name    string
		api     string
		ids     []string
		ext, ct string
		digest  func(id string, part int) (int64, string)
	}{
		{"wav", v1.URL, ids, "wav", "audio/wav", emu.Digest},
		{"mp3 with ID3 tag", v2.URL, ids, "mp3", "audio/mpeg", emu.DigestMP3},
		{"mp3 frames without tag", bareSrv.URL, []string{"bare"}, "mp3", "audio/mpeg",
			func(string, int) (int64, string) { return int64(len(bare)), hex.EncodeToString(bareSum[:]) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lake := lakeWithCalls(t, "mtt", tc.ids...)
			st := localStore(t)
			sum, err := recordings.Run(context.Background(), recordings.Config{Store: st, Lake: lake},
				testRun("r1", time.Now()), newMTT(t, tc.api))
			if err != nil {
				t.Fatal(err)
			}
			parts := 0
			man := latestManifest(t, lake.Root())
			for _, id := range tc.ids {
				n := len(man[id])
				if id != "bare" && n != emu.Parts(id) {
					t.Errorf("%s: %d rows; want %d parts", id, n, emu.Parts(id))
				}
				for p := 1; p <= n; p++ {
					parts++
					r := man[id][p]
					size, want := tc.digest(id, p)
					if wantKey := recordings.PartKey("mtt", day, id, p, tc.ext); r.Status != recordings.StatusOK ||
						r.Key != wantKey || r.ContentType != tc.ct || r.SHA != want || r.Bytes != size {
						t.Errorf("%s part %d: %+v; want ok %s %s, %d bytes sha %s", id, p, r, wantKey, tc.ct, size, want)
						continue
					}
					info, err := st.Stat(context.Background(), r.Key)
					if err != nil || info.ContentType != tc.ct || info.SHA256 != want {
						t.Errorf("%s part %d: stored %+v, %v; want %s, sha %s", id, p, info, err, tc.ct, want)
					}
				}
			}
			if sum.Stored != parts || sum.Failed != 0 || parts == 0 {
				t.Errorf("summary %+v; want %d parts stored", sum, parts)
			}
		})
	}
}
