package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// pauseObjects mixes what a pause treats differently: small entries read
// ahead, streamed resumable ones (a pause may stop inside), a streamed one
// that cannot be continued mid-way, empty ones, and an "a" / "a/b" pair
// whose names depend on the namer's state.
func pauseObjects() []fakeObject {
	return []fakeObject{
		{key: "a", size: 700, seed: 1, resumable: true},
		{key: "a/b", size: 40 << 10, seed: 2, resumable: true},
		{key: "a/c", size: 100, seed: 3, resumable: true},
		{key: "b-empty", size: 0, seed: 4, resumable: true},
		{key: "c/large.bin", size: 70<<10 + 13, seed: 5, resumable: true},
		{key: "d/dump.archive", size: 50<<10 + 1, seed: 6, resumable: false},
		{key: "e/small-1", size: 5000, seed: 7, resumable: true},
		{key: "e/small-2", size: 9000, seed: 8, resumable: true, compressible: true},
		{key: "f/../g", size: 33 << 10, seed: 9, resumable: true, compressible: true},
		{key: "z", size: 1, seed: 10, resumable: true},
	}
}

// pauseRig uses 4 KiB blocks, so a small archive has many boundaries.
func pauseRig(objs []fakeObject) *testRig {
	rig := newRig(newFakeSource(objs...), 12<<10)
	rig.blockSize = 4 << 10
	return rig
}

type reference struct {
	tar     []byte
	entries []ManifestEntry
	polls   int64
}

func referenceBackup(t *testing.T, objs []fakeObject) reference {
	t.Helper()
	rig := pauseRig(objs)
	counter := &pauseAfter{n: 1 << 62}
	p := rig.params()
	p.Control = counter
	out := mustComplete(t, p)
	return reference{tar: gunzip(t, rig.archive(t, out)), entries: entriesOf(t, rig.sidecar(t, out)), polls: counter.calls.Load()}
}

// requireSameArchive checks a backup that was interrupted against the
// uninterrupted one: the decompressed tar stream is byte for byte the same
// (the clock is fixed, so even the manifest is), the manifest beside it
// lists the same entries, and the result's SHA-256 is the file's.
func requireSameArchive(t *testing.T, ref reference, rig *testRig, out BackupOutcome) {
	t.Helper()
	archive := rig.archive(t, out)
	require.Equal(t, sha(archive), out.Result.ArchiveSHA256)
	require.Equal(t, int64(len(archive)), out.Result.ArchiveSize)
	got := gunzip(t, archive)
	require.Equal(t, len(ref.tar), len(got), "tar length")
	require.True(t, string(ref.tar) == string(got), "the tar stream differs from the uninterrupted backup's")
	side := rig.sidecar(t, out)
	require.Equal(t, ref.entries, entriesOf(t, side))
	_, _, err := extractAll(t, archive, side)
	require.NoError(t, err)
	require.Zero(t, rig.dest.openUploads(), "uploads left open")
}

// resumeToSameArchive resumes p's backup from cp and checks that it
// completes with the uninterrupted backup's archive.
func resumeToSameArchive(t *testing.T, ref reference, rig *testRig, p BackupParams, cp *Checkpoint, msgAndArgs ...any) BackupOutcome {
	t.Helper()
	p.Resume = cp
	out, err := runBackup(t, p)
	require.NoError(t, err, msgAndArgs...)
	requireSameArchive(t, ref, rig, out)
	return out
}

// pauseAtPoll runs rig's backup and asks it to pause at the n-th poll; it
// must stop with a PausedError.
func pauseAtPoll(t *testing.T, rig *testRig, n int64) *PausedError {
	t.Helper()
	p := rig.params()
	p.Control = &pauseAfter{n: n, what: StopPause}
	_, err := runBackup(t, p)
	var paused *PausedError
	require.ErrorAs(t, err, &paused)
	return paused
}

