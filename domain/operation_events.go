package domain

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

type OperationKind string

const (
	OpBackup  OperationKind = "backup"
	OpRestore OperationKind = "restore"
)

// ConnectionRef names a connection as it was when the operation was requested.
type ConnectionRef struct {
	ID   uuid.UUID      `json:"id"`
	Name string         `json:"name"`
	Kind ConnectionKind `json:"kind"`
}

type BackupRequested struct {
	OperationID uuid.UUID     `json:"operation_id"`
	Source      ConnectionRef `json:"source"`
	Destination ConnectionRef `json:"destination"`
	At          time.Time     `json:"at"`
}

// RestoreTarget is where a restore writes: an existing connection, or details
// typed in (sealed like any credential).
type RestoreTarget struct {
	ConnectionID *uuid.UUID              `json:"connection_id,omitempty"`
	Kind         ConnectionKind          `json:"kind"`
	Name         string                  `json:"name"`
	Settings     map[string]string       `json:"settings,omitempty"`
	Secrets      map[string]SealedSecret `json:"secrets,omitempty"`
}

type RestoreOptions struct {
	Prefix   string `json:"prefix,omitempty"`   // S3: key prefix under the target bucket
	Database string `json:"database,omitempty"` // MongoDB: target database
	// Conflict: S3 "overwrite" or "skip"; MongoDB "drop" or "insert".
	Conflict string `json:"conflict"`
	// OverwriteOriginal is the explicit confirmation to restore over the very
	// place the data came from.
	OverwriteOriginal bool `json:"overwrite_original,omitempty"`
}

type RestoreRequested struct {
	OperationID uuid.UUID      `json:"operation_id"`
	BackupID    uuid.UUID      `json:"backup_id"`
	Archive     ConnectionRef  `json:"archive"` // the backup's destination, which holds the archive
	Backup      BackupResult   `json:"backup"`
	Target      RestoreTarget  `json:"target"`
	Options     RestoreOptions `json:"options"`
	At          time.Time      `json:"at"`
}

// OperationStarted is a worker's claim: it is appended at the revision the
// worker loaded, so two workers can never both start the same operation.
type OperationStarted struct {
	OperationID uuid.UUID `json:"operation_id"`
	WorkerID    string    `json:"worker_id"`
	Attempt     int       `json:"attempt"`
	Resumed     bool      `json:"resumed"`
	At          time.Time `json:"at"`
}

type OperationPauseRequested struct {
	OperationID uuid.UUID `json:"operation_id"`
	At          time.Time `json:"at"`
}

// OperationPaused: the executor stopped at a safe point; Position says where
// in words, the resume state itself is in the checkpoint stream.
type OperationPaused struct {
	OperationID   uuid.UUID `json:"operation_id"`
	Position      string    `json:"position"`
	CheckpointSeq int64     `json:"checkpoint_seq"`
	At            time.Time `json:"at"`
}

type OperationResumeRequested struct {
	OperationID uuid.UUID `json:"operation_id"`
	At          time.Time `json:"at"`
}

type OperationCancelRequested struct {
	OperationID uuid.UUID `json:"operation_id"`
	At          time.Time `json:"at"`
}

type OperationCancelled struct {
	OperationID uuid.UUID `json:"operation_id"`
	CleanedUp   []string  `json:"cleaned_up,omitempty"`
	At          time.Time `json:"at"`
}

// OperationInterrupted is recorded by the reaper when a running operation's
// worker stopped sending heartbeats.
type OperationInterrupted struct {
	OperationID   uuid.UUID `json:"operation_id"`
	WorkerID      string    `json:"worker_id"`
	Attempt       int       `json:"attempt"`
	LastHeartbeat time.Time `json:"last_heartbeat"`
	Reason        string    `json:"reason"`
	At            time.Time `json:"at"`
}

type OperationCompleted struct {
	OperationID uuid.UUID      `json:"operation_id"`
	Backup      *BackupResult  `json:"backup,omitempty"`
	Restore     *RestoreReport `json:"restore,omitempty"`
	At          time.Time      `json:"at"`
}

