package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/require"

	"backupd/domain"
)

func TestTargetKey(t *testing.T) {
	t.Parallel()
	cases := []struct {
		prefix, key, want string
		unsafe            bool
	}{
		{"restore/", "a/b.txt", "restore/a/b.txt", false},
		{"restore", "a/b.txt", "restore/a/b.txt", false},
		{"", "a/b.txt", "a/b.txt", false},
		{"r/", "uni ü space/ok", "r/uni ü space/ok", false},
		{"r/", "a//b", "r/a//b", false},
		{"r/", "./c", "r/./c", false},
		{"r/", "a..b/c..", "r/a..b/c..", false},
		{"r/", "../../x", "", true},
		{"r/", "a/../../x", "", true},
		{"r/", "a/..", "", true},
		{"r/", "..", "", true},
		{"r/", "/etc/passwd", "", true},
		{"", "/x", "", true},
		{"r/", "", "", true},
		{"r/", "nul\x00byte", "", true},
		{"r/", "bad\xffutf8", "", true},
		{"r/", string(bytes.Repeat([]byte("k"), 1023)), "", true},
	}
	for _, tc := range cases {
		got, err := TargetKey(tc.prefix, tc.key)
		if tc.unsafe {
			require.ErrorIs(t, err, ErrUnsafeKey, "%q", tc.key)
			continue
		}
		require.NoError(t, err, tc.key)
		require.Equal(t, tc.want, got)
	}
	_, err := TargetKey("../up", "x")
	require.Error(t, err, "a prefix climbing out is refused too")
}

func TestTargetPutStoresContentTypeAndMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := NewTarget(f.cfg, "restored/", f.log, WithPartSize(MinPartSize))
	ctx := context.Background()
	cases := []struct {
		key  string
		body []byte
	}{
		{"small/one.txt", []byte("hello, restore\n")},
		{"empty", nil},
		{"large/twelve.bin", randomBytes(31, 12*mib+5)}, // above the single-PUT limit: multipart
	}
	for _, tc := range cases {
		meta := map[string]string{"origin": "backup-7", "k": tc.key}
		require.NoError(t, target.Put(ctx, tc.key, int64(len(tc.body)), "application/x-restored", meta, bytes.NewReader(tc.body)))
		out, got := f.get(t, "restored/"+tc.key)
		require.True(t, bytes.Equal(tc.body, got), tc.key)
		require.Equal(t, "application/x-restored", aws.ToString(out.ContentType), tc.key)
		require.Equal(t, meta, out.Metadata, tc.key)
		ok, err := target.Exists(ctx, tc.key)
		require.NoError(t, err)
		require.True(t, ok)
	}
	ok, err := target.Exists(ctx, "not/there")
	require.NoError(t, err)
	require.False(t, ok)

	err = target.Put(ctx, "../../escape", 1, "", nil, bytes.NewReader([]byte("x")))
	require.ErrorIs(t, err, ErrUnsafeKey)
	require.Empty(t, f.multipartUploads(t))
}

// failingAtEnd yields its content, then fails instead of ending, as an
// archive entry whose SHA-256 does not match does.
type failingAtEnd struct {
	r   io.Reader
	err error
}

func (f *failingAtEnd) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func TestTargetPutLeavesNothingWhenTheContentFails(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := NewTarget(f.cfg, "", f.log, WithPartSize(MinPartSize))
	ctx := context.Background()
	shaErr := errors.New("entry SHA-256 mismatch")
	for _, size := range []int{1000, 13 * mib} {
		body := randomBytes(32, size)
		key := fmt.Sprintf("bad-%d", size)
		err := target.Put(ctx, key, int64(size), "", nil, &failingAtEnd{r: bytes.NewReader(body), err: shaErr})
		require.ErrorIs(t, err, shaErr, "size %d", size)
		require.False(t, f.exists(t, key), "size %d: a failed object must not exist", size)

		// Short and long content are refused the same way.
		err = target.Put(ctx, key, int64(size)+1, "", nil, bytes.NewReader(body))
		require.ErrorContains(t, err, "the content ended after")
		require.False(t, f.exists(t, key))
		err = target.Put(ctx, key, int64(size)-1, "", nil, bytes.NewReader(body))
		require.ErrorContains(t, err, "longer than")
		require.False(t, f.exists(t, key))
	}
	require.Empty(t, f.multipartUploads(t), "failed multipart uploads are aborted")

	// A failed overwrite keeps the old object as it was.
	f.put(t, "kept", []byte("old content"), "", nil)
	err := target.Put(ctx, "kept", 3, "", nil, &failingAtEnd{r: bytes.NewReader([]byte("new")), err: shaErr})
	require.ErrorIs(t, err, shaErr)
	_, got := f.get(t, "kept")
	require.Equal(t, "old content", string(got))
}

