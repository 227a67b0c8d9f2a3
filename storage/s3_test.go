package storage_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
	"github.com/calletl/calletl/storage/storagetest"
)

const (
	versityAccess = storagetest.VersityAccessKey
	versitySecret = storagetest.VersitySecretKey
	testBucket    = storagetest.VersityBucket
)

// versity is a versitygw process serving S3 on loopback from a temporary
// directory.
type versity struct {
	endpoint string
}

// startVersity starts versitygw with one bucket, and stops it when t ends.
func startVersity(t *testing.T) *versity {
	return &versity{endpoint: storagetest.StartVersity(t).Endpoint}
}

// client is a plain S3 client on the server, for test set-up and checks.
func (v *versity) client(t *testing.T) *s3.Client {
	t.Helper()
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(v.endpoint),
		UsePathStyle:               true,
		Credentials:                aws.CredentialsProviderFunc(staticCreds),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func staticCreds(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: versityAccess, SecretAccessKey: versitySecret}, nil
}

func (v *versity) config(prefix string) storage.S3Config {
	return storage.S3Config{
		Endpoint:    v.endpoint,
		Region:      "us-east-1",
		Bucket:      testBucket,
		Prefix:      prefix,
		PathStyle:   true,
		AccessKey:   secret.New(versityAccess),
		SecretKey:   secret.New(versitySecret),
		PartSize:    storage.MinPartSize,
		Concurrency: 2,
	}
}

func (v *versity) store(t *testing.T, prefix string) *storage.S3 {
	t.Helper()
	s, err := storage.NewS3(t.Context(), v.config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	v := startVersity(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) storage.Store {
		return v.store(t, fmt.Sprintf("run/%d", n.Add(1)))
	})
}

func TestS3ConformanceWithChecksums(t *testing.T) {
	v := startVersity(t)
	var n atomic.Int64
	storagetest.Run(t, func(t *testing.T) storage.Store {
		cfg := v.config(fmt.Sprintf("sum/%d", n.Add(1)))
		cfg.Checksums = true
		s, err := storage.NewS3(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return s
	})

	// The server verified and kept the checksums: the SHA-256 of a
	// single-part object, a composite CRC32C of a multipart one.
	cfg := v.config("sums")
	cfg.Checksums = true
	s, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size        int64
		sha, crc32c bool
	}{{1000, true, false}, {12 << 20, false, true}} {
		key := fmt.Sprintf("k%d", tc.size)
		info, err := s.Put(t.Context(), key, storagetest.Generator(tc.size, 4), "")
		if err != nil {
			t.Fatal(err)
		}
		head, err := v.client(t).HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(testBucket),
			Key: aws.String("sums/" + key), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(info.SHA256)
		if got, want := aws.ToString(head.ChecksumSHA256), base64.StdEncoding.EncodeToString(raw); tc.sha && got != want {
			t.Errorf("%d bytes: stored SHA-256 checksum %q; want %q", tc.size, got, want)
		}
		if got := aws.ToString(head.ChecksumCRC32C); tc.crc32c && got == "" {
			t.Errorf("%d bytes: no CRC32C checksum stored (checksum type %q)", tc.size, head.ChecksumType)
		}
	}
}

// Objects live under the prefix; a single-part object carries
// x-amz-meta-sha256, a multipart one does not (Stat's SHA256 is then
// empty); nothing else is left in the bucket and no upload stays open.
func TestS3Layout(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "lake/rec")
	ctx := t.Context()
	for _, tc := range []struct {
		key     string
		size    int64
		metaSHA bool
	}{
		{"a/small.txt", 5, true},
		{"a/one-part.bin", storage.MinPartSize, true},
		{"a/large.bin", 11 << 20, false},
	} {
		want := storagetest.GeneratorSHA256(tc.size, 5)
		info, err := s.Put(ctx, tc.key, storagetest.Generator(tc.size, 5), "audio/wav")
		if err != nil {
			t.Fatal(err)
		}
		if info.SHA256 != want || info.Size != tc.size {
			t.Errorf("%s: Put = %+v; want sha %s", tc.key, info, want)
		}
		head, err := v.client(t).HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("lake/rec/" + tc.key)})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := head.Metadata[storage.MetaSHA256]
		if tc.metaSHA && got != want || !tc.metaSHA && ok {
			t.Errorf("%s: x-amz-meta-sha256 = %q (metadata %v); want it %v (%s)", tc.key, got, head.Metadata, tc.metaSHA, want)
		}
		if ct := aws.ToString(head.ContentType); ct != "audio/wav" {
			t.Errorf("%s: content type %q", tc.key, ct)
		}
		st, err := s.Stat(ctx, tc.key)
		if err != nil {
			t.Fatal(err)
		}
		if wantStat := map[bool]string{true: want, false: ""}[tc.metaSHA]; st.SHA256 != wantStat {
			t.Errorf("%s: Stat SHA256 = %q; want %q", tc.key, st.SHA256, wantStat)
		}
	}
	checkBucket(t, v, "lake/rec/a/large.bin", "lake/rec/a/one-part.bin", "lake/rec/a/small.txt")
}

