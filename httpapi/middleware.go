package httpapi

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

const (
	localRequestID = "backupd.request_id"
	localUser      = "backupd.user_id"
)

func requestID(c *fiber.Ctx) string {
	if id, ok := c.Locals(localRequestID).(string); ok {
		return id
	}
	return ""
}

// requestLog gives every request an id and logs one line per request:
// method, path (never the query string, which can hold a reset token or an
// OAuth code), status, duration and user. Bodies are never logged.
func (s *Server) requestLog(c *fiber.Ctx) error {
	start := time.Now()
	id := uuid.NewString()
	c.Locals(localRequestID, id)
	c.Set("X-Request-Id", id)
	err := c.Next()
	if err != nil {
		// Answer now so the logged status is the one sent.
		if herr := s.errorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", id), slog.String("method", c.Method()), slog.String("path", c.Path()),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)), slog.String("ip", c.IP()),
	}
	if u, ok := c.Locals(localUser).(string); ok {
		attrs = append(attrs, slog.String("user_id", u))
	}
	s.log.LogAttrs(c.Context(), level, "http request", attrs...)
	return nil
}

// recoverPanics turns a panic into a 500 with the stack in the log.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic in handler", "request_id", requestID(c), "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// securityHeaders: no framing, no MIME sniffing, no Referer leaving the site
// (the reset page's URL holds a token), and API answers never cached.
func securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	c.Set("Content-Security-Policy", "frame-ancestors 'none'")
	if isAPIPath(c.Path()) {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	return c.Next()
}

func isAPIPath(p string) bool { return p == "/api" || strings.HasPrefix(p, "/api/") }
