package receive

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The document's literal notification, bare spaces in the query, is
// refused by Go's server unless the listener repairs the request line.
func TestBareSpacesInRequestLine(t *testing.T) {
	r := newRig(t, t.TempDir())
	raw := "GET /v1/votbox/votbox/" + testSecret + "?CALLID=4654&STATE=CALLOUT&ANI=9110000000&DNIS=8123350515&DT=01.01.2012 10:00:00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	send := func(addr string) int {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := send(r.srv.Listener.Addr().String()); st != http.StatusBadRequest {
		t.Fatalf("plain listener: %d; the test no longer shows the problem", st)
	}
	srv := httptest.NewUnstartedServer(r.h)
	srv.Listener = Listener(srv.Listener)
	srv.Start()
	defer srv.Close()
	if st := send(srv.Listener.Addr().String()); st != http.StatusOK {
		t.Fatalf("repairing listener: %d, want 200", st)
	}
	if n := r.h.Counts.Stored.Load(); n != 1 {
		t.Errorf("stored %d events, want 1", n)
	}
}

func TestFixRequestLine(t *testing.T) {
	for in, want := range map[string]string{
		"GET /a?DT=01.01.2012 10:00:00 HTTP/1.1\r\nHost: x\r\n": "GET /a?DT=01.01.2012%2010:00:00 HTTP/1.1\r\nHost: x\r\n",
		"GET /a?b=1 HTTP/1.1\r\n":                               "GET /a?b=1 HTTP/1.1\r\n",
		"GET /a b c HTTP/1.0\n":                                 "GET /a%20b%20c HTTP/1.0\n",
		"GET /a b c\r\n":                                        "GET /a b c\r\n", // not HTTP: unchanged
		"GET /a b":                                              "GET /a b",       // no line end yet
		"":                                                      "",
	} {
		if got := string(fixRequestLine([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
}
