package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"backupd/domain"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// OperationFilter selects operations for the history; zero fields select
// everything. From is inclusive and To exclusive, both on requested_at
// (ParseTimeBound turns the API's dates into such bounds).
type OperationFilter struct {
	Status   string // a domain.OperationStatus
	Kind     string // "backup" or "restore"
	SourceID uuid.UUID
	From     *time.Time
	To       *time.Time
	Page     int
	PerPage  int
}

// ParseTimeBound reads an API date ("2026-11-27", a UTC day) or RFC 3339
// time. As the upper end of a range (end=true) a date means the end of that
// day, so ?to=2026-11-27 includes the 27th. Empty gives nil.
func ParseTimeBound(s string, end bool) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return &t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("%q is neither a date (2026-11-27) nor an RFC 3339 time (2026-11-27T10:00:00Z)", s)
	}
	return &t, nil
}

func (f OperationFilter) validate() error {
	if f.Status != "" && !domain.OperationStatus(f.Status).Valid() {
		return domain.Invalid("status-invalid", "status", fmt.Sprintf("unknown status %q", f.Status))
	}
	if f.Kind != "" && f.Kind != string(domain.OpBackup) && f.Kind != string(domain.OpRestore) {
		return domain.Invalid("kind-invalid", "kind", "kind must be backup or restore")
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return domain.Invalid("range-invalid", "to", "the end of the date range must come after its start")
	}
	return nil
}

// where builds the filter's SQL condition; withStatus false leaves the
// status out (for the totals).
func (f OperationFilter) where(withStatus bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if withStatus && f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.SourceID != uuid.Nil {
		add("source_id = $%d", f.SourceID)
	}
	if f.From != nil {
		add("requested_at >= $%d", *f.From)
	}
	if f.To != nil {
		add("requested_at < $%d", *f.To)
	}
	if len(conds) == 0 {
		return "true", nil
	}
	return strings.Join(conds, " AND "), args
}

const summaryColumns = `id, kind, status, source_id, source_name, source_kind, destination_id, destination_name,
	destination_kind, requested_at, started_at, finished_at, archive_size, requested_by`

func summaryDest(s *OperationSummary) []any {
	return []any{&s.ID, &s.Kind, &s.Status, &s.Source.ID, &s.Source.Name, &s.Source.Kind, &s.Destination.ID,
		&s.Destination.Name, &s.Destination.Kind, &s.RequestedAt, &s.StartedAt, &s.FinishedAt, &s.ArchiveSize, &s.RequestedBy}
}

// ListOperations returns one page of operations, newest first (by
// requested_at), how many match in all, and the count per status computed
// with the same filters except the status (every status is present, 0 when
// none).
func (q *Queries) ListOperations(ctx context.Context, f OperationFilter) (items []OperationSummary, total int64, totals map[string]int64, err error) {
	if err := f.validate(); err != nil {
		return nil, 0, nil, err
	}
	page, perPage := NormalizePage(f.Page, f.PerPage)

	cond, args := f.where(false)
	rows, err := q.pool.Query(ctx, `SELECT status, count(*) FROM operations WHERE `+cond+` GROUP BY status`, args...)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("projections: operation totals: %w", err)
	}
	totals = make(map[string]int64, len(domain.AllOperationStatuses))
	for _, s := range domain.AllOperationStatuses {
		totals[string(s)] = 0
	}
	var status string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error { totals[status] = n; return nil })
	if err != nil {
		return nil, 0, nil, fmt.Errorf("projections: operation totals: %w", err)
	}

	cond, args = f.where(true)
	if f.Status != "" {
		total = totals[f.Status]
	} else {
		for _, v := range totals {
			total += v
		}
	}
	args = append(args, perPage, (page-1)*perPage)
	rows, err = q.pool.Query(ctx, fmt.Sprintf(`SELECT %s FROM operations WHERE %s
		ORDER BY requested_at DESC, id DESC LIMIT $%d OFFSET $%d`, summaryColumns, cond, len(args)-1, len(args)), args...)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("projections: operations: %w", err)
	}
	items, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (OperationSummary, error) {
		var s OperationSummary
		err := row.Scan(summaryDest(&s)...)
		return s, err
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("projections: operations: %w", err)
	}
	if items == nil {
		items = []OperationSummary{}
	}
	return items, total, totals, nil
}

// GetOperation returns one operation in full.
func (q *Queries) GetOperation(ctx context.Context, id uuid.UUID) (Operation, error) {
	var o Operation
	var progress, result, restore, report []byte
	var progressAt *time.Time
	dest := append(summaryDest(&o.OperationSummary), &progress, &progressAt, &o.PauseRequested, &o.CancelRequested,
		&o.WorkerID, &o.Attempt, &o.HeartbeatAt, &o.PausedPosition, &o.Error, &o.ErrorCode, &o.Stack,
		&o.ArchiveLocation, &o.ObjectCount, &o.TotalBytes, &o.BackupID, &result, &restore, &report)
	err := q.pool.QueryRow(ctx, `SELECT `+summaryColumns+`, progress, progress_updated_at, pause_requested, cancel_requested,
			worker_id, attempt, heartbeat_at, paused_position, error, error_code, stack,
			archive_location, object_count, total_bytes, backup_id, result, restore, report
		FROM operations WHERE id = $1`, id).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, errOperationNotFound
	}
	if err != nil {
		return o, fmt.Errorf("projections: operation %s: %w", id, err)
	}
	if progress != nil {
		o.Progress = &Progress{UpdatedAt: progressAt}
		if err := json.Unmarshal(progress, &o.Progress.Progress); err != nil {
			return o, fmt.Errorf("projections: operation %s: progress: %w", id, err)
		}
	}
	for _, j := range []struct {
		raw []byte
		dst any
	}{{result, &o.Result}, {restore, &o.Restore}, {report, &o.Report}} {
		if j.raw == nil {
			continue
		}
		if err := json.Unmarshal(j.raw, j.dst); err != nil {
			return o, fmt.Errorf("projections: operation %s: %w", id, err)
		}
	}
	o.AllowedActions = AllowedActions(o.Kind, o.Status, o.PauseRequested, o.CancelRequested)
	return o, nil
}

// AllowedActions lists the commands the domain accepts for an operation in
// this state (the Operation aggregate's rules, for the UI to offer).
func AllowedActions(kind domain.OperationKind, status domain.OperationStatus, pauseRequested, cancelRequested bool) []string {
	actions := []string{}
	if kind == domain.OpBackup && !cancelRequested && (status == domain.OpPending || status == domain.OpRunning && !pauseRequested) {
		actions = append(actions, "pause")
	}
	if !cancelRequested && domain.CanTransition(status, domain.OpPending) {
		actions = append(actions, "resume")
	}
	if !status.Terminal() && !cancelRequested {
		actions = append(actions, "cancel")
	}
	if kind == domain.OpBackup && status == domain.OpCompleted {
		actions = append(actions, "restore")
	}
	return actions
}
