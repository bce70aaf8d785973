package main

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// product is the real backupd: `serve --no-worker` for the API and the
// read models, and a separate `backupd worker` process whose memory and
// CPU are measured alone.
type product struct {
	bin     string
	dir     string
	env     []string
	serve   *child
	worker  *child
	workers int // workers started so far, for log names and ids
	api     *apiClient
	apiURL  string
}

const (
	adminEmail    = "bench@example.com"
	adminPassword = "bench-password-0123"
)

var (
	serveReady  = regexp.MustCompile(`backupd listening`)
	workerReady = regexp.MustCompile(`worker started`)
)

// startProduct starts `backupd serve --no-worker` with its own data folder
// and logs in as the administrator it creates (BACKUPD_ADMIN_*).
// googleBase is where the Google endpoints are (the drive-emulator, maybe
// through the counting proxy).
func startProduct(ctx context.Context, bin, dir string, pe *peers, googleBase string) (*product, error) {
	keys, err := exec.Command(bin, "genkey", "bench").Output()
	if err != nil {
		return nil, fmt.Errorf("backupd genkey: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	apiURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	p := &product{bin: bin, dir: dir, apiURL: apiURL}
	p.env = []string{
		"BACKUPD_ESDB_URL=" + pe.esdb,
		"BACKUPD_DATABASE_URL=" + pe.pgURL,
		"BACKUPD_LISTEN=" + fmt.Sprintf("127.0.0.1:%d", port),
		"BACKUPD_PUBLIC_URL=" + apiURL,
		"BACKUPD_ENCRYPTION_KEYS=" + strings.TrimSpace(string(keys)),
		"BACKUPD_DATA_DIR=" + filepath.Join(dir, "data"),
		"BACKUPD_GOOGLE_BASE_URL=" + googleBase,
		"BACKUPD_GOOGLE_CLIENT_ID=" + driveClientID,
		"BACKUPD_GOOGLE_CLIENT_SECRET=" + driveClientSecret,
		"BACKUPD_RECHECK_INTERVAL=0",
		"BACKUPD_LOG_LEVEL=info",
	}
	serveEnv := append(append([]string{}, p.env...),
		"BACKUPD_ADMIN_EMAIL="+adminEmail, "BACKUPD_ADMIN_NAME=Bench", "BACKUPD_ADMIN_PASSWORD="+adminPassword)
	p.serve, err = startChild("backupd-serve", filepath.Join(dir, "logs"), serveEnv, bin, "serve", "--no-worker")
	if err != nil {
		return nil, err
	}
	if _, err := p.serve.waitLog(serveReady, 90*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	if p.api, err = newAPIClient(apiURL); err != nil {
		p.stop()
		return nil, err
	}
	if err := waitHTTP(ctx, func(ctx context.Context) error {
		r, err := p.api.do(ctx, http.MethodGet, "/api/session", nil)
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return fmt.Errorf("session: %d", r.status)
		}
		return nil
	}, 30*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	if err := p.api.login(ctx, adminEmail, adminPassword); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// startWorker replaces the worker process with a fresh one, so each data
// set is measured from a new process.
func (p *product) startWorker(extraEnv ...string) error {
	p.stopWorker()
	p.workers++
	name := fmt.Sprintf("backupd-worker-%d", p.workers)
	// gctrace: one line per collection in the worker's log (the Go heap
	// behind its RSS); its cost is negligible.
	env := append(append(append([]string{}, p.env...), "BACKUPD_WORKER_ID=bench-"+name, "GODEBUG=gctrace=1"), extraEnv...)
	w, err := startChild(name, filepath.Join(p.dir, "logs"), env, p.bin, "worker")
	if err != nil {
		return err
	}
	if _, err := w.waitLog(workerReady, 90*time.Second); err != nil {
		w.stop(10 * time.Second)
		return err
	}
	p.worker = w
	// "worker started" comes just before the persistent subscriptions
	// connect: give them a moment so the first backup is not timed
	// waiting for the subscription.
	time.Sleep(2 * time.Second)
	return nil
}

func (p *product) stopWorker() {
	if p.worker != nil {
		p.worker.stop(30 * time.Second)
		p.worker = nil
	}
}

func (p *product) stop() {
	p.stopWorker()
	if p.serve != nil {
		p.serve.stop(30 * time.Second)
	}
}

// workerAlive fails when the worker process died (its log tail says why).
func (p *product) workerAlive() error {
	if p.worker == nil {
		return fmt.Errorf("no worker is running")
	}
	if p.worker.exited() {
		return fmt.Errorf("the worker exited: %v\n%s", p.worker.err, p.worker.tail(30))
	}
	return nil
}
