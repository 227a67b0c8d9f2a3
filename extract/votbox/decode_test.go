package votbox

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

// encodeCP1251 encodes s in windows-1251 (test helper; every rune must exist there).
func encodeCP1251(t testing.TB, s string) []byte {
	t.Helper()
	inv := map[rune]byte{}
	for b := 0x80; b <= 0xFF; b++ {
		inv[cp1251Rune(byte(b))] = byte(b)
	}
	var out []byte
	for _, r := range s {
		if r < 0x80 {
			out = append(out, byte(r))
			continue
		}
		b, ok := inv[r]
		if !ok {
			t.Fatalf("rune %q has no windows-1251 byte", r)
		}
		out = append(out, b)
	}
	return out
}

func TestCP1251Table(t *testing.T) {
	cases := map[byte]rune{
		0x41: 'A', 0xC0: 'А', 0xDF: 'Я', 0xE0: 'а', 0xFF: 'я', 0xA8: 'Ё', 0xB8: 'ё',
		0x80: 'Ђ', 0x88: '€', 0x96: '–', 0x97: '—', 0xAB: '«', 0xBB: '»', 0xB9: '№',
		0xA0: '\u00A0', 0xA5: 'Ґ', 0xB4: 'ґ', 0xB2: 'І', 0xB3: 'і', 0x98: utf8.RuneError,
	}
	for b, want := range cases {
		if got := cp1251Rune(b); got != want {
			t.Errorf("cp1251Rune(%#x) = %q, want %q", b, got, want)
		}
	}
	// Every byte but 0x98 maps to a distinct character.
	seen := map[rune]byte{}
	for b := 0; b < 256; b++ {
		r := cp1251Rune(byte(b))
		if r == utf8.RuneError {
			if b != 0x98 {
				t.Errorf("byte %#x unmapped", b)
			}
			continue
		}
		if prev, dup := seen[r]; dup {
			t.Errorf("bytes %#x and %#x both map to %q", prev, b, r)
		}
		seen[r] = byte(b)
	}
}

// oneByte is a reader returning one byte per Read, to exercise buffering.
type oneByte struct{ r io.Reader }

func (o oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(1, len(p))]) }

