package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// Logout reasons.
const (
	LogoutByUser      = "logout"
	LogoutIdleTimeout = "idle-timeout"
)

// Logout records the end of a session.
type Logout struct {
	UserID uuid.UUID
	Reason string // LogoutByUser or LogoutIdleTimeout
}

type logoutHandler struct{ *service }

func (h logoutHandler) Handle(ctx context.Context, cmd Logout) (Nothing, error) {
	if cmd.Reason != LogoutByUser && cmd.Reason != LogoutIdleTimeout {
		return Nothing{}, domain.Invalid("logout-reason-invalid", "reason", `the reason must be "logout" or "idle-timeout"`)
	}
	now := h.now()
	_, err := h.updateUser(ctx, cmd.UserID, func(u *domain.User) error {
		if !u.Exists() {
			return errUserNotFound
		}
		u.Logout(cmd.Reason, now)
		return nil
	})
	return Nothing{}, err
}
