package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/domain"
)

func trickyObjects() []fakeObject {
	docs := int64(7)
	return []fakeObject{
		{key: "ünïcødé/文件.txt", size: 1000, seed: 1, contentType: "text/plain", meta: map[string]string{"owner": "zoë"}},
		{key: "with space/a b.txt", size: 2000, seed: 2, resumable: true},
		{key: "../x", size: 300, seed: 3, resumable: true},
		{key: "/lead", size: 10, seed: 4},
		{key: "a//b", size: 11, seed: 5},
		{key: "dir/", size: 0, seed: 6},
		{key: "empty.txt", size: 0, seed: 7},
		{key: strings.Repeat("k", 300), size: 12, seed: 8},
		{key: "long/" + strings.Repeat("é", 150) + "/" + strings.Repeat("z", 120), size: 13, seed: 9},
		{key: "big.bin", size: 5*16<<10 + 777, seed: 10, resumable: true},
		{key: "a", size: 14, seed: 11, resumable: true},
		{key: "a-b", size: 15, seed: 12},
		{key: "a/b", size: 16, seed: 13},
		{key: "a/b/c", size: 17, seed: 14},
		{key: "./dot", size: 18, seed: 15},
		{key: "x/./y", size: 19, seed: 16},
		{key: "x/../y", size: 20, seed: 17},
		{key: "100%.txt", size: 21, seed: 18},
		{key: "tab\there", size: 22, seed: 19},
		{key: "coll", size: 23, seed: 20, documents: &docs},
		{key: "mid.bin", size: 40 << 10, seed: 21, resumable: true, compressible: true},
	}
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestRoundTripTrickyKeys(t *testing.T) {
	t.Parallel()
	objs := trickyObjects()
	rig := newRig(newFakeSource(objs...), 40<<10)
	out := mustComplete(t, rig.params())
	archive := rig.archive(t, out)
	res := out.Result

	require.Equal(t, int64(len(objs)), res.ObjectCount)
	var total int64
	for _, o := range objs {
		total += o.size
	}
	require.Equal(t, total, res.TotalBytes)
	require.Equal(t, int64(len(archive)), res.ArchiveSize)
	require.Equal(t, sha(archive), res.ArchiveSHA256)
	require.Equal(t, "photos", res.SourceBucket)
	require.Equal(t, "s3-bucket-tar-gz/1", res.Format)
	require.Equal(t, "fake://"+res.ArchiveName+".manifest.json", res.ManifestLocation)
	require.Equal(t, sha(rig.dest.file(res.ArchiveName+".manifest.json")), res.ManifestSHA256)
	require.Len(t, res.Collections, 1)
	require.Equal(t, int64(7), res.Collections[0].Documents)
	require.Zero(t, rig.dest.openUploads())

	side := rig.sidecar(t, out)
	require.Equal(t, res.ArchiveSHA256, side.Archive.SHA256)
	require.Equal(t, res.ArchiveSize, side.Archive.Size)
	require.Equal(t, "6f1c9a52-8d7e-4b1a-9c3e-0a2b4c6d8e10", side.OperationID)
	require.Equal(t, "Photos bucket", side.Source.Name)
	entries := entriesOf(t, side)
	require.Len(t, entries, len(objs))

	byKey := map[string]fakeObject{}
	for _, o := range objs {
		byKey[o.key] = o
	}
	paths := map[string]bool{}
	for i, e := range entries {
		o, ok := byKey[e.Key]
		require.True(t, ok, "manifest key %q is not a source key", e.Key)
		require.Equal(t, int64(i), e.Index)
		require.Equal(t, o.size, e.Size)
		require.Equal(t, sha(o.content()), e.SHA256, e.Key)
		require.Equal(t, o.etag, e.ETag)
		require.NotNil(t, e.LastModified)
		require.True(t, o.modTime.Equal(*e.LastModified))
		require.False(t, paths[e.Path], "two keys share the path %q", e.Path)
		paths[e.Path] = true
		require.True(t, strings.HasPrefix(e.Path, "photos/"), e.Path)
		for _, seg := range strings.Split(e.Path, "/") {
			require.NotContains(t, []string{"", ".", ".."}, seg, "unsafe path %q", e.Path)
			require.LessOrEqual(t, len(seg), 255, e.Path)
		}
	}
	require.Equal(t, map[string]string{"owner": "zoë"}, entries[indexOf(entries, "ünïcødé/文件.txt")].Metadata)

	t.Run("GNU tar extracts every object below the prefix", func(t *testing.T) {
		dir := gnuTarExtract(t, archive)
		var files []string
		require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			require.NoError(t, err)
			if d.Type().IsRegular() {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, rel)
			}
			return nil
		}))
		require.Len(t, files, len(objs)+1, "objects plus the manifest, nothing else: %v", files)
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join(dir, e.Path))
			require.NoError(t, err, e.Key)
			require.Equal(t, e.SHA256, sha(b), e.Key)
		}
		inside, err := os.ReadFile(filepath.Join(dir, ManifestName))
		require.NoError(t, err)
		sidecarBytes := rig.dest.file(res.ArchiveName + ".manifest.json")
		// The sidecar is the inner manifest plus the archive object.
		hi, err := ReadManifestHeader(bytes.NewReader(inside))
		require.NoError(t, err)
		require.Nil(t, hi.Archive)
		hs := side.ManifestHeader
		hs.Archive = nil
		require.Equal(t, hs, hi)
		require.Equal(t, string(inside[bytes.Index(inside, []byte(`"entries":[`)):]), string(sidecarBytes[bytes.Index(sidecarBytes, []byte(`"entries":[`)):]))

		listing := gnuTarList(t, archive)
		require.Len(t, listing, len(objs)+1)
		require.Contains(t, listing[len(listing)-1], ManifestName)
	})

	t.Run("Extract hands over every object with its key", func(t *testing.T) {
		got, xr, err := extractAll(t, archive, side)
		require.NoError(t, err)
		require.Len(t, got, len(objs))
		for _, o := range objs {
			g, ok := got[o.key]
			require.True(t, ok, "missing %q", o.key)
			require.Equal(t, o.content(), g.content, o.key)
			require.NotNil(t, g.entry.Expected)
			require.Equal(t, o.contentType, g.entry.Expected.ContentType)
		}
		require.Equal(t, res.ArchiveSHA256, xr.ArchiveSHA256)
		require.Equal(t, int64(len(objs)), xr.Manifest.Totals.Entries)

		// Without the sidecar: keys come from the PAX record or the path.
		got, _, err = extractAll(t, archive, nil)
		require.NoError(t, err)
		for _, o := range objs {
			_, ok := got[o.key]
			if !ok {
				_, ok = got["photos/"+o.key]
			}
			require.True(t, ok, "missing %q", o.key)
		}
	})

	t.Run("other readers: gzip -t and Python's tarfile", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "a.tar.gz")
		require.NoError(t, os.WriteFile(file, archive, 0o600))
		out, err := exec.Command("gzip", "-t", file).CombinedOutput()
		require.NoError(t, err, "%s", out)
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("no python3")
		}
		out, err = exec.Command("python3", "-c", `
import sys, tarfile, hashlib
with tarfile.open(sys.argv[1], "r:gz") as t:
    for m in t:
        data = t.extractfile(m).read()
        print(m.pax_headers.get("BACKUPD.key", m.name), hashlib.sha256(data).hexdigest(), sep="\0")
`, file).CombinedOutput()
		require.NoError(t, err, "%s", out)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		require.Len(t, lines, len(objs)+1)
		for _, l := range lines[:len(objs)] {
			parts := strings.Split(l, "\x00")
			key := strings.TrimPrefix(parts[0], "photos/")
			o, ok := byKey[key]
			require.True(t, ok, "python read an unknown key %q", parts[0])
			require.Equal(t, sha(o.content()), parts[1], key)
		}
	})
}

