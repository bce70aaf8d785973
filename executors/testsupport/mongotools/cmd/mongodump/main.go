// Command mongodump is a stand-in for MongoDB's mongodump, for tests (the
// real one cannot be installed here). It keeps the real tool's command line
// for what backupd uses (--uri, --config, --db, --collection, --gzip,
// --archive[=FILE], --version, --quiet, -v), its exit codes, its stderr
// lines (timestamps, "writing ...", progress bars, "done dumping ...",
// "Failed: ...") and its archive format, byte for byte: the archive is
// written by backupd/executors/mongodb/mongoarchive, whose tests reproduce
// the real tool's fixtures exactly.
//
// It dumps collections one after the other (the real tool runs up to four
// at once and so may interleave their blocks; readers handle both) and
// writes only archives (no --out directory mode).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"backupd/executors/testsupport/mongotools/internal/tool"
)

var commandLine = append(append([]tool.Option{}, tool.ConnectionOptions...),
	tool.Option{Long: "numParallelCollections", Short: 'j', Kind: tool.Int, Default: "4", Help: "number of collections to dump in parallel"},
	tool.Option{Long: "out", Short: 'o', Kind: tool.String, Help: "output directory (not supported by the stand-in)"},
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	p, positional, err := tool.Parse(commandLine, args)
	if err == nil && len(positional) > 0 {
		err = fmt.Errorf("positional arguments not allowed: %v", positional)
	}
	if err != nil {
		log := tool.NewLogger(os.Stderr, 0)
		log.Logf(tool.Always, "error parsing command line options: %s", err)
		log.Log(tool.Always, tool.ShortUsage("mongodump"))
		return 1
	}
	if p.Bool("help") {
		fmt.Print(tool.Usage("mongodump", "<options> <connection-string>", commandLine))
		return 0
	}
	if p.Bool("version") {
		tool.PrintVersion("mongodump")
		return 0
	}
	log := tool.NewLogger(os.Stderr, tool.Verbosity(p))
	clientOpts, err := tool.ClientOptions(p, "mongodump")
	if err != nil {
		log.Logf(tool.Always, "error parsing command line options: %s", err)
		log.Log(tool.Always, tool.ShortUsage("mongodump"))
		return 1
	}

	bars := tool.NewBars(log, tool.ProgressInterval(), 24, false)
	bars.Start()
	defer bars.Stop()

	ctx, stop := interruptible(log)
	defer stop()

	client, err := tool.Connect(ctx, clientOpts)
	if err != nil {
		log.Logf(tool.Always, "Failed: can't create session: %v", err)
		return 1
	}
	defer client.Disconnect(context.Background())

	d := &dumper{
		client: client, log: log, bars: bars,
		db: p.String("db"), collection: p.String("collection"),
		archive: p.String("archive"), gzip: p.Bool("gzip"), out: p.String("out"),
		parallel: p.Int("numParallelCollections"),
	}
	if err := d.validate(); err != nil {
		log.Logf(tool.Always, "Failed: bad option: %v", err)
		return 1
	}
	if err := d.dump(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("received termination signal")
		}
		log.Logf(tool.Always, "Failed: %v", err)
		return 1
	}
	return 0
}

// interruptible cancels the context on SIGINT/SIGTERM, logging as the tools
// do; a second signal ends the process at once.
func interruptible(log *tool.Logger) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sig
		log.Logf(tool.Always, "signal '%s' received; attempting to shut down", s)
		cancel()
		s = <-sig
		log.Logf(tool.Always, "signal '%s' received; forcefully terminating", s)
		os.Exit(1)
	}()
	return ctx, func() { signal.Stop(sig); cancel() }
}
