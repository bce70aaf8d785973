package httpapi_test

import (
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"backupd/httpapi"
	"backupd/httpapi/apitest"
	"backupd/web"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// routeTable is the server's real route table: every (method, path) pair,
// without the global middleware.
func routeTable(t *testing.T, srv *apitest.Server) []fiber.Route {
	t.Helper()
	out := srv.API.App().GetRoutes(true)
	require.Greater(t, len(out), 20)
	return out
}

// concretePath fills a route's parameters and wildcards.
func concretePath(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		switch {
		case strings.HasPrefix(p, ":"):
			parts[i] = uuid.NewString()
		case p == "*":
			parts[i] = "anything"
		}
	}
	return strings.Join(parts, "/")
}

func TestEveryRouteNeedsASession(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Client(t) // never logs in, but holds a CSRF token

	var public []string
	for _, r := range routeTable(t, srv) {
		key := r.Method + " " + r.Path
		if httpapi.IsPublicRoute(r.Method, r.Path) {
			public = append(public, key)
			continue
		}
		path := concretePath(r.Path)
		resp := c.Do(r.Method, path, []byte(`{}`))
		if strings.HasPrefix(r.Path, "/api/") {
			require.Equal(t, http.StatusUnauthorized, resp.Status, key)
			if r.Method != http.MethodHead {
				require.Equal(t, "unauthenticated", resp.ErrorCode(), key)
			}
		} else {
			require.Equal(t, http.StatusFound, resp.Status, key)
			loc, err := url.Parse(resp.Header.Get("Location"))
			require.NoError(t, err)
			require.Equal(t, "/login", loc.Path, key)
			require.Equal(t, path, loc.Query().Get("next"), key)
		}
	}
	// The public routes, checked as a set so a new one cannot slip in.
	want := map[string]bool{
		"GET /api/session": true, "HEAD /api/session": true, "POST /api/login": true,
		"POST /api/password/forgot": true, "POST /api/password/reset": true,
		"GET /*": true, "HEAD /*": true,
	}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"} {
		want[m+" /api/*"] = true
	}
	got := map[string]bool{}
	for _, k := range public {
		got[k] = true
	}
	require.Equal(t, want, got)

	// The public ones answer without a session (a refusal, if any, is
	// about the input or the credentials, never the missing session).
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/session", ""},
		{"POST", "/api/login", `{"email":"x@example.com","password":"wrong-password"}`},
		{"POST", "/api/password/forgot", `{"email":"x@example.com"}`},
		{"POST", "/api/password/reset", `{"token":"t","password":"0123456789","password_confirmation":"0123456789"}`},
	} {
		resp := c.Do(tc.method, tc.path, []byte(tc.body))
		require.NotContains(t, []string{"unauthenticated", "session-expired"}, resp.ErrorCode(), tc.path)
		require.Less(t, resp.Status, 500, tc.path)
	}
}

// The UI route (GET /*) decides per page: built files and the public pages
// are served to anyone, every other page needs a session.
func TestPagesNeedASessionExceptThePublicOnes(t *testing.T) {
	t.Parallel()
	ui := fstest.MapFS{
		"index.html":          {Data: []byte("<!doctype html><title>backupd</title><div id=root></div>")},
		"assets/app-1a2b.js":  {Data: []byte("console.log('app')")},
		"assets/app-1a2b.css": {Data: []byte("body{}")},
		"favicon.svg":         {Data: []byte("<svg/>")},
	}
	srv := apitest.Start(t, apitest.Options{UI: ui})
	anon := srv.Client(t)
	id := uuid.NewString()

	private := []string{"/", "/connections", "/connections/new?kind=s3_source", "/connections/" + id, "/operations",
		"/operations?status=failed&page=2", "/operations/" + id, "/operations/" + id + "/restore", "/audit", "/account"}
	for _, p := range private {
		r := anon.Do(http.MethodGet, p, nil)
		require.Equal(t, http.StatusFound, r.Status, p)
		loc, err := url.Parse(r.Header.Get("Location"))
		require.NoError(t, err)
		require.Equal(t, "/login", loc.Path, p)
		if p != "/" {
			require.Equal(t, p, loc.Query().Get("next"), p)
		}
	}
	for _, p := range []string{"/login", "/login?next=%2Faudit", "/forgot-password", "/reset-password?token=abc"} {
		r := anon.Do(http.MethodGet, p, nil)
		require.Equal(t, http.StatusOK, r.Status, p)
		require.Contains(t, string(r.Body), "<div id=root>", p)
		require.Equal(t, "no-cache", r.Header.Get("Cache-Control"))
		require.Equal(t, "same-origin", r.Header.Get("Referrer-Policy"), "the reset token must not leak through Referer")
	}
	r := anon.Do(http.MethodGet, "/assets/app-1a2b.js", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "console.log('app')", string(r.Body))
	require.Contains(t, r.Header.Get("Content-Type"), "javascript")
	require.Contains(t, r.Header.Get("Cache-Control"), "immutable")
	r = anon.Do(http.MethodGet, "/favicon.svg", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, "image/svg+xml", r.Header.Get("Content-Type"))
	r = anon.Do(http.MethodGet, "/assets/missing-9z.js", nil)
	require.Equal(t, http.StatusNotFound, r.Status, "a missing asset is a 404, not the index page")

	user := srv.Login(t)
	for _, p := range private {
		r := user.Do(http.MethodGet, p, nil)
		require.Equal(t, http.StatusOK, r.Status, p)
		require.Contains(t, string(r.Body), "<div id=root>", p)
	}
}

