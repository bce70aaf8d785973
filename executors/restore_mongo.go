package executors

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"

	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/mongodb"
)

// mongoRestorer restores each collection entry (mongodump's own --gzip
// --archive of one collection) with the real mongorestore, mapping the
// backed-up database onto the target database, one collection at a time.
type mongoRestorer struct {
	target   *mongodb.Target
	sourceDB string
	database string
	drop     bool
	log      *slog.Logger
	meter    *restoreMeter

	restored        atomic.Int64 // collections
	documents       atomic.Int64
	failedDocuments atomic.Int64
}

func (w *Worker) mongoRestorer(access targetAccess, opts domain.RestoreOptions, m archive.ManifestHeader, log *slog.Logger, meter *restoreMeter) (entryRestorer, string, error) {
	if m.Service != "mongodb" || m.Database == "" {
		return nil, "", fmt.Errorf("the archive holds %s data, not a MongoDB database", m.Service)
	}
	target, err := w.conns.MongoTarget(access.Settings, access.Secrets, opts.Database, log)
	if err != nil {
		return nil, "", err
	}
	r := &mongoRestorer{target: target, sourceDB: m.Database, database: opts.Database, drop: opts.Conflict == "drop", log: log, meter: meter}
	return r, "database " + opts.Database, nil
}

func (r *mongoRestorer) restore(ctx context.Context, e archive.ExtractedEntry, content io.Reader) error {
	if !strings.HasSuffix(e.Path, mongodb.EntrySuffix) {
		return &archive.ArchiveError{Problem: archive.ProblemEntry, Entry: e.Key, Detail: "a MongoDB archive entry must be a collection's " + mongodb.EntrySuffix + " file; this one is " + e.Path}
	}
	restored, failed, err := r.target.Restore(ctx, r.sourceDB, e.Key, content, r.drop)
	if err != nil {
		return err
	}
	r.restored.Add(1)
	r.documents.Add(restored)
	r.failedDocuments.Add(failed)
	r.meter.entryDone(e.Size)
	msg := fmt.Sprintf("collection %s restored into %s.%s: %d documents", e.Key, r.database, e.Key, restored)
	if failed > 0 {
		r.log.Warn(fmt.Sprintf("%s, %d could not be inserted (mongorestore's count; for example a duplicate _id)", msg, failed))
	} else {
		r.log.Info(msg)
	}
	return nil
}

func (r *mongoRestorer) wait() error { return nil }

// verify reads every collection back: its document count, and the
// SHA-256 of each document's BSON compared with the archive's (above
// mongodb.DefaultHashLimit documents in a collection, a deterministic
// sample of them; the report says so).
func (r *mongoRestorer) verify(ctx context.Context, m *archive.Manifest) (domain.RestoreReport, error) {
	var expected []mongodb.Expected
	for e, err := range m.Entries() {
		if err != nil {
			return domain.RestoreReport{}, err
		}
		var docs int64
		if e.Documents != nil {
			docs = *e.Documents
		}
		// Inserting alongside existing documents leaves them there: they are
		// reported, not counted against the restore.
		expected = append(expected, mongodb.Expected{Collection: e.Key, Documents: docs, AllowExtra: !r.drop})
	}
	checks, err := r.target.Verify(ctx, expected)
	if err != nil {
		return domain.RestoreReport{}, fmt.Errorf("verify the restore: %w", err)
	}
	return mongoReport(checks, r.failedDocuments.Load()), nil
}

// mongoReport sums the collection checks into the restore's report.
func mongoReport(checks []domain.CollectionCheck, failedInserts int64) domain.RestoreReport {
	report := domain.RestoreReport{Verified: true, Checked: int64(len(checks)), Collections: checks}
	var docs, compared int64
	sampled := false
	for _, c := range checks {
		docs += c.ActualDocs
		compared += c.HashesCompared
		if c.HashesCompared < c.ExpectedDocs {
			sampled = true
		}
		if c.OK {
			continue
		}
		report.Verified = false
		reason := fmt.Sprintf("%d documents, the archive holds %d", c.ActualDocs, c.ExpectedDocs)
		if c.HashMismatches > 0 {
			reason += fmt.Sprintf("; %d documents differ from the archive, are missing or are not in it", c.HashMismatches)
		}
		report.Mismatched = append(report.Mismatched, domain.Mismatch{Key: c.Name, Reason: reason})
	}
	scope := "every document's content identical to the archive (SHA-256 of its BSON)"
	if sampled {
		scope = fmt.Sprintf("the content of %d documents compared (SHA-256 of their BSON; collections above %d documents are checked on a deterministic sample of their _id hashes)", compared, mongodb.DefaultHashLimit)
	}
	if report.Verified {
		report.Summary = fmt.Sprintf("all %d collections verified: %d documents, %s", len(checks), docs, scope)
	} else {
		report.Summary = fmt.Sprintf("%d of %d collections differ from the archive", len(report.Mismatched), len(checks))
	}
	if failedInserts > 0 {
		report.Summary += fmt.Sprintf("; mongorestore could not insert %d documents", failedInserts)
	}
	return report
}

func (r *mongoRestorer) tally() (int64, int64) { return r.restored.Load(), 0 }

func (r *mongoRestorer) close() { _ = r.target.Close() }
