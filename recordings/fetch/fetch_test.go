package fetch

import "testing"

func TestCheckDownloadURL(t *testing.T) {
	for _, u := range []string{"http://rs.mtt.ru/1/a_1.wav", "https://rc.mtt.ru/x/a_1.wav"} {
		if _, err := CheckDownloadURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	for _, u := range []string{"ftp://x/a", "/rel/a.wav", "http://u:p@h/a.wav", "http://h/../../etc/a_1.wav", "http://h/1/..%2F..%2Fa_1.wav", "file:///etc/passwd"} {
		if _, err := CheckDownloadURL(u); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
}
