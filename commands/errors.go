package commands

import "backupd/domain"

// Errors of the command layer (domain errors, so the HTTP layer maps them
// like any other).
var (
	errUserNotFound      = domain.NotFound("user-not-found", "user not found")
	errConnectionMissing = domain.NotFound("connection-not-found", "connection not found")
	errOperationMissing  = domain.NotFound("operation-not-found", "operation not found")

	// ErrCurrentPasswordWrong: ChangePassword with a wrong current password
	// (an input error on the form, not a failed login).
	ErrCurrentPasswordWrong = domain.Invalid("current-password-wrong", "current_password", "the current password is wrong")
	// ErrOperationActive: DetachOperation on an operation that still runs
	// (its connections stay reserved until it ends).
	ErrOperationActive = domain.Conflict("operation-active", "the operation is still active; its connections stay reserved until it ends")
)
