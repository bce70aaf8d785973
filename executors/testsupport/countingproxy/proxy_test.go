package countingproxy

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProxyCountsAndCuts(t *testing.T) {
	t.Parallel()
	var hosts []string
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts = append(hosts, r.Host)
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(bytes.Repeat([]byte("x"), 100_000))
	}))
	t.Cleanup(backend.Close)
	p := New(t, backend.URL)

	for _, size := range []int{10, 2000} {
		req, err := http.NewRequest("PUT", p.URL+"/bucket/key?partNumber=1", bytes.NewReader(make([]byte, size)))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	require.Equal(t, int64(2010), p.RequestBytes("PUT", "/bucket/"))
	require.Equal(t, int64(0), p.RequestBytes("GET", "/"))
	require.Equal(t, 2, p.Count("PUT", "/bucket/key"))
	require.Equal(t, map[string]int64{"PUT /bucket/key": 2010}, p.ByMethodAndPath())
	u, _ := url.Parse(p.URL)
	require.Equal(t, []string{u.Host, u.Host}, hosts, "the Host the client signed is kept")

	p.CutResponseOnce("GET", func(path string) bool { return strings.HasSuffix(path, "/key") }, 1000)
	resp, err := http.Get(p.URL + "/bucket/key")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Error(t, err, "the body is cut mid-way")
	require.Len(t, got, 1000)

	resp, err = http.Get(p.URL + "/bucket/key")
	require.NoError(t, err)
	got, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err, "a cut happens once")
	require.Len(t, got, 100_000)
	calls := p.Calls()
	require.True(t, calls[2].Cut)
	require.Equal(t, int64(1000), calls[2].ResponseBytes)
	require.False(t, calls[3].Cut)

	p.Reset()
	require.Empty(t, p.Calls())
}
