package commands_test

import (
	"strings"
	"testing"

	"backupd/commands"
	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// completedBackup runs a backup of src to dst through the executor-facing
// commands and returns its id.
func (f *fixture) completedBackup(src, dst *domain.Connection, result domain.BackupResult) uuid.UUID {
	f.t.Helper()
	id := f.requestBackup(src.ID, dst.ID)
	_, err := f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: "w1"})
	require.NoError(f.t, err)
	_, err = f.h.CompleteBackup.Handle(f.ctx(), commands.CompleteBackup{ID: id, WorkerID: "w1", Result: result})
	require.NoError(f.t, err)
	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.NoError(f.t, err)
	return id
}

func s3Result(bucket string) domain.BackupResult {
	return domain.BackupResult{Format: "s3-bucket-tar-gz/1", ArchiveName: "b.tar.gz", ArchiveLocation: "s3://dst/b.tar.gz", ObjectCount: 2, SourceBucket: bucket}
}

func TestRequestRestoreToAConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	backupID := f.completedBackup(src, dst, s3Result(src.Settings["bucket"]))
	other := f.create(s3Input(domain.KindS3Source, peers.RandomName("other-")))

	_, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: commands.RestoreTargetInput{ConnectionID: &src.ID}})
	requireSlug(t, err, "confirm-overwrite-original", "overwrite_original")
	require.Zero(t, f.connection(dst.ID).ActiveOperations(), "a refusal reserves nothing")
	require.Zero(t, f.connection(src.ID).ActiveOperations())

	id, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID,
		Target: commands.RestoreTargetInput{ConnectionID: &other.ID}, Options: domain.RestoreOptions{Prefix: "restored/", Conflict: "skip"}})
	require.NoError(t, err)
	op := f.operation(id)
	require.Equal(t, domain.OpRestore, op.Kind)
	require.Equal(t, domain.OpPending, op.Status)
	require.Equal(t, domain.ConnectionRef{ID: dst.ID, Name: dst.Name, Kind: dst.Kind}, op.Source, "the archive's connection")
	require.Equal(t, other.ID, op.Destination.ID)
	require.Equal(t, backupID, op.Restore.BackupID)
	require.Equal(t, "skip", op.Restore.Options.Conflict)
	require.Equal(t, src.Settings["bucket"], op.Restore.Backup.SourceBucket)
	require.Empty(t, op.Restore.Target.Secrets, "an existing connection's secrets stay with it")

	require.Equal(t, 1, f.connection(dst.ID).ActiveOperations())
	require.Equal(t, 1, f.connection(other.ID).ActiveOperations())
	for _, c := range []uuid.UUID{dst.ID, other.ID} {
		_, err = f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: c})
		require.ErrorIs(t, err, domain.ErrConnectionInUse)
	}

	_, err = f.h.PauseOperation.Handle(f.ctx(), commands.PauseOperation{ID: id})
	requireSlug(t, err, "pause-unsupported", "")
	_, err = f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: "r1"})
	require.NoError(t, err)
	report := domain.RestoreReport{Verified: true, Summary: "2 objects verified", Checked: 2, Restored: 2}
	op, err = f.h.RecordVerification.Handle(f.ctx(), commands.RecordVerification{ID: id, WorkerID: "r1", Report: report})
	require.NoError(t, err)
	require.Equal(t, domain.OpCompleted, op.Status)
	require.Equal(t, &report, f.operation(id).Report)

	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.NoError(t, err)
	require.Zero(t, f.connection(dst.ID).ActiveOperations())
	require.Zero(t, f.connection(other.ID).ActiveOperations())

	t.Run("over the original, confirmed; verification fails", func(t *testing.T) {
		id, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID,
			Target: commands.RestoreTargetInput{ConnectionID: &src.ID}, Options: domain.RestoreOptions{OverwriteOriginal: true}})
		require.NoError(t, err)
		_, err = f.h.ClaimOperation.Handle(f.ctx(), commands.ClaimOperation{ID: id, WorkerID: "r2"})
		require.NoError(t, err)
		op, err := f.h.RecordVerification.Handle(f.ctx(), commands.RecordVerification{ID: id, WorkerID: "r2",
			Report: domain.RestoreReport{Summary: "1 object differs", Mismatched: []domain.Mismatch{{Key: "a", Reason: "sha256 differs"}}}})
		require.NoError(t, err)
		require.Equal(t, domain.OpFailed, op.Status)
		require.Equal(t, "verification-failed", op.ErrorCode)
	})
}

func TestRequestRestoreRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	backupID := f.completedBackup(src, dst, s3Result(src.Settings["bucket"]))
	pendingID := f.requestBackup(src.ID, dst.ID)
	mongo := f.create(mongoInput(peers.RandomName("m")))
	gone := f.create(s3Input(domain.KindS3Source, peers.RandomName("gone-")))
	_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: gone.ID})
	require.NoError(t, err)
	other := f.create(s3Input(domain.KindS3Source, peers.RandomName("target-")))
	typedBucket := peers.RandomName("typed-")
	typed := func(mut func(*commands.RestoreTargetInput)) commands.RestoreTargetInput {
		in := s3Input(domain.KindS3Source, typedBucket)
		t := commands.RestoreTargetInput{Kind: in.Kind, Settings: in.Settings, Secrets: in.Secrets}
		if mut != nil {
			mut(&t)
		}
		return t
	}
	unknown := uuid.New()
	dstEvents := len(f.events(commands.ConnectionStream(dst.ID)))

	for _, tc := range []struct {
		name        string
		backup      uuid.UUID
		target      commands.RestoreTargetInput
		opts        domain.RestoreOptions
		slug, field string
	}{
		{"unknown backup", uuid.New(), commands.RestoreTargetInput{ConnectionID: &other.ID}, domain.RestoreOptions{}, "backup-not-found", ""},
		{"a connection is not a backup", src.ID, commands.RestoreTargetInput{ConnectionID: &other.ID}, domain.RestoreOptions{}, "backup-not-found", ""},
		{"backup not completed", pendingID, commands.RestoreTargetInput{ConnectionID: &other.ID}, domain.RestoreOptions{}, "backup-not-completed", ""},
		{"target of another kind", backupID, commands.RestoreTargetInput{ConnectionID: &mongo.ID}, domain.RestoreOptions{Database: "x"}, "target-kind", "target"},
		{"target is a destination", backupID, commands.RestoreTargetInput{ConnectionID: &dst.ID}, domain.RestoreOptions{}, "wrong-role", "target"},
		{"target deleted", backupID, commands.RestoreTargetInput{ConnectionID: &gone.ID}, domain.RestoreOptions{}, "connection-deleted", "target"},
		{"target unknown", backupID, commands.RestoreTargetInput{ConnectionID: &unknown}, domain.RestoreOptions{}, "connection-not-found", "target"},
		{"no target", backupID, commands.RestoreTargetInput{}, domain.RestoreOptions{}, "field-required", "target"},
		{"bad conflict option", backupID, commands.RestoreTargetInput{ConnectionID: &other.ID}, domain.RestoreOptions{Conflict: "drop"}, "conflict-invalid", "conflict"},
		{"prefix escapes", backupID, commands.RestoreTargetInput{ConnectionID: &other.ID}, domain.RestoreOptions{Prefix: "a/../../b"}, "prefix-invalid", "prefix"},
		{"typed destination kind", backupID, typed(func(in *commands.RestoreTargetInput) { in.Kind = domain.KindS3Destination }), domain.RestoreOptions{}, "wrong-role", "target"},
		{"typed without bucket", backupID, typed(func(in *commands.RestoreTargetInput) { delete(in.Settings, "bucket") }), domain.RestoreOptions{}, "field-required", "bucket"},
		{"typed without secret", backupID, typed(func(in *commands.RestoreTargetInput) { in.Secrets = nil }), domain.RestoreOptions{}, "field-required", "secret_access_key"},
		{"typed with unknown secret", backupID, typed(func(in *commands.RestoreTargetInput) { in.Secrets = map[string]string{"pin": "1"} }), domain.RestoreOptions{}, "field-unknown", "pin"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: tc.backup, Target: tc.target, Options: tc.opts})
			requireSlug(t, err, tc.slug, tc.field)
		})
	}
	require.Empty(t, f.checker.callsWith(typedBucket), "bad typed details are refused before connecting")
	require.Len(t, f.events(commands.ConnectionStream(dst.ID)), dstEvents, "no refusal touched the archive's connection")
	require.Zero(t, f.connection(other.ID).ActiveOperations())

	t.Run("typed details that fail the check", func(t *testing.T) {
		f.checker.script(typedBucket, func(_, _ map[string]string) commands.CheckResult {
			return commands.CheckResult{Check: domain.Check{OK: false, Field: "bucket", Reason: "The specified bucket does not exist"}}
		})
		_, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: typed(nil), Options: domain.RestoreOptions{Prefix: "x/"}})
		de := requireSlug(t, err, "connection-check-failed", "bucket")
		require.Equal(t, "The specified bucket does not exist", de.Message)
		require.Len(t, f.checker.callsWith(typedBucket), 1)
		require.Len(t, f.events(commands.ConnectionStream(dst.ID)), dstEvents)
	})

	t.Run("the archive's connection was deleted", func(t *testing.T) {
		src2, dst2 := f.backupPair()
		b := f.completedBackup(src2, dst2, s3Result("x"))
		_, err := f.h.DeleteConnection.Handle(f.ctx(), commands.DeleteConnection{ID: dst2.ID})
		require.NoError(t, err)
		_, err = f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: b, Target: commands.RestoreTargetInput{ConnectionID: &other.ID}, Options: domain.RestoreOptions{Prefix: "p/"}})
		requireSlug(t, err, "connection-deleted", "backup_id")
	})
}

