package gdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestQuote(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Backups":      `'Backups'`,
		"it's":         `'it\'s'`,
		`back\slash`:   `'back\\slash'`,
		`\'`:           `'\\\''`,
		"unicode é 日本": "'unicode é 日本'",
	} {
		require.Equal(t, want, quote(in), in)
	}
	require.Equal(t, `name = 'a\'b' and mimeType = 'application/vnd.google-apps.folder' and 'root' in parents and trashed = false`, folderQuery("a'b"))
}

func TestParseRanges(t *testing.T) {
	t.Parallel()
	n, err := parseRange("")
	require.NoError(t, err)
	require.Zero(t, n)
	n, err = parseRange("bytes=0-262143")
	require.NoError(t, err)
	require.EqualValues(t, 262144, n)
	_, err = parseRange("bytes=5-9")
	require.Error(t, err)

	start, size, ok := parseContentRange("bytes 100-199/1000")
	require.True(t, ok)
	require.EqualValues(t, 100, start)
	require.EqualValues(t, 1000, size)
	_, _, ok = parseContentRange("bytes */1000")
	require.False(t, ok)
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err   error
		retry bool
	}{
		{&APIError{Status: 503, Reason: "backendError"}, true},
		{&APIError{Status: 500}, true},
		{&APIError{Status: 429, Reason: "rateLimitExceeded", RetryAfter: time.Second}, true},
		{&APIError{Status: 403, Reason: "rateLimitExceeded"}, true},
		{&APIError{Status: 403, Reason: "storageQuotaExceeded"}, false},
		{&APIError{Status: 403, Reason: "userRateLimitExceeded"}, false},
		{&APIError{Status: 400, Reason: "badRequest"}, false},
		{&APIError{Status: 401, Reason: "authError"}, false},
		{&transportError{err: io.ErrUnexpectedEOF}, true},
		{&transportError{err: syscall.ECONNRESET}, true},
		{&url.Error{Op: "Get", URL: "u", Err: syscall.ECONNREFUSED}, true},
		{&url.Error{Op: "Get", URL: "u", Err: &tokenFailure{err: ErrReconnectRequired}}, false},
		{&tokenFailure{err: &UnreachableError{Err: syscall.ECONNREFUSED}}, true},
		{fmt.Errorf("x: %w", ErrSessionExpired), false},
		{context.Canceled, false},
		{errNoProgress, true},
		{errors.New("something else"), false},
	}
	for _, tc := range tests {
		got, _ := retryable(tc.err)
		require.Equal(t, tc.retry, got, "%v", tc.err)
	}
	_, after := retryable(&APIError{Status: 429, RetryAfter: 3 * time.Second})
	require.Equal(t, 3*time.Second, after)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	require.Equal(t, "48.0 MiB", formatBytes(48<<20))
	require.Equal(t, "1.5 GiB", formatBytes(3<<29))
	require.Equal(t, "12 bytes", formatBytes(12))
}

// A download whose body stalls is cut by the watchdog and resumed at the
// byte where it stopped. (Drive-emulator can cut a download but not stall
// one, hence a local server.)
func TestDownloadWatchdogResumesAStalledBody(t *testing.T) {
	data := []byte(strings.Repeat("0123456789", 10000))
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		var from int
		_, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-", &from)
		require.NoError(t, err)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(data)-1, len(data)))
		w.Header().Set("Content-Length", strconv.Itoa(len(data)-from))
		w.WriteHeader(http.StatusPartialContent)
		if n == 1 {
			_, _ = w.Write(data[from : from+1234])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // stall until the client gives up
			return
		}
		_, _ = w.Write(data[from:])
	}))
	t.Cleanup(srv.Close)
	old := downloadIdle
	downloadIdle = 300 * time.Millisecond
	t.Cleanup(func() { downloadIdle = old })

	d, err := New(context.Background(), App{Endpoints: EndpointsFromBase(srv.URL)},
		Config{FolderName: "B", FolderID: "f", Token: oauth2.Token{AccessToken: "a", RefreshToken: "r", Expiry: time.Now().Add(time.Hour)}},
		Options{Retry: RetryPolicy{Base: 10 * time.Millisecond}})
	require.NoError(t, err)
	rd, err := d.Open(context.Background(), "gdrive://file1", 0)
	require.NoError(t, err)
	got, err := io.ReadAll(rd)
	require.NoError(t, err)
	require.NoError(t, rd.Close())
	require.Equal(t, data, got)
	require.EqualValues(t, 2, requests.Load())
}
