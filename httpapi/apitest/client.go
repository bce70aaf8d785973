package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"testing"
	"time"

	"backupd/httpapi"
)

// Client talks to the server as the UI does: a cookie jar, the CSRF header
// on every state-changing request, redirects not followed (tests look at
// them).
type Client struct {
	t    testing.TB
	base *url.URL
	HTTP *http.Client
	// Header is added to every request.
	Header http.Header
}

// Response is an answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Client returns a client without a session.
func (s *Server) Client(t testing.TB) *Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	must(t, err)
	base, err := url.Parse(s.URL)
	must(t, err)
	return &Client{t: t, base: base, Header: http.Header{}, HTTP: &http.Client{
		Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Login returns a client logged in as the administrator.
func (s *Server) Login(t testing.TB) *Client {
	t.Helper()
	c := s.Client(t)
	c.Login(s.AdminEmail, s.AdminPassword)
	return c
}

// Login logs the client in and fails the test if that does not work.
func (c *Client) Login(email, password string) {
	c.t.Helper()
	r := c.Do(http.MethodPost, "/api/login", map[string]string{"email": email, "password": password})
	if r.Status != http.StatusOK {
		c.t.Fatalf("apitest: login as %s: %d %s", email, r.Status, r.Body)
	}
}

// Cookie returns the value of a cookie the client holds.
func (c *Client) Cookie(name string) string {
	for _, ck := range c.HTTP.Jar.Cookies(c.base) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// CSRF returns the CSRF token, fetching the cookie first if needed.
func (c *Client) CSRF() string {
	c.t.Helper()
	if tok := c.Cookie(httpapi.CSRFCookie); tok != "" {
		return tok
	}
	r := c.Do(http.MethodGet, "/api/session", nil)
	if r.Status != http.StatusOK {
		c.t.Fatalf("apitest: GET /api/session: %d %s", r.Status, r.Body)
	}
	tok := c.Cookie(httpapi.CSRFCookie)
	if tok == "" {
		c.t.Fatalf("apitest: the server set no %s cookie", httpapi.CSRFCookie)
	}
	return tok
}

// Do sends a request; body is sent as JSON unless it is []byte. State-
// changing methods carry the CSRF header.
func (c *Client) Do(method, path string, body any) Response {
	c.t.Helper()
	var rd io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		must(c.t, err)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base.String()+path, rd)
	must(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, vs := range c.Header {
		req.Header[k] = vs
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set(httpapi.CSRFHeader, c.CSRF())
	}
	resp, err := c.HTTP.Do(req)
	must(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(c.t, err)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("apitest: answer %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
}

// ErrorCode is the "code" of an error answer ("" when there is none).
func (r Response) ErrorCode() string {
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}
