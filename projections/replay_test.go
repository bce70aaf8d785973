package projections_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"backupd/commands"
	"backupd/commands/eventstore"
	"backupd/domain"
	"backupd/projections"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// Secret markers written into the events by mixedHistory (sealed secrets
// appear in event JSON as base64): none may reach a read-model row.
var secretMarkers = []string{
	base64.StdEncoding.EncodeToString([]byte("CIPHERTEXT-"))[:12],
	base64.StdEncoding.EncodeToString([]byte("nonce-"))[:8],
	"$2a$10$PWHASH", "RESETTOKENHASH",
}

// decodedSecretMarkers are the same sealed values as raw bytes, should a
// projector ever decode them.
var decodedSecretMarkers = []string{"CIPHERTEXT-", "nonce-"}

// mixedHistory writes a bit of everything: users and logins, every kind of
// connection and its life, backups through every status, restores, log
// batches and progress.
func mixedHistory(h *history) {
	e := h.e
	alice := h.registerUser("alice@example.test", "Alice", "$2a$10$PWHASHalice")
	bob := h.registerUser("bob@example.test", "Bob", "$2a$10$PWHASHbob")
	h.login(alice, true, "203.0.113.1")
	h.login(bob, false, "203.0.113.2")
	h.login(bob, false, "203.0.113.2")
	at := h.tick(time.Minute)
	update(h, "bob@example.test", commands.UserStream(bob), h.user(bob), func(u *domain.User) error {
		if err := u.RequestPasswordReset("RESETTOKENHASH1", time.Hour, at); err != nil {
			return err
		}
		return u.ResetPassword("RESETTOKENHASH1", "$2a$10$PWHASHbob2", at)
	})
	h.login(bob, true, "203.0.113.2")

	s3src := h.s3Source("Photos", "s3src")
	mongo := h.createConnection(domain.KindMongoSource, "Shop DB", map[string]string{"database": "shop", "username": "app"},
		map[string]domain.SealedSecret{"uri": sealed("mongouri"), "password": sealed("mongopw")})
	s3dst := h.s3Destination("Archive", "s3dst")
	drive := h.createConnection(domain.KindDriveDestination, "Drive", map[string]string{"folder_name": "backups"},
		map[string]domain.SealedSecret{"refresh_token": sealed("refresh")})
	rt := h.tick(time.Minute)
	update(h, "system:oauth", commands.ConnectionStream(drive), h.conn(drive), func(c *domain.Connection) error {
		return c.RefreshTokens(sealed("access"), sealed("refresh2"), rt.Add(time.Hour), rt)
	})
	ut := h.tick(time.Minute)
	update(h, "alice@example.test", commands.ConnectionStream(s3src), h.conn(s3src), func(c *domain.Connection) error {
		return c.Update("Photos bucket", s3Settings("photos"), c.MergeSecrets(map[string]domain.SealedSecret{"secret_access_key": sealed("s3src2")}), domain.Check{OK: true}, ut)
	})
	ct := h.tick(time.Minute)
	update(h, "system:checker", commands.ConnectionStream(mongo), h.conn(mongo), func(c *domain.Connection) error {
		return c.RecordCheck(domain.Check{OK: false, Reason: "authentication failed", Field: "password"}, ct)
	})
	spare := h.s3Destination("Spare", "spare")
	dt := h.tick(time.Minute)
	update(h, "alice@example.test", commands.ConnectionStream(spare), h.conn(spare), func(c *domain.Connection) error { return c.Delete(dt) })

	// Backups: completed (with progress and logs), failed, paused and
	// resumed, interrupted, cancelled while running, cancelled pending.
	done := h.completedBackup("alice@example.test", s3src, s3dst, 4096)
	h.progress(done, "w1", 1, domain.Progress{Phase: "done", ObjectsDone: 3, ObjectsTotal: 3, BytesDone: 12288, BytesTotal: 12288, SecondsLeft: 0})

	failed := h.requestBackup("bob@example.test", mongo, drive)
	h.start(failed, "w2")
	h.logLines(failed, 1, "mongodump started", "WARN mongodump: connection reset")
	h.opUpdate("system:w2", failed, func(o *domain.Operation, at time.Time) error {
		return o.Fail("w2", "mongodump exited with status 1", "mongodump-failed", "goroutine 7 [running]", at)
	})
	h.detach(failed, mongo, drive)

	paused := h.requestBackup("alice@example.test", s3src, drive)
	h.start(paused, "w1")
	h.progress(paused, "w1", 1, domain.Progress{Phase: "uploading", ObjectsDone: 1, ObjectsTotal: 3, SecondsLeft: 20})
	h.opUpdate("alice@example.test", paused, func(o *domain.Operation, at time.Time) error { return o.RequestPause(at) })
	h.opUpdate("system:w1", paused, func(o *domain.Operation, at time.Time) error { return o.MarkPaused("w1", "after object 1 of 3", 3, at) })
	h.opUpdate("alice@example.test", paused, func(o *domain.Operation, at time.Time) error { return o.RequestResume(at) })
	h.start(paused, "w2")
	h.logLines(paused, 3, "Resumed after object 1")
	h.opUpdate("system:w2", paused, func(o *domain.Operation, at time.Time) error {
		return o.CompleteBackup("w2", backupResult(3, 30, 20, "gdrive://file123"), at)
	})
	h.detach(paused, s3src, drive)

	interrupted := h.requestBackup("alice@example.test", mongo, s3dst)
	h.start(interrupted, "w3")
	h.opUpdate("system:reaper", interrupted, func(o *domain.Operation, at time.Time) error { return o.Interrupt("w3", 1, at.Add(-time.Minute), at) })

	cancelledRunning := h.requestBackup("bob@example.test", s3src, s3dst)
	h.start(cancelledRunning, "w1")
	h.opUpdate("bob@example.test", cancelledRunning, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
	h.opUpdate("system:w1", cancelledRunning, func(o *domain.Operation, at time.Time) error {
		return o.MarkCancelled([]string{"aborted the multipart upload"}, at)
	})
	h.detach(cancelledRunning, s3src, s3dst)
	cancelledPending := h.requestBackup("bob@example.test", s3src, s3dst)
	h.opUpdate("bob@example.test", cancelledPending, func(o *domain.Operation, at time.Time) error { return o.RequestCancel(at) })
	h.detach(cancelledPending, s3src, s3dst)

	// Restores: one verified into an existing connection, one typed in
	// (with its own secret) that fails verification.
	verified := uuid.New()
	h.opUpdate("alice@example.test", verified, func(o *domain.Operation, at time.Time) error {
		b, err := commands.Load(e.ctx, e.store, commands.OperationStream(done), h.op(done))
		if err != nil {
			return err
		}
		id := s3src
		return o.RequestRestore(b, domain.RestoreTarget{ConnectionID: &id, Kind: domain.KindS3Source, Name: "Photos bucket"},
			domain.RestoreOptions{Prefix: "restored/", Conflict: "overwrite"}, at)
	})
	h.start(verified, "w1")
	h.opUpdate("system:w1", verified, func(o *domain.Operation, at time.Time) error {
		return o.RecordVerification("w1", domain.RestoreReport{Verified: true, Summary: "3 of 3 objects verified", Checked: 3, Restored: 3}, at)
	})
	mismatch := uuid.New()
	h.opUpdate("bob@example.test", mismatch, func(o *domain.Operation, at time.Time) error {
		b, err := commands.Load(e.ctx, e.store, commands.OperationStream(done), h.op(done))
		if err != nil {
			return err
		}
		return o.RequestRestore(b, domain.RestoreTarget{Kind: domain.KindS3Source, Name: "elsewhere", Settings: s3Settings("elsewhere"),
			Secrets: map[string]domain.SealedSecret{"secret_access_key": sealed("typedin")}}, domain.RestoreOptions{Conflict: "skip"}, at)
	})
	h.start(mismatch, "w2")
	h.logLines(mismatch, 1, "Downloading the archive", "Verifying")
	h.opUpdate("system:w2", mismatch, func(o *domain.Operation, at time.Time) error {
		return o.RecordVerification("w2", domain.RestoreReport{Summary: "1 object differs", Checked: 3, Restored: 3,
			Mismatched: []domain.Mismatch{{Key: "a.txt", Reason: "sha256 differs"}}}, at)
	})
	// Executor-only events: checkpoints and archive entries (not projected,
	// but part of $all).
	_, err := e.store.Append(h.as("system:w1"), commands.OperationCheckpointStream(done), eventstore.Any(),
		domain.ArchiveEntriesRecorded{OperationID: done, Attempt: 1, Entries: []domain.ArchiveEntry{{Index: 0, Key: "a.txt", Path: "a.txt", Size: 3, SHA256: "x"}}},
		domain.OperationCheckpointed{OperationID: done, Attempt: 1, Seq: 1, State: []byte(`{"cursor":"a.txt"}`), At: h.tick(time.Second)})
	require.NoError(e.t, err)
}

func TestReplayRebuildsIdenticalReadModels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.history()
	mixedHistory(h)
	e.caughtUp()
	require.Empty(t, e.runner.Failures())

	live := e.snapshotAll()
	for table, rows := range live {
		if strings.HasPrefix(table, "report_") {
			continue
		}
		require.NotEqual(t, "[]", rows, "%s has rows", table)
	}
	objectsBefore := schemaObjects(t, e)

	// A row no event explains: the rebuild must not keep it.
	_, err := e.pool.Exec(e.ctx, `INSERT INTO users (id, email, name, role, registered_at) VALUES ($1, 'ghost@example.test', 'Ghost', 'admin', now())`, uuid.New())
	require.NoError(t, err)

	// Rebuild while the live runner keeps running.
	require.NoError(t, e.runner.Rebuild(e.ctx))
	rebuilt := e.snapshotAll()
	for table := range live {
		require.JSONEq(t, live[table], rebuilt[table], "table %s differs after the rebuild", table)
	}
	require.Equal(t, objectsBefore, schemaObjects(t, e), "the same tables and views")

	// The live runner goes on from the rebuilt state.
	carol := h.registerUser("carol@example.test", "Carol", "$2a$10$PWHASHcarol")
	e.caughtUp()
	u, err := e.queries.GetUser(e.ctx, carol)
	require.NoError(t, err)
	require.Equal(t, "Carol", u.Name)
	var audits int
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT count(*) FROM audit_events WHERE stream = $1`, commands.UserStream(carol)).Scan(&audits))
	require.Equal(t, 1, audits, "applied once, after the rebuild")

	// And a second live runner started afresh on the same database (a
	// restart) changes nothing.
	before := e.snapshotAll()
	e.stop()
	e.start()
	e.caughtUp()
	after := e.snapshotAll()
	for table := range before {
		require.JSONEq(t, before[table], after[table], "table %s changed on restart", table)
	}
}

// schemaObjects lists the tables and views of the public schema.
func schemaObjects(t *testing.T, e *env) []string {
	t.Helper()
	rows, err := e.pool.Query(e.ctx, `SELECT table_type || ' ' || table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		var s string
		require.NoError(t, rows.Scan(&s))
		out = append(out, s)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestRebuildKeepsOtherTablesAndMigrations(t *testing.T) {
	t.Parallel()
	e := newEnvNotRunning(t)
	require.NoError(t, projections.Migrate(e.ctx, e.pool))
	_, err := e.pool.Exec(e.ctx, `CREATE TABLE http_sessions (id text PRIMARY KEY); INSERT INTO http_sessions VALUES ('keep-me')`)
	require.NoError(t, err)
	var migrations int
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT count(*) FROM schema_migrations`).Scan(&migrations))
	require.Equal(t, 7, migrations)

	// Nothing in $all but the emulator's own events yet: an empty rebuild.
	require.NoError(t, e.runner.Rebuild(e.ctx))
	h := e.history()
	h.registerUser("dave@example.test", "Dave", "$2a$10$PWHASHdave")
	require.NoError(t, e.runner.Rebuild(e.ctx))

	var kept string
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT id FROM http_sessions`).Scan(&kept))
	require.Equal(t, "keep-me", kept)
	var after int
	require.NoError(t, e.pool.QueryRow(e.ctx, `SELECT count(*) FROM schema_migrations`).Scan(&after))
	require.Equal(t, migrations, after)
	require.Contains(t, e.snapshot("users", "id"), "dave@example.test")
	// Every projector's checkpoint is at the end of $all.
	end, ok, err := e.store.LastEventPosition(e.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	for _, p := range projections.Projectors() {
		cp, err := projections.NewCheckpoints(e.pool).Load(e.ctx, p.Name())
		require.NoError(t, err)
		require.Equal(t, &end, cp, p.Name())
	}
}

func TestDeliveringAnEventTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mixedHistory(e.history())
	e.caughtUp()
	before := e.snapshotAll()

	end, ok, err := e.store.LastEventPosition(e.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	applied := 0
	require.NoError(t, e.store.ReadAllEvents(e.ctx, nil, end, func(rec eventstore.Recorded) error {
		for _, p := range projections.Projectors() {
			for _, typ := range p.EventTypes() {
				if typ == rec.Type {
					applied++
					if err := projections.ApplyOnce(e.ctx, e.pool, p, rec); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}))
	require.Greater(t, applied, 100)
	after := e.snapshotAll()
	for table := range before {
		require.JSONEq(t, before[table], after[table], "table %s changed by a second delivery", table)
	}
}

func TestNoSecretOrHashInAnyRow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mixedHistory(e.history())
	e.caughtUp()

	// The markers are in the events (so this test can fail)…
	raw := allEventBytes(t, e)
	for _, m := range secretMarkers {
		require.Contains(t, raw, m, "the history holds %q", m)
	}
	// …and in no row of any table or view.
	for _, obj := range schemaObjects(t, e) {
		name := strings.TrimPrefix(strings.TrimPrefix(obj, "VIEW "), "BASE TABLE ")
		dump := e.snapshot(name, "1")
		for _, m := range append(secretMarkers, decodedSecretMarkers...) {
			require.NotContains(t, dump, m, "%s holds %q", name, m)
		}
	}
}

func allEventBytes(t *testing.T, e *env) string {
	t.Helper()
	rs, err := e.store.Client().ReadAll(e.ctx, esdb.ReadAllOptions{}, 100_000)
	require.NoError(t, err)
	defer rs.Close()
	var b strings.Builder
	for {
		ev, err := rs.Recv()
		if err != nil {
			break
		}
		b.Write(ev.OriginalEvent().Data)
		b.Write(ev.OriginalEvent().UserMetadata)
	}
	return b.String()
}
