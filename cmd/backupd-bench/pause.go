package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// pauseResult is issue 4's figures for one destination: how long a pause
// took to take effect and how many bytes the destination received in
// total against the archive's size.
type pauseResult struct {
	destination string
	triggerAt   int64         // uploaded bytes (API progress) when pause was asked
	latency     time.Duration // pause's 202 → status paused (polled every 25 ms)
	afterPause  int64         // bytes the destination received between the 202 and paused
	whilePaused int64         // bytes it received during 3 s while paused (want 0)
	position    string        // paused_position as the API shows it
	wall        time.Duration // request to completed, pause included

	archiveSize     int64
	archiveReceived int64 // payload of the archive's own upload requests
	stashBytes      int64 // S3: tails parked in temporary objects at each checkpoint
	otherBytes      int64 // manifest, XML bodies, session creation
	totalReceived   int64 // every PUT/POST body byte
	unit            int64 // part (S3) or chunk (Drive) size: the largest one sent
	unitName        string
	reuploaded      string // which parts/chunks went twice
	peakRSSKiB      int64  // the worker's VmHWM over the whole backup
	heap            *gcSummary
}

// resent is what the destination received twice: archive bytes sent again
// in a part or chunk, plus the tail an S3 pause parked in a stash object
// (it is sent again inside the next part after the resume).
func (r pauseResult) resent() int64 { return r.archiveReceived - r.archiveSize + r.stashBytes }

// pauseResume runs a backup to a destination behind proxy, pauses it when
// about half of the archive is uploaded, resumes it, and returns the
// completed operation with the proxy's calls.
func (b *bench) pauseResume(ctx context.Context, t backupdTarget, proxy *countingProxy, expectArchive int64, dest string) (pauseResult, operation, []proxyCall, error) {
	r := pauseResult{destination: dest}
	proxy.reset()
	pid := b.product.worker.pid()
	_ = resetPeakRSS(pid)
	logOffset := fileSize(b.product.worker.log)
	start := time.Now()
	id, err := b.product.api.backup(ctx, t.source, t.destination)
	if err != nil {
		return r, operation{}, nil, err
	}
	deadline := time.Now().Add(b.cfg.timeout)
	for {
		op, err := b.product.api.operation(ctx, id)
		if err != nil {
			return r, op, nil, err
		}
		if op.Status == "completed" || op.Status == "failed" {
			return r, op, nil, fmt.Errorf("the backup was %s before half of it was uploaded: lower the trigger (%s)", op.Status, op.Error)
		}
		if p := op.Progress; p != nil && halfway(p.UploadedBytes, p.BytesDone, p.BytesTotal, expectArchive) {
			r.triggerAt = p.UploadedBytes
			break
		}
		if time.Now().After(deadline) {
			return r, op, nil, fmt.Errorf("the backup did not reach half of its upload in %s", b.cfg.timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := b.product.api.action(ctx, id, "pause"); err != nil {
		return r, operation{}, nil, err
	}
	accepted := time.Now()
	atAccept := proxy.uploadedBytes()
	op, err := b.waitOperation(ctx, id, 25*time.Millisecond, "paused")
	if err != nil {
		return r, op, nil, err
	}
	r.latency = time.Since(accepted)
	atPaused := proxy.uploadedBytes()
	r.afterPause = atPaused - atAccept
	r.position = op.PausedPosition
	time.Sleep(3 * time.Second)
	r.whilePaused = proxy.uploadedBytes() - atPaused

	if err := b.product.api.action(ctx, id, "resume"); err != nil {
		return r, op, nil, err
	}
	op, err = b.waitOperation(ctx, id, 100*time.Millisecond, "completed")
	if err != nil {
		return r, op, nil, err
	}
	r.wall = time.Since(start)
	r.peakRSSKiB, _ = procStatusKiB(pid, "VmHWM")
	if g, err := gcStats(b.product.worker.log, logOffset); err == nil {
		r.heap = &g
	}
	if op.Result == nil {
		return r, op, nil, fmt.Errorf("operation %s completed without a result", id)
	}
	r.archiveSize = op.Result.ArchiveSize
	return r, op, proxy.snapshot(), nil
}

// countS3 sorts the S3 calls: parts of the archive's multipart upload,
// stash objects, and the rest.
func countS3(r *pauseResult, op operation, calls []proxyCall) error {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(op.Result.ArchiveLocation, "s3://"), "/")
	if !ok {
		return fmt.Errorf("archive location %q is not s3://bucket/key", op.Result.ArchiveLocation)
	}
	archivePath := "/" + bucket + "/" + key
	r.unitName = "part"
	seen := map[string]int{}
	for _, c := range calls {
		if c.Method != http.MethodPut && c.Method != http.MethodPost {
			continue
		}
		r.totalReceived += c.Bytes
		switch {
		case c.Method == http.MethodPut && c.Path == archivePath && c.Query.Has("partNumber"):
			r.archiveReceived += c.Payload()
			r.unit = max(r.unit, c.Payload())
			seen[c.Query.Get("partNumber")]++
		case strings.Contains(c.Path, ".stash-"):
			r.stashBytes += c.Payload()
		default:
			r.otherBytes += c.Bytes
		}
	}
	r.reuploaded = twice(seen, "part")
	return nil
}

// countDrive sorts the Drive calls: the archive's resumable session (the
// one that carried the most bytes) and the rest.
func countDrive(r *pauseResult, calls []proxyCall) {
	r.unitName = "chunk"
	bySession := map[string]int64{}
	for _, c := range calls {
		if c.Method != http.MethodPut && c.Method != http.MethodPost {
			continue
		}
		r.totalReceived += c.Bytes
		if c.Method == http.MethodPut && strings.HasPrefix(c.Path, "/upload/") && c.Query.Get("upload_id") != "" {
			bySession[c.Query.Get("upload_id")] += c.Bytes
		}
	}
	archiveSession := ""
	for s, n := range bySession {
		if n > bySession[archiveSession] {
			archiveSession = s
		}
	}
	seen := map[string]int{}
	for _, c := range calls {
		if c.Method == http.MethodPut && c.Query.Get("upload_id") == archiveSession && archiveSession != "" {
			r.unit = max(r.unit, c.Bytes)
			if start, _, ok := strings.Cut(strings.TrimPrefix(c.ContentRange, "bytes "), "-"); ok && c.Bytes > 0 {
				seen["at "+start]++
			}
		}
	}
	r.archiveReceived = bySession[archiveSession]
	r.reuploaded = twice(seen, "chunk")
	r.otherBytes = r.totalReceived - r.archiveReceived
}

func twice(seen map[string]int, noun string) string {
	var out []string
	for k, n := range seen {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s %s ×%d", noun, k, n))
		}
	}
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// halfway is "about half of the archive is uploaded": half of the archive
// size an uninterrupted run produced, or half of the source read when no
// such run was made.
func halfway(uploaded, done, total, expectArchive int64) bool {
	if expectArchive > 0 {
		return uploaded >= expectArchive/2
	}
	return total > 0 && done >= total/2 && uploaded > 0
}
