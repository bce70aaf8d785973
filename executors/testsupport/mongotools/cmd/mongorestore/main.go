// Command mongorestore is a stand-in for MongoDB's mongorestore, for tests
// (the real one cannot be installed here). It keeps the real tool's command
// line for what backupd uses (--uri, --config, --gzip, --archive[=FILE],
// --nsFrom/--nsTo, --nsInclude/--nsExclude, --drop, --stopOnError,
// --numInsertionWorkersPerCollection, --version, --quiet, -v), its exit
// codes and its stderr lines, and it reads mongodump archives, including
// the real ones in ../shared/fixtures/mongodump.
//
// It restores collections one after the other in archive order and inserts
// in batches of up to 1,000 documents. Index definitions are created without
// the "v" and "ns" options (FerretDB refuses both; MongoDB does not need
// them), which is where it deliberately differs from the real tool.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"backupd/executors/testsupport/mongotools/internal/tool"
)

var commandLine = append(append([]tool.Option{}, tool.ConnectionOptions...),
	tool.Option{Long: "nsInclude", Kind: tool.List, Help: "include matching namespaces (wildcards: *)"},
	tool.Option{Long: "nsExclude", Kind: tool.List, Help: "exclude matching namespaces (wildcards: *)"},
	tool.Option{Long: "nsFrom", Kind: tool.List, Help: "rename matching namespaces (variables: $name$), with --nsTo"},
	tool.Option{Long: "nsTo", Kind: tool.List, Help: "the new names for --nsFrom"},
	tool.Option{Long: "drop", Kind: tool.Bool, Help: "drop each collection before import"},
	tool.Option{Long: "stopOnError", Kind: tool.Bool, Help: "halt after the first write error"},
	tool.Option{Long: "maintainInsertionOrder", Kind: tool.Bool, Help: "insert in order, stopping at the first error"},
	tool.Option{Long: "noIndexRestore", Kind: tool.Bool, Help: "don't restore indexes"},
	tool.Option{Long: "numInsertionWorkersPerCollection", Kind: tool.Int, Default: "1", Help: "insertion workers per collection (accepted; the stand-in inserts with one)"},
	tool.Option{Long: "numParallelCollections", Short: 'j', Kind: tool.Int, Default: "4", Help: "collections to restore in parallel (accepted)"},
	tool.Option{Long: "dir", Kind: tool.String, Help: "input directory (not supported by the stand-in)"},
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	cl, code, done := tool.ReadCommandLine("mongorestore", "<options> <connection-string> <directory or file to restore>", commandLine, args, func(positional []string) error {
		return fmt.Errorf("this stand-in mongorestore reads archives only, not the directory %v", positional)
	})
	if done {
		return code
	}
	p, log, clientOpts := cl.Options, cl.Log, cl.Client

	ctx, stop := tool.Interruptible(log)
	defer stop()

	client, err := tool.Connect(ctx, clientOpts)
	if err != nil {
		log.Logf(tool.Always, "error connecting to host: %v", err)
		return 1
	}
	defer client.Disconnect(context.Background())

	bars := tool.NewBars(log, tool.ProgressInterval(), 24, true)
	bars.Start()
	defer bars.Stop()

	r := &restorer{client: client, log: log, bars: bars, opts: p}
	res := r.restore(ctx)
	if res.err != nil {
		if errors.Is(res.err, context.Canceled) {
			res.err = errors.New("received termination signal")
		}
		log.Logf(tool.Always, "Failed: %v", res.err)
	}
	log.Logf(tool.Always, "%d document(s) restored successfully. %d document(s) failed to restore.", res.successes, res.failures)
	if res.err != nil {
		return 1
	}
	return 0
}
