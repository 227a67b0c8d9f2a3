package blob_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calletl/calletl/recordings/blob"
	"github.com/calletl/calletl/recordings/blob/blobtest"
	"github.com/calletl/calletl/secret"
)

const (
	versityAccess = blobtest.VersityAccessKey
	versitySecret = blobtest.VersitySecretKey
	testBucket    = blobtest.VersityBucket
)

// versity is a versitygw process serving S3 on loopback from a temporary
// directory.
type versity struct {
	endpoint string
}

// startVersity starts versitygw with one bucket, and stops it when t ends.
func startVersity(t *testing.T) *versity {
	return &versity{endpoint: blobtest.StartVersity(t).Endpoint}
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

func (v *versity) config(prefix string) blob.S3Config {
	return blob.S3Config{
		Endpoint:    v.endpoint,
		Region:      "us-east-1",
		Bucket:      testBucket,
		Prefix:      prefix,
		PathStyle:   true,
		AccessKey:   secret.New(versityAccess),
		SecretKey:   secret.New(versitySecret),
		PartSize:    blob.MinPartSize,
		Concurrency: 2,
	}
}

func (v *versity) store(t *testing.T, prefix string) *blob.S3 {
	t.Helper()
	s, err := blob.NewS3(t.Context(), v.config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Conformance(t *testing.T) {
	v := startVersity(t)
	var n atomic.Int64
	blobtest.Run(t, func(t *testing.T) blob.Store {
		return v.store(t, fmt.Sprintf("run/%d", n.Add(1)))
	})
}

// Objects live under the prefix, carry x-amz-meta-sha256, and nothing is
// left in the bucket's temporary area after a multipart Put.
func TestS3Layout(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "lake/rec")
	ctx := t.Context()
	if _, err := s.Put(ctx, "a/small.txt", strings.NewReader("hello"), "text/plain"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, "a/large.bin", blobtest.Generator(11<<20, 5), ""); err != nil {
		t.Fatal(err)
	}
	c := v.client(t)
	out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if want := []string{"lake/rec/a/large.bin", "lake/rec/a/small.txt"}; strings.Join(keys, ",") != strings.Join(want, ",") {
		t.Errorf("bucket keys = %q; want %q", keys, want)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("lake/rec/a/large.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := head.Metadata[blob.MetaSHA256], blobtest.GeneratorSHA256(11<<20, 5); got != want {
		t.Errorf("x-amz-meta-sha256 = %q (metadata %v); want %s", got, head.Metadata, want)
	}
	mpu, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(mpu.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open", len(mpu.Uploads))
	}
}

// A failed multipart Put aborts its upload: no parts are left behind.
func TestS3FailedPutLeavesNoUpload(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "p")
	if _, err := s.Put(t.Context(), "x", blobtest.FailingReader(17<<20, 1), ""); !errors.Is(err, blobtest.ErrReader) {
		t.Fatalf("Put = %v", err)
	}
	c := v.client(t)
	mpu, err := c.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(mpu.Uploads) != 0 {
		t.Errorf("%d multipart uploads left open", len(mpu.Uploads))
	}
	out, err := c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("%d objects left in the bucket", len(out.Contents))
	}
}

// A 64 MiB Put from a generator holds about (Concurrency+3) parts, not the
// object.
func TestS3MemoryBounded(t *testing.T) {
	v := startVersity(t)
	s := v.store(t, "mem")
	const size = 64 << 20
	peak := measurePeakHeap(t, func() {
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
		defer cancel()
		if _, err := s.Put(ctx, "big.wav", blobtest.Generator(size, 11), "audio/wav"); err != nil {
			t.Fatal(err)
		}
	})
	// PartSize 5 MiB × (Concurrency 2 + 3) = 25 MiB, plus SDK overhead.
	if limit := uint64(36 << 20); peak > limit {
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
	s, err := blob.NewS3(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	_, err = s.Put(t.Context(), "k", strings.NewReader("x"), "")
	errs = append(errs, err)
	_, err = s.Put(t.Context(), "k2", blobtest.Generator(6<<20, 1), "")
	errs = append(errs, err)
	_, err = s.Stat(t.Context(), "k")
	errs = append(errs, err)
	errs = append(errs, s.List(t.Context(), "", func(blob.Info) error { return nil }))
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

func fakeStore(t *testing.T, endpoint string) *blob.S3 {
	s, err := blob.NewS3(t.Context(), blob.S3Config{
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
		if !errors.Is(err, blob.ErrExists) || calls.Load() != 2 {
			t.Errorf("Put = %v after %d requests; want ErrExists after 2", err, calls.Load())
		}
	})
	t.Run("then409", func(t *testing.T) {
		srv, calls := fakeS3(t, 409, 409, 409)
		_, err := fakeStore(t, srv.URL).Put(t.Context(), "k", strings.NewReader("data"), "")
		if err == nil || errors.Is(err, blob.ErrExists) || calls.Load() != 2 {
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
	ok := blob.S3Config{Bucket: "b", Region: "us-east-1", Endpoint: "http://127.0.0.1:1",
		AccessKey: secret.New("a"), SecretKey: secret.New("s")}
	for name, mod := range map[string]func(*blob.S3Config){
		"no bucket":       func(c *blob.S3Config) { c.Bucket = "" },
		"small part":      func(c *blob.S3Config) { c.PartSize = 1 << 20 },
		"bad concurrency": func(c *blob.S3Config) { c.Concurrency = -1 },
		"bad prefix":      func(c *blob.S3Config) { c.Prefix = "../x" },
		"half creds":      func(c *blob.S3Config) { c.SecretKey = secret.Value{} },
		"userinfo":        func(c *blob.S3Config) { c.Endpoint = "http://user:hunter2@127.0.0.1:1" },
		"no scheme":       func(c *blob.S3Config) { c.Endpoint = "127.0.0.1:1" },
	} {
		cfg := ok
		mod(&cfg)
		_, err := blob.NewS3(t.Context(), cfg)
		if err == nil {
			t.Errorf("%s: NewS3 succeeded", name)
		} else if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error leaks the endpoint's password: %v", name, err)
		}
	}
	if _, err := blob.NewS3(t.Context(), ok); err != nil {
		t.Errorf("valid config: %v", err)
	}
}
