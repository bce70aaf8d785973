package archive

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/domain"
)

// Cancel tests set TMPDIR to a folder of their own and check it is empty
// afterwards, so they do not run in parallel.

func requireNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, left, "temporary files left behind")
}

func TestCancelRunning(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rig := pauseRig(pauseObjects())
	p := rig.params()
	p.Control = &pauseAfter{n: 30, what: StopCancel}
	_, err := runBackup(t, p)
	require.ErrorIs(t, err, ErrCancelled)
	var cancelled *CancelledError
	require.ErrorAs(t, err, &cancelled)
	require.NotEmpty(t, cancelled.CleanedUp)
	require.Contains(t, cancelled.CleanedUp[0], "aborted the upload")
	require.Len(t, rig.dest.aborted, 1)
	require.Zero(t, rig.dest.openUploads())
	require.Empty(t, rig.dest.files, "nothing stored at the destination")
	require.Contains(t, rig.log.String(), "aborted the upload of photos-")
	requireNoTempFiles(t, tmp)
	require.Equal(t, rig.src.listed.Load(), rig.src.released.Load(), "every listed entry released")
}

// A cancel while the manifest is being built removes its temporary file.
func TestCancelWhileWritingManifest(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rig := pauseRig(pauseObjects())
	stop := &StopSignal{}
	j := &replayHookJournal{fakeJournal: rig.journal, onReplay: func() { stop.Request(StopCancel) }}
	p := rig.params()
	p.Journal = j
	p.Control = stop
	_, err := runBackup(t, p)
	require.ErrorIs(t, err, ErrCancelled)
	var cancelled *CancelledError
	require.ErrorAs(t, err, &cancelled)
	require.Contains(t, cancelled.CleanedUp, "removed the temporary manifest file")
	requireNoTempFiles(t, tmp)
	require.Zero(t, rig.dest.openUploads())
}

type replayHookJournal struct {
	*fakeJournal
	onReplay func()
}

func (j *replayHookJournal) Replay(ctx context.Context, onEntries func([]domain.ArchiveEntry) error, onCheckpoint func(Checkpoint) error) error {
	j.onReplay()
	return j.fakeJournal.Replay(ctx, onEntries, onCheckpoint)
}

func TestCancelAfterResume(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rig := pauseRig(pauseObjects())
	paused := pauseAtPoll(t, rig, 20)

	p := rig.params()
	p.Resume = &paused.Checkpoint
	p.Control = &pauseAfter{n: 10, what: StopCancel}
	_, err := runBackup(t, p)
	var cancelled *CancelledError
	require.ErrorAs(t, err, &cancelled)
	require.Len(t, cancelled.CleanedUp, 2, "%v", cancelled.CleanedUp)
	require.Len(t, rig.dest.discarded, 1, "the paused state is discarded")
	require.Zero(t, rig.dest.openUploads())
	requireNoTempFiles(t, tmp)
}

func TestCancelPaused(t *testing.T) {
	t.Parallel()
	rig := pauseRig(pauseObjects())
	paused := pauseAtPoll(t, rig, 20)
	require.Equal(t, 1, rig.dest.openUploads())

	cleaned, err := CancelPaused(context.Background(), rig.dest, &paused.Checkpoint, nil)
	require.NoError(t, err)
	require.Len(t, cleaned, 1)
	require.Zero(t, rig.dest.openUploads())
}

func TestFailedBackupAbortsUpload(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rig := pauseRig(pauseObjects())
	rig.src.failAfter = 4
	_, err := runBackup(t, rig.params())
	require.ErrorContains(t, err, "listing the source: listing broke")
	require.False(t, errors.Is(err, ErrCancelled))
	require.Len(t, rig.dest.aborted, 1)
	require.Zero(t, rig.dest.openUploads())
	require.Contains(t, rig.log.String(), "backup failed")
	requireNoTempFiles(t, tmp)
}

func TestInterruptedBackupKeepsItsState(t *testing.T) {
	t.Parallel()
	rig := pauseRig(pauseObjects())
	ctx, cancel := context.WithCancel(context.Background())
	rig.dest.onMark = func(n int64) {
		if n == 20 {
			cancel()
		}
	}
	_, err := Backup(ctx, rig.params())
	require.ErrorIs(t, err, context.Canceled)
	require.Empty(t, rig.dest.aborted)
	require.Equal(t, 1, rig.dest.openUploads())
	require.Contains(t, rig.log.String(), "can be resumed")
}

func TestReadErrorIsRetriedFromOffset(t *testing.T) {
	t.Parallel()
	objs := []fakeObject{{key: "big", size: 200 << 10, seed: 1, resumable: true}}
	ref := referenceBackup(t, objs)
	rig := pauseRig(objs)
	rig.src.readErrKey, rig.src.readErrAt = "big", 77777
	out, err := runBackup(t, rig.params())
	require.NoError(t, err)
	requireSameArchive(t, ref, rig, out)
	require.Contains(t, rig.log.String(), "broke off at")
}

func TestStopSignal(t *testing.T) {
	t.Parallel()
	var s StopSignal
	require.Equal(t, StopNone, s.Requested())
	s.Request(StopPause)
	require.Equal(t, StopPause, s.Requested())
	s.Request(StopCancel)
	s.Request(StopPause)
	require.Equal(t, StopCancel, s.Requested(), "a cancel is never downgraded")
	_ = time.Second
}
