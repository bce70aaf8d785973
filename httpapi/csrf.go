package httpapi

import (
	"crypto/subtle"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

const (
	CSRFCookie = "backupd_csrf"
	CSRFHeader = "X-CSRF-Token"
	localCSRF  = "backupd.csrf"
)

// csrf implements the double-submit cookie: every response that lacks the
// cookie sets it (readable by the UI's JavaScript), and every state-changing
// request must echo it in X-CSRF-Token. A cross-site page can neither read
// the cookie nor set the header. Requests whose Origin is another site are
// refused outright, whatever their token.
func (s *Server) csrf(c *fiber.Ctx) error {
	sent := c.Cookies(CSRFCookie)
	token := sent
	if !wellFormedToken(token) {
		sent, token = "", newToken()
		c.Cookie(&fiber.Cookie{
			Name: CSRFCookie, Value: token, Path: "/", HTTPOnly: false, SameSite: fiber.CookieSameSiteLaxMode,
			Secure: s.cfg.secureCookies(c.Secure()),
		})
	}
	c.Locals(localCSRF, token)
	if !stateChanging(c.Method()) {
		return c.Next()
	}
	if !s.sameOrigin(c) {
		return errCrossOrigin
	}
	header := c.Get(CSRFHeader)
	if sent == "" || subtle.ConstantTimeCompare([]byte(header), []byte(sent)) != 1 {
		return errCSRF
	}
	return c.Next()
}

func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals(localCSRF).(string)
	return t
}

func stateChanging(method string) bool {
	switch method {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions, fiber.MethodTrace:
		return false
	}
	return true
}

// wellFormedToken accepts what newToken makes (43 base64url characters), so
// a cookie planted with a junk value is replaced rather than trusted.
func wellFormedToken(t string) bool {
	if len(t) != 43 {
		return false
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// sameOrigin accepts a request whose Origin is the public URL's or the
// request's own host. Without Origin (older browsers on same-origin
// requests, non-browser clients) the fetch metadata decides, and the token
// check still applies.
func (s *Server) sameOrigin(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Get("Sec-Fetch-Site") != "cross-site"
	}
	if strings.EqualFold(origin, s.cfg.publicOrigin()) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes the opaque origin "null"
	}
	return strings.EqualFold(u.Host, string(c.Request().Host()))
}
