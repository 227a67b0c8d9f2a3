package sandbox

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Start listens on addr (for example "127.0.0.1:0") and serves h over plain
// HTTP until stop is called or ctx ends. baseURL is "http://host:port" with
// the port actually bound. stop closes the listener and every open
// connection and waits until the server has returned; it may be called more
// than once and from any goroutine.
func Start(ctx context.Context, addr string, h http.Handler) (baseURL string, stop func(), err error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln) // always returns an error; ErrServerClosed after stop
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() { _ = srv.Close() })
		<-served
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-served:
		}
	}()
	return "http://" + ln.Addr().String(), stop, nil
}
