package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

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
