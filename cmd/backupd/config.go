package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"backupd/httpapi"
)

// Config is read from the environment (BACKUPD_*); see README.md.
type Config struct {
	ESDBURL     string
	DatabaseURL string
	Listen      string
	PublicURL   string

	EncryptionKeys string // "kid:base64key,..."; generated into DataDir when empty
	DataDir        string
	SpoolDir       string // temporary files (mongodump spools, manifests)

	IdleTimeout  time.Duration
	PollInterval time.Duration
	// SecureCookies: nil means automatic (Secure when served over https).
	SecureCookies  *bool
	LoginIPLimit   httpapi.RateLimit // zero: the server's default
	ForgotIPLimit  httpapi.RateLimit
	ProxyHeader    string   // e.g. X-Forwarded-For, trusted only from TrustedProxies
	TrustedProxies []string // addresses or CIDRs of the reverse proxies

	SMTPHost, SMTPUser, SMTPPassword, SMTPFrom string
	SMTPPort                                   int

	GoogleClientID, GoogleClientSecret       string
	GoogleAuthURL, GoogleTokenURL, GoogleAPI string

	Mongodump, Mongorestore string

	WorkerID         string
	WorkerJobs       int           // operations one worker runs at once
	HeartbeatTimeout time.Duration // a running operation silent this long is interrupted
	RecheckInterval  time.Duration // periodic connection re-check; 0 disables

	AdminEmail, AdminName, AdminPassword string // first administrator, created at start when set

	LogLevel  string
	LogFormat string // text or json
}

