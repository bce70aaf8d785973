package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors"
	"backupd/executors/gdrive"
	"backupd/executors/mongodb"
	"backupd/executors/s3"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
	"backupd/httpapi"
	"backupd/httpapi/apitest"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// stack is the whole product in one test: the API on a private
// EventStoreDB and a fresh Postgres database, the projections, and workers
// that run operations, driven through the HTTP API as the UI drives it.
type stack struct {
	*apitest.Server
	t       *testing.T
	conns   *executors.Connectors
	api     *apitest.Client
	S3      peers.S3Peer
	Mongo   peers.MongoPeer
	Drive   *peers.DrivePeer
	workers []*executors.Worker
}

type stackOptions struct {
	Drive   *peers.DrivePeer // default: the shared drive-emulator
	Workers int              // in-process workers (default 1)
	// S3PartSize and DriveChunk make multi-part uploads happen with small
	// test data.
	S3PartSize int64
	DriveChunk int
	Heartbeat  time.Duration
	// MongodumpEnv are test knobs of the stand-in mongodump (for example
	// mongotools.EnvDocumentDelay to slow a dump down).
	MongodumpEnv []string
	// UI serves the built web app (browser tests: fs.Sub(web.Dist, "dist"));
	// Config and Clock reach apitest.Options (poll interval, idle timeout).
	UI     fs.FS
	Config httpapi.Config
	Clock  func() time.Time
}

func startStack(t *testing.T, o stackOptions) *stack {
	t.Helper()
	if o.Drive == nil {
		d := peers.Drive(t)
		o.Drive = &d
	}
	if o.Workers == 0 {
		o.Workers = 1
	}
	dump, restore := mongotools.Build(t)
	if len(o.MongodumpEnv) > 0 {
		dump = mongotools.WithEnv(t, dump, o.MongodumpEnv...)
	}
	conns := &executors.Connectors{
		Tools:    mongodb.Tools{Mongodump: dump, Mongorestore: restore},
		SpoolDir: t.TempDir(),
	}
	if o.S3PartSize > 0 {
		conns.S3Options = append(conns.S3Options, s3.WithPartSize(o.S3PartSize))
	}
	conns.DriveOptions = gdrive.Options{ChunkSize: o.DriveChunk, DurableEvery: 4 << 20}
	srv := apitest.Start(t, apitest.Options{UI: o.UI, Config: o.Config, Clock: o.Clock, Drive: o.Drive, Checker: conns, Restores: func(s *apitest.Server) httpapi.RestorePlanner {
		conns.Keyring = s.Keyring
		conns.Drive = s.Google
		return executors.NewRestorePlanner(s.Store, conns, s.Queries)
	}})

	s := &stack{Server: srv, t: t, conns: conns, S3: peers.S3(t), Mongo: peers.Mongo(t), Drive: o.Drive}
	s.api = srv.Login(t)
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	for i := 0; i < o.Workers; i++ {
		w := executors.NewWorker(executors.WorkerConfig{ID: fmt.Sprintf("test-worker-%d", i+1), MaxJobs: 2, HeartbeatTimeout: o.Heartbeat},
			srv.Store, srv.Commands, conns, srv.Queries, logger)
		s.startWorker(w)
	}
	return s
}

func (s *stack) startWorker(w *executors.Worker) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	s.t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				s.t.Errorf("worker: %v", err)
			}
		case <-time.After(60 * time.Second):
			s.t.Errorf("worker did not stop")
		}
	})
	s.workers = append(s.workers, w)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// createConnection posts a connection through the API and requires it valid.
func (s *stack) createConnection(kind domain.ConnectionKind, name string, settings, secrets map[string]string) uuid.UUID {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/connections", map[string]any{"kind": kind, "name": name, "settings": settings, "secrets": secrets})
	require.Equal(s.t, http.StatusCreated, r.Status, "create %s: %s", name, r.Body)
	var c projections.Connection
	r.JSON(s.t, &c)
	require.Equal(s.t, domain.StatusValid, c.Status)
	return c.ID
}

func (s *stack) s3Settings(bucket, prefix string) (map[string]string, map[string]string) {
	settings := map[string]string{"access_key_id": s.S3.AccessKey, "region": s.S3.Region, "bucket": bucket,
		"endpoint": s.S3.Endpoint, "path_style": "true"}
	if prefix != "" {
		settings["prefix"] = prefix
	}
	return settings, map[string]string{"secret_access_key": s.S3.SecretKey}
}

