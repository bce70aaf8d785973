package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/testsupport/peers"
	"backupd/httpapi/apitest"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

var noRedirect = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// consent asks the API for the consent URL and goes there as the browser
// would, stopping at Google's redirect back to the app; it returns the
// callback URL's query (code and state, or error and state).
func consent(t *testing.T, c *apitest.Client, body map[string]any) url.Values {
	t.Helper()
	r := c.Do(http.MethodPost, "/api/connections/gdrive/authorize", body)
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var a struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	r.JSON(t, &a)
	resp, err := noRedirect.Get(a.AuthorizeURL)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "/oauth/google/callback", loc.Path)
	return loc.Query()
}

// callback delivers Google's answer to the app and returns where the app
// sends the browser.
func callback(t *testing.T, c *apitest.Client, q url.Values) *url.URL {
	t.Helper()
	r := c.Do(http.MethodGet, "/oauth/google/callback?"+q.Encode(), nil)
	require.Equal(t, http.StatusFound, r.Status, string(r.Body))
	loc, err := url.Parse(r.Header.Get("Location"))
	require.NoError(t, err)
	return loc
}

func requireFormError(t *testing.T, loc *url.URL, contains string) {
	t.Helper()
	require.Equal(t, "/connections/new", loc.Path, loc.String())
	require.Equal(t, "gdrive_destination", loc.Query().Get("kind"))
	require.Contains(t, loc.Query().Get("error"), contains)
}

func driveSecrets(t *testing.T, srv *apitest.Server, id uuid.UUID) map[string]string {
	t.Helper()
	conn, err := commands.Load(context.Background(), srv.Store, commands.ConnectionStream(id), func() *domain.Connection { return domain.NewConnection(id) })
	require.NoError(t, err)
	plain, err := commands.OpenSecrets(srv.Keyring, conn)
	require.NoError(t, err)
	return plain
}

