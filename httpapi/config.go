package httpapi

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"backupd/executors/gdrive"
)

// Config is the HTTP server's configuration. The zero value of every field
// means its documented default (see withDefaults).
type Config struct {
	// PublicURL is where users reach the service (https://backup.example.com).
	// The reset link and the Google OAuth redirect URI are built on it; a
	// cross-origin request is one whose Origin is neither this nor the
	// request's own host. Default http://localhost:8080.
	PublicURL string
	// IdleTimeout ends a session not used for this long. Default 30m.
	IdleTimeout time.Duration
	// SecureCookies: nil means automatic (Secure when PublicURL is https or
	// the request came over TLS).
	SecureCookies *bool
	// PollIntervalSeconds is served in /api/session; the UI polls logs and
	// lists at this interval. Default 10.
	PollIntervalSeconds int
	// LoginThrottle limits failed logins per client IP (shared by every API
	// instance through Postgres). Default 20 failures per 15 minutes.
	LoginThrottle RateLimit
	// ForgotThrottle limits password-reset requests per client IP. Default
	// 5 per 15 minutes.
	ForgotThrottle RateLimit
	// ReadYourWritesTimeout bounds how long an answer waits for the read
	// models to show the write it just made. Default 10s.
	ReadYourWritesTimeout time.Duration
	// ProxyHeader (for example X-Forwarded-For) is trusted for the client IP
	// only when the peer is one of TrustedProxies.
	ProxyHeader    string
	TrustedProxies []string
	// Google is the server's Google OAuth client and the three Google base
	// URLs (consent page, token endpoint, Drive API), configurable so tests
	// run the whole flow against drive-emulator. RedirectURL defaults to
	// PublicURL + "/oauth/google/callback"; an empty ClientID disables the
	// Drive connect flow (501 not-configured).
	Google gdrive.App
}

// RateLimit is "at most Max events per Window" in a sliding window.
type RateLimit struct {
	Max    int
	Window time.Duration
}

func (r RateLimit) String() string { return fmt.Sprintf("%d/%s", r.Max, r.Window) }

// ParseRateLimit reads "20/15m".
func ParseRateLimit(s string) (RateLimit, error) {
	n, w, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return RateLimit{}, fmt.Errorf("rate limit %q: want COUNT/DURATION, for example 20/15m", s)
	}
	max, err := strconv.Atoi(n)
	if err != nil || max < 1 {
		return RateLimit{}, fmt.Errorf("rate limit %q: the count must be a positive integer", s)
	}
	window, err := time.ParseDuration(w)
	if err != nil || window <= 0 {
		return RateLimit{}, fmt.Errorf("rate limit %q: the window must be a positive duration", s)
	}
	return RateLimit{Max: max, Window: window}, nil
}

// Defaults documented in the README and in Config.
var (
	DefaultIdleTimeout     = 30 * time.Minute
	DefaultLoginThrottle   = RateLimit{Max: 20, Window: 15 * time.Minute}
	DefaultForgotThrottle  = RateLimit{Max: 5, Window: 15 * time.Minute}
	DefaultPublicURL       = "http://localhost:8080"
	DefaultPollInterval    = 10
	DefaultReadYourWrites  = 10 * time.Second
	oauthStateTTL          = 10 * time.Minute
	sessionTouchMaxEvery   = time.Minute
	rateEventsRetention    = 24 * time.Hour
	defaultBodyLimitBytes  = 1 << 20
	backgroundWorkDeadline = 30 * time.Second
)

func (c Config) withDefaults() Config {
	if c.PublicURL == "" {
		c.PublicURL = DefaultPublicURL
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.PollIntervalSeconds <= 0 {
		c.PollIntervalSeconds = DefaultPollInterval
	}
	if c.LoginThrottle.Max <= 0 || c.LoginThrottle.Window <= 0 {
		c.LoginThrottle = DefaultLoginThrottle
	}
	if c.ForgotThrottle.Max <= 0 || c.ForgotThrottle.Window <= 0 {
		c.ForgotThrottle = DefaultForgotThrottle
	}
	if c.Google.RedirectURL == "" {
		c.Google.RedirectURL = c.PublicURL + GoogleCallbackPath
	}
	if c.ReadYourWritesTimeout <= 0 {
		c.ReadYourWritesTimeout = DefaultReadYourWrites
	}
	return c
}

func (c Config) validate() error {
	var errs []error
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("public URL %q: want http(s)://host[:port]", c.PublicURL))
	}
	ep := c.Google.Endpoints
	for name, raw := range map[string]string{"Google auth URL": ep.AuthURL, "Google token URL": ep.TokenURL, "Google API URL": ep.APIBase} {
		if u, err := url.Parse(raw); raw != "" && (err != nil || u.Host == "") {
			errs = append(errs, fmt.Errorf("%s %q is not an absolute URL", name, raw))
		}
	}
	return errors.Join(errs...)
}

// secureCookies decides the Secure attribute for a request.
func (c Config) secureCookies(requestTLS bool) bool {
	if c.SecureCookies != nil {
		return *c.SecureCookies
	}
	return strings.HasPrefix(c.PublicURL, "https://") || requestTLS
}

// publicOrigin is scheme://host[:port] of PublicURL.
func (c Config) publicOrigin() string {
	u, err := url.Parse(c.PublicURL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
