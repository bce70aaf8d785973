package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/httpapi"
	"backupd/httpapi/apitest"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

type userAnswer struct {
	User struct {
		ID          uuid.UUID  `json:"id"`
		Email       string     `json:"email"`
		Name        string     `json:"name"`
		Role        string     `json:"role"`
		LastLoginAt *time.Time `json:"last_login_at"`
	} `json:"user"`
}

type sessionAnswer struct {
	Authenticated       bool `json:"authenticated"`
	User                *userAnswer
	IdleTimeoutSeconds  int    `json:"idle_timeout_seconds"`
	PollIntervalSeconds int    `json:"poll_interval_seconds"`
	CSRFToken           string `json:"csrf_token"`
	SessionExpired      bool   `json:"session_expired"`
}

// setCookie finds a Set-Cookie header by cookie name.
func setCookie(t *testing.T, r apitest.Response, name string) *http.Cookie {
	t.Helper()
	resp := http.Response{Header: r.Header}
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no Set-Cookie for %s in %v", name, r.Header.Values("Set-Cookie"))
	return nil
}

func TestLoginStartsASessionWithSafeCookies(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Client(t)

	r := c.Do(http.MethodGet, "/api/session", nil)
	require.Equal(t, http.StatusOK, r.Status)
	var before sessionAnswer
	r.JSON(t, &before)
	require.False(t, before.Authenticated)
	require.Equal(t, 1800, before.IdleTimeoutSeconds)
	require.Equal(t, 10, before.PollIntervalSeconds)
	csrf := setCookie(t, r, httpapi.CSRFCookie)
	require.Equal(t, csrf.Value, before.CSRFToken, "the session answer carries the CSRF cookie's value")
	require.False(t, csrf.HttpOnly, "the UI's JavaScript reads the CSRF cookie")
	require.Equal(t, http.SameSiteLaxMode, csrf.SameSite)

	r = c.Do(http.MethodPost, "/api/login", map[string]string{"email": strings.ToUpper(srv.AdminEmail), "password": srv.AdminPassword})
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	var login userAnswer
	r.JSON(t, &login)
	require.Equal(t, srv.AdminID, login.User.ID)
	require.Equal(t, srv.AdminEmail, login.User.Email)
	require.Equal(t, "Ada Admin", login.User.Name)
	require.Equal(t, "admin", login.User.Role)
	require.NotNil(t, login.User.LastLoginAt)

	ck := setCookie(t, r, httpapi.SessionCookie)
	require.True(t, ck.HttpOnly)
	require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
	require.Equal(t, "/", ck.Path)
	require.False(t, ck.Secure, "plain http: the browser would drop a Secure cookie")
	require.Len(t, ck.Value, 43)
	require.NotContains(t, string(r.Body), ck.Value, "the token is only in the cookie")

	var row int
	require.NoError(t, srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM http_sessions WHERE id = sha256($1::bytea)`, []byte(ck.Value)).Scan(&row))
	require.Equal(t, 1, row, "the table holds the token's SHA-256")
	require.NoError(t, srv.Pool.QueryRow(context.Background(), `SELECT count(*) FROM http_sessions WHERE id = $1::bytea`, []byte(ck.Value)).Scan(&row))
	require.Equal(t, 0, row, "and never the token itself")

	r = c.Do(http.MethodGet, "/api/session", nil)
	var after sessionAnswer
	r.JSON(t, &after)
	require.True(t, after.Authenticated)
	require.Equal(t, csrf.Value, after.CSRFToken)

	r = c.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.JSONEq(t, `{"items":[]}`, string(r.Body))
}

func TestSecureCookies(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]httpapi.Config{
		"https public URL": {PublicURL: "https://backup.example.com"},
		"forced":           {SecureCookies: ptr(true)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := apitest.Start(t, apitest.Options{Config: cfg})
			c := srv.Client(t)
			r := c.Do(http.MethodGet, "/api/session", nil)
			require.True(t, setCookie(t, r, httpapi.CSRFCookie).Secure)
			// The test client speaks plain http, so its jar drops Secure
			// cookies: send the CSRF token by hand.
			req := loginRequest(t, srv, setCookie(t, r, httpapi.CSRFCookie).Value)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			var session *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == httpapi.SessionCookie {
					session = ck
				}
			}
			require.NotNil(t, session)
			require.True(t, session.Secure)
			require.True(t, session.HttpOnly)
			require.Equal(t, http.SameSiteLaxMode, session.SameSite)
		})
	}
}

func loginRequest(t *testing.T, srv *apitest.Server, csrf string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/login",
		strings.NewReader(`{"email":"`+srv.AdminEmail+`","password":"`+srv.AdminPassword+`"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpapi.CSRFHeader, csrf)
	req.AddCookie(&http.Cookie{Name: httpapi.CSRFCookie, Value: csrf})
	return req
}

func ptr[T any](v T) *T { return &v }

func TestLoginFailuresAndThePerAccountThrottle(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Client(t)

	cases := []struct {
		name, email, password string
		status                int
		code                  string
	}{
		{"wrong password", srv.AdminEmail, "wrong password!", 401, "invalid-credentials"},
		{"unknown e-mail", "nobody@example.com", srv.AdminPassword, 401, "invalid-credentials"},
		{"no password", srv.AdminEmail, "", 422, "field-required"},
		{"no e-mail", "", "x", 422, "field-required"},
	}
	for _, tc := range cases {
		r := c.Do(http.MethodPost, "/api/login", map[string]string{"email": tc.email, "password": tc.password})
		require.Equal(t, tc.status, r.Status, tc.name)
		require.Equal(t, tc.code, r.ErrorCode(), tc.name)
		require.Zero(t, countSessionCookies(r), tc.name)
	}
	r := c.Do(http.MethodPost, "/api/login", []byte(`{"email":`))
	require.Equal(t, 422, r.Status)
	require.Equal(t, "invalid-json", r.ErrorCode())

	// One wrong password above; four more make five within the window.
	for i := 0; i < domain.MaxFailedLogins-1; i++ {
		r := c.Do(http.MethodPost, "/api/login", map[string]string{"email": srv.AdminEmail, "password": "wrong password!"})
		require.Equal(t, 401, r.Status)
	}
	r = c.Do(http.MethodPost, "/api/login", map[string]string{"email": srv.AdminEmail, "password": srv.AdminPassword})
	require.Equal(t, http.StatusTooManyRequests, r.Status, "the account is throttled even with the right password")
	require.Equal(t, "login-throttled", r.ErrorCode())

	// The failures are events of the user's stream.
	types := streamTypes(t, srv, commands.UserStream(srv.AdminID))
	require.Equal(t, domain.MaxFailedLogins+1, count(types, "UserLoginFailed.v1"))
}

func countSessionCookies(r apitest.Response) int {
	n := 0
	for _, v := range r.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, httpapi.SessionCookie+"=") && !strings.HasPrefix(v, httpapi.SessionCookie+"=;") {
			n++
		}
	}
	return n
}