func loadConfig(getenv func(string) string) (Config, error) {
	var errs []error
	str := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	dur := func(name string, def time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration like 30m or 10s", name, v))
			return def
		}
		return d
	}
	integer := func(name string, def int) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
			return def
		}
		return n
	}
	host, _ := os.Hostname()
	c := Config{
		ESDBURL:            str("BACKUPD_ESDB_URL", "esdb://127.0.0.1:2113?tls=false"),
		DatabaseURL:        str("BACKUPD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/backupd?sslmode=disable"),
		Listen:             str("BACKUPD_LISTEN", ":8080"),
		PublicURL:          strings.TrimRight(str("BACKUPD_PUBLIC_URL", "http://localhost:8080"), "/"),
		EncryptionKeys:     str("BACKUPD_ENCRYPTION_KEYS", ""),
		DataDir:            str("BACKUPD_DATA_DIR", defaultDataDir()),
		IdleTimeout:        dur("BACKUPD_IDLE_TIMEOUT", 30*time.Minute),
		PollInterval:       dur("BACKUPD_POLL_INTERVAL", 10*time.Second),
		SMTPHost:           str("BACKUPD_SMTP_HOST", ""),
		SMTPPort:           integer("BACKUPD_SMTP_PORT", 587),
		SMTPUser:           str("BACKUPD_SMTP_USER", ""),
		SMTPPassword:       str("BACKUPD_SMTP_PASSWORD", ""),
		SMTPFrom:           str("BACKUPD_SMTP_FROM", "backupd@localhost"),
		GoogleClientID:     str("BACKUPD_GOOGLE_CLIENT_ID", ""),
		GoogleClientSecret: str("BACKUPD_GOOGLE_CLIENT_SECRET", ""),
		Mongodump:          str("BACKUPD_MONGODUMP", "mongodump"),
		Mongorestore:       str("BACKUPD_MONGORESTORE", "mongorestore"),
		WorkerID:           str("BACKUPD_WORKER_ID", fmt.Sprintf("%s-%d", host, os.Getpid())),
		WorkerJobs:         integer("BACKUPD_WORKER_JOBS", 2),
		HeartbeatTimeout:   dur("BACKUPD_HEARTBEAT_TIMEOUT", 60*time.Second),
		RecheckInterval:    dur("BACKUPD_RECHECK_INTERVAL", 30*time.Minute),
		AdminEmail:         str("BACKUPD_ADMIN_EMAIL", ""),
		AdminName:          str("BACKUPD_ADMIN_NAME", "Administrator"),
		AdminPassword:      getenv("BACKUPD_ADMIN_PASSWORD"),
		LogLevel:           str("BACKUPD_LOG_LEVEL", "info"),
		LogFormat:          str("BACKUPD_LOG_FORMAT", "text"),
	}
	c.SpoolDir = str("BACKUPD_SPOOL_DIR", filepath.Join(c.DataDir, "spool"))
	switch v := strings.ToLower(str("BACKUPD_SECURE_COOKIES", "auto")); v {
	case "auto":
	case "true", "false":
		b := v == "true"
		c.SecureCookies = &b
	default:
		errs = append(errs, fmt.Errorf("BACKUPD_SECURE_COOKIES: %q is not auto, true or false", v))
	}
	limit := func(name string) httpapi.RateLimit {
		v := getenv(name)
		if v == "" {
			return httpapi.RateLimit{}
		}
		r, err := httpapi.ParseRateLimit(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w (write it like 20/15m)", name, err))
		}
		return r
	}
	c.LoginIPLimit = limit("BACKUPD_LOGIN_IP_LIMIT")
	c.ForgotIPLimit = limit("BACKUPD_FORGOT_IP_LIMIT")
	c.ProxyHeader = str("BACKUPD_PROXY_HEADER", "")
	if v := str("BACKUPD_TRUSTED_PROXIES", ""); v != "" {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				c.TrustedProxies = append(c.TrustedProxies, p)
			}
		}
	}
	if c.ProxyHeader != "" && len(c.TrustedProxies) == 0 {
		errs = append(errs, errors.New("BACKUPD_PROXY_HEADER: also set BACKUPD_TRUSTED_PROXIES, or any client could choose its own address"))
	}
	// One base URL points all three Google endpoints at one host (the
	// drive-emulator in tests); each can also be set on its own.
	base := strings.TrimRight(str("BACKUPD_GOOGLE_BASE_URL", ""), "/")
	defAuth, defToken, defAPI := "https://accounts.google.com/o/oauth2/v2/auth", "https://oauth2.googleapis.com/token", "https://www.googleapis.com"
	if base != "" {
		defAuth, defToken, defAPI = base+"/o/oauth2/v2/auth", base+"/token", base
	}
	c.GoogleAuthURL = str("BACKUPD_GOOGLE_AUTH_URL", defAuth)
	c.GoogleTokenURL = str("BACKUPD_GOOGLE_TOKEN_URL", defToken)
	c.GoogleAPI = str("BACKUPD_GOOGLE_API_URL", defAPI)

	for name, v := range map[string]string{"BACKUPD_PUBLIC_URL": c.PublicURL, "BACKUPD_GOOGLE_AUTH_URL": c.GoogleAuthURL,
		"BACKUPD_GOOGLE_TOKEN_URL": c.GoogleTokenURL, "BACKUPD_GOOGLE_API_URL": c.GoogleAPI} {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", name, v))
		}
	}
	if !strings.HasPrefix(c.ESDBURL, "esdb://") && !strings.HasPrefix(c.ESDBURL, "esdb+discover://") {
		errs = append(errs, fmt.Errorf("BACKUPD_ESDB_URL: %q must start with esdb:// or esdb+discover://", c.ESDBURL))
	}
	if c.IdleTimeout < time.Minute {
		errs = append(errs, errors.New("BACKUPD_IDLE_TIMEOUT: must be at least 1m"))
	}
	if c.PollInterval < time.Second {
		errs = append(errs, errors.New("BACKUPD_POLL_INTERVAL: must be at least 1s"))
	}
	if c.HeartbeatTimeout < 15*time.Second {
		errs = append(errs, errors.New("BACKUPD_HEARTBEAT_TIMEOUT: must be at least 15s (workers send a heartbeat every 5s)"))
	}
	if c.WorkerJobs < 1 {
		errs = append(errs, errors.New("BACKUPD_WORKER_JOBS: must be at least 1"))
	}
	if c.AdminEmail != "" && c.AdminPassword == "" {
		errs = append(errs, errors.New("BACKUPD_ADMIN_PASSWORD: required with BACKUPD_ADMIN_EMAIL"))
	}
	return c, errors.Join(errs...)
}

func defaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "backupd")
	}
	return filepath.Join(os.TempDir(), "backupd")
}
