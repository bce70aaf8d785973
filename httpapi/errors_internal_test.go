package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"backupd/domain"

	"github.com/gofiber/fiber/v2"
	"github.com/stretchr/testify/require"
)

func TestErrorsMapToTheContractShape(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		field  string
	}{
		{"invalid input", domain.Invalid("bucket-invalid", "bucket", "bad bucket"), 422, "bucket-invalid", "bucket"},
		{"wrapped domain error", fmt.Errorf("create: %w", domain.ErrConnectionInUse), 409, "connection-in-use", ""},
		{"not found", domain.ErrNotFound, 404, "not-found", ""},
		{"conflict", domain.ErrInvalidTransition, 409, "invalid-transition", ""},
		{"credentials", domain.ErrInvalidCredentials, 401, "invalid-credentials", ""},
		{"throttled", domain.ErrLoginThrottled, 429, "login-throttled", ""},
		{"forbidden", &domain.Error{Kind: domain.KindForbidden, Slug: "forbidden", Message: "no"}, 403, "forbidden", ""},
		{"api error", errSessionExpired, 401, "session-expired", ""},
		{"fiber 404", fiber.ErrNotFound, 404, "not-found", ""},
		{"fiber 405", fiber.ErrMethodNotAllowed, 405, "method-not-allowed", ""},
		{"too large", fiber.ErrRequestEntityTooLarge, 413, "body-too-large", ""},
		{"unknown", errors.New("pgx: connection refused to db password=hunter2"), 500, "internal", ""},
	}
	var logged bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logged, nil))}
	app := fiber.New(fiber.Config{ErrorHandler: s.errorHandler, DisableStartupMessage: true})
	app.Use(func(c *fiber.Ctx) error { c.Locals(localRequestID, "req-42"); return c.Next() })
	for i, tc := range cases {
		app.Get(fmt.Sprintf("/e/%d", i), func(*fiber.Ctx) error { return tc.err })
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := app.Test(httptest.NewRequest(http.MethodGet, fmt.Sprintf("/e/%d", i), nil), -1)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			require.Equal(t, tc.status, resp.StatusCode)
			var e errorBody
			require.NoError(t, json.Unmarshal(body, &e), string(body))
			require.Equal(t, tc.code, e.Error.Code)
			require.Equal(t, tc.field, e.Error.Field)
			require.NotEmpty(t, e.Error.Message)
			if tc.status == 500 {
				require.NotContains(t, string(body), "hunter2", "internal errors are not shown")
				require.Contains(t, e.Error.Message, "req-42", "the answer names the request id to find the log line")
				require.Contains(t, logged.String(), `"request_id":"req-42"`)
				require.Contains(t, logged.String(), "connection refused", "the real error is logged")
			}
		})
	}
}

func TestAllowedActionsFollowTheDomain(t *testing.T) {
	t.Parallel()
	b, r := domain.OpBackup, domain.OpRestore
	cases := []struct {
		kind          domain.OperationKind
		st            domain.OperationStatus
		pause, cancel bool
		want          string
	}{
		{b, domain.OpPending, false, false, "pause,cancel"},
		{b, domain.OpRunning, false, false, "pause,cancel"},
		{b, domain.OpRunning, true, false, "cancel"},
		{b, domain.OpRunning, false, true, ""},
		{b, domain.OpPaused, false, false, "resume,cancel"},
		{b, domain.OpInterrupted, false, false, "resume,cancel"},
		{b, domain.OpCompleted, false, false, "restore"},
		{b, domain.OpFailed, false, false, ""},
		{b, domain.OpCancelled, false, false, ""},
		{r, domain.OpRunning, false, false, "cancel"},
		{r, domain.OpPending, false, false, "cancel"},
		{r, domain.OpInterrupted, false, false, "resume,cancel"},
		{r, domain.OpCompleted, false, false, ""},
	}
	for _, tc := range cases {
		got := strings.Join(allowedActions(tc.kind, tc.st, tc.pause, tc.cancel), ",")
		require.Equal(t, tc.want, got, "%s %s pause=%v cancel=%v", tc.kind, tc.st, tc.pause, tc.cancel)
	}
}

func TestConfigDefaultsAndRateLimitParsing(t *testing.T) {
	t.Parallel()
	c := Config{}.withDefaults()
	require.Equal(t, DefaultIdleTimeout, c.IdleTimeout)
	require.Equal(t, RateLimit{Max: 20, Window: DefaultLoginThrottle.Window}, c.LoginThrottle)
	require.Equal(t, 10, c.PollIntervalSeconds)
	require.Equal(t, "http://localhost:8080/oauth/google/callback", c.Google.RedirectURL)
	require.False(t, c.secureCookies(false))
	require.True(t, c.secureCookies(true), "a request over TLS gets Secure cookies")
	require.True(t, Config{PublicURL: "https://b.example"}.withDefaults().secureCookies(false))
	require.NoError(t, c.validate())
	require.Error(t, Config{PublicURL: "ftp://x"}.withDefaults().validate())

	rl, err := ParseRateLimit("20/15m")
	require.NoError(t, err)
	require.Equal(t, DefaultLoginThrottle, rl)
	for _, bad := range []string{"20", "x/15m", "0/15m", "5/soon", "5/-1m"} {
		_, err := ParseRateLimit(bad)
		require.Error(t, err, bad)
	}
}

func TestPKCEVerifierIsDerivedAndWellFormed(t *testing.T) {
	t.Parallel()
	v := pkceVerifier("session-token", "state-1")
	require.Len(t, v, 43, "RFC 7636: 43 to 128 characters")
	require.Regexp(t, `^[A-Za-z0-9_-]+$`, v)
	require.Equal(t, v, pkceVerifier("session-token", "state-1"))
	require.NotEqual(t, v, pkceVerifier("other-session", "state-1"))
	require.NotEqual(t, v, pkceVerifier("session-token", "state-2"))
}

func TestPanicsBecomeLogged500s(t *testing.T) {
	t.Parallel()
	var logged bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logged, nil))}
	app := fiber.New(fiber.Config{ErrorHandler: s.errorHandler, DisableStartupMessage: true})
	app.Use(s.requestLog, s.recoverPanics)
	app.Get("/boom", func(*fiber.Ctx) error { panic("nil map write") })
	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/boom?token=abc", nil), -1)
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	require.Contains(t, string(body), `"code":"internal"`)
	require.NotContains(t, string(body), "nil map write")
	require.Contains(t, logged.String(), "nil map write")
	require.Contains(t, logged.String(), `"status":500`)
	require.NotContains(t, logged.String(), "token=abc", "the request log leaves the query string out")
}
