package domain

import (
	"errors"
	"fmt"
)

// ErrorKind tells the outer layers how to answer a domain error (the HTTP
// layer maps each kind to one status in one place).
type ErrorKind int

const (
	KindInvalid         ErrorKind = iota + 1 // bad input: 422
	KindNotFound                             // 404
	KindConflict                             // state does not allow it, or a concurrent write: 409
	KindUnauthenticated                      // 401
	KindForbidden                            // 403
	KindThrottled                            // 429
)

// Error is a domain error with a stable slug (for clients and tests), a
// human message and, for invalid input, the field it concerns.
type Error struct {
	Kind    ErrorKind
	Slug    string
	Message string
	Field   string
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s", e.Field, e.Message)
	}
	return e.Message
}

// Is makes errors.Is match on the slug, so sentinel errors declared below
// match errors carrying a more specific message.
func (e *Error) Is(target error) bool {
	var t *Error
	if !errors.As(target, &t) {
		return false
	}
	return t.Slug == e.Slug
}

func Invalid(slug, field, msg string) *Error {
	return &Error{Kind: KindInvalid, Slug: slug, Field: field, Message: msg}
}

func Conflict(slug, msg string) *Error { return &Error{Kind: KindConflict, Slug: slug, Message: msg} }

func NotFound(slug, msg string) *Error { return &Error{Kind: KindNotFound, Slug: slug, Message: msg} }

// AsError returns the domain error inside err, if any.
func AsError(err error) (*Error, bool) {
	var de *Error
	if errors.As(err, &de) {
		return de, true
	}
	return nil, false
}

var (
	ErrNotFound           = NotFound("not-found", "not found")
	ErrConcurrentUpdate   = Conflict("concurrent-update", "someone else changed this at the same time; reload and try again")
	ErrInvalidTransition  = Conflict("invalid-transition", "this action is not allowed in the current state")
	ErrInvalidCredentials = &Error{Kind: KindUnauthenticated, Slug: "invalid-credentials", Message: "the e-mail or password is wrong"}
	ErrLoginThrottled     = &Error{Kind: KindThrottled, Slug: "login-throttled", Message: "too many failed logins; try again later"}
	ErrResetTokenInvalid  = Invalid("reset-token-invalid", "token", "this password reset link is invalid, used or expired; ask for a new one")
	ErrConnectionInUse    = Conflict("connection-in-use", "this connection is used by active operations (pending, running, paused or interrupted); finish or cancel them first")
	ErrConnectionDeleted  = Conflict("connection-deleted", "this connection has been deleted")
	ErrEmailTaken         = Invalid("email-taken", "email", "a user with this e-mail already exists")
)
