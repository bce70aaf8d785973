package commands

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"backupd/domain"

	"github.com/google/uuid"
)

// RequestPasswordReset issues a single-use, expiring reset token for the
// address ("forgot password").
type RequestPasswordReset struct {
	Email string
}

// PasswordReset is the token to send and whom to send it to. For an unknown
// address both are zero and the command succeeds: the API answers the same
// either way.
type PasswordReset struct {
	Token string
	User  *domain.User
}

type requestPasswordResetHandler struct{ *service }

func (h requestPasswordResetHandler) Handle(ctx context.Context, cmd RequestPasswordReset) (PasswordReset, error) {
	userID, err := h.lookupUserID(ctx, cmd.Email)
	if err != nil || userID == uuid.Nil {
		return PasswordReset{}, err
	}
	token, err := newResetToken(userID)
	if err != nil {
		return PasswordReset{}, err
	}
	now := h.now()
	u, err := h.updateUser(ctx, userID, func(u *domain.User) error {
		if !u.Exists() {
			return errUserNotFound
		}
		return u.RequestPasswordReset(hashResetToken(token), h.resetTTL, now)
	})
	if errors.Is(err, errUserNotFound) {
		return PasswordReset{}, nil // a registration that never finished: same answer as unknown
	}
	if err != nil {
		return PasswordReset{}, err
	}
	return PasswordReset{Token: token, User: u}, nil
}

// A reset token is "<user uuid>.<32 random bytes, base64url>": the user id
// finds the stream, the random part is the secret. Only its SHA-256 is stored.
func newResetToken(userID uuid.UUID) (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reset token: %w", err)
	}
	return userID.String() + "." + base64.RawURLEncoding.EncodeToString(b), nil
}

func hashResetToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func parseResetToken(token string) (uuid.UUID, bool) {
	idPart, secret, ok := strings.Cut(strings.TrimSpace(token), ".")
	if !ok || len(secret) < 43 {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(idPart)
	if err != nil || id == uuid.Nil {
		return uuid.Nil, false
	}
	return id, true
}
