package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"backupd/domain"

	"github.com/gofiber/fiber/v2"
)

// apiError is an answer in the contract's error shape. Handlers return
// domain errors or apiErrors; errorHandler turns everything into JSON here,
// in one place.
type apiError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func newError(status int, code, msg string) *apiError {
	return &apiError{Status: status, Code: code, Message: msg}
}

func invalidField(code, field, msg string) *apiError {
	return &apiError{Status: fiber.StatusUnprocessableEntity, Code: code, Field: field, Message: msg}
}

var (
	errUnauthenticated = newError(fiber.StatusUnauthorized, "unauthenticated", "you are not logged in")
	errSessionExpired  = newError(fiber.StatusUnauthorized, "session-expired", "your session expired after a period of inactivity; log in again")
	errCSRF            = newError(fiber.StatusForbidden, "csrf", "the request's CSRF token is missing or wrong; reload the page and try again")
	errCrossOrigin     = newError(fiber.StatusForbidden, "csrf", "cross-origin requests are refused")
	errLoginThrottled  = newError(fiber.StatusTooManyRequests, "login-throttled", "too many failed logins from your address; try again later")
	errForgotThrottled = newError(fiber.StatusTooManyRequests, "throttled", "too many password reset requests from your address; try again later")
	errNotFound        = newError(fiber.StatusNotFound, "not-found", "not found")
	errNotConfigured   = newError(fiber.StatusNotImplemented, "not-configured", "this feature is not configured on this server")
)

var kindStatus = map[domain.ErrorKind]int{
	domain.KindInvalid:         fiber.StatusUnprocessableEntity,
	domain.KindNotFound:        fiber.StatusNotFound,
	domain.KindConflict:        fiber.StatusConflict,
	domain.KindUnauthenticated: fiber.StatusUnauthorized,
	domain.KindForbidden:       fiber.StatusForbidden,
	domain.KindThrottled:       fiber.StatusTooManyRequests,
}

// toAPIError maps any error to the answer sent; ok=false means it is an
// unexpected (internal) error.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	if de, ok := domain.AsError(err); ok {
		status, known := kindStatus[de.Kind]
		if !known {
			return nil, false
		}
		return &apiError{Status: status, Code: de.Slug, Message: de.Message, Field: de.Field}, true
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code := strings.ToLower(strings.ReplaceAll(http.StatusText(fe.Code), " ", "-"))
		msg := strings.ToLower(fe.Message)
		switch fe.Code {
		case fiber.StatusNotFound:
			code, msg = "not-found", "not found"
		case fiber.StatusMethodNotAllowed:
			code, msg = "method-not-allowed", "this method is not allowed here"
		case fiber.StatusRequestEntityTooLarge:
			code, msg = "body-too-large", "the request body is too large"
		}
		if fe.Code >= 500 {
			return nil, false
		}
		return &apiError{Status: fe.Code, Code: code, Message: msg}, true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return newError(fiber.StatusServiceUnavailable, "timeout", "the server took too long to answer; try again"), true
	}
	return nil, false
}

// errorHandler is Fiber's single error handler.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	ae, ok := toAPIError(err)
	if !ok {
		s.log.Error("request failed", "request_id", requestID(c), "method", c.Method(), "path", c.Path(), "error", err.Error())
		ae = newError(fiber.StatusInternalServerError, "internal",
			"something went wrong on our side; it has been logged with request id "+requestID(c))
	}
	return writeError(c, ae)
}

func writeError(c *fiber.Ctx, ae *apiError) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(ae.Status).JSON(errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Field: ae.Field}})
}
