package projections_test

import (
	"encoding/json"
	"testing"
	"time"

	"backupd/commands"
	"backupd/domain"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestUsersReadModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	id := h.registerUser("Alice@Example.test", "Alice", "$2a$10$PASSWORDHASHalice")
	registered := h.clock
	h.login(id, false, "198.51.100.1")
	h.login(id, false, "198.51.100.1")
	h.login(id, true, "198.51.100.2")
	loggedIn := h.clock
	h.login(id, false, "198.51.100.3")
	failedAt := h.clock
	at := h.tick(time.Minute)
	update(h, "alice@example.test", commands.UserStream(id), h.user(id), func(u *domain.User) error {
		if err := u.RequestPasswordReset("TOKENHASH", time.Hour, at); err != nil {
			return err
		}
		return u.ResetPassword("TOKENHASH", "$2a$10$NEWHASH", at)
	})
	e.caughtUp()

	u, err := e.queries.GetUser(e.ctx, id)
	require.NoError(t, err)
	require.Equal(t, projections.User{
		ID: id, Email: "alice@example.test", Name: "Alice", Role: "admin", RegisteredAt: registered,
		LastLoginAt: &loggedIn, LastLoginIP: "198.51.100.2", FailedLogins: 1, LastFailedLoginAt: &failedAt, PasswordChangedAt: &at,
	}, normalizeUser(u))

	_, err = e.queries.GetUser(e.ctx, uuid.New())
	require.True(t, isNotFound(err), "unknown user: %v", err)
}

func normalizeUser(u projections.User) projections.User {
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		v := p.UTC()
		return &v
	}
	u.RegisteredAt = u.RegisteredAt.UTC()
	u.LastLoginAt, u.LastFailedLoginAt, u.PasswordChangedAt = utc(u.LastLoginAt), utc(u.LastFailedLoginAt), utc(u.PasswordChangedAt)
	return u
}

func TestConnectionsReadModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	src := h.s3Source("Photos", "src")
	created := h.clock
	dst := h.s3Destination("Archive bucket", "dst")

	// Update: new name and region, a new secret (merged as the command does).
	at := h.tick(time.Minute)
	update(h, "alice@example.test", commands.ConnectionStream(src), h.conn(src), func(c *domain.Connection) error {
		settings := s3Settings("source-bucket")
		settings["region"] = "eu-west-1"
		return c.Update("Photos (EU)", settings, c.MergeSecrets(map[string]domain.SealedSecret{"secret_access_key": sealed("src2")}), domain.Check{OK: true}, at)
	})
	updated := at
	// A failed re-check is recorded with the service's reason on its field.
	checkedAt := h.tick(time.Minute)
	update(h, "system:checker", commands.ConnectionStream(src), h.conn(src), func(c *domain.Connection) error {
		return c.RecordCheck(domain.Check{OK: false, Reason: "The bucket does not exist", Field: "bucket"}, checkedAt)
	})

	// Drive: tokens refreshed.
	drive := h.createConnection(domain.KindDriveDestination, "Drive", map[string]string{"folder_name": "backups", "account_email": "ops@example.test"},
		map[string]domain.SealedSecret{"refresh_token": sealed("refresh")})
	expiry := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	refreshedAt := h.tick(time.Minute)
	update(h, "system:oauth", commands.ConnectionStream(drive), h.conn(drive), func(c *domain.Connection) error {
		return c.RefreshTokens(sealed("access"), domain.SealedSecret{}, expiry, refreshedAt)
	})

	op := h.requestBackup("alice@example.test", src, dst)
	e.caughtUp()

	c, err := e.queries.GetConnection(e.ctx, src)
	require.NoError(t, err)
	require.Equal(t, domain.KindS3Source, c.Kind)
	require.Equal(t, domain.RoleSource, c.Role)
	require.Equal(t, "s3", c.Service)
	require.Equal(t, "Photos (EU)", c.Name)
	require.Equal(t, "eu-west-1", c.Settings["region"])
	require.Equal(t, "AKIATEST", c.Settings["access_key_id"])
	require.NotContains(t, c.Settings, "secret_access_key")
	require.Equal(t, map[string]bool{"secret_access_key": true}, c.SecretsSet)
	require.Equal(t, domain.StatusInvalid, c.Status)
	require.Equal(t, "The bucket does not exist", c.StatusReason)
	require.Equal(t, "bucket", c.StatusField)
	require.WithinDuration(t, checkedAt, *c.CheckedAt, 0)
	require.WithinDuration(t, created, c.CreatedAt, 0)
	require.WithinDuration(t, checkedAt, c.UpdatedAt, 0)
	require.True(t, updated.Before(c.UpdatedAt))
	require.Equal(t, 1, c.ActiveOperations)
	require.Empty(t, c.Details, "a failed check has no details")

	d, err := e.queries.GetConnection(e.ctx, dst)
	require.NoError(t, err)
	require.Equal(t, domain.StatusValid, d.Status)
	require.Equal(t, map[string]string{"objects": "3"}, d.Details)
	require.Equal(t, 1, d.ActiveOperations)

	g, err := e.queries.GetConnection(e.ctx, drive)
	require.NoError(t, err)
	require.Equal(t, "gdrive", g.Service)
	require.WithinDuration(t, expiry, *g.TokenExpiry, 0)
	require.Equal(t, "2026-11-20T12:00:00Z", g.Settings["token_expiry"])
	require.Equal(t, map[string]bool{"refresh_token": true, "access_token": true}, g.SecretsSet)

	list, err := e.queries.ListConnections(e.ctx, "destination")
	require.NoError(t, err)
	require.Equal(t, []string{"Archive bucket", "Drive"}, connectionNames(list))
	all, err := e.queries.AllConnections(e.ctx)
	require.NoError(t, err)
	require.Len(t, all, 3)
	_, err = e.queries.ListConnections(e.ctx, "sideways")
	require.Error(t, err)

	// Released, then deleted: hidden from lists, not found.
	h.detach(op, src, dst)
	deletedAt := h.tick(time.Minute)
	update(h, "alice@example.test", commands.ConnectionStream(dst), h.conn(dst), func(c *domain.Connection) error { return c.Delete(deletedAt) })
	e.caughtUp()
	c, err = e.queries.GetConnection(e.ctx, src)
	require.NoError(t, err)
	require.Equal(t, 0, c.ActiveOperations)
	_, err = e.queries.GetConnection(e.ctx, dst)
	require.True(t, isNotFound(err), "deleted connection: %v", err)
	list, err = e.queries.ListConnections(e.ctx, "")
	require.NoError(t, err)
	require.Equal(t, []string{"Photos (EU)", "Archive bucket", "Drive"}[0:1], connectionNames(list)[0:1])
	require.NotContains(t, connectionNames(list), "Archive bucket")
	require.Len(t, list, 2)
}

