package executors

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"backupd/domain"
	"backupd/executors/archive"
	"backupd/executors/testsupport/peers"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// TestS3RestorerAgainstThePeer drives the S3 side of a restore entry by
// entry against versitygw, with the edge cases an archive can hold: a
// hostile key (never written, outside the prefix or in it), small objects
// written in parallel, a large one streamed as a multipart upload, and
// contents that fail the manifest check at their very end (never
// completed, small or large). The end-to-end tests cover the rest.
func TestS3RestorerAgainstThePeer(t *testing.T) {
	t.Parallel()
	p := peers.S3(t)
	bucket := p.Bucket(t)
	settings := map[string]string{"access_key_id": p.AccessKey, "region": p.Region, "bucket": bucket, "endpoint": p.Endpoint, "path_style": "true"}
	secrets := map[string]string{"secret_access_key": p.SecretKey}
	w := &Worker{conns: &Connectors{}}
	ctx := context.Background()

	type item struct {
		key, contentType string
		meta             map[string]string
		body             []byte
		damaged          bool // the content fails its check at the end
	}
	items := []item{
		{key: "../escape.txt", body: []byte("must not leave the prefix")},
		{key: "a.txt", contentType: "text/plain", meta: map[string]string{"owner": "ops"}, body: []byte("small")},
		{key: "bad.txt", body: []byte("corrupted"), damaged: true},
		{key: "big-bad.bin", body: random(t, 9<<20), damaged: true},
		{key: "big.bin", contentType: "application/x-big", body: random(t, 9<<20)},
		{key: "zero", body: nil},
	}
	var entries []domain.ArchiveEntry
	for i, it := range items {
		sum := sha256.Sum256(it.body)
		entries = append(entries, domain.ArchiveEntry{Index: int64(i), Key: it.key, Path: "b/" + it.key, Size: int64(len(it.body)),
			SHA256: hex.EncodeToString(sum[:]), ContentType: it.contentType, Metadata: it.meta})
	}
	manifest := testManifest(t, entries)

	restoreAll := func(conflict string) (*s3Restorer, []error) {
		oplog := &OpLog{}
		meter := newRestoreMeter(oplog, "objects", int64(len(items)), 0)
		r, _, err := w.s3Restorer(ctx, targetAccess{Kind: domain.KindS3Source, Settings: settings, Secrets: secrets},
			domain.RestoreOptions{Prefix: "pre/", Conflict: conflict}, oplog.Logger(), meter)
		require.NoError(t, err)
		var errs []error
		for i, it := range items {
			var content io.Reader = bytes.NewReader(it.body)
			if it.damaged {
				content = &endCheck{r: content, err: &archive.ArchiveError{Problem: archive.ProblemEntrySHA256, Entry: it.key, Detail: "differs"}}
			}
			e := entries[i]
			errs = append(errs, r.restore(ctx, archive.ExtractedEntry{Index: e.Index, Key: e.Key, Path: e.Path, Size: e.Size, Expected: &e}, content))
		}
		require.NoError(t, r.wait())
		return r.(*s3Restorer), errs
	}

	r, errs := restoreAll("overwrite")
	for i, it := range items {
		if it.damaged {
			require.Error(t, errs[i], it.key)
			require.ErrorContains(t, errs[i], "entry-sha256", it.key)
		} else {
			require.NoError(t, errs[i], it.key)
		}
	}
	restored, skipped := r.tally()
	require.Equal(t, int64(3), restored)
	require.Zero(t, skipped)
	require.Equal(t, int64(1), r.refused.Load())

	c := p.Client()
	var keys []string
	pager := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	require.Equal(t, []string{"pre/a.txt", "pre/big.bin", "pre/zero"}, keys, "nothing damaged completed, nothing outside the prefix")
	uploads, err := c.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	require.Empty(t, uploads.Uploads, "the damaged large object's upload was aborted")
	got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("pre/a.txt")})
	require.NoError(t, err)
	got.Body.Close()
	require.Equal(t, "text/plain", aws.ToString(got.ContentType))
	require.Equal(t, "ops", got.Metadata["owner"])
	got, err = c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("pre/big.bin")})
	require.NoError(t, err)
	big, err := io.ReadAll(got.Body)
	got.Body.Close()
	require.NoError(t, err)
	require.Equal(t, items[4].body, big)
	require.Equal(t, "application/x-big", aws.ToString(got.ContentType))

	report, err := r.verify(ctx, manifest)
	require.NoError(t, err)
	require.False(t, report.Verified)
	require.Equal(t, int64(len(items)), report.Checked)
	require.Equal(t, []string{"bad.txt", "big-bad.bin"}, report.Missing)
	require.Len(t, report.Mismatched, 1)
	require.Equal(t, "../escape.txt", report.Mismatched[0].Key)
	require.Contains(t, report.Mismatched[0].Reason, "escape the target prefix")

	t.Run("skip: existing objects are not written again", func(t *testing.T) {
		r, _ := restoreAll("skip")
		restored, skipped := r.tally()
		require.Zero(t, restored, "bad ones fail before the existence check")
		require.Equal(t, int64(3), skipped)
	})
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

// testManifest is a manifest as a backup stores it beside its archive.
func testManifest(t *testing.T, entries []domain.ArchiveEntry) *archive.Manifest {
	t.Helper()
	var total int64
	for _, e := range entries {
		total += e.Size
	}
	hdr := archive.ManifestHeader{FormatVersion: 1, Format: "s3-bucket-tar-gz/1", Service: "s3", Bucket: "b", PathPrefix: "b/",
		Totals: archive.ManifestTotals{Entries: int64(len(entries)), Bytes: total}}
	head, err := json.Marshal(hdr)
	require.NoError(t, err)
	var lines []string
	for _, e := range entries {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		lines = append(lines, string(b))
	}
	doc := fmt.Sprintf("%s,\"entries\":[\n%s\n]}\n", strings.TrimSuffix(string(head), "}"), strings.Join(lines, ",\n"))
	m, err := archive.ReadManifest(strings.NewReader(doc))
	require.NoError(t, err)
	t.Cleanup(func() { m.Close() })
	require.True(t, slices.IsSortedFunc(entries, func(a, b domain.ArchiveEntry) int { return strings.Compare(a.Key, b.Key) }))
	return m
}
