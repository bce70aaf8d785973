package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"backupd/domain"
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

// ---- destination ----

// fakeDest behaves like S3 multipart: parts of at least partSize bytes cut
// at marks, durable (DurableFunc) once "uploaded"; Suspend keeps the tail
// inline in the state; ResumeUpload may rewind to an older state.
type fakeDest struct {
	mu        sync.Mutex
	partSize  int
	noDurable bool // like Drive: never calls DurableFunc
	uploads   map[string]*fakeUploadData
	files     map[Location][]byte
	received  int64 // bytes sent as parts
	nextID    int
	aborted   []string
	discarded []string
	suspends  int
	failWrite error
	marks     atomic.Int64
	// onMark is called with the count of marks so far (crash tests).
	onMark func(n int64)
}

type fakeUploadData struct {
	name      string
	committed []byte
}

type fakeState struct {
	ID        string `json:"id"`
	Committed int    `json:"committed"`
	Stash     []byte `json:"stash,omitempty"`
}

func newFakeDest(partSize int) *fakeDest {
	return &fakeDest{partSize: partSize, uploads: map[string]*fakeUploadData{}, files: map[Location][]byte{}}
}

func (d *fakeDest) StartUpload(ctx context.Context, name string, sizeHint int64, onDurable DurableFunc) (Upload, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nextID++
	id := fmt.Sprintf("up-%d", d.nextID)
	d.uploads[id] = &fakeUploadData{name: name}
	return newFakeUpload(d, id, nil, onDurable), nil
}

func (d *fakeDest) ResumeUpload(ctx context.Context, state json.RawMessage, onDurable DurableFunc) (Upload, error) {
	var st fakeState
	if err := json.Unmarshal(state, &st); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	u, ok := d.uploads[st.ID]
	if !ok {
		return nil, fmt.Errorf("upload %s is gone", st.ID)
	}
	if len(u.committed) < st.Committed {
		return nil, fmt.Errorf("upload %s has %d bytes, the state says %d", st.ID, len(u.committed), st.Committed)
	}
	u.committed = u.committed[:st.Committed] // later parts are replaced
	return newFakeUpload(d, st.ID, st.Stash, onDurable), nil
}

func (d *fakeDest) DiscardUpload(ctx context.Context, state json.RawMessage) error {
	var st fakeState
	if err := json.Unmarshal(state, &st); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.uploads, st.ID)
	d.discarded = append(d.discarded, st.ID)
	return nil
}

func (d *fakeDest) Put(ctx context.Context, name string, r io.Reader, size int64, contentType string) (Location, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	if int64(len(b)) != size {
		return "", fmt.Errorf("put %s: %d bytes, said %d", name, len(b), size)
	}
	loc := Location("fake://" + name)
	d.mu.Lock()
	d.files[loc] = b
	d.mu.Unlock()
	return loc, nil
}

func (d *fakeDest) Open(ctx context.Context, loc Location, offset int64) (io.ReadCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.files[loc]
	if !ok {
		return nil, fmt.Errorf("%s: not found", loc)
	}
	return io.NopCloser(bytes.NewReader(b[offset:])), nil
}

func (d *fakeDest) Stat(ctx context.Context, loc Location) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.files[loc]
	if !ok {
		return 0, fmt.Errorf("%s: not found", loc)
	}
	return int64(len(b)), nil
}

func (d *fakeDest) Delete(ctx context.Context, loc Location) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.files, loc)
	return nil
}

func (d *fakeDest) file(name string) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.files[Location("fake://"+name)]
}

func (d *fakeDest) openUploads() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.uploads)
}

type fakeUpload struct {
	d         *fakeDest
	id        string
	buf       []byte // written, not yet a part
	uploaded  atomic.Int64
	onDurable DurableFunc
	calls     chan func()
	wg        sync.WaitGroup
}

func newFakeUpload(d *fakeDest, id string, stash []byte, onDurable DurableFunc) *fakeUpload {
	u := &fakeUpload{d: d, id: id, buf: append([]byte(nil), stash...), onDurable: onDurable, calls: make(chan func(), 1<<16)}
	u.uploaded.Store(int64(len(d.uploads[id].committed)))
	u.wg.Add(1)
	go func() { // DurableFunc calls come from another goroutine, in order
		defer u.wg.Done()
		for f := range u.calls {
			f()
		}
	}()
	return u
}

func (u *fakeUpload) Write(p []byte) (int, error) {
	if err := u.d.failWrite; err != nil {
		return 0, err
	}
	u.buf = append(u.buf, p...)
	return len(p), nil
}

