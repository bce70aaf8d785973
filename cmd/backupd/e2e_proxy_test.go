package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
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
	rp := httputil.NewSingleHostReverseProxy(u)
	orig := rp.Director
	rp.Director = func(r *http.Request) {
		host := r.Host
		orig(r)
		r.Host = host
	}
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

// SetDelay changes the hold time (0 lets uploads through at full speed).
func (p *slowProxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }
