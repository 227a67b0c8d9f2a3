package mtt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/calletl/calletl/recordings/fetch"
)

// recordsPath is the path of the URL list of record id ref in format:
// /v1/records/<id>/urls (WAV) or, for mp3, the document's other URL,
// /v2/records/<id>/urls?format=mp3.
func recordsPath(ref, format string) string {
	if format == FormatMP3 {
		return "/v2/records/" + url.PathEscape(ref) + "/urls?format=mp3"
	}
	return "/v1/records/" + url.PathEscape(ref) + "/urls"
}

// callbackParts lists the recording of a callback call (a CallbackRef):
// getCallBackFollowmeCallInfo is asked again, on the API's credentials, for
// fresh download URLs (the document says they live a limited time), and
// the parts are leg A's files then leg B's, numbered from 1 in that order
// (one file each: part 1 is A, part 2 B). The files are downloaded without
// credentials, like every MTT download link. No URL at all, or a callback
// MTT no longer knows, is fetch.ErrMissing.
func (m *Recordings) callbackParts(ctx context.Context, ref string, fn func(fetch.Part) error) error {
	cust, id, seq, _ := parseCallbackRef(ref)
	a, err := m.api.Callback(ctx, cust, id)
	if err != nil {
		return fetch.MissingIf404(fmt.Errorf("mtt-recordings: callback %s: %w", id, missingIfNoData(err)))
	}
	if seq > len(a.Calls) {
		return fmt.Errorf("mtt-recordings: callback %s: the answer has no element %d: %w", id, seq, fetch.ErrMissing)
	}
	info := &a.Calls[seq-1]
	urls := append(append([]string(nil), info.RecordA...), info.RecordB...)
	if len(urls) == 0 {
		return fmt.Errorf("mtt-recordings: callback %s: no record URL: %w", id, fetch.ErrMissing)
	}
	for i, raw := range urls {
		n := i + 1
		du, err := fetch.CheckDownloadURL(raw)
		if err != nil {
			return fmt.Errorf("mtt-recordings: callback %s: part %d: %w", id, n, err)
		}
		dl := du.String()
		part := fetch.Part{N: n, Host: du.Host, Kind: fetch.KindAudio, Open: func(ctx context.Context) (io.ReadCloser, int64, error) {
			return fetch.Stream(ctx, m.http, fmt.Sprintf("callback %s record part %d", id, n), dl)
		}}
		if err := fn(part); err != nil {
			return err
		}
	}
	return nil
}

// missingIfNoData marks a -32001 answer as fetch.ErrMissing: MTT no longer
// has the callback's data, so its recording cannot be fetched.
func missingIfNoData(err error) error {
	if errors.Is(err, ErrNoData) {
		return fmt.Errorf("%w: %w", fetch.ErrMissing, err)
	}
	return err
}
