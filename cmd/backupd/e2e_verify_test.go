package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"backupd/domain"
	"backupd/executors/testsupport/peers"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// object is what a test put in a source bucket, as the bucket lists it.
type object struct {
	Key         string
	Body        []byte
	ContentType string
	Metadata    map[string]string
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// trickyObjects are what a real bucket holds: unicode and spaces, a key
// the server normalises ("a/../c.txt"), an empty object, objects larger
// than several parts, a long key, hundreds of small ones.
func trickyObjects() []object {
	objs := []object{
		{Key: "photos/2026/ünï ファイル.jpg", Body: randomBytes(300 << 10), ContentType: "image/jpeg", Metadata: map[string]string{"camera": "x100"}},
		{Key: "with space/a b.txt", Body: []byte("hello world\n"), ContentType: "text/plain"},
		{Key: "a/../c.txt", Body: []byte("dot dot")},
		{Key: "zero.bin", Body: nil},
		{Key: "big/large.bin", Body: randomBytes(17 << 20), ContentType: "application/octet-stream"},
		{Key: strings.Repeat("long-segment/", 22) + "end.txt", Body: []byte("long key")},
	}
	for i := 0; i < 200; i++ {
		objs = append(objs, object{Key: fmt.Sprintf("small/%04d.json", i), Body: []byte(fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("x", i))), ContentType: "application/json"})
	}
	return objs
}

// seedBucket uploads objects with the peer's own client and returns what
// the bucket then holds, keyed by the key as listed.
func seedBucket(t *testing.T, p peers.S3Peer, bucket string, objs []object) map[string]object {
	t.Helper()
	ctx := context.Background()
	c := p.Client()
	for _, o := range objs {
		in := &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(o.Key), Body: bytes.NewReader(o.Body), Metadata: o.Metadata}
		if o.ContentType != "" {
			in.ContentType = aws.String(o.ContentType)
		}
		_, err := c.PutObject(ctx, in)
		require.NoError(t, err, o.Key)
	}
	out := listObjects(t, p, bucket, "")
	require.NotEmpty(t, out)
	return out
}

// downloadS3 fetches an object by its s3:// location with the peer's client.
func downloadS3(t *testing.T, p peers.S3Peer, loc string) []byte {
	t.Helper()
	rest, ok := strings.CutPrefix(loc, "s3://")
	require.True(t, ok, loc)
	bucket, key, _ := strings.Cut(rest, "/")
	got, err := p.Client().GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	require.NoError(t, err, loc)
	defer got.Body.Close()
	b, err := io.ReadAll(got.Body)
	require.NoError(t, err)
	return b
}

