// Command backupd is the backup management service: `serve` runs the API,
// the UI, the read-model projections and (unless --no-worker) a worker;
// `worker` runs only a worker, for scaling out; `create-admin`, `replay`,
// `migrate` and `genkey` are the operator's tools. Configuration comes from
// BACKUPD_* environment variables (README.md).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const usage = `backupd: backups of S3 buckets and MongoDB databases to S3 and Google Drive

usage:
  backupd serve [--no-worker]   API, web UI, projections (and a worker unless --no-worker)
  backupd worker                a worker only (run several for more throughput)
  backupd create-admin [--email E --name N --password-stdin]
                                create an administrator (asks interactively without flags)
  backupd replay                drop and rebuild every read model from the events
  backupd migrate               create or upgrade the Postgres tables and exit
  backupd genkey [KID]          print a new encryption key spec for BACKUPD_ENCRYPTION_KEYS

configuration: BACKUPD_* environment variables, see README.md
`

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "backupd:", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	if args[0] == "genkey" {
		kid := "k1"
		if len(args) > 1 {
			kid = args[1]
		}
		return genkey(stdout, kid)
	}
	cfg, err := loadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg, stderr)
	slog.SetDefault(logger)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, logger, args[1:])
	case "worker":
		return worker(ctx, cfg, logger)
	case "create-admin":
		return createAdmin(ctx, cfg, logger, args[1:], stdin, stdout)
	case "replay":
		return replay(ctx, cfg, logger)
	case "migrate":
		return migrate(ctx, cfg, logger)
	}
	return errors.New("unknown command " + args[0] + "\n\n" + usage)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.LogLevel)))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