func TestLoginThrottledPerIP(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	srv := apitest.Start(t, apitest.Options{Clock: clock.Now, Config: httpapi.Config{LoginThrottle: httpapi.RateLimit{Max: 3, Window: 15 * time.Minute}}})
	c := srv.Client(t)
	// Failures spread over several accounts (none throttled on its own).
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		r := c.Do(http.MethodPost, "/api/login", map[string]string{"email": email, "password": "guess-guess"})
		require.Equal(t, 401, r.Status)
	}
	r := c.Do(http.MethodPost, "/api/login", map[string]string{"email": srv.AdminEmail, "password": srv.AdminPassword})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "login-throttled", r.ErrorCode())

	// Shared by every instance: a second API server on the same database
	// refuses the same address.
	second, err := httpapi.New(srv.Config, httpapi.Deps{Pool: srv.Pool, Commands: srv.Commands, Queries: srv.Queries,
		Projections: srv.Runner, Clock: clock.Now})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = second.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = second.Shutdown(ctx)
	})
	token := strings.Repeat("x", 43)
	req := loginRequest(t, srv, token)
	req.URL.Host = ln.Addr().String()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)

	// The window slides past.
	clock.Advance(16 * time.Minute)
	c.Login(srv.AdminEmail, srv.AdminPassword)
}

