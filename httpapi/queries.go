package httpapi

import (
	"context"
	"time"

	"backupd/domain"
	"backupd/projections"

	"github.com/google/uuid"
)

// Queries is what the handlers read from the read models
// (projections.Queries implements it).
type Queries interface {
	GetUser(ctx context.Context, id uuid.UUID) (projections.User, error)
	ListConnections(ctx context.Context, role string) ([]projections.Connection, error)
	GetConnection(ctx context.Context, id uuid.UUID) (projections.Connection, error)
	ListOperations(ctx context.Context, f projections.OperationFilter) (items []projections.OperationSummary, total int64, totals map[string]int64, err error)
	GetOperation(ctx context.Context, id uuid.UUID) (projections.Operation, error)
	LogLines(ctx context.Context, operationID uuid.UUID, after int64, limit int) ([]projections.LogLine, error)
	ListAudit(ctx context.Context, f projections.AuditFilter) ([]projections.AuditEvent, int64, error)
}

// ProjectionWaiter lets a write's answer wait until the read models show it
// (projections.Runner implements it).
type ProjectionWaiter interface {
	WaitForStream(ctx context.Context, stream string) error
}

// waitForWrites waits (bounded by ReadYourWritesTimeout) until the read
// models include the last event of stream. Every write endpoint waits the
// same way before it answers, so the next GET shows the write. A read model
// that lags longer is logged, not turned into an error: the write is done,
// and the answers overlay what the command decided.
func (s *Server) waitForWrites(ctx context.Context, stream string) {
	if s.deps.Projections == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ReadYourWritesTimeout)
	defer cancel()
	if err := s.deps.Projections.WaitForStream(ctx, stream); err != nil {
		s.log.Warn("read models behind a write", "stream", stream, "error", err.Error())
	}
}

// userJSON is API.md's User.
type userJSON struct {
	ID          uuid.UUID  `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name"`
	Role        string     `json:"role"`
	LastLoginAt *time.Time `json:"last_login_at"`
}

// userOf is the session's user from the read model; right after the first
// login of a new user the read model may not have it yet, and the session
// row answers.
func (s *Server) userOf(ctx context.Context, sess *session) (userJSON, error) {
	u, err := s.deps.Queries.GetUser(ctx, sess.UserID)
	if isNotFound(err) {
		return userJSON{ID: sess.UserID, Email: sess.UserEmail, Role: "admin"}, nil
	}
	if err != nil {
		return userJSON{}, err
	}
	return userJSON{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, LastLoginAt: u.LastLoginAt}, nil
}

func isNotFound(err error) bool {
	de, ok := domain.AsError(err)
	return ok && de.Kind == domain.KindNotFound
}
