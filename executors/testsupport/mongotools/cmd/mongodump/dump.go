package main

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/executors/mongodb/mongoarchive"
	"backupd/executors/testsupport/mongotools/internal/tool"
)

type dumper struct {
	client     *mongo.Client
	log        *tool.Logger
	bars       *tool.Bars
	db         string
	collection string
	archive    string
	gzip       bool
	out        string
	parallel   int
}

// intent is one collection to dump.
type intent struct {
	ns   mongoarchive.Namespace
	meta mongoarchive.CollectionMetadata
}

func (d *dumper) validate() error {
	switch {
	case d.db == "" && d.collection != "":
		return errors.New("cannot dump a collection without a specified database")
	case d.out != "" && d.archive != "":
		return errors.New("--out not allowed when --archive is specified")
	case d.archive == "":
		return errors.New("this stand-in mongodump writes archives only: use --archive")
	case d.parallel <= 0:
		return errors.New("numParallelCollections must be positive")
	case strings.HasPrefix(d.collection, "system.buckets."):
		return errors.New("cannot specify a system.buckets collection in --collection")
	}
	return nil
}

func (d *dumper) dump(ctx context.Context) error {
	if d.collection != "" {
		names, err := d.client.Database(d.db).ListCollectionNames(ctx, bson.D{{Key: "name", Value: d.collection}})
		if err != nil {
			return fmt.Errorf("error verifying collection info: %v", err)
		}
		if len(names) == 0 {
			d.log.Logf(tool.Always, "namespace with DB %s and collection %s does not exist", d.db, d.collection)
			return nil
		}
	}
	intents, err := d.intents(ctx)
	if err != nil {
		return fmt.Errorf("error creating intents to dump: %v", err)
	}

	out, location, err := d.openArchive()
	if err != nil {
		return err
	}
	defer out.Close()
	prelude := mongoarchive.Prelude{Header: mongoarchive.Header{
		ConcurrentCollections: int32(d.parallel),
		Version:               mongoarchive.FormatVersion,
		ServerVersion:         tool.ServerVersion(ctx, d.client),
		ToolVersion:           tool.VersionString,
	}}
	for _, in := range intents {
		prelude.Collections = append(prelude.Collections, in.meta)
	}
	w, err := mongoarchive.NewWriter(out, prelude)
	if err != nil {
		return fmt.Errorf("error writing metadata into archive: %v", err)
	}
	d.log.Logf(tool.Info, "dumping up to %d collections in parallel", min(d.parallel, len(intents)))
	for _, in := range intents {
		if err := d.dumpIntent(ctx, w, in, location); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return out.Close()
}

// intents lists the collections to dump, by name, with their metadata
// (options, indexes, uuid) as mongodump records it.
func (d *dumper) intents(ctx context.Context) ([]intent, error) {
	var dbs []string
	if d.db != "" {
		dbs = []string{d.db}
	} else {
		names, err := d.client.ListDatabaseNames(ctx, bson.D{})
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			if n != "local" && n != "config" && n != "admin" {
				dbs = append(dbs, n)
			}
		}
		sort.Strings(dbs)
	}
	var out []intent
	for _, db := range dbs {
		filter := bson.D{}
		if d.collection != "" {
			filter = bson.D{{Key: "name", Value: d.collection}}
		}
		cur, err := d.client.Database(db).ListCollections(ctx, filter)
		if err != nil {
			return nil, err
		}
		var specs []struct {
			Name    string `bson:"name"`
			Type    string `bson:"type"`
			Options bson.D `bson:"options"`
			Info    struct {
				UUID bson.RawValue `bson:"uuid"`
			} `bson:"info"`
		}
		if err := cur.All(ctx, &specs); err != nil {
			return nil, err
		}
		sort.Slice(specs, func(i, j int) bool { return specs[i].Name < specs[j].Name })
		for _, s := range specs {
			if strings.HasPrefix(s.Name, "system.") || s.Type == "view" {
				d.log.Logf(tool.DebugLow, "skipping dump of %s.%s", db, s.Name)
				continue
			}
			ns := mongoarchive.Namespace{Database: db, Collection: s.Name}
			meta := mongoarchive.Metadata{Options: s.Options, CollectionName: s.Name, Type: s.Type}
			if _, data, ok := s.Info.UUID.BinaryOK(); ok {
				meta.UUID = hex.EncodeToString(data)
			}
			if meta.Type == "" {
				meta.Type = "collection"
			}
			if meta.Indexes, err = d.indexes(ctx, ns); err != nil {
				return nil, err
			}
			js, err := mongoarchive.MarshalMetadata(meta)
			if err != nil {
				return nil, fmt.Errorf("error marshalling metadata json for collection `%v`: %v", ns, err)
			}
			out = append(out, intent{ns: ns, meta: mongoarchive.CollectionMetadata{
				Database: db, Collection: s.Name, Metadata: js, Type: meta.Type,
			}})
		}
	}
	return out, nil
}

