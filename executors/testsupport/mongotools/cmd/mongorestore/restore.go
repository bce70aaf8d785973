package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/executors/mongodb/mongoarchive"
	"backupd/executors/testsupport/mongotools/internal/idx"
	"backupd/executors/testsupport/mongotools/internal/tool"
)

const (
	batchDocuments = 1000
	batchBytes     = 16 << 20
)

type result struct {
	successes, failures int64
	err                 error
}

type restorer struct {
	client *mongo.Client
	log    *tool.Logger
	bars   *tool.Bars
	opts   *tool.Parsed

	location string
	include  *matcher
	exclude  *matcher
	rename   *renamer
	drop     bool
	stop     bool // stop at the first write error
	ordered  bool

	intents map[mongoarchive.Namespace]*intent
	order   []*intent
	total   result
}

// intent is one collection of the archive that is being restored.
type intent struct {
	source  mongoarchive.Namespace
	target  mongoarchive.Namespace
	meta    mongoarchive.Metadata
	started bool
	counter *tool.Counter
	batch   []any
	size    int
	result  result
}

func (r *restorer) restore(ctx context.Context) result {
	if err := r.configure(); err != nil {
		return result{err: err}
	}
	in, err := r.openArchive()
	if err != nil {
		return result{err: err}
	}
	defer in.Close()
	ar, err := mongoarchive.NewReader(in)
	if err != nil {
		return result{err: err}
	}
	r.log.Logf(tool.Always, "preparing collections to restore from")
	if err := r.prepare(ar.Prelude()); err != nil {
		return result{err: fmt.Errorf("error scanning filesystem: %v", err)}
	}
	for {
		it, err := ar.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return r.fail(err)
		}
		in := r.intents[it.Namespace]
		if in == nil {
			continue // excluded: its data is read and dropped
		}
		if err := r.start(ctx, in); err != nil {
			return r.fail(fmt.Errorf("%v: %v", in.target, err))
		}
		if it.End {
			err = r.flush(ctx, in)
			r.finish(in)
		} else {
			err = r.add(ctx, in, it.Document)
		}
		if err != nil {
			return r.fail(fmt.Errorf("%v: error restoring from %s: %v", in.target, r.location, err))
		}
		if ctx.Err() != nil {
			return r.fail(ctx.Err())
		}
	}
	if !r.opts.Bool("noIndexRestore") {
		for _, in := range r.order {
			if err := r.restoreIndexes(ctx, in); err != nil {
				return r.fail(err)
			}
		}
	}
	return r.total
}

func (r *restorer) fail(err error) result {
	res := r.total
	res.err = err
	return res
}

func (r *restorer) configure() error {
	p := r.opts
	if p.String("archive") == "" {
		return errors.New("this stand-in mongorestore reads archives only: use --archive")
	}
	db, coll := p.String("db"), p.String("collection")
	if db == "" && coll != "" {
		return errors.New("cannot restore a collection without a specified database")
	}
	includes := p.Strings("nsInclude")
	if db != "" {
		r.log.Log(tool.Always, "The --db and --collection flags are deprecated for this use-case; please use --nsInclude instead, i.e. with --nsInclude=${DATABASE}.${COLLECTION}")
		if coll != "" {
			includes = append(includes, escape(db)+"."+escape(coll))
		} else {
			includes = append(includes, escape(db)+".*")
		}
	}
	if len(includes) == 0 {
		includes = []string{"*"}
	}
	var err error
	if r.include, err = newMatcher(includes); err != nil {
		return fmt.Errorf("invalid includes: %v", err)
	}
	if r.exclude, err = newMatcher(p.Strings("nsExclude")); err != nil {
		return fmt.Errorf("invalid excludes: %v", err)
	}
	if r.rename, err = newRenamer(p.Strings("nsFrom"), p.Strings("nsTo")); err != nil {
		return fmt.Errorf("invalid renames: %v", err)
	}
	if p.Int("numInsertionWorkersPerCollection") < 0 {
		return errors.New("cannot specify a negative number of insertion workers per collection")
	}
	r.drop = p.Bool("drop")
	r.stop = p.Bool("stopOnError") || p.Bool("maintainInsertionOrder")
	r.ordered = p.Bool("maintainInsertionOrder")
	return nil
}

func escape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `$`, `\$`).Replace(s)
}

func (r *restorer) openArchive() (io.ReadCloser, error) {
	var in io.ReadCloser = io.NopCloser(os.Stdin)
	r.location = "archive on stdin"
	if name := r.opts.String("archive"); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		in, r.location = f, fmt.Sprintf("archive %#q", name)
	}
	if !r.opts.Bool("gzip") {
		return in, nil
	}
	zr, err := gzip.NewReader(in)
	if err != nil {
		in.Close()
		return nil, err
	}
	return readCloser{Reader: zr, close: in.Close}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// prepare creates an intent for each included collection of the prelude.
func (r *restorer) prepare(p mongoarchive.Prelude) error {
	r.intents = map[mongoarchive.Namespace]*intent{}
	for _, c := range p.Collections {
		src := c.Namespace()
		if !r.include.has(src.String()) || r.exclude.has(src.String()) {
			r.log.Logf(tool.DebugLow, "skipping restoring %v, it is excluded", src)
			continue
		}
		if strings.HasPrefix(src.Collection, "system.") {
			r.log.Logf(tool.DebugLow, "skipping restoring system collection %v", src)
			continue
		}
		db, coll, ok := strings.Cut(r.rename.get(src.String()), ".")
		if !ok || db == "" || coll == "" {
			return fmt.Errorf("cannot rename %v to a namespace without a database and a collection", src)
		}
		in := &intent{source: src, target: mongoarchive.Namespace{Database: db, Collection: coll}}
		r.log.Logf(tool.Always, "reading metadata for %#q from %#q", in.target.String(), r.location)
		meta, err := mongoarchive.ParseMetadata(c.Metadata)
		if err != nil {
			return fmt.Errorf("error parsing metadata from %s: %v", r.location, err)
		}
		in.meta = meta
		r.intents[src] = in
		r.order = append(r.order, in)
	}
	return nil
}

