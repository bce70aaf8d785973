package main

import (
	"context"
	"log/slog"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors"
	"backupd/httpapi/apitest"
	"backupd/projections"

	"github.com/stretchr/testify/require"
)

// The periodic re-check records what changed: a bucket that disappeared
// turns its connection invalid with the service's reason.
func TestPeriodicRecheckMarksABrokenConnectionInvalid(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{Workers: -1})
	bucket := s.S3.Bucket(t)
	id := s.s3Source(bucket)
	s.S3.RemoveBucket(bucket)

	executors.RecheckAll(context.Background(), s.Pool, s.Queries, s.Commands, slog.New(slog.DiscardHandler))
	require.Eventually(t, func() bool {
		r := s.api.Do(http.MethodGet, "/api/connections/"+id.String(), nil)
		var c projections.Connection
		r.JSON(t, &c)
		return c.Status == domain.StatusInvalid && strings.Contains(c.StatusReason, "bucket")
	}, 30*time.Second, 100*time.Millisecond)
}

// A worker without mongodump fails the backup with a clear error that
// says what to install.
func TestBackupFailsClearlyWithoutMongodump(t *testing.T) {
	t.Parallel()
	s := startStack(t, stackOptions{})
	db := s.Mongo.Database(t)
	seedShop(t, s.Mongo, db, 10)
	source := s.mongoSource(db)
	s.conns.Tools.Mongodump = "/nonexistent/mongodump"

	op := s.backup(source, s.s3Destination(s.S3.Bucket(t), ""))
	failed := s.waitStatus(op, 2*time.Minute, domain.OpFailed)
	require.Equal(t, "mongodump-missing", failed.ErrorCode)
	require.Contains(t, failed.Error, "mongodump was not found at /nonexistent/mongodump")
	require.NotEmpty(t, failed.Stack)
	require.Contains(t, s.logText(op), "stack trace")
}

// `backupd create-admin` creates the first administrator from flags (and
// the password on standard input, never in argv), who can then log in.
func TestCreateAdminCommand(t *testing.T) {
	t.Parallel()
	p := startProcStack(t)
	cmd := exec.Command(p.bin, "create-admin", "--email", "Second@Example.test", "--name", "Second Admin", "--password-stdin")
	cmd.Env = p.env
	cmd.Stdin = strings.NewReader("another long password\n")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "administrator second@example.test created")

	again := exec.Command(p.bin, "create-admin", "--email", "second@example.test", "--name", "X", "--password-stdin")
	again.Env = p.env
	again.Stdin = strings.NewReader("another long password\n")
	out, err = again.CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "already exists")

	c := (&apitest.Server{URL: p.URL}).Client(t)
	c.Login("second@example.test", "another long password")
}