func TestCP1251Reader(t *testing.T) {
	want := "Задача «Тест» №1 — ёлка, Ёж: ok"
	r, err := charsetReader("Windows-1251", oneByte{bytes.NewReader(encodeCP1251(t, want))})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil || string(got) != want {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if _, err := charsetReader("koi8-r", nil); err == nil || !strings.Contains(err.Error(), "koi8-r") {
		t.Fatalf("koi8-r: %v", err)
	}
}

func TestDecode(t *testing.T) {
	const attr = `<?xml version="1.0" encoding="utf-8"?>
<response>
<task id="77" taskname="Опрос &quot;А&quot;" taskstarttime="1736748000" taskstatus="1" taskstatusstr="Выполняется"/>
<item id="1001" phonenumber="89161234567" jobstatus="3" jobstatusstr="Успешно" attempts="1" calldate="13.01.2025 09:05:00" callduration="42" opercallduration="0" callpay="150" opercallpay="0" recfilename=""/>
<item id="1002" phonenumber="89161234568" jobstatus="0" jobstatusstr="В очереди" attempts="0" newfield="x"/>
</response>`
	const elem = `<?xml version="1.0" encoding="UTF-8"?>
<response>
 <task><ID>77</ID><TaskName>Опрос "А"</TaskName><TaskStartTime>1736748000</TaskStartTime><taskstatus>1</taskstatus><TaskStatusStr>Выполняется</TaskStatusStr></task>
 <item><Id>1001</Id><PHONENUMBER>89161234567</PHONENUMBER><JobStatus>3</JobStatus><jobstatusstr>Успешно</jobstatusstr><attempts>1</attempts>
   <CallDate>13.01.2025 09:05:00</CallDate><callduration> 42 </callduration><opercallduration>0</opercallduration><callpay>150</callpay><opercallpay>0</opercallpay><recfilename/></item>
 <item id="1002"><phonenumber>89161234568</phonenumber><jobstatus>0</jobstatus><jobstatusstr>В очереди</jobstatusstr><attempts>0</attempts><NewField>x</NewField></item>
</response>`
	cp := append([]byte(`<?xml version="1.0" encoding="windows-1251"?>`), encodeCP1251(t, strings.SplitN(attr, "?>", 2)[1])...)
	cpElem := append([]byte(`<?xml version='1.0' encoding='WINDOWS-1251'?>`), encodeCP1251(t, strings.SplitN(elem, "?>", 2)[1])...)
	for name, body := range map[string][]byte{"attr": []byte(attr), "elem": []byte(elem), "attr-cp1251": cp, "elem-cp1251": cpElem} {
		t.Run(name, func(t *testing.T) {
			a, err := Decode(body, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Tasks) != 1 || len(a.Items) != 2 {
				t.Fatalf("tasks %d items %d", len(a.Tasks), len(a.Items))
			}
			task, err := DecodeTask(a.Tasks[0])
			if err != nil {
				t.Fatal(err)
			}
			if task.ID != "77" || task.Name != `Опрос "А"` || task.Start.Unix() != 1736748000 || task.Status.V != 1 || task.StatusText != "Выполняется" {
				t.Errorf("task %+v", task)
			}
			it := DecodeItem(a.Items[0], nil)
			want := Item{ID: "1001", PhoneNumber: "89161234567", JobStatus: "3", JobStatusStr: "Успешно", Attempts: "1",
				CallDate: "13.01.2025 09:05:00", CallDuration: "42", OperCallDuration: "0", CallPay: "150", OperCallPay: "0"}
			it.Raw = ""
			if it != want {
				t.Errorf("item\n got %+v\nwant %+v", it, want)
			}
			it2 := DecodeItem(a.Items[1], nil)
			if it2.ID != "1002" || it2.JobStatusStr != "В очереди" || !strings.EqualFold(it2.Extras, `{"newfield":"x"}`) {
				t.Errorf("item 2 %+v", it2)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	cp := append([]byte(`<?xml version="1.0" encoding="windows-1251"?><response><error code="4">`),
		append(encodeCP1251(t, "Задача не найдена"), []byte(`</error></response>`)...)...)
	tests := []struct {
		name       string
		body       []byte
		code, text string // an *APIError
		unreadable string // else: ErrUnreadable and this in the message
	}{
		{name: "attr code", body: []byte(`<response><error code="4">Задача не найдена</error></response>`), code: "4", text: "Задача не найдена"},
		{name: "elem code", body: []byte(`<response><error><Code>1</Code><Message>Неверный логин или пароль</Message></error></response>`), code: "1", text: "Неверный логин или пароль"},
		{name: "code elem text mixed", body: []byte(`<response><ERROR>Нет задачи<code>4</code></ERROR></response>`), code: "4", text: "Нет задачи"},
		{name: "root error", body: []byte(`<error code="2">Не указан taskid</error>`), code: "2", text: "Не указан taskid"},
		{name: "cp1251", body: cp, code: "4", text: "Задача не найдена"},
		{name: "html", body: []byte("<html><body><h1>502 Bad Gateway</h1></body></html>\n<hr>nginx"), unreadable: `<html><body><h1>502 Bad Gateway`},
		{name: "garbage", body: []byte("Fatal error: mysql_connect(): Too many connections"), unreadable: `"Fatal error: mysql_connect()`},
		{name: "truncated", body: []byte(`<?xml version="1.0"?><response><item id="1" jobstatus="3"/><item id="2" jobst`), unreadable: `<item id=\"2\" jobst`},
		{name: "unclosed", body: []byte(`<response><item id="1" jobstatus="3"/>`), unreadable: "unexpected EOF"},
		{name: "empty", body: nil, unreadable: `body starts ""`},
		{name: "unknown charset", body: []byte(`<?xml version="1.0" encoding="koi8-r"?><response/>`), unreadable: "koi8-r"},
		{name: "cp1251 undeclared", body: append([]byte("<response><task taskname=\""), 0xC0, 0xC1, '"', '/', '>', '<', '/', 'r', 'e', 's', 'p', 'o', 'n', 's', 'e', '>'), unreadable: `\xc0\xc1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode(tt.body, "")
			if err == nil {
				t.Fatal("no error")
			}
			var apiErr *APIError
			if tt.unreadable == "" {
				if !errors.As(err, &apiErr) || apiErr.Code != tt.code || apiErr.Text != tt.text {
					t.Fatalf("got %v, want VotBox error %s %q", err, tt.code, tt.text)
				}
				return
			}
			if !errors.Is(err, ErrUnreadable) || errors.As(err, &apiErr) {
				t.Fatalf("got %v, want ErrUnreadable", err)
			}
			if !strings.Contains(err.Error(), tt.unreadable) {
				t.Fatalf("error %q does not contain %q", err, tt.unreadable)
			}
		})
	}
	if got := (&APIError{Code: "4", Text: "Задача не найдена"}).Error(); got != `VotBox error 4 "Задача не найдена"` {
		t.Errorf("APIError text %s", got)
	}
}

func TestDecodeCharsetHint(t *testing.T) {
	body := append([]byte(`<response><task id="1" taskname="`), encodeCP1251(t, "Привет")...)
	body = append(body, `"/></response>`...)
	a, err := Decode(body, "windows-1251")
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := a.Tasks[0].Field("TASKNAME"); v != "Привет" {
		t.Fatalf("taskname %q", v)
	}
}

func TestElementXMLRoundTrip(t *testing.T) {
	a, err := Decode([]byte(`<response><item id="5" note="a&amp;b &lt;c&gt; &quot;q&quot;"><Extra>x &amp; y</Extra></item></response>`), "")
	if err != nil {
		t.Fatal(err)
	}
	raw := a.Items[0].XML()
	b, err := Decode([]byte(raw), "")
	if err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	if v, _ := b.Items[0].Field("note"); v != `a&b <c> "q"` {
		t.Errorf("note %q in %s", v, raw)
	}
	if v, _ := b.Items[0].Field("extra"); v != "x & y" {
		t.Errorf("extra %q in %s", v, raw)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0" encoding="utf-8"?><response><task id="1" taskname="t"/><item id="2" jobstatus="3" callpay="150"/></response>`), "")
	f.Add([]byte(`<response><item><ID>2</ID><JobStatus>1</JobStatus></item></response>`), "")
	f.Add([]byte(`<response><error code="4">Задача не найдена</error></response>`), "")
	f.Add([]byte("<?xml version=\"1.0\" encoding=\"windows-1251\"?><response><task taskname=\"\xc0\xe1\xb8\"/></response>"), "")
	f.Add([]byte("<response><task taskname=\"\xc0\"/></response>"), "windows-1251")
	f.Add([]byte(`<response><item id="1"`), "")
	f.Fuzz(func(t *testing.T, body []byte, hint string) {
		a, err := Decode(body, hint)
		if err != nil {
			var apiErr *APIError
			if !errors.As(err, &apiErr) && !errors.Is(err, ErrUnreadable) {
				t.Fatalf("error neither APIError nor ErrUnreadable: %v", err)
			}
			return
		}
		// Every item survives re-encoding with the same fields.
		for _, it := range a.Items {
			raw := it.XML()
			if !utf8.ValidString(raw) {
				t.Fatalf("XML() not UTF-8: %q", raw)
			}
			b, err := Decode([]byte("<r>"+raw+"</r>"), "")
			if err != nil {
				t.Fatalf("re-decoding %q: %v", raw, err)
			}
			if len(b.Items) != 1 {
				t.Fatalf("re-decoding %q: %d items", raw, len(b.Items))
			}
			x, y := DecodeItem(it, nil), DecodeItem(b.Items[0], nil)
			if x != y {
				t.Fatalf("re-decoding %q:\n got %+v\nwant %+v", raw, y, x)
			}
		}
	})
}
