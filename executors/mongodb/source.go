package mongodb

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"backupd/executors/archive"
	"backupd/executors/mongodb/mongoarchive"
)

// SourceFormat names the archive format of a MongoDB backup: a tar.gz whose
// entries are one mongodump --gzip --archive file per collection.
const SourceFormat = "mongodb-tar-gz/1"

// EntrySuffix ends the tar name of a collection's entry (Info reports it as
// SourceInfo.EntrySuffix): the tar path is PathPrefix + Entry.Key +
// EntrySuffix, e.g. "mongodb/shop/customers.archive.gz". Each such file
// restores on its own with `mongorestore --gzip --archive=FILE`.
const EntrySuffix = ".archive.gz"

// EntryPath is the tar path of a collection's entry.
func EntryPath(info archive.SourceInfo, collection string) string {
	suffix := info.EntrySuffix
	if suffix == "" {
		suffix = EntrySuffix
	}
	return info.PathPrefix + collection + suffix
}

// SourceOption tunes a source.
type SourceOption func(*source)

// WithProgress is called with mongodump's progress (documents dumped out of
// the estimated total) as it prints it, about every 3 seconds per
// collection that takes that long.
func WithProgress(fn func(collection string, done, total int64)) SourceOption {
	return func(s *source) { s.onProgress = fn }
}

// source dumps a database collection by collection with the real mongodump.
type source struct {
	cfg        Config
	tools      Tools
	logger     *slog.Logger
	spoolDir   string
	onProgress func(collection string, done, total int64)

	versionMu sync.Mutex
	version   string
}

