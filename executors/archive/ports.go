// Package archive turns a backup source into one resumable .tar.gz stream
// uploaded to a destination, and reads such archives back for restores.
//
// The stream is a tar archive (PAX headers where needed) compressed as a
// sequence of gzip members, one per block of about 1 MiB of tar bytes,
// compressed in parallel. Concatenated members are a valid gzip file (plain
// `tar xzf` reads it), and every member boundary is a point where a new
// process can continue the archive: the tar offset, the source position and
// the SHA-256 states are all the state there is. Destinations cut their
// parts at member boundaries, so a checkpoint needs no local file.
package archive

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"backupd/domain"
)

// Entry is one item a source yields, in the order the archive stores it.
type Entry struct {
	Key         string // S3 key or collection name, verbatim
	Size        int64  // exact number of bytes Open yields from offset 0
	ModTime     time.Time
	ETag        string
	ContentType string
	Metadata    map[string]string
	Documents   *int64 // MongoDB collections: document count
	// Resumable entries can be reopened at any offset by another process
	// (S3 objects, with a ranged GET checked against the ETag). Others (a
	// MongoDB collection dumped to a spool file) are only ever paused
	// before or after them.
	Resumable bool
	// Open reads the content from offset.
	Open func(ctx context.Context, offset int64) (io.ReadCloser, error)
	// Release frees what the source holds for the entry (a spool file).
	// May be nil.
	Release func()
}

