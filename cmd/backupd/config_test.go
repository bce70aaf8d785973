package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name  string
		env   map[string]string
		check func(t *testing.T, c Config)
		err   []string
	}{
		{name: "defaults", env: map[string]string{}, check: func(t *testing.T, c Config) {
			require.Equal(t, 30*time.Minute, c.IdleTimeout)
			require.Equal(t, 10*time.Second, c.PollInterval)
			require.Nil(t, c.SecureCookies)
			require.Equal(t, "https://oauth2.googleapis.com/token", c.GoogleTokenURL)
			require.Equal(t, 60*time.Second, c.HeartbeatTimeout)
		}},
		{name: "one Google base for the emulator", env: map[string]string{"BACKUPD_GOOGLE_BASE_URL": "http://127.0.0.1:9/"}, check: func(t *testing.T, c Config) {
			require.Equal(t, "http://127.0.0.1:9/token", c.GoogleTokenURL)
			require.Equal(t, "http://127.0.0.1:9/o/oauth2/v2/auth", c.GoogleAuthURL)
			require.Equal(t, "http://127.0.0.1:9", c.GoogleAPI)
		}},
		{name: "proxy and limits", env: map[string]string{"BACKUPD_PROXY_HEADER": "X-Forwarded-For", "BACKUPD_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.0/8",
			"BACKUPD_LOGIN_IP_LIMIT": "5/1m", "BACKUPD_SECURE_COOKIES": "true"}, check: func(t *testing.T, c Config) {
			require.Equal(t, []string{"10.0.0.1", "10.0.0.0/8"}, c.TrustedProxies)
			require.Equal(t, 5, c.LoginIPLimit.Max)
			require.Equal(t, time.Minute, c.LoginIPLimit.Window)
			require.True(t, *c.SecureCookies)
		}},
		{name: "every mistake is reported at once", env: map[string]string{"BACKUPD_IDLE_TIMEOUT": "soon", "BACKUPD_PUBLIC_URL": "localhost",
			"BACKUPD_ESDB_URL": "tcp://x", "BACKUPD_PROXY_HEADER": "X-Real-IP", "BACKUPD_ADMIN_EMAIL": "a@b.c", "BACKUPD_SECURE_COOKIES": "maybe"},
			err: []string{"BACKUPD_IDLE_TIMEOUT", "BACKUPD_PUBLIC_URL", "BACKUPD_ESDB_URL", "BACKUPD_TRUSTED_PROXIES", "BACKUPD_ADMIN_PASSWORD", "BACKUPD_SECURE_COOKIES"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := loadConfig(env(tt.env))
			if len(tt.err) > 0 {
				require.Error(t, err)
				for _, e := range tt.err {
					require.ErrorContains(t, err, e)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}
