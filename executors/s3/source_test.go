package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"backupd/executors/archive"
	"backupd/executors/testsupport/countingproxy"
)

// sourceObject is what a test puts in a source bucket.
type sourceObject struct {
	key         string
	body        []byte
	contentType string
	meta        map[string]string
}

// fillSource puts n objects: mostly small, a 0-byte one, and some larger
// than the prefetch threshold, each with a content type and metadata.
func fillSource(t *testing.T, f *fixture, n int) []sourceObject {
	t.Helper()
	objs := make([]sourceObject, 0, n)
	for i := range n {
		size := 1000 + i*37
		switch {
		case i == 3:
			size = 0
		case i%7 == 5:
			size = 300<<10 + i // above the 256 KiB body prefetch
		}
		o := sourceObject{
			key:         fmt.Sprintf("dir-%d/obj %03d ü.bin", i%3, i),
			body:        randomBytes(uint64(100+i), size),
			contentType: fmt.Sprintf("application/x-test-%d", i),
			meta:        map[string]string{"origin": fmt.Sprintf("test-%d", i)},
		}
		f.put(t, o.key, o.body, o.contentType, o.meta)
		objs = append(objs, o)
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	return objs
}

func TestSourceListsPageByPageWithMetadata(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	objs := fillSource(t, f, 23)
	src := NewSource(f.cfg, f.log, WithPageSize(5), WithWorkers(3))
	ctx := context.Background()

	info, err := src.Info(ctx)
	require.NoError(t, err)
	require.Equal(t, archive.SourceInfo{Service: "s3", Format: SourceFormat, Bucket: f.bucket, PathPrefix: f.bucket + "/"}, info)

	var got []archive.Entry
	require.NoError(t, src.List(ctx, "", func(e archive.Entry) error {
		got = append(got, e)
		return nil
	}))
	require.Len(t, got, len(objs))
	for i, o := range objs {
		e := got[i]
		require.Equal(t, o.key, e.Key)
		require.Equal(t, int64(len(o.body)), e.Size, o.key)
		require.NotEmpty(t, e.ETag)
		require.False(t, e.ModTime.IsZero())
		require.Equal(t, o.contentType, e.ContentType, o.key)
		require.Equal(t, o.meta, e.Metadata, o.key)
		require.True(t, e.Resumable)
		require.Equal(t, o.body, readEntry(t, e, 0), o.key)
		if len(o.body) > 10 {
			require.Equal(t, o.body[10:], readEntry(t, e, 10), o.key)
		}
		require.Empty(t, readEntry(t, e, e.Size), "reading from the end yields nothing")
	}
	require.Contains(t, f.logs.String(), "listed page 5 of bucket "+f.bucket+": 3 objects (23 so far)")
	require.Contains(t, f.logs.String(), "connecting to bucket "+f.bucket)

	entries, bytes, err := src.Estimate(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(len(objs)), entries)
	var total int64
	for _, o := range objs {
		total += int64(len(o.body))
	}
	require.Equal(t, total, bytes)

	t.Run("after a key", func(t *testing.T) {
		var keys []string
		require.NoError(t, src.List(ctx, objs[11].key, func(e archive.Entry) error {
			keys = append(keys, e.Key)
			return nil
		}))
		want := make([]string, 0)
		for _, o := range objs[12:] {
			want = append(want, o.key)
		}
		require.Equal(t, want, keys)
	})

	t.Run("fn's error stops the listing", func(t *testing.T) {
		stop := errors.New("enough")
		seen := 0
		err := src.List(ctx, "", func(e archive.Entry) error {
			seen++
			if seen == 7 {
				return stop
			}
			return nil
		})
		require.ErrorIs(t, err, stop)
		require.Equal(t, 7, seen)
	})

	t.Run("a released entry reads from the server again", func(t *testing.T) {
		var first archive.Entry
		require.NoError(t, src.List(ctx, "", func(e archive.Entry) error {
			if first.Key == "" && e.Size > 0 {
				first = e
			}
			return nil
		}))
		require.NotNil(t, first.Release)
		first.Release()
		require.Equal(t, objs[indexOf(objs, first.Key)].body[5:], readEntry(t, first, 5))
	})
}

func TestSourcePrefetchStaysWithinItsWindow(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	objs := fillSource(t, f, 40)
	// A window of 4 objects and 2 KiB of bodies: most small bodies wait,
	// the listing must still deliver everything in order.
	src := NewSource(f.cfg, f.log, WithPageSize(7), WithPrefetch(4, 2048), WithWorkers(2))
	var keys []string
	require.NoError(t, src.List(context.Background(), "", func(e archive.Entry) error {
		keys = append(keys, e.Key)
		require.Equal(t, objs[len(keys)-1].body, readEntry(t, e, 0))
		return nil
	}))
	require.Len(t, keys, len(objs))
}

func TestSourceReopen(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := randomBytes(7, 600<<10)
	f.put(t, "big.bin", body, "application/octet-stream", nil)
	f.put(t, "empty", nil, "", nil)
	src := NewSource(f.cfg, f.log)
	ctx := context.Background()
	refs := map[string]archive.Ref{}
	require.NoError(t, src.List(ctx, "", func(e archive.Entry) error {
		refs[e.Key] = archive.Ref{Key: e.Key, Size: e.Size, ModTime: e.ModTime, ETag: e.ETag}
		return nil
	}))

	for _, off := range []int64{0, 1, 300 << 10, int64(len(body)) - 1, int64(len(body))} {
		r, err := src.Reopen(ctx, refs["big.bin"], off)
		require.NoError(t, err)
		got, err := io.ReadAll(r)
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.Equal(t, body[off:], got, "offset %d", off)
	}
	r, err := src.Reopen(ctx, refs["empty"], 0)
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	require.Empty(t, got)

	// Rewritten while paused: refused with ErrEntryChanged naming the key.
	f.put(t, "big.bin", randomBytes(8, 600<<10), "", nil)
	for _, off := range []int64{0, 1000, int64(len(body))} {
		_, err = src.Reopen(ctx, refs["big.bin"], off)
		require.ErrorIs(t, err, archive.ErrEntryChanged, "offset %d", off)
		require.Contains(t, err.Error(), "big.bin")
	}
	// Deleted while paused: the same.
	_, err = f.client.DeleteObject(ctx, deleteInput(f.bucket, "empty"))
	require.NoError(t, err)
	_, err = src.Reopen(ctx, refs["empty"], 0)
	require.ErrorIs(t, err, archive.ErrEntryChanged)
}

func TestSourceOpenSurvivesACutConnection(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := randomBytes(9, 3*mib+17)
	f.put(t, "large.bin", body, "", nil)
	proxy := countingproxy.New(t, f.cfg.Endpoint)
	src := NewSource(f.via(proxy.URL), f.log)
	var entry archive.Entry
	require.NoError(t, src.List(context.Background(), "", func(e archive.Entry) error { entry = e; return nil }))

	proxy.CutResponseOnce("GET", func(p string) bool { return strings.HasSuffix(p, "/large.bin") }, 1*mib+5)
	require.Equal(t, body, readEntry(t, entry, 0))
	gets := 0
	for _, c := range proxy.Calls() {
		if c.Method == "GET" && strings.HasSuffix(c.Path, "/large.bin") {
			gets++
		}
	}
	require.Equal(t, 2, gets, "one cut GET and one ranged GET from where it stopped")
	require.Contains(t, f.logs.String(), "download of large.bin was cut at byte")
}

func readEntry(t *testing.T, e archive.Entry, offset int64) []byte {
	t.Helper()
	r, err := e.Open(context.Background(), offset)
	require.NoError(t, err)
	defer r.Close()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return b
}

func indexOf(objs []sourceObject, key string) int {
	for i, o := range objs {
		if o.key == key {
			return i
		}
	}
	return -1
}
