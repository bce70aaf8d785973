package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Queries reads the read models for the API and the executors.
type Queries struct{ pool *pgxpool.Pool }

func NewQueries(pool *pgxpool.Pool) *Queries { return &Queries{pool: pool} }

// Not-found answers are domain errors of kind domain.KindNotFound.
var (
	errUserNotFound       = domain.NotFound("user-not-found", "user not found")
	errConnectionNotFound = domain.NotFound("connection-not-found", "connection not found")
	errOperationNotFound  = domain.NotFound("operation-not-found", "operation not found")
)

// Paging limits (API.md: per_page at most 100).
const (
	DefaultPerPage = 25
	MaxPerPage     = 100
)

// NormalizePage returns the page and page size a list answers with.
func NormalizePage(page, perPage int) (int, int) {
	if page < 1 {
		page = 1
	}
	if perPage < 1 {
		perPage = DefaultPerPage
	}
	if perPage > MaxPerPage {
		perPage = MaxPerPage
	}
	return page, perPage
}

// GetUser returns one user.
func (q *Queries) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	var u User
	err := q.pool.QueryRow(ctx, `SELECT id, email, name, role, registered_at, last_login_at, last_login_ip,
			failed_logins, last_failed_login_at, password_changed_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.RegisteredAt, &u.LastLoginAt, &u.LastLoginIP,
			&u.FailedLogins, &u.LastFailedLoginAt, &u.PasswordChangedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return u, errUserNotFound
	}
	if err != nil {
		return u, fmt.Errorf("projections: user %s: %w", id, err)
	}
	return u, nil
}

const connectionColumns = `id, kind, role, service, name, settings, secrets_set, status, status_reason, status_field,
	checked_at, details, token_expiry, active_operations, created_at, updated_at`

func scanConnection(row pgx.Row) (Connection, error) {
	var c Connection
	err := row.Scan(&c.ID, &c.Kind, &c.Role, &c.Service, &c.Name, &c.Settings, &c.SecretsSet, &c.Status, &c.StatusReason,
		&c.StatusField, &c.CheckedAt, &c.Details, &c.TokenExpiry, &c.ActiveOperations, &c.CreatedAt, &c.UpdatedAt)
	return c, err
}

// ListConnections returns the connections of a role ("source",
// "destination", or "" for both), deleted ones left out, by name.
func (q *Queries) ListConnections(ctx context.Context, role string) ([]Connection, error) {
	switch domain.Role(role) {
	case "", domain.RoleSource, domain.RoleDestination:
	default:
		return nil, domain.Invalid("role-invalid", "role", "role must be source or destination")
	}
	return q.connections(ctx, `SELECT `+connectionColumns+` FROM connections
		WHERE NOT deleted AND ($1 = '' OR role = $1) ORDER BY role DESC, lower(name), id`, role)
}

// AllConnections returns every connection not deleted (for the periodic
// re-check).
func (q *Queries) AllConnections(ctx context.Context) ([]Connection, error) {
	return q.ListConnections(ctx, "")
}

func (q *Queries) connections(ctx context.Context, sql string, args ...any) ([]Connection, error) {
	rows, err := q.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("projections: connections: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Connection, error) { return scanConnection(row) })
	if err != nil {
		return nil, fmt.Errorf("projections: connections: %w", err)
	}
	return out, nil
}

// GetConnection returns one connection; a deleted one is not found.
func (q *Queries) GetConnection(ctx context.Context, id uuid.UUID) (Connection, error) {
	c, err := scanConnection(q.pool.QueryRow(ctx, `SELECT `+connectionColumns+` FROM connections WHERE id = $1 AND NOT deleted`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, errConnectionNotFound
	}
	if err != nil {
		return c, fmt.Errorf("projections: connection %s: %w", id, err)
	}
	return c, nil
}

// LogLines returns up to limit lines of an operation's log after seq
// afterSeq (0: from the first), in order. limit is clamped to 1..5000.
func (q *Queries) LogLines(ctx context.Context, opID uuid.UUID, afterSeq int64, limit int) ([]LogLine, error) {
	if limit < 1 || limit > 5000 {
		limit = 5000
	}
	rows, err := q.pool.Query(ctx, `SELECT seq, at, level, message, origin FROM operation_logs
		WHERE operation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, opID, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("projections: log of %s: %w", opID, err)
	}
	lines, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (LogLine, error) {
		var l LogLine
		err := row.Scan(&l.Seq, &l.At, &l.Level, &l.Message, &l.Origin)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("projections: log of %s: %w", opID, err)
	}
	return lines, nil
}

// AuditFilter selects audit events; empty fields select everything.
type AuditFilter struct {
	Stream  string // exact stream name, e.g. "connection-<id>"
	Actor   string // actor id or actor name (e-mail)
	Type    string // event type, e.g. "UserLoggedIn.v1"
	Page    int
	PerPage int
}

// ListAudit returns one page of audit events, newest first, and how many
// match in all.
func (q *Queries) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, int64, error) {
	page, perPage := NormalizePage(f.Page, f.PerPage)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Stream != "" {
		add("stream = ?", f.Stream)
	}
	if f.Actor != "" {
		add("(actor_id = ? OR lower(actor_name) = lower(?))", f.Actor)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	cond := "true"
	if len(where) > 0 {
		cond = strings.Join(where, " AND ")
	}
	var total int64
	if err := q.pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("projections: audit: %w", err)
	}
	args = append(args, perPage, (page-1)*perPage)
	rows, err := q.pool.Query(ctx, fmt.Sprintf(`SELECT event_id, commit_position, prepare_position, stream, type, actor_id, actor_name,
			correlation_id, causation_id, at, summary
		FROM audit_events WHERE %s ORDER BY commit_position DESC, prepare_position DESC LIMIT $%d OFFSET $%d`, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("projections: audit: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEvent, error) {
		var a AuditEvent
		err := row.Scan(&a.EventID, &a.CommitPosition, &a.PreparePosition, &a.Stream, &a.Type, &a.ActorID, &a.ActorName,
			&a.CorrelationID, &a.CausationID, &a.At, &a.Summary)
		return a, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("projections: audit: %w", err)
	}
	return items, total, nil
}

// StaleRunningOperations returns the running operations whose last
// heartbeat (or start) is older than heartbeatOlderThan: the reaper's list.
func (q *Queries) StaleRunningOperations(ctx context.Context, heartbeatOlderThan time.Time) ([]StaleOperation, error) {
	rows, err := q.pool.Query(ctx, `SELECT id, worker_id, attempt, coalesce(heartbeat_at, started_at, requested_at)
		FROM operations WHERE status = $1 AND coalesce(heartbeat_at, started_at, requested_at) < $2
		ORDER BY coalesce(heartbeat_at, started_at, requested_at)`, domain.OpRunning, heartbeatOlderThan)
	if err != nil {
		return nil, fmt.Errorf("projections: stale operations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (StaleOperation, error) {
		var s StaleOperation
		err := row.Scan(&s.ID, &s.WorkerID, &s.Attempt, &s.HeartbeatAt)
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("projections: stale operations: %w", err)
	}
	return out, nil
}
