package executors

import (
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"backupd/executors/archive"
	"backupd/executors/mongodb"
)

// staleSpoolAge is how old a temporary file must be before a starting
// worker removes it: files of jobs still running are written to all along,
// so only those of a worker that died are this old.
const staleSpoolAge = 6 * time.Hour

// prepareSpool creates the worker's folder for temporary files (mode 0700:
// mongodump config files hold credentials) and removes what dead workers
// left there: mongodump spools, tool config files, fingerprints, manifests.
func prepareSpool(dir string, logger *slog.Logger) {
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		logger.Warn("cannot create the spool folder", "dir", dir, "error", err)
		return
	}
	removed, err := mongodb.RemoveStaleSpools(dir, staleSpoolAge)
	if err != nil {
		logger.Warn("cannot sweep the spool folder", "dir", dir, "error", err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, archive.ManifestTempPattern))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && time.Since(st.ModTime()) > staleSpoolAge && os.Remove(m) == nil {
			removed++
		}
	}
	if removed > 0 {
		logger.Info("removed temporary files left by a stopped worker", "dir", dir, "files", removed)
	}
}
