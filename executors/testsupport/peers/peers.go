// Package peers gives tests the real services they talk to: EventStoreDB
// (esdb-emulator), PostgreSQL, S3 (versitygw), MongoDB (ferretdb) and Google
// Drive (drive-emulator). Shared peers are found through environment
// variables set by `make test` and `.ci/run`; a test that needs one to
// itself (fault injection, a clean $all) starts a private one from
// ../shared/bin. A missing peer fails the test: integration tests are never
// skipped silently.
package peers

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Environment variables naming the shared peers.
const (
	EnvESDB          = "BACKUPD_TEST_ESDB"            // esdb://127.0.0.1:PORT?tls=false
	EnvPostgres      = "BACKUPD_TEST_PG"              // postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
	EnvS3Endpoint    = "BACKUPD_TEST_S3_ENDPOINT"     // http://127.0.0.1:PORT
	EnvS3AccessKey   = "BACKUPD_TEST_S3_ACCESS_KEY"   //
	EnvS3SecretKey   = "BACKUPD_TEST_S3_SECRET_KEY"   //
	EnvMongoURI      = "BACKUPD_TEST_MONGO_URI"       // mongodb://admin:s3cret@127.0.0.1:PORT/?authSource=admin
	EnvDriveURL      = "BACKUPD_TEST_DRIVE_URL"       // http://127.0.0.1:PORT
	EnvDriveClientID = "BACKUPD_TEST_DRIVE_CLIENT_ID" //
	EnvDriveSecret   = "BACKUPD_TEST_DRIVE_SECRET"    //
	EnvShared        = "BACKUPD_SHARED"               // path of ../shared (binaries, fixtures)
)

func require(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the tests with `make test` (it starts the peers) or export it", name)
	}
	return v
}

// SharedDir is the ../shared folder (peer binaries and fixtures).
func SharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvShared); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test; set %s", EnvShared)
		}
		dir = parent
	}
}

// Fixture returns the path of a file under ../shared/fixtures.
func Fixture(t testing.TB, rel string) string {
	return filepath.Join(SharedDir(t), "fixtures", rel)
}

// RandomName returns prefix plus 8 random hex characters, lowercase, for
// buckets, databases and folders unique to one test.
func RandomName(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// Process is a peer started by a test.
type Process struct {
	Addr string // what it printed as its address
	cmd  *exec.Cmd
	once sync.Once
}

// Stop terminates the process and waits for it.
func (p *Process) Stop() {
	p.once.Do(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
		}
	})
}

// Kill stops the process with SIGKILL, as a crash would.
func (p *Process) Kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

// StartProcess runs bin with args and waits until a line of its stdout
// matches ready; the first submatch becomes Addr. The process is stopped at
// the end of the test.
func StartProcess(t testing.TB, ready *regexp.Regexp, env []string, bin string, args ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Process{cmd: cmd}
	t.Cleanup(p.Stop)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if m := ready.FindStringSubmatch(sc.Text()); m != nil && !sent {
				addr := m[0]
				if len(m) > 1 {
					addr = m[1]
				}
				found <- addr
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case p.Addr = <-found:
		return p
	case <-time.After(30 * time.Second):
		p.Kill()
		t.Fatalf("%s did not become ready: %s", filepath.Base(bin), stderr.String())
	}
	return nil
}

type limitedWriter struct {
	mu sync.Mutex
	w  io.Writer
	n  int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(b), l.n)
		_, _ = l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}

// FreePortAddr reserves nothing; it asks the kernel for a free port by
// listening briefly. Only for peers that cannot listen on port 0.
func FreePortAddr(t testing.TB) string {
	t.Helper()
	l, err := listenLocal()
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// Context returns a context cancelled at the end of the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}

func bin(t testing.TB, name string) string {
	p := filepath.Join(SharedDir(t), "bin", name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("peer binary %s: %v", name, err)
	}
	return p
}
