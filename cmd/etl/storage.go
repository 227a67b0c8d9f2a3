package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/calletl/calletl/load"
	"github.com/calletl/calletl/secret"
	"github.com/calletl/calletl/state"
	"github.com/calletl/calletl/storage"
)

// validateStorage checks the locations (lake, state: a directory or
// s3://bucket/prefix) and the top-level s3 section, the S3 connection that
// every S3 location uses.
func (c *Config) validateStorage(bad func(field, format string, args ...any)) {
	for _, f := range []struct {
		field, value string
		loc          *storage.Location
	}{
		{"lake", c.Lake, &c.lakeLoc},
		{"state", c.State, &c.stateLoc},
	} {
		if f.value == "" {
			continue // reported as required
		}
		loc, err := storage.ParseURL(f.value)
		if err != nil {
			bad(f.field, "%v", err)
			continue
		}
		*f.loc = loc
	}
	switch {
	case c.LeaseTTL == 0:
		c.LeaseTTL = state.DefaultLeaseTTL
	case c.LeaseTTL < time.Second:
		bad("lease_ttl", "%v: want at least 1s (the lease is renewed every third of it; default %v)", c.LeaseTTL, state.DefaultLeaseTTL)
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

// openState opens the configured state: a directory, or an S3 prefix whose
// state.json is written with conditional requests and whose locks are
// leases (state.OpenStorage).
func (c *Config) openState(ctx context.Context, log *slog.Logger) (*state.Store, error) {
	if !c.stateLoc.IsS3() {
		return state.Open(c.path(c.State))
	}
	st, err := c.openS3(ctx, "state", c.stateLoc.Bucket, c.stateLoc.Prefix, nil)
	if err != nil {
		return nil, err
	}
	return state.OpenStorage(ctx, st, state.ObjectOptions{Name: c.stateLoc.String(), Logger: log,
		// A lease is taken over ClockSkew after it expired. A short
		// lease_ttl is asked for quick takeovers, so the margin shrinks
		// with it; the default keeps the default 10s.
		LeaseTTL: c.LeaseTTL, ClockSkew: min(state.DefaultClockSkew, c.LeaseTTL/2)})
}

// openLake opens the configured lake: a directory, or an S3 prefix whose
// files are written in a local spool directory and uploaded whole.
func (c *Config) openLake(ctx context.Context) (*load.Lake, error) {
	if !c.lakeLoc.IsS3() {
		return load.Open(c.path(c.Lake), c.lakeOptions())
	}
	st, err := c.openS3(ctx, "lake", c.lakeLoc.Bucket, c.lakeLoc.Prefix, nil)
	if err != nil {
		return nil, err
	}
	opts := c.lakeOptions()
	opts.Store = st
	return load.Open("", opts)
}

// lakeName is the lake in messages: its directory or its s3:// URL.
func (c *Config) lakeName() string {
	if c.lakeLoc.IsS3() {
		return c.lakeLoc.String()
	}
	return c.path(c.Lake)
}