func TestUnknownAPIPathsAnswerJSON404(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{UI: fstest.MapFS{"index.html": {Data: []byte("<html>ui</html>")}}})
	for _, c := range []*apitest.Client{srv.Client(t), srv.Login(t)} {
		for _, tc := range []struct{ method, path string }{
			{"GET", "/api/nope"}, {"GET", "/api/connections/x/y/z"}, {"POST", "/api/nope"},
			{"DELETE", "/api/operations"}, {"GET", "/api/"},
		} {
			r := c.Do(tc.method, tc.path, nil)
			require.Equal(t, http.StatusNotFound, r.Status, tc.path)
			require.Contains(t, r.Header.Get("Content-Type"), "application/json", tc.path)
			require.Equal(t, "not-found", r.ErrorCode(), tc.path)
			require.NotContains(t, string(r.Body), "<html>", tc.path)
		}
	}
}

func TestStateChangingRoutesNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	srv := apitest.Start(t, apitest.Options{})
	c := srv.Login(t)
	token := c.CSRF()
	checked := 0
	for _, r := range routeTable(t, srv) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions ||
			r.Method == http.MethodTrace || r.Method == http.MethodConnect {
			continue
		}
		path := concretePath(r.Path)
		for name, hdr := range map[string]http.Header{
			"no token":     {},
			"wrong token":  {httpapi.CSRFHeader: {strings.Repeat("A", 43)}},
			"cross origin": {httpapi.CSRFHeader: {token}, "Origin": {"https://evil.example"}},
			"null origin":  {httpapi.CSRFHeader: {token}, "Origin": {"null"}},
			"cross site":   {httpapi.CSRFHeader: {token}, "Sec-Fetch-Site": {"cross-site"}},
		} {
			req, err := http.NewRequest(r.Method, srv.URL+path, strings.NewReader(`{}`))
			require.NoError(t, err)
			for k, v := range hdr {
				req.Header[k] = v
			}
			for _, ck := range c.HTTP.Jar.Cookies(mustURL(t, srv.URL)) {
				req.AddCookie(ck)
			}
			resp, err := http.DefaultTransport.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "%s %s: %s", r.Method, r.Path, name)
			checked++
		}
	}
	require.Greater(t, checked, 5*15)

	// The same origin, with the token, passes the CSRF check.
	c.Header.Set("Origin", srv.URL)
	r := c.Do(http.MethodPost, "/api/connections/"+uuid.NewString()+"/check", nil)
	require.Equal(t, http.StatusNotFound, r.Status, string(r.Body))
}

// The built UI (web.Dist) as the binary embeds it: every file index.html
// references is served, pages are the index, private pages need a session.
func TestServesTheEmbeddedUI(t *testing.T) {
	t.Parallel()
	dist, err := fs.Sub(web.Dist, "dist")
	require.NoError(t, err)
	index, err := fs.ReadFile(dist, "index.html")
	require.NoError(t, err)
	srv := apitest.Start(t, apitest.Options{UI: dist})
	anon := srv.Client(t)

	r := anon.Do(http.MethodGet, "/login?expired=1", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, string(index), string(r.Body))
	require.Contains(t, r.Header.Get("Content-Type"), "text/html")

	refs := regexp.MustCompile(`(?:src|href)="(/[^"]+)"`).FindAllStringSubmatch(string(index), -1)
	require.NotEmpty(t, refs)
	for _, m := range refs {
		r := anon.Do(http.MethodGet, m[1], nil)
		require.Equal(t, http.StatusOK, r.Status, m[1])
		want, err := fs.ReadFile(dist, strings.TrimPrefix(m[1], "/"))
		require.NoError(t, err)
		require.Equal(t, want, r.Body, m[1])
		require.NotContains(t, r.Header.Get("Content-Type"), "text/html", m[1])
	}
	r = anon.Do(http.MethodGet, "/operations", nil)
	require.Equal(t, http.StatusFound, r.Status)
	require.Equal(t, "/login?next=%2Foperations", r.Header.Get("Location"))
	r = srv.Login(t).Do(http.MethodGet, "/operations", nil)
	require.Equal(t, http.StatusOK, r.Status)
	require.Equal(t, string(index), string(r.Body))
}
