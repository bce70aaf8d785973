package mongodb_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"backupd/executors/mongodb"
)

func TestRemoveStaleSpools(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	files := map[string]bool{ // name -> removed
		"backupd-mongodump-1.archive.gz": true,
		"backupd-mongotool-2.yaml":       true,
		"backupd-fingerprint-3":          true,
		"someone-elses.archive.gz":       false,
	}
	for name := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
		require.NoError(t, os.Chtimes(p, old, old))
	}
	fresh := filepath.Join(dir, "backupd-mongodump-4.archive.gz")
	require.NoError(t, os.WriteFile(fresh, []byte("x"), 0o600))

	n, err := mongodb.RemoveStaleSpools(dir, time.Hour)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	for name, removed := range files {
		_, err := os.Stat(filepath.Join(dir, name))
		require.Equal(t, removed, os.IsNotExist(err), name)
	}
	_, err = os.Stat(fresh)
	require.NoError(t, err, "a file in use by a running backup is kept")
}
