package sandbox

// A tiny windows-1251 table, enough for the emulator's texts:
// golang.org/x/text is not a direct dependency. ASCII is kept,
// U+0410–U+044F (А–я) is 0xC0–0xFF, Ё/ё are 0xA8/0xB8. Other runes are
// written as '?' and other bytes read as U+FFFD.

// cp1251Encode returns s, UTF-8, in windows-1251.
func cp1251Encode(s string) []byte {
	b := make([]byte, 0, len(s))
	for _, c := range s {
		switch {
		case c < 0x80:
			b = append(b, byte(c))
		case c >= 0x410 && c <= 0x44F:
			b = append(b, byte(c-0x410+0xC0))
		case c == 'Ё':
			b = append(b, 0xA8)
		case c == 'ё':
			b = append(b, 0xB8)
		default:
			b = append(b, '?')
		}
	}
	return b
}

// cp1251Decode returns b, windows-1251, in UTF-8.
func cp1251Decode(b []byte) string {
	r := make([]rune, 0, len(b))
	for _, c := range b {
		switch {
		case c < 0x80:
			r = append(r, rune(c))
		case c >= 0xC0:
			r = append(r, rune(c)-0xC0+0x410)
		case c == 0xA8:
			r = append(r, 'Ё')
		case c == 0xB8:
			r = append(r, 'ё')
		default:
			r = append(r, '\uFFFD')
		}
	}
	return string(r)
}