// checkBucket fails unless the bucket holds exactly keys (sorted) and no
// multipart upload is open.
func checkBucket(t *testing.T, v *versity, keys ...string) {
	t.Helper()
	c := v.client(t)
	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range out.Contents {
		got = append(got, aws.ToString(o.Key))
	}
	if strings.Join(got, ",") != strings.Join(keys, ",") {
		t.Errorf("bucket keys = %q; want %q", got, keys)
	}
	mpu, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range mpu.Uploads {
		t.Errorf("multipart upload left open: %s %s", aws.ToString(u.Key), aws.ToString(u.UploadId))
	}
}

// A failed or cancelled multipart Put aborts its upload: no object, no
// parts left behind.
func TestS3FailedPutLeavesNoUpload(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "p")
	for _, tc := range []struct {
		name   string
		r      func(cancel func()) io.Reader
		wantIs error
	}{
		{"reader fails in part 2", func(func()) io.Reader { return storagetest.FailingReader(7<<20, 1) }, storagetest.ErrReader},
		{"reader fails in part 4", func(func()) io.Reader { return storagetest.FailingReader(17<<20, 1) }, storagetest.ErrReader},
		{"reader fails at a part boundary", func(func()) io.Reader { return storagetest.FailingReader(10<<20, 1) }, storagetest.ErrReader},
		{"context cancelled in part 3", func(cancel func()) io.Reader {
			return &cancelAt{r: storagetest.Generator(30<<20, 1), at: 12 << 20, cancel: cancel}
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if _, err := s.Put(ctx, "x", tc.r(cancel), ""); !errors.Is(err, tc.wantIs) {
				t.Fatalf("Put = %v; want %v", err, tc.wantIs)
			}
			checkBucket(t, v)
		})
	}
}

type cancelAt struct {
	r      io.Reader
	at     int64
	cancel func()
}

func (c *cancelAt) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.at -= int64(n); c.at <= 0 {
		c.cancel()
	}
	return n, err
}

// A key created by someone else while a multipart Put is under way: the
// completion (If-None-Match: *) is refused, Put returns ErrExists, the
// upload is aborted and the other object stays as it was.
func TestS3CompletionRefusedWhenCreatedMeanwhile(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "c")
	c := v.client(t)
	for _, tc := range []struct {
		name   string
		at     int64 // bytes read when the other object is created
		create func(ctx context.Context, key string) error
	}{
		{"plain PutObject", 7 << 20, func(ctx context.Context, key string) error {
			_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("c/" + key),
				Body: strings.NewReader("theirs")})
			return err
		}},
		{"another Put at the last byte", 12<<20 - 1, func(ctx context.Context, key string) error {
			_, err := v.store(t, "c").Put(ctx, key, strings.NewReader("theirs"), "")
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := strings.ReplaceAll(tc.name, " ", "-")
			key = strings.ReplaceAll(key, "'", "")
			key = strings.ReplaceAll(key, ",", "")
			var createErr error
			created := false
			r := &cancelAt{r: storagetest.Generator(12<<20, 3), at: tc.at, cancel: func() {
				if !created {
					created = true
					createErr = tc.create(t.Context(), key)
				}
			}}
			_, err := s.Put(t.Context(), key, r, "audio/wav")
			if createErr != nil {
				t.Fatal(createErr)
			}
			if !errors.Is(err, storage.ErrExists) {
				t.Fatalf("Put = %v; want ErrExists", err)
			}
			rc, err := s.Open(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if string(got) != "theirs" {
				t.Errorf("object = %.20q; want the other writer's", got)
			}
			mpu, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
			if err != nil {
				t.Fatal(err)
			}
			if len(mpu.Uploads) != 0 {
				t.Errorf("%d multipart uploads left open", len(mpu.Uploads))
			}
		})
	}
}

