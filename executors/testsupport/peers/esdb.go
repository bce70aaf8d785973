package peers

import (
	"regexp"
	"testing"
)

var esdbReady = regexp.MustCompile(`esdb-emulator listening on (\S+)`)

// ESDB returns the connection string of the shared EventStoreDB peer. Its
// $all holds other tests' events too: use PrivateESDB when a test reads $all
// and needs to see only its own.
func ESDB(t testing.TB) string {
	t.Helper()
	return require(t, EnvESDB)
}

// PrivateESDB starts an esdb-emulator for this test alone, durable in a
// temporary folder (so a restart of it on the same folder keeps the data).
func PrivateESDB(t testing.TB) (url string, proc *Process) {
	t.Helper()
	return StartESDBAt(t, t.TempDir())
}

// StartESDBAt starts an esdb-emulator on the database folder dir.
func StartESDBAt(t testing.TB, dir string) (url string, proc *Process) {
	t.Helper()
	p := StartProcess(t, esdbReady, nil, bin(t, "esdb-emulator"), "--listen", "127.0.0.1:0", "--db", dir, "--quiet")
	return "esdb://" + p.Addr + "?tls=false", p
}
