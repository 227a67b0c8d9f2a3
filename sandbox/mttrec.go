package sandbox

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// MTTRecordsConfig configures an MTTRecords emulator.
type MTTRecordsConfig struct {
	// Username and Password are the Basic Auth credentials of the API host
	// (the same as the JSON-RPC API's); a wrong or missing Authorization
	// answers 401. Both empty disables the check. The download host never
	// checks credentials.
	Username, Password string
	Seed               int64
	// PartSize is the size in bytes of every generated part, header
	// included; default 64 KiB, at least the header (44 bytes for WAV).
	// Parts are generated while they are sent, never held in memory.
	PartSize int
	// MissingEvery: every id whose FNV-1a 64 hash (of the path form of the id,
	// independent of Seed) % MissingEvery == 0 has no recording: the urls
	// endpoint and the download host answer 404. 0 disables.
	MissingEvery int
}

// Kinds of per-id faults for MTTRecords.SetFault.
const (
	MTTRecTruncate  = "truncate"  // Files: full Content-Length, half the bytes, connection closed
	MTTRecHTML200   = "html200"   // Files: 200 text/html error page
	MTTRecGone      = "gone"      // Files: 404
	MTTRecTraversal = "traversal" // API: download names with "../" and "..%2F"
)

const mttRecDefaultPartSize = 64 << 10

// mttRecIDPattern is what the emulator accepts as an id in a path: the
// h323_conf_id with its spaces replaced by "_". An id with a space (or
// anything else) is 404, as is an unknown path.
var mttRecIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// mttRecFileName is the last path element the download host serves.
var mttRecFileName = regexp.MustCompile(`^([A-Za-z0-9_-]+)_([0-9]+)\.(wav|mp3)$`)

// MTTRecords emulates the MTT call-recordings REST API (rc.mtt.ru) and the
// hosts its download links point to (rc.mtt.ru, rs.mtt.ru, plain http). It
// is two handlers, to be served on two hosts:
//
//   - API: GET /v1/records/<id>/urls with Basic Auth answers a JSON array of
//     download URLs "<DownloadBase>/<8 digits>/<id>_<n>.wav", n = 1..Parts(id);
//     GET /v2/records/<id>/urls?format=mp3 the same with ".mp3" names (v2
//     without format=mp3 is 400). id is h323_conf_id with spaces as "_".
//     A missing recording is 404. Faults set with SetFaults apply here.
//   - Files: GET of any path whose last element is <id>_<n>.wav or .mp3,
//     1 <= n <= Parts(id), answers the part: PartSize bytes, Content-Length
//     set, no Range support. WAV is a 44-byte RIFF/WAVE header (8 kHz 8-bit
//     mono PCM) and then noise around silence; MP3 is a 10-byte "ID3" tag
//     and then 417-byte MPEG-1 Layer III frames of noise. Bytes depend on
//     (Seed, id, n, format) only. No auth: requests that carry an
//     Authorization header are counted by LeakedAuth.
//
// It is safe for concurrent use.
type MTTRecords struct {
	cfg    MTTRecordsConfig
	faults *FaultInjector
	api    http.Handler

	fileRequests atomic.Int64
	leakedAuth   atomic.Int64

	mu       sync.Mutex
	base     string
	idFaults map[string]string
}

// NewMTTRecords returns an emulator for cfg. Its DownloadBase is
// "http://rs.mtt.ru" until SetDownloadBase.
func NewMTTRecords(cfg MTTRecordsConfig) *MTTRecords {
	if cfg.PartSize <= 0 {
		cfg.PartSize = mttRecDefaultPartSize
	}
	cfg.PartSize = max(cfg.PartSize, len(mttRecWAVHeader(0)))
	r := &MTTRecords{
		cfg:      cfg,
		faults:   NewFaultInjector(Faults{}),
		base:     "http://rs.mtt.ru",
		idFaults: make(map[string]string),
	}
	r.api = r.faults.Wrap(http.HandlerFunc(r.serveAPI))
	return r
}

// API returns the handler of the API host.
func (r *MTTRecords) API() http.Handler { return r.api }

// Files returns the handler of the download host.
func (r *MTTRecords) Files() http.Handler { return http.HandlerFunc(r.serveFile) }

