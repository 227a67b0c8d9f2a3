package storage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/calletl/calletl/secret"
)

// Defaults and limits of [S3Config].
const (
	DefaultPartSize    = 8 << 20
	MinPartSize        = 5 << 20 // S3's minimum for all parts but the last
	DefaultConcurrency = 2
	MaxParts           = 10000 // S3's maximum number of parts: objects up to MaxParts × PartSize
)

// smallRead is what Put reads before taking a part buffer: an object that
// fits costs no more than this.
const smallRead = 64 << 10

// MetaSHA256 is the user-metadata name (x-amz-meta-sha256) holding an
// object's SHA-256 in lowercase hex.
const MetaSHA256 = "sha256"

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
	// DefaultConcurrency). A Put holds at most (Concurrency+1) × PartSize
	// bytes of part buffers (the parts in flight and the one being read),
	// whatever the object's size; the buffers are reused across Puts.
	Concurrency int
	// Checksums has the server verify what it stores, end to end: a
	// single-part object is sent with its SHA-256 (x-amz-checksum-sha256,
	// the hash Put computes anyway), every part of a multipart upload with
	// its CRC32C (x-amz-checksum-crc32c; the SDK computes it, in a trailer
	// over https). Off by default, because older S3-compatible servers
	// reject these headers; AWS S3 and versitygw v1.8.0 accept them. (Over
	// plain http the SigV4 signature already covers each request's payload
	// SHA-256; over https without Checksums only TLS protects the bytes.)
	Checksums bool
}

// S3 is a Store in an S3 bucket under a prefix: key "a/b.wav" is the object
// PREFIX/a/b.wav.
//
// Put is a conditional create (If-None-Match: *), Replace a write under its
// condition (If-None-Match: *, If-Match: "ETAG", or none), and every byte
// crosses the network once:
//
//   - An object of at most PartSize bytes is read into memory, then sent in
//     one PutObject with the condition and its SHA-256 as user metadata
//     (x-amz-meta-sha256).
//   - A larger one is uploaded in parts (Concurrency UploadPart requests in
//     flight, each part read into a reused buffer while the previous ones
//     are sent) straight to its key, and the multipart upload is completed
//     with the condition: the object appears whole or not at all, and a
//     key created (or replaced) meanwhile by someone else makes the
//     completion fail (ErrExists, ErrPrecondition). Whenever the write
//     fails, the upload is aborted, so no parts are left behind, and the
//     existing object is never touched.
//     Such an object carries no x-amz-meta-sha256: user metadata must be
//     sent when the multipart upload starts, and the SHA-256 is only known
//     once the stream has ended (S3 cannot add it later without rewriting
//     the object, and its own multipart checksums are per part, not of the
//     whole content). Put returns the SHA-256 all the same; Stat returns an
//     empty SHA256 for these objects, and a caller that needs it reads the
//     object back (as [Store.Stat] allows).
//
// The server evaluates a condition atomically with publishing the object:
// AWS S3 does, and so does versitygw v1.8.0 (backend/posix: the condition
// is re-checked under a per-key publish lock for PutObject and
// CompleteMultipartUpload). Info.ETag is the server's ETag without quotes;
// If-Match sends it quoted.
//
// A crash during a multipart Put leaves an incomplete multipart upload (no
// object); a bucket lifecycle rule that aborts incomplete multipart uploads
// after a day removes its parts. Versions before this one uploaded large
// objects to PREFIX.incoming/ first; List ignores anything left there.
//
// The multipart upload is done here rather than by the SDK's transfer
// manager (feature/s3/transfermanager v0.5), which copies the first part
// once more, allocates fresh part buffers for every upload, and logs
// through the standard logger whenever a completion fails (every refused
// conditional completion).
//
// Request checksums are computed and response checksums validated only when
// an operation requires them: many S3-compatible servers reject the SDK's
// default CRC32 trailers. S3Config.Checksums turns on checksums the server
// verifies (see there).
type S3 struct {
	client      *s3.Client
	endpoint    string // for String; "" for AWS
	bucket      string
	prefix      string
	partSize    int64
	concurrency int
	checksums   bool
	parts       sync.Pool // *[]byte of len partSize
}

var _ Store = (*S3)(nil)