func (s *stack) s3Source(bucket string) uuid.UUID {
	settings, secrets := s.s3Settings(bucket, "")
	return s.createConnection(domain.KindS3Source, "bucket "+bucket, settings, secrets)
}

func (s *stack) s3Destination(bucket, prefix string) uuid.UUID {
	settings, secrets := s.s3Settings(bucket, prefix)
	return s.createConnection(domain.KindS3Destination, "archive "+bucket, settings, secrets)
}

func (s *stack) mongoSource(database string) uuid.UUID {
	return s.createConnection(domain.KindMongoSource, "mongo "+database,
		map[string]string{"database": database}, map[string]string{"uri": s.Mongo.URI})
}

// driveDestination connects a Drive folder as a user does: the API's
// consent URL, the emulator's consent, the callback. It returns the
// connection and an access token of the test's own (same OAuth client, so
// it sees the files the product creates) to check the results with.
func (s *stack) driveDestination(folder string) (uuid.UUID, string) {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/connections/gdrive/authorize", map[string]any{"name": "drive " + folder, "folder_name": folder})
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Body)
	var a struct {
		AuthorizeURL string `json:"authorize_url"`
	}
	r.JSON(s.t, &a)
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(a.AuthorizeURL)
	require.NoError(s.t, err)
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(s.t, err)
	cb := s.api.Do(http.MethodGet, loc.Path+"?"+loc.RawQuery, nil)
	require.Equal(s.t, http.StatusFound, cb.Status, "%s", cb.Body)
	back, err := url.Parse(cb.Header.Get("Location"))
	require.NoError(s.t, err)
	require.Equal(s.t, "1", back.Query().Get("connected"), back.String())
	id, err := uuid.Parse(strings.TrimPrefix(back.Path, "/connections/"))
	require.NoError(s.t, err, back.String())
	access, _ := s.Drive.Authorize(s.t, "https://www.googleapis.com/auth/drive.file")
	return id, access
}

func (s *stack) backup(source, destination uuid.UUID) uuid.UUID {
	s.t.Helper()
	r := s.api.Do(http.MethodPost, "/api/backups", map[string]any{"source_id": source, "destination_id": destination})
	require.Equal(s.t, http.StatusAccepted, r.Status, "%s", r.Body)
	var out struct {
		ID uuid.UUID `json:"id"`
	}
	r.JSON(s.t, &out)
	return out.ID
}

func (s *stack) operation(id uuid.UUID) projections.Operation {
	s.t.Helper()
	r := s.api.Do(http.MethodGet, "/api/operations/"+id.String(), nil)
	require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Body)
	var op projections.Operation
	r.JSON(s.t, &op)
	return op
}

// waitStatus polls the API until the operation reaches one of statuses; a
// terminal status that is not wanted fails at once with the operation log.
func (s *stack) waitStatus(id uuid.UUID, timeout time.Duration, statuses ...domain.OperationStatus) projections.Operation {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		op := s.operation(id)
		if slices.Contains(statuses, op.Status) {
			return op
		}
		if op.Status.Terminal() || time.Now().After(deadline) {
			s.t.Fatalf("operation %s is %s, want %v; error: %s\nlog:\n%s", id, op.Status, statuses, op.Error, s.logText(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// logs reads the whole terminal log as the UI does: pages of lines after
// the last one it has.
func (s *stack) logs(id uuid.UUID) []projections.LogLine {
	var all []projections.LogLine
	after := int64(0)
	for {
		r := s.api.Do(http.MethodGet, fmt.Sprintf("/api/operations/%s/logs?after=%d&limit=1000", id, after), nil)
		require.Equal(s.t, http.StatusOK, r.Status, "%s", r.Body)
		var out struct {
			Lines   []projections.LogLine `json:"lines"`
			LastSeq int64                 `json:"last_seq"`
		}
		require.NoError(s.t, json.Unmarshal(r.Body, &out))
		all = append(all, out.Lines...)
		if len(out.Lines) < 1000 {
			return all
		}
		after = out.LastSeq
	}
}

func (s *stack) logText(id uuid.UUID) string {
	var b []byte
	for _, l := range s.logs(id) {
		b = append(b, fmt.Sprintf("%s %s %s\n", l.At.Format("15:04:05.000"), l.Level, l.Message)...)
	}
	return string(b)
}
