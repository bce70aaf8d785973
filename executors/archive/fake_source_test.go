package archive

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync/atomic"
	"time"
)

// ---- source ----

type fakeObject struct {
	key          string
	size         int64
	seed         uint64
	modTime      time.Time
	etag         string
	contentType  string
	meta         map[string]string
	resumable    bool
	documents    *int64
	compressible bool
}

// fakeSource generates each object's bytes on the fly from its seed, so
// any size costs no memory, and any offset can be reopened.
type fakeSource struct {
	info     SourceInfo
	objects  []fakeObject // sorted by key
	opens    atomic.Int64
	reopens  atomic.Int64
	released atomic.Int64
	listed   atomic.Int64
	// failAfter makes List fail after this many entries (0: never).
	failAfter int
	// readErrAt makes the first read of key fail once at this offset.
	readErrKey string
	readErrAt  int64
	readErrHit atomic.Bool
}

func newFakeSource(objs ...fakeObject) *fakeSource {
	sort.Slice(objs, func(i, j int) bool { return objs[i].key < objs[j].key })
	for i := range objs {
		if objs[i].etag == "" {
			objs[i].etag = fmt.Sprintf("\"etag-%d-%d\"", objs[i].seed, objs[i].size)
		}
		if objs[i].modTime.IsZero() {
			objs[i].modTime = time.Date(2026, 11, 1, 10, 0, int(objs[i].seed%60), 123456789, time.UTC)
		}
	}
	return &fakeSource{
		info:    SourceInfo{Service: "s3", Format: "s3-bucket-tar-gz/1", Bucket: "photos", PathPrefix: "photos"},
		objects: objs,
	}
}

func (s *fakeSource) Info(context.Context) (SourceInfo, error) { return s.info, nil }

func (s *fakeSource) Estimate(context.Context) (int64, int64, error) {
	var n int64
	for _, o := range s.objects {
		n += o.size
	}
	return int64(len(s.objects)), n, nil
}

func (s *fakeSource) List(ctx context.Context, after string, fn func(Entry) error) error {
	i := sort.Search(len(s.objects), func(i int) bool { return s.objects[i].key > after })
	if after == "" {
		i = 0
	}
	n := 0
	for ; i < len(s.objects); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if s.failAfter > 0 && n >= s.failAfter {
			return errors.New("listing broke: connection reset by peer")
		}
		o := s.objects[i]
		s.listed.Add(1)
		n++
		e := Entry{
			Key: o.key, Size: o.size, ModTime: o.modTime, ETag: o.etag, ContentType: o.contentType,
			Metadata: o.meta, Documents: o.documents, Resumable: o.resumable,
			Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) {
				s.opens.Add(1)
				return s.reader(o, offset), nil
			},
			Release: func() { s.released.Add(1) },
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeSource) Reopen(ctx context.Context, ref Ref, offset int64) (io.ReadCloser, error) {
	s.reopens.Add(1)
	for _, o := range s.objects {
		if o.key == ref.Key {
			if o.etag != ref.ETag || o.size != ref.Size {
				return nil, ErrEntryChanged
			}
			if !o.resumable {
				return nil, ErrNotResumable
			}
			return s.reader(o, offset), nil
		}
	}
	return nil, fmt.Errorf("%q: %w", ref.Key, ErrEntryChanged)
}

func (s *fakeSource) reader(o fakeObject, offset int64) io.ReadCloser {
	r := &genReader{seed: o.seed, off: offset, size: o.size, compressible: o.compressible}
	if s.readErrKey == o.key && !s.readErrHit.Load() {
		return io.NopCloser(&failingReader{r: r, at: s.readErrAt - offset, hit: &s.readErrHit})
	}
	return io.NopCloser(r)
}

// content returns an object's whole bytes (test side).
func (o fakeObject) content() []byte {
	b, _ := io.ReadAll(&genReader{seed: o.seed, size: o.size, compressible: o.compressible})
	return b
}

const genChunk = 4096

// genReader yields deterministic pseudo-random bytes: chunk c of an object
// comes from a ChaCha8 stream seeded with (seed, c). Compressible data
// repeats each 1 KiB four times.
type genReader struct {
	seed         uint64
	off, size    int64
	compressible bool
	chunk        [genChunk]byte
	chunkIdx     int64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && g.off < g.size {
		c := g.off / genChunk
		if g.chunkIdx != c+1 {
			g.fill(c)
			g.chunkIdx = c + 1
		}
		in := g.off % genChunk
		k := copy(p[n:], g.chunk[in:min(genChunk, in+(g.size-g.off))])
		n += k
		g.off += int64(k)
	}
	return n, nil
}

func (g *genReader) fill(c int64) {
	// splitmix64 over (seed, chunk, word): any chunk, no allocation.
	x := g.seed*0x9E3779B97F4A7C15 ^ uint64(c)*0xD1B54A32D192ED03
	words := genChunk / 8
	if g.compressible {
		words = 1024 / 8
	}
	for i := range words {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
		z = (z ^ z>>27) * 0x94D049BB133111EB
		binary.LittleEndian.PutUint64(g.chunk[i*8:], z^z>>31)
	}
	if g.compressible {
		for i := 1; i < 4; i++ {
			copy(g.chunk[i*1024:], g.chunk[:1024])
		}
	}
}

type failingReader struct {
	r   io.Reader
	at  int64
	n   int64
	hit *atomic.Bool
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.hit.Load() {
		return f.r.Read(p)
	}
	if f.n >= f.at {
		f.hit.Store(true)
		return 0, errors.New("connection reset by peer")
	}
	if int64(len(p)) > f.at-f.n {
		p = p[:f.at-f.n]
	}
	n, err := f.r.Read(p)
	f.n += int64(n)
	return n, err
}

// ---- control ----

// pauseAfter requests a pause from its n-th poll on.
type pauseAfter struct {
	n     int64
	calls atomic.Int64
	what  StopRequest
}

func (p *pauseAfter) Requested() StopRequest {
	if p.calls.Add(1) >= p.n {
		return p.what
	}
	return StopNone
}

func sortStrings(s []string) { sort.Strings(s) }
