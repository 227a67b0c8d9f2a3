package storagetest

import (
	"bytes"
	"context"
	"go/build"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// Credentials and bucket of the S3 server StartVersity runs.
const (
	VersityAccessKey = "calletl-test-access"
	VersitySecretKey = "calletl-test-secret-d41d8cd9"
	VersityBucket    = "recordings"
)

// Versity is a versitygw process serving S3 on loopback from a temporary
// directory, with one bucket (VersityBucket).
type Versity struct {
	Endpoint string // "http://127.0.0.1:PORT"
}

// StartVersity starts versitygw and stops it when tb ends. The binary is
// looked up on PATH, then in GOPATH/bin (`make test` installs it there).
// Without it the test is skipped, unless CALLETL_REQUIRE_S3=1 (as `make
// test` sets), which makes that a failure.
func StartVersity(tb testing.TB) *Versity {
	tb.Helper()
	bin := findVersity()
	if bin == "" {
		msg := "versitygw not found on PATH or in GOPATH/bin; install it with " +
			"`go install github.com/versity/versitygw/cmd/versitygw@v1.8.0` (make tools) to run the S3 tests"
		if os.Getenv("CALLETL_REQUIRE_S3") == "1" {
			tb.Fatal(msg + " (CALLETL_REQUIRE_S3=1)")
		}
		tb.Skip(msg)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	var out bytes.Buffer
	cmd := exec.Command(bin, "--port", addr, "posix", tb.TempDir())
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+VersityAccessKey, "ROOT_SECRET_KEY="+VersitySecretKey)
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &out}, &syncWriter{w: &out}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start versitygw: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	tb.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if tb.Failed() {
			tb.Logf("versitygw output:\n%s", out.String())
		}
	})

	v := &Versity{Endpoint: "http://" + addr}
	client := v.Client()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.ListBuckets(ctx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			break
		}
		select {
		case <-exited:
			tb.Fatalf("versitygw exited early:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("versitygw at %s not answering after 30s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(VersityBucket)}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	return v
}

// Client is a plain S3 client on the server, for test set-up and checks.
func (v *Versity) Client() *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(v.Endpoint), UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: VersityAccessKey, SecretAccessKey: VersitySecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Store returns a calletl S3 store on the server's bucket: cfg with the
// server's endpoint, region, bucket, path-style addressing and credentials
// filled in (Prefix, PartSize, Concurrency are the caller's).
func (v *Versity) Store(tb testing.TB, cfg storage.S3Config) *storage.S3 {
	tb.Helper()
	cfg.Endpoint, cfg.Region, cfg.Bucket, cfg.PathStyle = v.Endpoint, "us-east-1", VersityBucket, true
	cfg.AccessKey, cfg.SecretKey = secret.New(VersityAccessKey), secret.New(VersitySecretKey)
	st, err := storage.NewS3(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// findVersity returns the versitygw binary: on PATH or in GOPATH/bin.
func findVersity() string {
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	for _, dir := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(dir, "bin", "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// syncWriter serialises the process's stdout and stderr into one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// Download copies every object of VersityBucket under prefix (a key
// prefix ending in "/") into dir, keeping the rest of each key as its
// path, with a plain S3 client (not project code): what any reader of the
// bucket sees. It returns the number of objects copied.
func (v *Versity) Download(tb testing.TB, prefix, dir string) int {
	tb.Helper()
	c := v.Client()
	ctx := context.Background()
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(VersityBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			tb.Fatalf("list s3 %s: %v", prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(VersityBucket), Key: o.Key})
			if err != nil {
				tb.Fatalf("get %s: %v", key, err)
			}
			path := filepath.Join(dir, filepath.FromSlash(key[len(prefix):]))
			err = os.MkdirAll(filepath.Dir(path), 0o755)
			var f *os.File
			if err == nil {
				f, err = os.Create(path)
			}
			if err == nil {
				_, err = io.Copy(f, out.Body)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			out.Body.Close()
			if err != nil {
				tb.Fatalf("download %s: %v", key, err)
			}
			n++
		}
	}
	return n
}
