// Package countingproxy is a reverse proxy for tests that sits in front of a
// real server (versitygw, drive-emulator) and counts the request body bytes
// it forwards, by method and path, so a test can prove how much a client
// sent (for example: a resumed upload re-sent at most one part). It can
// also cut one response after a number of body bytes, to test downloads
// that must resume.
//
// The proxy forwards the Host header it received, so SigV4 signatures made
// for the proxy's address stay valid: point the client at Proxy.URL.
package countingproxy

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Call is one request the proxy forwarded.
type Call struct {
	Method        string
	Path          string      // URL path, unescaped
	Query         string      // raw query
	Header        http.Header // request headers as received
	RequestBytes  int64       // request body bytes forwarded
	ResponseBytes int64       // response body bytes delivered to the client
	Status        int
	Cut           bool // the response was cut on purpose
}

// Proxy counts what passes through it.
type Proxy struct {
	URL string

	srv    *httptest.Server
	mu     sync.Mutex
	calls  []*Call
	cuts   []*cutRule
	target *url.URL
}

type cutRule struct {
	method string
	match  func(path string) bool
	after  int64
	used   bool
}

// New starts a proxy to target (a base URL such as http://127.0.0.1:7070),
// stopped at the end of the test.
func New(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		t.Fatalf("countingproxy: bad target %q: %v", target, err)
	}
	p := &Proxy{target: u}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host // keep the signed Host
		},
		ModifyResponse: p.modifyResponse,
		ErrorLog:       log.New(io.Discard, "", 0), // cuts are on purpose
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := &Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		p.mu.Lock()
		p.calls = append(p.calls, call)
		p.mu.Unlock()
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, add: func(n int) { p.mu.Lock(); call.RequestBytes += int64(n); p.mu.Unlock() }}
		}
		r = r.WithContext(withCall(r.Context(), call))
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	p.URL = p.srv.URL
	return p
}

func (p *Proxy) modifyResponse(resp *http.Response) error {
	call := callFrom(resp.Request.Context())
	if call == nil {
		return nil
	}
	p.mu.Lock()
	call.Status = resp.StatusCode
	var rule *cutRule
	for _, c := range p.cuts {
		if !c.used && c.method == resp.Request.Method && c.match(call.Path) && resp.StatusCode < 300 {
			c.used, rule = true, c
			break
		}
	}
	p.mu.Unlock()
	body := &countingBody{ReadCloser: resp.Body, add: func(n int) { p.mu.Lock(); call.ResponseBytes += int64(n); p.mu.Unlock() }}
	if rule != nil {
		p.mu.Lock()
		call.Cut = true
		p.mu.Unlock()
		body.limit, body.limited = rule.after, true
	}
	resp.Body = body
	return nil
}

// CutResponseOnce makes the next successful response to method on a path
// for which match returns true stop after `after` body bytes: the
// connection is closed mid-body, as a network failure would.
func (p *Proxy) CutResponseOnce(method string, match func(path string) bool, after int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cuts = append(p.cuts, &cutRule{method: method, match: match, after: after})
}

// Calls returns a copy of every call so far, in arrival order.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Call, len(p.calls))
	for i, c := range p.calls {
		out[i] = *c
	}
	return out
}

// RequestBytes sums the request body bytes of calls with this method
// ("" = any) whose path starts with pathPrefix.
func (p *Proxy) RequestBytes(method, pathPrefix string) int64 {
	var n int64
	for _, c := range p.Calls() {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, pathPrefix) {
			n += c.RequestBytes
		}
	}
	return n
}

// Count is how many calls with this method ("" = any) went to paths
// starting with pathPrefix.
func (p *Proxy) Count(method, pathPrefix string) int {
	n := 0
	for _, c := range p.Calls() {
		if (method == "" || c.Method == method) && strings.HasPrefix(c.Path, pathPrefix) {
			n++
		}
	}
	return n
}

// ByMethodAndPath sums request body bytes per "METHOD path".
func (p *Proxy) ByMethodAndPath() map[string]int64 {
	out := map[string]int64{}
	for _, c := range p.Calls() {
		out[c.Method+" "+c.Path] += c.RequestBytes
	}
	return out
}

// Reset forgets the calls counted so far (cut rules stay).
func (p *Proxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = nil
}

// String summarises the counts, for test failure messages.
func (p *Proxy) String() string {
	m := p.ByMethodAndPath()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s: %d bytes\n", k, m[k])
	}
	return b.String()
}

// countingBody counts bytes read and, when limited, fails after limit
// bytes so the reverse proxy aborts the connection mid-body.
type countingBody struct {
	io.ReadCloser
	add     func(int)
	limited bool
	limit   int64
}

func (c *countingBody) Read(b []byte) (int, error) {
	if c.limited {
		if c.limit <= 0 {
			return 0, errCut
		}
		if int64(len(b)) > c.limit {
			b = b[:c.limit]
		}
	}
	n, err := c.ReadCloser.Read(b)
	if n > 0 {
		c.add(n)
		c.limit -= int64(n)
	}
	return n, err
}

var errCut = fmt.Errorf("countingproxy: response cut on purpose")