func TestPauseResumeAtManyPoints(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	require.Greater(t, ref.polls, int64(50))

	positions := map[int64]bool{}
	var midEntry, outside int
	step := max(1, ref.polls/150)
	for n := int64(1); n <= ref.polls+step; n += step {
		rig := pauseRig(objs)
		p := rig.params()
		p.Control = &pauseAfter{n: n, what: StopPause}
		out, err := runBackup(t, p)
		if err == nil && n > ref.polls/2 {
			// Asked too late: the polls left were in the manifest and
			// end blocks, where a pause does not stop.
			requireSameArchive(t, ref, rig, out)
			continue
		}
		var paused *PausedError
		require.ErrorAs(t, err, &paused, "poll %d", n)
		cp := paused.Checkpoint
		last, _ := rig.journal.Last(context.Background())
		require.Equal(t, cp, *last, "the pause checkpoint is the journal's last")
		require.Equal(t, "pause", cp.Reason)
		positions[cp.Position.TarOffset] = true
		if pe := cp.Position.Partial; pe != nil {
			midEntry++
			require.NotEqual(t, "d/dump.archive", pe.Ref.Key, "paused inside an entry that cannot be continued")
		} else {
			outside++
		}
		require.Contains(t, rig.log.String(), "paused after ")

		out = resumeToSameArchive(t, ref, rig, rig.params(), last, "resuming the pause at poll %d (%s)", n, paused.Where)
		// Nothing before the pause is sent again: parts stay, the tail
		// is kept in the checkpoint.
		require.LessOrEqual(t, rig.dest.received-out.Result.ArchiveSize, int64(rig.dest.partSize), "bytes sent again")
	}
	t.Logf("%d distinct pause points, %d inside entries, %d between", len(positions), midEntry, outside)
	require.Greater(t, len(positions), 15)
	require.Greater(t, midEntry, 3)
	require.Greater(t, outside, 3)
}

func TestPauseResumeChain(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	for _, every := range []int64{3, 11, 25} {
		t.Run(fmt.Sprint(every), func(t *testing.T) {
			rig := pauseRig(objs)
			var resume *Checkpoint
			var out BackupOutcome
			pauses := 0
			for {
				p := rig.params()
				p.Resume = resume
				p.Control = &pauseAfter{n: every, what: StopPause}
				var err error
				out, err = runBackup(t, p)
				if err == nil {
					break
				}
				var paused *PausedError
				require.ErrorAs(t, err, &paused)
				resume = &paused.Checkpoint
				pauses++
				require.Less(t, pauses, 500, "no progress")
			}
			t.Logf("paused %d times", pauses)
			require.Greater(t, pauses, 1)
			requireSameArchive(t, ref, rig, out)
		})
	}
}

func TestPauseWaitsForEntryThatCannotContinue(t *testing.T) {
	t.Parallel()
	objs := []fakeObject{
		{key: "coll-a", size: 200 << 10, seed: 1, resumable: false},
		{key: "coll-b", size: 100, seed: 2, resumable: false},
	}
	rig := pauseRig(objs)
	// Pause as soon as asked: the first poll happens inside coll-a's stream.
	paused := pauseAtPoll(t, rig, 3)
	require.Nil(t, paused.Checkpoint.Position.Partial)
	require.Equal(t, int64(1), paused.Checkpoint.Position.EntriesDone, "stopped right after coll-a")
	require.Equal(t, "coll-a", paused.Checkpoint.Position.LastKey)
	require.Contains(t, paused.Where, "after 1 of 2 objects")
}

func TestPauseLogSaysWhere(t *testing.T) {
	t.Parallel()
	objs := []fakeObject{
		{key: "photos/x.jpg", size: 1 << 20, seed: 1, resumable: true},
	}
	rig := pauseRig(objs)
	paused := pauseAtPoll(t, rig, 20)
	require.Regexp(t, `^after 0 of 1 objects, in photos/x\.jpg at [0-9.]+ KiB of 1\.0 MiB; [0-9.]+ KiB uploaded$`, paused.Where)
	require.Contains(t, rig.log.String(), "paused "+paused.Where)
}