// SetDownloadBase sets the scheme and host (and optional path prefix) of
// the download URLs the API answers from now on, e.g. the URL of an
// httptest server serving Files. A trailing "/" is dropped.
func (r *MTTRecords) SetDownloadBase(base string) {
	r.mu.Lock()
	r.base = strings.TrimRight(base, "/")
	r.mu.Unlock()
}

// SetFaults replaces the faults injected on the API host from now on.
func (r *MTTRecords) SetFaults(f Faults) { r.faults.SetFaults(f) }

// FaultInjector returns the API host's injector, for its counters.
func (r *MTTRecords) FaultInjector() *FaultInjector { return r.faults }

// SetFault makes one id misbehave from now on (id with spaces or "_"):
// MTTRecTruncate, MTTRecHTML200 or MTTRecGone on the download host,
// MTTRecTraversal on the API host; "" clears. Any other kind panics.
//
// Traversal answers, for each part n, "<DownloadBase>/../../etc/<id>_<n>.ext"
// and then one more URL, "<DownloadBase>/<digits>/..%2F..%2F<id>_1.ext".
// Every one of them is served by Files (its last element names a real
// part), so a fetcher must refuse them by looking at them, and must never
// derive a local path or blob key from a URL.
func (r *MTTRecords) SetFault(id, kind string) {
	switch kind {
	case "", MTTRecTruncate, MTTRecHTML200, MTTRecGone, MTTRecTraversal:
	default:
		panic("sandbox: unknown MTTRecords fault " + strconv.Quote(kind))
	}
	id = mttRecPathID(id)
	r.mu.Lock()
	defer r.mu.Unlock()
	if kind == "" {
		delete(r.idFaults, id)
	} else {
		r.idFaults[id] = kind
	}
}

// LeakedAuth is the number of download-host requests that carried an
// Authorization header, whatever its value.
func (r *MTTRecords) LeakedAuth() int { return int(r.leakedAuth.Load()) }

// FileRequests is the number of requests the download host received.
func (r *MTTRecords) FileRequests() int { return int(r.fileRequests.Load()) }

// Parts is the number of parts of id's recording (id with spaces or "_"):
// 0 when it has none (MissingEvery), else 1, or 2 for about one id in three.
// Per-id faults do not change it.
func (r *MTTRecords) Parts(id string) int {
	id = mttRecPathID(id)
	if !mttRecIDPattern.MatchString(id) || r.missing(id) {
		return 0
	}
	if newHasher(r.cfg.Seed).str("mttrec-parts").str(id).sum()%3 == 0 {
		return 2
	}
	return 1
}

// Digest is the size and SHA-256 (lower-case hex) of the WAV bytes of one
// part, 1 <= part <= Parts(id); (0, "") for a part that does not exist.
func (r *MTTRecords) Digest(id string, part int) (size int64, sha256hex string) {
	return r.digest(id, part, "wav")
}

// DigestMP3 is Digest for the MP3 form of the part.
func (r *MTTRecords) DigestMP3(id string, part int) (size int64, sha256hex string) {
	return r.digest(id, part, "mp3")
}

func (r *MTTRecords) digest(id string, part int, format string) (int64, string) {
	id = mttRecPathID(id)
	if part < 1 || part > r.Parts(id) {
		return 0, ""
	}
	h := sha256.New()
	n, _ := io.Copy(h, r.part(id, part, format))
	return n, hex.EncodeToString(h.Sum(nil))
}

// mttRecPathID is the path form of an id: spaces replaced by "_".
func mttRecPathID(id string) string { return strings.ReplaceAll(id, " ", "_") }

// Missing reports whether call id has no recording (the urls endpoint
// answers "not found" for it): ground truth for coverage tests.
func (r *MTTRecords) Missing(id string) bool { return r.missing(id) }

func (r *MTTRecords) missing(id string) bool {
	if r.cfg.MissingEvery <= 0 {
		return false
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte(id))
	return h.Sum64()%uint64(r.cfg.MissingEvery) == 0
}

func (r *MTTRecords) fault(id string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.idFaults[id]
}

