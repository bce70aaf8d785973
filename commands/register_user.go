package commands

import (
	"context"

	"backupd/domain"

	"github.com/google/uuid"
)

// RegisterUser creates an administrator (there is no public sign-up: the
// first one is created from the command line, others by an administrator).
type RegisterUser struct {
	Email    string
	Name     string
	Password string
}

type registerUserHandler struct{ *service }

// Handle reserves the e-mail address first (a second user with the same
// address gets domain.ErrEmailTaken), then creates the user's stream.
func (h registerUserHandler) Handle(ctx context.Context, cmd RegisterUser) (uuid.UUID, error) {
	if err := domain.ValidatePassword(cmd.Password); err != nil {
		return uuid.Nil, err
	}
	id := uuid.New()
	now := h.now()
	// Decide on the input before writing anything, so a bad address never
	// leaves a reservation behind.
	if err := domain.NewUser(id).Register(cmd.Email, cmd.Name, "", now); err != nil {
		return uuid.Nil, err
	}
	hash, err := hashPassword(cmd.Password)
	if err != nil {
		return uuid.Nil, err
	}
	_, err = Update(ctx, h.store, UserEmailStream(cmd.Email), newEmailReservation, func(r *emailReservation) error {
		if r.reserved() {
			abandoned, err := h.reservationAbandoned(ctx, r)
			if err != nil {
				return err
			}
			if !abandoned {
				return domain.ErrEmailTaken
			}
		}
		r.reserve(id, cmd.Email, now)
		return nil
	})
	if err != nil {
		return uuid.Nil, err
	}
	_, err = h.updateUser(ctx, id, func(u *domain.User) error {
		return u.Register(cmd.Email, cmd.Name, hash, now)
	})
	if err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

func (h registerUserHandler) reservationAbandoned(ctx context.Context, r *emailReservation) (bool, error) {
	if h.now().Sub(r.reservedAt) < abandonedReservationAge {
		return false, nil
	}
	u, err := h.loadUser(ctx, r.userID)
	if err != nil {
		return false, err
	}
	return !u.Exists(), nil
}
