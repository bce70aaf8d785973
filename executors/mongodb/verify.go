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
	coll := client.Database(t.cfg.Database).Collection(exp.Collection)
	actual, cmp, err := readBack(ctx, coll, fp != nil, recs, bits)
	if err != nil {
		return check, fmt.Errorf("reading back collection %q: %w", exp.Collection, err)
	}
	check.ActualDocs = actual
	check.HashesCompared = int64(len(recs))
	if exp.AllowExtra {
		check.ExtraDocs = cmp.extra
		check.HashMismatches = cmp.changed + cmp.missing
		check.OK = check.ActualDocs >= check.ExpectedDocs && check.HashMismatches == 0
	} else {
		check.HashMismatches = cmp.changed + cmp.extra + cmp.missing
		check.OK = check.ActualDocs == check.ExpectedDocs && check.HashMismatches == 0
	}
	t.logVerdict(check, fp != nil, bits, len(recs), cmp)
	return check, nil
}

// comparison is what reading a collection back found against the
// archive's fingerprint.
type comparison struct {
	changed, extra, missing int64
	differing               []string // the first few _ids that differ
}

// readBack counts the collection's documents and, when compare is set,
// matches those in the sample (bits) against recs.
func readBack(ctx context.Context, coll *mongo.Collection, compare bool, recs []record, bits uint8) (int64, comparison, error) {
	var cmp comparison
	var actual int64
	seen := make([]bool, len(recs))
	note := func(doc bson.Raw) {
		if len(cmp.differing) < shownDifferences {
			cmp.differing = append(cmp.differing, describeID(doc))
		}
	}
	cur, err := coll.Find(ctx, bson.D{}, options.Find().SetBatchSize(1000))
	if err != nil {
		return 0, cmp, err
	}
	defer cur.Close(context.Background())
	for cur.Next(ctx) {
		actual++
		if !compare {
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
			cmp.changed++
			note(doc)
		case docExtra:
			cmp.extra++
			note(doc)
		}
	}
	if err := cur.Err(); err != nil {
		return 0, cmp, err
	}
	for _, s := range seen {
		if !s {
			cmp.missing++
		}
	}
	return actual, cmp, nil
}

// logVerdict tells the operation log how the collection compared.
func (t *Target) logVerdict(check domain.CollectionCheck, compared bool, bits uint8, sampled int, cmp comparison) {
	switch {
	case !compared:
		t.logger.Warn(fmt.Sprintf("collection %s: %d of %d documents; no fingerprint, so contents were not compared", check.Name, check.ActualDocs, check.ExpectedDocs), "collection", check.Name)
	case check.OK:
		scope := "every document"
		if bits > 0 {
			scope = fmt.Sprintf("a sample of %d documents (those whose _id SHA-256 starts with %d zero bits)", sampled, bits)
		}
		msg := fmt.Sprintf("collection %s verified: %d documents, %s identical to the archive", check.Name, check.ActualDocs, scope)
		if check.ExtraDocs > 0 {
			msg += fmt.Sprintf("; %d other documents were already there and were left alone", check.ExtraDocs)
		}
		t.logger.Info(msg, "collection", check.Name)
	default:
		msg := fmt.Sprintf("collection %s differs from the archive: %d documents (expected %d); %d changed, %d not in the archive, %d missing",
			check.Name, check.ActualDocs, check.ExpectedDocs, cmp.changed, cmp.extra, cmp.missing)
		if len(cmp.differing) > 0 {
			msg += "; differing: " + joinIDs(cmp.differing)
		}
		t.logger.Warn(msg, "collection", check.Name)
	}
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
