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

	"backupd/executors/testsupport/mongotools/internal/tool"
)

var commandLine = append(append([]tool.Option{}, tool.ConnectionOptions...),
	tool.Option{Long: "numParallelCollections", Short: 'j', Kind: tool.Int, Default: "4", Help: "number of collections to dump in parallel"},
	tool.Option{Long: "out", Short: 'o', Kind: tool.String, Help: "output directory (not supported by the stand-in)"},
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cl, code, done := tool.ReadCommandLine("mongodump", "<options> <connection-string>", commandLine, args, func(positional []string) error {
		return fmt.Errorf("positional arguments not allowed: %v", positional)
	})
	if done {
		return code
	}
	p, log, clientOpts := cl.Options, cl.Log, cl.Client

	bars := tool.NewBars(log, tool.ProgressInterval(), 24, false)
	bars.Start()
	defer bars.Stop()

	ctx, stop := tool.Interruptible(log)
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