type OperationFailed struct {
	OperationID uuid.UUID      `json:"operation_id"`
	Error       string         `json:"error"`
	Code        string         `json:"code,omitempty"` // e.g. "verification-failed", "mongodump-missing"
	Stack       string         `json:"stack,omitempty"`
	Restore     *RestoreReport `json:"restore,omitempty"`
	At          time.Time      `json:"at"`
}

// RestoreVerified records the verification report of a restore before it
// ends completed (verified) or failed (differences found).
type RestoreVerified struct {
	OperationID uuid.UUID     `json:"operation_id"`
	Report      RestoreReport `json:"report"`
	At          time.Time     `json:"at"`
}

// OperationProgressed is appended to the operation's log stream about once
// a second while it runs; it doubles as the worker's heartbeat.
type OperationProgressed struct {
	OperationID uuid.UUID `json:"operation_id"`
	WorkerID    string    `json:"worker_id"`
	Attempt     int       `json:"attempt"`
	Progress    Progress  `json:"progress"`
	At          time.Time `json:"at"`
}

type Progress struct {
	Phase           string `json:"phase"`
	ObjectsDone     int64  `json:"objects_done"`
	ObjectsTotal    int64  `json:"objects_total"` // 0 when unknown
	BytesDone       int64  `json:"bytes_done"`
	BytesTotal      int64  `json:"bytes_total"` // 0 when unknown
	CompressedBytes int64  `json:"compressed_bytes"`
	UploadedBytes   int64  `json:"uploaded_bytes"`
	// BytesPerSecond over the last seconds; SecondsLeft -1 when unknown.
	BytesPerSecond float64 `json:"bytes_per_second"`
	SecondsLeft    int64   `json:"seconds_left"`
	Current        string  `json:"current,omitempty"`
}

// LogLine is one line of an operation's terminal log, with its own time.
type LogLine struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Level   string    `json:"level"` // debug, info, warn, error
	Message string    `json:"message"`
}

// OperationLogged carries a batch of log lines (typically one second's
// worth), so a million small objects do not make a million events.
type OperationLogged struct {
	OperationID uuid.UUID `json:"operation_id"`
	Lines       []LogLine `json:"lines"`
}

// OperationCheckpointed is appended to the operation's checkpoint stream by
// the executor. State is the executor's resume state (opaque to the domain).
type OperationCheckpointed struct {
	OperationID uuid.UUID       `json:"operation_id"`
	Attempt     int             `json:"attempt"`
	Seq         int64           `json:"seq"`
	State       json.RawMessage `json:"state"`
	At          time.Time       `json:"at"`
}

// ArchiveEntriesRecorded lists archive entries (objects or collections) in
// the checkpoint stream as the executor writes them; with the checkpoints
// they are the archive's manifest, durably.
type ArchiveEntriesRecorded struct {
	OperationID uuid.UUID      `json:"operation_id"`
	Attempt     int            `json:"attempt"`
	Entries     []ArchiveEntry `json:"entries"`
}

