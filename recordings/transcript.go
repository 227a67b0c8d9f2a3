package recordings

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/calletl/calletl/storage"
)

// MaxTranscriptBytes bounds a transcript body: it is read whole (to be
// validated before anything is stored), unlike recordings.
const MaxTranscriptBytes = 32 << 20

// TranscriptKey returns the key of a call's raw transcript JSON.
func TranscriptKey(source, date, callID string) string {
	return CallPrefix(source, date, callID) + transcriptName
}

const transcriptName = "transcript.json"

// sttWord is one element of a T2 transcript; pointers tell a missing field
// from a zero one.
type sttWord struct {
	Channel   *string  `json:"channel"`
	StartTime *float64 `json:"startTime"`
	EndTime   *float64 `json:"endTime"`
	Word      *string  `json:"word"`
}

// parseTranscript checks that b is a JSON array of words with every field
// present and returns them as rows of c (Seq is the index).
func parseTranscript(b []byte, c Call, runID string) ([]Word, error) {
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) == 0 || t[0] != '[' {
		n := min(len(t), sniffLen)
		return nil, fmt.Errorf("%w: want a JSON array, body starts with %s", ErrContent, strconv.Quote(string(t[:n])))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	var in []sttWord
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("%w: transcript: %w", ErrContent, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: transcript: data after the array", ErrContent)
	}
	out := make([]Word, len(in))
	for i, w := range in {
		if w.Channel == nil || w.StartTime == nil || w.EndTime == nil || w.Word == nil {
			return nil, fmt.Errorf("%w: transcript word %d lacks channel, startTime, endTime or word", ErrContent, i)
		}
		out[i] = Word{Source: c.Source, Date: c.Date, CallID: c.CallID, Seq: int32(i), Channel: *w.Channel,
			StartS: *w.StartTime, EndS: *w.EndTime, Word: *w.Word, RunID: runID}
	}
	return out, nil
}

// transcript resolves call c's transcript for this attempt: the manifest
// row (part TranscriptPart) and, when this attempt stored it, its words.
// stored is the key already in the store (a crash after the upload), or "".
// Words are written only by the attempt that stores the transcript, so a
// later attempt of the call (a recording part failed) records the row ok
// again without fetching or writing words. A failure of the store stops
// the run (ctx is then done and the row is to be dropped).
func (r *runner) transcript(ctx context.Context, tf TranscriptFetcher, c Call, base Entry, stored string) (Entry, []Word) {
	e := base
	e.Part = TranscriptPart
	key := TranscriptKey(c.Source, c.Date, c.CallID)
	// fail is the row of a failed transcript, unless the failure is the
	// store's.
	fail := func(err error) (Entry, []Word) {
		r.stopIfStore(err)
		return failed(e, TranscriptPart, fmt.Errorf("transcript: %w", err)), nil
	}
	if c.TranscriptOK {
		info, err := r.stat(ctx, key)
		if err != nil {
			return fail(asStoreErr(err))
		}
		return okEntry(e, info), nil
	}
	if stored != "" {
		// Stored by an attempt whose manifest was never committed: its
		// words were not committed either.
		words, info, err := r.readStoredTranscript(ctx, c, stored)
		if err != nil {
			return fail(err)
		}
		return okEntry(e, info), words
	}
	p := tf.Transcript(c.Ref)
	release, err := r.hostSlot(ctx, p.Host)
	if err != nil {
		return failed(e, TranscriptPart, err), nil
	}
	body, length, err := p.Open(ctx)
	if err != nil {
		release()
		if errors.Is(err, ErrMissing) {
			e.Status, e.Error = StatusMissing, err.Error()
			return e, nil
		}
		return failed(e, TranscriptPart, fmt.Errorf("transcript: %w", err)), nil
	}
	b, err := readTranscript(&lengthReader{r: body, want: length, progress: func(n int64) { r.cfg.Progress.Bytes(n) }})
	body.Close()
	release()
	if err != nil {
		return failed(e, TranscriptPart, fmt.Errorf("transcript: %w", err)), nil
	}
	words, err := parseTranscript(b, c, r.run.ID)
	if err != nil {
		return failed(e, TranscriptPart, err), nil
	}
	// The body is in memory: a failing Put is the store's.
	info, err := r.cfg.Store.Put(ctx, key, bytes.NewReader(b), "application/json")
	switch {
	case errors.Is(err, storage.ErrExists):
		// Stored meanwhile: keep the stored object and its words.
		words, info, err = r.readStoredTranscript(ctx, c, key)
	case err == nil:
		r.bytes.Add(info.Size)
	default:
		err = asStoreErr(err)
	}
	if err != nil {
		return fail(err)
	}
	return okEntry(e, info), words
}

// readStoredTranscript reads a transcript back from the store: its words
// and its Info, with the SHA-256 of what was read. Errors of the store are
// *storeError; a stored body that is not a valid transcript is not.
func (r *runner) readStoredTranscript(ctx context.Context, c Call, key string) ([]Word, storage.Info, error) {
	info, err := r.cfg.Store.Stat(ctx, key)
	if err != nil {
		return nil, storage.Info{}, asStoreErr(err)
	}
	rc, err := r.cfg.Store.Open(ctx, key)
	if err != nil {
		return nil, storage.Info{}, asStoreErr(err)
	}
	defer rc.Close()
	b, err := readTranscript(rc)
	if err != nil {
		if !errors.Is(err, ErrContent) {
			err = asStoreErr(err)
		}
		return nil, storage.Info{}, err
	}
	if int64(len(b)) != info.Size {
		return nil, storage.Info{}, asStoreErr(fmt.Errorf("read %d bytes of %s, Stat says %d", len(b), key, info.Size))
	}
	sum := sha256.Sum256(b)
	info.SHA256 = hex.EncodeToString(sum[:])
	words, err := parseTranscript(b, c, r.run.ID)
	return words, info, err
}

// readTranscript reads a whole transcript body, up to MaxTranscriptBytes.
func readTranscript(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxTranscriptBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxTranscriptBytes {
		return nil, fmt.Errorf("%w: transcript larger than %d bytes", ErrContent, MaxTranscriptBytes)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty body", ErrContent)
	}
	return b, nil
}
