package commands

import (
	"crypto/sha256"
	"encoding/hex"

	"backupd/domain"

	"github.com/google/uuid"
)

// Stream names: "<aggregate>-<uuid>", one stream per aggregate. An operation
// has two companion streams: its log (lines and progress, written by the
// executor only) and its checkpoints (resume state and archive entries), so
// loading the aggregate to decide a command never reads them.
func UserStream(id uuid.UUID) string                { return "user-" + id.String() }
func ConnectionStream(id uuid.UUID) string          { return "connection-" + id.String() }
func OperationStream(id uuid.UUID) string           { return "operation-" + id.String() }
func OperationLogStream(id uuid.UUID) string        { return "operationlog-" + id.String() }
func OperationCheckpointStream(id uuid.UUID) string { return "operationcheckpoint-" + id.String() }

// UserEmailStream reserves an e-mail address; it is named by a hash so the
// address itself is not in the stream name.
func UserEmailStream(email string) string {
	sum := sha256.Sum256([]byte(domain.NormalizeEmail(email)))
	return "useremail-" + hex.EncodeToString(sum[:16])
}