// NewS3 returns the store described by cfg. It does not contact the server.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("storage: s3: bucket is required")
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = DefaultPartSize
	}
	if cfg.PartSize < MinPartSize {
		return nil, fmt.Errorf("storage: s3: part size %d is below the S3 minimum of %d", cfg.PartSize, MinPartSize)
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Concurrency < 1 {
		return nil, fmt.Errorf("storage: s3: concurrency %d is below 1", cfg.Concurrency)
	}
	prefix := cfg.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if prefix != "" {
		if err := checkPrefix(prefix); err != nil {
			return nil, fmt.Errorf("storage: s3: prefix: %w", err)
		}
	}
	if cfg.AccessKey.IsZero() != cfg.SecretKey.IsZero() {
		return nil, errors.New("storage: s3: set both access key and secret key, or neither for the default credential chain")
	}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL is not echoed: it might hold credentials.
			return nil, errors.New("storage: s3: endpoint must be an http or https URL without user information")
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
		return nil, fmt.Errorf("storage: s3: load AWS config: %w", err)
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
	st := &S3{client: client, endpoint: cfg.Endpoint, bucket: cfg.Bucket, prefix: prefix,
		partSize: cfg.PartSize, concurrency: cfg.Concurrency, checksums: cfg.Checksums}
	st.parts.New = func() any {
		b := make([]byte, st.partSize)
		return &b
	}
	return st, nil
}

// String names the store for messages: bucket, prefix and endpoint (which
// carries no credentials, NewS3 refuses that).
func (s *S3) String() string {
	where := "AWS"
	if s.endpoint != "" {
		where = s.endpoint
	}
	return fmt.Sprintf("S3 bucket %q prefix %q at %s", s.bucket, s.prefix, where)
}

func (s *S3) objectKey(key string) string { return s.prefix + key }

// Put implements [Store.Put].
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	info, err := s.write(ctx, key, r, contentType, IfNoneMatch())
	if err != nil {
		return Info{}, fmt.Errorf("storage: s3 put %s: %w", key, err)
	}
	return info, nil
}

// Replace implements [Store.Replace] with a conditional PutObject or
// CompleteMultipartUpload (If-None-Match: * or If-Match: ETAG), which the
// server evaluates atomically with publishing the object.
func (s *S3) Replace(ctx context.Context, key string, r io.Reader, cond Cond) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	if err := cond.check(); err != nil {
		return Info{}, err
	}
	info, err := s.write(ctx, key, r, "", cond)
	if err != nil {
		return Info{}, fmt.Errorf("storage: s3 replace %s (%s): %w", key, cond, err)
	}
	return info, nil
}

func (s *S3) write(ctx context.Context, key string, r io.Reader, contentType string, cond Cond) (Info, error) {
	hr := &hashingReader{r: ctxReader{ctx: ctx, r: r}, h: sha256.New()}
	// A small object (a transcript) is read into a small buffer; anything
	// larger continues in a part buffer.
	small := make([]byte, smallRead)
	n, err := io.ReadFull(hr, small)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return s.putSingle(ctx, key, small[:n], hr, contentType, cond)
	}
	if err != nil {
		return Info{}, err
	}
	buf := s.parts.Get().(*[]byte)
	defer func() {
		if buf != nil {
			s.parts.Put(buf)
		}
	}()
	first := *buf
	copy(first, small)
	small = nil
	n, err = io.ReadFull(hr, first[smallRead:])
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return s.putSingle(ctx, key, first[:smallRead+n], hr, contentType, cond)
	}
	if err != nil {
		return Info{}, err
	}
	// A full part: one byte more tells "exactly PartSize" from "more".
	var one [1]byte
	if _, err := io.ReadFull(hr, one[:]); err == io.EOF {
		return s.putSingle(ctx, key, first, hr, contentType, cond)
	} else if err != nil {
		return Info{}, err
	}
	part := buf
	buf = nil // putMultipart owns it now
	return s.putMultipart(ctx, key, part, io.MultiReader(bytes.NewReader(one[:]), hr), hr, contentType, cond)
}

// condHeaders returns the If-None-Match and If-Match values of cond.
func condHeaders(cond Cond) (ifNoneMatch, ifMatch *string) {
	switch cond.kind {
	case condNoneMatch:
		return aws.String("*"), nil
	case condMatch:
		return nil, aws.String(quoteETag(cond.etag))
	}
	return nil, nil
}

// quoteETag returns etag as an HTTP entity tag ("…"); Info.ETag holds it
// without the quotes.
func quoteETag(etag string) string { return `"` + etag + `"` }

func unquoteETag(etag *string) string { return strings.Trim(aws.ToString(etag), `"`) }

