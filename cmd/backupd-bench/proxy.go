package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
)

// countingProxy sits in front of a peer and counts the request body bytes
// each call delivered, the way executors/testsupport/countingproxy does
// for tests. It forwards the Host header it received, so SigV4 signatures
// made for its address stay valid and the drive-emulator's session URLs
// point back at it.
type countingProxy struct {
	URL string

	srv   *http.Server
	ln    net.Listener
	mu    sync.Mutex
	calls []*proxyCall
	conns atomic.Int64 // TCP connections clients opened to the proxy
}

type proxyCall struct {
	Method string
	Path   string
	Query  url.Values
	// Bytes is the body the server received; Payload is the content it
	// carries (X-Amz-Decoded-Content-Length for aws-chunked bodies, else
	// Bytes).
	Bytes        int64
	decoded      int64
	ContentRange string // Drive chunks: "bytes START-END/TOTAL"
}

func (c proxyCall) Payload() int64 {
	if c.decoded >= 0 {
		return c.decoded
	}
	return c.Bytes
}

func startCountingProxy(target string) (*countingProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &countingProxy{ln: ln, URL: "http://" + ln.Addr().String()}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := &proxyCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), decoded: -1, ContentRange: r.Header.Get("Content-Range")}
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				call.decoded = n
			}
		}
		p.mu.Lock()
		p.calls = append(p.calls, call)
		p.mu.Unlock()
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingReader{ReadCloser: r.Body, add: func(n int) {
				p.mu.Lock()
				call.Bytes += int64(n)
				p.mu.Unlock()
			}}
		}
		rp.ServeHTTP(w, r)
	})}
	p.srv.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	go func() { _ = p.srv.Serve(ln) }()
	return p, nil
}

func (p *countingProxy) close() { _ = p.srv.Close() }

// snapshot copies the calls so far.
func (p *countingProxy) snapshot() []proxyCall {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]proxyCall, len(p.calls))
	for i, c := range p.calls {
		out[i] = *c
	}
	return out
}

func (p *countingProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
	p.conns.Store(0)
}

// uploadedBytes sums request bodies of PUT and POST calls.
func (p *countingProxy) uploadedBytes() int64 {
	var n int64
	for _, c := range p.snapshot() {
		if c.Method == http.MethodPut || c.Method == http.MethodPost {
			n += c.Bytes
		}
	}
	return n
}

type countingReader struct {
	io.ReadCloser
	add func(int)
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.ReadCloser.Read(b)
	if n > 0 {
		c.add(n)
	}
	return n, err
}
