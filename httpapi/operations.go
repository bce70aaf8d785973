package httpapi

import (
	"strconv"

	"backupd/commands"
	"backupd/domain"
	"backupd/projections"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

type backupInput struct {
	SourceID      uuid.UUID `json:"source_id"`
	DestinationID uuid.UUID `json:"destination_id"`
}

// requestBackup answers as soon as the pending operation is recorded (and
// the read model shows it, so the UI can open its page at once).
func (s *Server) requestBackup(c *fiber.Ctx) error {
	var in backupInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.SourceID == uuid.Nil {
		return invalidField("field-required", "source_id", "choose a data source")
	}
	if in.DestinationID == uuid.Nil {
		return invalidField("field-required", "destination_id", "choose a backup destination")
	}
	id, err := s.deps.Commands.RequestBackup.Handle(c.UserContext(), commands.RequestBackup{SourceID: in.SourceID, DestinationID: in.DestinationID})
	if err != nil {
		return err
	}
	s.waitForWrites(c.UserContext(), commands.OperationStream(id))
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"id": id})
}

func (s *Server) listOperations(c *fiber.Ctx) error {
	f, err := operationFilterOf(c)
	if err != nil {
		return err
	}
	items, total, totals, err := s.deps.Queries.ListOperations(c.UserContext(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []projections.OperationSummary{}
	}
	return c.JSON(operationList{listAnswer: listAnswer[projections.OperationSummary]{Items: items, Page: f.Page, PerPage: f.PerPage, Total: total}, Totals: totals})
}

type operationList struct {
	listAnswer[projections.OperationSummary]
	Totals map[string]int64 `json:"totals"`
}

// operationFilterOf reads ?status=&kind=&source_id=&from=&to=&page=&per_page=.
func operationFilterOf(c *fiber.Ctx) (projections.OperationFilter, error) {
	var f projections.OperationFilter
	page, perPage, err := pageParams(c)
	if err != nil {
		return f, err
	}
	f.Page, f.PerPage = page, perPage
	if v := c.Query("status"); v != "" {
		if !domain.OperationStatus(v).Valid() {
			return f, invalidField("status-invalid", "status", "unknown status "+strconv.Quote(v))
		}
		f.Status = v
	}
	if v := c.Query("kind"); v != "" {
		if v != string(domain.OpBackup) && v != string(domain.OpRestore) {
			return f, invalidField("kind-invalid", "kind", "kind must be backup or restore")
		}
		f.Kind = v
	}
	if v := c.Query("source_id"); v != "" {
		if f.SourceID, err = uuid.Parse(v); err != nil {
			return f, invalidField("source-id-invalid", "source_id", "source_id must be a connection id")
		}
	}
	if f.From, err = projections.ParseTimeBound(c.Query("from"), false); err != nil {
		return f, invalidField("from-invalid", "from", "from must be a date (2026-11-27) or an RFC 3339 time")
	}
	if f.To, err = projections.ParseTimeBound(c.Query("to"), true); err != nil {
		return f, invalidField("to-invalid", "to", "to must be a date (2026-11-27) or an RFC 3339 time")
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return f, invalidField("range-invalid", "to", "the end of the date range must come after its start")
	}
	return f, nil
}

func (s *Server) getOperation(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	op, err := s.deps.Queries.GetOperation(c.UserContext(), id)
	if err != nil {
		return err
	}
	op.AllowedActions = allowedActions(op.Kind, op.Status, op.PauseRequested, op.CancelRequested)
	return c.JSON(op)
}

const maxLogLines = 1000

func (s *Server) operationLogs(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	after, limit := int64(0), maxLogLines
	if v := c.Query("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return invalidField("after-invalid", "after", "after must be a line number (0 or more)")
		}
	}
	if v := c.Query("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxLogLines {
			return invalidField("limit-invalid", "limit", "limit must be a whole number from 1 to 1000")
		}
	}
	lines, err := s.deps.Queries.LogLines(c.UserContext(), id, after, limit)
	if err != nil {
		return err
	}
	if lines == nil {
		lines = []projections.LogLine{}
	}
	last := after
	if n := len(lines); n > 0 {
		last = lines[n-1].Seq
	}
	return c.JSON(fiber.Map{"lines": lines, "last_seq": last})
}

func (s *Server) pauseOperation(c *fiber.Ctx) error {
	return s.operationCommand(c, func(id uuid.UUID) (*domain.Operation, error) {
		return s.deps.Commands.PauseOperation.Handle(c.UserContext(), commands.PauseOperation{ID: id})
	})
}

func (s *Server) resumeOperation(c *fiber.Ctx) error {
	return s.operationCommand(c, func(id uuid.UUID) (*domain.Operation, error) {
		return s.deps.Commands.ResumeOperation.Handle(c.UserContext(), commands.ResumeOperation{ID: id})
	})
}

func (s *Server) cancelOperation(c *fiber.Ctx) error {
	return s.operationCommand(c, func(id uuid.UUID) (*domain.Operation, error) {
		return s.deps.Commands.CancelOperation.Handle(c.UserContext(), commands.CancelOperation{ID: id})
	})
}

// operationCommand runs pause, resume or cancel and answers 202 with the
// operation: the read model once caught up, with the state the command
// decided taken from the aggregate, so the answer always shows the write.
func (s *Server) operationCommand(c *fiber.Ctx, run func(uuid.UUID) (*domain.Operation, error)) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	agg, err := run(id)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	s.waitForWrites(ctx, commands.OperationStream(id))
	op, err := s.deps.Queries.GetOperation(ctx, id)
	if err != nil {
		return err
	}
	overlayOperation(&op, agg)
	return c.Status(fiber.StatusAccepted).JSON(op)
}

func overlayOperation(op *projections.Operation, agg *domain.Operation) {
	op.Status, op.PauseRequested, op.CancelRequested = agg.Status, agg.PauseRequested, agg.CancelRequested
	if !agg.FinishedAt.IsZero() {
		t := agg.FinishedAt.UTC()
		op.FinishedAt = &t
	}
	if agg.Paused != nil && agg.Status == domain.OpPaused {
		op.PausedPosition = agg.Paused.Position
	}
	op.AllowedActions = allowedActions(op.Kind, op.Status, op.PauseRequested, op.CancelRequested)
}

// allowedActions says what the UI may offer, by the domain's rules: pause a
// pending or running backup (not twice, not while cancelling), resume a
// paused or interrupted operation, cancel anything not finished, restore a
// completed backup.
func allowedActions(kind domain.OperationKind, st domain.OperationStatus, pauseRequested, cancelRequested bool) []string {
	acts := []string{}
	if cancelRequested {
		return acts // a cancel is under way: nothing else makes sense
	}
	if kind == domain.OpBackup && (st == domain.OpPending || st == domain.OpRunning && !pauseRequested) {
		acts = append(acts, "pause")
	}
	if domain.CanTransition(st, domain.OpPending) {
		acts = append(acts, "resume")
	}
	if st.Active() {
		acts = append(acts, "cancel")
	}
	if kind == domain.OpBackup && st == domain.OpCompleted {
		acts = append(acts, "restore")
	}
	return acts
}
