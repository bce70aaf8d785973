package s3

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"backupd/domain"
	"backupd/executors/testsupport/logbuf"
)

func TestCheckAgainstVersity(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	closedPort := closedEndpoint(t)

	cases := []struct {
		name   string
		role   domain.Role
		edit   func(*Config)
		ok     bool
		field  string
		reason string // substring
	}{
		{name: "source with good credentials", role: domain.RoleSource, ok: true},
		{name: "destination with good credentials", role: domain.RoleDestination, ok: true},
		{name: "destination under a prefix", role: domain.RoleDestination, edit: func(c *Config) { c.Prefix = "backups/daily" }, ok: true},
		{name: "wrong secret", role: domain.RoleSource, edit: func(c *Config) { c.SecretAccessKey = "not-the-secret-42" },
			field: "secret_access_key", reason: "the secret access key is wrong"},
		{name: "wrong secret on a destination", role: domain.RoleDestination, edit: func(c *Config) { c.SecretAccessKey = "not-the-secret-42" },
			field: "secret_access_key", reason: "the secret access key is wrong"},
		{name: "unknown access key", role: domain.RoleSource, edit: func(c *Config) { c.AccessKeyID = "AKIANOBODY" },
			field: "access_key_id", reason: "access key ID is unknown"},
		{name: "missing bucket", role: domain.RoleDestination, edit: func(c *Config) { c.Bucket = "no-such-bucket-here" },
			field: "bucket", reason: "the bucket does not exist"},
		{name: "closed port", role: domain.RoleSource, edit: func(c *Config) { c.Endpoint = closedPort },
			field: "endpoint", reason: "cannot reach " + strings.TrimPrefix(closedPort, "http://") + " within 5 seconds: connection refused"},
		{name: "unknown host", role: domain.RoleSource, edit: func(c *Config) { c.Endpoint = "http://no-such-host.invalid:9000" },
			field: "endpoint", reason: "cannot reach no-such-host.invalid:9000 within 5 seconds: "},
		{name: "missing field", role: domain.RoleSource, edit: func(c *Config) { c.Region = "" },
			field: "region", reason: "Region is required"},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				checkCase(t, f, tc.role, tc.edit, tc.ok, tc.field, tc.reason)
			})
		}
	})
	// Runs after every parallel case above has finished.
	require.Empty(t, f.keys(t), "a destination check leaves nothing behind")
}

func checkCase(t *testing.T, f *fixture, role domain.Role, edit func(*Config), ok bool, field, reason string) {
	cfg := f.cfg
	if edit != nil {
		edit(&cfg)
	}
	start := time.Now()
	got := Check(context.Background(), cfg, role)
	require.Less(t, time.Since(start), 8*time.Second, "a check must answer within a few seconds")
	require.Equal(t, ok, got.OK, "reason: %s", got.Reason)
	if ok {
		require.Equal(t, f.bucket, got.Details["bucket"])
		if role == domain.RoleDestination {
			require.Equal(t, "list, write, delete", got.Details["access"])
		}
		return
	}
	require.Equal(t, field, got.Field, got.Reason)
	require.Contains(t, got.Reason, reason)
	require.NotContains(t, got.Reason, cfg.SecretAccessKey)
	require.NotContains(t, fmt.Sprint(got), cfg.SecretAccessKey)
}

func TestCheckUnreachableHostAnswersQuickly(t *testing.T) {
	t.Parallel()
	// A listener that accepts but never answers: the check must give up.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never answered
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	cfg := Config{AccessKeyID: "k", SecretAccessKey: "sekrit-value", Region: "us-east-1", Bucket: "bucket", Endpoint: "http://" + l.Addr().String(), PathStyle: true}
	start := time.Now()
	got := Check(context.Background(), cfg, domain.RoleSource)
	require.Less(t, time.Since(start), 8*time.Second)
	require.False(t, got.OK)
	require.Equal(t, "endpoint", got.Field)
	require.Contains(t, got.Reason, "within 5 seconds: timed out")
}

func TestDescribeCheckErrorAccessDenied(t *testing.T) {
	t.Parallel()
	cfg := Config{Bucket: "b", Region: "us-east-1", SecretAccessKey: "topsecret"}
	for action, want := range map[string]string{
		"list":  "access denied: the key may not list this bucket",
		"write": "access denied: the key may not write to this bucket",
	} {
		err := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
		got := describeCheckError(cfg, action, fmt.Errorf("operation error: %w", err))
		require.Equal(t, want, got.Reason)
		require.Equal(t, "access_key_id", got.Field)
	}
	echo := &smithy.GenericAPIError{Code: "Weird", Message: "the key topsecret was rejected"}
	got := redactCheck(describeCheckError(cfg, "list", echo), cfg)
	require.NotContains(t, got.Reason, "topsecret")
}

func TestConfigFrom(t *testing.T) {
	t.Parallel()
	good := map[string]string{"access_key_id": "AK", "region": "us-east-1", "bucket": "my-bucket",
		"endpoint": "http://127.0.0.1:7070/", "path_style": "true", "prefix": "backups/"}
	secrets := map[string]string{"secret_access_key": "s3cr3t"}
	cfg, err := ConfigFrom(good, secrets)
	require.NoError(t, err)
	require.Equal(t, Config{AccessKeyID: "AK", SecretAccessKey: "s3cr3t", Region: "us-east-1", Bucket: "my-bucket",
		Endpoint: "http://127.0.0.1:7070", PathStyle: true, Prefix: "backups/"}, cfg)

	cases := []struct {
		name  string
		edit  func(settings, secrets map[string]string)
		field string
	}{
		{"no secret", func(_, s map[string]string) { delete(s, "secret_access_key") }, "secret_access_key"},
		{"no access key", func(s, _ map[string]string) { s["access_key_id"] = " " }, "access_key_id"},
		{"no bucket", func(s, _ map[string]string) { delete(s, "bucket") }, "bucket"},
		{"bad endpoint", func(s, _ map[string]string) { s["endpoint"] = "ftp://x" }, "endpoint"},
		{"bad path style", func(s, _ map[string]string) { s["path_style"] = "yes" }, "path_style"},
		{"prefix climbing out", func(s, _ map[string]string) { s["prefix"] = "a/../b" }, "prefix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			settings, sec := clone(good), clone(secrets)
			tc.edit(settings, sec)
			_, err := ConfigFrom(settings, sec)
			var de *domain.Error
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.field, de.Field)
		})
	}
}

func TestConfigNeverShowsTheSecret(t *testing.T) {
	t.Parallel()
	cfg := Config{AccessKeyID: "AK", SecretAccessKey: "very-secret-value", Region: "r", Bucket: "b", Endpoint: "http://h:1"}
	var logs logbuf.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "cfg", cfg)
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()} {
		require.NotContains(t, s, "very-secret-value")
		require.Contains(t, s, "AK")
	}
}

func clone(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// closedEndpoint is an address nothing listens on.
func closedEndpoint(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return "http://" + addr
}
