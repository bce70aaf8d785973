package mongodb

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"backupd/executors/mongodb/mongoarchive"
)

// Target restores collections into cfg's database with the real
// mongorestore, and verifies them against the archive.
type Target struct {
	cfg       Config
	tools     Tools
	logger    *slog.Logger
	spoolDir  string
	hashLimit int

	mu     sync.Mutex
	prints map[string]*Fingerprint // by collection, from Restore
}

// TargetOption tunes a target.
type TargetOption func(*Target)

// WithSpoolDir puts the tool's config file and the verification hashes in
// dir rather than the temporary folder.
func WithSpoolDir(dir string) TargetOption { return func(t *Target) { t.spoolDir = dir } }

// WithHashLimit sets how many documents per collection are compared one by
// one before verification switches to a sample (default DefaultHashLimit).
func WithHashLimit(n int) TargetOption { return func(t *Target) { t.hashLimit = n } }

// NewTarget is a restore target for cfg's database. Close it to delete
// the verification hashes it keeps between Restore and Verify.
func NewTarget(cfg Config, tools Tools, logger *slog.Logger, opts ...TargetOption) *Target {
	t := &Target{cfg: cfg, tools: tools, logger: logger, hashLimit: DefaultHashLimit, prints: map[string]*Fingerprint{}}
	if t.logger == nil {
		t.logger = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Preflight is what a restore would meet at the target.
type Preflight struct {
	// Writable: the target accepts writes (a probe collection was created
	// and dropped) and mongorestore is installed.
	Writable bool
	Reason   string   // why not, in plain words
	Field    string   // the form field the reason concerns, if any
	Existing []string // collections of the restore that already exist
	// ServerVersion and ToolVersion (mongorestore --version), when known.
	ServerVersion string
	ToolVersion   string
}

// Preflight connects, authenticates, lists which of collections already
// exist in the target database, and proves write access by creating and
// dropping a probe collection. Only a cancelled context is an error:
// everything the target refuses is in the answer.
func (t *Target) Preflight(ctx context.Context, collections []string) (Preflight, error) {
	var p Preflight
	if err := t.cfg.Validate(); err != nil {
		c := failedCheck(t.cfg, err)
		p.Reason, p.Field = c.Reason, c.Field
		return p, nil
	}
	client, err := connect(ctx, t.cfg, checkReach)
	if err != nil {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		c := failedCheck(t.cfg, err)
		p.Reason, p.Field = c.Reason, c.Field
		return p, nil
	}
	defer client.Disconnect(context.Background())
	p.ServerVersion = serverVersion(ctx, client)

	names, err := collectionNames(ctx, client, t.cfg.Database)
	if err != nil {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		p.Reason, p.Field = "cannot list the collections of database "+t.cfg.Database+": "+t.cfg.Redact(err.Error()), "database"
		return p, nil
	}
	wanted := map[string]bool{}
	for _, c := range collections {
		wanted[c] = true
	}
	for _, n := range names {
		if wanted[n] {
			p.Existing = append(p.Existing, n)
		}
	}
	sort.Strings(p.Existing)

	probe := "backupd_probe_" + randomHex(6)
	db := client.Database(t.cfg.Database)
	if err := db.CreateCollection(ctx, probe); err != nil {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		p.Reason, p.Field = fmt.Sprintf("cannot write to database %s: the server said: %s", t.cfg.Database, t.cfg.Redact(err.Error())), "database"
		return p, nil
	}
	if err := db.Collection(probe).Drop(ctx); err != nil {
		p.Reason, p.Field = fmt.Sprintf("created the probe collection %s.%s but cannot drop it (please drop it by hand): %s", t.cfg.Database, probe, t.cfg.Redact(err.Error())), "database"
		return p, nil
	}
	version, err := ToolVersion(ctx, t.tools.mongorestore(), EnvMongorestore)
	if err != nil {
		if ctx.Err() != nil {
			return p, ctx.Err()
		}
		p.Reason, p.Field = t.cfg.Redact(err.Error()), "connection"
		return p, nil
	}
	p.ToolVersion = version
	p.Writable = true
	return p, nil
}

// Restore runs `mongorestore --config=FILE --gzip --archive
// --nsInclude=SRC.C --nsFrom=SRC.C --nsTo=TARGET.C [--drop]` with archive
// (a collection's mongodump --gzip --archive file, as the backup stored
// it) on its standard input, logging mongorestore's lines as they come.
// While the archive streams in, it is also read here to fingerprint every
// document for Verify. restored and failed are mongorestore's counts
// (documents it could not insert, a duplicate _id for example, are
// failures, not an error).
func (t *Target) Restore(ctx context.Context, sourceDB, collection string, archive io.Reader, drop bool) (restored, failed int64, err error) {
	src := mongoarchive.Namespace{Database: sourceDB, Collection: collection}
	dst := mongoarchive.Namespace{Database: t.cfg.Database, Collection: collection}
	how := "inserting alongside existing documents"
	if drop {
		how = "dropping the collection first"
	}
	t.logger.Info(fmt.Sprintf("restoring collection %s into %s (%s)", src, dst, how), "collection", collection)

	pr, pw := io.Pipe()
	type fingerprinted struct {
		fp  *Fingerprint
		err error
	}
	printed := make(chan fingerprinted, 1)
	go func() {
		fp, err := readFingerprint(pr, src, t.hashLimit, t.spoolDir)
		_, _ = io.Copy(io.Discard, pr) // never hold mongorestore back
		printed <- fingerprinted{fp, err}
	}()

	args := []string{"--gzip", "--archive",
		"--nsInclude=" + nsPattern(src), "--nsFrom=" + nsPattern(src), "--nsTo=" + nsPattern(dst)}
	if drop {
		args = append(args, "--drop")
	}
	summary := false
	run := toolRun{
		tool:      "mongorestore",
		path:      t.tools.mongorestore(),
		args:      args,
		stdin:     &teeToPipe{r: archive, pw: pw},
		cfg:       t.cfg,
		configDir: t.spoolDir,
		logger:    t.logger,
		attrs:     []any{"collection", collection},
		onLine: func(l toolLine) {
			switch {
			case l.Kind == lineRestoreSummary:
				restored, failed, summary = l.Done, l.Failed, true
			case l.Kind == lineFinishedRestoring && l.Namespace == dst.String() && !summary:
				restored, failed = l.Done, l.Failed
			}
		},
	}
	runErr := run.run(ctx)
	pw.CloseWithError(errors.New("mongorestore stopped reading the archive"))
	res := <-printed
	if runErr != nil {
		res.fp.Release()
		return restored, failed, fmt.Errorf("restoring collection %q: %w", collection, runErr)
	}
	if res.err != nil {
		return restored, failed, fmt.Errorf("the archive of collection %q is damaged: %w", collection, res.err)
	}
	t.mu.Lock()
	t.prints[collection].Release()
	t.prints[collection] = res.fp
	t.mu.Unlock()
	if !summary {
		t.logger.Warn("mongorestore printed no summary line; counting the archive's documents as restored", "collection", collection)
		restored = res.fp.Documents - failed
	}
	return restored, failed, nil
}

// Fingerprint is what Restore read from the archive of collection (nil if
// it was not restored by this target).
func (t *Target) Fingerprint(collection string) *Fingerprint {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.prints[collection]
}

// Close deletes the fingerprints.
func (t *Target) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for c, fp := range t.prints {
		fp.Release()
		delete(t.prints, c)
	}
	return nil
}

// nsPattern escapes a namespace for mongorestore's --ns* options, where
// "*", "$" and "\" are special.
func nsPattern(ns mongoarchive.Namespace) string {
	esc := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `$`, `\$`)
	return esc.Replace(ns.Database) + "." + esc.Replace(ns.Collection)
}

// teeToPipe copies what mongorestore reads to the fingerprinting pipe and
// closes it at the end of the archive.
type teeToPipe struct {
	r  io.Reader
	pw *io.PipeWriter
}

func (t *teeToPipe) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		_, _ = t.pw.Write(p[:n]) // the fingerprint reports its own failure
	}
	if err == io.EOF {
		t.pw.Close()
	} else if err != nil {
		t.pw.CloseWithError(err)
	}
	return n, err
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