// Every byte of a multipart Put crosses the network once, to its key: no
// temporary object, no server-side copy.
func TestS3MultipartSendsBytesOnce(t *testing.T) {
	v := startVersity(t)
	target, err := url.Parse(v.endpoint)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		sent   int64
		copies int
		keys   = map[string]bool{}
	)
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			sent += max(r.ContentLength, 0)
			keys[r.URL.Path] = true
		}
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			copies++
		}
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	defer srv.Close()
	cfg := v.config("once")
	cfg.Endpoint = srv.URL
	s, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	const size = 23 << 20
	if _, err := s.Put(t.Context(), "k.wav", storagetest.Generator(size, 1), "audio/wav"); err != nil {
		t.Fatal(err)
	}
	if copies != 0 || sent < size || sent > size+64<<10 {
		t.Errorf("a %d-byte Put sent %d bytes with %d copy requests; want the object once, no copy", size, sent, copies)
	}
	if want := "/" + testBucket + "/once/k.wav"; len(keys) != 1 || !keys[want] {
		t.Errorf("written paths %v; want only %s", keys, want)
	}
}

// A 64 MiB Put from a generator holds (Concurrency+1) parts, not the
// object.
func TestS3MemoryBounded(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "mem")
	const size = 64 << 20
	peak := measurePeakHeap(t, func() {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		if _, err := s.Put(ctx, "big.wav", storagetest.Generator(size, 11), "audio/wav"); err != nil {
			t.Fatal(err)
		}
	})
	// PartSize 5 MiB × (Concurrency 2 + 1) = 15 MiB, plus SDK overhead.
	if limit := uint64(19 << 20); peak > limit {
		t.Errorf("peak heap growth %d MiB during a 64 MiB Put; want < %d MiB", peak>>20, limit>>20)
	}
	info, err := s.Stat(t.Context(), "big.wav")
	if err != nil || info.Size != size {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
}

// Errors never show the secret key, even when the server refuses it.
func TestS3SecretsNotInErrors(t *testing.T) {
	v := startVersity(t)
	cfg := v.config("s")
	const wrong = "wrong-secret-7f3a9c2e1b"
	cfg.SecretKey = secret.New(wrong)
	s, err := storage.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = s.Put(t.Context(), "k", strings.NewReader("x"), "")
	errs = append(errs, err)
	_, err = s.Put(t.Context(), "k2", storagetest.Generator(6<<20, 1), "")
	errs = append(errs, err)
	_, err = s.Stat(t.Context(), "k")
	errs = append(errs, err)
	errs = append(errs, s.List(t.Context(), "", func(storage.Info) error { return nil }))
	for i, err := range errs {
		if err == nil {
			t.Errorf("call %d with a wrong secret succeeded", i)
			continue
		}
		if strings.Contains(err.Error(), wrong) || strings.Contains(fmt.Sprintf("%+v", cfg), wrong) {
			t.Errorf("call %d: the secret leaked: %v", i, err)
		}
	}
	t.Logf("error with a wrong secret: %v", errs[0])
}

