package storage_test

import (
	"strings"
	"testing"

	"github.com/calletl/calletl/storage"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want storage.Location
		err  string // substring of the error; "" for none
	}{
		{in: "/var/lib/calletl/lake", want: storage.Location{Dir: "/var/lib/calletl/lake"}},
		{in: "lake", want: storage.Location{Dir: "lake"}},
		{in: "./data/s3:lake", want: storage.Location{Dir: "./data/s3:lake"}},
		{in: "s3://calletl", want: storage.Location{Bucket: "calletl"}},
		{in: "s3://calletl/", want: storage.Location{Bucket: "calletl"}},
		{in: "s3://calletl/lake", want: storage.Location{Bucket: "calletl", Prefix: "lake"}},
		{in: "s3://calletl/prod/lake/", want: storage.Location{Bucket: "calletl", Prefix: "prod/lake"}},
		{in: "S3://my.bucket-1/a=b/c_d", want: storage.Location{Bucket: "my.bucket-1", Prefix: "a=b/c_d"}},
		{in: "", err: "empty location"},
		{in: "s3://", err: "empty"},
		{in: "s3:///lake", err: "empty"},
		{in: "s3://Calletl/lake", err: "lowercase"},
		{in: "s3://ab/lake", err: "3 to 63"},
		{in: "s3://" + strings.Repeat("a", 64), err: "3 to 63"},
		{in: "s3://-calletl", err: "beginning and ending"},
		{in: "s3://a..b/x", err: "adjacent dots"},
		{in: "s3://192.168.1.10/x", err: "IP address"},
		{in: "s3://calletl//lake", err: "empty path segment"},
		{in: "s3://calletl/../lake", err: "starts with a dot"},
		{in: "s3://calletl/la ke", err: "is not one of"},
		{in: "s3://key:secret@calletl/lake", err: "must not carry user information"},
		{in: "s3://calletl/lake?versionId=1", err: "without query"},
		{in: "s3a://calletl/lake", err: `scheme "s3a" is not supported`},
		{in: "file:///var/lib/lake", err: `scheme "file" is not supported`},
		{in: "gs://calletl/lake", err: `scheme "gs" is not supported`},
	}
	for _, tt := range tests {
		got, err := storage.ParseURL(tt.in)
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("ParseURL(%q): %v", tt.in, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseURL(%q) = %+v, %v; want an error saying %q", tt.in, got, err, tt.err)
		case tt.err == "" && got != tt.want:
			t.Errorf("ParseURL(%q) = %+v; want %+v", tt.in, got, tt.want)
		case tt.err == "" && got.IsS3() != (tt.want.Bucket != ""):
			t.Errorf("ParseURL(%q).IsS3() = %v", tt.in, got.IsS3())
		}
		if err == nil && got.IsS3() {
			// String gives back a URL that parses to the same location.
			again, err := storage.ParseURL(got.String())
			if err != nil || again != got {
				t.Errorf("ParseURL(%q) = %+v, %v; want %+v", got.String(), again, err, got)
			}
		}
	}
	// A URL with user information is refused without being echoed.
	if _, err := storage.ParseURL("s3://AKIAKEY:hunter2@calletl/lake"); err == nil || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "AKIAKEY") {
		t.Errorf("ParseURL with credentials: %v; want an error that does not echo them", err)
	}
}
