package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/storage"
)

// validateStorage checks the locations (lake, state: a directory or
// s3://bucket/prefix) and the top-level s3 section, the S3 connection that
// every S3 location uses.
func (c *Config) validateStorage(bad func(field, format string, args ...any)) {
	for _, f := range []struct{ field, value, what string }{
		{"lake", c.Lake, "lake"},
		{"state", c.State, "state"},
	} {
		if f.value == "" {
			continue // reported as required
		}
		loc, err := storage.ParseURL(f.value)
		switch {
		case err != nil:
			bad(f.field, "%v", err)
		case loc.IsS3():
			// Not half-wired: the lake and the state on S3 come as a
			// whole (issue 12, items 2 and 3).
			bad(f.field, "%q: an S3 %s is not supported yet: use a local directory (S3 serves recordings for now: recordings.s3)", f.value, f.what)
		}
	}
	if s := c.S3; s != nil {
		if s.Bucket != "" || s.Prefix != "" {
			bad("s3.bucket", "the top-level s3 section is the connection only; the bucket and prefix belong to each location (recordings.s3.bucket and .prefix)")
		}
		s.validateConn(bad, "s3.")
		if r := c.Recordings; r.on() && r.S3 != nil && r.S3.hasConn() {
			c.warn("recordings.s3", "sets connection fields that override the top-level s3 section for recordings: set them once, in s3")
		}
	}
}

// validateConn checks the connection fields of an s3 section (top-level s3
// or recordings.s3): endpoint, credentials, part size.
func (s *S3Config) validateConn(bad func(field, format string, args ...any), p string) {
	if s.Endpoint != "" {
		u, err := url.Parse(s.Endpoint)
		if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// Not echoed: it might hold credentials.
			bad(p+"endpoint", "want the http(s) URL of an S3-compatible server, without user information (credentials go in access_key and secret_key); empty for AWS S3")
		}
	}
	if (s.AccessKey == SecretRef{}) != (s.SecretKey == SecretRef{}) {
		bad(p+"secret_key", "set both access_key and secret_key, or neither (the standard AWS credential chain)")
	}
	if s.AccessKey != (SecretRef{}) {
		validateSecret(bad, p+"access_key", s.AccessKey)
		validateSecret(bad, p+"secret_key", s.SecretKey)
	}
	if s.PartSize != "" {
		n, err := parseBytes(s.PartSize)
		if err != nil || n < storage.MinPartSize {
			bad(p+"part_size", "%q: want a size of at least 5MiB (the S3 minimum)", s.PartSize)
		}
		s.partSize = n
	}
}

// hasConn reports whether an s3 section sets any connection field.
func (s *S3Config) hasConn() bool {
	return s.Endpoint != "" || s.Region != "" || s.PathStyle || s.AccessKey != (SecretRef{}) ||
		s.PartSize != "" || s.Checksums
}

// openS3 opens the S3 store at bucket/prefix with the top-level s3
// connection; own (recordings.s3, or nil) overrides it field by field
// where it sets a field: endpoint, region, part_size and the
// access_key/secret_key pair when set, path_style and checksums when true.
// field names the location in errors.
func (c *Config) openS3(ctx context.Context, field, bucket, prefix string, own *S3Config) (*storage.S3, error) {
	var conn S3Config
	connField := "s3"
	if c.S3 != nil {
		conn = *c.S3
	}
	if o := own; o != nil {
		if o.Endpoint != "" {
			conn.Endpoint = o.Endpoint
		}
		if o.Region != "" {
			conn.Region = o.Region
		}
		conn.PathStyle = conn.PathStyle || o.PathStyle
		conn.Checksums = conn.Checksums || o.Checksums
		if o.partSize != 0 {
			conn.partSize = o.partSize
		}
		if o.AccessKey != (SecretRef{}) {
			conn.AccessKey, conn.SecretKey, connField = o.AccessKey, o.SecretKey, field
		}
	}
	cfg := storage.S3Config{Endpoint: conn.Endpoint, Region: conn.Region, Bucket: bucket, Prefix: prefix,
		PathStyle: conn.PathStyle, PartSize: conn.partSize, Checksums: conn.Checksums}
	if conn.AccessKey != (SecretRef{}) {
		var err error
		if cfg.AccessKey, err = secret.Load(conn.AccessKey.Env, c.path(conn.AccessKey.File)); err != nil {
			return nil, fmt.Errorf("%s.access_key: %w", connField, err)
		}
		if cfg.SecretKey, err = secret.Load(conn.SecretKey.Env, c.path(conn.SecretKey.File)); err != nil {
			return nil, fmt.Errorf("%s.secret_key: %w", connField, err)
		}
	}
	s, err := storage.NewS3(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return s, nil
}
