package peers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// DrivePeer is a Google Drive v3 + OAuth server (drive-emulator). The three
// Google base URLs (API, token endpoint, consent page) all point at URL.
type DrivePeer struct {
	URL          string
	ClientID     string
	ClientSecret string
}

var driveReady = regexp.MustCompile(`drive-emulator listening on (\S+)`)

// Drive returns the shared Drive peer. Tests that inject faults, change its
// configuration or expire tokens use PrivateDrive instead.
func Drive(t testing.TB) DrivePeer {
	t.Helper()
	return DrivePeer{URL: require(t, EnvDriveURL), ClientID: require(t, EnvDriveClientID), ClientSecret: require(t, EnvDriveSecret)}
}

// PrivateDrive starts a drive-emulator for this test alone; extra flags
// (e.g. "--storage-quota-bytes", "1000000") are passed through.
func PrivateDrive(t testing.TB, extra ...string) (DrivePeer, *Process) {
	t.Helper()
	return StartDriveAt(t, t.TempDir(), extra...)
}

// StartDriveAt starts a drive-emulator on the data folder dir.
func StartDriveAt(t testing.TB, dir string, extra ...string) (DrivePeer, *Process) {
	t.Helper()
	p := DrivePeer{ClientID: "test-client", ClientSecret: "test-secret"}
	args := append([]string{"--listen", "127.0.0.1:0", "--data", dir, "--client-id", p.ClientID, "--client-secret", p.ClientSecret}, extra...)
	proc := StartProcess(t, driveReady, nil, bin(t, "drive-emulator"), args...)
	p.URL = proc.Addr
	return p, proc
}

// Authorize runs the OAuth consent flow as a browser would (the emulator
// consents automatically) and returns the token response.
func (p DrivePeer) Authorize(t testing.TB, scope string) (accessToken, refreshToken string) {
	t.Helper()
	redirect := "http://127.0.0.1:1/callback"
	q := url.Values{"client_id": {p.ClientID}, "redirect_uri": {redirect}, "response_type": {"code"},
		"scope": {scope}, "access_type": {"offline"}, "prompt": {"consent"}, "state": {"s"}}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(p.URL + "/o/oauth2/v2/auth?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("consent did not redirect with a code: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {p.ClientID}, "client_secret": {p.ClientSecret}}
	resp, err = http.PostForm(p.URL+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token exchange: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken, tok.RefreshToken
}

// Control posts to one of the emulator's /__emulator/ endpoints.
func (p DrivePeer) Control(t testing.TB, path string, body any) []byte {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	resp, err := http.Post(p.URL+"/__emulator/"+strings.TrimPrefix(path, "/"), "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("emulator %s: %d %s", path, resp.StatusCode, out)
	}
	return out
}

// Fault queues a fault (see the emulator's README).
func (p DrivePeer) Fault(t testing.TB, fault map[string]any) { p.Control(t, "faults", fault) }

// State returns the emulator's state document.
func (p DrivePeer) State(t testing.TB) map[string]any {
	t.Helper()
	resp, err := http.Get(p.URL + "/__emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(fmt.Errorf("emulator state: %w", err))
	}
	return st
}