// downloadDrive fetches a gdrive:// file with a token of the test's own.
func downloadDrive(t *testing.T, d *peers.DrivePeer, token, loc string) []byte {
	t.Helper()
	id, ok := strings.CutPrefix(loc, "gdrive://")
	require.True(t, ok, loc)
	req, _ := http.NewRequest(http.MethodGet, d.URL+"/drive/v3/files/"+id+"?alt=media", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return b
}

type manifestFile struct {
	Format   string `json:"format"`
	Service  string `json:"service"`
	Bucket   string `json:"bucket"`
	Database string `json:"database"`
	Entries  []struct {
		Key          string            `json:"key"`
		Path         string            `json:"path"`
		Size         int64             `json:"size"`
		SHA256       string            `json:"sha256"`
		ETag         string            `json:"etag"`
		ContentType  string            `json:"content_type"`
		LastModified *time.Time        `json:"last_modified"`
		Metadata     map[string]string `json:"metadata"`
		Documents    *int64            `json:"documents"`
	} `json:"entries"`
	Totals struct {
		Entries int64 `json:"entries"`
		Bytes   int64 `json:"bytes"`
	} `json:"totals"`
	Archive *struct {
		Name     string `json:"name"`
		Location string `json:"location"`
		Size     int64  `json:"size"`
		SHA256   string `json:"sha256"`
	} `json:"archive"`
}

// extractWithTar unpacks an archive with GNU tar (not the product's code)
// and returns the folder and `tar -tzvf`'s listing.
func extractWithTar(t *testing.T, archive []byte) (dir string, listing string) {
	t.Helper()
	dir = t.TempDir()
	file := filepath.Join(t.TempDir(), "archive.tar.gz")
	require.NoError(t, os.WriteFile(file, archive, 0o600))
	out, err := exec.Command("tar", "-tzvf", file).CombinedOutput()
	require.NoError(t, err, "tar -tzvf: %s", out)
	x, err := exec.Command("tar", "-C", dir, "-xzf", file).CombinedOutput()
	require.NoError(t, err, "tar -xzf: %s", x)
	return dir, string(out)
}

func readManifest(t *testing.T, b []byte) manifestFile {
	t.Helper()
	var m manifestFile
	require.NoError(t, json.Unmarshal(b, &m))
	return m
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// verifyBucketArchive checks a finished S3 backup independently of the
// code that wrote it: the archive's size and SHA-256, GNU tar lists and
// extracts it, every object of the bucket is in it with identical bytes
// and SHA-256, and the manifests inside and beside it say the same.
func verifyBucketArchive(t *testing.T, archive, sidecar []byte, result *domain.BackupResult, objects map[string]object) {
	t.Helper()
	require.Equal(t, int64(len(archive)), result.ArchiveSize)
	require.Equal(t, sha(archive), result.ArchiveSHA256)
	dir, listing := extractWithTar(t, archive)
	inside, err := os.ReadFile(filepath.Join(dir, "backupd-manifest.json"))
	require.NoError(t, err, "the manifest is the archive's last entry")
	require.True(t, strings.HasSuffix(strings.TrimSpace(listing), "backupd-manifest.json"), "manifest is the last entry:\n%s", listing)
	m := readManifest(t, inside)
	require.Len(t, m.Entries, len(objects))
	require.Equal(t, int64(len(objects)), m.Totals.Entries)
	require.Equal(t, int64(len(objects)), result.ObjectCount)
	var total int64
	for _, e := range m.Entries {
		o, ok := objects[e.Key]
		require.True(t, ok, "manifest key %q is not in the bucket", e.Key)
		got, err := os.ReadFile(filepath.Join(dir, e.Path))
		require.NoError(t, err, e.Path)
		require.Equal(t, sha(o.Body), sha(got), "bytes of %q", e.Key)
		require.Equal(t, sha(o.Body), e.SHA256, "manifest sha of %q", e.Key)
		require.Equal(t, int64(len(o.Body)), e.Size)
		require.Equal(t, o.ContentType, e.ContentType, "content type of %q", e.Key)
		for k, v := range o.Metadata {
			require.Equal(t, v, e.Metadata[k], "metadata %s of %q", k, e.Key)
		}
		require.NotEmpty(t, e.ETag)
		require.NotNil(t, e.LastModified)
		total += e.Size
	}
	require.Equal(t, total, result.TotalBytes)

	side := readManifest(t, sidecar)
	require.Equal(t, len(m.Entries), len(side.Entries))
	for i := range m.Entries {
		require.Equal(t, m.Entries[i].SHA256, side.Entries[i].SHA256)
		require.Equal(t, m.Entries[i].Key, side.Entries[i].Key)
	}
	require.NotNil(t, side.Archive, "the manifest beside the archive describes the archive")
	require.Equal(t, result.ArchiveSHA256, side.Archive.SHA256)
	require.Equal(t, result.ArchiveSize, side.Archive.Size)
	require.Equal(t, result.ArchiveLocation, side.Archive.Location)
	require.Equal(t, sha(sidecar), result.ManifestSHA256)
}

func listUploads(s *stack, bucket string) ([]string, error) {
	out, err := s.S3.Client().ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys, nil
}

func listInput(bucket, prefix string) *awss3.ListObjectsV2Input {
	return &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
}

// refreshToken gets a fresh access token for the test's own downloads (the
// emulator's tokens may have been expired on purpose).
func refreshToken(t *testing.T, d *peers.DrivePeer) string {
	t.Helper()
	access, _ := d.Authorize(t, "https://www.googleapis.com/auth/drive.file")
	return access
}
