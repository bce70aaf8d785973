package gdrive_test

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"backupd/executors/gdrive"
	"backupd/executors/testsupport/peers"
)

// The consent flow as the HTTP API runs it: consent URL, the provider's
// redirect with a code, the PKCE exchange, then the check that creates the
// folder.
func TestConsentFlowThenCheck(t *testing.T) {
	t.Parallel()
	p := peers.Drive(t)
	app := appFor(p)
	cfg := app.OAuthConfig()
	require.Equal(t, []string{"https://www.googleapis.com/auth/drive.file"}, cfg.Scopes)
	verifier := oauth2.GenerateVerifier()
	consent := gdrive.ConsentURL(cfg, "state-123", verifier)
	u, err := url.Parse(consent)
	require.NoError(t, err)
	q := u.Query()
	require.Equal(t, "offline", q.Get("access_type"))
	require.Equal(t, "consent", q.Get("prompt"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(consent)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/oauth/google/callback", back.Path)
	require.Equal(t, "state-123", back.Query().Get("state"))
	code := back.Query().Get("code")
	require.NotEmpty(t, code)

	ctx := peers.Context(t)
	_, err = gdrive.Exchange(ctx, cfg, code, oauth2.GenerateVerifier())
	require.Error(t, err, "a wrong PKCE verifier must be refused")

	// Start over with a fresh code, as a user retrying would.
	resp, err = noRedirect.Get(gdrive.ConsentURL(cfg, "state-456", verifier))
	require.NoError(t, err)
	resp.Body.Close()
	back, _ = url.Parse(resp.Header.Get("Location"))
	code = back.Query().Get("code")
	tok, err := gdrive.Exchange(ctx, cfg, code, verifier)
	require.NoError(t, err)
	require.NotEmpty(t, tok.AccessToken)
	require.NotEmpty(t, tok.RefreshToken)
	require.True(t, tok.Expiry.After(time.Now().Add(50*time.Minute)), "expiry %v", tok.Expiry)

	_, err = gdrive.Exchange(ctx, cfg, code, verifier)
	require.Error(t, err, "a code is single use")
	require.NotContains(t, err.Error(), code)

	secrets, tokSettings := gdrive.TokenFields(tok)
	folder := peers.RandomName("Backups ")
	settings := map[string]string{"folder_name": folder, "token_expiry": tokSettings["token_expiry"]}
	res := gdrive.Check(ctx, app, settings, secrets, gdrive.Options{})
	require.True(t, res.OK, res.Reason)
	require.Equal(t, "backup.user@example.com", res.Details["account_email"])
	require.Equal(t, "Backup User", res.Details["display_name"])
	require.NotEmpty(t, res.Details["quota_usage"])
	require.NotEmpty(t, res.Details["quota_limit"])
	require.Equal(t, "true", res.Details["folder_created"])
	require.Equal(t, "backup.user@example.com", res.Settings["account_email"])
	folderID := res.Settings["folder_id"]
	require.NotEmpty(t, folderID)
	require.Empty(t, res.Secrets, "a valid token is not refreshed")

	// The folder exists in My Drive, once.
	st := state(t, p)
	require.Equal(t, 1, st.filesNamed(folder))

	// A second check finds it (by id, then by name when the id is lost).
	settings["folder_id"] = folderID
	res = gdrive.Check(ctx, app, settings, secrets, gdrive.Options{})
	require.True(t, res.OK, res.Reason)
	require.Equal(t, folderID, res.Settings["folder_id"])
	require.Empty(t, res.Details["folder_created"])
	delete(settings, "folder_id")
	res = gdrive.Check(ctx, app, settings, secrets, gdrive.Options{})
	require.True(t, res.OK, res.Reason)
	require.Equal(t, folderID, res.Settings["folder_id"])
	require.Equal(t, 1, state(t, p).filesNamed(folder))
}

// A folder name with quotes and backslashes is escaped in the query.
func TestCheckFolderNameNeedsEscaping(t *testing.T) {
	t.Parallel()
	p := peers.Drive(t)
	settings, secrets := connection(t, p, peers.RandomName(`it's a \ test `))
	ctx := peers.Context(t)
	res := gdrive.Check(ctx, appFor(p), settings, secrets, gdrive.Options{})
	require.True(t, res.OK, res.Reason)
	again := gdrive.Check(ctx, appFor(p), settings, secrets, gdrive.Options{})
	require.True(t, again.OK, again.Reason)
	require.Equal(t, res.Settings["folder_id"], again.Settings["folder_id"])
}

func TestCheckRefreshesAnExpiredToken(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	ctx := peers.Context(t)
	settings, secrets := connection(t, p, "Backups")
	app := appFor(p)

	tests := []struct {
		name   string
		before func(settings map[string]string)
	}{
		// The server expired it while we still think it valid: 401, refresh, retry.
		{"expired at Google", func(map[string]string) { p.Control(t, "expire-tokens", nil) }},
		// We know it expired: refresh before the first call.
		{"expired locally", func(s map[string]string) { s["token_expiry"] = time.Now().Add(-time.Hour).Format(time.RFC3339) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := map[string]string{"folder_name": settings["folder_name"], "token_expiry": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}
			tc.before(s)
			var got []*oauth2.Token
			res := gdrive.Check(ctx, app, s, secrets, gdrive.Options{OnRefresh: func(t *oauth2.Token) { got = append(got, t) }})
			require.True(t, res.OK, res.Reason)
			require.Len(t, got, 1, "one refresh, reported through OnRefresh")
			require.NotEqual(t, secrets["access_token"], got[0].AccessToken)
			require.Empty(t, got[0].RefreshToken, "the refresh token was not rotated: nothing to store")
			require.Equal(t, got[0].AccessToken, res.Secrets["access_token"])
			require.NotContains(t, res.Secrets, "refresh_token", "the refresh token was not rotated")
			expiry, err := time.Parse(time.RFC3339, res.Settings["token_expiry"])
			require.NoError(t, err)
			require.WithinDuration(t, time.Now().Add(time.Hour), expiry, 2*time.Minute)
			secrets["access_token"] = res.Secrets["access_token"]
		})
	}
}

func TestRevokedRefreshTokenAsksToReconnect(t *testing.T) {
	t.Parallel()
	p, _ := peers.PrivateDrive(t)
	ctx := peers.Context(t)
	settings, secrets := connection(t, p, "Backups")
	app := appFor(p)
	p.Control(t, "revoke-refresh-tokens", nil)
	p.Control(t, "expire-tokens", nil)

	res := gdrive.Check(ctx, app, settings, secrets, gdrive.Options{})
	require.False(t, res.OK)
	require.Equal(t, "refresh_token", res.Field)
	require.Equal(t, "Google refused the refresh token (revoked or expired): reconnect this Google Drive connection", res.Reason)

	// The token source says so with a typed error.
	ts := gdrive.NewTokenSource(app.OAuthConfig(), &oauth2.Token{RefreshToken: secrets["refresh_token"]}, nil)
	_, err := ts.TokenContext(ctx)
	require.ErrorIs(t, err, gdrive.ErrReconnectRequired)
	require.NotContains(t, err.Error(), secrets["refresh_token"])

	// So does a destination in the middle of its work.
	cfg, err := gdrive.ConfigFrom(settings, secrets)
	require.NoError(t, err)
	d, err := gdrive.New(ctx, app, cfg, gdrive.Options{Retry: fastRetry})
	require.NoError(t, err)
	_, err = d.StartUpload(ctx, "x.tar.gz", 0, nil)
	require.ErrorIs(t, err, gdrive.ErrReconnectRequired)
}

func TestCheckUnreachable(t *testing.T) {
	t.Parallel()
	// A port nobody listens on: refused at once.
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refusedURL := "http://" + closed.Addr().String()
	closed.Close()
	// A server that accepts connections and never answers.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	tests := []struct {
		name, base string
		expired    bool
	}{
		{"refused, token endpoint", refusedURL, true},
		{"refused, Drive API", refusedURL, false},
		{"silent, token endpoint", "http://" + silent.Addr().String(), true},
		{"silent, Drive API", "http://" + silent.Addr().String(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			app := gdrive.App{ClientID: "c", ClientSecret: "s", Endpoints: gdrive.EndpointsFromBase(tc.base)}
			expiry := time.Now().Add(time.Hour)
			if tc.expired {
				expiry = time.Now().Add(-time.Hour)
			}
			settings := map[string]string{"folder_name": "Backups", "token_expiry": expiry.UTC().Format(time.RFC3339)}
			secrets := map[string]string{"access_token": "at", "refresh_token": "rt"}
			start := time.Now()
			res := gdrive.Check(peers.Context(t), app, settings, secrets, gdrive.Options{})
			elapsed := time.Since(start)
			require.False(t, res.OK)
			require.Contains(t, res.Reason, "cannot reach Google Drive within 5 seconds")
			require.Less(t, elapsed, 8*time.Second)
			t.Logf("%s: %q after %s", tc.name, res.Reason, elapsed.Round(time.Millisecond))
		})
	}
}

func TestCheckBadInput(t *testing.T) {
	t.Parallel()
	app := gdrive.App{ClientID: "c", ClientSecret: "s", Endpoints: gdrive.EndpointsFromBase("http://127.0.0.1:1")}
	tests := []struct {
		name              string
		settings, secrets map[string]string
		field             string
	}{
		{"no refresh token", map[string]string{"folder_name": "B"}, map[string]string{}, "refresh_token"},
		{"no folder", map[string]string{}, map[string]string{"refresh_token": "r"}, "folder_name"},
		{"bad expiry", map[string]string{"folder_name": "B", "token_expiry": "soon"}, map[string]string{"refresh_token": "r"}, "token_expiry"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := gdrive.Check(peers.Context(t), app, tc.settings, tc.secrets, gdrive.Options{})
			require.False(t, res.OK)
			require.Equal(t, tc.field, res.Field, res.Reason)
			require.NotEmpty(t, res.Reason)
		})
	}
}

func TestEndpoints(t *testing.T) {
	t.Parallel()
	ep := gdrive.EndpointsFromBase("http://127.0.0.1:9/")
	require.Equal(t, gdrive.Endpoints{APIBase: "http://127.0.0.1:9", TokenURL: "http://127.0.0.1:9/token",
		AuthURL: "http://127.0.0.1:9/o/oauth2/v2/auth"}, ep)
	cfg := gdrive.OAuthConfig("id", "secret", "http://x/cb", gdrive.Endpoints{})
	require.Equal(t, "https://oauth2.googleapis.com/token", cfg.Endpoint.TokenURL)
	require.Equal(t, "https://accounts.google.com/o/oauth2/v2/auth", cfg.Endpoint.AuthURL)
	require.True(t, errors.Is(&gdrive.APIError{Status: 403, Reason: "storageQuotaExceeded"}, gdrive.ErrQuotaExceeded))
	require.False(t, errors.Is(&gdrive.APIError{Status: 403, Reason: "rateLimitExceeded"}, gdrive.ErrQuotaExceeded))
}
