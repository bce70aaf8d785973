package mongodb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Tools are the paths of the MongoDB Database Tools backupd runs.
type Tools struct {
	Mongodump    string
	Mongorestore string
}

// Environment variables that name the tools' paths.
const (
	EnvMongodump    = "BACKUPD_MONGODUMP"
	EnvMongorestore = "BACKUPD_MONGORESTORE"
)

// DefaultTools takes the paths from BACKUPD_MONGODUMP and
// BACKUPD_MONGORESTORE, else looks the tools up in PATH.
func DefaultTools() Tools {
	return Tools{Mongodump: toolPath(EnvMongodump, "mongodump"), Mongorestore: toolPath(EnvMongorestore, "mongorestore")}
}

func toolPath(env, name string) string {
	if v := strings.TrimSpace(os.Getenv(env)); v != "" {
		return v
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

func (t Tools) mongodump() string    { return orDefault(t.Mongodump, "mongodump") }
func (t Tools) mongorestore() string { return orDefault(t.Mongorestore, "mongorestore") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ErrToolMissing is wrapped by errors about a tool that is not installed
// where backupd looks for it.
var ErrToolMissing = errors.New("a MongoDB Database Tools program is missing")

// MissingToolError says which tool is missing and how to fix it.
type MissingToolError struct {
	Tool string // "mongodump" or "mongorestore"
	Path string
	Env  string // the variable that sets the path
	Err  error
}

func (e *MissingToolError) Error() string {
	if errors.Is(e.Err, fs.ErrPermission) {
		return fmt.Sprintf("%s at %s cannot be run (permission denied): install MongoDB Database Tools or set %s", e.Tool, e.Path, e.Env)
	}
	where := "at " + e.Path
	if !strings.ContainsRune(e.Path, filepath.Separator) {
		where = "in PATH (looked for " + e.Path + ")"
	}
	return fmt.Sprintf("%s was not found %s: install MongoDB Database Tools or set %s", e.Tool, where, e.Env)
}

func (e *MissingToolError) Unwrap() []error { return []error{ErrToolMissing, e.Err} }

// ToolVersion runs `<tool> --version` and returns its first line, for
// example "mongodump version: 100.10.0". A tool that is not there is a
// *MissingToolError.
func ToolVersion(ctx context.Context, path, env string) (string, error) {
	name := filepath.Base(path)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	out, err := cmd.Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, exec.ErrDot) {
			return "", &MissingToolError{Tool: toolName(name), Path: path, Env: env, Err: err}
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("%s --version failed (%v): %s", path, err, lastLine(string(ee.Stderr)))
		}
		return "", fmt.Errorf("%s at %s does not run: %w", toolName(name), path, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			return line, nil
		}
	}
	return "", fmt.Errorf("%s --version printed nothing", path)
}

func toolName(base string) string {
	for _, n := range []string{"mongodump", "mongorestore"} {
		if strings.Contains(base, n) {
			return n
		}
	}
	return base
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// writeToolConfig writes the tools' --config file (YAML, mode 0600) with the
// URI that holds the credentials, in dir. The caller removes it.
func writeToolConfig(dir, uri string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "backupd-mongotool-*.yaml") // mode 0600
	if err != nil {
		return "", fmt.Errorf("creating the tool's config file: %w", err)
	}
	// A JSON string is a valid YAML double-quoted scalar: no quoting
	// mistakes whatever the URI holds.
	quoted, _ := json.Marshal(uri)
	_, err = fmt.Fprintf(f, "uri: %s\n", quoted)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("writing the tool's config file: %w", err)
	}
	return f.Name(), nil
}
