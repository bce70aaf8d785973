package projections

import (
	"time"

	"backupd/domain"

	"github.com/google/uuid"
)

// The types Queries returns. Their JSON is the shape httpapi/API.md
// documents, so the API can serve them as they are.

// User is an administrator (API.md "User" plus a few details).
type User struct {
	ID                uuid.UUID  `json:"id"`
	Email             string     `json:"email"`
	Name              string     `json:"name"`
	Role              string     `json:"role"`
	RegisteredAt      time.Time  `json:"registered_at"`
	LastLoginAt       *time.Time `json:"last_login_at"`
	LastLoginIP       string     `json:"last_login_ip,omitempty"`
	FailedLogins      int        `json:"failed_logins"` // since the last successful login
	LastFailedLoginAt *time.Time `json:"last_failed_login_at,omitempty"`
	PasswordChangedAt *time.Time `json:"password_changed_at,omitempty"`
}

// Connection is a source or destination (API.md "Connection"): settings
// without secrets, and which secret fields hold a value.
type Connection struct {
	ID               uuid.UUID               `json:"id"`
	Kind             domain.ConnectionKind   `json:"kind"`
	Role             domain.Role             `json:"role"`
	Service          string                  `json:"service"`
	Name             string                  `json:"name"`
	Settings         map[string]string       `json:"settings"`
	SecretsSet       map[string]bool         `json:"secrets_set"`
	Status           domain.ConnectionStatus `json:"status"`
	StatusReason     string                  `json:"status_reason"`
	StatusField      string                  `json:"status_field"`
	CheckedAt        *time.Time              `json:"checked_at"`
	Details          map[string]string       `json:"details"`
	TokenExpiry      *time.Time              `json:"token_expiry,omitempty"`
	ActiveOperations int                     `json:"active_operations"`
	CreatedAt        time.Time               `json:"created_at"`
	UpdatedAt        time.Time               `json:"updated_at"`
}

// Ref names a connection as an operation saw it. ID is null for a restore
// target typed in rather than chosen among the connections.
type Ref struct {
	ID   *uuid.UUID            `json:"id"`
	Name string                `json:"name"`
	Kind domain.ConnectionKind `json:"kind"`
}

// OperationSummary is a line of the history (API.md "OperationSummary").
type OperationSummary struct {
	ID          uuid.UUID              `json:"id"`
	Kind        domain.OperationKind   `json:"kind"`
	Status      domain.OperationStatus `json:"status"`
	Source      Ref                    `json:"source"`
	Destination Ref                    `json:"destination"`
	RequestedAt time.Time              `json:"requested_at"`
	StartedAt   *time.Time             `json:"started_at"`
	FinishedAt  *time.Time             `json:"finished_at"`
	ArchiveSize *int64                 `json:"archive_size"`
	RequestedBy string                 `json:"requested_by"`
}

// Progress is the last progress the executor reported, and when.
type Progress struct {
	domain.Progress
	UpdatedAt *time.Time `json:"updated_at"`
}

// Operation is one backup or restore in full (API.md "Operation").
type Operation struct {
	OperationSummary
	Progress        *Progress `json:"progress"`
	PauseRequested  bool      `json:"pause_requested"`
	CancelRequested bool      `json:"cancel_requested"`
	// AllowedActions are the commands the domain accepts now: "pause",
	// "resume", "cancel", and "restore" for a completed backup.
	AllowedActions  []string              `json:"allowed_actions"`
	WorkerID        string                `json:"worker_id"`
	Attempt         int                   `json:"attempt"`
	HeartbeatAt     *time.Time            `json:"heartbeat_at"`
	PausedPosition  string                `json:"paused_position"`
	Error           string                `json:"error"`
	ErrorCode       string                `json:"error_code"`
	Stack           string                `json:"stack"`
	ArchiveLocation string                `json:"archive_location"`
	ObjectCount     *int64                `json:"object_count"`
	TotalBytes      *int64                `json:"total_bytes"`
	BackupID        *uuid.UUID            `json:"backup_id,omitempty"` // restores
	Result          *domain.BackupResult  `json:"result"`
	Restore         *RestoreInfo          `json:"restore"`
	Report          *domain.RestoreReport `json:"report"`
}

// RestoreInfo is a restore's request without any secret: the target keeps
// its connection id, kind, name and non-secret settings, and says which
// secret fields were given, never their values.
type RestoreInfo struct {
	BackupID uuid.UUID             `json:"backup_id"`
	Archive  Ref                   `json:"archive"`
	Backup   domain.BackupResult   `json:"backup"`
	Target   RestoreTargetInfo     `json:"target"`
	Options  domain.RestoreOptions `json:"options"`
}

type RestoreTargetInfo struct {
	ConnectionID *uuid.UUID            `json:"connection_id,omitempty"`
	Kind         domain.ConnectionKind `json:"kind"`
	Name         string                `json:"name"`
	Settings     map[string]string     `json:"settings,omitempty"`
	SecretsSet   map[string]bool       `json:"secrets_set,omitempty"`
}

// LogLine is a line of an operation's terminal log. Seq orders the lines of
// one operation, whatever wrote them (see migrations/0005).
type LogLine struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Level   string    `json:"level"`
	Message string    `json:"message"`
	Origin  string    `json:"origin"` // "executor" or "status"
}

// Origins of log lines.
const (
	OriginExecutor = "executor"
	OriginStatus   = "status"
)

// AuditEvent is one event as the audit trail shows it.
type AuditEvent struct {
	EventID         uuid.UUID  `json:"id"`
	CommitPosition  int64      `json:"commit_position"`
	PreparePosition int64      `json:"prepare_position"`
	Stream          string     `json:"stream"`
	Type            string     `json:"type"`
	ActorID         string     `json:"actor_id"`
	ActorName       string     `json:"actor_name"`
	CorrelationID   *uuid.UUID `json:"correlation_id"`
	CausationID     *uuid.UUID `json:"causation_id"`
	At              time.Time  `json:"at"`
	Summary         string     `json:"summary"`
}

// StaleOperation is a running operation whose worker has gone quiet.
type StaleOperation struct {
	ID          uuid.UUID
	WorkerID    string
	Attempt     int
	HeartbeatAt time.Time
}
