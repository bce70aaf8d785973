package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// Login checks an administrator's e-mail and password. Per-IP throttling is
// the HTTP layer's; per-account throttling is the domain's (User.Login).
type Login struct {
	Email     string
	Password  string
	IP        string
	UserAgent string
}

type loginHandler struct{ *service }

// Handle returns the user, or domain.ErrInvalidCredentials (unknown e-mail or
// wrong password) or domain.ErrLoginThrottled. A failed or throttled attempt
// is stored as an event even though the command returns an error.
func (h loginHandler) Handle(ctx context.Context, cmd Login) (*domain.User, error) {
	userID, err := h.lookupUserID(ctx, cmd.Email)
	if err != nil {
		return nil, err
	}
	if userID == uuid.Nil {
		burnPasswordCompare(cmd.Password)
		return nil, domain.ErrInvalidCredentials
	}
	// bcrypt runs once even when a concurrent login makes Update decide again.
	compared := map[string]bool{}
	matches := func(hash string) bool {
		ok, seen := compared[hash]
		if !seen {
			ok = passwordMatches(hash, cmd.Password)
			compared[hash] = ok
		}
		return ok
	}
	var refused error
	now := h.now()
	u, err := h.updateUser(ctx, userID, func(u *domain.User) error {
		refused = nil
		if !u.Exists() {
			// Reserved by a registration that has not finished (or failed).
			burnPasswordCompare(cmd.Password)
			refused = domain.ErrInvalidCredentials
			return nil
		}
		// The domain records the failure; returning nil lets Update save it.
		refused = u.Login(matches(u.PasswordHash), cmd.IP, cmd.UserAgent, now)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	return u, nil
}
