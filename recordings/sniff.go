package recordings

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// sniffLen is how many bytes are peeked to recognise the content.
const sniffLen = 12

// sniff recognises content from its first bytes and returns its MIME type
// and file extension.
func sniff(head []byte, kind string) (contentType, ext string, err error) {
	switch kind {
	case KindAudio:
		switch {
		case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
			return "audio/wav", "wav", nil
		case len(head) >= 3 && string(head[:3]) == "ID3":
			return "audio/mpeg", "mp3", nil
		case mp3Frame(head):
			return "audio/mpeg", "mp3", nil
		}
	case KindJSON:
		t := bytes.TrimLeft(head, " \t\r\n")
		if len(t) > 0 && (t[0] == '[' || t[0] == '{') {
			return "application/json", "json", nil
		}
	}
	return "", "", fmt.Errorf("%w: want %s, body starts with %s", ErrContent, kind, strconv.Quote(string(head)))
}

// mp3Frame reports whether b starts with the header of an MPEG audio
// Layer III frame (an MP3 without an ID3 tag): 11 sync bits, an MPEG
// version other than the reserved one (1, 2 or 2.5), layer III, with or
// without CRC, a valid bitrate index and a sampling rate index other than
// the reserved one.
func mp3Frame(b []byte) bool {
	if len(b) < 3 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return false
	}
	version, layer := b[1]>>3&3, b[1]>>1&3
	bitrate, rate := b[2]>>4, b[2]>>2&3
	return version != 0b01 && layer == 0b01 && bitrate != 0b1111 && rate != 0b11
}

// peek wraps body in a small buffered reader and recognises its content
// from the first bytes, which stay in the returned reader.
func peek(body io.Reader, kind string) (r io.Reader, contentType, ext string, err error) {
	br := bufio.NewReaderSize(body, 512)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, "", "", fmt.Errorf("reading the first bytes: %w", err)
	}
	if len(head) == 0 {
		return nil, "", "", fmt.Errorf("%w: empty body", ErrContent)
	}
	contentType, ext, err = sniff(head, kind)
	if err != nil {
		return nil, "", "", err
	}
	return br, contentType, ext, nil
}

// ErrTruncated is wrapped when a body ends before its Content-Length.
var ErrTruncated = errors.New("recordings: body shorter than Content-Length")

// lengthReader fails at EOF when fewer than want bytes came (want < 0:
// unknown, no check), and counts bytes into progress.
type lengthReader struct {
	r        io.Reader
	want, n  int64
	progress func(int64)
}

func (l *lengthReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if n > 0 && l.progress != nil {
		l.progress(int64(n))
	}
	if errors.Is(err, io.EOF) && l.want >= 0 && l.n != l.want {
		return n, fmt.Errorf("%w: got %d of %d bytes", ErrTruncated, l.n, l.want)
	}
	if err != nil && !errors.Is(err, io.EOF) && errors.Is(err, io.ErrUnexpectedEOF) && l.want >= 0 {
		return n, fmt.Errorf("%w: got %d of %d bytes: %v", ErrTruncated, l.n, l.want, err)
	}
	return n, err
}
