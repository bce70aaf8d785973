package projections

import (
	"fmt"
	"strings"
	"time"

	"backupd/commands/eventstore"
	"backupd/domain"
)

// maxSummaryError bounds how much of an error message a summary quotes.
const maxSummaryError = 300

// Summary describes an event in one line of plain words for the audit
// trail. It never quotes a secret, a password hash or a reset token hash:
// sealed values, hashes and settings are left out by construction (each
// case names the fields it uses).
func Summary(rec eventstore.Recorded) string {
	// Operation state changes read as their log lines, which name the actor.
	if _, verified := rec.Event.(domain.RestoreVerified); !verified {
		if _, line, ok := statusLine(rec); ok {
			return clip(line.Message)
		}
	}
	switch e := rec.Event.(type) {
	case domain.UserRegistered:
		return fmt.Sprintf("User %s (%s) registered as %s", e.Email, e.Name, e.Role)
	case domain.UserEmailReserved:
		return fmt.Sprintf("E-mail address %s reserved for user %s", e.Email, e.UserID)
	case domain.UserLoggedIn:
		return fmt.Sprintf("Logged in from %s", orDash(e.IP))
	case domain.UserLoginFailed:
		reason := "wrong password"
		if e.Reason == "throttled" {
			reason = "too many failed logins (throttled)"
		} else if e.Reason != "wrong-password" && e.Reason != "" {
			reason = e.Reason
		}
		return fmt.Sprintf("Login failed from %s: %s", orDash(e.IP), reason)
	case domain.UserLoggedOut:
		if e.Reason == "idle-timeout" {
			return "Logged out after the idle timeout"
		}
		return "Logged out"
	case domain.PasswordResetRequested:
		return "Password reset requested; the link is valid until " + e.ExpiresAt.UTC().Format(time.RFC3339)
	case domain.PasswordChanged:
		if e.ResetTokenHash != "" {
			return "Password changed with a reset link"
		}
		return "Password changed"
	case domain.ConnectionCreated:
		return fmt.Sprintf("Connection %q created (%s)", e.Name, kindLabel(e.Kind))
	case domain.ConnectionUpdated:
		return fmt.Sprintf("Connection %q updated", e.Name)
	case domain.ConnectionChecked:
		switch e.Status {
		case domain.StatusValid:
			return "Connection checked: valid"
		case domain.StatusInvalid:
			s := "Connection checked: invalid: " + clip(e.Reason)
			if e.Field != "" {
				s += " (field " + e.Field + ")"
			}
			return s
		}
		return "Connection checked: " + string(e.Status)
	case domain.ConnectionTokensRefreshed:
		s := "Google Drive access token refreshed, valid until " + e.Expiry.UTC().Format(time.RFC3339)
		if !e.RefreshToken.IsZero() {
			s += "; the refresh token was rotated"
		}
		return s
	case domain.ConnectionDeleted:
		return "Connection deleted"
	case domain.ConnectionOperationAttached:
		return fmt.Sprintf("Connection reserved by operation %s", e.OperationID)
	case domain.ConnectionOperationDetached:
		return fmt.Sprintf("Connection released by operation %s", e.OperationID)
	case domain.RestoreVerified:
		if e.Report.Verified {
			return "Restore verified: " + clip(verificationText(e.Report))
		}
		return "Restore verification found differences: " + clip(verificationText(e.Report))
	case domain.OperationLogged:
		return fmt.Sprintf("%d log lines", len(e.Lines))
	case domain.OperationProgressed:
		return "Progress: " + e.Progress.Phase
	case domain.OperationCheckpointed:
		return fmt.Sprintf("Checkpoint %d recorded (attempt %d)", e.Seq, e.Attempt)
	case domain.ArchiveEntriesRecorded:
		return fmt.Sprintf("%d archive entries recorded (attempt %d)", len(e.Entries), e.Attempt)
	}
	return rec.Type + " recorded"
}

func kindLabel(k domain.ConnectionKind) string {
	spec, err := domain.SpecOf(k)
	if err != nil {
		return string(k)
	}
	return fmt.Sprintf("%s %s", spec.Label, spec.Role)
}

// clip shortens a quoted message to one reasonable line.
func clip(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxSummaryError {
		return s
	}
	cut := maxSummaryError
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
