package receive

import (
	"bytes"
	"net"
)

// VotBox's document writes its notifications with bare spaces in the query
// ("…&DT=01.01.2012 10:00:00"). A sender that puts them on the wire like
// that makes a request line Go's HTTP server refuses (400, "malformed HTTP
// version") before any handler sees it, and every event with a DT would be
// lost. [Listener] repairs such a request line: the spaces of the request
// target are sent on as %20. It repairs the first request of each
// connection (a PHP notifier opens one per event); a later request on a
// kept-alive connection passes unchanged.

// maxRequestLine bounds the bytes held while looking for the end of the
// first request line; a longer line passes unchanged.
const maxRequestLine = 16 << 10

// Listener wraps l so that the first request line of every connection has
// the spaces of its target percent-encoded.
func Listener(l net.Listener) net.Listener { return &spaceListener{l} }

type spaceListener struct{ net.Listener }

func (l *spaceListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &spaceConn{Conn: c}, nil
}

type spaceConn struct {
	net.Conn
	buf  []byte // the repaired start of the stream, not yet read
	done bool   // the first line was handled
}

func (c *spaceConn) Read(p []byte) (int, error) {
	if !c.done {
		c.done = true
		line := make([]byte, 0, 512)
		tmp := make([]byte, 512)
		for !bytes.Contains(line, []byte("\n")) && len(line) < maxRequestLine {
			n, err := c.Conn.Read(tmp)
			line = append(line, tmp[:n]...)
			if err != nil {
				if len(line) == 0 {
					return 0, err
				}
				break
			}
		}
		c.buf = fixRequestLine(line)
	}
	if len(c.buf) > 0 {
		n := copy(p, c.buf)
		c.buf = c.buf[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// fixRequestLine percent-encodes the spaces inside the request target of
// the first line in b ("GET /a?b=1 2 HTTP/1.1"), leaving the rest of b.
func fixRequestLine(b []byte) []byte {
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		return b
	}
	line := bytes.TrimRight(b[:end], "\r")
	first := bytes.IndexByte(line, ' ')
	last := bytes.LastIndexByte(line, ' ')
	if first < 0 || last <= first || !bytes.HasPrefix(line[last+1:], []byte("HTTP/")) {
		return b
	}
	target := line[first+1 : last]
	if !bytes.Contains(target, []byte(" ")) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, line[:first+1]...)
	out = append(out, bytes.ReplaceAll(target, []byte(" "), []byte("%20"))...)
	out = append(out, line[last:]...)
	out = append(out, b[len(line):]...)
	return out
}
