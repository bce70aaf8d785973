package main

import (
	"context"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/domain"
	"backupd/httpapi"
	"backupd/projections"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

// statusClock records when the read models (what the API serves) first
// showed each status of an operation and each log line, so a test can
// measure how long the page took to show them.
type statusClock struct {
	mu      sync.Mutex
	changes []statusChange
	lines   []projections.LogLine
	lineAt  []time.Time
	err     error
}

func watchOperation(t *testing.T, q *projections.Queries, id uuid.UUID) *statusClock {
	c := &statusClock{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var after int64
		for ctx.Err() == nil {
			op, err := q.GetOperation(ctx, id)
			if err == nil {
				var lines []projections.LogLine
				lines, err = q.LogLines(ctx, id, after, 1000)
				now := time.Now()
				c.mu.Lock()
				if n := len(c.changes); n == 0 || c.changes[n-1].Status != op.Status {
					c.changes = append(c.changes, statusChange{op.Status, now})
				}
				for _, l := range lines {
					c.lines = append(c.lines, l)
					c.lineAt = append(c.lineAt, now)
					after = l.Seq
				}
				c.mu.Unlock()
			}
			if err != nil && ctx.Err() == nil {
				c.mu.Lock()
				c.err = err
				c.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return c
}

type statusChange struct {
	Status domain.OperationStatus
	At     time.Time
}

// since is when the read models last turned to the status. The page can
// see a change before this watcher's next look (it polls every 100 ms), so
// it waits a moment for it.
func (c *statusClock) since(t *testing.T, s domain.OperationStatus) time.Time {
	t.Helper()
	return c.sinceAfter(t, s, time.Time{})
}

// sinceAfter is since for a change that came after another one.
func (c *statusClock) sinceAfter(t *testing.T, s domain.OperationStatus, after time.Time) time.Time {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		err := c.err
		changes := slices.Clone(c.changes)
		c.mu.Unlock()
		require.NoError(t, err)
		for i := len(changes) - 1; i >= 0; i-- {
			if changes[i].Status == s && changes[i].At.After(after) {
				return changes[i].At
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the operation was never %s: %v", s, changes)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lineSince is when the first log line containing text was in the read
// models, and that line.
func (c *statusClock) lineSince(t *testing.T, text string) (time.Time, projections.LogLine) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		for i, l := range c.lines {
			if strings.Contains(l.Message, text) {
				at := c.lineAt[i]
				c.mu.Unlock()
				return at, l
			}
		}
		c.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no log line contains %q", text)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logOnFailure logs the operation's log if the test fails.
func (s *stack) logOnFailure(t *testing.T, op uuid.UUID) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log of %s:\n%s", op, s.logText(op))
		}
	})
}

// waitBadge waits for the operation page's status badge and returns when
// it changed.
func (b *browser) waitBadge(status string, timeout time.Duration) time.Time {
	b.t.Helper()
	b.waitOpStatus(status, timeout)
	return time.Now()
}

// actionButtons are the operation's action buttons the page shows.
func (b *browser) actionButtons() []string {
	b.t.Helper()
	var out []string
	for _, a := range []string{"pause", "resume", "cancel"} {
		if b.exists(tid("operation-" + a)) {
			out = append(out, a)
		}
	}
	return out
}

// requireButtons checks the buttons shown for a status against what the
// server allows in that status.
func (b *browser) requireButtons(s *stack, op uuid.UUID, status domain.OperationStatus, want ...string) {
	b.t.Helper()
	require.Equal(b.t, want, b.actionButtons(), "buttons shown on a %s operation", status)
	apiOp := s.operation(op)
	if apiOp.Status == status {
		allowed := slices.DeleteFunc(slices.Clone(apiOp.AllowedActions), func(a string) bool { return a == "restore" })
		require.ElementsMatch(b.t, allowed, want, "the page shows exactly the actions the server allows")
	}
}

// requireWithinInterval: the page showed a change at most one polling
// interval (plus a margin for a loaded machine) after the server had it.
func requireWithinInterval(t *testing.T, what string, server, page time.Time, interval time.Duration) {
	t.Helper()
	lag := page.Sub(server)
	t.Logf("%s: the page showed it %s after the server had it (interval %s)", what, lag.Round(100*time.Millisecond), interval)
	require.LessOrEqual(t, lag, interval+3*time.Second, "%s within one polling interval", what)
}

// Issue 4 in Chromium, with the polling interval users get (10 s): Pause,
// Resume and Cancel shown only when they apply; after each click the badge,
// the buttons and the log change within one interval of the server.
func TestBrowserPauseResumeCancel(t *testing.T) {
	t.Parallel()
	s, b := browserStack(t, stackOptions{S3PartSize: 5 << 20})
	interval := time.Duration(httpapi.DefaultPollInterval) * time.Second
	src, dst := s.S3.Bucket(t), s.S3.Bucket(t)
	seedParallel(t, s.S3, src, 20, 4<<20) // 80 MiB: 16 parts
	// Each upload request is held 3 s (two go at once): objects remain to
	// be archived for about 20 s, long enough for a user to act even when
	// the page first shows the backup pending and sees it running one
	// interval later. (A cancel that comes after the last object is in the
	// archive is not honoured today: the backup completes.)
	const hold = 3 * time.Second
	slow := newSlowProxy(t, s.S3.Endpoint, hold)

	b.openAndLogin(s)
	var session struct {
		PollIntervalSeconds int `json:"poll_interval_seconds"`
	}
	s.api.Do(http.MethodGet, "/api/session", nil).JSON(t, &session)
	require.Equal(t, httpapi.DefaultPollInterval, session.PollIntervalSeconds, "users get the default interval")
	source := b.addS3Connection(s, s3Form{Kind: "s3_source", Name: "Photos", Bucket: src})
	dest := b.addS3Connection(s, s3Form{Kind: "s3_destination", Name: "Offsite", Bucket: dst, Prefix: "p/", Endpoint: slow.URL})

	var kept []string // the completed archive and its manifest
	// Pause, resume, complete.
	{
		b.click(tid("nav-dashboard"))
		op := b.backupNow(source, dest)
		s.logOnFailure(t, op)
		clock := watchOperation(t, s.Queries, op)
		b.waitBadge("running", 2*time.Minute)
		b.requireButtons(s, op, domain.OpRunning, "pause", "cancel")

		b.click(tid("operation-pause"))
		b.waitVisible(tid("operation-pause-requested"))
		paused := b.waitBadge("paused", 2*time.Minute)
		requireWithinInterval(t, "paused", clock.since(t, domain.OpPaused), paused, interval)
		b.waitVisible(tid("operation-resume"))
		b.requireButtons(s, op, domain.OpPaused, "resume", "cancel")
		apiOp := s.operation(op)
		require.NotEmpty(t, apiOp.PausedPosition)
		require.Equal(t, apiOp.PausedPosition, b.text(tid("operation-paused-position")))
		// The log says where it paused, and the page has that line.
		lineAt, line := clock.lineSince(t, "paused "+apiOp.PausedPosition)
		shown := b.waitLogLine(line.Seq)
		requireWithinInterval(t, "the pause log line", lineAt, shown, interval)
		b.shot("paused")

		b.click(tid("operation-resume"))
		running := b.waitBadge("running", 2*time.Minute)
		requireWithinInterval(t, "running again", clock.sinceAfter(t, domain.OpRunning, clock.since(t, domain.OpPaused)), running, interval)
		b.requireButtons(s, op, domain.OpRunning, "pause", "cancel")
		slow.SetDelay(0)
		completed := b.waitBadge("completed", 3*time.Minute)
		requireWithinInterval(t, "completed", clock.since(t, domain.OpCompleted), completed, interval)
		b.requireButtons(s, op, domain.OpCompleted)
		b.waitVisible(tid("operation-restore"))
		done := s.operation(op)
		require.Equal(t, 2, done.Attempt)
		for _, loc := range []string{done.Result.ArchiveLocation, done.Result.ManifestLocation} {
			kept = append(kept, strings.TrimPrefix(loc, "s3://"+dst+"/"))
		}
		b.shot("completed")
	}

	// Cancel on a running backup asks first.
	{
		slow.SetDelay(hold)
		op := b.backupNow(source, dest)
		s.logOnFailure(t, op)
		clock := watchOperation(t, s.Queries, op)
		b.waitBadge("running", 2*time.Minute)

		// Asked, and kept running.
		b.click(tid("operation-cancel"))
		b.waitVisible(tid("cancel-operation-dialog"))
		b.shot("cancel-dialog")
		b.click(tid("confirm-cancel"))
		b.waitGone(tid("cancel-operation-dialog"))
		require.False(t, s.operation(op).CancelRequested, "keeping it running sends nothing")
		require.Equal(t, "running", b.opStatus())

		// Asked, and cancelled.
		b.click(tid("operation-cancel"))
		b.waitVisible(tid("cancel-operation-dialog"))
		b.click(tid("confirm-ok"))
		b.waitGone(tid("cancel-operation-dialog"))
		cancelled := b.waitBadge("cancelled", 2*time.Minute)
		requireWithinInterval(t, "cancelled (running)", clock.since(t, domain.OpCancelled), cancelled, interval)
		b.requireButtons(s, op, domain.OpCancelled)
		require.False(t, b.exists(tid("operation-restore")), "a cancelled backup has nothing to restore")
		requireCleanedUp(t, s, dst, "p/", kept)
	}

	// Cancel on a paused backup.
	{
		op := b.backupNow(source, dest)
		s.logOnFailure(t, op)
		clock := watchOperation(t, s.Queries, op)
		b.waitBadge("running", 2*time.Minute)
		b.click(tid("operation-pause"))
		b.waitBadge("paused", 2*time.Minute)
		b.click(tid("operation-cancel"))
		b.waitVisible(tid("cancel-operation-dialog"))
		b.click(tid("confirm-ok"))
		cancelled := b.waitBadge("cancelled", 2*time.Minute)
		requireWithinInterval(t, "cancelled (paused)", clock.since(t, domain.OpCancelled), cancelled, interval)
		b.requireButtons(s, op, domain.OpCancelled)
		requireCleanedUp(t, s, dst, "p/", kept)
		b.shot("cancelled-paused")
	}
}

// waitLogLine waits until the terminal shows the line with seq and returns
// when it did.
func (b *browser) waitLogLine(seq int64) time.Time {
	b.t.Helper()
	sel := `[data-testid="log-line"][data-seq="` + strconv.FormatInt(seq, 10) + `"]`
	b.waitFor("the log line "+sel, 2*time.Minute, `document.querySelector(`+jsString(sel)+`) !== null`)
	return time.Now()
}

// requireCleanedUp: after a cancel, the destination holds only what
// completed before (keep) and no open upload, and no temporary file is left.
func requireCleanedUp(t *testing.T, s *stack, bucket, prefix string, keep []string) {
	t.Helper()
	uploads, err := listUploads(s, bucket)
	require.NoError(t, err)
	require.Empty(t, uploads, "no multipart upload is left")
	out, err := s.S3.Client().ListObjectsV2(context.Background(), listInput(bucket, prefix))
	require.NoError(t, err)
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	require.ElementsMatch(t, keep, keys, "nothing of the cancelled backup is left")
	entries, err := os.ReadDir(s.conns.SpoolDir)
	require.NoError(t, err)
	require.Empty(t, entries, "no temporary file is left")
}
