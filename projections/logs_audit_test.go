package projections_test

import (
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/projections"

	"github.com/stretchr/testify/require"
)

func TestOperationLogMergesExecutorAndStatusLines(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	src, dst := h.s3Source("Photos", "s"), h.s3Destination("Backups", "d")
	id := h.requestBackup("alice@example.test", src, dst)
	h.start(id, "w1")
	h.logLines(id, 1, "Connecting to the source", "Listing the bucket", "WARN slow listing")
	h.opUpdate("bob@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestPause(at) })
	h.logLines(id, 4, "Uploaded part 1", "Stopping at a safe point")
	h.opUpdate("system:w1", id, func(o *domain.Operation, at time.Time) error { return o.MarkPaused("w1", "after object 2 of 3", 1, at) })
	h.opUpdate("bob@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestResume(at) })
	h.start(id, "w2")
	h.logLines(id, 6, "Resuming after object 2")
	h.opUpdate("system:reaper", id, func(o *domain.Operation, at time.Time) error {
		return o.Interrupt("w2", 2, at.Add(-2*time.Minute), at)
	})
	h.opUpdate("bob@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
	h.opUpdate("system:w3", id, func(o *domain.Operation, at time.Time) error {
		return o.MarkCancelled([]string{"aborted multipart upload", "removed temporary files"}, at)
	})
	other := h.requestBackup("alice@example.test", src, dst) // its lines stay its own
	e.caughtUp()

	lines, err := e.queries.LogLines(e.ctx, id, 0, 1000)
	require.NoError(t, err)
	type row struct{ level, origin, message string }
	var got []row
	for i, l := range lines {
		require.Equal(t, int64(i+1), l.Seq, "one sequence, no gaps")
		if i > 0 {
			require.False(t, l.At.Before(lines[i-1].At), "in time order")
		}
		got = append(got, row{l.Level, l.Origin, l.Message})
	}
	require.Equal(t, []row{
		{"info", "status", `Backup requested by alice@example.test: "Photos" (s3_source) → "Backups" (s3_destination)`},
		{"info", "status", "Started on worker w1 (attempt 1)"},
		{"info", "executor", "Connecting to the source"},
		{"info", "executor", "Listing the bucket"},
		{"warn", "executor", "WARN slow listing"},
		{"info", "status", "Pause requested by bob@example.test; pausing at the next safe point"},
		{"info", "executor", "Uploaded part 1"},
		{"info", "executor", "Stopping at a safe point"},
		{"info", "status", "Paused: after object 2 of 3"},
		{"info", "status", "Resume requested by bob@example.test; waiting for a worker"},
		{"info", "status", "Resumed on worker w2 (attempt 2), continuing from the last checkpoint"},
		{"info", "executor", "Resuming after object 2"},
		{"warn", "status", "Worker w2 stopped (attempt 2): no heartbeat since 2026-11-20T09:07:06Z; resume to continue"},
		{"warn", "status", "Cancel requested by bob@example.test"},
		{"warn", "status", "Cancelled; cleaned up: aborted multipart upload; removed temporary files"},
	}, got)

	// Polling: only what comes after the last line seen.
	after, err := e.queries.LogLines(e.ctx, id, 12, 2)
	require.NoError(t, err)
	require.Len(t, after, 2)
	require.Equal(t, []int64{13, 14}, []int64{after[0].Seq, after[1].Seq})
	after, err = e.queries.LogLines(e.ctx, id, 15, 100)
	require.NoError(t, err)
	require.Empty(t, after)

	otherLines, err := e.queries.LogLines(e.ctx, other, 0, 100)
	require.NoError(t, err)
	require.Len(t, otherLines, 1)
	require.Equal(t, int64(1), otherLines[0].Seq)
}

func TestAuditTrail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	alice := h.registerUser("alice@example.test", "Alice", "$2a$10$HASHSHOULDNOTSHOW")
	h.login(alice, false, "203.0.113.9")
	h.login(alice, true, "203.0.113.9")
	src := h.s3Source("Photos", "s")
	dst := h.s3Destination("Backups", "d")
	op := h.completedBackup("alice@example.test", src, dst, 2048)
	h.progress(op, "w1", 1, domain.Progress{Phase: "done"}) // not audited
	at := h.tick(time.Minute)
	update(h, "alice@example.test", commands.UserStream(alice), h.user(alice), func(u *domain.User) error {
		return u.RequestPasswordReset("RESETTOKENHASH", time.Hour, at)
	})
	e.caughtUp()

	items, total, err := e.queries.ListAudit(e.ctx, projections.AuditFilter{PerPage: 100})
	require.NoError(t, err)
	require.Equal(t, int64(len(items)), total)
	summaries := map[string]string{}
	for i, a := range items {
		if i > 0 {
			require.Greater(t, items[i-1].CommitPosition, a.CommitPosition, "newest first")
		}
		require.NotEqual(t, domain.OperationLogged{}.EventType(), a.Type)
		require.NotEqual(t, domain.OperationProgressed{}.EventType(), a.Type)
		require.NotContains(t, a.Summary, "HASH")
		require.NotZero(t, a.At)
		summaries[a.Type] = a.Summary
	}
	require.Equal(t, "User alice@example.test (Alice) registered as admin", summaries["UserRegistered.v1"])
	require.Equal(t, "Logged in from 203.0.113.9", summaries["UserLoggedIn.v1"])
	require.Equal(t, "Login failed from 203.0.113.9: wrong password", summaries["UserLoginFailed.v1"])
	require.Equal(t, `Connection "Photos" created (S3 bucket source)`, summaries["ConnectionCreated.v1"])
	require.Equal(t, "Password reset requested; the link is valid until "+at.Add(time.Hour).Format(time.RFC3339), summaries["PasswordResetRequested.v1"])
	require.Contains(t, summaries["OperationCompleted.v1"], "Completed: 3 objects, 6.0 KiB of data in a 2.0 KiB archive at s3://backups/")

	// Filters: a stream, an actor; paging.
	opItems, opTotal, err := e.queries.ListAudit(e.ctx, projections.AuditFilter{Stream: commands.OperationStream(op)})
	require.NoError(t, err)
	require.Equal(t, int64(3), opTotal) // requested, started, completed
	require.Equal(t, "OperationCompleted.v1", opItems[0].Type)
	require.Equal(t, "system:w1", opItems[0].ActorName)

	byAlice, aliceTotal, err := e.queries.ListAudit(e.ctx, projections.AuditFilter{Actor: "Alice@Example.test", PerPage: 2, Page: 2})
	require.NoError(t, err)
	require.Len(t, byAlice, 2)
	require.Greater(t, aliceTotal, int64(4))
	for _, a := range byAlice {
		require.Equal(t, "alice@example.test", a.ActorName)
	}
	first, _, err := e.queries.ListAudit(e.ctx, projections.AuditFilter{Actor: "id-alice@example.test", PerPage: 2, Page: 1})
	require.NoError(t, err)
	require.Greater(t, first[1].CommitPosition, byAlice[0].CommitPosition, "page 2 follows page 1")
	require.True(t, strings.HasPrefix(first[0].Summary, "Password reset requested"))
}
