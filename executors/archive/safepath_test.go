package archive

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSafePaths(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) // 400 bytes
	tests := []struct {
		prefix string
		keys   []string // in listing order
		paths  []string
	}{
		{"bucket", []string{"photos/x.jpg"}, []string{"bucket/photos/x.jpg"}},
		{"bucket/", []string{"a b/ü.txt"}, []string{"bucket/a b/ü.txt"}},
		{"", []string{"../etc/passwd"}, []string{"%2E%2E/etc/passwd"}},
		{"b", []string{"/abs", "a//b", "dir/", "./x", "x/."}, []string{"b/%/abs", "b/a/%/b", "b/dir/%", "b/%2E/x", "b/x/%2E"}},
		{"b", []string{"100%", "%2E%2E"}, []string{"b/100%25", "b/%252E%252E"}},
		{"b", []string{"tab\there", "nul\x00x", "bad\xffutf8"}, []string{"b/tab%09here", "b/nul%00x", "b/bad%FFutf8"}},
		// A key that is also a directory of later keys.
		{"b", []string{"a", "a-x", "a/b", "a/b/c", "ab", "ab/c"}, []string{"b/a", "b/a-x", "b/a%2F/b", "b/a%2F/b%2F/c", "b/ab", "b/ab%2F/c"}},
		{"b", []string{"a/", "a/x"}, []string{"b/a/%", "b/a/x"}},
		{"", []string{ManifestName, "x"}, []string{"%62ackupd-manifest.json", "x"}},
		{"mongodb/shop/", []string{".."}, []string{"mongodb/shop/%2E%2E"}},
		{"../evil", []string{"k"}, []string{"%2E%2E/evil/k"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.keys), func(t *testing.T) {
			n := newNamer(tc.prefix, "", nil)
			for i, key := range tc.keys {
				path, escaped := n.next(key)
				require.Equal(t, tc.paths[i], path, key)
				require.Equal(t, path != n.prefix+key, escaped)
			}
		})
	}

	t.Run("the entry suffix ends every path, even a cut one", func(t *testing.T) {
		n := newNamer("mongodb/shop/", ".archive.gz", nil)
		p, escaped := n.next("orders")
		require.Equal(t, "mongodb/shop/orders.archive.gz", p)
		require.False(t, escaped)
		p, escaped = n.next(strings.Repeat("c", 250))
		require.True(t, escaped)
		require.True(t, strings.HasSuffix(p, ".archive.gz"), p)
		require.LessOrEqual(t, len(strings.TrimPrefix(p, "mongodb/shop/")), 255)
	})

	t.Run("long segments are cut below 256 bytes", func(t *testing.T) {
		n := newNamer("b", "", nil)
		p1, _ := n.next(long + "/x")
		p2, _ := n.next(long + "é/x")
		for _, p := range []string{p1, p2} {
			for _, seg := range strings.Split(p, "/") {
				require.LessOrEqual(t, len(seg), 255)
			}
			require.Contains(t, p, "%~")
		}
		require.NotEqual(t, p1, p2)
		require.True(t, strings.HasPrefix(p1, "b/ééé"))
		require.NotContains(t, p1, "\uFFFD", "a rune was cut in half")
	})
}

// The mapping is one-to-one over many awkward keys.
func TestSafePathsAreDistinct(t *testing.T) {
	t.Parallel()
	parts := []string{"", ".", "..", "a", "%", "%2E", "%25", "a%2F", "é", "a b", "\t"}
	var keys []string
	for _, x := range parts {
		for _, y := range parts {
			keys = append(keys, x+"/"+y, x+y)
			for _, z := range parts {
				keys = append(keys, x+"/"+y+"/"+z)
			}
		}
	}
	seen := map[string]string{}
	n := newNamer("p", "", nil)
	for _, k := range dedupeSorted(keys) {
		path, _ := n.next(k)
		if other, dup := seen[path]; dup {
			t.Fatalf("keys %q and %q share the path %q", other, k, path)
		}
		seen[path] = k
		for _, seg := range strings.Split(path, "/") {
			require.NotContains(t, []string{"", ".", ".."}, seg, "key %q → %q", k, path)
		}
	}
}

func dedupeSorted(keys []string) []string {
	m := map[string]bool{}
	var out []string
	for _, k := range keys {
		if !m[k] {
			m[k] = true
			out = append(out, k)
		}
	}
	sortStrings(out)
	return out
}

// The namer's state survives a checkpoint: names after a resume are the
// same as without one.
func TestNamerRestoresFromAncestors(t *testing.T) {
	t.Parallel()
	keys := []string{"a", "a-1", "a/b", "a/b/c", "a/b/d", "a/c", "b", "b/x"}
	whole := newNamer("p", "", nil)
	var want []string
	for _, k := range keys {
		p, _ := whole.next(k)
		want = append(want, p)
	}
	for cut := range keys {
		n := newNamer("p", "", nil)
		var got []string
		for _, k := range keys[:cut] {
			p, _ := n.next(k)
			got = append(got, p)
		}
		resumed := newNamer("p", "", n.ancestors())
		for _, k := range keys[cut:] {
			p, _ := resumed.next(k)
			got = append(got, p)
		}
		require.Equal(t, want, got, "cut at %d", cut)
	}
}