// serveAPI answers the urls endpoints behind the fault injector.
func (r *MTTRecords) serveAPI(w http.ResponseWriter, req *http.Request) {
	if r.cfg.Username != "" || r.cfg.Password != "" {
		u, p, ok := req.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(u), []byte(r.cfg.Username)) != 1 ||
			subtle.ConstantTimeCompare([]byte(p), []byte(r.cfg.Password)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="MTT"`)
			writeSimple(w, http.StatusUnauthorized, "application/json", `{"error":"Unauthorized"}`)
			return
		}
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeSimple(w, http.StatusMethodNotAllowed, "application/json", `{"error":"Method Not Allowed"}`)
		return
	}
	seg := strings.Split(strings.TrimPrefix(req.URL.Path, "/"), "/")
	if len(seg) != 4 || (seg[0] != "v1" && seg[0] != "v2") || seg[1] != "records" ||
		seg[3] != "urls" || !mttRecIDPattern.MatchString(seg[2]) {
		writeSimple(w, http.StatusNotFound, "application/json", `{"error":"Not Found"}`)
		return
	}
	ext := "wav"
	if seg[0] == "v2" {
		if req.URL.Query().Get("format") != "mp3" {
			writeSimple(w, http.StatusBadRequest, "application/json", `{"error":"Unsupported format"}`)
			return
		}
		ext = "mp3"
	}
	id := seg[2]
	parts := r.Parts(id)
	if parts == 0 {
		writeSimple(w, http.StatusNotFound, "application/json", `{"error":"Record not found"}`)
		return
	}
	r.mu.Lock()
	base, kind := r.base, r.idFaults[id]
	r.mu.Unlock()
	dir := string(rngFrom(r.cfg.Seed, "mttrec-dir", id).digits(nil, 8))
	urls := make([]string, 0, parts+1)
	for n := 1; n <= parts; n++ {
		name := fmt.Sprintf("%s_%d.%s", id, n, ext)
		if kind == MTTRecTraversal {
			urls = append(urls, base+"/../../etc/"+name)
		} else {
			urls = append(urls, base+"/"+dir+"/"+name)
		}
	}
	if kind == MTTRecTraversal {
		urls = append(urls, base+"/"+dir+"/..%2F..%2F"+id+"_1."+ext)
	}
	body, _ := json.Marshal(urls)
	writeSimple(w, http.StatusOK, "application/json", string(body))
}

func rngFrom(seed int64, what, id string) *rng {
	return &rng{newHasher(seed).str(what).str(id).sum()}
}

// serveFile answers the download host.
func (r *MTTRecords) serveFile(w http.ResponseWriter, req *http.Request) {
	r.fileRequests.Add(1)
	if req.Header.Get("Authorization") != "" {
		r.leakedAuth.Add(1)
	}
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeSimple(w, http.StatusMethodNotAllowed, "text/plain", "Method Not Allowed\n")
		return
	}
	m := mttRecFileName.FindStringSubmatch(path.Base(req.URL.Path))
	notFound := func() {
		writeSimple(w, http.StatusNotFound, "text/html",
			"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1></body></html>\n")
	}
	if m == nil {
		notFound()
		return
	}
	id, ext := m[1], m[3]
	n, err := strconv.Atoi(m[2])
	if err != nil || n < 1 || n > r.Parts(id) {
		notFound()
		return
	}
	switch r.fault(id) {
	case MTTRecGone:
		notFound()
		return
	case MTTRecHTML200:
		writeSimple(w, http.StatusOK, "text/html; charset=utf-8",
			"<html><head><title>Error</title></head><body><h1>Internal error</h1><p>error: record storage unavailable</p></body></html>\n")
		return
	case MTTRecTruncate:
		r.truncatePart(w, req, r.part(id, n, ext))
		return
	}
	part := r.part(id, n, ext)
	w.Header().Set("Content-Type", part.contentType())
	w.Header().Set("Content-Length", strconv.FormatInt(part.size, 10))
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = io.Copy(w, part)
	}
}

// truncatePart sends the full Content-Length, the first half of the part,
// then closes the connection (hijacked over HTTP/1; like truncate in
// faults.go where hijacking is impossible).
func (r *MTTRecords) truncatePart(w http.ResponseWriter, req *http.Request, p *mttRecPart) {
	h := http.Header{}
	h.Set("Content-Type", p.contentType())
	h.Set("Content-Length", strconv.FormatInt(p.size, 10))
	half := io.LimitReader(p, p.size/2)
	rc := http.NewResponseController(w)
	conn, brw, err := rc.Hijack()
	if err != nil {
		copyHeader(w.Header(), h)
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, half)
		_ = rc.Flush()
		if req.ProtoMajor >= 2 {
			panic(http.ErrAbortHandler)
		}
		return
	}
	defer conn.Close()
	_, _ = brw.WriteString("HTTP/1.1 200 OK\r\n")
	_ = h.Write(brw)
	_, _ = brw.WriteString("\r\n")
	_, _ = io.Copy(brw, half)
	_ = brw.Flush()
}

// part returns a reader of one part's bytes.
func (r *MTTRecords) part(id string, n int, ext string) *mttRecPart {
	size := int64(r.cfg.PartSize)
	p := &mttRecPart{
		size: size,
		seed: newHasher(r.cfg.Seed).str("mttrec-part").str(id).int(int64(n)).str(ext).sum(),
		mp3:  ext == "mp3",
	}
	if p.mp3 {
		p.header = []byte{'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0} // ID3v2.4, empty tag
	} else {
		p.header = mttRecWAVHeader(size)
	}
	return p
}

// mttRecWAVHeader is the 44-byte header of a WAV file of size bytes: 8 kHz
// 8-bit mono PCM.
func mttRecWAVHeader(size int64) []byte {
	data := uint32(max(size-44, 0))
	b := make([]byte, 44)
	copy(b, "RIFF")
	le := func(off int, v uint32, n int) {
		for i := range n {
			b[off+i] = byte(v >> (8 * i))
		}
	}
	le(4, 36+data, 4)
	copy(b[8:], "WAVEfmt ")
	le(16, 16, 4)
	le(20, 1, 2) // PCM
	le(22, 1, 2) // mono
	le(24, 8000, 4)
	le(28, 8000, 4)
	le(32, 1, 2)
	le(34, 8, 2)
	copy(b[36:], "data")
	le(40, data, 4)
	return b
}

// mttRecPart generates one part on the fly. The body byte at offset i
// (after the header) comes from word i/8 of a splitmix64 stream, so any
// offset is computed without state.
type mttRecPart struct {
	header []byte
	size   int64
	pos    int64
	seed   uint64
	mp3    bool
}

const mttRecFrame = 417 // bytes of an MPEG-1 Layer III frame, 128 kbit/s, 44.1 kHz

var mttRecFrameHeader = [4]byte{0xFF, 0xFB, 0x90, 0x64}

func (p *mttRecPart) contentType() string {
	if p.mp3 {
		return "audio/mpeg"
	}
	return "audio/wav"
}

func (p *mttRecPart) word(k int64) uint64 {
	w := mix64(p.seed + uint64(k+1)*0x9e3779b97f4a7c15)
	if !p.mp3 {
		w = w&0x1F1F1F1F1F1F1F1F | 0x7070707070707070 // 8-bit PCM near silence (128)
	}
	return w
}

func (p *mttRecPart) Read(b []byte) (int, error) {
	if p.pos >= p.size {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.size-p.pos)]
	n := 0
	hl := int64(len(p.header))
	if p.pos < hl {
		n = copy(b, p.header[p.pos:])
	}
	for n < len(b) {
		off := p.pos + int64(n) - hl
		if !p.mp3 && off%8 == 0 && len(b)-n >= 8 {
			// Whole words at once: the emulator's CPU is not what a
			// benchmark of the fetch should measure.
			binary.LittleEndian.PutUint64(b[n:], p.word(off/8))
			n += 8
			continue
		}
		w := p.word(off / 8)
		for sh := off % 8; sh < 8 && n < len(b); sh++ {
			c := byte(w >> (8 * sh))
			if p.mp3 && (off+sh-off%8)%mttRecFrame < 4 {
				c = mttRecFrameHeader[(off+sh-off%8)%mttRecFrame]
			}
			b[n] = c
			n++
		}
	}
	p.pos += int64(n)
	return n, nil
}