func connectionNames(cs []projections.Connection) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func TestOperationsReadModelThroughEveryStatus(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	src, dst := h.s3Source("Photos", "s"), h.s3Destination("Backups", "d")

	id := h.requestBackup("alice@example.test", src, dst)
	requested := h.clock
	e.caughtUp()
	o, err := e.queries.GetOperation(e.ctx, id)
	require.NoError(t, err)
	require.Equal(t, domain.OpPending, o.Status)
	require.Equal(t, domain.OpBackup, o.Kind)
	require.Equal(t, "alice@example.test", o.RequestedBy)
	require.Equal(t, "Photos", o.Source.Name)
	require.Equal(t, src, *o.Source.ID)
	require.Equal(t, domain.KindS3Destination, o.Destination.Kind)
	require.WithinDuration(t, requested, o.RequestedAt, 0)
	require.Nil(t, o.StartedAt)
	require.Nil(t, o.Progress)
	require.Equal(t, []string{"pause", "cancel"}, o.AllowedActions)

	h.start(id, "w1")
	started := h.clock
	beat := h.progress(id, "w1", 1, domain.Progress{Phase: "uploading", ObjectsDone: 2, ObjectsTotal: 5, BytesDone: 200, SecondsLeft: -1})
	// A late tick from another worker/attempt does not count as a heartbeat.
	h.progress(id, "w0", 0, domain.Progress{Phase: "stale"})
	h.opUpdate("bob@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestPause(at) })
	e.caughtUp()
	o, err = e.queries.GetOperation(e.ctx, id)
	require.NoError(t, err)
	require.Equal(t, domain.OpRunning, o.Status)
	require.Equal(t, "w1", o.WorkerID)
	require.Equal(t, 1, o.Attempt)
	require.True(t, o.PauseRequested)
	require.WithinDuration(t, started, *o.StartedAt, 0)
	require.WithinDuration(t, beat, *o.HeartbeatAt, 0)
	require.Equal(t, "uploading", o.Progress.Phase)
	require.Equal(t, int64(2), o.Progress.ObjectsDone)
	require.WithinDuration(t, beat, *o.Progress.UpdatedAt, 0)
	require.Equal(t, []string{"cancel"}, o.AllowedActions)

	// Stale: running with a heartbeat older than the cut-off.
	stale, err := e.queries.StaleRunningOperations(e.ctx, beat.Add(time.Second))
	require.NoError(t, err)
	require.Equal(t, []projections.StaleOperation{{ID: id, WorkerID: "w1", Attempt: 1, HeartbeatAt: stale[0].HeartbeatAt}}, stale)
	require.WithinDuration(t, beat, stale[0].HeartbeatAt, 0)
	stale, err = e.queries.StaleRunningOperations(e.ctx, beat)
	require.NoError(t, err)
	require.Empty(t, stale)

	h.opUpdate("system:w1", id, func(o *domain.Operation, at time.Time) error {
		return o.MarkPaused("w1", "after 2 of 5 objects", 7, at)
	})
	e.caughtUp()
	o, err = e.queries.GetOperation(e.ctx, id)
	require.NoError(t, err)
	require.Equal(t, domain.OpPaused, o.Status)
	require.Equal(t, "after 2 of 5 objects", o.PausedPosition)
	require.False(t, o.PauseRequested)
	require.Equal(t, []string{"resume", "cancel"}, o.AllowedActions)

	h.opUpdate("bob@example.test", id, func(o *domain.Operation, at time.Time) error { return o.RequestResume(at) })
	h.start(id, "w2")
	h.opUpdate("system:w2", id, func(o *domain.Operation, at time.Time) error {
		return o.CompleteBackup("w2", backupResult(5, 500, 321, "s3://backups/a.tar.gz"), at)
	})
	finished := h.clock
	e.caughtUp()
	o, err = e.queries.GetOperation(e.ctx, id)
	require.NoError(t, err)
	require.Equal(t, domain.OpCompleted, o.Status)
	require.Equal(t, "w2", o.WorkerID)
	require.Equal(t, 2, o.Attempt)
	require.WithinDuration(t, started, *o.StartedAt, 0, "started_at is the first start")
	require.WithinDuration(t, finished, *o.FinishedAt, 0)
	require.Equal(t, int64(321), *o.ArchiveSize)
	require.Equal(t, int64(5), *o.ObjectCount)
	require.Equal(t, int64(500), *o.TotalBytes)
	require.Equal(t, "s3://backups/a.tar.gz", o.ArchiveLocation)
	require.Equal(t, "s3-bucket-tar-gz/1", o.Result.Format)
	require.Empty(t, o.PausedPosition)
	require.Equal(t, []string{"restore"}, o.AllowedActions)

	// A failure keeps its message, code and stack; an interrupted one waits
	// for a resume; a pending one cancels at once.
	failed := h.requestBackup("alice@example.test", src, dst)
	h.start(failed, "w1")
	h.opUpdate("system:w1", failed, func(o *domain.Operation, at time.Time) error {
		return o.Fail("w1", "upload part 3: connection reset", "upload-failed", "goroutine 1 [running]:\nmain.upload()", at)
	})
	interrupted := h.requestBackup("alice@example.test", src, dst)
	h.start(interrupted, "w3")
	h.opUpdate("system:reaper", interrupted, func(o *domain.Operation, at time.Time) error {
		return o.Interrupt("w3", 1, at.Add(-time.Minute), at)
	})
	cancelled := h.requestBackup("alice@example.test", src, dst)
	h.opUpdate("bob@example.test", cancelled, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
	e.caughtUp()

	o, err = e.queries.GetOperation(e.ctx, failed)
	require.NoError(t, err)
	require.Equal(t, domain.OpFailed, o.Status)
	require.Equal(t, "upload part 3: connection reset", o.Error)
	require.Equal(t, "upload-failed", o.ErrorCode)
	require.Contains(t, o.Stack, "main.upload()")
	require.NotNil(t, o.FinishedAt)
	require.Empty(t, o.AllowedActions)

	o, err = e.queries.GetOperation(e.ctx, interrupted)
	require.NoError(t, err)
	require.Equal(t, domain.OpInterrupted, o.Status)
	require.Equal(t, []string{"resume", "cancel"}, o.AllowedActions)

	o, err = e.queries.GetOperation(e.ctx, cancelled)
	require.NoError(t, err)
	require.Equal(t, domain.OpCancelled, o.Status)
	require.True(t, o.CancelRequested)
	require.NotNil(t, o.FinishedAt)

	_, err = e.queries.GetOperation(e.ctx, uuid.New())
	require.True(t, isNotFound(err))
}

func TestRestoreReadModelKeepsNoSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	src, dst := h.s3Source("Photos", "s"), h.s3Destination("Backups", "d")
	backup := h.completedBackup("alice@example.test", src, dst, 1000)

	restore := uuid.New()
	h.opUpdate("bob@example.test", restore, func(o *domain.Operation, at time.Time) error {
		b, err := commands.Load(e.ctx, e.store, commands.OperationStream(backup), h.op(backup))
		if err != nil {
			return err
		}
		target := domain.RestoreTarget{Kind: domain.KindS3Source, Name: "typed-in bucket",
			Settings: s3Settings("other-bucket"), Secrets: map[string]domain.SealedSecret{"secret_access_key": sealed("RESTORE-TARGET")}}
		return o.RequestRestore(b, target, domain.RestoreOptions{Prefix: "restored/", Conflict: "skip"}, at)
	})
	h.start(restore, "w1")
	report := domain.RestoreReport{Verified: true, Summary: "3 objects verified", Checked: 3, Restored: 3}
	h.opUpdate("system:w1", restore, func(o *domain.Operation, at time.Time) error { return o.RecordVerification("w1", report, at) })
	e.caughtUp()

	o, err := e.queries.GetOperation(e.ctx, restore)
	require.NoError(t, err)
	require.Equal(t, domain.OpRestore, o.Kind)
	require.Equal(t, domain.OpCompleted, o.Status)
	require.Equal(t, "bob@example.test", o.RequestedBy)
	require.Equal(t, "Backups", o.Source.Name, "a restore reads from the backup's destination")
	require.Nil(t, o.Destination.ID, "typed-in target")
	require.Equal(t, "typed-in bucket", o.Destination.Name)
	require.Equal(t, backup, *o.BackupID)
	require.Equal(t, backup, o.Restore.BackupID)
	require.Equal(t, "restored/", o.Restore.Options.Prefix)
	require.Equal(t, "skip", o.Restore.Options.Conflict)
	require.Equal(t, "other-bucket", o.Restore.Target.Settings["bucket"])
	require.Equal(t, map[string]bool{"secret_access_key": true}, o.Restore.Target.SecretsSet)
	require.Equal(t, int64(1000), o.Restore.Backup.ArchiveSize)
	require.Equal(t, &report, o.Report)
	require.Nil(t, o.Result)

	raw := e.snapshot("operations", "id")
	require.NotContains(t, raw, "RESTORE-TARGET")
	require.NotContains(t, raw, "Q0lQSEVSVEVYVC1SRVNUT1JFLVRBUkdFVA") // base64 of the ciphertext
}

// The JSON the API serves as it is: the keys httpapi/API.md documents.
func TestJSONShapesMatchTheAPIContract(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	user := h.registerUser("alice@example.test", "Alice", "$2a$10$PWHASH")
	src, dst := h.s3Source("Photos", "s"), h.s3Destination("Backups", "d")
	op := h.requestBackup("alice@example.test", src, dst)
	h.start(op, "w1")
	h.progress(op, "w1", 1, domain.Progress{Phase: "listing"})
	h.logLines(op, 1, "hello")
	e.caughtUp()

	keysOf := func(v any) map[string]any {
		b, err := json.Marshal(v)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	requireKeys := func(m map[string]any, keys ...string) {
		t.Helper()
		for _, k := range keys {
			require.Contains(t, m, k)
		}
	}
	u, err := e.queries.GetUser(e.ctx, user)
	require.NoError(t, err)
	requireKeys(keysOf(u), "id", "email", "name", "role", "last_login_at")

	c, err := e.queries.GetConnection(e.ctx, src)
	require.NoError(t, err)
	cm := keysOf(c)
	requireKeys(cm, "id", "kind", "role", "service", "name", "settings", "secrets_set", "status", "status_reason",
		"status_field", "checked_at", "details", "active_operations", "created_at", "updated_at")
	require.Equal(t, map[string]any{"secret_access_key": true}, cm["secrets_set"])

	items, _, _, err := e.queries.ListOperations(e.ctx, projections.OperationFilter{})
	require.NoError(t, err)
	sm := keysOf(items[0])
	requireKeys(sm, "id", "kind", "status", "source", "destination", "requested_at", "started_at", "finished_at", "archive_size", "requested_by")
	requireKeys(sm["source"].(map[string]any), "id", "name", "kind")

	o, err := e.queries.GetOperation(e.ctx, op)
	require.NoError(t, err)
	om := keysOf(o)
	requireKeys(om, "id", "kind", "status", "source", "destination", "requested_at", "requested_by", "progress", "pause_requested",
		"cancel_requested", "allowed_actions", "worker_id", "attempt", "heartbeat_at", "paused_position", "error", "error_code",
		"result", "restore", "report")
	requireKeys(om["progress"].(map[string]any), "phase", "objects_done", "objects_total", "bytes_done", "bytes_total",
		"compressed_bytes", "uploaded_bytes", "bytes_per_second", "seconds_left", "updated_at") // "current" only when set

	lines, err := e.queries.LogLines(e.ctx, op, 0, 10)
	require.NoError(t, err)
	requireKeys(keysOf(lines[0]), "seq", "at", "level", "message")
}
