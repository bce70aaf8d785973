package mongodb

import (
	"os"
	"path/filepath"
	"time"
)

// Files this package leaves in a spool folder while it works; a worker that
// dies leaves them behind. The tool config files hold a connection URI
// with its password (mode 0600).
var spoolPatterns = []string{"backupd-mongodump-*" + EntrySuffix, "backupd-mongotool-*.yaml", "backupd-fingerprint-*"}

// RemoveStaleSpools deletes what dead workers left in dir: dumps, tool
// config files and fingerprints older than olderThan. Run it when a worker
// starts, before it takes work. It returns how many files it removed.
func RemoveStaleSpools(dir string, olderThan time.Duration) (int, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	removed := 0
	for _, pattern := range spoolPatterns {
		matches, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			return removed, err
		}
		for _, m := range matches {
			st, err := os.Lstat(m)
			if err != nil || !st.Mode().IsRegular() || time.Since(st.ModTime()) < olderThan {
				continue
			}
			if err := os.Remove(m); err == nil {
				removed++
			}
		}
	}
	return removed, nil
}
