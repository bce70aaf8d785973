package commands

import (
	"context"
	"strings"

	"backupd/domain"
)

// ResetPassword sets a new password with a token from RequestPasswordReset.
// An invalid, used or expired token is domain.ErrResetTokenInvalid.
type ResetPassword struct {
	Token    string
	Password string
}

type resetPasswordHandler struct{ *service }

func (h resetPasswordHandler) Handle(ctx context.Context, cmd ResetPassword) (*domain.User, error) {
	token := strings.TrimSpace(cmd.Token)
	userID, ok := parseResetToken(token)
	if !ok {
		return nil, domain.ErrResetTokenInvalid
	}
	if err := domain.ValidatePassword(cmd.Password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(cmd.Password)
	if err != nil {
		return nil, err
	}
	now := h.now()
	return h.updateUser(ctx, userID, func(u *domain.User) error {
		return u.ResetPassword(hashResetToken(token), hash, now)
	})
}