func indexOf(es []ManifestEntry, key string) int {
	for i, e := range es {
		if e.Key == key {
			return i
		}
	}
	return -1
}

func TestEmptySource(t *testing.T) {
	t.Parallel()
	rig := newRig(newFakeSource(), 1<<10)
	out := mustComplete(t, rig.params())
	require.Zero(t, out.Result.ObjectCount)
	archive := rig.archive(t, out)
	got, res, err := extractAll(t, archive, rig.sidecar(t, out))
	require.NoError(t, err)
	require.Empty(t, got)
	require.Equal(t, int64(0), res.Manifest.Totals.Entries)
	listing := gnuTarList(t, archive)
	require.Len(t, listing, 1)
}

// A MongoDB-like source: collections that cannot be continued mid-way,
// under "mongodb/<db>/", each file ending in ".archive.gz".
func TestRoundTripCollectionsWithSuffix(t *testing.T) {
	t.Parallel()
	docs := func(n int64) *int64 { return &n }
	objs := []fakeObject{
		{key: "orders", size: 70 << 10, seed: 1, documents: docs(120)},
		{key: "users", size: 9000, seed: 2, documents: docs(15)},
		{key: strings.Repeat("c", 254), size: 10, seed: 3, documents: docs(1)},
	}
	src := newFakeSource(objs...)
	src.info = SourceInfo{Service: "mongodb", Format: "mongodb-tar-gz/1", Database: "shop", ToolVersion: "mongodump version: 100.9.4",
		PathPrefix: "mongodb/shop/", EntrySuffix: ".archive.gz"}
	rig := newRig(src, 24<<10)
	out := mustComplete(t, rig.params())
	res := out.Result
	require.Equal(t, "shop", res.Database)
	require.Equal(t, "mongodump version: 100.9.4", res.MongodumpVersion)
	require.Len(t, res.Collections, 3)
	require.Equal(t, int64(120), res.Collections[indexOfCollection(res.Collections, "orders")].Documents)

	side := rig.sidecar(t, out)
	require.Equal(t, ".archive.gz", side.EntrySuffix)
	require.Equal(t, int64(136), *side.Totals.Documents)
	got, _, err := extractAll(t, rig.archive(t, out), side)
	require.NoError(t, err)
	for _, o := range objs {
		require.Equal(t, o.content(), got[o.key].content, o.key)
	}
	dir := gnuTarExtract(t, rig.archive(t, out))
	for _, e := range entriesOf(t, side) {
		require.True(t, strings.HasSuffix(e.Path, ".archive.gz"), e.Path)
		b, err := os.ReadFile(filepath.Join(dir, e.Path))
		require.NoError(t, err)
		require.Equal(t, e.SHA256, sha(b))
	}
}

func indexOfCollection(cs []domain.CollectionSummary, name string) int {
	for i, c := range cs {
		if c.Name == name {
			return i
		}
	}
	return -1
}
