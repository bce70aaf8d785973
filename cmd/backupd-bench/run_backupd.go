package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// measurement is one timed run of one tool on one data set.
type measurement struct {
	tool        string
	data        dataset
	wall        time.Duration // request to completion, as the user sees it
	inner       time.Duration // backupd: the executor's own started→finished
	peakRSSKiB  int64         // VmHWM (backupd worker) or ru_maxrss (rclone)
	sampledKiB  int64         // largest VmRSS sampled (backupd)
	sampledAnon int64         // of which anonymous (heap, stacks), KiB
	sampledFile int64         // of which file-backed (the binary's code), KiB
	cpu         time.Duration // user+system CPU of the tool's processes
	peerCPU     time.Duration // versitygw's CPU during the run
	archiveSize int64
	load        string // 1-minute load average when the run ended
	detail      string // the pipeline's processes, one by one
	heap        *gcSummary
}

func (m measurement) mibPerSec() float64 {
	return float64(m.data.totalBytes()) / (1 << 20) / m.wall.Seconds()
}

func (m measurement) objPerSec() float64 { return float64(m.data.count) / m.wall.Seconds() }

// backupdTarget is a source and a destination connection made through the
// API, and where the archives land.
type backupdTarget struct {
	source, destination string
	destBucket          string // S3 destinations: emptied before the run
	tool                string // the report's name, "backupd" by default
}

// runBackupd times one backup through the API: POST /api/backups, then
// GET /api/operations/:id every 100 ms until it is completed. The worker's
// peak RSS is reset before the run and read (VmHWM) after it.
func (b *bench) runBackupd(ctx context.Context, d dataset, t backupdTarget) (measurement, error) {
	m := measurement{tool: "backupd", data: d}
	if t.tool != "" {
		m.tool = t.tool
	}
	if t.destBucket != "" {
		if err := emptyBucket(ctx, b.s3, t.destBucket); err != nil {
			return m, fmt.Errorf("empty %s: %w", t.destBucket, err)
		}
	}
	if err := b.product.workerAlive(); err != nil {
		return m, err
	}
	pid := b.product.worker.pid()
	if err := resetPeakRSS(pid); err != nil {
		b.note("could not reset the worker's VmHWM (%v): its peak covers the process's whole life", err)
	}
	cpu0, _ := cpuTime(pid)
	vgw0, _ := cpuTime(b.peers.procs["versitygw"].pid())
	logOffset := fileSize(b.product.worker.log)
	sampler := sampleRSS(pid, 50*time.Millisecond)

	start := time.Now()
	id, err := b.product.api.backup(ctx, t.source, t.destination)
	if err != nil {
		sampler.done()
		return m, err
	}
	op, err := b.waitOperation(ctx, id, 100*time.Millisecond, "completed")
	m.wall = time.Since(start)
	m.load = loadAverage()
	m.sampledKiB = sampler.done()
	m.sampledAnon, m.sampledFile = sampler.peak.anon, sampler.peak.file
	if err != nil {
		return m, err
	}
	m.peakRSSKiB, _ = procStatusKiB(pid, "VmHWM")
	cpu1, _ := cpuTime(pid)
	vgw1, _ := cpuTime(b.peers.procs["versitygw"].pid())
	m.cpu, m.peerCPU = cpu1-cpu0, vgw1-vgw0
	if g, err := gcStats(b.product.worker.log, logOffset); err == nil {
		m.heap = &g
	}

	r := op.Result
	if r == nil {
		return m, fmt.Errorf("operation %s completed without a result", id)
	}
	if r.ObjectCount != int64(d.count) || r.TotalBytes != d.totalBytes() {
		return m, fmt.Errorf("operation %s archived %d objects / %d bytes, the bucket holds %d / %d", id, r.ObjectCount, r.TotalBytes, d.count, d.totalBytes())
	}
	m.inner = r.FinishedAt.Sub(r.StartedAt)
	m.archiveSize = r.ArchiveSize
	if err := b.checkArchive(ctx, r.ArchiveLocation, r.ArchiveSize); err != nil {
		return m, err
	}
	return m, nil
}

// checkArchive checks the archive is at its destination with the size the
// API reports.
func (b *bench) checkArchive(ctx context.Context, location string, size int64) error {
	if strings.HasPrefix(location, "gdrive://") {
		return b.checkDriveArchive(ctx, location, size)
	}
	return b.checkS3Archive(ctx, location, size)
}

// checkS3Archive checks that the archive the API reports is at the
// destination with the reported size.
func (b *bench) checkS3Archive(ctx context.Context, location string, size int64) error {
	bucket, key, ok := strings.Cut(strings.TrimPrefix(location, "s3://"), "/")
	if !ok || !strings.HasPrefix(location, "s3://") {
		return fmt.Errorf("archive location %q is not s3://bucket/key", location)
	}
	head, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("the archive %s is not at the destination: %w", location, err)
	}
	if aws.ToInt64(head.ContentLength) != size {
		return fmt.Errorf("the archive %s holds %d bytes, the API says %d", location, aws.ToInt64(head.ContentLength), size)
	}
	return nil
}

// waitOperation polls until the operation reaches want; another terminal
// status fails with the end of the operation's log.
func (b *bench) waitOperation(ctx context.Context, id string, every time.Duration, want string) (operation, error) {
	deadline := time.Now().Add(b.cfg.timeout)
	for {
		op, err := b.product.api.operation(ctx, id)
		if err != nil {
			return op, err
		}
		if op.Status == want {
			return op, nil
		}
		switch op.Status {
		case "completed", "failed", "cancelled", "interrupted":
			return op, fmt.Errorf("operation %s is %s (want %s): %s\n%s", id, op.Status, want, op.Error, b.product.api.logTail(ctx, id, 30))
		}
		if err := b.product.workerAlive(); err != nil {
			return op, err
		}
		if time.Now().After(deadline) {
			return op, fmt.Errorf("operation %s still %s after %s\n%s", id, op.Status, b.cfg.timeout, b.product.api.logTail(ctx, id, 30))
		}
		select {
		case <-ctx.Done():
			return op, ctx.Err()
		case <-time.After(every):
		}
	}
}
