package blob

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/calletl/calletl/secret"
)

// Defaults and limits of [S3Config].
const (
	DefaultPartSize    = 8 << 20
	MinPartSize        = 5 << 20 // S3's minimum for all parts but the last
	DefaultConcurrency = 2
)

// MetaSHA256 is the user-metadata name (x-amz-meta-sha256) holding an
// object's SHA-256 in lowercase hex.
const MetaSHA256 = "sha256"

// tmpDir is the segment, under the store's prefix, where objects larger than
// one part are uploaded before being copied to their key. It starts with a
// dot, so no valid key lies under it and List skips it. Orphans (a crash
// between upload and cleanup) are safe to delete; a bucket lifecycle rule on
// PREFIX.incoming/ (expire after a day, abort incomplete multipart uploads)
// does that.
const tmpDir = ".incoming"

// S3Config configures an [S3] store.
type S3Config struct {
	// Endpoint is the base URL of an S3-compatible server
	// ("http://127.0.0.1:7070"); empty for AWS S3. It must not carry
	// credentials.
	Endpoint string
	// Region; empty means the AWS environment/shared config, and
	// "us-east-1" if that has none either.
	Region string
	Bucket string
	// Prefix is prepended to every key; a "/" is added if missing.
	Prefix string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET/KEY instead of
	// BUCKET.ENDPOINT/KEY; most S3-compatible servers need it.
	PathStyle bool
	// AccessKey and SecretKey are static credentials; both empty means the
	// default AWS credential chain (environment, shared files, IAM role).
	AccessKey, SecretKey secret.Value
	// PartSize is the multipart part size and the size above which Put
	// uploads in parts (default DefaultPartSize, at least MinPartSize).
	PartSize int64
	// Concurrency is the number of parts in flight per Put (default
	// DefaultConcurrency). A Put holds about (Concurrency+3) × PartSize
	// bytes of buffers at most, whatever the object's size.
	Concurrency int
}

// S3 is a Store in an S3 bucket under a prefix: key "a/b.wav" is the object
// PREFIX/a/b.wav.
//
// Every object carries its SHA-256 as user metadata (x-amz-meta-sha256).
// Put is a conditional create (If-None-Match: *). An object of at most
// PartSize bytes is sent in one PutObject with its SHA-256 and the
// condition. A larger one is first uploaded in parts (transfer manager) to a
// temporary key under PREFIX.incoming/, because the SHA-256 is only known
// once the stream has ended while user metadata must be sent when the
// multipart upload starts. It is then promoted by a server-side copy: a
// multipart upload of the final key carrying the metadata, whose parts are
// UploadPartCopy ranges of the temporary object, completed with
// If-None-Match: *; the temporary object is deleted. A large object thus
// crosses the network once and is copied once inside the server.
//
// Request checksums are computed and response checksums validated only when
// an operation requires them, on the client and on the transfer manager:
// many S3-compatible servers reject the SDK's default CRC32 trailers.
type S3 struct {
	client   *s3.Client
	tm       *transfermanager.Client
	bucket   string
	prefix   string
	partSize int64
}

var _ Store = (*S3)(nil)

// NewS3 returns the store described by cfg. It does not contact the server.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("blob: s3: bucket is required")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("blob: s3: part size %d is below the S3 minimum of %d", cfg.PartSize, MinPartSize)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("blob: s3: concurrency %d is below 1", cfg.Concurrency)
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix != "" {
		if err := checkPrefix(prefix); err != nil {
			return nil, fmt.Errorf("blob: s3: prefix: %w", err)
		}
	}
	if cfg.AccessKey.IsZero() != cfg.SecretKey.IsZero() {
		return nil, errors.New("blob: s3: set both access key and secret key, or neither for the default credential chain")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL is not echoed: it might hold credentials.
			return nil, errors.New("blob: s3: endpoint must be an http or https URL without user information")
		}
	}

	opts := []func(*config.LoadOptions) error{
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if !cfg.AccessKey.IsZero() {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKey.Reveal(), cfg.SecretKey.Reveal(), "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("blob: s3: load AWS config: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = cfg.PartSize
		o.MultipartUploadThreshold = cfg.PartSize
		o.Concurrency = cfg.Concurrency
		// Overrides the client's setting for every upload call.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.DisableChecksumValidation = true // downloads are not used
		o.FailTimeout = time.Minute        // abort the multipart upload even after ctx is cancelled
	})
	return &S3{client: client, tm: tm, bucket: cfg.Bucket, prefix: prefix, partSize: cfg.PartSize}, nil
}