// crashAtMark cancels the run's context at the m-th member boundary, like a
// worker killed mid-upload; checkpoints are kept only every keepEvery-th
// part, so parts and entries after the last one exist when it dies. If
// ready is set, the crash waits (blocking the upload, up to 30 s) until it
// holds, so tests do not depend on how fast the journal goroutine runs.
func crashAtMark(t *testing.T, rig *testRig, p BackupParams, m int64, keepEvery int, ready ...func() bool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rig.journal.keepEvery = keepEvery
	rig.dest.marks.Store(0)
	rig.dest.onMark = func(n int64) {
		if n != m {
			return
		}
		for _, ok := range ready {
			deadline := time.Now().Add(30 * time.Second)
			for !ok() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		}
		cancel()
	}
	defer func() { rig.dest.onMark = nil }()
	_, err := Backup(ctx, p)
	return err
}

// checkpointsWhere counts recorded checkpoints matching f.
func checkpointsWhere(j *fakeJournal, f func(Checkpoint) bool) func() bool {
	return func() bool {
		for _, cp := range j.checkpoints() {
			if f(cp) {
				return true
			}
		}
		return false
	}
}

func TestCrashResumeFromLastCheckpoint(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	var crashes, voided, rewound int
	for m := int64(2); ; m += 3 {
		rig := pauseRig(objs)
		err := crashAtMark(t, rig, rig.params(), m, 3)
		if err == nil {
			break // finished before the m-th boundary
		}
		require.ErrorIs(t, err, context.Canceled)
		last, _ := rig.journal.Last(context.Background())
		if last == nil {
			continue // died before its first checkpoint: a fresh start
		}
		crashes++
		require.Equal(t, 1, rig.dest.openUploads(), "an interrupted backup keeps its upload")
		if pe := last.Position.Partial; pe != nil {
			require.NotEqual(t, "d/dump.archive", pe.Ref.Key, "a crash checkpoint inside an entry that cannot be continued")
		}
		if recordedEntries(rig.journal) > last.Position.EntriesDone {
			voided++
		}
		var st fakeState
		require.NoError(t, json.Unmarshal(last.Upload, &st))
		if committed(rig.dest, st.ID) > st.Committed {
			rewound++
		}
		resumeToSameArchive(t, ref, rig, rig.params(), last, "resume after a crash at boundary %d", m)
	}
	t.Logf("%d crashes: %d left entries to void, %d left parts to replace", crashes, voided, rewound)
	require.Greater(t, crashes, 5)
	require.Positive(t, voided, "no crash exercised voiding entries")
	require.Positive(t, rewound, "no crash exercised replacing parts")
}

func TestCrashTwiceAndResume(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	rig := pauseRig(objs)
	require.Error(t, crashAtMark(t, rig, rig.params(), 15, 1))
	last, _ := rig.journal.Last(context.Background())
	p := rig.params()
	p.Resume = last
	require.Error(t, crashAtMark(t, rig, p, 15, 1))
	last, _ = rig.journal.Last(context.Background())
	resumeToSameArchive(t, ref, rig, p, last)
	reasons := map[string]int{}
	for _, cp := range rig.journal.checkpoints() {
		if cp.Resumed {
			reasons[cp.Reason]++
		}
	}
	require.Equal(t, map[string]int{"start": 1, "resume": 2}, reasons)
}

func TestPeriodicCheckpointWithoutDurableMarks(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	rig := pauseRig(objs)
	rig.dest.noDurable = true // like Drive: chunks rarely end on a member
	p := rig.params()
	p.SuspendEvery = time.Nanosecond
	require.Error(t, crashAtMark(t, rig, p, 30, 1, checkpointsWhere(rig.journal, func(cp Checkpoint) bool {
		return cp.Reason == "periodic" && cp.Position.EntriesDone > 1
	})))
	last, _ := rig.journal.Last(context.Background())
	require.Equal(t, "periodic", last.Reason)
	resumeToSameArchive(t, ref, rig, p, last)
}

