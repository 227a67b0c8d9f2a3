package mtt

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/calletl/calletl/extract/httpx"
	"github.com/calletl/calletl/recordings/fetch"
	"github.com/calletl/calletl/secret"
)

// DefaultRecordsBase is the MTT recordings API.
const DefaultRecordsBase = "https://rc.mtt.ru"

// Recordings fetches MTT recordings: GET {base}/v1/records/<id>/urls with
// the client's Basic auth gives the URLs of the parts (WAV), in order,
// possibly on other hosts and over plain http; those are downloaded
// without credentials.
type Recordings struct {
	base string
	http *httpx.Client
	api  *Client // callback recordings: their URLs come from getCallBackFollowmeCallInfo
}

var _ fetch.Fetcher = (*Recordings)(nil)

// Recordings returns the recordings fetcher on the client's credentials.
// base is the recordings API (DefaultRecordsBase when empty); h tunes its
// HTTP client (Concurrency: default 16). A Transport set in h is wrapped:
// credentials are still sent to the base origin only.
func (c *Client) Recordings(base string, h httpx.Config) (*Recordings, error) {
	base = strings.TrimRight(cmp.Or(base, DefaultRecordsBase), "/")
	if h.Name == "" {
		h.Name = Name + "-recordings"
	}
	if h.Concurrency <= 0 {
		h.Concurrency = 16
	}
	if h.Redactor == nil {
		h.Redactor = secret.NewRedactor()
	}
	h.Redactor.AddBasic(c.cfg.Username, c.cfg.Password.Reveal())
	plain := h.Transport
	if plain == nil {
		plain = httpx.NewTransport(h)
	}
	guard, err := fetch.NewGuard(base, authorizer{c: c, next: plain}, plain)
	if err != nil {
		return nil, fmt.Errorf("mtt: recordings: %w", err)
	}
	h.Transport = guard
	// Download links and their redirects lead to other hosts; the guard
	// sends credentials to the base origin only, so those are followed
	// (never from https to http).
	h.OffOriginRedirects = true
	return &Recordings{base: base, http: httpx.New(h), api: c}, nil
}

// authorizer adds the client's credentials to every request.
type authorizer struct {
	c    *Client
	next http.RoundTripper
}

func (a authorizer) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	a.c.authorize(req)
	return a.next.RoundTrip(req)
}

// Source implements fetch.Fetcher.
func (m *Recordings) Source() string { return Name }

// Parts implements fetch.Fetcher: ref is the record id (h323_conf_id with
// "_" for spaces). A 404 from the URL list, or an empty list, is
// fetch.ErrMissing.
func (m *Recordings) Parts(ctx context.Context, ref string, fn func(fetch.Part) error) error {
	if _, _, _, ok := parseCallbackRef(ref); ok {
		return m.callbackParts(ctx, ref, fn)
	}
	op := "records " + ref + " urls"
	u := m.base + recordsPath(ref, m.api.cfg.RecordingFormat)
	body, err := m.http.Do(ctx, op, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}, nil)
	if err != nil {
		return fetch.MissingIf404(err)
	}
	var urls []string
	if err := json.Unmarshal(body, &urls); err != nil {
		return fmt.Errorf("mtt-recordings: %s: the answer is not a JSON array of URLs: %.80q", op, body)
	}
	if len(urls) == 0 {
		return fmt.Errorf("mtt-recordings: %s: empty URL list: %w", op, fetch.ErrMissing)
	}
	for i, raw := range urls {
		n := i + 1
		du, err := fetch.CheckDownloadURL(raw)
		if err != nil {
			return fmt.Errorf("mtt-recordings: %s: part %d: %w", op, n, err)
		}
		dl := du.String()
		part := fetch.Part{N: n, Host: du.Host, Kind: fetch.KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
			return fetch.Stream(ctx, m.http, fmt.Sprintf("record %s part %d", ref, n), dl)
		}}
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}
