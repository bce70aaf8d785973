package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/httpapi"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// Issue 5 in Chromium, as a new user: from a completed backup, Restore
// shows the archive's metadata, the target is another bucket and a prefix
// typed in (a wrong secret first, refused beside its field), the preflight
// says what would be overwritten, the restore runs live and ends with the
// verification report; the test then reads the bucket back itself.
func TestBrowserRestoreToAnotherBucket(t *testing.T) {
	t.Parallel()
	s, b := browserStack(t, stackOptions{S3PartSize: 5 << 20, Config: httpapi.Config{PollIntervalSeconds: 2}})
	src, archives, target := s.S3.Bucket(t), s.S3.Bucket(t), s.S3.Bucket(t)
	objs := []object{
		{Key: "photos/2026/ünï ファイル.jpg", Body: randomBytes(300 << 10), ContentType: "image/jpeg", Metadata: map[string]string{"camera": "x100"}},
		{Key: "with space/a b.txt", Body: []byte("hello world\n"), ContentType: "text/plain"},
		{Key: "zero.bin", Body: nil},
		{Key: "big/large.bin", Body: randomBytes(7 << 20), ContentType: "application/octet-stream"},
	}
	for i := 0; i < 40; i++ {
		objs = append(objs, object{Key: fmt.Sprintf("small/%03d.json", i), Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), ContentType: "application/json"})
	}
	objects := seedBucket(t, s.S3, src, objs)
	var total int64
	for _, o := range objects {
		total += int64(len(o.Body))
	}
	// The target already holds one of the keys under the prefix, with
	// other bytes: the preflight must say so, and overwrite replaces it.
	const prefix = "restored/"
	_, err := s.S3.Client().PutObject(context.Background(), &awss3.PutObjectInput{Bucket: aws.String(target),
		Key: aws.String(prefix + "with space/a b.txt"), Body: bytes.NewReader([]byte("stale copy"))})
	require.NoError(t, err)

	// Writes to the target are held a moment each, so the restore runs
	// long enough to be watched.
	slowTarget := newSlowProxy(t, s.S3.Endpoint, 0)

	b.openAndLogin(s)
	source := b.addS3Connection(s, s3Form{Kind: "s3_source", Name: "Shop assets", Bucket: src})
	dest := b.addS3Connection(s, s3Form{Kind: "s3_destination", Name: "Archive store", Bucket: archives, Prefix: "nightly/"})
	b.click(tid("nav-dashboard"))
	backup := b.backupNow(source, dest)
	b.waitOpStatus("completed", 5*time.Minute)
	done := s.operation(backup)
	require.Equal(t, domain.OpCompleted, done.Status)

	// Restore, from the backup's page: what is in the archive.
	b.click(tid("operation-restore"))
	b.waitPath("/operations/" + backup.String() + "/restore")
	b.waitAttr(tid("restore-wizard"), "data-step", "1", stepTimeout)
	b.waitVisible(tid("restore-archive-facts"))
	require.Contains(t, b.text(tid("restore-fact-source")), "Shop assets")
	require.Contains(t, b.text(tid("restore-fact-source")), src, "the bucket it came from")
	require.NotEmpty(t, b.text(tid("restore-fact-timestamp")))
	require.NotEqual(t, "—", b.text(tid("restore-fact-timestamp")))
	requireShownSize(t, b.text(tid("restore-fact-size")), done.Result.ArchiveSize)
	require.Equal(t, strconv.Itoa(len(objects)), b.text(tid("restore-fact-count")))
	b.waitVisible(tid("manifest-entries"))
	require.Equal(t, len(objects), b.count(tid("manifest-entry")), "the manifest read from beside the archive lists every object")
	require.False(t, b.exists(tid("restore-manifest-error")))
	b.shot("restore-step-1")

	// Where: another bucket typed in, with a prefix. A wrong secret first.
	b.click(tid("restore-next"))
	b.waitAttr(tid("restore-wizard"), "data-step", "2", stepTimeout)
	b.click(tid("restore-target-typed"))
	b.fillRestoreTarget(s, target, slowTarget.URL, "wrong-secret-77c1")
	b.typeText(tid("restore-prefix"), prefix)
	b.click(tid("restore-next"))
	b.waitAttr(tid("restore-wizard"), "data-step", "2", stepTimeout)
	b.waitVisible(tid("field-error-secret_access_key"))
	require.NotContains(t, b.text("body"), "wrong-secret-77c1")
	b.shot("restore-wrong-secret")
	b.typeText(tid("restore-field-secret_access_key"), s.S3.SecretKey)

	// The preflight: writable, one key already there, what will be written.
	b.click(tid("restore-next"))
	b.waitAttr(tid("restore-wizard"), "data-step", "3", stepTimeout)
	b.waitVisible(tid("restore-preflight"))
	require.Equal(t, "true", b.attr(tid("restore-preflight"), "data-writable"))
	require.Equal(t, "1", b.attr(tid("preflight-existing"), "data-count"))
	require.Contains(t, b.text(tid("preflight-sample")), "with space/a b.txt")
	require.Equal(t, strconv.Itoa(len(objects)), b.text(tid("preflight-entries")))
	requireShownSize(t, b.text(tid("preflight-bytes")), total)
	require.False(t, b.exists(tid("preflight-same-as-original")))
	b.click(tid("restore-conflict-overwrite"))
	b.shot("restore-preflight")

	// Start.
	b.click(tid("restore-next"))
	b.waitAttr(tid("restore-wizard"), "data-step", "4", stepTimeout)
	require.Contains(t, b.text(tid("restore-summary-target")), target)
	from, _ := b.location()
	slowTarget.SetDelay(700 * time.Millisecond)
	b.click(tid("restore-start"))
	b.waitFor("the restore's page", stepTimeout, `/^\/operations\/[0-9a-f-]{36}$/.test(location.pathname) && location.pathname !== `+jsString(from))
	path, _ := b.location()
	restore := strings.TrimPrefix(path, "/operations/")
	require.NotEqual(t, backup.String(), restore)

	// Watch it: running with the log filling, then completed with the
	// report: verified.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the restore's log:\n%s", s.logText(uuidMust(t, restore)))
		}
	})
	w := &liveWatch{b: b}
	w.until("the restore running", 3*time.Minute, func(s liveSample) bool { return s.Status == "running" && s.Lines > 0 })
	b.shot("restore-running")
	w.until("the restore to complete", 5*time.Minute, func(s liveSample) bool { return s.Status == "completed" })
	requireGrowingLog(t, w.samples, 3)
	require.Equal(t, "100", w.samples[len(w.samples)-1].Progress)
	b.waitVisible(tid("restore-report"))
	require.Equal(t, "true", b.attr(tid("restore-report"), "data-verified"))
	b.waitVisible(tid("restore-verified"))
	require.False(t, b.exists(tid("restore-missing")))
	require.False(t, b.exists(tid("restore-mismatched")))
	require.NotEmpty(t, b.text(tid("restore-report-summary")))
	b.waitVisible(tid("restore-target"))
	require.Contains(t, b.text(tid("restore-target")), target)
	require.Contains(t, b.text(tid("restore-target")), prefix)
	b.waitAttr(tid("terminal-log"), "data-live", "false", time.Minute)
	require.Equal(t, len(s.logs(uuidMust(t, restore))), b.lineCount())
	b.shot("restore-verified")

	// The test's own check: every object under the prefix, byte for byte.
	requireBucketHolds(t, s.S3, target, prefix, objects)

	// The history lists the restore, newest first.
	b.click(tid("nav-history"))
	b.waitPath("/operations")
	b.waitFor("the restore first", stepTimeout, `document.querySelector('[data-testid="operation-row"]')?.dataset.operationId === `+jsString(restore))
	require.Equal(t, "completed", b.attr(tid("operation-row"), "data-status"))
}

// fillRestoreTarget types an S3 target's details into the wizard.
func (b *browser) fillRestoreTarget(s *stack, bucket, endpoint, secret string) {
	b.t.Helper()
	b.typeText(tid("restore-field-access_key_id"), s.S3.AccessKey)
	b.typeText(tid("restore-field-secret_access_key"), secret)
	b.typeText(tid("restore-field-region"), s.S3.Region)
	b.typeText(tid("restore-field-bucket"), bucket)
	b.typeText(tid("restore-field-endpoint"), endpoint)
	if b.attr(tid("restore-field-path_style"), "aria-checked") != "true" {
		b.click(tid("restore-field-path_style"))
	}
	b.waitAttr(tid("restore-field-path_style"), "aria-checked", "true", stepTimeout)
}