// fakeS3 answers conditional writes with the given status codes in turn.
func fakeS3(t *testing.T, statuses ...int) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n := int(calls.Add(1)) - 1
		if r.Method != http.MethodPut || r.Header.Get("If-None-Match") != "*" {
			t.Errorf("request %d: %s %s If-None-Match=%q; want a conditional PUT", n, r.Method, r.URL.Path, r.Header.Get("If-None-Match"))
		}
		st := statuses[min(n, len(statuses)-1)]
		code := map[int]string{409: "ConditionalRequestConflict", 412: "PreconditionFailed"}[st]
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(st)
		if code != "" {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message><RequestId>1</RequestId></Error>`, code)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func fakeStore(t *testing.T, endpoint string) *storage.S3 {
	s, err := storage.NewS3(t.Context(), storage.S3Config{
		Endpoint: endpoint, Region: "us-east-1", Bucket: "b", PathStyle: true,
		AccessKey: secret.New("a"), SecretKey: secret.New("s"),
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// 409 ConditionalRequestConflict is retried once: a 412 then means the
// concurrent writer won (ErrExists), a second 409 is an error.
func TestS3ConflictRetriedOnce(t *testing.T) {
	t.Run("then412", func(t *testing.T) {
		srv, calls := fakeS3(t, 409, 412)
		_, err := fakeStore(t, srv.URL).Put(t.Context(), "k", strings.NewReader("data"), "")
		if !errors.Is(err, storage.ErrExists) || calls.Load() != 2 {
			t.Errorf("Put = %v after %d requests; want ErrExists after 2", err, calls.Load())
		}
	})
	t.Run("then409", func(t *testing.T) {
		srv, calls := fakeS3(t, 409, 409, 409)
		_, err := fakeStore(t, srv.URL).Put(t.Context(), "k", strings.NewReader("data"), "")
		if err == nil || errors.Is(err, storage.ErrExists) || calls.Load() != 2 {
			t.Errorf("Put = %v after %d requests; want a conflict error after 2", err, calls.Load())
		}
	})
	t.Run("then200", func(t *testing.T) {
		srv, calls := fakeS3(t, 409, 200)
		info, err := fakeStore(t, srv.URL).Put(t.Context(), "k", strings.NewReader("data"), "")
		if err != nil || info.Size != 4 || calls.Load() != 2 {
			t.Errorf("Put = %+v, %v after %d requests; want success after 2", info, err, calls.Load())
		}
	})
}

func TestNewS3Validation(t *testing.T) {
	ok := storage.S3Config{Bucket: "b", Region: "us-east-1", Endpoint: "http://127.0.0.1:1",
		AccessKey: secret.New("a"), SecretKey: secret.New("s")}
	for name, mod := range map[string]func(*storage.S3Config){
		"no bucket":       func(c *storage.S3Config) { c.Bucket = "" },
		"small part":      func(c *storage.S3Config) { c.PartSize = 1 << 20 },
		"bad concurrency": func(c *storage.S3Config) { c.Concurrency = -1 },
		"bad prefix":      func(c *storage.S3Config) { c.Prefix = "../x" },
		"half creds":      func(c *storage.S3Config) { c.SecretKey = secret.Value{} },
		"userinfo":        func(c *storage.S3Config) { c.Endpoint = "http://user:hunter2@127.0.0.1:1" },
		"no scheme":       func(c *storage.S3Config) { c.Endpoint = "127.0.0.1:1" },
	} {
		cfg := ok
		mod(&cfg)
		_, err := storage.NewS3(t.Context(), cfg)
		if err == nil {
			t.Errorf("%s: NewS3 succeeded", name)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the endpoint's password: %v", name, err)
		}
	}
	if _, err := storage.NewS3(t.Context(), ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}

// fakeMultipart is an S3 endpoint for one multipart Put whose completion
// answers complete; HEAD answers 404 until the completion, then
// headAfter. It records the requests as "METHOD query-kind".
func fakeMultipart(t *testing.T, complete, headAfter int) (*httptest.Server, func() []string) {
	var (
		mu        sync.Mutex
		log       []string
		completed bool
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		q := r.URL.Query()
		kind := ""
		switch {
		case q.Has("uploads"):
			kind = "create"
		case q.Has("partNumber"):
			kind = "part"
		case q.Has("uploadId"):
			kind = "upload"
		}
		mu.Lock()
		log = append(log, r.Method+" "+kind)
		done := completed
		mu.Unlock()
		errXML := func(status int, code string) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(status)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message></Error>`, code)
		}
		switch r.Method + " " + kind {
		case "HEAD ":
			if !done {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			w.WriteHeader(headAfter)
		case "POST create":
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
		case "PUT part":
			w.Header().Set("ETag", `"e`+q.Get("partNumber")+`"`)
		case "POST upload":
			mu.Lock()
			completed = true
			mu.Unlock()
			switch complete {
			case http.StatusConflict:
				errXML(complete, "ConditionalRequestConflict")
			case http.StatusPreconditionFailed:
				errXML(complete, "PreconditionFailed")
			default:
				fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Key>k</Key><ETag>"x-2"</ETag></CompleteMultipartUploadResult>`)
			}
		case "DELETE upload":
			w.WriteHeader(http.StatusNoContent)
		default:
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(log)
	}
}

// The completion of a multipart Put (If-None-Match: *) refused with 412,
// or with 409 (a concurrent completion), is ErrExists when the key then
// exists and an error otherwise; the upload is aborted either way.
func TestS3MultipartCompletionRefused(t *testing.T) {
	for _, tc := range []struct {
		name                string
		complete, headAfter int
		wantExists, wantErr bool
		wantAbort           bool
	}{
		{"completed", 200, 200, false, false, false},
		{"412", http.StatusPreconditionFailed, 200, true, true, true},
		{"409 then the winner's object", http.StatusConflict, 200, true, true, true},
		{"409 and no object appears", http.StatusConflict, 404, false, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := fakeMultipart(t, tc.complete, tc.headAfter)
			s, err := storage.NewS3(t.Context(), storage.S3Config{Endpoint: srv.URL, Region: "us-east-1", Bucket: "b",
				PathStyle: true, AccessKey: secret.New("a"), SecretKey: secret.New("s"), PartSize: storage.MinPartSize})
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Put(t.Context(), "k", storagetest.Generator(storage.MinPartSize+1000, 1), "")
			if (err != nil) != tc.wantErr || errors.Is(err, storage.ErrExists) != tc.wantExists {
				t.Errorf("Put = %+v, %v; want error %v, ErrExists %v", info, err, tc.wantErr, tc.wantExists)
			}
			log := requests()
			if aborted := slices.Contains(log, "DELETE upload"); aborted != tc.wantAbort {
				t.Errorf("requests %q: aborted %v; want %v", log, aborted, tc.wantAbort)
			}
			if n := strings.Count(strings.Join(log, ","), "PUT part"); n != 2 {
				t.Errorf("requests %q: %d parts sent; want 2", log, n)
			}
		})
	}
}

// A multipart Replace with IfMatch sends If-Match: "ETAG" on the
// completion; a refusal (412), a vanished object (404 NoSuchKey) or a
// concurrent write (409) is ErrPrecondition, never ErrExists, and the
// upload is aborted.
func TestS3MultipartReplaceIfMatchRefused(t *testing.T) {
	for _, tc := range []struct {
		name     string
		status   int
		code     string
		wantPrec bool
	}{
		{"completed", 200, "", false},
		{"412", http.StatusPreconditionFailed, "PreconditionFailed", true},
		{"404 the object is gone", http.StatusNotFound, "NoSuchKey", true},
		{"409 a concurrent write", http.StatusConflict, "ConditionalRequestConflict", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var (
				mu      sync.Mutex
				log     []string
				ifMatch string
			)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				q := r.URL.Query()
				kind := ""
				switch {
				case q.Has("uploads"):
					kind = "create"
				case q.Has("partNumber"):
					kind = "part"
				case q.Has("uploadId"):
					kind = "upload"
				}
				mu.Lock()
				log = append(log, r.Method+" "+kind)
				mu.Unlock()
				switch r.Method + " " + kind {
				case "HEAD ":
					w.Header().Set("ETag", `"cur"`)
					w.Header().Set("Content-Length", "3")
				case "POST create":
					fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>u1</UploadId></InitiateMultipartUploadResult>`)
				case "PUT part":
					w.Header().Set("ETag", `"e`+q.Get("partNumber")+`"`)
				case "POST upload":
					mu.Lock()
					ifMatch = r.Header.Get("If-Match")
					mu.Unlock()
					if tc.code == "" {
						fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUploadResult><Key>k</Key><ETag>"new-2"</ETag></CompleteMultipartUploadResult>`)
						return
					}
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(tc.status)
					fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>test</Message></Error>`, tc.code)
				case "DELETE upload":
					w.WriteHeader(http.StatusNoContent)
				default:
					t.Errorf("unexpected request %s %s", r.Method, r.URL)
					w.WriteHeader(http.StatusBadRequest)
				}
			}))
			t.Cleanup(srv.Close)
			s, err := storage.NewS3(t.Context(), storage.S3Config{Endpoint: srv.URL, Region: "us-east-1", Bucket: "b",
				PathStyle: true, AccessKey: secret.New("a"), SecretKey: secret.New("s"), PartSize: storage.MinPartSize})
			if err != nil {
				t.Fatal(err)
			}
			info, err := s.Replace(t.Context(), "k", storagetest.Generator(storage.MinPartSize+1000, 1), storage.IfMatch("cur"))
			if errors.Is(err, storage.ErrPrecondition) != tc.wantPrec || errors.Is(err, storage.ErrExists) || !tc.wantPrec && err != nil {
				t.Errorf("Replace = %+v, %v; want ErrPrecondition: %v", info, err, tc.wantPrec)
			}
			if !tc.wantPrec && info.ETag != "new-2" {
				t.Errorf("Replace ETag %q; want new-2 (unquoted)", info.ETag)
			}
			mu.Lock()
			defer mu.Unlock()
			if ifMatch != `"cur"` {
				t.Errorf("completion If-Match %q; want \"cur\" (quoted)", ifMatch)
			}
			if aborted := slices.Contains(log, "DELETE upload"); aborted != tc.wantPrec {
				t.Errorf("requests %q: aborted %v; want %v", log, aborted, tc.wantPrec)
			}
		})
	}
}