func TestResumeRefusesChangedObject(t *testing.T) {
	t.Parallel()
	objs := []fakeObject{{key: "big", size: 300 << 10, seed: 1, resumable: true}}
	rig := pauseRig(objs)
	paused := pauseAtPoll(t, rig, 10)
	require.NotNil(t, paused.Checkpoint.Position.Partial)

	rig.src.objects[0].etag = `"rewritten"`
	p := rig.params()
	p.Resume = &paused.Checkpoint
	_, err := runBackup(t, p)
	require.ErrorIs(t, err, ErrEntryChanged)
	require.False(t, errors.Is(err, ErrPaused))
	require.Zero(t, rig.dest.openUploads(), "a failed backup aborts its upload")
}

func recordedEntries(j *fakeJournal) int64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var n int64
	for _, e := range j.events {
		n += int64(len(e.entries))
	}
	return n
}

func committed(d *fakeDest, id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if u := d.uploads[id]; u != nil {
		return len(u.committed)
	}
	return 0
}

// A worker dying inside an entry that cannot be continued (a MongoDB
// collection) resumes from the checkpoint before it, and the archive
// rewinds to there.
func TestCrashInsideEntryThatCannotContinue(t *testing.T) {
	t.Parallel()
	objs := []fakeObject{
		{key: "coll-a", size: 30 << 10, seed: 1, resumable: false},
		{key: "coll-b", size: 200 << 10, seed: 2, resumable: false},
		{key: "coll-c", size: 10 << 10, seed: 3, resumable: false},
	}
	ref := referenceBackup(t, objs)
	rig := pauseRig(objs)
	require.Error(t, crashAtMark(t, rig, rig.params(), 40, 1, // well inside coll-b
		checkpointsWhere(rig.journal, func(cp Checkpoint) bool { return cp.Position.LastKey == "coll-a" })))
	last, _ := rig.journal.Last(context.Background())
	require.NotNil(t, last)
	require.Nil(t, last.Position.Partial)
	require.Equal(t, "coll-a", last.Position.LastKey)
	var st fakeState
	require.NoError(t, json.Unmarshal(last.Upload, &st))
	require.Greater(t, committed(rig.dest, st.ID), st.Committed, "parts of coll-b were uploaded after the checkpoint")
	resumeToSameArchive(t, ref, rig, rig.params(), last)
}

// A worker that dies before any part is durable resumes from the start
// checkpoint, which names the upload (no orphan upload).
func TestCrashBeforeFirstPart(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	ref := referenceBackup(t, objs)
	rig := pauseRig(objs)
	require.Error(t, crashAtMark(t, rig, rig.params(), 20, 1<<30, func() bool { return recordedEntries(rig.journal) > 0 }))
	last, _ := rig.journal.Last(context.Background())
	require.NotNil(t, last)
	require.Equal(t, "start", last.Reason)
	require.True(t, last.Resumed)
	require.Positive(t, recordedEntries(rig.journal), "entries were recorded before the crash")
	resumeToSameArchive(t, ref, rig, rig.params(), last)
}

// Entries an earlier attempt recorded are void when a fresh backup starts
// over on the same journal, even if the objects changed since.
func TestFreshStartVoidsEarlierEntries(t *testing.T) {
	t.Parallel()
	objs := pauseObjects()
	rig := pauseRig(objs)
	require.Error(t, crashAtMark(t, rig, rig.params(), 20, 1<<30, func() bool { return recordedEntries(rig.journal) > 0 }))
	require.Positive(t, recordedEntries(rig.journal))
	// Starting over instead of resuming: the worker discards the old upload.
	last, _ := rig.journal.Last(context.Background())
	_, err := CancelPaused(context.Background(), rig.dest, last, nil)
	require.NoError(t, err)
	for i := range rig.src.objects {
		rig.src.objects[i].seed += 1000 // every object rewritten
	}
	ref := referenceBackup(t, rig.src.objects)
	out := mustComplete(t, rig.params()) // Resume nil: starts over
	requireSameArchive(t, ref, rig, out)
}
