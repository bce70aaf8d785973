package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"backupd/executors/testsupport/logbuf"
	"backupd/httpapi/apitest"

	"github.com/stretchr/testify/require"
)

func TestRequestLogNamesTheUserAndNeverASecret(t *testing.T) {
	t.Parallel()
	var buf logbuf.Buffer
	srv := apitest.Start(t, apitest.Options{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	c := srv.Login(t)
	r := c.Do(http.MethodGet, "/api/operations?status=failed&secret=q-s3cr3t", nil)
	require.Equal(t, http.StatusOK, r.Status)
	requestID := r.Header.Get("X-Request-Id")
	require.NotEmpty(t, requestID)
	c.Do(http.MethodPost, "/api/password/change", map[string]string{
		"current_password": "wrong-current-pw", "password": "n3w-pa55word-x", "password_confirmation": "n3w-pa55word-x"})

	logs := buf.String()
	require.NotContains(t, logs, srv.AdminPassword, "no password in the log")
	require.NotContains(t, logs, "n3w-pa55word-x")
	require.NotContains(t, logs, "q-s3cr3t", "no query string in the log")
	require.NotContains(t, logs, c.Cookie("backupd_session"), "no session token in the log")
	found := false
	for _, line := range strings.Split(logs, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "http request" || rec["request_id"] != requestID {
			continue
		}
		found = true
		require.Equal(t, "GET", rec["method"])
		require.Equal(t, "/api/operations", rec["path"])
		require.EqualValues(t, 200, rec["status"])
		require.Equal(t, srv.AdminID.String(), rec["user_id"])
		require.Contains(t, rec, "duration")
	}
	require.True(t, found, "one log line per request")
}
