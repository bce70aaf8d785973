package gdrive_test

import (
	"testing"

	"backupd/executors/archive"
	"backupd/executors/archive/archivetest"
	"backupd/executors/testsupport/peers"
)

// The contract every archive destination passes, against drive-emulator,
// with small chunks (1 MiB) and durable callbacks every 2 MiB so 20 MiB
// files exercise them.
func TestDestinationContract(t *testing.T) {
	t.Parallel()
	f := newFixture(t, peers.Drive(t))
	archivetest.DestinationContract(t, func(t *testing.T) archive.Destination {
		return f.destination(t, 1<<20, 2<<20)
	})
}
