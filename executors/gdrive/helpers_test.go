package gdrive_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"backupd/executors/archive"
	"backupd/executors/gdrive"
	"backupd/executors/testsupport/logbuf"
	"backupd/executors/testsupport/peers"
)

// fastRetry keeps fault tests quick while still exercising the backoff.
var fastRetry = gdrive.RetryPolicy{Base: 20 * time.Millisecond, Max: 500 * time.Millisecond, Attempts: 8}

func appFor(p peers.DrivePeer) gdrive.App {
	return gdrive.App{ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		RedirectURL: "http://127.0.0.1:1/oauth/google/callback", Endpoints: gdrive.EndpointsFromBase(p.URL)}
}

// connection authorizes a fresh grant and returns what a stored Drive
// connection holds.
func connection(t testing.TB, p peers.DrivePeer, folder string) (settings, secrets map[string]string) {
	t.Helper()
	access, refresh := p.Authorize(t, gdrive.Scope)
	require.NotEmpty(t, refresh)
	settings = map[string]string{"folder_name": folder,
		"token_expiry": time.Now().Add(50 * time.Minute).UTC().Format(time.RFC3339)}
	secrets = map[string]string{"access_token": access, "refresh_token": refresh}
	return settings, secrets
}

// refreshLog records OnRefresh calls.
type refreshLog struct {
	mu     sync.Mutex
	tokens []*oauth2.Token
}

func (r *refreshLog) record(t *oauth2.Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tokens = append(r.tokens, t)
}

func (r *refreshLog) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.tokens)
}

// countingTransport counts the body bytes of resumable-session requests
// (chunk data) the client sends.
type countingTransport struct {
	base      http.RoundTripper
	chunkSent atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && strings.Contains(req.URL.RawQuery, "upload_id=") && req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = &countingBody{ReadCloser: req.Body, n: &c.chunkSent}
	}
	return c.base.RoundTrip(req)
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

type fixture struct {
	peer     peers.DrivePeer
	app      gdrive.App
	settings map[string]string
	secrets  map[string]string
	folderID string
	refresh  *refreshLog
	counter  *countingTransport
	logs     *logbuf.Buffer
}

// newFixture connects to p, checks the connection (which creates the
// folder) and returns what destinations are built from.
func newFixture(t testing.TB, p peers.DrivePeer) *fixture {
	t.Helper()
	f := &fixture{peer: p, app: appFor(p), refresh: &refreshLog{},
		counter: &countingTransport{base: http.DefaultTransport.(*http.Transport).Clone()}, logs: &logbuf.Buffer{}}
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("destination logs:\n" + f.logs.String())
		}
	})
	f.settings, f.secrets = connection(t, p, peers.RandomName("backups-"))
	res := gdrive.Check(peers.Context(t), f.app, f.settings, f.secrets, gdrive.Options{})
	require.True(t, res.OK, res.Reason)
	f.folderID = res.Settings["folder_id"]
	require.NotEmpty(t, f.folderID)
	f.settings["folder_id"] = f.folderID
	return f
}

func (f *fixture) destination(t testing.TB, chunk int, durableEvery int64) *gdrive.Destination {
	t.Helper()
	cfg, err := gdrive.ConfigFrom(f.settings, f.secrets)
	require.NoError(t, err)
	d, err := gdrive.New(peers.Context(t), f.app, cfg, gdrive.Options{
		Logger:    slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		OnRefresh: f.refresh.record, ChunkSize: chunk, DurableEvery: durableEvery, Retry: fastRetry, Transport: f.counter,
	})
	require.NoError(t, err)
	return d
}

// download fetches a file with a plain GET and a fresh access token,
// independently of the code under test.
func (f *fixture) download(t testing.TB, loc archive.Location) []byte {
	t.Helper()
	access, _ := f.peer.Authorize(t, gdrive.Scope)
	id := strings.TrimPrefix(string(loc), "gdrive://")
	req, err := http.NewRequest(http.MethodGet, f.peer.URL+"/drive/v3/files/"+id+"?alt=media", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	return body
}

// randomData is deterministic, so a resumed writer can produce the same
// bytes again.
func randomData(n int, seed uint64) []byte {
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	b := make([]byte, n)
	_, _ = r.Read(b)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// writeMarked writes data in pieces of step bytes, marking each boundary
// with its offset, and calls between(offset) before each piece.
func writeMarked(t *testing.T, up archive.Upload, data []byte, base int64, step int, between func(off int64)) {
	t.Helper()
	for off := 0; off < len(data); off += step {
		if between != nil {
			between(base + int64(off))
		}
		end := min(off+step, len(data))
		n, err := up.Write(data[off:end])
		require.NoError(t, err)
		require.Equal(t, end-off, n)
		up.Mark(base + int64(end))
	}
}

// emulator state helpers

type emuState struct {
	Files []struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		Parents []string `json:"parents"`
		Size    int64    `json:"size"`
		SHA256  string   `json:"sha256"`
	} `json:"files"`
	Sessions []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Persisted int64  `json:"bytes_persisted"`
	} `json:"upload_sessions"`
	Storage struct {
		UploadedByDay map[string]int64 `json:"uploaded_by_day"`
	} `json:"storage"`
	Requests      map[string]map[string]int64 `json:"requests"`
	FaultsPending []json.RawMessage           `json:"faults_pending"`
}

func state(t testing.TB, p peers.DrivePeer) emuState {
	t.Helper()
	raw, err := json.Marshal(p.State(t))
	require.NoError(t, err)
	var s emuState
	require.NoError(t, json.Unmarshal(raw, &s))
	return s
}

func (s emuState) uploadedToday() int64 {
	var n int64
	for _, v := range s.Storage.UploadedByDay {
		n += v
	}
	return n
}

func (s emuState) sessionsNamed(name string) int {
	n := 0
	for _, se := range s.Sessions {
		if se.Name == name {
			n++
		}
	}
	return n
}

func (s emuState) filesNamed(name string) int {
	n := 0
	for _, f := range s.Files {
		if f.Name == name {
			n++
		}
	}
	return n
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
