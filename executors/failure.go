package executors

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"backupd/executors/archive"
	"backupd/executors/gdrive"
	"backupd/executors/mongodb"
)

// failureCode classifies an error for the operation's failed event, so the
// UI and reports can group failures without parsing messages.
func failureCode(err error) string {
	var ae *archive.ArchiveError
	switch {
	case errors.Is(err, mongodb.ErrToolMissing):
		return "mongodump-missing"
	case errors.Is(err, gdrive.ErrReconnectRequired):
		return "reconnect-required"
	case errors.Is(err, gdrive.ErrSessionExpired):
		return "upload-session-expired"
	case errors.Is(err, archive.ErrEntryChanged):
		return "source-changed"
	case errors.As(err, &ae):
		return "archive-damaged"
	case errors.Is(err, errConnectionGone):
		return "connection-deleted"
	}
	return "error"
}

var errConnectionGone = errors.New("connection deleted")

// errorTrace is what the failed event records as the stack trace: every
// layer of the wrapped error (where it happened, outermost first), then the
// job goroutine's stack at the moment the failure was recorded.
func errorTrace(err error) string {
	var b strings.Builder
	b.WriteString("error chain:\n")
	depth := 0
	for e := err; e != nil && depth < 32; depth++ {
		fmt.Fprintf(&b, "  %d. %T: %s\n", depth+1, e, e.Error())
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			e = u.Unwrap()
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			if len(errs) == 0 {
				e = nil
			} else {
				e = errs[0]
			}
		default:
			e = nil
		}
	}
	b.WriteString("\ngoroutine stack:\n")
	b.Write(debug.Stack())
	return b.String()
}
