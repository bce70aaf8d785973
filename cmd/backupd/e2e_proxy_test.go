package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// slowProxy forwards to target, holding each upload request (PUT, or POST
// with a body) for delay, so a test can act while a backup is mid-upload.
// It keeps the Host header, so S3 signatures made for its address hold.
// onUpload, when set, is called with the running count of upload requests.
type slowProxy struct {
	URL      string
	uploads  atomic.Int64
	delay    atomic.Int64 // nanoseconds
	onUpload func(n int64)
}

func newSlowProxy(t *testing.T, target string, delay time.Duration) *slowProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &slowProxy{}
	p.delay.Store(int64(delay))
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // S3 signatures cover the Host header
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut || (r.Method == http.MethodPost && r.ContentLength > 0 && !strings.Contains(r.URL.RawQuery, "uploads")) {
			n := p.uploads.Add(1)
			if p.onUpload != nil {
				p.onUpload(n)
			}
			time.Sleep(time.Duration(p.delay.Load()))
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// afterUploads returns a channel closed once n more upload requests have
// arrived (counting from now), so a test can act mid-upload.
func (p *slowProxy) afterUploads(n int64) <-chan struct{} {
	ch := make(chan struct{})
	var once sync.Once
	p.uploads.Store(0)
	p.onUpload = func(got int64) {
		if got >= n {
			once.Do(func() { close(ch) })
		}
	}
	return ch
}

// waitUploads blocks until n upload requests arrived after started was
// armed, failing the test with the operation's log after a timeout.
func (s *stack) waitUploads(started <-chan struct{}, op uuid.UUID) {
	s.t.Helper()
	select {
	case <-started:
	case <-time.After(3 * time.Minute):
		s.t.Fatalf("the upload did not start:\n%s", s.logText(op))
	}
}

// SetDelay changes the hold time (0 lets uploads through at full speed).
func (p *slowProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }
