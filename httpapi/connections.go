package httpapi

import (
	"maps"

	"backupd/commands"
	"backupd/domain"
	"backupd/projections"

	"github.com/gofiber/fiber/v2"
)

func (s *Server) listConnectionKinds(c *fiber.Ctx) error {
	return c.JSON(domain.KindSpecs())
}

func (s *Server) listConnections(c *fiber.Ctx) error {
	items, err := s.deps.Queries.ListConnections(c.UserContext(), c.Query("role"))
	if err != nil {
		return err
	}
	if items == nil {
		items = []projections.Connection{}
	}
	return c.JSON(fiber.Map{"items": items})
}

func (s *Server) getConnection(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	conn, err := s.deps.Queries.GetConnection(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(conn)
}

type connectionInput struct {
	Kind     domain.ConnectionKind `json:"kind"`
	Name     string                `json:"name"`
	Settings map[string]string     `json:"settings"`
	Secrets  map[string]string     `json:"secrets"`
}

// createConnection answers 201 only after the check passed and the
// connection was stored; a failed check is a 422 on the field concerned
// and stores nothing.
func (s *Server) createConnection(c *fiber.Ctx) error {
	var in connectionInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Kind == domain.KindDriveDestination {
		return invalidField("use-oauth", "kind", "Google Drive is connected by signing in with Google, not with a form")
	}
	conn, err := s.deps.Commands.CreateConnection.Handle(c.UserContext(), commands.CreateConnection{
		Kind: in.Kind, Name: in.Name, Settings: in.Settings, Secrets: in.Secrets})
	if err != nil {
		return err
	}
	return s.answerConnection(c, fiber.StatusCreated, conn)
}

func (s *Server) updateConnection(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	var in connectionInput
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	conn, err := s.deps.Commands.UpdateConnection.Handle(c.UserContext(), commands.UpdateConnection{
		ID: id, Name: in.Name, Settings: in.Settings, Secrets: in.Secrets})
	if err != nil {
		return err
	}
	return s.answerConnection(c, fiber.StatusOK, conn)
}

// checkConnection re-checks; a failure is recorded on the connection (its
// status), not answered as an error.
func (s *Server) checkConnection(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	conn, err := s.deps.Commands.CheckConnection.Handle(c.UserContext(), commands.CheckConnection{ID: id})
	if err != nil {
		return err
	}
	return s.answerConnection(c, fiber.StatusOK, conn)
}

func (s *Server) deleteConnection(c *fiber.Ctx) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.deps.Commands.DeleteConnection.Handle(c.UserContext(), commands.DeleteConnection{ID: id}); err != nil {
		return err
	}
	s.waitForWrites(c.UserContext(), commands.ConnectionStream(id))
	return c.SendStatus(fiber.StatusNoContent)
}

// answerConnection is the read-your-writes answer after a connection
// command: the read model once it has caught up, with the fields the
// command decided taken from the aggregate it returned, so the answer shows
// the write even if the read model lags.
func (s *Server) answerConnection(c *fiber.Ctx, status int, agg *domain.Connection) error {
	ctx := c.UserContext()
	s.waitForWrites(ctx, commands.ConnectionStream(agg.ID))
	view, err := s.deps.Queries.GetConnection(ctx, agg.ID)
	if err != nil && !isNotFound(err) {
		return err
	}
	if err != nil { // not projected yet: answer from the aggregate alone
		now := s.now()
		view = projections.Connection{ID: agg.ID, Kind: agg.Kind, Role: agg.Kind.Role(), Service: agg.Kind.Service(), CreatedAt: now, UpdatedAt: now}
	}
	overlayConnection(&view, agg)
	return c.Status(status).JSON(view)
}

// overlayConnection copies what a command decides onto a read-model view.
// Secrets never come across: only which ones are set.
func overlayConnection(v *projections.Connection, agg *domain.Connection) {
	v.Name, v.Status, v.StatusReason = agg.Name, agg.Status, agg.Reason
	v.Settings = publicSettings(agg.Kind, agg.Settings)
	v.SecretsSet = map[string]bool{}
	for k, sealed := range agg.Secrets {
		if !sealed.IsZero() {
			v.SecretsSet[k] = true
		}
	}
	v.Details = maps.Clone(agg.Details)
	if v.Details == nil {
		v.Details = map[string]string{}
	}
	if !agg.CheckedAt.IsZero() {
		t := agg.CheckedAt.UTC()
		v.CheckedAt = &t
		if t.After(v.UpdatedAt) {
			v.UpdatedAt = t
		}
	}
	if agg.Status == domain.StatusValid {
		v.StatusField = ""
	}
	v.ActiveOperations = agg.ActiveOperations()
}

// publicSettings keeps the settings the kind declares as non-secret.
func publicSettings(kind domain.ConnectionKind, settings map[string]string) map[string]string {
	out := map[string]string{}
	spec, err := domain.SpecOf(kind)
	if err != nil {
		return out
	}
	for _, f := range spec.Fields {
		if v, ok := settings[f.Name]; ok && !f.Secret() {
			out[f.Name] = v
		}
	}
	return out
}