// ArchiveEntry is one object (S3) or collection (MongoDB) in an archive.
type ArchiveEntry struct {
	Index        int64             `json:"index"`
	Key          string            `json:"key"`    // the S3 key or collection name, verbatim
	Path         string            `json:"path"`   // the name inside the tar
	Size         int64             `json:"size"`   // bytes stored in the tar
	SHA256       string            `json:"sha256"` // of those bytes, hex
	ETag         string            `json:"etag,omitempty"`
	ContentType  string            `json:"content_type,omitempty"`
	LastModified *time.Time        `json:"last_modified,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	Documents    *int64            `json:"documents,omitempty"` // MongoDB collections
}

// BackupResult is the archive's metadata, carried by the completed event.
type BackupResult struct {
	Format           string              `json:"format"` // "s3-bucket-tar-gz/1" or "mongodb-tar-gz/1"
	ArchiveName      string              `json:"archive_name"`
	ArchiveLocation  string              `json:"archive_location"`  // s3://bucket/key or gdrive://fileId
	ManifestLocation string              `json:"manifest_location"` // beside the archive
	ArchiveSize      int64               `json:"archive_size"`      // compressed bytes
	ArchiveSHA256    string              `json:"archive_sha256"`
	ManifestSHA256   string              `json:"manifest_sha256"`
	ObjectCount      int64               `json:"object_count"` // objects (S3) or collections (MongoDB)
	TotalBytes       int64               `json:"total_bytes"`  // uncompressed bytes of the entries
	SourceBucket     string              `json:"source_bucket,omitempty"`
	Database         string              `json:"database,omitempty"`
	Collections      []CollectionSummary `json:"collections,omitempty"`
	MongodumpVersion string              `json:"mongodump_version,omitempty"`
	StartedAt        time.Time           `json:"started_at"`
	FinishedAt       time.Time           `json:"finished_at"`
}

type CollectionSummary struct {
	Name      string `json:"name"`
	Documents int64  `json:"documents"`
	Bytes     int64  `json:"bytes"`
}

// RestoreReport is the verification of restored data against the manifest.
type RestoreReport struct {
	Verified    bool              `json:"verified"`
	Summary     string            `json:"summary"`
	Checked     int64             `json:"checked"`
	Restored    int64             `json:"restored"`
	Skipped     int64             `json:"skipped"`
	Missing     []string          `json:"missing,omitempty"`
	Mismatched  []Mismatch        `json:"mismatched,omitempty"`
	Extra       []string          `json:"extra,omitempty"`
	Collections []CollectionCheck `json:"collections,omitempty"`
	Truncated   bool              `json:"truncated,omitempty"` // lists were cut for size
}

type Mismatch struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

type CollectionCheck struct {
	Name           string `json:"name"`
	ExpectedDocs   int64  `json:"expected_docs"`
	ActualDocs     int64  `json:"actual_docs"`
	HashesCompared int64  `json:"hashes_compared"`
	HashMismatches int64  `json:"hash_mismatches"`
	// ExtraDocs are documents the target held besides the archive's (a
	// restore that inserts alongside existing data); they are not errors.
	ExtraDocs int64 `json:"extra_docs,omitempty"`
	OK             bool   `json:"ok"`
}

func (BackupRequested) EventType() string          { return "BackupRequested.v1" }
func (RestoreRequested) EventType() string         { return "RestoreRequested.v1" }
func (OperationStarted) EventType() string         { return "OperationStarted.v1" }
func (OperationPauseRequested) EventType() string  { return "OperationPauseRequested.v1" }
func (OperationPaused) EventType() string          { return "OperationPaused.v1" }
func (OperationResumeRequested) EventType() string { return "OperationResumeRequested.v1" }
func (OperationCancelRequested) EventType() string { return "OperationCancelRequested.v1" }
func (OperationCancelled) EventType() string       { return "OperationCancelled.v1" }
func (OperationInterrupted) EventType() string     { return "OperationInterrupted.v1" }
func (OperationCompleted) EventType() string       { return "OperationCompleted.v1" }
func (OperationFailed) EventType() string          { return "OperationFailed.v1" }
func (RestoreVerified) EventType() string          { return "RestoreVerified.v1" }
func (OperationProgressed) EventType() string      { return "OperationProgressed.v1" }
func (OperationLogged) EventType() string          { return "OperationLogged.v1" }
func (OperationCheckpointed) EventType() string    { return "OperationCheckpointed.v1" }
func (ArchiveEntriesRecorded) EventType() string   { return "ArchiveEntriesRecorded.v1" }

func init() {
	RegisterEvent[BackupRequested]()
	RegisterEvent[RestoreRequested]()
	RegisterEvent[OperationStarted]()
	RegisterEvent[OperationPauseRequested]()
	RegisterEvent[OperationPaused]()
	RegisterEvent[OperationResumeRequested]()
	RegisterEvent[OperationCancelRequested]()
	RegisterEvent[OperationCancelled]()
	RegisterEvent[OperationInterrupted]()
	RegisterEvent[OperationCompleted]()
	RegisterEvent[OperationFailed]()
	RegisterEvent[RestoreVerified]()
	RegisterEvent[OperationProgressed]()
	RegisterEvent[OperationLogged]()
	RegisterEvent[OperationCheckpointed]()
	RegisterEvent[ArchiveEntriesRecorded]()
}
