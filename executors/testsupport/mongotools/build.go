// Package mongotools builds the stand-in mongodump and mongorestore (under
// cmd/) for tests: MongoDB Database Tools cannot be installed here, and the
// product must run the real ones. The stand-ins keep the real tools'
// command line, exit codes, stderr and archive format (checked against the
// real tool's output in ../shared/fixtures/mongodump).
package mongotools

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"backupd/executors/testsupport/mongotools/internal/tool"
)

// Test knobs the stand-ins read from their environment (the real tools
// ignore them).
const (
	// EnvProgressInterval sets the progress-bar period, a Go duration
	// (default 3s, as the real tools).
	EnvProgressInterval = tool.EnvProgressInterval
	// EnvDocumentDelay makes the stand-ins pause after each document, a Go
	// duration, so a dump or restore lasts long enough to watch or cancel.
	EnvDocumentDelay = tool.EnvDocumentDelay
)

var (
	buildOnce             sync.Once
	dumpPath, restorePath string
	buildErr              error
)

// Build compiles the stand-ins once per test binary and returns their
// paths. Builds are cached in the temporary folder by a hash of their
// sources, so test binaries running at the same time share one build.
func Build(t testing.TB) (mongodump, mongorestore string) {
	t.Helper()
	buildOnce.Do(func() { dumpPath, restorePath, buildErr = build() })
	if buildErr != nil {
		t.Fatalf("building the stand-in mongodump/mongorestore: %v", buildErr)
	}
	return dumpPath, restorePath
}

func build() (string, string, error) {
	_, self, _, _ := runtime.Caller(0)
	here := filepath.Dir(self)
	root := filepath.Join(here, "..", "..", "..")
	sum, err := sourceHash(root, here, filepath.Join(root, "executors", "mongodb", "mongoarchive"))
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(os.TempDir(), "backupd-mongotools-"+sum)
	dump, restore := filepath.Join(dir, "mongodump"), filepath.Join(dir, "mongorestore")
	if executable(dump) && executable(restore) {
		return dump, restore, nil
	}
	tmp, err := os.MkdirTemp(os.TempDir(), "backupd-mongotools-build-")
	if err != nil {
		return "", "", err
	}
	defer os.RemoveAll(tmp)
	for _, name := range []string{"mongodump", "mongorestore"} {
		cmd := exec.Command(goTool(), "build", "-o", filepath.Join(tmp, name), "./executors/testsupport/mongotools/cmd/"+name)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("go build %s: %v\n%s", name, err, out)
		}
	}
	// Another test binary may have won the race: its build is as good.
	if err := os.Rename(tmp, dir); err != nil && !(executable(dump) && executable(restore)) {
		return "", "", err
	}
	removeStaleBuilds(dir)
	return dump, restore, nil
}

// sourceHash covers the stand-ins' sources, the archive package they use,
// the module's requirements and the Go version.
func sourceHash(root string, dirs ...string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		h.Write(b)
	}
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintln(h, path)
			h.Write(b)
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

func executable(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); executable(p) {
		return p
	}
	return "go"
}

// removeStaleBuilds deletes builds of older sources, untouched for a day.
func removeStaleBuilds(keep string) {
	old, _ := filepath.Glob(filepath.Join(os.TempDir(), "backupd-mongotools-*"))
	for _, d := range old {
		if d == keep || strings.Contains(filepath.Base(d), "-build-") {
			continue
		}
		if st, err := os.Stat(d); err == nil && time.Since(st.ModTime()) > 24*time.Hour {
			_ = os.RemoveAll(d)
		}
	}
}

// WithEnv returns a wrapper of tool (a path from Build) that runs it with
// extra environment variables ("NAME=value"), for example a slower
// EnvDocumentDelay, so tests that set different knobs can run in parallel.
// The wrapper execs the tool: the process is the tool itself, with the
// same arguments.
func WithEnv(t testing.TB, tool string, env ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" || strings.ContainsAny(name, " '\"$\n") {
			t.Fatalf("WithEnv: bad variable %q", kv)
		}
		fmt.Fprintf(&b, "export %s='%s'\n", name, strings.ReplaceAll(value, "'", `'\''`))
	}
	fmt.Fprintf(&b, "exec '%s' \"$@\"\n", strings.ReplaceAll(tool, "'", `'\''`))
	path := filepath.Join(t.TempDir(), filepath.Base(tool))
	if err := os.WriteFile(path, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