func (s *S3) objectKey(key string) string { return s.prefix + key }

// Put implements [Store.Put].
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	info, err := s.put(ctx, key, r, contentType)
	if err != nil {
		return Info{}, fmt.Errorf("blob: s3 put %s: %w", key, err)
	}
	return info, nil
}

func (s *S3) put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	hr := &hashingReader{r: ctxReader{ctx: ctx, r: r}, h: sha256.New()}
	// One part's worth (plus a byte to tell "exactly PartSize" from
	// "more"), grown as data arrives so a small transcript costs little.
	first, err := io.ReadAll(io.LimitReader(hr, s.partSize+1))
	if err != nil {
		return Info{}, err
	}
	if int64(len(first)) <= s.partSize {
		return s.putSingle(ctx, key, first, hr, contentType)
	}
	body := io.MultiReader(bytes.NewReader(first), hr)
	first = nil // the MultiReader drops it once read, so the GC can take it
	return s.putMultipart(ctx, key, body, hr, contentType)
}

// putSingle stores a body that is complete in memory (at most PartSize) with
// one conditional PutObject.
func (s *S3) putSingle(ctx context.Context, key string, data []byte, hr *hashingReader, contentType string) (Info, error) {
	sum := hex.EncodeToString(hr.h.Sum(nil))
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.objectKey(key)),
		ContentLength: aws.Int64(int64(len(data))),
		Metadata:      map[string]string{MetaSHA256: sum},
		IfNoneMatch:   aws.String("*"),
	}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	err := retryConflict(ctx, func() error {
		in.Body = bytes.NewReader(data)
		_, err := s.client.PutObject(ctx, in)
		return err
	})
	if err != nil {
		return Info{}, conditionalErr(err)
	}
	return Info{Key: key, Size: int64(len(data)), SHA256: sum, ContentType: contentType, Modified: time.Now().UTC()}, nil
}

// putMultipart uploads body in parts to a temporary key, then copies it to
// key with its SHA-256 and If-None-Match: *.
func (s *S3) putMultipart(ctx context.Context, key string, body io.Reader, hr *hashingReader, contentType string) (Info, error) {
	// Don't upload what is already there (the usual re-run case); the
	// conditional copy below is what guarantees it.
	if _, err := s.head(ctx, key); err == nil {
		return Info{}, ErrExists
	} else if !errors.Is(err, ErrNotFound) {
		return Info{}, err
	}

	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	tmpKey := s.prefix + tmpDir + "/" + hex.EncodeToString(rnd[:])
	defer func() {
		// The temporary object (if it was completed) goes whatever happened.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = s.client.DeleteObject(dctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(tmpKey)})
	}()

	up := &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.bucket),
		Key:    aws.String(tmpKey),
		Body:   body,
	}
	if _, err := s.tm.UploadObject(ctx, up); err != nil {
		return Info{}, fmt.Errorf("upload parts: %w", err)
	}
	sum := hex.EncodeToString(hr.h.Sum(nil))
	// A 409 on CompleteMultipartUpload means "start the multipart upload
	// again": the parts are server-side copies, so that is cheap.
	err := retryConflict(ctx, func() error {
		return s.promote(ctx, tmpKey, s.objectKey(key), hr.n, sum, contentType)
	})
	if err != nil {
		return Info{}, conditionalErr(err)
	}
	return Info{Key: key, Size: hr.n, SHA256: sum, ContentType: contentType, Modified: time.Now().UTC()}, nil
}

// maxCopyPart is the largest range one UploadPartCopy may copy.
const maxCopyPart = 5 << 30

