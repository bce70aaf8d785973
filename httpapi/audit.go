package httpapi

import (
	"backupd/projections"

	"github.com/gofiber/fiber/v2"
)

// listAnswer is API.md's paged list.
type listAnswer[T any] struct {
	Items   []T   `json:"items"`
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int64 `json:"total"`
}

// listAudit answers every event, newest first, optionally of one stream or
// one actor.
func (s *Server) listAudit(c *fiber.Ctx) error {
	page, perPage, err := pageParams(c)
	if err != nil {
		return err
	}
	items, total, err := s.deps.Queries.ListAudit(c.UserContext(), projections.AuditFilter{
		Page: page, PerPage: perPage, Stream: c.Query("stream"), Actor: c.Query("actor"), Type: c.Query("type")})
	if err != nil {
		return err
	}
	if items == nil {
		items = []projections.AuditEvent{}
	}
	return c.JSON(listAnswer[projections.AuditEvent]{Items: items, Page: page, PerPage: perPage, Total: total})
}
