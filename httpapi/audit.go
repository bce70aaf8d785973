package httpapi

import (
	"backupd/projections"

	"github.com/gofiber/fiber/v2"
)

// listAudit answers every event, newest first, optionally of one stream or
// one actor.
func (s *Server) listAudit(c *fiber.Ctx) error {
	page, perPage, err := pageParams(c)
	if err != nil {
		return err
	}
	res, err := s.deps.Queries.ListAudit(c.UserContext(), projections.AuditFilter{
		Page: page, PerPage: perPage, Stream: c.Query("stream"), Actor: c.Query("actor")})
	if err != nil {
		return err
	}
	return c.JSON(res)
}
