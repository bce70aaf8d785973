package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"backupd/commands/secrets"
	"backupd/executors/testsupport/mongotools"
	"backupd/executors/testsupport/peers"
	"backupd/httpapi/apitest"

	"github.com/stretchr/testify/require"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// backupdBinary builds this command once per test binary.
func backupdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "backupd-e2e-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "backupd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// procStack runs the product as separate processes, as in production:
// `backupd serve --no-worker` and one `backupd worker` per name, on a
// private EventStoreDB and a fresh Postgres database.
type procStack struct {
	t       *testing.T
	bin     string
	env     []string
	URL     string
	api     *apitest.Client
	S3      peers.S3Peer
	mu      sync.Mutex
	workers map[string]*exec.Cmd
	logDir  string
	ESDB    string
}

func startProcStack(t *testing.T, workers ...string) *procStack {
	t.Helper()
	esdb, _ := peers.PrivateESDB(t)
	dump, restore := mongotools.Build(t)
	addr := peers.FreePortAddr(t)
	data := t.TempDir()
	p := &procStack{t: t, bin: backupdBinary(t), URL: "http://" + addr, S3: peers.S3(t), workers: map[string]*exec.Cmd{}, logDir: t.TempDir(), ESDB: esdb}
	p.env = append(os.Environ(),
		"BACKUPD_ESDB_URL="+esdb,
		"BACKUPD_DATABASE_URL="+peers.Postgres(t),
		"BACKUPD_LISTEN="+addr,
		"BACKUPD_PUBLIC_URL="+p.URL,
		"BACKUPD_ENCRYPTION_KEYS="+secrets.GenerateKeySpec("e2e"),
		"BACKUPD_DATA_DIR="+data,
		"BACKUPD_SPOOL_DIR="+filepath.Join(data, "spool"),
		"BACKUPD_ADMIN_EMAIL=admin@example.test",
		"BACKUPD_ADMIN_PASSWORD=correct horse battery",
		"BACKUPD_MONGODUMP="+dump,
		"BACKUPD_MONGORESTORE="+restore,
		"BACKUPD_HEARTBEAT_TIMEOUT=15s",
		"BACKUPD_RECHECK_INTERVAL=0",
		"BACKUPD_LOG_LEVEL=info",
	)
	p.start("serve", "serve", "--no-worker")
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.URL + "/api/session")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backupd serve did not answer: %v\n%s", err, p.output("serve"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	srv := &apitest.Server{URL: p.URL, AdminEmail: "admin@example.test", AdminPassword: "correct horse battery"}
	p.api = srv.Login(t)
	for _, w := range workers {
		p.startWorker(w)
	}
	return p
}

func (p *procStack) start(name string, args ...string) *exec.Cmd {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(append([]string{}, p.env...), "BACKUPD_WORKER_ID="+name)
	f, err := os.Create(filepath.Join(p.logDir, name+".log"))
	require.NoError(p.t, err)
	cmd.Stdout, cmd.Stderr = f, f
	require.NoError(p.t, cmd.Start())
	p.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		f.Close()
		if p.t.Failed() {
			p.t.Logf("--- %s output:\n%s", name, p.output(name))
		}
	})
	return cmd
}

func (p *procStack) startWorker(name string) {
	cmd := p.start(name, "worker")
	p.mu.Lock()
	p.workers[name] = cmd
	p.mu.Unlock()
}

// kill stops a worker process with SIGKILL, as a crash would.
func (p *procStack) kill(name string) {
	p.mu.Lock()
	cmd := p.workers[name]
	p.mu.Unlock()
	require.NotNil(p.t, cmd, "no worker %s", name)
	require.NoError(p.t, cmd.Process.Signal(syscall.SIGKILL))
}

func (p *procStack) output(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.logDir, name+".log"))
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	return string(b)
}

// asStack lets the API helpers of the in-process stack serve this one.
func (p *procStack) asStack() *stack {
	return &stack{t: p.t, api: p.api, S3: p.S3}
}
