package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

const driveTool = "backupd → Google Drive"

// measureDrivePause takes the pause/resume figures for a Google Drive
// destination: the drive-emulator behind the counting proxy (the product's
// Google base URL is the proxy, so every upload request is counted).
func (b *bench) measureDrivePause(ctx context.Context, large dataset, srcLarge string, expect int64, driveProxy *countingProxy) error {
	dst, err := b.product.api.driveConnection(ctx, "bench drive", "bench-archives")
	if err != nil {
		return fmt.Errorf("connect Google Drive: %w", err)
	}
	// An uninterrupted backup first: the Drive destination's throughput and
	// memory (its chunk buffers differ from S3's parts).
	if err := b.product.startWorker(); err != nil {
		return err
	}
	m, err := b.runBackupd(ctx, large, backupdTarget{source: srcLarge, destination: dst, tool: driveTool})
	if err != nil {
		return fmt.Errorf("backup to Google Drive: %w", err)
	}
	b.results = append(b.results, m)
	progress("run 1 %-24s %-24s %s", large.label, m.tool, m.summary())

	if err := b.product.startWorker(); err != nil {
		return err
	}
	progress("pause/resume to Google Drive")
	r, op, calls, err := b.pauseResume(ctx, backupdTarget{source: srcLarge, destination: dst}, driveProxy, expect, "Google Drive (drive-emulator)")
	if err != nil {
		return fmt.Errorf("pause/resume to Google Drive: %w", err)
	}
	countDrive(&r, calls)
	if err := b.checkDriveArchive(ctx, op.Result.ArchiveLocation, r.archiveSize); err != nil {
		return err
	}
	b.pauses = append(b.pauses, r)
	b.pauseDests = append(b.pauseDests, pauseDest{name: r.destination, connection: dst, proxy: "drive"})
	progress("pause took %s; re-sent %d bytes", r.latency.Round(time.Millisecond), r.resent())
	return nil
}

// checkDriveArchive finds the archive in the emulator's state with the
// size the API reports.
func (b *bench) checkDriveArchive(ctx context.Context, location string, size int64) error {
	id, ok := strings.CutPrefix(location, "gdrive://")
	if !ok {
		return fmt.Errorf("archive location %q is not gdrive://id", location)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.peers.drive+"/__emulator/state", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var st struct {
		Files []struct {
			ID   string `json:"id"`
			Size int64  `json:"size"`
		} `json:"files"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return fmt.Errorf("drive-emulator state: %w", err)
	}
	for _, f := range st.Files {
		if f.ID == id {
			if f.Size != size {
				return fmt.Errorf("the Drive archive %s holds %d bytes, the API says %d", id, f.Size, size)
			}
			return nil
		}
	}
	return fmt.Errorf("the Drive archive %s is not in the emulator", id)
}