// start drops or creates the target collection when its first data arrives.
func (r *restorer) start(ctx context.Context, in *intent) error {
	if in.started {
		return nil
	}
	in.started = true
	db := r.client.Database(in.target.Database)
	names, err := db.ListCollectionNames(ctx, bson.D{{Key: "name", Value: in.target.Collection}})
	if err != nil {
		return fmt.Errorf("error reading database: %v", err)
	}
	exists := len(names) > 0
	switch {
	case exists && r.drop:
		r.log.Logf(tool.Always, "dropping collection %#q before restoring", in.target.String())
		if err := db.Collection(in.target.Collection).Drop(ctx); err != nil {
			return fmt.Errorf("error dropping collection: %v", err)
		}
		exists = false
	case exists:
		r.log.Logf(tool.Always, "restoring to existing collection %#q without dropping", in.target.String())
	}
	if !exists {
		how := "using options from metadata"
		if len(in.meta.Options) == 0 {
			how = "with no metadata"
		}
		r.log.Logf(tool.Info, "creating collection %#q %s", in.target.String(), how)
		cmd := append(bson.D{{Key: "create", Value: in.target.Collection}}, in.meta.Options...)
		if err := db.RunCommand(ctx, cmd).Err(); err != nil {
			return fmt.Errorf("error creating collection %v: %v", in.target, err)
		}
	}
	r.log.Logf(tool.Always, "restoring %#q from %#q", in.target.String(), r.location)
	in.counter = tool.NewCounter(0)
	r.bars.Attach(in.target.String(), in.counter)
	return nil
}

func (r *restorer) add(ctx context.Context, in *intent, doc bson.Raw) error {
	in.batch = append(in.batch, bson.Raw(append([]byte(nil), doc...)))
	in.size += len(doc)
	in.counter.Add(int64(len(doc)))
	if d := tool.DocumentDelay(); d > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	if len(in.batch) >= batchDocuments || in.size >= batchBytes {
		return r.flush(ctx, in)
	}
	return nil
}

// flush inserts the batch. Write errors (a duplicate _id...) are failures,
// counted and logged; with --stopOnError the first one ends the restore.
func (r *restorer) flush(ctx context.Context, in *intent) error {
	if len(in.batch) == 0 {
		return nil
	}
	batch := in.batch
	in.batch, in.size = nil, 0
	coll := r.client.Database(in.target.Database).Collection(in.target.Collection)
	_, err := coll.InsertMany(ctx, batch, options.InsertMany().SetOrdered(r.ordered))
	var bwe mongo.BulkWriteException
	switch {
	case err == nil:
		in.result.successes += int64(len(batch))
		r.total.successes += int64(len(batch))
		return nil
	case errors.As(err, &bwe) && len(bwe.WriteErrors) > 0 && bwe.WriteConcernError == nil:
		failed := int64(len(bwe.WriteErrors))
		attempted := int64(len(batch))
		if r.ordered {
			attempted = int64(bwe.WriteErrors[0].Index) + 1
		}
		in.result.successes += attempted - failed
		in.result.failures += failed
		r.total.successes += attempted - failed
		r.total.failures += failed
		if r.stop {
			return err
		}
		for _, we := range bwe.WriteErrors {
			r.log.Logf(tool.Always, "continuing through error: %v", we.Message)
		}
		return nil
	default:
		return err
	}
}

func (r *restorer) finish(in *intent) {
	r.bars.Detach(in.target.String())
	s, f := in.result.successes, in.result.failures
	r.log.Logf(tool.Always, "finished restoring %#q (%d %s, %d %s)", in.target.String(),
		s, tool.Plural(s, "document", "documents"), f, tool.Plural(f, "failure", "failures"))
}

// restoreIndexes creates the metadata's indexes but _id_, which the
// collection has from its creation.
func (r *restorer) restoreIndexes(ctx context.Context, in *intent) error {
	if !in.started {
		return nil
	}
	var indexes []bson.D
	var docs []*idx.IndexDocument
	for _, ix := range in.meta.Indexes {
		doc := idx.FromMetadata(ix)
		if doc.Name() == "_id_" {
			continue
		}
		var clean bson.D
		for _, e := range ix {
			if e.Key != "v" && e.Key != "ns" {
				clean = append(clean, e)
			}
		}
		indexes = append(indexes, clean)
		docs = append(docs, doc)
	}
	if len(indexes) == 0 {
		r.log.Logf(tool.Always, "no indexes to restore for collection %#q", in.target.String())
		return nil
	}
	r.log.Logf(tool.Always, "restoring indexes for collection %#q from metadata", in.target.String())
	for _, d := range docs {
		r.log.Logf(tool.Always, "index: %#v", d)
	}
	cmd := bson.D{{Key: "createIndexes", Value: in.target.Collection}, {Key: "indexes", Value: indexes}}
	if err := r.client.Database(in.target.Database).RunCommand(ctx, cmd).Err(); err != nil {
		return fmt.Errorf("%s: error creating indexes for %s: %v", in.target, in.target, err)
	}
	return nil
}
