package mongodb

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"backupd/domain"
)

// shownDifferences is how many differing documents a verification names
// in the log, per collection.
const shownDifferences = 5

// Expected is what the backup's manifest says of a restored collection.
type Expected struct {
	Collection string
	Documents  int64 // the manifest's count
	// Fingerprint to compare documents with; nil takes the one Restore
	// computed for Collection (no document comparison if there is none).
	Fingerprint *Fingerprint
	// AllowExtra accepts documents that are not in the archive: a restore
	// that inserts alongside existing documents leaves them there. Every
	// archived document must still be present and identical.
	AllowExtra bool
}

// Verify reads every restored collection back from the target database
// and compares it with what was expected: the document count, and the
// SHA-256 of every document's raw BSON (so field order and types count)
// keyed by _id, or of a stated sample above the hash limit (see
// DefaultHashLimit). Documents that differ, are missing, or appear in the
// sample without being in the archive are mismatches; the first few are
// named in the log. An error means verification could not run.
func (t *Target) Verify(ctx context.Context, expected []Expected) ([]domain.CollectionCheck, error) {
	client, err := connect(ctx, t.cfg, workReach)
	if err != nil {
		return nil, err
	}
	defer client.Disconnect(context.Background())
	checks := make([]domain.CollectionCheck, 0, len(expected))
	for _, exp := range expected {
		fp := exp.Fingerprint
		if fp == nil {
			fp = t.Fingerprint(exp.Collection)
		}
		c, err := t.verifyCollection(ctx, client, exp, fp)
		if err != nil {
			return checks, err
		}
		checks = append(checks, c)
	}
	return checks, nil
}

func (t *Target) verifyCollection(ctx context.Context, client *mongo.Client, exp Expected, fp *Fingerprint) (domain.CollectionCheck, error) {
	check := domain.CollectionCheck{Name: exp.Collection, ExpectedDocs: exp.Documents}
	var recs []record
	var bits uint8
	if fp != nil {
		var err error
		if recs, err = fp.load(); err != nil {
			return check, err
		}
		bits = fp.SampleBits
		if fp.Documents != exp.Documents {
			t.logger.Warn(fmt.Sprintf("collection %s: the manifest says %d documents, the archive holds %d", exp.Collection, exp.Documents, fp.Documents), "collection", exp.Collection)
		}
	}
	seen := make([]bool, len(recs))
	var differing []string
	var changed, extra int64
	note := func(doc bson.Raw) {
		if len(differing) < shownDifferences {
			differing = append(differing, describeID(doc))
		}
	}

	coll := client.Database(t.cfg.Database).Collection(exp.Collection)
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return check, fmt.Errorf("reading back collection %q: %w", exp.Collection, err)
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		check.ActualDocs++
		if fp == nil {
			continue
		}
		doc := cur.Current
		id := idHash(doc)
		if !inSample(id[:], bits) {
			continue
		}
		sum := sha256.Sum256(doc)
		switch matchRecord(recs, seen, id[:16], sum[:16]) {
		case docChanged:
			changed++
			note(doc)
		case docExtra:
			extra++
			note(doc)
		}
	}
	if err := cur.Err(); err != nil {
		return check, fmt.Errorf("reading back collection %q: %w", exp.Collection, err)
	}
	missing := int64(0)
	for _, s := range seen {
		if !s {
			missing++
		}
	}
	check.HashesCompared = int64(len(recs))
	if exp.AllowExtra {
		check.ExtraDocs = extra
		check.HashMismatches = changed + missing
		check.OK = check.ActualDocs >= check.ExpectedDocs && check.HashMismatches == 0
	} else {
		check.HashMismatches = changed + extra + missing
		check.OK = check.ActualDocs == check.ExpectedDocs && check.HashMismatches == 0
	}

	switch {
	case fp == nil:
		t.logger.Warn(fmt.Sprintf("collection %s: %d of %d documents; no fingerprint, so contents were not compared", exp.Collection, check.ActualDocs, check.ExpectedDocs), "collection", exp.Collection)
	case check.OK:
		scope := "every document"
		if bits > 0 {
			scope = fmt.Sprintf("a sample of %d documents (those whose _id SHA-256 starts with %d zero bits)", len(recs), bits)
		}
		msg := fmt.Sprintf("collection %s verified: %d documents, %s identical to the archive", exp.Collection, check.ActualDocs, scope)
		if check.ExtraDocs > 0 {
			msg += fmt.Sprintf("; %d other documents were already there and were left alone", check.ExtraDocs)
		}
		t.logger.Info(msg, "collection", exp.Collection)
	default:
		msg := fmt.Sprintf("collection %s differs from the archive: %d documents (expected %d); %d changed, %d not in the archive, %d missing",
			exp.Collection, check.ActualDocs, check.ExpectedDocs, changed, extra, missing)
		if len(differing) > 0 {
			msg += "; differing: " + joinIDs(differing)
		}
		t.logger.Warn(msg, "collection", exp.Collection)
	}
	return check, nil
}

type match int

const (
	docSame    match = iota // an archive document with this _id and content
	docChanged              // an archive document with this _id, other content
	docExtra                // no (unseen) archive document with this _id
)

// matchRecord consumes the archive record a read-back document answers to.
// Records are sorted, so the records of one _id are adjacent (several only
// when a collection has no unique _id).
func matchRecord(recs []record, seen []bool, id, sum []byte) match {
	first := sort.Search(len(recs), func(i int) bool { return bytes.Compare(recs[i][:16], id) >= 0 })
	other := -1
	for i := first; i < len(recs) && bytes.Equal(recs[i][:16], id); i++ {
		if seen[i] {
			continue
		}
		if bytes.Equal(recs[i][16:], sum) {
			seen[i] = true
			return docSame
		}
		if other < 0 {
			other = i
		}
	}
	if other >= 0 {
		seen[other] = true
		return docChanged
	}
	return docExtra
}

func describeID(doc bson.Raw) string {
	v, err := doc.LookupErr("_id")
	if err != nil {
		return "(a document without _id)"
	}
	js, err := bson.MarshalExtJSON(bson.D{{Key: "_id", Value: v}}, true, false)
	if err != nil {
		return v.String()
	}
	return string(js)
}

func joinIDs(ids []string) string {
	var b bytes.Buffer
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(id)
	}
	return b.String()
}
