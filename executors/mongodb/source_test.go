package mongodb_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/mongodb"
	"backupd/executors/testsupport/mongofixture"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
)

func TestSourceDumpsEveryCollectionRestorably(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seedShop(t, client, db, 120, 2500)
	rec, logger := newRecorder()
	spool := t.TempDir()
	src := mongodb.NewSource(configFor(peer, db), tools, logger, spool)
	ctx := peers.Context(t)

	info, err := src.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, archive.SourceInfo{Service: "mongodb", Format: "mongodb-tar-gz/1", Database: db,
		ToolVersion: "mongodump version: built-without-version-string", PathPrefix: "mongodb/" + db + "/", EntrySuffix: ".archive.gz"}, info)
	require.Equal(t, "mongodb/"+db+"/orders.archive.gz", mongodb.EntryPath(info, "orders"))

	entries, bytes, err := src.Estimate(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(4), entries)
	require.Positive(t, bytes)

	want := map[string]int64{"customers": 120, "empty_collection": 0, "events": 2500, "orders": 30}
	var keys []string
	restored := peer.Database(t)
	err = src.List(ctx, "", func(e archive.Entry) error {
		keys = append(keys, e.Key)
		require.NotNil(t, e.Documents)
		require.Equal(t, want[e.Key], *e.Documents, e.Key)
		require.False(t, e.Resumable)
		require.Equal(t, "application/gzip", e.ContentType)

		// The entry's bytes are a mongodump archive of the collection:
		// exactly Size bytes, readable from an offset, restorable on its own.
		rd, err := e.Open(ctx, 0)
		require.NoError(t, err)
		all, err := io.ReadAll(rd)
		require.NoError(t, err)
		require.NoError(t, rd.Close())
		require.Equal(t, e.Size, int64(len(all)))
		rd, err = e.Open(ctx, 10)
		require.NoError(t, err)
		tail, err := io.ReadAll(rd)
		require.NoError(t, err)
		require.NoError(t, rd.Close())
		require.Equal(t, all[10:], tail)

		file := filepath.Join(t.TempDir(), e.Key+mongodb.EntrySuffix)
		require.NoError(t, os.WriteFile(file, all, 0o600))
		restoreWithStandIn(t, peer, file, db+"."+e.Key, restored+"."+e.Key)

		spools := dirEntries(t, spool)
		require.Len(t, spools, 1, "only this entry's spool file: %v", spools)
		e.Release()
		e.Release() // idempotent
		require.Empty(t, dirEntries(t, spool))
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []string{"customers", "empty_collection", "events", "orders"}, keys)
	for coll := range want {
		requireSameDocuments(t, mongofixture.RawDocs(t, client, db, coll), mongofixture.RawDocs(t, client, restored, coll), coll)
	}
	require.Empty(t, dirEntries(t, spool), "no spool or config file left")

	// mongodump's own lines reached the log as they came.
	require.True(t, rec.has(slog.LevelInfo, "mongodump: writing `"+db+".customers` to \"archive `"), rec.text())
	require.True(t, rec.has(slog.LevelInfo, "mongodump: done dumping `"+db+".events` (2500 documents)"), rec.text())
	require.True(t, rec.has(slog.LevelInfo, "collection events: 2500 documents"), rec.text())

	// Continuing after a collection lists only the ones after it.
	keys = nil
	require.NoError(t, src.List(ctx, "empty_collection", func(e archive.Entry) error {
		keys = append(keys, e.Key)
		e.Release()
		return nil
	}))
	require.Equal(t, []string{"events", "orders"}, keys)

	// fn's error stops the listing, and the entry is released.
	stop := errors.New("stop here")
	require.ErrorIs(t, src.List(ctx, "", func(e archive.Entry) error { return stop }), stop)
	require.Empty(t, dirEntries(t, spool))
}

