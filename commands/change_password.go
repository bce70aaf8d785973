package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// ChangePassword is a logged-in administrator changing their own password.
type ChangePassword struct {
	UserID          uuid.UUID
	CurrentPassword string
	NewPassword     string
}

type changePasswordHandler struct{ *service }

// Handle refuses a wrong current password with ErrCurrentPasswordWrong.
func (h changePasswordHandler) Handle(ctx context.Context, cmd ChangePassword) (*domain.User, error) {
	if err := domain.ValidatePassword(cmd.NewPassword); err != nil {
		return nil, err
	}
	u, err := h.loadUser(ctx, cmd.UserID)
	if err != nil {
		return nil, err
	}
	if !u.Exists() {
		return nil, errUserNotFound
	}
	if !passwordMatches(u.PasswordHash, cmd.CurrentPassword) {
		return nil, ErrCurrentPasswordWrong
	}
	hash, err := hashPassword(cmd.NewPassword)
	if err != nil {
		return nil, err
	}
	checkedHash := u.PasswordHash
	now := h.now()
	return h.updateUser(ctx, cmd.UserID, func(u *domain.User) error {
		if u.PasswordHash != checkedHash {
			// The password changed (a reset) since the current one was checked.
			return domain.ErrConcurrentUpdate
		}
		return u.ChangePassword(hash, now)
	})
}
