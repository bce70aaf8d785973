package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"backupd/httpapi"
	"backupd/httpapi/apitest"
	"backupd/projections"

	"github.com/stretchr/testify/require"
)

// Issue 2 in Chromium, as a new user: the login page, an S3 source created
// through the form and proven valid, a wrong secret refused beside its
// field with nothing stored, an edit that keeps the secret, a re-check, and
// dark mode that survives a reload.
func TestBrowserLoginAndS3Connection(t *testing.T) {
	t.Parallel()
	s, b := browserStack(t, stackOptions{})
	bucket := s.S3.Bucket(t)
	started := time.Now()

	// A visitor without a session is sent to the login page.
	b.navigate("/")
	b.waitPath("/login")
	b.waitVisible(tid("login-page"))
	require.False(t, b.exists(tid("login-expired")), "a first visit is not an expired session")
	require.Equal(t, "password", b.attr(tid("login-password"), "type"))

	// A wrong password is refused on the page.
	b.typeText(tid("login-email"), s.AdminEmail)
	b.typeText(tid("login-password"), "not my password")
	b.click(tid("login-submit"))
	b.waitVisible(tid("login-error"))
	require.NotEmpty(t, b.text(tid("login-error")))
	path, _ := b.location()
	require.Equal(t, "/login", path)

	// The right one opens the dashboard, empty on a fresh install.
	b.login(s.AdminEmail, s.AdminPassword)
	b.waitPath("/")
	b.waitVisible(tid("dashboard-sources"))
	b.waitVisible(tid("empty-sources"))
	b.waitVisible(tid("empty-destinations"))
	b.shot("dashboard-empty")

	// Add an S3 source from the dashboard, first with a wrong secret.
	const wrongSecret = "wrong-secret-5e3a1c"
	form := s3Form{Kind: "s3_source", Name: "Uploads bucket", Bucket: bucket, Secret: wrongSecret}
	b.click(tid("dashboard-add-connection"))
	b.waitPath("/connections/new")
	b.click(tid("kind-s3_source"))
	b.fillS3Form(s, form)
	require.Equal(t, "password", b.attr(tid("field-secret_access_key"), "type"), "the secret is typed into a password input")
	b.click(tid("submit"))
	b.waitVisible(tid("field-error-secret_access_key"))
	reason := b.text(tid("field-error-secret_access_key"))
	require.Contains(t, strings.ToLower(reason), "secret", "the reason names the secret: %q", reason)
	require.NotContains(t, b.text("body"), wrongSecret, "the page never shows the secret")
	path, _ = b.location()
	require.Equal(t, "/connections/new", path, "the form stays open to fix the field")
	require.Empty(t, s.connections(), "a connection that fails its check is not stored")
	b.shot("wrong-secret")

	// Fix the secret: the connection is checked, stored and listed as valid.
	b.typeText(tid("field-secret_access_key"), s.S3.SecretKey)
	b.click(tid("submit"))
	b.waitPath("/connections")
	row := `[data-testid="connection-row"][data-connection-name="Uploads bucket"]`
	b.waitAttr(row+" "+tid("connection-status"), "data-status", "valid", stepTimeout)
	stored := s.connections()
	require.Len(t, stored, 1)
	conn := stored[0]
	require.Equal(t, "valid", string(conn.Status))

	// The dashboard shows it with its status and when it was checked.
	b.click(tid("nav-dashboard"))
	b.waitPath("/")
	card := `[data-testid="connection-card"][data-connection-name="Uploads bucket"]`
	b.waitVisible(card)
	require.Equal(t, conn.ID.String(), b.attr(card, "data-connection-id"))
	require.Equal(t, "valid", b.attr(card+" "+tid("connection-status"), "data-status"))
	require.True(t, strings.HasPrefix(b.text(card+" "+tid("connection-checked-at")), "last checked"), b.text(card+" "+tid("connection-checked-at")))
	checkedAt := b.attr(card+" "+tid("connection-checked-at"), "title")
	at, err := time.Parse(time.RFC3339Nano, checkedAt)
	require.NoError(t, err, "the exact time is in the title: %q", checkedAt)
	require.WithinRange(t, at, started.Add(-time.Second), time.Now())
	b.shot("dashboard-with-source")

	// Edit with a wrong secret: refused beside the field, nothing changes.
	b.click(card + " " + tid("connection-name"))
	b.waitPath("/connections/" + conn.ID.String())
	b.waitVisible(tid("connection-form"))
	require.Equal(t, "true", b.attr(tid("field-secret_access_key"), "data-secret-set"), "the form shows that a secret is set")
	require.Empty(t, b.value(tid("field-secret_access_key")), "the stored secret is never sent back")
	var html string
	b.eval(`document.documentElement.outerHTML`, &html)
	require.NotContains(t, html, s.S3.SecretKey, "the secret is nowhere in the page")
	require.Equal(t, bucket, b.value(tid("field-bucket")))
	b.typeText(tid("field-secret_access_key"), wrongSecret)
	b.click(tid("submit"))
	b.waitVisible(tid("field-error-secret_access_key"))
	after := s.connection(conn.ID.String())
	require.Equal(t, conn.UpdatedAt, after.UpdatedAt, "a failed edit stores nothing")
	require.Equal(t, "valid", string(after.Status))

	// Edit leaving the secret blank: the stored one is kept and still works.
	b.typeText(tid("field-secret_access_key"), "")
	b.typeText(tid("field-name"), "Uploads (renamed)")
	b.click(tid("submit"))
	b.waitPath("/connections")
	row = `[data-testid="connection-row"][data-connection-name="Uploads (renamed)"]`
	b.waitAttr(row+" "+tid("connection-status"), "data-status", "valid", stepTimeout)
	after = s.connection(conn.ID.String())
	require.Equal(t, "Uploads (renamed)", after.Name)
	require.Equal(t, "valid", string(after.Status), "the kept secret passed the check")
	require.True(t, after.CheckedAt.After(*conn.CheckedAt), "the edit was checked by connecting")

	// Re-check from the dashboard: a success toast and a newer check time.
	b.click(tid("nav-dashboard"))
	card = `[data-testid="connection-card"][data-connection-name="Uploads (renamed)"]`
	b.waitVisible(card)
	before := b.attr(card+" "+tid("connection-checked-at"), "title")
	b.click(card + " " + tid("connection-recheck"))
	b.waitVisible(tid("toast") + `[data-kind="success"]`)
	b.waitFor("a newer check time", stepTimeout, `document.querySelector(`+jsString(card+" "+tid("connection-checked-at"))+`).title !== `+jsString(before))

	// The bucket goes away: a re-check shows it invalid, with the reason.
	s.S3.RemoveBucket(bucket)
	b.click(card + " " + tid("connection-recheck"))
	b.waitAttr(card+" "+tid("connection-status"), "data-status", "invalid", stepTimeout)
	b.waitVisible(card + " " + tid("connection-status-reason"))
	require.Contains(t, b.text(card+" "+tid("connection-status-reason")), "bucket")
	b.waitVisible(tid("toast") + `[data-kind="error"]`)
	b.shot("invalid-after-recheck")

	// Dark mode: the toggle switches the page, and the choice survives a reload.
	require.Equal(t, "light", b.attr(tid("theme-toggle"), "data-theme-now"), "headless Chromium prefers light")
	lightBg := b.background()
	b.click(tid("theme-toggle"))
	b.waitAttr(tid("theme-toggle"), "data-theme-now", "dark", stepTimeout)
	b.waitAttr("html", "data-theme", "dark", stepTimeout)
	b.waitFor("a dark background", stepTimeout, `getComputedStyle(document.body).backgroundColor !== `+jsString(lightBg))
	require.Less(t, luminance(b.background()), 0.3, "dark mode is dark: %s (light was %s)", b.background(), lightBg)
	b.shot("dark-mode")
	b.reload()
	b.waitVisible(tid("theme-toggle"))
	require.Equal(t, "dark", b.attr(tid("theme-toggle"), "data-theme-now"), "the choice survives a reload")
	require.Equal(t, "dark", b.attr("html", "data-theme"))
	require.Less(t, luminance(b.background()), 0.3)
	b.click(tid("theme-toggle"))
	b.waitAttr(tid("theme-toggle"), "data-theme-now", "light", stepTimeout)
	b.reload()
	b.waitVisible(tid("theme-toggle"))
	require.Equal(t, "light", b.attr(tid("theme-toggle"), "data-theme-now"))
	require.Greater(t, luminance(b.background()), 0.7)
}

