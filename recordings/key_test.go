package recordings

import (
	"errors"
	"strings"
	"testing"

	"github.com/calletl/calletl/storage"
)

func TestSegment(t *testing.T) {
	for _, tc := range []struct{ in, prefix string }{
		{"2B23D937_BD9BCF86", "2B23D937_BD9BCF86"},
		{"2B23D937 BD9BCF86", "2B23D937_BD9BCF86-"},
		{"../../x", "_._.._x-"},
		{".hidden", "_hidden-"},
		{"a/b", "a_b-"},
		{"", "-"},
		{"call=1", "call_1-"},
	} {
		got := Segment(tc.in)
		if got != tc.prefix && !(strings.HasSuffix(tc.prefix, "-") && strings.HasPrefix(got, tc.prefix) && len(got) == len(tc.prefix)+8) {
			t.Errorf("Segment(%q) = %q; want %q(+hash)", tc.in, got, tc.prefix)
		}
		if err := storage.CheckKey(PartKey("mtt", "2026-11-20", tc.in, 1, "wav")); err != nil {
			t.Errorf("key for %q: %v", tc.in, err)
		}
	}
	if Segment("a b") == Segment("a/b") {
		t.Error("distinct ids collide")
	}
	long := strings.Repeat("x", 500)
	if err := storage.CheckKey(PartKey("mtt", "2026-11-20", long, 1, "wav")); err != nil {
		t.Error(err)
	}
	k := PartKey("mtt", "2026-11-20", "../../etc/passwd", 2, "../wav")
	if !strings.HasPrefix(k, "recordings/source=mtt/date=2026-11-20/") || strings.Count(k, "/") != 4 {
		t.Errorf("traversal key %s", k)
	}
	if n, ok := partOfKey("part-12.wav"); !ok || n != 12 {
		t.Errorf("partOfKey = %d %v", n, ok)
	}
	for _, bad := range []string{"part-.wav", "part-01.wav", "x-1.wav", "part-1"} {
		if _, ok := partOfKey(bad); ok {
			t.Errorf("partOfKey(%q) accepted", bad)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		head, kind, ct string
	}{
		{"RIFF\x00\x00\x00\x00WAVEfmt ", KindAudio, "audio/wav"},
		{"ID3\x04\x00\x00\x00\x00\x00\x00xx", KindAudio, "audio/mpeg"},
		{"\xff\xfb\x90\x64", KindAudio, "audio/mpeg"}, // MPEG-1 layer III
		{"\xff\xfa\x90\x64", KindAudio, "audio/mpeg"}, // the same with CRC
		{"\xff\xf3\x90\x64", KindAudio, "audio/mpeg"}, // MPEG-2
		{"\xff\xf2\x90\x64", KindAudio, "audio/mpeg"},
		{"\xff\xe3\x48\x64", KindAudio, "audio/mpeg"}, // MPEG-2.5
		{"\xff\xfd\x90\x64", KindAudio, ""},           // layer II
		{"\xff\xeb\x90\x64", KindAudio, ""},           // reserved version
		{"\xff\xfb\xf0\x64", KindAudio, ""},           // bad bitrate
		{"\xff\xfb\x9c\x64", KindAudio, ""},           // reserved sampling rate
		{"\xff\xfb", KindAudio, ""},                   // too short to tell
		{"\xff\xd8\xff\xe0", KindAudio, ""},           // JPEG
		{"<html><body>", KindAudio, ""},
		{`{"details":"Record not found"}`, KindAudio, ""},
		{"RIFF\x00\x00\x00\x00AVI ", KindAudio, ""},
		{` [{"channel":"A"}]`, KindJSON, "application/json"},
		{"<html>", KindJSON, ""},
	} {
		ct, _, err := sniff([]byte(tc.head[:min(len(tc.head), sniffLen)]), tc.kind)
		if ct != tc.ct || (tc.ct == "") != errors.Is(err, ErrContent) {
			t.Errorf("sniff(%q, %s) = %q, %v; want %q", tc.head, tc.kind, ct, err, tc.ct)
		}
	}
}
