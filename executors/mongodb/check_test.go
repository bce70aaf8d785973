package mongodb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/mongodb"
	"backupd/executors/testsupport/peers"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	full := peer.Database(t)
	for i := 0; i < 12; i++ {
		require.NoError(t, client.Database(full).CreateCollection(context.Background(), fmt.Sprintf("coll%02d", i)))
	}
	notExecutable := filepath.Join(t.TempDir(), "mongodump")
	require.NoError(t, os.WriteFile(notExecutable, []byte("#!/bin/sh\n"), 0o644))
	garbage := filepath.Join(t.TempDir(), "mongodump")
	require.NoError(t, os.WriteFile(garbage, []byte("not a program"), 0o755))
	wrongInURI := strings.Replace(peer.URI, ":s3cret@", ":wrong-pass@", 1)
	noCredentials := strings.Replace(peer.URI, "admin:s3cret@", "", 1)

	tests := []struct {
		name   string
		cfg    mongodb.Config
		tools  mongodb.Tools
		ok     bool
		field  string
		reason string // prefix, or the whole reason for the missing tool
		detail map[string]string
	}{
		{name: "good", cfg: configFor(peer, full), tools: tools, ok: true, detail: map[string]string{
			"collections": "12", "collection_names": "coll00, coll01, coll02, coll03, coll04, coll05, coll06, coll07, coll08, coll09 and 2 more",
			"mongodump": "mongodump version: built-without-version-string", "server_version": "7.0.42", "database": full}},
		{name: "credentials typed apart", cfg: mongodb.Config{URI: noCredentials, Database: full, Username: "admin", Password: "s3cret", AuthDatabase: "admin"}, tools: tools, ok: true},
		{name: "database without collections", cfg: configFor(peer, "t_never_created"), tools: tools, ok: true,
			detail: map[string]string{"collections": "0", "note": "the database has no collections"}},
		{name: "wrong password in the URI", cfg: mongodb.Config{URI: wrongInURI, Database: full}, tools: tools, field: "uri",
			reason: `authentication failed for user "admin" (authentication database "admin"): check the user name and password; the server said: (AuthenticationFailed) Authentication failed.`},
		{name: "wrong password typed apart", cfg: mongodb.Config{URI: noCredentials, Database: full, Username: "admin", Password: "wrong-pass"}, tools: tools, field: "password",
			reason: `authentication failed for user "admin"`},
		{name: "nothing listens there", cfg: mongodb.Config{URI: "mongodb://admin:s3cret@127.0.0.1:1/?authSource=admin", Database: full}, tools: tools, field: "uri",
			reason: "cannot reach 127.0.0.1:1 within 5 seconds: connection refused"},
		{name: "not a MongoDB URI", cfg: mongodb.Config{URI: "https://127.0.0.1", Database: full}, tools: tools, field: "uri",
			reason: "the connection URI must start with mongodb:// or mongodb+srv://"},
		{name: "mongodump missing", cfg: configFor(peer, full), tools: mongodb.Tools{Mongodump: "/nonexistent/bin/mongodump"}, field: "connection",
			reason: "mongodump was not found at /nonexistent/bin/mongodump: install MongoDB Database Tools or set BACKUPD_MONGODUMP"},
		{name: "mongodump not executable", cfg: configFor(peer, full), tools: mongodb.Tools{Mongodump: notExecutable}, field: "connection",
			reason: "mongodump at " + notExecutable + " cannot be run (permission denied): install MongoDB Database Tools or set BACKUPD_MONGODUMP"},
		{name: "mongodump not a program", cfg: configFor(peer, full), tools: mongodb.Tools{Mongodump: garbage}, field: "connection",
			reason: "mongodump at " + garbage + " does not run: fork/exec " + garbage + ": exec format error"},
		{name: "mongodump not in PATH", cfg: configFor(peer, full), tools: mongodb.Tools{Mongodump: "mongodump-not-installed"}, field: "connection",
			reason: "mongodump was not found in PATH (looked for mongodump-not-installed): install MongoDB Database Tools or set BACKUPD_MONGODUMP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c := mongodb.Check(context.Background(), tc.cfg, tc.tools)
			require.Less(t, time.Since(start), 12*time.Second)
			require.Equal(t, tc.ok, c.OK, "%+v", c)
			require.Equal(t, tc.field, c.Field)
			require.True(t, strings.HasPrefix(c.Reason, tc.reason), "reason %q", c.Reason)
			for k, v := range tc.detail {
				require.Equal(t, v, c.Details[k], "detail %s", k)
			}
			all := fmt.Sprintf("%+v", c)
			require.NotContains(t, all, "s3cret")
			require.NotContains(t, all, "wrong-pass")
		})
	}
}