// mongodump gets the URI through a 0600 --config file, removed afterwards:
// nothing secret in its arguments (/proc/PID/cmdline, what ps shows) or in
// the log.
func TestSourceKeepsSecretsOutOfArgvAndLogs(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	tools.Mongodump = mongotools.WithEnv(t, tools.Mongodump, mongotools.EnvDocumentDelay+"=4ms")
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seedShop(t, client, db, 300, 0)
	rec, logger := newRecorder()
	spool := t.TempDir()
	src := mongodb.NewSource(configFor(peer, db), tools, logger, spool)

	type seen struct {
		args       []string
		configMode os.FileMode
		config     string
	}
	var mu sync.Mutex
	var sightings []seen
	done := make(chan struct{})
	go func() {
		defer close(done)
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			for _, args := range processesWith("--archive=" + spool) {
				s := seen{args: args}
				for _, a := range args {
					if p, ok := strings.CutPrefix(a, "--config="); ok {
						if st, err := os.Stat(p); err == nil {
							s.configMode = st.Mode().Perm()
							b, _ := os.ReadFile(p)
							s.config = string(b)
						}
					}
				}
				mu.Lock()
				sightings = append(sightings, s)
				n := len(sightings)
				mu.Unlock()
				if n > 3 {
					return
				}
			}
		}
	}()
	err := src.List(peers.Context(t), "", func(e archive.Entry) error { e.Release(); return nil })
	require.NoError(t, err)
	<-done
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, sightings, "mongodump was never seen running")
	for _, s := range sightings {
		cmdline := strings.Join(s.args, " ")
		require.NotContains(t, cmdline, "s3cret")
		require.NotContains(t, cmdline, "mongodb://")
		require.Contains(t, cmdline, "--db="+db)
		require.Equal(t, os.FileMode(0o600), s.configMode, cmdline)
		require.Contains(t, s.config, "s3cret", "the secret is in the config file instead")
	}
	require.NotContains(t, rec.text(), "s3cret")
	require.Empty(t, dirEntries(t, spool), "the config file is removed")
}