func (d *dumper) indexes(ctx context.Context, ns mongoarchive.Namespace) ([]bson.D, error) {
	cur, err := d.client.Database(ns.Database).Collection(ns.Collection).Indexes().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("error getting indexes for collection `%v`: %v", ns, err)
	}
	var ix []bson.D
	if err := cur.All(ctx, &ix); err != nil {
		return nil, fmt.Errorf("error getting indexes for collection `%v`: %v", ns, err)
	}
	return ix, nil
}

func (d *dumper) openArchive() (io.WriteCloser, string, error) {
	var f io.WriteCloser = nopCloser{os.Stdout}
	location := "archive on stdout"
	if d.archive != "-" {
		path := d.archive
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			path = filepath.Join(path, "archive")
			if d.gzip {
				path += ".gz"
			}
		}
		file, err := os.Create(path)
		if err != nil {
			return nil, "", err
		}
		f, location = file, fmt.Sprintf("archive %#q", d.archive)
	}
	if d.gzip {
		return &gzipFile{Writer: gzip.NewWriter(f), file: f}, location, nil
	}
	return f, location, nil
}

func (d *dumper) dumpIntent(ctx context.Context, w *mongoarchive.Writer, in intent, location string) error {
	coll := d.client.Database(in.ns.Database).Collection(in.ns.Collection)
	d.log.Logf(tool.Always, "writing %#q to %#q", in.ns.String(), location)
	total, err := coll.EstimatedDocumentCount(ctx)
	if err != nil {
		return fmt.Errorf("error getting count from db: %v", err)
	}
	counter := tool.NewCounter(total)
	d.bars.Attach(in.ns.String(), counter)
	n, err := d.copyDocuments(ctx, coll, w, in.ns, counter)
	d.bars.Detach(in.ns.String())
	if err != nil {
		return fmt.Errorf("error writing data for collection `%v` to disk: %v", in.ns, err)
	}
	if err := w.EndCollection(in.ns); err != nil {
		return err
	}
	d.log.Logf(tool.Always, "done dumping %#q (%d %s)", in.ns.String(), n, tool.Plural(n, "document", "documents"))
	return nil
}

func (d *dumper) copyDocuments(ctx context.Context, coll *mongo.Collection, w *mongoarchive.Writer, ns mongoarchive.Namespace, counter *tool.Counter) (int64, error) {
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return 0, err
	}
	defer cur.Close(context.Background())
	delay := tool.DocumentDelay()
	var n int64
	for cur.Next(ctx) {
		if err := w.WriteDocument(ns, cur.Current); err != nil {
			return n, err
		}
		n++
		counter.Add(1)
		if delay > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(delay):
			}
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
	}
	return n, cur.Err()
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// gzipFile closes the gzip stream, then the file under it.
type gzipFile struct {
	*gzip.Writer
	file   io.Closer
	closed bool
}

func (g *gzipFile) Close() error {
	if g.closed {
		return nil
	}
	g.closed = true
	err := g.Writer.Close()
	if cerr := g.file.Close(); err == nil {
		err = cerr
	}
	return err
}
