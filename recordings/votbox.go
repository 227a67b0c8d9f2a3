package recordings

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/extract/votbox"
	"github.com/calletl/calletl/secret"
)

// VotBoxConfig configures [NewVotBox].
type VotBoxConfig struct {
	BaseURL  string // the directory of the *.api.php scripts; votbox.DefaultBaseURL when empty
	Username string
	Password secret.Value // the plain password; only its MD5 hash is sent
	HTTP     httpx.Config
}

// VotBoxFetcher fetches VotBox recordings: POST
// autocall.recordtalk.api.php with filename=<recfilename> answers the WAV,
// or an XML error ("not found" errors are ErrMissing, others failures).
type VotBoxFetcher struct {
	script   string
	host     string
	username string
	hash     secret.Value
	http     *httpx.Client
}

var _ Fetcher = (*VotBoxFetcher)(nil)

// NewVotBox returns the VotBox fetcher.
func NewVotBox(cfg VotBoxConfig) (*VotBoxFetcher, error) {
	if cfg.BaseURL == "" {
		cfg.BaseURL = votbox.DefaultBaseURL
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Username == "" || cfg.Password.IsZero() {
		return nil, errors.New("recordings: votbox: username and password are required")
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = "votbox-recordings"
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 16
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	sum := md5.Sum([]byte(cfg.Password.Reveal()))
	hash := hex.EncodeToString(sum[:])
	cfg.HTTP.Redactor.Add(cfg.Password.Reveal(), hash)
	plain := cfg.HTTP.Transport
	if plain == nil {
		plain = httpx.NewTransport(cfg.HTTP)
	}
	// The credentials travel in the form body, which a 307/308 redirect
	// would resend: redirects off the origin are refused (httpx's default)
	// and, should one get through, so is any request to another origin.
	guard, err := newHostGuard(base, plain, refuse{})
	if err != nil {
		return nil, fmt.Errorf("recordings: votbox: %w", err)
	}
	cfg.HTTP.Transport = guard
	u, _ := url.Parse(base)
	return &VotBoxFetcher{script: base + "/autocall.recordtalk.api.php", host: u.Host, username: cfg.Username,
		hash: secret.New(hash), http: httpx.New(cfg.HTTP)}, nil
}

// refuse fails every request (a redirect off the configured origin).
type refuse struct{}

func (refuse) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("refusing a request to %s: credentials go to the configured host only", req.URL.Host)
}

// Source implements [Fetcher].
func (f *VotBoxFetcher) Source() string { return votbox.Name }

// Parts implements [Fetcher]: one part, the talk recorded as call.Ref
// (recfilename).
func (f *VotBoxFetcher) Parts(ctx context.Context, call Call, fn func(Part) error) error {
	return fn(Part{N: 1, Host: f.host, Kind: KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
		return f.open(ctx, call.Ref)
	}})
}

func (f *VotBoxFetcher) open(ctx context.Context, name string) (io.ReadCloser, int64, error) {
	op := "recordtalk " + name
	resp, err := f.http.Stream(ctx, op, func(ctx context.Context) (*http.Request, error) {
		form := url.Values{"username": {f.username}, "password": {f.hash.Reveal()}, "filename": {name}}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.script, strings.NewReader(form.Encode()))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	})
	if err != nil {
		return nil, 0, missingIf404(err)
	}
	br := bufio.NewReaderSize(resp.Body, 512)
	head, _ := br.Peek(64)
	if t := bytes.TrimLeft(head, " \t\r\n\xef\xbb\xbf"); len(t) > 0 && t[0] == '<' {
		// An XML answer instead of audio: an error.
		body, _ := io.ReadAll(io.LimitReader(br, 64<<10))
		resp.Body.Close()
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		_, derr := votbox.Decode(body, params["charset"])
		var apiErr *votbox.APIError
		if errors.As(derr, &apiErr) {
			if strings.Contains(strings.ToLower(apiErr.Text), "не найден") || strings.Contains(strings.ToLower(apiErr.Text), "not found") {
				return nil, 0, fmt.Errorf("votbox-recordings: %s: %w: %v", op, ErrMissing, apiErr)
			}
			return nil, 0, fmt.Errorf("votbox-recordings: %s: %w", op, apiErr)
		}
		return nil, 0, fmt.Errorf("votbox-recordings: %s: %w: XML answer instead of audio: %.80q", op, ErrContent, body)
	}
	return readCloser{Reader: br, Closer: resp.Body}, resp.ContentLength, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}