func TestSourceCancelStopsMongodumpAndLeavesNothing(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	tools.Mongodump = mongotools.WithEnv(t, tools.Mongodump, mongotools.EnvDocumentDelay+"=20ms", mongotools.EnvProgressInterval+"=100ms")
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seedShop(t, client, db, 300, 0)
	_, logger := newRecorder()
	spool := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progressed := make(chan struct{})
	var once sync.Once
	type tick struct {
		coll        string
		done, total int64
	}
	var progress []tick // written by the stderr reader only, read after List
	src := mongodb.NewSource(configFor(peer, db), tools, logger, spool, mongodb.WithProgress(func(coll string, done, total int64) {
		progress = append(progress, tick{coll, done, total})
		once.Do(func() { close(progressed) })
	}))

	var pids []int
	go func() {
		<-progressed
		for pid := range processesWith("--archive=" + spool) {
			pids = append(pids, pid)
		}
		cancel()
	}()
	start := time.Now()
	err := src.List(ctx, "", func(e archive.Entry) error {
		e.Release()
		return errors.New("no entry should complete")
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, time.Since(start), 5*time.Second, "300 documents take 6 s: the dump was stopped")
	require.Len(t, pids, 1)
	require.False(t, alive(pids[0]), "mongodump is gone")
	require.Empty(t, dirEntries(t, spool), "no spool, no config file")
	require.Equal(t, tick{"customers", progress[0].done, 300}, progress[0])
	require.Less(t, progress[0].done, int64(300))
}

func TestSourceReportsMongodumpFailures(t *testing.T) {
	t.Parallel()
	tools := standInTools(t)
	peer := peers.Mongo(t)
	client := peer.Client(t)
	db := peer.Database(t)
	seedShop(t, client, db, 3, 0)
	dir := t.TempDir()
	// A wrapper that breaks the real thing: mongodump itself then fails
	// to authenticate, exactly as with a wrong password.
	wrongPassword := filepath.Join(dir, "mongodump")
	require.NoError(t, os.WriteFile(wrongPassword, []byte("#!/bin/sh\nexec '"+tools.Mongodump+"' \"$@\" --password=not-it\n"), 0o755))
	// And one that dumps a collection that is gone.
	dropped := filepath.Join(dir, "mongodump-dropped")
	require.NoError(t, os.WriteFile(dropped, []byte("#!/bin/sh\nexec '"+tools.Mongodump+"' \"$@\" --collection=gone\n"), 0o755))

	t.Run("mongodump fails", func(t *testing.T) {
		t.Parallel()
		rec, logger := newRecorder()
		spool := t.TempDir()
		src := mongodb.NewSource(configFor(peer, db), mongodb.Tools{Mongodump: wrongPassword}, logger, spool)
		err := src.List(peers.Context(t), "", func(e archive.Entry) error { e.Release(); return nil })
		var te *mongodb.ToolError
		require.ErrorAs(t, err, &te)
		require.Equal(t, "mongodump", te.Tool)
		require.Equal(t, 1, te.ExitCode)
		require.True(t, strings.HasPrefix(te.Reason, "can't create session: could not connect to server: connection() error occurred during connection handshake: auth error"), te.Reason)
		require.Contains(t, err.Error(), `dumping collection "customers": mongodump failed (exit status 1): can't create session`)
		require.True(t, rec.has(slog.LevelError, "mongodump: Failed: can't create session"), rec.text())
		require.NotContains(t, err.Error()+rec.text(), "s3cret")
		require.Empty(t, dirEntries(t, spool))
	})
	t.Run("collection dropped while the backup runs", func(t *testing.T) {
		t.Parallel()
		rec, logger := newRecorder()
		spool := t.TempDir()
		src := mongodb.NewSource(configFor(peer, db), mongodb.Tools{Mongodump: dropped}, logger, spool)
		var keys []string
		require.NoError(t, src.List(peers.Context(t), "", func(e archive.Entry) error { keys = append(keys, e.Key); return nil }))
		require.Empty(t, keys)
		require.True(t, rec.has(slog.LevelWarn, "collection orders was dropped while the backup ran"), rec.text())
		require.Empty(t, dirEntries(t, spool))
	})
	t.Run("mongodump missing", func(t *testing.T) {
		t.Parallel()
		src := mongodb.NewSource(configFor(peer, db), mongodb.Tools{Mongodump: filepath.Join(dir, "nope", "mongodump")}, nil, t.TempDir())
		_, err := src.Info(peers.Context(t))
		require.ErrorIs(t, err, mongodb.ErrToolMissing)
		require.EqualError(t, err, "mongodump was not found at "+filepath.Join(dir, "nope", "mongodump")+": install MongoDB Database Tools or set BACKUPD_MONGODUMP")
		err = src.List(peers.Context(t), "", func(archive.Entry) error { return nil })
		require.ErrorIs(t, err, mongodb.ErrToolMissing)
	})
	t.Run("wrong password for the listing", func(t *testing.T) {
		t.Parallel()
		cfg := mongodb.Config{URI: strings.Replace(peer.URI, ":s3cret@", ":bad-one@", 1), Database: db}
		src := mongodb.NewSource(cfg, tools, nil, t.TempDir())
		err := src.List(peers.Context(t), "", func(archive.Entry) error { return nil })
		var ce *mongodb.ConnectError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "uri", ce.Field)
		require.NotContains(t, err.Error(), "bad-one")
	})
}

func TestSourceReopenIsNotResumable(t *testing.T) {
	t.Parallel()
	src := mongodb.NewSource(mongodb.Config{URI: "mongodb://h", Database: "d"}, mongodb.Tools{}, nil, "")
	_, err := src.Reopen(context.Background(), archive.Ref{Key: "c"}, 10)
	require.ErrorIs(t, err, archive.ErrNotResumable)
}