// A session left idle past the timeout: the next click and the next page
// load land on the login page with the "session expired" message. The
// server's clock is moved instead of waiting the timeout out.
func TestBrowserIdleSessionEndsAtLoginPage(t *testing.T) {
	t.Parallel()
	clock := &apitest.Clock{}
	s, b := browserStack(t, stackOptions{Config: httpapi.Config{IdleTimeout: 5 * time.Minute}, Clock: clock.Now})
	b.openAndLogin(s)
	b.waitVisible(tid("empty-sources"))
	b.settle()

	// Active within the timeout: the session lives on.
	clock.Advance(3 * time.Minute)
	b.click(tid("nav-connections"))
	b.waitPath("/connections")
	b.waitVisible(tid("connections-empty"))
	b.settle()

	// Idle past it: the next click in the app (an API request) ends there.
	clock.Advance(6 * time.Minute)
	b.click(tid("nav-history"))
	b.waitPath("/login")
	b.requireExpiredMessage()
	b.shot("expired-after-click")

	// Logging in again works.
	b.login(s.AdminEmail, s.AdminPassword)
	b.waitVisible(tid("empty-sources"))
	b.settle()

	// Idle again, then a page load (a request for a page, not the API).
	clock.Advance(6 * time.Minute)
	b.navigate("/operations")
	b.waitPath("/login")
	b.requireExpiredMessage()
	require.Equal(t, 0, b.count(tid("sidebar")), "no app page is shown without a session")
}

// requireExpiredMessage: the login page says the session expired.
func (b *browser) requireExpiredMessage() {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !b.exists(tid("login-expired")) {
		if time.Now().After(deadline) {
			path, query := b.location()
			b.t.Fatalf("the browser landed on %s%s without the session-expired message (login-expired). "+
				"When the page sends two API requests with the idle session, the first gets 401 session-expired "+
				"and ends the session, the second 401 unauthenticated, and the UI follows the last answer", path, query)
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, query := b.location()
	require.Contains(b.t, query, "expired=1")
}

// background is the page's computed background colour.
func (b *browser) background() string {
	b.t.Helper()
	var c string
	b.eval(`getComputedStyle(document.body).backgroundColor`, &c)
	return c
}

func (s *stack) connections() []projections.Connection {
	s.t.Helper()
	r := s.api.Do(http.MethodGet, "/api/connections", nil)
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Body)
	var out struct {
		Items []projections.Connection `json:"items"`
	}
	r.JSON(s.t, &out)
	return out.Items
}

func (s *stack) connection(id string) projections.Connection {
	s.t.Helper()
	r := s.api.Do(http.MethodGet, "/api/connections/"+id, nil)
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Body)
	var c projections.Connection
	r.JSON(s.t, &c)
	return c
}