func TestRequestRestoreToTypedDetails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src, dst := f.backupPair()
	backupID := f.completedBackup(src, dst, s3Result(src.Settings["bucket"]))
	bucket := peers.RandomName("typed-")
	secret := "TYPED-SECRET-" + bucket

	id, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID,
		Target: commands.RestoreTargetInput{Kind: domain.KindS3Source,
			Settings: map[string]string{"access_key_id": "AKIA1", "region": "us-east-1", "bucket": bucket, "path_style": "true", "endpoint": "http://127.0.0.1:9"},
			Secrets:  map[string]string{"secret_access_key": secret}},
		Options: domain.RestoreOptions{Prefix: "restored/"}})
	require.NoError(t, err)
	calls := f.checker.callsWith(bucket)
	require.Len(t, calls, 1, "typed details are proven by connecting")
	require.Equal(t, map[string]string{"secret_access_key": secret}, calls[0].Secrets)

	op := f.operation(id)
	target := op.Restore.Target
	require.Nil(t, target.ConnectionID)
	require.Equal(t, domain.KindS3Source, target.Kind)
	require.Equal(t, "s3://"+bucket+" (typed in)", target.Name)
	require.Equal(t, bucket, target.Settings["bucket"])
	require.Equal(t, "overwrite", op.Restore.Options.Conflict, "the domain's default")
	plain, err := f.keyring.OpenMap(target.Secrets)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"secret_access_key": secret}, plain)
	for _, r := range f.events(commands.OperationStream(id)) {
		for i, form := range encodings(secret) {
			require.Falsef(t, strings.Contains(string(r.Data), form), "typed secret (form %d) in %s", i, r.Type)
		}
	}
	require.Equal(t, 1, f.connection(dst.ID).ActiveOperations(), "only the archive's connection is reserved")

	_, err = f.h.CancelOperation.Handle(f.ctx(), commands.CancelOperation{ID: id})
	require.NoError(t, err)
	_, err = f.h.DetachOperation.Handle(f.ctx(), commands.DetachOperation{OperationID: id})
	require.NoError(t, err)
	require.Zero(t, f.connection(dst.ID).ActiveOperations())
}

func TestRequestRestoreMongoDatabase(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	db := peers.RandomName("shop")
	src := f.create(mongoInput(db))
	dst := f.create(s3Input(domain.KindS3Destination, peers.RandomName("mdst-")))
	backupID := f.completedBackup(src, dst, domain.BackupResult{Format: "mongodb-tar-gz/1", Database: db, ObjectCount: 3})

	t.Run("the source connection's own database is the original place", func(t *testing.T) {
		_, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: commands.RestoreTargetInput{ConnectionID: &src.ID}})
		requireSlug(t, err, "confirm-overwrite-original", "overwrite_original")
		id, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: commands.RestoreTargetInput{ConnectionID: &src.ID},
			Options: domain.RestoreOptions{Database: db + "_copy", Conflict: "drop"}})
		require.NoError(t, err)
		require.Equal(t, db+"_copy", f.operation(id).Restore.Options.Database)
	})

	t.Run("typed details: one database name serves both", func(t *testing.T) {
		copyDB := db + "_typed"
		id, err := f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: commands.RestoreTargetInput{
			Kind: domain.KindMongoSource, Settings: map[string]string{"database": copyDB},
			Secrets: map[string]string{"uri": "mongodb://u:p@127.0.0.1:1/"}}})
		require.NoError(t, err)
		r := f.operation(id).Restore
		require.Equal(t, copyDB, r.Options.Database)
		require.Equal(t, "insert", r.Options.Conflict)
		require.Equal(t, "database "+copyDB+" (typed in)", r.Target.Name)

		id, err = f.h.RequestRestore.Handle(f.ctx(), commands.RequestRestore{BackupID: backupID, Target: commands.RestoreTargetInput{
			Kind: domain.KindMongoSource, Secrets: map[string]string{"uri": "mongodb://u:p@127.0.0.1:1/"}},
			Options: domain.RestoreOptions{Database: copyDB + "2"}})
		require.NoError(t, err)
		require.Equal(t, copyDB+"2", f.operation(id).Restore.Target.Settings["database"])
	})
}