// putSingle stores a body that is complete in memory (at most PartSize) with
// one conditional PutObject.
func (s *S3) putSingle(ctx context.Context, key string, data []byte, hr *hashingReader, contentType string, cond Cond) (Info, error) {
	sum := hex.EncodeToString(hr.h.Sum(nil))
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(s.objectKey(key)),
		ContentLength: aws.Int64(int64(len(data))),
		Metadata:      map[string]string{MetaSHA256: sum},
	}
	in.IfNoneMatch, in.IfMatch = condHeaders(cond)
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	if s.checksums {
		in.ChecksumSHA256 = aws.String(base64.StdEncoding.EncodeToString(hr.h.Sum(nil)))
	}
	var out *s3.PutObjectOutput
	err := retryConflict(ctx, func() (err error) {
		in.Body = bytes.NewReader(data)
		out, err = s.client.PutObject(ctx, in)
		return err
	})
	if err != nil {
		return Info{}, conditionalErr(err, cond)
	}
	return Info{Key: key, Size: int64(len(data)), ETag: unquoteETag(out.ETag), SHA256: sum, ContentType: contentType, Modified: time.Now().UTC()}, nil
}

// putMultipart uploads first (a full part buffer from s.parts, which it
// returns there) and the rest of the stream in parts straight to key, and
// completes the multipart upload under cond (If-None-Match: * or
// If-Match). Whatever fails, the upload is aborted, so a failed write
// leaves neither a new object nor parts.
func (s *S3) putMultipart(ctx context.Context, key string, first *[]byte, rest io.Reader, hr *hashingReader, contentType string, cond Cond) (Info, error) {
	// Don't upload what would be refused (the usual re-run case, a stale
	// version); the conditional completion is what guarantees it.
	if cond.kind == condNoneMatch || cond.kind == condMatch {
		cur, err := s.head(ctx, key)
		switch {
		case err != nil && !errors.Is(err, ErrNotFound):
			s.parts.Put(first)
			return Info{}, err
		case cond.kind == condNoneMatch && err == nil:
			s.parts.Put(first)
			return Info{}, ErrExists
		case cond.kind == condMatch && (err != nil || cur.ETag != cond.etag):
			s.parts.Put(first)
			return Info{}, ErrPrecondition
		}
	}
	create := &s3.CreateMultipartUploadInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))}
	if contentType != "" {
		create.ContentType = aws.String(contentType)
	}
	if s.checksums {
		create.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
	}
	mpu, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		s.parts.Put(first)
		return Info{}, fmt.Errorf("create multipart upload: %w", err)
	}
	completed := false
	defer func() {
		if !completed {
			s.abort(ctx, key, mpu.UploadId)
		}
	}()

	parts, err := s.uploadParts(ctx, key, mpu.UploadId, first, rest)
	if err != nil {
		return Info{}, err
	}
	complete := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.bucket),
		Key:             aws.String(s.objectKey(key)),
		UploadId:        mpu.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	}
	complete.IfNoneMatch, complete.IfMatch = condHeaders(cond)
	out, err := s.client.CompleteMultipartUpload(ctx, complete)
	if isConflict(err) {
		// 409: a concurrent write of the key was being completed. The
		// parts cannot be sent again (the stream is consumed). A create
		// lost to the winner, whose object is normally there a moment
		// later; a compare-and-swap cannot know the version it would
		// replace any more: nothing was written, the caller re-reads.
		if cond.kind == condMatch {
			return Info{}, fmt.Errorf("%w: a concurrent write of the key (%w)", ErrPrecondition, err)
		}
		if cond.kind == condNoneMatch {
			return Info{}, s.existsAfterConflict(ctx, key, err)
		}
		return Info{}, err
	}
	if err != nil {
		return Info{}, conditionalErr(err, cond)
	}
	completed = true
	sum := hex.EncodeToString(hr.h.Sum(nil))
	return Info{Key: key, Size: hr.n, ETag: unquoteETag(out.ETag), SHA256: sum, ContentType: contentType, Modified: time.Now().UTC()}, nil
}

