package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"backupd/httpapi"
	"backupd/httpapi/apitest"

	"github.com/stretchr/testify/require"
)

var resetLink = regexp.MustCompile(`(http://\S+/reset-password\?token=(\S+))`)

// forgot asks for a reset link and returns the token mailed (the n-th
// message to the address).
func forgot(t *testing.T, srv *apitest.Server, c *apitest.Client, email string, n int) string {
	t.Helper()
	r := c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": email})
	require.Equal(t, http.StatusAccepted, r.Status, string(r.Body))
	require.JSONEq(t, `{"message":"If that address has an account, a reset link is on its way."}`, string(r.Body))
	msg := srv.Mail.WaitFor(t, email, n)
	m := resetLink.FindStringSubmatch(msg.Text)
	require.NotNil(t, m, msg.Text)
	u, err := url.Parse(m[1])
	require.NoError(t, err)
	require.Equal(t, srv.URL+"/reset-password", u.Scheme+"://"+u.Host+u.Path, "the link is built on the public URL")
	return u.Query().Get("token")
}

func TestForgotPasswordAndResetEndToEnd(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	srv := apitest.Start(t, apitest.Options{Clock: clock.Now})
	other := srv.Login(t) // a session that the reset must end
	c := srv.Client(t)

	// Unknown address: the same answer, and no message.
	r := c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": "nobody@example.com"})
	require.Equal(t, http.StatusAccepted, r.Status)
	known := c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": srv.AdminEmail})
	require.Equal(t, r.Body, known.Body)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, srv.API.WaitBackground(ctx))
	msgs := srv.Mail.Messages()
	require.Len(t, msgs, 1, "only the known address gets a message")
	require.Equal(t, srv.AdminEmail, msgs[0].To)
	require.Equal(t, "Reset your backupd password", msgs[0].Subject)

	token := forgot(t, srv, c, srv.AdminEmail, 2) // the latest link is the valid one

	reset := func(token, pw, confirm string) apitest.Response {
		return c.Do(http.MethodPost, "/api/password/reset", map[string]string{"token": token, "password": pw, "password_confirmation": confirm})
	}
	for _, tc := range []struct {
		name, token, pw, confirm, code, field string
	}{
		{"mismatch", token, "a brand new password", "a brand new passw0rd", "password-mismatch", "password_confirmation"},
		{"too short", token, "short", "short", "password-too-short", "password"},
		{"bad token", "not-a-token", "a brand new password", "a brand new password", "reset-token-invalid", "token"},
		{"no token", "", "a brand new password", "a brand new password", "reset-token-invalid", "token"},
	} {
		r := reset(tc.token, tc.pw, tc.confirm)
		require.Equal(t, http.StatusUnprocessableEntity, r.Status, tc.name)
		require.Equal(t, tc.code, r.ErrorCode(), tc.name)
		var e struct {
			Error struct{ Field string } `json:"error"`
		}
		r.JSON(t, &e)
		require.Equal(t, tc.field, e.Error.Field, tc.name)
	}

	r = reset(token, "a brand new password", "a brand new password")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))

	r = reset(token, "another new password", "another new password")
	require.Equal(t, "reset-token-invalid", r.ErrorCode(), "a token works once")

	r = other.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(t, http.StatusUnauthorized, r.Status, "a reset ends every session of the account")

	r = c.Do(http.MethodPost, "/api/login", map[string]string{"email": srv.AdminEmail, "password": srv.AdminPassword})
	require.Equal(t, "invalid-credentials", r.ErrorCode(), "the old password no longer works")
	c.Login(srv.AdminEmail, "a brand new password")

	// Expiry: a link older than its lifetime (60 minutes) is refused.
	late := forgot(t, srv, c, srv.AdminEmail, 3)
	clock.Advance(61 * time.Minute)
	r = reset(late, "yet another password", "yet another password")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "reset-token-invalid", r.ErrorCode())
}

func TestForgotPasswordIsThrottledPerIP(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{Config: httpapi.Config{ForgotThrottle: httpapi.RateLimit{Max: 2, Window: time.Hour}}})
	c := srv.Client(t)
	for i := 0; i < 2; i++ {
		r := c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": "nobody@example.com"})
		require.Equal(t, http.StatusAccepted, r.Status)
	}
	r := c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": srv.AdminEmail})
	require.Equal(t, http.StatusTooManyRequests, r.Status)
	require.Equal(t, "throttled", r.ErrorCode())
	r = c.Do(http.MethodPost, "/api/password/forgot", map[string]string{"email": "not an address"})
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "email-invalid", r.ErrorCode())
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	me := srv.Login(t)
	elsewhere := srv.Login(t)

	change := func(current, pw, confirm string) apitest.Response {
		return me.Do(http.MethodPost, "/api/password/change", map[string]string{
			"current_password": current, "password": pw, "password_confirmation": confirm})
	}
	r := change("not my password", "a new secret phrase", "a new secret phrase")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status)
	require.Equal(t, "current-password-wrong", r.ErrorCode())
	r = change(srv.AdminPassword, "a new secret phrase", "another phrase entirely")
	require.Equal(t, "password-mismatch", r.ErrorCode())

	r = change(srv.AdminPassword, "a new secret phrase", "a new secret phrase")
	require.Equal(t, http.StatusOK, r.Status, string(r.Body))
	require.Equal(t, http.StatusOK, me.Do(http.MethodGet, "/api/connections", nil).Status, "this session goes on")
	require.Equal(t, http.StatusUnauthorized, elsewhere.Do(http.MethodGet, "/api/connections", nil).Status, "the others end")

	srv.Client(t).Login(srv.AdminEmail, "a new secret phrase")
}