// NewSource is a backup source for cfg's database. Each collection is
// dumped by `mongodump --config=FILE --db=D --collection=C --gzip
// --archive=SPOOL` into a spool file in spoolDir ("" for the temporary
// folder) before it is yielded; the entry's Release deletes it. Entries
// are not resumable mid-way: a pause or a crash redoes the collection.
func NewSource(cfg Config, tools Tools, logger *slog.Logger, spoolDir string, opts ...SourceOption) archive.Source {
	s := &source{cfg: cfg, tools: tools, logger: logger, spoolDir: spoolDir}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func (s *source) Info(ctx context.Context) (archive.SourceInfo, error) {
	version, err := s.toolVersion(ctx)
	if err != nil {
		return archive.SourceInfo{}, err
	}
	return archive.SourceInfo{
		Service:     "mongodb",
		Format:      SourceFormat,
		Database:    s.cfg.Database,
		ToolVersion: version,
		PathPrefix:  "mongodb/" + s.cfg.Database + "/",
		EntrySuffix: EntrySuffix,
	}, nil
}

func (s *source) toolVersion(ctx context.Context) (string, error) {
	s.versionMu.Lock()
	defer s.versionMu.Unlock()
	if s.version != "" {
		return s.version, nil
	}
	v, err := ToolVersion(ctx, s.tools.mongodump(), EnvMongodump)
	if err != nil {
		return "", err
	}
	s.version = v
	return v, nil
}

// Estimate counts the collections and takes the database's dataSize
// (uncompressed BSON: the archive is smaller).
func (s *source) Estimate(ctx context.Context) (entries, bytes int64, err error) {
	client, err := connect(ctx, s.cfg, workReach)
	if err != nil {
		return 0, 0, err
	}
	defer client.Disconnect(context.Background())
	names, err := collectionNames(ctx, client, s.cfg.Database)
	if err != nil {
		return 0, 0, fmt.Errorf("listing the collections of %q: %w", s.cfg.Database, err)
	}
	raw, err := client.Database(s.cfg.Database).RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Raw()
	if err != nil {
		// Sizes are only an estimate: the count is still good.
		s.logger.Warn("dbStats failed; the backup size is unknown: "+s.cfg.Redact(err.Error()), "database", s.cfg.Database)
		return int64(len(names)), 0, nil
	}
	return int64(len(names)), numberField(raw, "dataSize"), nil
}

func (s *source) List(ctx context.Context, after string, fn func(archive.Entry) error) error {
	if _, err := s.toolVersion(ctx); err != nil {
		return err
	}
	names, err := s.collections(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if name <= after {
			continue
		}
		entry, ok, err := s.dump(ctx, name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if err := fn(entry); err != nil {
			entry.Release()
			return err
		}
	}
	return nil
}

func (s *source) collections(ctx context.Context) ([]string, error) {
	client, err := connect(ctx, s.cfg, workReach)
	if err != nil {
		return nil, err
	}
	defer client.Disconnect(context.Background())
	names, err := collectionNames(ctx, client, s.cfg.Database)
	if err != nil {
		return nil, fmt.Errorf("listing the collections of %q: %w", s.cfg.Database, err)
	}
	s.logger.Info(fmt.Sprintf("database %s has %d collections", s.cfg.Database, len(names)), "database", s.cfg.Database, "collections", len(names))
	return names, nil
}

func (s *source) Reopen(ctx context.Context, ref archive.Ref, offset int64) (io.ReadCloser, error) {
	return nil, archive.ErrNotResumable
}

// dump runs mongodump for one collection into a spool file, checks the
// archive it wrote, and describes it as an entry. ok is false when the
// collection was dropped while the backup ran.
func (s *source) dump(ctx context.Context, name string) (archive.Entry, bool, error) {
	f, err := os.CreateTemp(s.spoolDir, "backupd-mongodump-*"+EntrySuffix) // mode 0600
	if err != nil {
		return archive.Entry{}, false, fmt.Errorf("creating the spool file for collection %q: %w", name, err)
	}
	spool := f.Name()
	_ = f.Close()
	var release sync.Once
	remove := func() { release.Do(func() { _ = os.Remove(spool) }) }
	handedOver := false
	defer func() {
		if !handedOver {
			remove()
		}
	}()

	s.logger.Info("dumping collection "+name, "collection", name)
	started := time.Now()
	reported, missing, err := s.runMongodump(ctx, name, spool)
	if err != nil {
		return archive.Entry{}, false, fmt.Errorf("dumping collection %q: %w", name, err)
	}
	st, err := os.Stat(spool)
	if err != nil {
		return archive.Entry{}, false, fmt.Errorf("dumping collection %q: %w", name, err)
	}
	if missing || st.Size() == 0 {
		s.logger.Warn(fmt.Sprintf("collection %s was dropped while the backup ran; it is not in the archive", name), "collection", name)
		return archive.Entry{}, false, nil
	}
	docs, err := checkSpool(spool, mongoarchive.Namespace{Database: s.cfg.Database, Collection: name})
	if err != nil {
		return archive.Entry{}, false, fmt.Errorf("mongodump's archive of collection %q is not valid: %w", name, err)
	}
	if reported >= 0 && reported != docs {
		return archive.Entry{}, false, fmt.Errorf("mongodump reported %d documents for collection %q but its archive holds %d", reported, name, docs)
	}
	s.logger.Info(fmt.Sprintf("collection %s: %d documents, %d bytes compressed, in %s", name, docs, st.Size(), time.Since(started).Round(time.Millisecond)),
		"collection", name, "documents", docs, "bytes", st.Size())
	handedOver = true // the entry's Release removes the spool file
	return spoolEntry(name, spool, st.Size(), docs, remove), true, nil
}

// runMongodump dumps collection name into spool. reported is the count in
// mongodump's "done dumping" line (-1 without one); missing is set when
// mongodump said the collection does not exist.
func (s *source) runMongodump(ctx context.Context, name, spool string) (reported int64, missing bool, err error) {
	reported = -1
	run := toolRun{
		tool:      "mongodump",
		path:      s.tools.mongodump(),
		args:      []string{"--db=" + s.cfg.Database, "--collection=" + name, "--gzip", "--archive=" + spool},
		cfg:       s.cfg,
		configDir: s.spoolDir,
		logger:    s.logger,
		attrs:     []any{"collection", name},
		onLine: func(l toolLine) {
			switch l.Kind {
			case lineProgress:
				if s.onProgress != nil {
					s.onProgress(name, l.Done, l.Total)
				}
			case lineDoneDumping:
				reported = l.Done
			case lineNamespaceMissing:
				missing = true
			}
		},
	}
	err = run.run(ctx)
	return reported, missing, err
}

// spoolEntry is the archive entry of a collection dumped to spool; release
// removes the file.
func spoolEntry(name, spool string, size, docs int64, release func()) archive.Entry {
	return archive.Entry{
		Key:         name,
		Size:        size,
		ModTime:     time.Now().UTC(),
		ContentType: "application/gzip",
		Documents:   &docs,
		Resumable:   false,
		Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) {
			f, err := os.Open(spool)
			if err != nil {
				return nil, fmt.Errorf("opening the dump of collection %q: %w", name, err)
			}
			if _, err := f.Seek(offset, io.SeekStart); err != nil {
				f.Close()
				return nil, err
			}
			return f, nil
		},
		Release: release,
	}
}

// numberField reads an int32, int64 or double field (servers differ).
func numberField(doc bson.Raw, name string) int64 {
	v := doc.Lookup(name)
	if n, ok := v.Int64OK(); ok {
		return n
	}
	if n, ok := v.Int32OK(); ok {
		return int64(n)
	}
	if f, ok := v.DoubleOK(); ok {
		return int64(f)
	}
	return 0
}

// checkSpool reads mongodump's archive back: it must hold exactly ns,
// complete, with matching CRC. It returns the number of documents.
func checkSpool(path string, ns mongoarchive.Namespace) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	ar, err := mongoarchive.NewReader(zr)
	if err != nil {
		return 0, err
	}
	if !ar.Prelude().Has(ns) {
		return 0, fmt.Errorf("it does not list %s", ns)
	}
	var docs int64
	ended := false
	for {
		it, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		if it.Namespace != ns {
			return 0, fmt.Errorf("it holds %s besides %s", it.Namespace, ns)
		}
		if it.End {
			docs, ended = it.Documents, true
		}
	}
	if !ended {
		return 0, fmt.Errorf("it has no end marker for %s", ns)
	}
	// The gzip trailer (CRC-32 and size) is checked when the reader hits EOF.
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return 0, err
	}
	return docs, nil
}