func TestTargetPreflight(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// 120 manifest keys; 40 of them already under the prefix, plus objects
	// outside the prefix and under it that the manifest does not name.
	var manifest []string
	for i := range 120 {
		manifest = append(manifest, fmt.Sprintf("k/%04d", i))
	}
	manifest = append(manifest, "../../hostile")
	slices.Sort(manifest)
	for i := 0; i < 120; i += 3 {
		f.put(t, fmt.Sprintf("p/k/%04d", i), []byte("x"), "", nil)
	}
	f.put(t, "p/k/extra", []byte("x"), "", nil)
	f.put(t, "k/0001", []byte("outside the prefix"), "", nil)

	target := NewTarget(f.cfg, "p", f.log, WithPageSize(7))
	pf, err := target.Preflight(context.Background(), slices.Values(manifest))
	require.NoError(t, err)
	require.True(t, pf.Writable, pf.WritableReason)
	require.Equal(t, int64(40), pf.Existing)
	require.Len(t, pf.ExistingSample, sampleSize)
	require.Equal(t, "k/0000", pf.ExistingSample[0])
	require.Equal(t, "k/0003", pf.ExistingSample[1])
	require.NotContains(t, f.keys(t), "p/.backupd-probe", "the probe is removed")
	for _, k := range f.keys(t) {
		require.NotContains(t, k, "backupd-probe")
	}

	// An unsorted manifest is refused, not miscounted.
	_, err = target.Preflight(context.Background(), slices.Values([]string{"k/0002", "k/0001"}))
	require.ErrorContains(t, err, "not in S3's order")

	// A target that cannot be written says why.
	bad := f.cfg
	bad.SecretAccessKey = "wrong-secret-123"
	pf, err = NewTarget(bad, "p", f.log).Preflight(context.Background(), slices.Values(manifest))
	require.Error(t, err)
	require.False(t, pf.Writable)
	require.Equal(t, "the secret access key is wrong", pf.WritableReason)
	require.NotContains(t, err.Error(), "wrong-secret-123")
}

func TestTargetVerify(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	target := NewTarget(f.cfg, "r/", f.log, WithWorkers(3))
	ctx := context.Background()
	var entries []domain.ArchiveEntry
	for i := range 30 {
		body := randomBytes(uint64(40+i), 1000+i*4096)
		key := fmt.Sprintf("obj-%02d", i)
		sum := sha256.Sum256(body)
		entries = append(entries, domain.ArchiveEntry{Index: int64(i), Key: key, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
		require.NoError(t, target.Put(ctx, key, int64(len(body)), "", nil, bytes.NewReader(body)))
	}

	report, err := target.Verify(ctx, slices.Values(entries))
	require.NoError(t, err)
	require.True(t, report.Verified, report.Summary)
	require.Equal(t, int64(30), report.Checked)
	require.Equal(t, "all 30 objects are present with the same size and SHA-256", report.Summary)

	// Damage the restore: one missing, one with other bytes of the same
	// size, one with another size, one extra; and a hostile manifest key.
	_, err = f.client.DeleteObject(ctx, deleteInput(f.bucket, "r/obj-03"))
	require.NoError(t, err)
	same := randomBytes(999, int(entries[7].Size))
	f.put(t, "r/obj-07", same, "", nil)
	f.put(t, "r/obj-11", []byte("short"), "", nil)
	f.put(t, "r/zzz-extra", []byte("not in the manifest"), "", nil)
	withHostile := append([]domain.ArchiveEntry{{Key: "../../etc/passwd", Size: 1, SHA256: "00"}}, entries...)
	slices.SortFunc(withHostile, func(a, b domain.ArchiveEntry) int { return strings.Compare(a.Key, b.Key) })

	report, err = target.Verify(ctx, slices.Values(withHostile))
	require.NoError(t, err)
	require.False(t, report.Verified)
	require.Equal(t, int64(31), report.Checked)
	require.Equal(t, []string{"obj-03"}, report.Missing)
	require.Equal(t, []string{"r/zzz-extra"}, report.Extra)
	reasons := map[string]string{}
	for _, m := range report.Mismatched {
		reasons[m.Key] = m.Reason
	}
	require.Len(t, reasons, 3)
	require.Contains(t, reasons["obj-07"], "the content differs")
	require.Contains(t, reasons["obj-11"], "the size is 5 bytes")
	require.Contains(t, reasons["../../etc/passwd"], "could escape the target prefix")
	require.Equal(t, "27 of 31 objects verified: 1 missing, 3 different; 1 other object under the prefix not in the manifest", report.Summary)
}