func TestLoginRotatesTheSession(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Login(t)
	first := c.Cookie(httpapi.SessionCookie)
	require.NotEmpty(t, first)

	c.Login(srv.AdminEmail, srv.AdminPassword)
	second := c.Cookie(httpapi.SessionCookie)
	require.NotEmpty(t, second)
	require.NotEqual(t, first, second, "a login always starts a new session")

	stale := srv.Client(t)
	stale.HTTP.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{{Name: httpapi.SessionCookie, Value: first, Path: "/"}})
	r := stale.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "unauthenticated", r.ErrorCode())

	// A session id planted before login (fixation) is dropped at login.
	planted := srv.Client(t)
	planted.HTTP.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{{Name: httpapi.SessionCookie, Value: second, Path: "/"}})
	planted.Login(srv.AdminEmail, srv.AdminPassword)
	require.NotEqual(t, second, planted.Cookie(httpapi.SessionCookie))
	r = c.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "the planted session was ended")
}

func TestLogoutEndsTheSessionAndIsRecorded(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Login(t)
	token := c.Cookie(httpapi.SessionCookie)

	r := c.Do(http.MethodPost, "/api/logout", nil)
	require.Equal(t, http.StatusNoContent, r.Status)
	require.Empty(t, c.Cookie(httpapi.SessionCookie), "the cookie is cleared")

	replay := srv.Client(t)
	replay.HTTP.Jar.SetCookies(mustURL(t, srv.URL), []*http.Cookie{{Name: httpapi.SessionCookie, Value: token, Path: "/"}})
	r = replay.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "the server-side session is gone")

	require.Eventually(t, func() bool {
		return lastLogoutReason(t, srv) == commands.LogoutByUser
	}, 30*time.Second, 50*time.Millisecond)
}

func TestIdleSessionsEnd(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	srv := apitest.Start(t, apitest.Options{Clock: clock.Now})

	active := srv.Login(t)
	idle := srv.Login(t)
	poller := srv.Login(t)
	poller.Header.Set(httpapi.PollHeader, "1")

	// Activity every 20 minutes keeps a session; polling does not.
	clock.Advance(20 * time.Minute)
	require.Equal(t, http.StatusOK, active.Do(http.MethodGet, "/api/connections", nil).Status)
	require.Equal(t, http.StatusOK, poller.Do(http.MethodGet, "/api/operations", nil).Status)
	clock.Advance(20 * time.Minute)
	require.Equal(t, http.StatusOK, active.Do(http.MethodGet, "/api/connections", nil).Status)

	// 40 minutes since the idle client's and the poller's last activity.
	r := idle.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status)
	require.Equal(t, "session-expired", r.ErrorCode())
	r = idle.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, "unauthenticated", r.ErrorCode(), "the session is gone, not expired again")

	r = poller.Do(http.MethodGet, "/connections", nil)
	require.Equal(t, http.StatusFound, r.Status)
	require.Equal(t, "/login?expired=1", r.Header.Get("Location"))

	require.Equal(t, http.StatusOK, active.Do(http.MethodGet, "/api/connections", nil).Status)

	require.Eventually(t, func() bool {
		return lastLogoutReason(t, srv) == commands.LogoutIdleTimeout
	}, 30*time.Second, 50*time.Millisecond)
}

func TestSessionAnswerSaysWhenTheSessionExpired(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	srv := apitest.Start(t, apitest.Options{Clock: clock.Now, Config: httpapi.Config{IdleTimeout: 5 * time.Minute}})
	c := srv.Login(t)
	clock.Advance(6 * time.Minute)
	var s sessionAnswer
	c.Do(http.MethodGet, "/api/session", nil).JSON(t, &s)
	require.False(t, s.Authenticated)
	require.True(t, s.SessionExpired)
	require.Equal(t, 300, s.IdleTimeoutSeconds)
}

func lastLogoutReason(t *testing.T, srv *apitest.Server) string {
	t.Helper()
	reason := ""
	err := srv.Store.Read(context.Background(), commands.UserStream(srv.AdminID), 0, func(r eventstore.Recorded) error {
		if e, ok := r.Event.(domain.UserLoggedOut); ok {
			reason = e.Reason
		}
		return nil
	})
	require.NoError(t, err)
	return reason
}

func streamTypes(t *testing.T, srv *apitest.Server, stream string) []string {
	t.Helper()
	var types []string
	require.NoError(t, srv.Store.Read(context.Background(), stream, 0, func(r eventstore.Recorded) error {
		types = append(types, r.Type)
		return nil
	}))
	return types
}

func count(list []string, v string) int {
	n := 0
	for _, x := range list {
		if x == v {
			n++
		}
	}
	return n
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u
}
