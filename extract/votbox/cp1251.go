package votbox

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// cp1251High maps the bytes 0x80–0xBF of windows-1251 to Unicode. 0xC0–0xFF
// are А–я (U+0410–U+044F) and are computed; 0x00–0x7F are ASCII. 0x98 is
// unassigned in windows-1251 and decodes to U+FFFD.
var cp1251High = [64]rune{
	// 0x80
	'\u0402', '\u0403', '\u201A', '\u0453', '\u201E', '\u2026', '\u2020', '\u2021',
	'\u20AC', '\u2030', '\u0409', '\u2039', '\u040A', '\u040C', '\u040B', '\u040F',
	// 0x90
	'\u0452', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
	'\uFFFD', '\u2122', '\u0459', '\u203A', '\u045A', '\u045C', '\u045B', '\u045F',
	// 0xA0
	'\u00A0', '\u040E', '\u045E', '\u0408', '\u00A4', '\u0490', '\u00A6', '\u00A7',
	'\u0401', '\u00A9', '\u0404', '\u00AB', '\u00AC', '\u00AD', '\u00AE', '\u0407',
	// 0xB0
	'\u00B0', '\u00B1', '\u0406', '\u0456', '\u0491', '\u00B5', '\u00B6', '\u00B7',
	'\u0451', '\u2116', '\u0454', '\u00BB', '\u0458', '\u0405', '\u0455', '\u0457',
}

// cp1251Rune returns the Unicode character of windows-1251 byte b.
func cp1251Rune(b byte) rune {
	switch {
	case b < 0x80:
		return rune(b)
	case b < 0xC0:
		return cp1251High[b-0x80]
	default:
		return 0x0410 + rune(b-0xC0)
	}
}

// appendCP1251 appends the UTF-8 encoding of the windows-1251 text src to dst.
func appendCP1251(dst, src []byte) []byte {
	for _, b := range src {
		if b < 0x80 {
			dst = append(dst, b)
			continue
		}
		dst = utf8.AppendRune(dst, cp1251Rune(b))
	}
	return dst
}

// cp1251Reader converts a windows-1251 stream to UTF-8.
type cp1251Reader struct {
	r   io.Reader
	in  []byte
	out []byte // converted, not yet returned
	err error  // the input's error, returned once out is drained
}

func (c *cp1251Reader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		n, err := c.r.Read(c.in)
		c.out = appendCP1251(c.out[:0], c.in[:n])
		c.err = err
		if n == 0 && err == nil {
			return 0, nil
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}

// charsetKind classifies a charset label: "utf-8", "windows-1251" or "".
func charsetKind(label string) string {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return "utf-8"
	case "windows-1251", "cp1251", "cp-1251", "win-1251", "x-cp1251", "win1251", "windows1251":
		return "windows-1251"
	}
	return ""
}

// charsetReader is the xml.Decoder's CharsetReader: it accepts UTF-8 (and
// ASCII) and windows-1251, the two encodings a PHP service of VotBox's age
// sends.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch charsetKind(label) {
	case "utf-8":
		return input, nil
	case "windows-1251":
		return &cp1251Reader{r: input, in: make([]byte, 4096)}, nil
	}
	return nil, fmt.Errorf("unsupported charset %q (want utf-8 or windows-1251)", label)
}