// uploadParts sends first as part 1 and the rest of the stream as parts 2,
// 3, …, s.concurrency at a time, reading the next part while the previous
// ones are sent. It returns the completed parts in order, or the first
// error (of the reader or of a request), after every request has ended.
func (s *S3) uploadParts(ctx context.Context, key string, uploadID *string, first *[]byte, rest io.Reader) ([]types.CompletedPart, error) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.concurrency)
	var (
		mu    sync.Mutex
		parts []types.CompletedPart
	)
	// Buffers cycle through free within the Put, so that it uses exactly
	// concurrency+1 of them at most (sync.Pool's per-P caches could hand
	// out more); they go back to s.parts at the end.
	free := make(chan *[]byte, s.concurrency+1)
	defer func() {
		close(free)
		for b := range free {
			s.parts.Put(b)
		}
	}()
	next := func() *[]byte {
		select {
		case b := <-free:
			return b
		default:
			return s.parts.Get().(*[]byte)
		}
	}
	buf, data := first, *first
	var readErr error
	for n := int32(1); ; n++ {
		// Send data (in buf) as part n. Go blocks while s.concurrency
		// parts are in flight, each returning its buffer to free before
		// its slot: at most concurrency+1 buffers are in use.
		part, pbuf, pdata := n, buf, data
		g.Go(func() error {
			defer func() { free <- pbuf }()
			in := &s3.UploadPartInput{
				Bucket:        aws.String(s.bucket),
				Key:           aws.String(s.objectKey(key)),
				UploadId:      uploadID,
				PartNumber:    aws.Int32(part),
				Body:          bytes.NewReader(pdata),
				ContentLength: aws.Int64(int64(len(pdata))),
			}
			if s.checksums {
				in.ChecksumAlgorithm = types.ChecksumAlgorithmCrc32c
			}
			out, err := s.client.UploadPart(gctx, in)
			if err != nil {
				return fmt.Errorf("upload part %d: %w", part, err)
			}
			mu.Lock()
			parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(part), ETag: out.ETag, ChecksumCRC32C: out.ChecksumCRC32C})
			mu.Unlock()
			return nil
		})
		if len(pdata) < int(s.partSize) || gctx.Err() != nil {
			break // that was the last part, or a request failed
		}
		buf = next()
		k, err := io.ReadFull(rest, *buf)
		if err == io.EOF {
			free <- buf
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			free <- buf
			readErr = err
			break
		}
		if n+1 > MaxParts {
			free <- buf
			readErr = fmt.Errorf("more than %d parts of %d bytes: raise the part size", MaxParts, s.partSize)
			break
		}
		data = (*buf)[:k]
	}
	werr := g.Wait()
	if readErr != nil {
		return nil, readErr // the reader's error first: it is the cause
	}
	if werr != nil {
		return nil, werr
	}
	slices.SortFunc(parts, func(a, b types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
	return parts, nil
}

// abort aborts a multipart upload, even when ctx is done; errors are
// ignored (a lifecycle rule removes what is left).
func (s *S3) abort(ctx context.Context, key string, uploadID *string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key)), UploadId: uploadID,
	})
}

// existsAfterConflict returns ErrExists once key exists, looking a few
// times over about three seconds, and conflict if it never does.
func (s *S3) existsAfterConflict(ctx context.Context, key string, conflict error) error {
	for wait := 50 * time.Millisecond; wait < 2*time.Second; wait *= 2 {
		select {
		case <-ctx.Done():
			return conflict
		case <-time.After(wait):
		}
		_, err := s.head(ctx, key)
		if err == nil {
			return ErrExists
		}
		if !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return conflict
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

// conditionalErr turns a refused condition into the sentinel: 412
// Precondition Failed into ErrExists (If-None-Match) or ErrPrecondition
// (If-Match), and for If-Match also 404 (the object is gone: S3 and
// versitygw answer NoSuchKey).
func conditionalErr(err error, cond Cond) error {
	var ae smithy.APIError
	refused := httpStatus(err) == http.StatusPreconditionFailed || errors.As(err, &ae) && ae.ErrorCode() == "PreconditionFailed"
	switch {
	case refused && cond.kind == condNoneMatch:
		return ErrExists
	case refused && cond.kind == condMatch:
		return ErrPrecondition
	case cond.kind == condMatch && errors.Is(notFoundErr(err), ErrNotFound):
		return ErrPrecondition
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

// Stat implements [Store.Stat]. SHA256 is x-amz-meta-sha256: empty for an
// object uploaded in parts.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := CheckKey(key); err != nil {
		return Info{}, err
	}
	info, err := s.head(ctx, key)
	if err != nil {
		return Info{}, fmt.Errorf("storage: s3 stat %s: %w", key, err)
	}
	return info, nil
}

func (s *S3) head(ctx context.Context, key string) (Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.objectKey(key))})
	if err != nil {
		return Info{}, notFoundErr(err)
	}
	info := Info{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: unquoteETag(out.ETag), ContentType: aws.ToString(out.ContentType)}
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
		return nil, fmt.Errorf("storage: s3 open %s: %w", key, notFoundErr(err))
	}
	return out.Body, nil
}

// List implements [Store.List]. ETag is the listing's; SHA256 and
// ContentType are empty: listings carry no user metadata.
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
			return fmt.Errorf("storage: s3 list %q: %w", prefix, err)
		}
		for _, o := range page.Contents {
			key, ok := strings.CutPrefix(aws.ToString(o.Key), s.prefix)
			if !ok || checkKey(key) != nil { // foreign names, PREFIX.incoming/ of older versions
				continue
			}
			info := Info{Key: key, Size: aws.ToInt64(o.Size), ETag: unquoteETag(o.ETag)}
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
		return fmt.Errorf("storage: s3 delete %s: %w", key, err)
	}
	return nil
}
