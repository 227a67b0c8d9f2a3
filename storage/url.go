package storage

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
)

// Location is where a store lives, as the config names it: a local
// directory, or an S3 bucket and prefix ("s3://bucket/prefix").
type Location struct {
	// Dir is the local directory, as written (relative paths are the
	// caller's to resolve); "" for S3.
	Dir string
	// Bucket is the S3 bucket; "" for a local directory.
	Bucket string
	// Prefix is the key prefix inside the bucket, without leading or
	// trailing "/"; "" for the whole bucket. It goes to S3Config.Prefix.
	Prefix string
}

// IsS3 reports whether the location is an S3 bucket.
func (l Location) IsS3() bool { return l.Bucket != "" }

// String returns the location as ParseURL accepts it.
func (l Location) String() string {
	if !l.IsS3() {
		return l.Dir
	}
	if l.Prefix == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}

var (
	schemeRE = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*)://`)
	// S3 bucket naming rules (general purpose buckets): 3 to 63 of
	// [a-z0-9.-], beginning and ending with a letter or digit.
	bucketRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// ParseURL parses a store location from the config: "s3://bucket" or
// "s3://bucket/prefix" (the prefix a valid key prefix: the characters of
// [CheckKey], no empty or dot segments; a trailing "/" is dropped), or
// else a local directory, returned unchanged. Any other scheme ("file://",
// "gs://", Spark's "s3a://") is an error rather than a directory named so.
func ParseURL(s string) (Location, error) {
	if s == "" {
		return Location{}, errors.New("storage: empty location: want a directory or s3://bucket/prefix")
	}
	m := schemeRE.FindStringSubmatch(s)
	if m == nil {
		return Location{Dir: s}, nil
	}
	if !strings.EqualFold(m[1], "s3") {
		return Location{}, fmt.Errorf("storage: location %q: scheme %q is not supported: want a directory or s3://bucket/prefix", s, m[1])
	}
	rest := s[len(m[0]):]
	if strings.Contains(rest, "@") {
		// Not echoed: it may hold credentials.
		return Location{}, errors.New("storage: an s3:// location must not carry user information: credentials go in the s3 section (secrets or the AWS credential chain)")
	}
	if strings.ContainsAny(rest, "?#") {
		return Location{}, fmt.Errorf("storage: location %q: want s3://bucket/prefix without query or fragment", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	if err := checkBucket(bucket); err != nil {
		return Location{}, fmt.Errorf("storage: location %q: bucket %q: %w", s, bucket, err)
	}
	if prefix != "" {
		if err := checkKey(prefix); err != nil {
			return Location{}, fmt.Errorf("storage: location %q: prefix %q: %s", s, prefix, err)
		}
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

func checkBucket(b string) error {
	switch {
	case b == "":
		return errors.New("empty: want s3://bucket/prefix")
	case !bucketRE.MatchString(b):
		return errors.New("want 3 to 63 lowercase letters, digits, dots and hyphens, beginning and ending with a letter or digit")
	case strings.Contains(b, ".."):
		return errors.New("two adjacent dots")
	case net.ParseIP(b) != nil:
		return errors.New("an IP address is not a bucket name")
	}
	return nil
}