// promote creates dst as a server-side copy of the size-byte object src,
// with its SHA-256 as metadata, only if dst does not exist: a multipart
// upload of dst whose parts are UploadPartCopy ranges of src, completed with
// If-None-Match: *. (CopyObject would be one request, but versitygw v1.8.0
// ignores If-None-Match on it, and it stops at 5 GiB.)
func (s *S3) promote(ctx context.Context, src, dst string, size int64, sum, contentType string) (err error) {
	create := &s3.CreateMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(dst),
		Metadata: map[string]string{MetaSHA256: sum},
	}
	if contentType != "" {
		create.ContentType = aws.String(contentType)
	}
	mpu, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return fmt.Errorf("promote: create multipart upload: %w", err)
	}
	completed := false
	defer func() {
		if completed {
			return
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(dst), UploadId: mpu.UploadId,
		})
	}()

	var parts []types.CompletedPart
	for off, n := int64(0), int32(1); off < size; off, n = off+maxCopyPart, n+1 {
		in := &s3.UploadPartCopyInput{
			Bucket:     aws.String(s.bucket),
			Key:        aws.String(dst),
			UploadId:   mpu.UploadId,
			PartNumber: aws.Int32(n),
			CopySource: aws.String(s.bucket + "/" + src), // URL-safe: [a-z0-9./-]
		}
		if size > maxCopyPart {
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", off, min(off+maxCopyPart, size)-1))
		}
		out, err := s.client.UploadPartCopy(ctx, in)
		if err != nil {
			return fmt.Errorf("promote: copy part %d: %w", n, err)
		}
		if out.CopyPartResult == nil || out.CopyPartResult.ETag == nil {
			return fmt.Errorf("promote: copy part %d: no ETag in the response", n)
		}
		parts = append(parts, types.CompletedPart{ETag: out.CopyPartResult.ETag, PartNumber: aws.Int32(n)})
	}
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(dst),
		UploadId:        mpu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		IfNoneMatch:     aws.String("*"),
	})
	if err != nil {
		return fmt.Errorf("promote: complete: %w", err)
	}
	completed = true
	return nil
}

// retryConflict runs a conditional write and, if it lost a race with a
// concurrent write of the same key (409 ConditionalRequestConflict), runs it
// once more: the second attempt normally meets the winner's object and gets
// 412.
func retryConflict(ctx context.Context, op func() error) error {
	err := op()
	if !isConflict(err) {
		return err
	}
	select {
	case <-ctx.Done():
		return err
	case <-time.After(50 * time.Millisecond):
	}
	return op()
}

func isConflict(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ConditionalRequestConflict" {
		return true
	}
	return httpStatus(err) == http.StatusConflict
}

// conditionalErr turns 412 Precondition Failed into ErrExists.
func conditionalErr(err error) error {
	var ae smithy.APIError
	if httpStatus(err) == http.StatusPreconditionFailed || errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed" {
		return ErrExists
	}
	return err
}

func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Stat implements [Store.Stat].
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	info, err := s.head(ctx, key)
	if err != nil {
		return Info{}, fmt.Errorf("blob: s3 stat %s: %w", key, err)
	}
	return info, nil
}

func (s *S3) head(ctx context.Context, key string) (Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return Info{}, notFoundErr(err)
	}
	info := Info{Key: key, Size: aws.ToInt64(out.ContentLength), ContentType: aws.ToString(out.ContentType)}
	if out.LastModified != nil {
		info.Modified = *out.LastModified
	}
	for k, v := range out.Metadata {
		if strings.EqualFold(k, MetaSHA256) {
			info.SHA256 = strings.ToLower(v)
		}
	}
	return info, nil
}

func notFoundErr(err error) error {
	var nf *types.NotFound
	var nk *types.NoSuchKey
	if errors.As(err, &nf) || errors.As(err, &nk) || httpStatus(err) == http.StatusNotFound {
		return ErrNotFound
	}
	return err
}

// Open implements [Store.Open].
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := CheckKey(key); err != nil {
		return nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return nil, fmt.Errorf("blob: s3 open %s: %w", key, notFoundErr(err))
	}
	return out.Body, nil
}

// List implements [Store.List]. SHA256 and ContentType are empty: listings
// carry no user metadata.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := checkPrefix(prefix); err != nil {
		return err
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.prefix + prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("blob: s3 list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || checkKey(key) != nil { // temporary objects, foreign names
				continue
			}
			info := Info{Key: key, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				info.Modified = *o.LastModified
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete implements [Store.Delete].
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil && !errors.Is(notFoundErr(err), ErrNotFound) {
		return fmt.Errorf("blob: s3 delete %s: %w", key, err)
	}
	return nil
}