func (u *fakeUpload) commit() int {
	u.d.mu.Lock()
	defer u.d.mu.Unlock()
	data := u.d.uploads[u.id]
	if data == nil {
		return -1
	}
	data.committed = append(data.committed, u.buf...)
	u.d.received += int64(len(u.buf))
	u.buf = u.buf[:0]
	u.uploaded.Store(int64(len(data.committed)))
	return len(data.committed)
}

func (u *fakeUpload) Mark(mark any) {
	if hook := u.d.onMark; hook != nil {
		hook(u.d.marks.Add(1))
	}
	if len(u.buf) < u.d.partSize {
		return
	}
	n := u.commit()
	if u.d.noDurable || n < 0 {
		return
	}
	state, _ := json.Marshal(fakeState{ID: u.id, Committed: n})
	u.calls <- func() { u.onDurable(mark, state) }
}

func (u *fakeUpload) Suspend(ctx context.Context) (json.RawMessage, error) {
	u.d.mu.Lock()
	u.d.suspends++
	u.d.mu.Unlock()
	if len(u.buf) >= u.d.partSize {
		u.commit()
	}
	u.d.mu.Lock()
	n := len(u.d.uploads[u.id].committed)
	u.d.mu.Unlock()
	return json.Marshal(fakeState{ID: u.id, Committed: n, Stash: append([]byte(nil), u.buf...)})
}

func (u *fakeUpload) Complete(ctx context.Context) (Location, error) {
	u.commit()
	close(u.calls)
	u.wg.Wait()
	u.d.mu.Lock()
	defer u.d.mu.Unlock()
	data := u.d.uploads[u.id]
	delete(u.d.uploads, u.id)
	loc := Location("fake://" + data.name)
	u.d.files[loc] = data.committed
	return loc, nil
}

func (u *fakeUpload) Abort(ctx context.Context) error {
	u.d.mu.Lock()
	defer u.d.mu.Unlock()
	delete(u.d.uploads, u.id)
	u.d.aborted = append(u.d.aborted, u.id)
	return nil
}

func (u *fakeUpload) Uploaded() int64 { return u.uploaded.Load() }

// ---- journal ----

type journalEvent struct {
	entries []domain.ArchiveEntry
	cp      *Checkpoint
}

type fakeJournal struct {
	mu     sync.Mutex
	events []journalEvent
	// onCheckpoint is called (outside the lock) after each checkpoint.
	onCheckpoint func(Checkpoint)
	// keepEvery > 1 keeps only every n-th "part" checkpoint, as if the
	// others had been skipped by CheckpointEvery.
	keepEvery int
	parts     int
}

func (j *fakeJournal) RecordEntries(ctx context.Context, es []domain.ArchiveEntry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, journalEvent{entries: append([]domain.ArchiveEntry(nil), es...)})
	return nil
}

func (j *fakeJournal) Checkpoint(ctx context.Context, cp Checkpoint) error {
	// A real journal stores JSON: go through it so nothing is shared.
	raw, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	var c Checkpoint
	if err := json.Unmarshal(raw, &c); err != nil {
		return err
	}
	j.mu.Lock()
	if c.Reason == "part" && j.keepEvery > 1 {
		j.parts++
		if j.parts%j.keepEvery != 0 {
			j.mu.Unlock()
			return nil
		}
	}
	j.events = append(j.events, journalEvent{cp: &c})
	hook := j.onCheckpoint
	j.mu.Unlock()
	if hook != nil {
		hook(c)
	}
	return nil
}

func (j *fakeJournal) Last(ctx context.Context) (*Checkpoint, error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.events) - 1; i >= 0; i-- {
		if cp := j.events[i].cp; cp != nil {
			c := *cp
			return &c, nil
		}
	}
	return nil, nil
}

func (j *fakeJournal) Replay(ctx context.Context, onEntries func([]domain.ArchiveEntry) error, onCheckpoint func(Checkpoint) error) error {
	j.mu.Lock()
	events := append([]journalEvent(nil), j.events...)
	j.mu.Unlock()
	for _, e := range events {
		var err error
		if e.cp != nil {
			err = onCheckpoint(*e.cp)
		} else {
			err = onEntries(e.entries)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (j *fakeJournal) checkpoints() []Checkpoint {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Checkpoint
	for _, e := range j.events {
		if e.cp != nil {
			out = append(out, *e.cp)
		}
	}
	return out
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

var _ = strings.Repeat

func sortStrings(s []string) { sort.Strings(s) }
