package recordings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/secret"
)

// DefaultMTTRecordsBase is the MTT recordings API.
const DefaultMTTRecordsBase = "https://rc.mtt.ru"

// MTTConfig configures [NewMTT].
type MTTConfig struct {
	RecordsBase string // DefaultMTTRecordsBase when empty
	Username    string
	Password    secret.Value
	// HTTP tunes the client (retries, timeouts, Concurrency: default 16).
	// A Transport set here is wrapped: credentials are still sent to the
	// RecordsBase origin only.
	HTTP httpx.Config
}

// MTTFetcher fetches MTT recordings: GET {base}/v1/records/<id>/urls with
// Basic auth gives the URLs of the parts (WAV), in order, possibly on other
// hosts and over plain http; those are downloaded without credentials.
type MTTFetcher struct {
	base string
	host string
	http *httpx.Client
}

var _ Fetcher = (*MTTFetcher)(nil)

// NewMTT returns the MTT fetcher.
func NewMTT(cfg MTTConfig) (*MTTFetcher, error) {
	if cfg.RecordsBase == "" {
		cfg.RecordsBase = DefaultMTTRecordsBase
	}
	base := strings.TrimRight(cfg.RecordsBase, "/")
	if cfg.Username == "" || cfg.Password.IsZero() {
		return nil, errors.New("recordings: mtt: username and password are required")
	}
	if cfg.HTTP.Name == "" {
		cfg.HTTP.Name = "mtt-recordings"
	}
	if cfg.HTTP.Concurrency <= 0 {
		cfg.HTTP.Concurrency = 16
	}
	if cfg.HTTP.Redactor == nil {
		cfg.HTTP.Redactor = secret.NewRedactor()
	}
	cfg.HTTP.Redactor.AddBasic(cfg.Username, cfg.Password.Reveal())
	plain := cfg.HTTP.Transport
	if plain == nil {
		plain = httpx.NewTransport(cfg.HTTP)
	}
	guard, err := newHostGuard(base, &basicAuth{user: cfg.Username, password: cfg.Password.Reveal(), next: plain}, plain)
	if err != nil {
		return nil, fmt.Errorf("recordings: mtt: %w", err)
	}
	cfg.HTTP.Transport = guard
	// Download links and their redirects lead to other hosts; the guard
	// sends credentials to the RecordsBase origin only, so those are
	// followed (never from https to http).
	cfg.HTTP.OffOriginRedirects = true
	u, _ := url.Parse(base)
	return &MTTFetcher{base: base, host: u.Host, http: httpx.New(cfg.HTTP)}, nil
}

// Source implements [Fetcher].
func (m *MTTFetcher) Source() string { return "mtt" }

// Parts implements [Fetcher]: call.Ref is the record id (h323_conf_id with
// "_" for spaces). A 404 from the URL list, or an empty list, is ErrMissing.
func (m *MTTFetcher) Parts(ctx context.Context, call Call, fn func(Part) error) error {
	op := "records " + call.Ref + " urls"
	u := m.base + "/v1/records/" + url.PathEscape(call.Ref) + "/urls"
	body, err := m.http.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}, nil)
	if err != nil {
		return missingIf404(err)
	}
	var urls []string
	if err := json.Unmarshal(body, &urls); err != nil {
		return fmt.Errorf("mtt-recordings: %s: the answer is not a JSON array of URLs: %.80q", op, body)
	}
	if len(urls) == 0 {
		return fmt.Errorf("mtt-recordings: %s: empty URL list: %w", op, ErrMissing)
	}
	for i, raw := range urls {
		n := i + 1
		du, err := checkDownloadURL(raw)
		if err != nil {
			return fmt.Errorf("mtt-recordings: %s: part %d: %w", op, n, err)
		}
		dl := du.String()
		part := Part{N: n, Host: du.Host, Kind: KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
			return m.stream(ctx, fmt.Sprintf("record %s part %d", call.Ref, n), dl)
		}}
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

// stream opens a download; a 404 or 410 is ErrMissing.
func (m *MTTFetcher) stream(ctx context.Context, op, u string) (io.ReadCloser, int64, error) {
	resp, err := m.http.Stream(ctx, op, func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	})
	if err != nil {
		return nil, 0, missingIf404(err)
	}
	return resp.Body, resp.ContentLength, nil
}

// missingIf404 marks a 404 or 410 *httpx.StatusError with ErrMissing.
func missingIf404(err error) error {
	var se *httpx.StatusError
	if errors.As(err, &se) && (se.StatusCode == http.StatusNotFound || se.StatusCode == http.StatusGone) {
		return fmt.Errorf("%w: %w", ErrMissing, err)
	}
	return err
}
