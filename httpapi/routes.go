package httpapi

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The only routes reachable without a session, in one place. Every other
// route gets requireSession when it is registered (see add), and
// TestEveryRouteNeedsASession walks the real route table to prove it.
var publicRoutes = map[string]bool{
	"GET /api/session":          true,
	"POST /api/login":           true,
	"POST /api/password/forgot": true,
	"POST /api/password/reset":  true,
	// Unknown API paths answer a JSON 404 whoever asks.
	"ALL /api/*": true,
	// The UI: built files and the public pages below are public; serveUI
	// redirects every other page to the login page without a session.
	"GET /*": true,
}

// publicPages are the UI pages shown without a session.
var publicPages = map[string]bool{
	"/login":           true,
	"/forgot-password": true,
	"/reset-password":  true,
}

// IsPublicRoute reports whether a route of the route table (method and
// path pattern as app.GetRoutes lists them) is reachable without a session.
func IsPublicRoute(method, path string) bool { return isPublicRoute(method, path) }

func isPublicRoute(method, path string) bool {
	if method == fiber.MethodHead {
		method = fiber.MethodGet
	}
	return publicRoutes[method+" "+path] || publicRoutes["ALL "+path]
}

func isPublicPage(p string) bool { return publicPages[strings.TrimRight(p, "/")] }

// add registers a route, behind requireSession unless it is public. GET
// routes also answer HEAD.
func (s *Server) add(method, path string, h fiber.Handler) {
	handlers := []fiber.Handler{h}
	if !isPublicRoute(method, path) {
		handlers = []fiber.Handler{s.requireSession, h}
	}
	switch method {
	case "ALL":
		s.app.All(path, handlers...)
	case fiber.MethodGet:
		s.app.Get(path, handlers...)
	default:
		s.app.Add(method, path, handlers...)
	}
}

func (s *Server) routes() {
	// Order matters: the log wraps everything (it also answers errors, so
	// it logs the status sent), panics become errors, then headers and CSRF.
	s.app.Use(s.requestLog, s.recoverPanics, securityHeaders, s.csrf)

	const get, post, put, del = fiber.MethodGet, fiber.MethodPost, fiber.MethodPut, fiber.MethodDelete

	// Auth (auth.go)
	s.add(get, "/api/session", s.getSession)
	s.add(post, "/api/login", s.login)
	s.add(post, "/api/logout", s.logout)
	s.add(post, "/api/password/forgot", s.forgotPassword)
	s.add(post, "/api/password/reset", s.resetPassword)
	s.add(post, "/api/password/change", s.changePassword)

	// Connections (connections.go, gdrive.go). The Drive routes come first:
	// "/api/connections/gdrive/authorize" must not be taken for ":id/check".
	s.add(post, "/api/connections/gdrive/authorize", s.gdriveAuthorize)
	s.add(get, "/oauth/google/callback", s.gdriveCallback)
	s.add(get, "/api/connection-kinds", s.listConnectionKinds)
	s.add(get, "/api/connections", s.listConnections)
	s.add(post, "/api/connections", s.createConnection)
	s.add(get, "/api/connections/:id", s.getConnection)
	s.add(put, "/api/connections/:id", s.updateConnection)
	s.add(post, "/api/connections/:id/check", s.checkConnection)
	s.add(del, "/api/connections/:id", s.deleteConnection)

	// Operations (operations.go, restore.go)
	s.add(post, "/api/backups", s.requestBackup)
	s.add(get, "/api/operations", s.listOperations)
	s.add(get, "/api/operations/:id", s.getOperation)
	s.add(get, "/api/operations/:id/logs", s.operationLogs)
	s.add(post, "/api/operations/:id/pause", s.pauseOperation)
	s.add(post, "/api/operations/:id/resume", s.resumeOperation)
	s.add(post, "/api/operations/:id/cancel", s.cancelOperation)
	s.add(get, "/api/operations/:id/manifest", s.operationManifest)
	s.add(post, "/api/operations/:id/restore/preflight", s.restorePreflight)
	s.add(post, "/api/operations/:id/restore", s.requestRestore)

	// Audit (audit.go)
	s.add(get, "/api/audit", s.listAudit)

	// Last: unknown API paths, then the UI.
	s.add("ALL", "/api/*", func(*fiber.Ctx) error { return errNotFound })
	s.add(get, "/*", s.serveUI)
}