func TestDriveConnectFlowAgainstTheEmulator(t *testing.T) {
	t.Parallel()
	drive, _ := peers.PrivateDrive(t)
	clock := &apitest.Clock{}
	srv := apitest.Start(t, apitest.Options{Drive: &drive, Clock: clock.Now})
	c := srv.Login(t)

	// The consent URL: the emulator's consent page, offline access, PKCE.
	r := c.Do(http.MethodPost, "/api/connections/gdrive/authorize", map[string]any{"name": "Team Drive", "folder_name": "backupd-archives"})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var a struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	r.JSON(t, &a)
	au, err := url.Parse(a.AuthorizeURL)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(a.AuthorizeURL, drive.URL+"/"), a.AuthorizeURL)
	q := au.Query()
	require.Equal(t, drive.ClientID, q.Get("client_id"))
	require.Equal(t, srv.URL+"/oauth/google/callback", q.Get("redirect_uri"))
	require.Equal(t, "offline", q.Get("access_type"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.Len(t, q.Get("state"), 43)

	// A fresh consent, followed to the end.
	answer := consent(t, c, map[string]any{"name": "Team Drive", "folder_name": "backupd-archives"})
	require.NotEmpty(t, answer.Get("code"))
	loc := callback(t, c, answer)
	require.True(t, strings.HasPrefix(loc.Path, "/connections/"), loc.String())
	require.Equal(t, "1", loc.Query().Get("connected"))
	id, err := uuid.Parse(strings.TrimPrefix(loc.Path, "/connections/"))
	require.NoError(t, err)

	tokens := driveSecrets(t, srv, id)
	require.NotEmpty(t, tokens["refresh_token"])
	w := secretWatch{t: t, c: c, secrets: []string{tokens["refresh_token"], tokens["access_token"], drive.ClientSecret}}
	var conn connectionAnswer
	r = w.Do(http.MethodGet, "/api/connections/"+id.String(), nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &conn)
	require.Equal(t, "gdrive_destination", conn.Kind)
	require.Equal(t, "Team Drive", conn.Name)
	require.Equal(t, "valid", conn.Status, conn.StatusReason)
	require.Equal(t, "backupd-archives", conn.Settings["folder_name"])
	require.NotEmpty(t, conn.Settings["folder_id"], "the check found or created the folder")
	require.Equal(t, map[string]bool{"access_token": true, "refresh_token": true}, conn.SecretsSet)

	// The state is single use.
	requireFormError(t, callback(t, c, answer), "Start again")

	// Consent denied by the user.
	drive.Control(t, "config", map[string]any{"consent": "deny"})
	denied := consent(t, c, map[string]any{"name": "Denied", "folder_name": "x"})
	require.Equal(t, "access_denied", denied.Get("error"))
	requireFormError(t, callback(t, c, denied), "denied")
	drive.Control(t, "config", map[string]any{"consent": "approve"})

	// Another session cannot finish this session's consent.
	stolen := consent(t, c, map[string]any{"name": "Stolen", "folder_name": "x"})
	requireFormError(t, callback(t, srv.Login(t), stolen), "another session")
	// Nor can anyone after 10 minutes.
	late := consent(t, c, map[string]any{"name": "Late", "folder_name": "x"})
	clock.Advance(11 * time.Minute)
	requireFormError(t, callback(t, c, late), "10 minutes")
	var list struct{ Items []connectionAnswer }
	c.Do(http.MethodGet, "/api/connections", nil).JSON(t, &list)
	require.Len(t, list.Items, 1, "no failed attempt stored anything")

	// An expired access token is refreshed by the check.
	drive.Control(t, "advance-clock", map[string]any{"seconds": 3700})
	r = w.Do(http.MethodPost, "/api/connections/"+id.String()+"/check", nil)
	require.Equal(t, http.StatusOK, r.Status)
	r.JSON(t, &conn)
	require.Equal(t, "valid", conn.Status, conn.StatusReason)
	require.NotEqual(t, tokens["access_token"], driveSecrets(t, srv, id)["access_token"], "the refreshed token is stored")

	// A revoked refresh token makes the connection invalid, asking to reconnect.
	resp, err := http.PostForm(drive.URL+"/revoke", url.Values{"token": {tokens["refresh_token"]}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	drive.Control(t, "advance-clock", map[string]any{"seconds": 3700})
	r = w.Do(http.MethodPost, "/api/connections/"+id.String()+"/check", nil)
	require.Equal(t, http.StatusOK, r.Status, "a failed re-check is recorded, not an error")
	r.JSON(t, &conn)
	require.Equal(t, "invalid", conn.Status)
	require.Contains(t, strings.ToLower(conn.StatusReason), "reconnect")

	// Reconnecting the same connection makes it valid again.
	again := consent(t, c, map[string]any{"connection_id": id})
	loc = callback(t, c, again)
	require.Equal(t, "/connections/"+id.String(), loc.Path)
	r = c.Do(http.MethodGet, "/api/connections/"+id.String(), nil)
	r.JSON(t, &conn)
	require.Equal(t, "valid", conn.Status, conn.StatusReason)
	require.Equal(t, "Team Drive", conn.Name, "blank fields keep their values")
	require.NotEqual(t, tokens["refresh_token"], driveSecrets(t, srv, id)["refresh_token"])

	// Bad input to the authorize endpoint.
	for body, code := range map[string]string{
		`{"folder_name":"x"}`: "field-required",
		`{"name":"x"}`:        "field-required",
		`{"name":"x","folder_name":"x","connection_id":"` + uuid.NewString() + `"}`: "connection-not-found",
	} {
		r := c.Do(http.MethodPost, "/api/connections/gdrive/authorize", []byte(body))
		require.Equal(t, code, r.ErrorCode(), body)
	}
}

func TestDriveConnectNeedsConfiguration(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	r := srv.Login(t).Do(http.MethodPost, "/api/connections/gdrive/authorize", map[string]any{"name": "x", "folder_name": "y"})
	require.Equal(t, http.StatusNotImplemented, r.Status)
	require.Equal(t, "not-configured", r.ErrorCode())
}