// Ref is the part of an Entry a checkpoint records.
type Ref struct {
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ModTime     time.Time         `json:"mod_time"`
	ETag        string            `json:"etag,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// SourceInfo describes a source for the manifest.
type SourceInfo struct {
	Service     string // "s3" or "mongodb"
	Format      string // manifest/archive format name, e.g. "s3-bucket-tar-gz/1"
	Bucket      string
	Database    string
	ToolVersion string // mongodump --version, first line
	// PathPrefix is prepended to entry paths inside the tar (e.g. the bucket
	// name, or "mongodb/<db>/").
	PathPrefix string
	// EntrySuffix is appended to every entry path (MongoDB: ".archive.gz",
	// so each collection's file says what it is).
	EntrySuffix string
}

// ErrEntryChanged is returned by Reopen when the entry differs from the one
// a checkpoint recorded (S3 object rewritten while the backup was paused).
var ErrEntryChanged = errors.New("the object changed since the backup paused")

// ErrNotResumable is returned by Reopen for sources whose entries cannot be
// continued mid-way.
var ErrNotResumable = errors.New("this source cannot continue an entry mid-way")

// Source is what a backup reads. Sources log what they do (connecting,
// listing pages, mongodump's stderr) to the logger they were built with.
type Source interface {
	Info(ctx context.Context) (SourceInfo, error)
	// Estimate counts entries and bytes, for progress and part sizing. It
	// may be approximate and may take a listing pass; it holds nothing in
	// memory.
	Estimate(ctx context.Context) (entries, bytes int64, err error)
	// List calls fn for each entry whose key sorts strictly after `after`
	// ("" lists from the start), in a stable order, page by page. It stops
	// and returns fn's error when fn fails.
	List(ctx context.Context, after string, fn func(Entry) error) error
	// Reopen continues an entry recorded in a checkpoint at offset.
	Reopen(ctx context.Context, ref Ref, offset int64) (io.ReadCloser, error)
}

// Location names a stored file: "s3://bucket/key" or "gdrive://<fileId>".
type Location string

// DurableFunc is called by an Upload when all bytes written before a Mark
// are durable at the destination and the upload can be resumed from exactly
// there with state, without stashing anything. Calls come in mark order, from
// any goroutine.
type DurableFunc func(mark any, state json.RawMessage)

// Destination is where archives go and where restores read them.
type Destination interface {
	// StartUpload begins the file name (relative to the destination's prefix
	// or folder). sizeHint (0 when unknown) sizes parts.
	StartUpload(ctx context.Context, name string, sizeHint int64, onDurable DurableFunc) (Upload, error)
	// ResumeUpload continues an upload from a state returned by
	// Upload.Suspend or passed to DurableFunc.
	//
	// The state may be older than bytes the dead worker uploaded after it
	// (the archive only records checkpoints outside entries that cannot be
	// continued mid-way, such as a MongoDB collection): the upload then
	// continues from the state, replacing what came after it (S3: the same
	// part numbers again), or fails with a clear error if the protocol
	// cannot go back.
	ResumeUpload(ctx context.Context, state json.RawMessage, onDurable DurableFunc) (Upload, error)
	// DiscardUpload removes what an unfinished upload left at the
	// destination (multipart parts, resumable session, stashed bytes).
	// Idempotent.
	DiscardUpload(ctx context.Context, state json.RawMessage) error
	// Put stores a small file (the manifest) whole.
	Put(ctx context.Context, name string, r io.Reader, size int64, contentType string) (Location, error)
	// Open reads a stored file from offset, resuming cut downloads itself.
	Open(ctx context.Context, loc Location, offset int64) (io.ReadCloser, error)
	// Stat returns a stored file's size.
	Stat(ctx context.Context, loc Location) (int64, error)
	// Delete removes a stored file; a missing file is not an error.
	Delete(ctx context.Context, loc Location) error
}

// Upload is one file being written. Write may block while a part uploads,
// which bounds memory; at most a few parts are held at once.
type Upload interface {
	io.Writer
	// Mark says the bytes written so far end at a point the archive can be
	// resumed from (a gzip member boundary). Cheap; never waits for I/O.
	Mark(mark any)
	// Suspend uploads what the protocol allows, stashes the rest (S3: a
	// temporary object or inline bytes; Drive: the bytes after the last
	// 256 KiB boundary, inline) and returns the state to continue exactly
	// here. It waits until everything is durable.
	//
	// After Suspend the upload is either dropped (a pause: the state is all
	// that remains) or written to again (a periodic checkpoint: the archive
	// goes on, and a later stash replaces this one).
	Suspend(ctx context.Context) (json.RawMessage, error)
	// Complete uploads the rest and finishes the file.
	Complete(ctx context.Context) (Location, error)
	// Abort removes everything this upload wrote (parts, session, stash).
	Abort(ctx context.Context) error
	// Uploaded is the number of bytes the destination has confirmed.
	Uploaded() int64
}

// Journal keeps a backup's archive entries and checkpoints durably (the
// operation's checkpoint stream in EventStoreDB).
type Journal interface {
	// RecordEntries appends completed entries (batched by the caller).
	RecordEntries(ctx context.Context, entries []domain.ArchiveEntry) error
	// Checkpoint appends resume state.
	Checkpoint(ctx context.Context, cp Checkpoint) error
	// Last returns the newest checkpoint, nil when there is none.
	Last(ctx context.Context) (*Checkpoint, error)
	// Replay calls entries and checkpoints in the order they were recorded.
	Replay(ctx context.Context, onEntries func([]domain.ArchiveEntry) error, onCheckpoint func(Checkpoint) error) error
}

// Checkpoint is everything needed to continue an archive in a new process.
type Checkpoint struct {
	Seq int64 `json:"seq"`
	// Resumed marks the checkpoint a resume starts from; entries recorded
	// after the checkpoint it copies (by a worker that died) are void. A
	// fresh backup's first checkpoint ("start", at position zero, with the
	// new upload's state) is Resumed too: it voids whatever an earlier
	// attempt recorded.
	Resumed     bool            `json:"resumed,omitempty"`
	ArchiveName string          `json:"archive_name"`
	Position    Position        `json:"position"`
	Upload      json.RawMessage `json:"upload"`
	At          time.Time       `json:"at"`
	Reason      string          `json:"reason"` // "start", "part", "periodic", "pause", "resume"
}

// Position is where the archive stream stands at a member boundary.
type Position struct {
	EntriesDone int64  `json:"entries_done"` // entries completely in the tar
	LastKey     string `json:"last_key"`     // listing cursor: key of the last complete entry
	// Partial is the entry the boundary falls inside, if any.
	Partial         *PartialEntry `json:"partial,omitempty"`
	TarOffset       int64         `json:"tar_offset"`       // uncompressed tar bytes so far
	CompressedBytes int64         `json:"compressed_bytes"` // gzip bytes so far
	ArchiveSHA256   []byte        `json:"archive_sha256"`   // marshaled sha256 state of the gzip bytes
	BytesDone       int64         `json:"bytes_done"`       // entry content bytes so far
	// Ancestors are the keys, stored as files, that are string prefixes of
	// LastKey: a later key below one of them ("a" then "a/b") is stored under
	// a renamed directory (see safePath), so the names depend on them.
	Ancestors []string `json:"ancestors,omitempty"`
}

// PartialEntry is an entry whose tar record the boundary falls inside.
type PartialEntry struct {
	Index  int64 `json:"index"`
	Ref    Ref   `json:"ref"`
	Offset int64 `json:"offset"` // bytes of the record (header, content, padding) already in the tar
	// ContentSHA256 is the marshaled sha256 state of the content so far.
	ContentSHA256 []byte `json:"content_sha256"`
	// HeaderSHA256 (hex) of the entry's tar header bytes: a resumed process
	// regenerates the header from Ref and refuses to continue if it differs.
	HeaderSHA256 string `json:"header_sha256,omitempty"`
}
